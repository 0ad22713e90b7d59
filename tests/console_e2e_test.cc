// The manager console end to end in a real headless Chromium, and /metrics
// through a Prometheus parser someone else wrote. Both run node scripts from
// tests/e2e, whose npm packages (playwright-core, parse-prometheus-text-format,
// pinned by tests/e2e/package-lock.json) tools/lib.sh install_missing puts in
// tests/e2e/node_modules. Without node, those packages or Chromium these
// tests fail and say which is missing: they never pass without running.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "sim/sim.h"
#include "storenode/common/clock.h"
#include "storenode/schemas/fog.pb.h"
#include "support/console.h"
#include "support/run.h"

using namespace storenode;
using namespace storenode::testing;

namespace {

const std::string kE2eDir = std::string(SN_SOURCE_DIR) + "/tests/e2e";

// node, or a FAIL that says what to install.
std::string RequireNode(const std::string& package) {
  const char* node = "/usr/bin/node";
  if (!std::filesystem::exists(node))
    FAIL("node is not installed: run tools/lib.sh install_missing");
  if (!std::filesystem::exists(kE2eDir + "/node_modules/" + package + "/package.json")) {
    FAIL("npm package " << package << " is missing in " << kE2eDir
                        << "/node_modules: run `source tools/lib.sh && install_missing`");
  }
  return node;
}

}  // namespace

TEST_CASE("console e2e: log in, tills online, close-down, over/short, till offline",
          "[console][e2e]") {
  const std::string node = RequireNode("playwright-core");
  const char* chromium = std::getenv("CHROMIUM") ? std::getenv("CHROMIUM") : "/usr/bin/chromium";
  if (!std::filesystem::exists(chromium)) {
    FAIL(chromium << " is missing: install Debian's chromium (tools/lib.sh install_missing)");
  }
  ConsoleStore cs(3);
  // pos-sim's items in the catalog, the first half from one supplier, so
  // the Stock page has suggestions by supplier.
  {
    std::string csv =
        "sku,barcodes,name,price,tax_code,department,active,supplier,lead_time_days,pack_size\n";
    const std::vector<sim::CatalogItem>& items = sim::Catalog();
    for (size_t i = 0; i < items.size(); ++i) {
      csv += std::string(items[i].sku) + "," + std::string(items[i].sku) + "," +
             std::string(items[i].name) + "," + std::to_string(items[i].price) + "," +
             std::string(items[i].tax_code) + ",grocery,1," +
             (i < items.size() / 2 ? "Fresh Farms,2,6" : ",,") + "\n";
    }
    v1::FogRequest req;
    req.mutable_catalog_import()->set_csv(csv);
    req.mutable_catalog_import()->set_file_name("pos-sim.csv");
    auto imported = cs.store.fog->Ask(req);
    INFO(imported.status().ToString() << (imported.ok() ? imported->error() : ""));
    REQUIRE(imported.ok());
    REQUIRE(imported->ok());
  }
  // One pos-sim per till, so that killing one takes only that till offline.
  std::vector<Process> sims;
  for (int k = 1; k <= 3; ++k) {
    const std::string log = cs.store.dir + "/pos-sim-" + std::to_string(k);
    auto p = Process::Spawn(
        {std::string(SN_BIN_DIR) + "/pos-sim", "--broker", cs.store.broker.uri(), "--insecure",
         "--store", cs.store.store_id, "--tills", "1", "--first-till", std::to_string(k), "--sales",
         "40", "--data", cs.store.dir + "/tills", "--wait-synced", "30", "--linger", "120"},
        log + ".out", log + ".err");
    REQUIRE(p.ok());
    sims.push_back(std::move(*p));
  }
  const std::string artifacts = std::string(SN_BIN_DIR) + "/../test-artifacts/console";
  const std::string control = cs.store.dir + "/control";
  std::filesystem::create_directories(control);
  auto browser = Process::Spawn({node, kE2eDir + "/console.mjs", cs.url(), kConsoleManager,
                                 kConsolePassword, artifacts, control},
                                cs.store.dir + "/e2e.out", cs.store.dir + "/e2e.err");
  REQUIRE(browser.ok());
  // The page asks for till-3 to be killed once it has seen all three online.
  const bool asked = WaitFor(
      [&] { return std::filesystem::exists(control + "/kill-till-3") || !browser->Running(); },
      std::chrono::seconds(90));
  if (asked && std::filesystem::exists(control + "/kill-till-3")) sims[2].Kill(SIGKILL);
  WaitFor([&] { return !browser->Running(); }, std::chrono::seconds(60));
  if (browser->Running()) browser->Kill(SIGKILL);
  const int code = browser->Wait().code;
  for (size_t i = 0; i < 2; ++i) sims[i].Kill(SIGTERM);
  for (Process& p : sims) p.Wait();
  INFO("browser test output:\n"
       << ReadFile(cs.store.dir + "/e2e.out") << "\n"
       << ReadFile(cs.store.dir + "/e2e.err"));
  INFO("fog log:\n" << cs.store.fog->Log());
  REQUIRE(code == 0);
  for (const char* shot : {"1-tills", "3-closedown", "4-z-report", "5-ledger", "6-till-offline",
                           "7-phone", "8-stock"}) {
    REQUIRE(std::filesystem::file_size(artifacts + "/" + shot + ".png") > 1000);
  }
}

TEST_CASE("console: /metrics parses as Prometheus text (parse-prometheus-text-format)",
          "[console][metrics]") {
  const std::string node = RequireNode("parse-prometheus-text-format");
  ConsoleStore cs(1);
  cs.store.OpenTill(0);
  cs.store.Sell(0, 15);
  REQUIRE(cs.store.WaitSynced());
  // A close-down too, so its duration is reported.
  cs.store.CloseDay(DayOf(SystemClock::Default()->NowMicros()), {}, true, std::chrono::seconds(5));
  auto c = cs.Client();
  const std::string path = cs.store.dir + "/metrics.txt";
  std::ofstream(path) << c->Get("/metrics")->body;
  Ran r = RunArgv(cs.store.dir, {node, kE2eDir + "/check-metrics.mjs", path});
  INFO(ReadFile(path) << "\n" << r.err);
  REQUIRE(r.code == 0);
  REQUIRE(r.out.find("\"name\":\"storenode_fog_till_online\"") != std::string::npos);
}
