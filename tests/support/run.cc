#include "support/run.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <sstream>

#include "storenode/common/sqlite.h"
#include "support/fog.h"
#include "support/harness.h"

namespace storenode::testing {

Ran RunArgv(const std::string& dir, std::vector<std::string> argv) {
  static int n = 0;
  const std::string base = dir + "/run" + std::to_string(++n);
  auto p = Process::Spawn(std::move(argv), base + ".out", base + ".err");
  REQUIRE(p.ok());
  Ran r;
  r.code = p->Wait().code;
  r.out = ReadFile(base + ".out");
  r.err = ReadFile(base + ".err");
  return r;
}

Ran RunTool(const std::string& dir, const std::string& tool, std::vector<std::string> args) {
  args.insert(args.begin(), std::string(SN_BIN_DIR) + "/" + tool);
  return RunArgv(dir, std::move(args));
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

void CopyV0Fixtures(const std::string& dir, const std::vector<std::string>& names) {
  namespace fs = std::filesystem;
  const fs::path from = fs::path(SN_SOURCE_DIR) / "tests/fixtures/v0";
  fs::create_directories(dir);
  for (const std::string& n : names) {
    fs::copy_file(from / n, fs::path(dir) / n, fs::copy_options::overwrite_existing);
    if (n.ends_with(".key")) {
      fs::permissions(fs::path(dir) / n, fs::perms::owner_read | fs::perms::owner_write);
    }
  }
}

int64_t QueryInt(const std::string& path, const std::string& sql) {
  auto db = sql::Db::Open(path, sql::OpenOptions{.create = false, .read_only = true});
  REQUIRE(db.ok());
  auto v = (*db)->QueryInt(sql, -1);
  REQUIRE(v.ok());
  return *v;
}

}  // namespace storenode::testing
