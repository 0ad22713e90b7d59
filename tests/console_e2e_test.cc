// The manager console end to end in a real headless Chromium (every page,
// with three pos-sim tills; the foreign cash counts of a store with a rate
// sheet), and /metrics through a Prometheus parser someone else wrote. They
// run node scripts from
// tests/e2e, whose npm packages (playwright-core, parse-prometheus-text-format,
// pinned by tests/e2e/package-lock.json) tools/lib.sh install_missing puts in
// tests/e2e/node_modules. Without node, those packages or Chromium these
// tests fail and say which is missing: they never pass without running.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>

#include "sim/sim.h"
#include "storenode/common/clock.h"
#include "storenode/common/money.h"
#include "storenode/common/store_settings.h"
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

// Chromium ($CHROMIUM or Debian's), or a FAIL that says what to install.
std::string RequireChromium() {
  const char* chromium = std::getenv("CHROMIUM") ? std::getenv("CHROMIUM") : "/usr/bin/chromium";
  if (!std::filesystem::exists(chromium)) {
    FAIL(chromium << " is missing: install Debian's chromium (tools/lib.sh install_missing)");
  }
  return chromium;
}

// The browser script's exit code; REQUIREd 0 with its output and the fog's
// log in the message.
void RequireBrowserPassed(Process& browser, const ConsoleStore& cs, std::chrono::seconds timeout) {
  WaitFor([&] { return !browser.Running(); }, timeout);
  if (browser.Running()) browser.Kill(SIGKILL);
  const int code = browser.Wait().code;
  INFO("browser test output:\n"
       << ReadFile(cs.store.dir + "/e2e.out") << "\n"
       << ReadFile(cs.store.dir + "/e2e.err"));
  INFO("fog log:\n" << cs.store.fog->Log());
  REQUIRE(code == 0);
}

}  // namespace

TEST_CASE("console e2e: log in, tills online, close-down, over/short, till offline",
          "[console][e2e]") {
  const std::string node = RequireNode("playwright-core");
  RequireChromium();
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
  RequireBrowserPassed(*browser, cs, std::chrono::seconds(60));
  for (size_t i = 0; i < 2; ++i) sims[i].Kill(SIGTERM);
  for (Process& p : sims) p.Wait();
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

TEST_CASE("console e2e: foreign cash counted on the close-down page and shown in the Z",
          "[console][e2e][fx]") {
  const std::string node = RequireNode("playwright-core");
  RequireChromium();
  ConsoleStore cs(2);
  cs.store.ImportRates(sim::SimRateSheetCsv());
  cs.store.mix = FxOnlyMix();
  for (size_t i = 0; i < 2; ++i) cs.store.OpenSyncedTillOnFogSettings(i);
  for (size_t i = 0; i < 2; ++i) cs.store.Sell(i, 300);
  const std::string day = cs.store.tills[0].journal->business_day();
  REQUIRE(cs.store.WaitSynced());

  v1::FogRequest xreq;
  xreq.mutable_report()->set_kind("x");
  xreq.mutable_report()->set_business_day(day);
  auto x = cs.store.fog->Ask(xreq);
  REQUIRE(x.ok());
  REQUIRE(x->ok());
  std::map<std::pair<std::string, std::string>, int64_t> expected;
  for (const v1::ForeignDrawer& d : x->report().x().foreign_drawers()) {
    expected[{d.device_id(), d.currency()}] = d.expected();
  }
  REQUIRE(expected.count({"till-1", "USD"}) == 1);
  REQUIRE(expected.count({"till-2", "JPY"}) == 1);
  // What the manager counts: till-1's USD 5.00 over, till-2's JPY 1000 yen
  // short; the other drawers are not counted.
  const int64_t usd = expected[{"till-1", "USD"}] + 500;
  const int64_t jpy = expected[{"till-2", "JPY"}] - 1000;
  REQUIRE(jpy >= 0);
  // The script's brief: each drawer's expected amount as the page must show
  // it, the two counts to type, each currency's commission and margin.
  std::string brief = "{\"day\":\"" + day + "\",\"drawers\":[";
  for (const auto& [key, minor] : expected) {
    const int d = settings::CurrencyDecimals(key.second);
    brief += std::string(brief.back() == '[' ? "" : ",") + "{\"device\":\"" + key.first +
             "\",\"currency\":\"" + key.second + "\",\"expected\":\"" + Money(minor).ToString(d) +
             "\"}";
  }
  brief += "],\"counts\":[{\"device\":\"till-1\",\"currency\":\"USD\",\"text\":\"" +
           Money(usd).ToString(2) + "\",\"overShort\":\"over 5.00\"}," +
           "{\"device\":\"till-2\",\"currency\":\"JPY\",\"text\":\"" + Money(jpy).ToString(0) +
           "\",\"overShort\":\"short 1000\"}],\"fx\":[";
  for (const v1::FxTotal& f : x->report().x().fx()) {
    brief += std::string(brief.back() == '[' ? "" : ",") + "{\"currency\":\"" + f.currency() +
             "\",\"commission\":" + std::to_string(f.commission()) +
             ",\"margin\":" + std::to_string(f.margin()) + "}";
  }
  brief += "]}";

  const std::string artifacts = std::string(SN_BIN_DIR) + "/../test-artifacts/console-fx";
  auto browser = Process::Spawn({node, kE2eDir + "/console-fx.mjs", cs.url(), kConsoleManager,
                                 kConsolePassword, artifacts, brief},
                                cs.store.dir + "/e2e.out", cs.store.dir + "/e2e.err");
  REQUIRE(browser.ok());
  RequireBrowserPassed(*browser, cs, std::chrono::seconds(120));

  // The fog's Z holds exactly the typed counts, and the refused entry closed
  // nothing before it: one Z, number 1.
  v1::FogRequest zreq;
  zreq.mutable_report()->set_kind("z");
  zreq.mutable_report()->set_business_day(day);
  auto z = cs.store.fog->Ask(zreq);
  REQUIRE(z.ok());
  INFO(z->error());
  REQUIRE(z->ok());
  REQUIRE(z->report().z_size() == 1);
  const v1::ZReport zr = DecodeZ(z->report().z(0));
  CHECK(zr.z_number() == 1);
  REQUIRE(static_cast<size_t>(zr.foreign_counts_size()) == expected.size());
  for (const v1::ForeignDrawerCount& c : zr.foreign_counts()) {
    INFO(c.device_id() << " " << c.currency());
    CHECK(c.expected_cash() == expected[{c.device_id(), c.currency()}]);
    if (c.device_id() == "till-1" && c.currency() == "USD") {
      CHECK(c.counted());
      CHECK(c.counted_cash() == usd);
      CHECK(c.over_short() == 500);
    } else if (c.device_id() == "till-2" && c.currency() == "JPY") {
      CHECK(c.counted());
      CHECK(c.counted_cash() == jpy);
      CHECK(c.over_short() == -1000);
    } else {
      CHECK_FALSE(c.counted());
    }
  }
  for (const char* shot : {"1-refused", "2-closedown", "3-z-report"}) {
    REQUIRE(std::filesystem::file_size(artifacts + "/" + shot + ".png") > 1000);
  }
}
