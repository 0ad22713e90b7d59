// The C ABI (storenode/edge_c.h, libstorenode-edge.so.1) as a POS sees it:
// a C99 program (tests/edge_c_consumer.c) and a Python one on the ctypes
// package (tests/edge_c_python_consumer.py, sdk/python/storenode) open a
// till from its profile, record sales that sync to a real mosquitto and
// storenode-fogd, and the fog's X-report holds exactly those sales. Also:
// the library exports only the versioned sn_* symbols, the C consumer needs
// nothing else, and without a log callback the library prints nothing.
// A third, C99 too (tests/edge_c_fx_consumer.c), exchanges currency through
// SN_EXCHANGE under a rate sheet imported at the fog.
#include <google/protobuf/util/json_util.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "sim/sim.h"
#include "storenode/schemas/closedown.pb.h"
#include "storenode/schemas/xreport.pb.h"
#include "support/fog.h"
#include "support/harness.h"
#include "support/run.h"

using namespace storenode;
using storenode::testing::Broker;
using storenode::testing::FogProcess;
using storenode::testing::Lines;
using storenode::testing::MakeTempDir;
using storenode::testing::Ran;
using storenode::testing::RunArgv;

namespace {

// A store (mosquitto and fogd) and the profile of its till-1, written as
// `storectl provision till` would (the fog's settings.pb and key), on plain
// TCP.
struct Shop {
  explicit Shop(const std::string& name) : dir(MakeTempDir(name)), broker(dir + "/broker") {
    REQUIRE(broker.Start().ok());  // before the fog is made: it is given the broker's port
    fog = std::make_unique<FogProcess>(dir + "/fog", "store-1", broker.uri(),
                                       std::vector<std::string>{"till-1"});
    std::filesystem::create_directories(dir + "/fog");
    Status started = fog->Start();
    INFO(started.ToString() << "\n" << fog->Log());
    REQUIRE(started.ok());
    std::string fog_key = testing::ReadFile(fog->data_dir() + "/fog.pub");
    fog_key.erase(fog_key.find_last_not_of('\n') + 1);
    profile = dir + "/till.toml";
    std::ofstream(profile) << "[store]\nid = \"store-1\"\n[device]\nid = \"till-1\"\n"
                           << "[journal]\npath = \"" << dir << "/till-1.db\"\n"
                           << "[settings]\nfile = \"" << fog->data_dir() << "/settings.pb\"\n"
                           << "fog_key = \"" << fog_key << "\"\n"
                           << "[broker]\nuri = \"" << broker.uri() << "\"\ninsecure = true\n"
                           << "[sync]\nack_timeout_ms = 1500\nstatus_interval_ms = 500\n";
  }
  ~Shop() { fog->Stop(); }

  v1::DayTotals FogX(const std::string& day) {
    v1::FogRequest req;
    req.mutable_report()->set_kind("x");
    req.mutable_report()->set_business_day(day);
    auto answer = fog->Ask(req);
    INFO(answer.status().ToString());
    REQUIRE(answer.ok());
    return answer->report().x();
  }

  std::string dir;
  Broker broker;
  std::unique_ptr<FogProcess> fog;
  std::string profile;
};

// "k=v k=v ..." into a map.
std::map<std::string, std::string> Fields(const std::string& line) {
  std::map<std::string, std::string> out;
  std::istringstream in(line);
  for (std::string kv; in >> kv;) {
    const size_t eq = kv.find('=');
    if (eq != std::string::npos) out[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return out;
}

// What a consumer printed: its till's X-report and its summary line.
struct Printed {
  v1::DayTotals till_x;
  std::map<std::string, std::string> summary;
};

Printed ReadPrinted(const Ran& r) {
  INFO("exit " << r.code << "\nstdout:\n" << r.out << "\nstderr:\n" << r.err);
  REQUIRE(r.code == 0);
  const std::vector<std::string> lines = Lines(r.out);
  // Nothing but its own two lines: the library itself prints nothing.
  REQUIRE(lines.size() == 2);
  REQUIRE(lines[0].rfind("x {", 0) == 0);
  Printed p;
  REQUIRE(google::protobuf::util::JsonStringToMessage(lines[0].substr(2), &p.till_x).ok());
  p.summary = Fields(lines[1]);
  return p;
}

// The figures a consumer's sales must add up to, in the till's X and the fog's.
void RequireSameSales(const v1::DayTotals& x, uint64_t receipts, int64_t net) {
  CHECK(x.receipt_count() == receipts);
  CHECK(x.first_receipt_no() == 1);
  CHECK(x.last_receipt_no() == receipts);
  CHECK(x.gross_sales() == net);
  CHECK(x.discounts() == 0);
  CHECK(x.refunds() == 0);
  CHECK(x.net_sales() == net);
  REQUIRE(x.tenders_size() == 1);
  CHECK(x.tenders(0).type() == "CARD");
  CHECK(x.tenders(0).count() == receipts);
  CHECK(x.tenders(0).sales() == net);
  REQUIRE(x.taxes_size() == 1);
  CHECK(x.taxes(0).tax_code() == "A");
  CHECK(x.taxes(0).gross() == net);
}

}  // namespace

TEST_CASE("a C99 POS on libstorenode-edge.so alone records sales that reach a real fog's X-report",
          "[edge-c][integration]") {
  Shop shop("edge-c");
  constexpr int kSales = 25;
  // Sale i: (i % 3) + 1 at 100 + 10 * i cents (tests/edge_c_consumer.c).
  int64_t net = 0;
  for (int i = 0; i < kSales; ++i) net += (i % 3 + 1) * (100 + 10 * i);
  REQUIRE(net == 10'820);

  Ran r =
      RunArgv(shop.dir, {std::string(SN_BIN_DIR) + "/edge_c_consumer", shop.profile,
                         std::to_string(kSales), shop.fog->data_dir() + "/settings.pb", shop.dir});
  Printed p = ReadPrinted(r);
  CHECK(p.summary["receipts"] == std::to_string(kSales));
  CHECK(p.summary["net"] == std::to_string(net));
  CHECK(p.summary["acked"] == p.summary["head"]);
  // The engine's warning reached the callback (SN_LOG_WARN), not stdout.
  CHECK(std::stoi(p.summary["logs"]) >= 1);
  CHECK_THAT(r.err, Catch::Contains("log 3: sync: plain TCP to " + shop.broker.uri() +
                                    ": journals travel unencrypted"));
  RequireSameSales(p.till_x, kSales, net);

  const std::string day = p.summary["day"];
  REQUIRE(day.size() == 10);
  v1::DayTotals fog_x = shop.FogX(day);
  INFO(fog_x.DebugString());
  RequireSameSales(fog_x, kSales, net);
  CHECK(fog_x.taxes(0).tax() == p.till_x.taxes(0).tax());
  // Card details and tips, JSON sales 0..23: "" for the protobuf one, VISA
  // for the rest, 0.50 on each odd i (12 of them), offline when i % 5 == 0
  // (0, 5, 10, 15, 20); tips are not in the sales above.
  for (const v1::DayTotals* x : {&p.till_x, &fog_x}) {
    CHECK(x->tips() == 12 * 50);
    REQUIRE(x->card_schemes_size() == 2);
    CHECK(x->card_schemes(0).scheme().empty());
    CHECK(x->card_schemes(0).count() == 1);
    const v1::CardSchemeTotal& visa = x->card_schemes(1);
    CHECK(visa.scheme() == "VISA");
    CHECK(visa.count() == kSales - 1);
    CHECK(visa.sales() + x->card_schemes(0).sales() == net);
    CHECK(visa.tips() == 12 * 50);
    CHECK(visa.offline_count() == 5);
  }
}

namespace {

// The figures of tests/edge_c_fx_consumer.c's receipts under the sim's sheet
// (USD buy 0.89 sell 0.97 mid 0.93; commission 1% min 1.00 selling notes,
// 2% min 1.50 buying them), FORMATS.md 15.4 and 15.6:
//   1. SELL 200.00 USD: home 20000 x 0.97 = 19400, commission 194, the
//      customer pays 19594 cash; at mid 18600, margin 19400 - 18600 = 800.
//   2. BUY 50.00 USD: home 5000 x 0.89 = 4450, 2% = 89 -> min 150, 4300 paid
//      out; at mid 4650, margin 4650 - 4450 = 200.
//   3. a 12.99 sale, 13.00 due in cash, paid with 20.00 USD: tendered
//      2000 x 0.89 = 1780; at mid 1860, margin 1860 - 1780 = 80.
void RequireExchangeFigures(const v1::DayTotals& x) {
  REQUIRE(x.fx_size() == 1);
  const v1::FxTotal& usd = x.fx(0);
  CHECK(usd.currency() == "USD");
  CHECK(usd.bought_count() == 1);
  CHECK(usd.bought_foreign() == 5000);
  CHECK(usd.bought_home() == 4450);
  CHECK(usd.sold_count() == 1);
  CHECK(usd.sold_foreign() == 20000);
  CHECK(usd.sold_home() == 19400);
  CHECK(usd.commission() == 344);  // 194 + 150
  CHECK(usd.margin() == 1080);     // 800 + 200 + 80
  CHECK(usd.tendered_count() == 1);
  CHECK(usd.tendered_foreign() == 2000);
  CHECK(usd.tendered_home() == 1780);
  CHECK(usd.referenced_count() == 0);
  CHECK(x.fx_commission() == 344);
  CHECK(x.fx_margin() == 1080);
  REQUIRE(x.foreign_drawers_size() == 1);
  CHECK(x.foreign_drawers(0).device_id() == "till-1");
  CHECK(x.foreign_drawers(0).received() == 7000);  // 5000 + 2000
  CHECK(x.foreign_drawers(0).paid() == 20000);
  CHECK(x.foreign_drawers(0).expected() == -13000);
  REQUIRE(x.drawers_size() == 1);
  CHECK(x.drawers(0).fx_cash() == 13514);  // 19594 - 4300 - 1780
  // The exchanges are receipts 1 and 2 but not sales: one receipt counts.
  CHECK(x.receipt_count() == 1);
  CHECK(x.first_receipt_no() == 1);
  CHECK(x.last_receipt_no() == 3);
  CHECK(x.gross_sales() == 1299);
  REQUIRE(x.tenders_size() == 1);
  CHECK(x.tenders(0).type() == "CASH");
  CHECK(x.tenders(0).sales() == 1300);
}

}  // namespace

TEST_CASE("a C99 POS records SN_EXCHANGE receipts whose fx figures reach a real fog's X-report",
          "[edge-c][fx][integration]") {
  Shop shop("edge-c-fx");
  // The import rewrites the fog's settings.pb, the till's settings file.
  v1::FogRequest import;
  import.mutable_rates_import()->set_csv(sim::SimRateSheetCsv());
  import.mutable_rates_import()->set_file_name("rates.csv");
  auto imported = shop.fog->Ask(import);
  REQUIRE(imported.ok());
  INFO(imported->error());
  REQUIRE(imported->ok());
  REQUIRE(imported->rates_import().rate_sheet_version() == 1);

  Ran r = RunArgv(shop.dir, {std::string(SN_BIN_DIR) + "/edge_c_fx_consumer", shop.profile});
  Printed p = ReadPrinted(r);
  CHECK(p.summary["acked"] == p.summary["head"]);
  RequireExchangeFigures(p.till_x);
  v1::DayTotals fog_x = shop.FogX(p.summary["day"]);
  INFO(fog_x.DebugString() << "\n" << shop.fog->Log());
  RequireExchangeFigures(fog_x);
}

TEST_CASE(
    "a C++17 POS on storenode/till.h alone records sales, prints receipts, and they reach "
    "a real fog's X-report",
    "[edge-c][integration]") {
  Shop shop("edge-cpp");
  constexpr int kSales = 7;
  int64_t net = 0;
  for (int i = 0; i < kSales; ++i) net += (i % 3 + 1) * (100 + 10 * i);
  REQUIRE(net == 1'700);
  // The consumer checks each receipt's text, QR payload and SVG itself.
  Ran r = RunArgv(shop.dir, {std::string(SN_BIN_DIR) + "/edge_cpp_consumer", shop.profile,
                             std::to_string(kSales)});
  Printed p = ReadPrinted(r);
  CHECK(p.summary["receipts"] == std::to_string(kSales));
  CHECK(p.summary["net"] == std::to_string(net));
  CHECK(p.summary["acked"] == p.summary["head"]);
  RequireSameSales(p.till_x, kSales, net);
  RequireSameSales(shop.FogX(p.summary["day"]), kSales, net);
  // What the POS links: the library, not protobuf or the C++ internals.
  Ran elf =
      RunArgv(shop.dir, {"/usr/bin/readelf", "-d", std::string(SN_BIN_DIR) + "/edge_cpp_consumer"});
  REQUIRE(elf.code == 0);
  CHECK_THAT(elf.out, Catch::Contains("Shared library: [libstorenode-edge.so.1]"));
  CHECK_THAT(elf.out, !Catch::Contains("libprotobuf"));
}

TEST_CASE("without a log callback the library writes nothing to stdout or stderr",
          "[edge-c][integration]") {
  Shop shop("edge-c-quiet");
  Ran r = RunArgv(shop.dir, {"/usr/bin/env", "EDGE_C_CONSUMER_NO_LOG=1",
                             std::string(SN_BIN_DIR) + "/edge_c_consumer", shop.profile, "3"});
  Printed p = ReadPrinted(r);  // stdout: the consumer's two lines only
  CHECK(p.summary["logs"] == "0");
  CHECK(r.err.empty());  // not even the plain-TCP warning
  RequireSameSales(shop.FogX(p.summary["day"]), 3, 100 + 2 * 110 + 3 * 120);
}

TEST_CASE("the Python package records sales that reach a real fog's X-report",
          "[edge-c][python][integration]") {
  Shop shop("edge-py");
  constexpr int kSales = 20;
  int64_t net = 0;  // sale i: (i % 3) + 1 at 200 + 5 * i (tests/edge_c_python_consumer.py)
  for (int i = 0; i < kSales; ++i) net += (i % 3 + 1) * (200 + 5 * i);
  REQUIRE(net == 9'670);

  std::vector<std::string> argv = {"/usr/bin/env", "PYTHONPATH=" + std::string(SN_PYTHON_DIR),
                                   "STORENODE_EDGE_LIB=" + std::string(SN_EDGE_LIB)};
  if (!std::string(SN_ASAN_RUNTIME).empty()) {
    // python3 itself is not built with ASan (and leaks at exit by design).
    argv.push_back("LD_PRELOAD=" + std::string(SN_ASAN_RUNTIME));
    argv.push_back("ASAN_OPTIONS=detect_leaks=0");
  }
  argv.insert(argv.end(),
              {"python3", std::string(SN_SOURCE_DIR) + "/tests/edge_c_python_consumer.py",
               shop.profile, std::to_string(kSales)});
  Ran r = RunArgv(shop.dir, argv);
  Printed p = ReadPrinted(r);
  CHECK(p.summary["receipts"] == std::to_string(kSales));
  CHECK(p.summary["net"] == std::to_string(net));
  CHECK(p.summary["acked"] == p.summary["head"]);
  RequireSameSales(p.till_x, kSales, net);
  v1::DayTotals fog_x = shop.FogX(p.summary["day"]);
  INFO(fog_x.DebugString());
  RequireSameSales(fog_x, kSales, net);
}

TEST_CASE("libstorenode-edge.so exports only the C ABI, versioned STORENODE_EDGE_1", "[edge-c]") {
  const std::string dir = MakeTempDir("edge-c-nm");
  Ran nm = RunArgv(dir, {"/usr/bin/nm", "-D", "--defined-only", SN_EDGE_LIB});
  REQUIRE(nm.code == 0);
  std::vector<std::string> exported;
  for (const std::string& line : Lines(nm.out)) {
    std::istringstream in(line);
    std::string address, type, name;
    in >> address >> type >> name;
    if (name.rfind("STORENODE_EDGE_", 0) == 0) continue;  // the version nodes themselves
    INFO(line);
    CHECK(type == "T");
    REQUIRE(name.size() > 18);
    CHECK(name.rfind("sn_", 0) == 0);
    // Functions added after the first ABI are in their own version node.
    const std::string function = name.substr(0, name.find('@'));
    CHECK(name.substr(function.size()) ==
          (function == "sn_till_set_training" ? "@@STORENODE_EDGE_1.1" : "@@STORENODE_EDGE_1"));
    exported.push_back(function);
  }
  std::sort(exported.begin(), exported.end());
  CHECK(exported ==
        std::vector<std::string>{"sn_abi_version", "sn_buffer_free", "sn_set_log_callback",
                                 "sn_till_business_day", "sn_till_close", "sn_till_open",
                                 "sn_till_open_profile", "sn_till_price_sale", "sn_till_receipt",
                                 "sn_till_record", "sn_till_seal_day", "sn_till_set_training",
                                 "sn_till_sync_state", "sn_till_x_report", "sn_version"});
  Ran elf = RunArgv(dir, {"/usr/bin/readelf", "-d", SN_EDGE_LIB});
  REQUIRE(elf.code == 0);
  CHECK_THAT(elf.out, Catch::Contains("Library soname: [libstorenode-edge.so.1]"));
  // The C consumer needs the library and libc, not the library's dependencies.
  Ran consumer =
      RunArgv(dir, {"/usr/bin/readelf", "-d", std::string(SN_BIN_DIR) + "/edge_c_consumer"});
  REQUIRE(consumer.code == 0);
  CHECK_THAT(consumer.out, Catch::Contains("Shared library: [libstorenode-edge.so.1]"));
  CHECK_THAT(consumer.out, !Catch::Contains("libprotobuf"));
  CHECK_THAT(consumer.out, !Catch::Contains("libstdc++"));
}

TEST_CASE("consumers built against an installed prefix, by pkg-config and by find_package, sell",
          "[edge-c][packages][integration]") {
  Shop shop("edge-c-installed");
  const std::string build = std::filesystem::path(SN_BIN_DIR).parent_path().string();
  const std::string prefix = shop.dir + "/prefix";
  for (const char* component : {"libedge", "libedgedev"}) {
    Ran installed = RunArgv(shop.dir, {"/usr/bin/cmake", "--install", build, "--prefix", prefix,
                                       "--component", component});
    INFO(installed.out << installed.err);
    REQUIRE(installed.code == 0);
  }
  CHECK(std::filesystem::exists(prefix + "/include/storenode/edge_c.h"));
  CHECK(std::filesystem::exists(prefix + "/include/storenode/till.h"));
  // Only the two public headers: no protobuf, no internals.
  CHECK(std::distance(std::filesystem::directory_iterator(prefix + "/include/storenode"),
                      std::filesystem::directory_iterator()) == 2);
  CHECK(std::filesystem::is_symlink(prefix + "/lib/libstorenode-edge.so"));
  const std::string source = std::string(SN_SOURCE_DIR) + "/tests/edge_c_consumer.c";

  // A C program through pkg-config, as a Makefile would build it.
  Ran pc = RunArgv(shop.dir, {"/bin/sh", "-c",
                              "export PKG_CONFIG_PATH='" + prefix +
                                  "/lib/pkgconfig'; cc -std=c99 "
                                  "-pedantic -Werror '" +
                                  source + "' -o '" + shop.dir +
                                  "/c-pkgconfig' "
                                  "$(pkg-config --cflags --libs storenode-edge)"});
  INFO(pc.out << pc.err);
  REQUIRE(pc.code == 0);
  // The same POS through find_package(storenode), as a CMake project would,
  // and the C++ one on storenode/till.h (storenode::edge).
  const std::string cpp_source =
      std::string(SN_SOURCE_DIR) + "/tests/consumers/edge_cpp_consumer.cc";
  {
    std::ofstream cml(shop.dir + "/CMakeLists.txt");
    cml << "cmake_minimum_required(VERSION 3.25)\nproject(pos LANGUAGES C CXX)\n"
        << "find_package(storenode 0.1 REQUIRED)\n"
        << "add_executable(c-cmake \"" << source << "\")\n"
        << "target_link_libraries(c-cmake PRIVATE storenode::edge_c)\n"
        << "add_executable(cpp-cmake \"" << cpp_source << "\")\n"
        << "target_link_libraries(cpp-cmake PRIVATE storenode::edge)\n";
  }
  Ran cmake = RunArgv(shop.dir, {"/bin/sh", "-c",
                                 "cmake -S '" + shop.dir + "' -B '" + shop.dir +
                                     "/pos' -G Ninja -DCMAKE_PREFIX_PATH='" + prefix +
                                     "' && cmake --build '" + shop.dir + "/pos'"});
  INFO(cmake.out << cmake.err);
  REQUIRE(cmake.code == 0);

  // Each in its own store (a journal continues its receipt numbers), each
  // finding the library in the prefix, not in the build tree.
  Shop other("edge-c-installed-2");
  Shop third("edge-c-installed-3");
  for (auto [exe, store] :
       {std::pair{shop.dir + "/c-pkgconfig", &shop}, std::pair{shop.dir + "/pos/c-cmake", &other},
        std::pair{shop.dir + "/pos/cpp-cmake", &third}}) {
    INFO(exe);
    Ran r = RunArgv(
        shop.dir, {"/usr/bin/env", "LD_LIBRARY_PATH=" + prefix + "/lib", exe, store->profile, "3"});
    Printed p = ReadPrinted(r);
    CHECK(p.summary["receipts"] == "3");
    CHECK(p.summary["acked"] == p.summary["head"]);
    RequireSameSales(store->FogX(p.summary["day"]), 3, 100 + 2 * 110 + 3 * 120);
  }
}
