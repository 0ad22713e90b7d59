// The ledger's batches (tools/ledger/ledger.cc): Accept checks a whole batch
// with one read of the stores' rows and one lookup of the Zs they hold, and
// writes it in multi-row statements; Integrate moves its batch in two. A
// batch must come out as the same submits one at a time would: a resend in
// the same batch as its original, a Z and its successor together, resends
// of stored Zs and of leaves, forks and gaps, and two Zs of one store-day
// (one read-model row) in one statement. On SQLite and on PostgreSQL.
#include <catch2/catch.hpp>
#include <map>
#include <optional>
#include <set>
#include <thread>
#include <tuple>

#include "ledger/chain_models.h"
#include "ledger/ledger.h"
#include "ledger/sql_conn.h"
#include "storenode/common/ledger.h"
#include "support/harness.h"
#include "support/harness/postgres.h"
#include "support/ledger_zs.h"
#include "support/run.h"

using namespace storenode;
using namespace storenode::testing;

namespace {

ledger::LedgerRequestIn In(const std::string& store, const v1::SignedZ& z, uint64_t id) {
  return {store, SubmitOf(z, 0, id)};
}

// `fog`'s next Z, on `day` whatever its number.
v1::SignedZ NextOnDay(FakeFog& fog, const std::string& day) {
  v1::ZReport z = fog.MakeZ(fog.next, fog.prev_hash, 5'000);
  z.set_business_day(day);
  v1::SignedZ s = SignZ(fog.key, z.SerializeAsString());
  ++fog.next;
  fog.prev_hash = s.hash();
  return s;
}

void CheckLeaf(const v1::LedgerAnswer& a, const std::string& store, uint64_t z_number,
               uint64_t request_id, uint64_t leaf, const v1::SignedZ& z,
               const crypto::PublicKey& key) {
  INFO(a.ShortDebugString());
  CHECK(a.store_id() == store);
  CHECK(a.z_number() == z_number);
  CHECK(a.request_id() == request_id);
  const v1::LedgerReceipt r = CheckAccepted(a, z, key);
  CHECK(r.leaf_index() == leaf);
}

void BatchesAnswerAsOneByOne(const std::string& target) {
  const crypto::SigningKey key = crypto::SigningKey::Generate();
  ledger::LedgerOptions o;
  o.ledger_id = "batch-test";
  auto opened = ledger::Ledger::Open(target, key, o);
  INFO(opened.status().ToString());
  REQUIRE(opened.ok());
  ledger::Ledger& l = **opened;
  FakeFog s1("store-1"), s2("store-2"), s3("store-3");
  const v1::SignedZ z11 = s1.Next(100);
  const v1::SignedZ z21 = NextOnDay(s2, "2026-11-11");
  const v1::SignedZ z22 = NextOnDay(s2, "2026-11-11");  // the same store-day
  const v1::SignedZ z32 = SignZ(s3.key, s3.MakeZ(2, std::string(32, '\0'), 1).SerializeAsString());

  // 1. Out of order, with a resend of Z 1 of store-1 in the same batch:
  //    only the gap is answered now.
  auto first = l.Accept({In("store-2", z22, 1), In("store-1", z11, 2), In("store-3", z32, 3),
                         In("store-2", z21, 4), In("store-1", z11, 5)});
  REQUIRE(first.ok());
  REQUIRE(first->size() == 1);
  CHECK(first->at(0).request_id() == 3);
  REQUIRE(first->at(0).has_rejected());
  CHECK(first->at(0).rejected().code() == "gap");
  CHECK(first->at(0).rejected().reason() == "the first Z of a store must be Z 1, got Z 2");
  // One leaf each, in (store, Z number) order, answered to the first request.
  auto leaves = l.Integrate();
  REQUIRE(leaves.ok());
  REQUIRE(leaves->size() == 3);
  CheckLeaf(leaves->at(0), "store-1", 1, 2, 0, z11, key.public_key());
  CheckLeaf(leaves->at(1), "store-2", 1, 4, 1, z21, key.public_key());
  CheckLeaf(leaves->at(2), "store-2", 2, 1, 2, z22, key.public_key());
  for (const v1::LedgerAnswer& a : *leaves) CHECK_FALSE(a.accepted().duplicate());
  REQUIRE(l.Integrate().ok());
  CHECK(l.tree_size() == 3);

  // 2. A resend of a leaf, a fork of one, a new Z and its resend.
  const v1::SignedZ fork = SignZ(s2.key, s2.MakeZ(2, z21.hash(), 999).SerializeAsString());
  const v1::SignedZ z12 = s1.Next(300);
  auto second = l.Accept({In("store-1", z11, 10), In("store-2", fork, 11), In("store-1", z12, 12),
                          In("store-1", z12, 13)});
  REQUIRE(second.ok());
  REQUIRE(second->size() == 2);
  CheckLeaf(second->at(0), "store-1", 1, 10, 0, z11, key.public_key());
  CHECK(second->at(0).accepted().duplicate());
  CHECK(second->at(0).accepted().receipt().tree_size() == 3);
  CHECK(second->at(1).request_id() == 11);
  REQUIRE(second->at(1).has_rejected());
  CHECK(second->at(1).rejected().code() == "fork");
  CHECK(second->at(1).rejected().reason() == "Z 2 is already in the log with another hash");
  leaves = l.Integrate();
  REQUIRE(leaves.ok());
  REQUIRE(leaves->size() == 1);
  CheckLeaf(leaves->at(0), "store-1", 2, 12, 3, z12, key.public_key());

  // 3. A resend of a stored Z in a later batch, before its integration: no
  //    answer now, one receipt when it becomes a leaf.
  const v1::SignedZ z31 = s3.Next(400);
  auto third = l.Accept({In("store-3", z31, 20)});
  REQUIRE(third.ok());
  CHECK(third->empty());
  auto again = l.Accept({In("store-3", z31, 21)});
  REQUIRE(again.ok());
  CHECK(again->empty());
  leaves = l.Integrate();
  REQUIRE(leaves.ok());
  REQUIRE(leaves->size() == 1);
  CheckLeaf(leaves->at(0), "store-3", 1, 20, 4, z31, key.public_key());

  auto audit = ledger::VerifyLedgerDb(target);
  INFO(audit.status().ToString());
  REQUIRE(audit.ok());
  CHECK(audit->records() == 5);
  CHECK(audit->stored() == 0);
  CHECK(audit->stores() == 3);

  // Each Z counted once in the read models; store-2's two Zs share a row.
  auto conn = ledger::IsPostgres(target) ? ledger::OpenPostgres(target)
                                         : ledger::OpenSqlite(target, {.read_only = true});
  REQUIRE(conn.ok());
  auto report = ledger::QueryChainReport(
      {.from_day = "2026-11-01", .to_day = "2026-11-30", .by = "store"}, **conn);
  INFO(report.status().ToString());
  REQUIRE(report.ok());
  REQUIRE(report->currencies_size() == 1);
  std::map<std::string, std::pair<uint64_t, uint64_t>> days_closed;
  for (const v1::ChainRow& row : report->currencies(0).rows()) {
    days_closed[row.store_id()] = {row.figures().days(), row.figures().closed()};
  }
  using Figures = std::map<std::string, std::pair<uint64_t, uint64_t>>;
  CHECK(days_closed == Figures{{"store-1", {2, 2}}, {"store-2", {1, 2}}, {"store-3", {1, 1}}});
}

}  // namespace

TEST_CASE("a ledger batch answers as its submits one by one would, on SQLite", "[ledger]") {
  BatchesAnswerAsOneByOne(MakeTempDir("sn-ledger-batch-") + "/ledger.db");
}

TEST_CASE("a ledger batch answers as its submits one by one would, on PostgreSQL",
          "[ledger][chain][pg]") {
  harness::PgCluster pg(MakeTempDir("pg"));
  const Status s = pg.Start();
  INFO(s.ToString());
  REQUIRE(s.ok());
  BatchesAnswerAsOneByOne(pg.conninfo());
}

// Invariant 9 of ledger.cc. Worker A is held (by a lock on pending) after it
// found store-x new and before its INSERT; worker B then finds store-x new
// too, before A commits. B must wait for A and answer the resend as stored,
// not store Z 1 a second time (nor fail on A's row).
TEST_CASE("two workers that both find a store new store its first Z once", "[ledger][chain][pg]") {
  harness::PgCluster pg(MakeTempDir("pg"));
  const Status started = pg.Start();
  INFO(started.ToString());
  REQUIRE(started.ok());
  const crypto::SigningKey key = crypto::SigningKey::Generate();
  ledger::LedgerOptions o;
  o.ledger_id = "batch-test";
  auto a = ledger::Ledger::Open(pg.conninfo(), key, o);
  auto b = ledger::Ledger::Open(pg.conninfo(), key, o);
  auto holder = ledger::OpenPostgres(pg.conninfo());
  auto watch = ledger::OpenPostgres(pg.conninfo());
  REQUIRE((a.ok() && b.ok() && holder.ok() && watch.ok()));
  // Lock requests waiting: A's for pending, then B's as well (on store-x's
  // advisory lock, or without invariant 9 on pending too).
  auto waiting = [&] {
    return (*watch)->QueryInt("SELECT COUNT(*) FROM pg_locks WHERE NOT granted", {}).value_or(-1);
  };
  FakeFog x("store-x");
  const v1::SignedZ z1 = x.Next(100);

  REQUIRE((*holder)->Begin().ok());
  REQUIRE((*holder)->Script("LOCK TABLE pending IN SHARE MODE").ok());
  std::optional<Result<std::vector<v1::LedgerAnswer>>> first, second;
  std::thread worker_a([&] { first = (*a)->Accept({In("store-x", z1, 1)}); });
  REQUIRE(WaitFor([&] { return waiting() == 1; }, std::chrono::seconds(20)));
  std::thread worker_b([&] { second = (*b)->Accept({In("store-x", z1, 2)}); });
  REQUIRE(WaitFor([&] { return waiting() == 2; }, std::chrono::seconds(20)));
  REQUIRE((*holder)->Commit().ok());
  worker_a.join();
  worker_b.join();
  INFO((first->ok() ? "" : first->status().ToString()) +
       (second->ok() ? "" : second->status().ToString()));
  REQUIRE((first->ok() && second->ok()));
  CHECK((*first)->empty());
  CHECK((*second)->empty());

  auto leaves = (*a)->Integrate();
  REQUIRE(leaves.ok());
  REQUIRE(leaves->size() == 1);
  CheckLeaf(leaves->at(0), "store-x", 1, 1, 0, z1, key.public_key());
  auto audit = ledger::VerifyLedgerDb(pg.conninfo());
  INFO(audit.status().ToString());
  REQUIRE(audit.ok());
  CHECK(audit->records() == 1);
  CHECK(audit->stored() == 0);
  auto report = ledger::QueryChainReport(
      {.from_day = "2026-11-01", .to_day = "2026-11-30", .by = "store"}, **watch);
  REQUIRE(report.ok());
  REQUIRE(report->currencies_size() == 1);
  REQUIRE(report->currencies(0).rows_size() == 1);
  CHECK(report->currencies(0).rows(0).figures().closed() == 1);
}

TEST_CASE("RunRows puts the rows of one key into separate statements, in their order", "[ledger]") {
  auto db = ledger::OpenSqlite(MakeTempDir("sn-runrows-") + "/t.db", {});
  REQUIRE(db.ok());
  REQUIRE((*db)->Script("CREATE TABLE t (k TEXT PRIMARY KEY, n INTEGER, last TEXT)").ok());
  ledger::SqlRows rows(3);
  for (const auto& [k, n, last] : {std::tuple("a", 1, "a1"), std::tuple("b", 10, "b1"),
                                   std::tuple("a", 2, "a2"), std::tuple("a", 4, "a3")}) {
    const ledger::SqlValue values[] = {std::string(k), int64_t{n}, std::string(last)};
    rows.Add(k, values);
  }
  REQUIRE(
      ledger::RunRows(**db, "INSERT INTO t (k, n, last) VALUES", rows,
                      "ON CONFLICT (k) DO UPDATE SET n = t.n + excluded.n, last = excluded.last")
          .ok());
  std::map<std::string, std::pair<int64_t, std::string>> got;
  REQUIRE((*db)
              ->Run("SELECT k, n, last FROM t", {},
                    [&](const ledger::SqlRow& r) {
                      got[r.Str(0)] = {r.Int(1), r.Str(2)};
                    })
              .ok());
  using Rows = std::map<std::string, std::pair<int64_t, std::string>>;
  CHECK(got == Rows{{"a", {7, "a3"}}, {"b", {10, "b1"}}});
  CHECK(ledger::Placeholders(2, 3) == "(?, ?, ?), (?, ?, ?)");
  CHECK(ledger::Placeholders(3, 1) == "?, ?, ?");
}

TEST_CASE("a fog's resend waits double from retry_min_ms to retry_max_ms, each up to half longer",
          "[ledger][forwarder]") {
  ledger::ResendBackoff backoff(1000, 8000, 42);
  const int64_t bases[] = {1000, 2000, 4000, 8000, 8000};
  for (int64_t base : bases) {
    const int64_t wait = backoff.NextMs();
    CHECK(wait >= base);
    CHECK(wait < base + base / 2);
  }
  backoff.Reset();
  const int64_t again = backoff.NextMs();
  CHECK(again >= 1000);
  CHECK(again < 1500);
  // Fogs that closed together spread their first resends over [min, 1.5 min).
  std::set<int64_t> firsts;
  for (uint64_t seed = 0; seed < 100; ++seed)
    firsts.insert(ledger::ResendBackoff(5000, 300000, seed).NextMs());
  CHECK(firsts.size() > 90);
  CHECK(*firsts.begin() >= 5000);
  CHECK(*firsts.rbegin() < 7500);
  CHECK(ledger::kRetryMinMs == 5000);
  CHECK(ledger::kRetryMaxMs == 300000);
}
