// Three real stores on the chain's cloud (issue 15): three storenode-fogd
// with real tills, each forwarding its Zs over MQTT 3.1.1 to a three-node
// NATS cluster (every node listed, QoS 0 answers), two ledger-sink workers
// on one PostgreSQL. A NATS node is SIGKILLed while the stores close their
// days. Every Z reaches the log exactly once, every fog holds a verified
// receipt for each of its Zs, the ledger audits clean, a sale of each store
// is proven end to end, and head office's report adds up to the Zs.
#include <catch2/catch.hpp>
#include <filesystem>

#include "ledger/ledger.h"
#include "support/chain_cloud.h"
#include "support/fog.h"
#include "support/harness.h"
#include "support/ledger_sink.h"
#include "support/run.h"
#include "support/store.h"

using namespace storenode;
using namespace storenode::testing;
using namespace std::chrono_literals;

namespace {

v1::LedgerStatus LedgerOf(Store& store) {
  auto s = store.fog->GetStatus();
  REQUIRE(s.ok());
  return s->ledger();
}

// Sells on every till and closes the tills' business day; returns its Z.
v1::ZReport SellAndClose(Store& store, uint64_t sales) {
  for (size_t i = 0; i < store.tills.size(); ++i) store.Sell(i, sales);
  const std::string day = store.tills[0].journal->business_day();
  const v1::CloseDownResponse r = store.CloseDay(day);
  REQUIRE(r.closed());
  REQUIRE(WaitFor(
      [&] {
        for (const auto& t : store.tills) {
          if (t.journal->business_day() <= day) return false;
        }
        return true;
      },
      10s));
  return DecodeZ(r.z());
}

}  // namespace

TEST_CASE("three real fogs on NATS and PostgreSQL: every Z once, every receipt verified",
          "[chain][nats][integration]") {
  const std::string dir = MakeTempDir("sn-chain-fogs-");
  ChainCloud cloud(dir);
  harness::NatsCluster& nats = cloud.nats;
  harness::PgCluster& pg = cloud.pg;
  LedgerSinkProcess &a = cloud.a, &b = cloud.b;
  std::string uris;
  for (int i = 0; i < nats.nodes(); ++i) {
    uris += std::string(i ? ", " : "") + "\"" + nats.mqtt_uri(i) + "\"";
  }
  const std::string ledger_key = KeyHex(a.key_path());

  std::vector<std::unique_ptr<Store>> stores;
  for (const char* id : {"store-a", "store-b", "store-c"}) {
    auto& s = stores.emplace_back(std::make_unique<Store>(2, id));
    s->fog->extra_config = "\n[ledger]\nuris = [" + uris +
                           "]\nprotocol = \"mqtt3.1.1\"\nclient_id = \"fog-" + id +
                           "\"\ninsecure = true\nretry_min_ms = 200\nretry_max_ms = 2000\n"
                           "public_key = \"" +
                           ledger_key + "\"\n";
    REQUIRE(s->fog->Start().ok());
    for (size_t i = 0; i < s->tills.size(); ++i) s->OpenTill(i, true, -2 * 24 * 60);
  }
  std::map<std::string, int64_t> net;  // per store, over its Zs
  std::string first_day, last_day;
  auto close = [&](Store& s, uint64_t sales) {
    const v1::ZReport z = SellAndClose(s, sales);
    net[s.store_id] += z.totals().net_sales();  // the day's, not the perpetual grand total
    if (first_day.empty() || z.business_day() < first_day) first_day = z.business_day();
    last_day = std::max(last_day, z.business_day());
  };
  for (auto& s : stores) close(*s, 20);
  nats.Kill(1);  // in the middle of the close-downs and their forwarding
  for (auto& s : stores) close(*s, 15);
  REQUIRE(nats.Restart(1).ok());

  for (auto& s : stores) {
    const bool delivered = WaitFor([&] { return LedgerOf(*s).backlog() == 0; }, 120s);
    INFO(s->store_id << "\n" << s->fog->Log() << "\n" << a.Log() << "\n" << b.Log());
    REQUIRE(delivered);
    CHECK(QueryInt(s->fog->db_path(), "SELECT COUNT(*) FROM ledger_receipts") == 2);
    CHECK(QueryInt(s->fog->db_path(), "SELECT COUNT(*) FROM ledger_alerts") == 0);
    const Ran v = RunTool(dir, "storectl",
                          {"verify", "receipt", "--data", s->fog->data_dir(), "--device", "till-1",
                           "--receipt", "3"});
    INFO(v.out << v.err);
    CHECK(v.code == 0);
  }
  CHECK(a.Stop() == 0);
  CHECK(b.Stop() == 0);
  auto audit = ledger::VerifyLedgerDb(pg.conninfo());
  INFO(audit.status().ToString());
  REQUIRE(audit.ok());
  CHECK(audit->records() == 6);
  CHECK(audit->stores() == 3);
  CHECK(audit->stored() == 0);

  // Head office's report: per store, the net sales of its two Zs.
  const Ran report = RunTool(dir, "storectl",
                             {"chain", "report", "--pg", pg.conninfo(), "--from", first_day, "--to",
                              last_day, "--by", "store", "--format", "json"});
  INFO(report.out << report.err);
  REQUIRE(report.code == 0);
  for (const auto& [store, cents] : net) {
    const std::string row = "\"store_id\": \"" + store + "\"";
    REQUIRE(report.out.find(row) != std::string::npos);
    const std::string after = report.out.substr(report.out.find(row));
    CHECK(after.find("\"net_sales\": \"" + std::to_string(cents) + "\"") != std::string::npos);
  }
}
