// The ledger on PostgreSQL (issue 15): several workers share one database,
// each submit is stored once whichever worker hears it (and however often),
// exactly one sequencer at a time makes stored submits leaves, and the
// database audits clean after a fast stop of PostgreSQL and after the
// active sequencer is SIGKILLed in the middle of its transaction. Real
// PostgreSQL 15 (a throwaway cluster), real ledger-sink processes, real
// mosquitto.
#include <catch2/catch.hpp>
#include <csignal>
#include <map>
#include <set>
#include <thread>

#include "ledger/ledger.h"
#include "storenode/common/ledger.h"
#include "support/client.h"
#include "support/fog.h"
#include "support/harness.h"
#include "support/harness/postgres.h"
#include "support/ledger_sink.h"
#include "support/ledger_zs.h"
#include "support/run.h"

using namespace storenode;
using namespace storenode::testing;

namespace {

std::unique_ptr<ledger::Ledger> OpenPgLedger(const std::string& conninfo,
                                             const crypto::SigningKey& key) {
  ledger::LedgerOptions o;
  o.ledger_id = "chain-test";
  auto l = ledger::Ledger::Open(conninfo, key, o);
  INFO(l.status().ToString());
  REQUIRE(l.ok());
  return std::move(*l);
}

harness::PgCluster& StartedPg(std::optional<harness::PgCluster>& pg) {
  pg.emplace(MakeTempDir("pg"));
  const Status s = pg->Start();
  INFO(s.ToString() << "\n" << ReadFile(pg->log_path()));
  REQUIRE(s.ok());
  return *pg;
}

}  // namespace

TEST_CASE("two workers on one PostgreSQL store every Z once, one sequencer makes the leaves",
          "[chain][pg]") {
  std::optional<harness::PgCluster> holder;
  harness::PgCluster& pg = StartedPg(holder);
  const crypto::SigningKey key = crypto::SigningKey::Generate();
  std::vector<FakeFog> fogs{FakeFog("store-1"), FakeFog("store-2"), FakeFog("store-3")};
  std::vector<std::pair<std::string, v1::SignedZ>> zs;  // every store's Zs, interleaved
  for (int n = 0; n < 40; ++n) {
    for (FakeFog& f : fogs) zs.emplace_back(f.store, f.Next(1000 + n));
  }
  // Both workers hear every submit, as an at-least-once stream may deliver
  // it twice: in batches of 10, integrating after each.
  std::vector<v1::LedgerAnswer> answers[2];
  Status failed[2];  // Catch's REQUIRE is for the test's own thread
  auto worker = [&](int w) {
    auto l = OpenPgLedger(pg.conninfo(), key);
    for (size_t at = 0; at < zs.size(); at += 10) {
      std::vector<ledger::LedgerRequestIn> batch;
      for (size_t i = at; i < std::min(zs.size(), at + 10); ++i) {
        batch.push_back({zs[i].first, SubmitOf(zs[i].second, 0, i + 1)});
      }
      for (int attempt = 0;; ++attempt) {
        auto stored = l->Accept(batch);
        if (stored.ok()) {
          answers[w].insert(answers[w].end(), stored->begin(), stored->end());
          break;
        }
        // Two workers storing a new store's first Z at once: one stores it
        // again (as a redelivery would) and finds it.
        if (stored.status().code() != Code::kUnavailable || attempt == 20) {
          failed[w] = stored.status();
          return;
        }
      }
      auto integrated = l->Integrate();
      if (!integrated.ok()) {
        failed[w] = integrated.status();
        return;
      }
      answers[w].insert(answers[w].end(), integrated->begin(), integrated->end());
    }
    while (true) {
      auto integrated = l->Integrate();
      if (!integrated.ok()) {
        failed[w] = integrated.status();
        return;
      }
      if (integrated->empty()) break;
      answers[w].insert(answers[w].end(), integrated->begin(), integrated->end());
    }
  };
  std::thread t0(worker, 0), t1(worker, 1);
  t0.join();
  t1.join();
  for (const Status& s : failed) {
    INFO(s.ToString());
    REQUIRE(s.ok());
  }

  // Each Z has exactly one fresh receipt (the sequencer's), and it verifies.
  std::map<std::pair<std::string, uint64_t>, uint64_t> leaf_of;
  size_t fresh = 0;
  for (const auto& list : answers) {
    for (const v1::LedgerAnswer& a : list) {
      INFO(a.ShortDebugString());
      REQUIRE(a.has_accepted());
      if (a.accepted().duplicate()) continue;
      ++fresh;
      const auto key_of = std::pair(a.store_id(), a.z_number());
      CHECK_FALSE(leaf_of.contains(key_of));
      leaf_of[key_of] = a.accepted().receipt().leaf_index();
    }
  }
  CHECK(fresh == zs.size());
  for (const auto& [store, z] : zs) {
    v1::ZReport parsed;
    REQUIRE(parsed.ParseFromString(z.z()));
    REQUIRE(leaf_of.contains({store, parsed.z_number()}));
  }
  for (const auto& list : answers) {
    for (const v1::LedgerAnswer& a : list) {
      const auto& [store, z] = zs[a.request_id() - 1];
      if (!a.accepted().duplicate()) CheckAccepted(a, z, key.public_key());
    }
  }
  // Per store, the leaves keep the Z order (the audit checks the chain too).
  for (const FakeFog& f : fogs) {
    uint64_t last = 0;
    for (uint64_t n = 1; n < f.next; ++n) {
      const uint64_t leaf = leaf_of[{f.store, n}];
      if (n > 1) CHECK(leaf > last);
      last = leaf;
    }
  }
  auto audit = ledger::VerifyLedgerDb(pg.conninfo());
  INFO(audit.status().ToString());
  REQUIRE(audit.ok());
  CHECK(audit->records() == zs.size());
  CHECK(audit->stored() == 0);
  CHECK(audit->stores() == 3);
  CHECK(audit->tree_heads() >= 1);
  CHECK(audit->tree_heads() <= audit->records());
  const Ran verify = RunTool(MakeTempDir("verify"), "storectl",
                             {"verify", "ledger", "--db", pg.conninfo(), "--json"});
  INFO(verify.out << verify.err);
  CHECK(verify.code == 0);
  CHECK(verify.out.find("\"records\": \"120\"") != std::string::npos);
  // The read models counted each Z once.
  const Ran report = RunTool(MakeTempDir("report"), "storectl",
                             {"chain", "report", "--pg", pg.conninfo(), "--from", "2026-11-11",
                              "--to", "2026-11-20", "--by", "store", "--format", "csv"});
  INFO(report.out << report.err);
  CHECK(report.code == 0);
}

TEST_CASE("PostgreSQL stopped fast and started again: unavailable meanwhile, nothing lost",
          "[chain][pg]") {
  std::optional<harness::PgCluster> holder;
  harness::PgCluster& pg = StartedPg(holder);
  const crypto::SigningKey key = crypto::SigningKey::Generate();
  auto l = OpenPgLedger(pg.conninfo(), key);
  FakeFog fog("store-1");
  std::vector<v1::SignedZ> zs;
  for (int i = 0; i < 6; ++i) zs.push_back(fog.Next(100 + i));
  v1::TreeHead trusted;
  for (int i = 0; i < 3; ++i) {
    const v1::LedgerReceipt r =
        CheckAccepted(l->Handle("store-1", SubmitOf(zs[i], 0, i + 1)), zs[i], key.public_key());
    trusted = ledger::VerifyReceiptHead(r, key.public_key()).value();
  }

  REQUIRE(pg.StopFast().ok());
  const v1::LedgerAnswer down = l->Handle("store-1", SubmitOf(zs[3], 0, 4));
  REQUIRE(down.has_rejected());
  CHECK(down.rejected().code() == ledger::kUnavailable);
  CHECK(down.rejected().reason().find("postgresql") != std::string::npos);
  CHECK(l->failed().ok());  // "try again", not a broken ledger

  REQUIRE(pg.Start().ok());
  for (int i = 3; i < 6; ++i) {
    const v1::LedgerAnswer a = l->Handle("store-1", SubmitOf(zs[i], trusted.tree_size(), i + 1));
    const v1::LedgerReceipt r = CheckAccepted(a, zs[i], key.public_key());
    CHECK(r.leaf_index() == static_cast<uint64_t>(i));
    REQUIRE(a.accepted().has_consistency());
    auto next = ledger::VerifyConsistency(trusted, a.accepted().consistency(), key.public_key());
    INFO(next.status().ToString());
    REQUIRE(next.ok());
    trusted = *next;
  }
  auto audit = ledger::VerifyLedgerDb(pg.conninfo());
  INFO(audit.status().ToString());
  REQUIRE(audit.ok());
  CHECK(audit->records() == 6);
}

TEST_CASE("the active sequencer SIGKILLed in its transaction: another worker takes over",
          "[chain][pg][integration]") {
  std::optional<harness::PgCluster> holder;
  harness::PgCluster& pg = StartedPg(holder);
  const std::string dir = MakeTempDir("sn-ledger-pg-");
  Broker broker(dir);
  REQUIRE(broker.Start().ok());
  // Both hear every submit (plain MQTT, no shared subscription).
  LedgerSinkProcess steady(dir + "/steady", broker.uri());
  LedgerSinkProcess doomed(dir + "/doomed", broker.uri());
  steady.postgres = doomed.postgres = pg.conninfo();
  steady.Start();
  std::filesystem::copy_file(steady.key_path(), doomed.key_path());
  doomed.Start("sequencer-before-commit");

  TestClient client(broker.uri(), {ledger::AnswerTopic("store-1")});
  FakeFog fog("store-1");
  auto key = crypto::SigningKey::Load(steady.key_path());
  REQUIRE(key.ok());
  int zs = 0;
  bool killed = false;
  // Zs until the doomed worker won the sequencer's lock once and died in its
  // transaction; every Z gets its receipt meanwhile, within 3 s.
  while (zs < 30 && !killed) {
    const v1::SignedZ z = fog.Next(100 + zs);
    ++zs;
    const auto start = std::chrono::steady_clock::now();
    auto a = AskLedger(client, "store-1", SubmitOf(z, 0, zs), std::chrono::seconds(3));
    INFO("Z " << zs << "\n" << steady.Log() << "\n" << doomed.Log());
    REQUIRE(a.has_value());
    CheckAccepted(*a, z, key->public_key());
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(3));
    killed = doomed.Exited().has_value();
  }
  REQUIRE(killed);
  CHECK(*doomed.Exited() == -SIGKILL);
  CHECK(steady.Stop() == 0);
  auto audit = ledger::VerifyLedgerDb(pg.conninfo());
  INFO(audit.status().ToString());
  REQUIRE(audit.ok());
  CHECK(audit->records() == static_cast<uint64_t>(zs));
  CHECK(audit->stored() == 0);
}
