// Runs a program to completion and keeps what it printed, for tests of the
// command-line tools.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace storenode::testing {

struct Ran {
  int code = -1;  // exit code, or -signal
  std::string out;
  std::string err;
};

// Runs argv (argv[0] a path); its output goes to files under `dir`.
Ran RunArgv(const std::string& dir, std::vector<std::string> argv);
// Runs one of the built tools (SN_BIN_DIR/tool) with `args`.
Ran RunTool(const std::string& dir, const std::string& tool, std::vector<std::string> args);
// The lines of a text, without their newlines.
std::vector<std::string> Lines(const std::string& text);

// Copies files of tests/fixtures/v0 (made by the software of before schema
// versions) into `dir`, so a test never changes the committed ones; keys
// get mode 0600, as a key must have to be loaded.
void CopyV0Fixtures(const std::string& dir, const std::vector<std::string>& names);

// The first column of the first row of `sql` on the SQLite file at `path`,
// opened read-only; -1 without a row. Fails the test if the query fails.
int64_t QueryInt(const std::string& path, const std::string& sql);

}  // namespace storenode::testing
