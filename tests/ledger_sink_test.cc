// The reference cloud ledger: the Ledger class on a real SQLite file, the
// offline audit (VerifyLedgerDb, storectl verify ledger), and the
// ledger-sink daemon over a real mosquitto, killed on both sides of its
// commit. The Zs are real: serialized ZReports, hashed and signed with a fog
// key the way the fog's close-down does.
#include "support/ledger_sink.h"

#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "ledger/ledger.h"
#include "storenode/common/ledger.h"
#include "storenode/schemas/closedown.pb.h"
#include "support/client.h"
#include "support/fault_vfs.h"
#include "support/fog.h"
#include "support/harness.h"
#include "support/ledger_zs.h"
#include "support/run.h"

using namespace storenode;
using namespace storenode::testing;

namespace {

std::string Bytes(const crypto::Hash& h) { return std::string(h.begin(), h.end()); }

v1::LedgerRequest ConsistencyOf(uint64_t from, uint64_t to) {
  v1::LedgerRequest r;
  r.set_request_id(77);
  r.mutable_consistency()->set_from_size(from);
  r.mutable_consistency()->set_to_size(to);
  return r;
}

std::string RejectionOf(const v1::LedgerAnswer& a) {
  REQUIRE(a.has_rejected());
  CHECK(a.rejected().reason().find('\n') == std::string::npos);
  return a.rejected().code();
}

std::unique_ptr<ledger::Ledger> OpenLedger(const std::string& path, const crypto::SigningKey& key,
                                           ledger::LedgerOptions options = {}) {
  if (options.ledger_id.empty()) options.ledger_id = "chain-test";
  auto l = ledger::Ledger::Open(path, key, std::move(options));
  INFO(l.status().ToString());
  REQUIRE(l.ok());
  return std::move(*l);
}

}  // namespace

TEST_CASE("ledger appends three stores interleaved and proves every receipt and size", "[ledger]") {
  const std::string dir = MakeTempDir("sn-ledger-");
  const crypto::SigningKey key = crypto::SigningKey::Generate();
  auto ledger = OpenLedger(dir + "/ledger.db", key);
  std::vector<FakeFog> fogs{FakeFog("store-1"), FakeFog("store-2"), FakeFog("store-3")};

  std::vector<v1::TreeHead> heads(1);  // heads[k]: the signed head of size k
  std::vector<std::pair<v1::LedgerReceipt, v1::SignedZ>> receipts;
  for (int round = 0; round < 4; ++round) {
    for (FakeFog& fog : fogs) {
      const v1::SignedZ z = fog.Next(1000 * round + static_cast<int>(fog.store.back()));
      const v1::LedgerAnswer a = ledger->Handle(fog.store, SubmitOf(z, 0, receipts.size() + 1));
      CHECK(a.request_id() == receipts.size() + 1);
      CHECK(a.store_id() == fog.store);
      CHECK(a.z_number() == fog.next - 1);
      const v1::LedgerReceipt r = CheckAccepted(a, z, key.public_key());
      CHECK_FALSE(a.accepted().duplicate());
      CHECK(r.leaf_index() == receipts.size());
      CHECK(r.tree_size() == receipts.size() + 1);
      CHECK(r.store_id() == fog.store);
      heads.push_back(ledger::VerifyTreeHead(r.tree_head(), key.public_key()).value());
      receipts.emplace_back(r, z);
    }
  }
  REQUIRE(ledger->tree_size() == 12);

  // Every receipt keeps verifying: its head is the one of its own size.
  for (const auto& [r, z] : receipts) CHECK(ledger::VerifyReceipt(r, z.z(), key.public_key()).ok());

  SECTION("a consistency proof between every pair of sizes verifies") {
    for (uint64_t from = 1; from <= 12; ++from) {
      for (uint64_t to = from; to <= 12; ++to) {
        const v1::LedgerAnswer a = ledger->Handle("store-1", ConsistencyOf(from, to));
        CHECK(a.request_id() == 77);
        REQUIRE(a.has_consistency());
        auto newer = ledger::VerifyConsistency(heads[from], a.consistency(), key.public_key());
        INFO(from << ".." << to << ": " << newer.status().ToString());
        REQUIRE(newer.ok());
        CHECK(newer->root() == heads[to].root());
      }
    }
    // to = 0 is the current size.
    const v1::LedgerAnswer now = ledger->Handle("store-2", ConsistencyOf(5, 0));
    REQUIRE(now.has_consistency());
    CHECK(now.consistency().to_size() == 12);
    CHECK(ledger::VerifyConsistency(heads[5], now.consistency(), key.public_key()).ok());
  }

  SECTION("bad consistency sizes are bad requests") {
    CHECK(RejectionOf(ledger->Handle("store-1", ConsistencyOf(3, 13))) == "bad-request");
    CHECK(RejectionOf(ledger->Handle("store-1", ConsistencyOf(9, 4))) == "bad-request");
    CHECK(RejectionOf(ledger->Handle("store-1", v1::LedgerRequest())) == "bad-request");
  }

  SECTION("a submit's known tree size gets a consistency proof to the new head") {
    const v1::SignedZ z = fogs[1].Next();
    const v1::LedgerAnswer a = ledger->Handle("store-2", SubmitOf(z, 7));
    const v1::LedgerReceipt r = CheckAccepted(a, z, key.public_key());
    REQUIRE(a.accepted().has_consistency());
    auto newer = ledger::VerifyConsistency(heads[7], a.accepted().consistency(), key.public_key());
    REQUIRE(newer.ok());
    CHECK(newer->tree_size() == 13);
    CHECK(newer->root() == r.root());
    // A size the ledger never reached gets no proof (the fog finds out).
    const v1::SignedZ z2 = fogs[1].Next();
    const v1::LedgerAnswer b = ledger->Handle("store-2", SubmitOf(z2, 99));
    CheckAccepted(b, z2, key.public_key());
    CHECK_FALSE(b.accepted().has_consistency());
  }
}

TEST_CASE("ledger refuses bad records with their code and stores none of them", "[ledger]") {
  const std::string dir = MakeTempDir("sn-ledger-");
  const crypto::SigningKey key = crypto::SigningKey::Generate();
  FakeFog a("store-a"), b("store-b");
  FakeFog pinned("store-p");
  ledger::LedgerOptions options;
  options.pinned_stores["store-p"] = pinned.key.public_key();
  auto ledger = OpenLedger(dir + "/ledger.db", key, options);

  const v1::SignedZ a1 = a.Next(500);
  const v1::LedgerReceipt first =
      CheckAccepted(ledger->Handle("store-a", SubmitOf(a1)), a1, key.public_key());
  const v1::SignedZ a2 = a.Next(700);
  CheckAccepted(ledger->Handle("store-a", SubmitOf(a2)), a2, key.public_key());
  const v1::SignedZ b1 = b.Next();
  CheckAccepted(ledger->Handle("store-b", SubmitOf(b1)), b1, key.public_key());
  REQUIRE(ledger->tree_size() == 3);
  uint64_t expected_size = 3;

  SECTION("a duplicate gets the same leaf against the current head, and no new entry") {
    const v1::LedgerAnswer again = ledger->Handle("store-a", SubmitOf(a1));
    const v1::LedgerReceipt r = CheckAccepted(again, a1, key.public_key());
    CHECK(again.accepted().duplicate());
    CHECK(r.leaf_index() == first.leaf_index());
    CHECK(r.appended_us() == first.appended_us());
    CHECK(r.tree_size() == 3);
    CHECK(ledger->tree_size() == 3);
  }

  // Z 3 of store-a with one total changed after the fog signed it.
  v1::ZReport z3 = a.MakeZ(3, a.prev_hash, 900);
  const v1::SignedZ good3 = SignZ(a.key, z3.SerializeAsString());
  z3.mutable_grand_totals()->set_net_sales(90'000);
  const std::string tampered = z3.SerializeAsString();

  SECTION("tampered, re-hashed but not re-signed: bad-signature") {
    v1::SignedZ s = good3;
    s.set_z(tampered);
    s.set_hash(Bytes(crypto::Sha256Of(tampered)));
    CHECK(RejectionOf(ledger->Handle("store-a", SubmitOf(s))) == "bad-signature");
  }
  SECTION("tampered and not re-hashed: bad-hash") {
    v1::SignedZ s = good3;
    s.set_z(tampered);
    CHECK(RejectionOf(ledger->Handle("store-a", SubmitOf(s))) == "bad-hash");
  }
  SECTION("signed by another fog key: unknown-key") {
    const crypto::SigningKey other = crypto::SigningKey::Generate();
    CHECK(RejectionOf(ledger->Handle("store-a", SubmitOf(SignZ(other, good3.z())))) ==
          "unknown-key");
  }
  SECTION("a Z number skipped: gap") {
    const v1::SignedZ z4 = SignZ(a.key, a.MakeZ(4, good3.hash(), 1).SerializeAsString());
    const v1::LedgerAnswer ans = ledger->Handle("store-a", SubmitOf(z4));
    CHECK(RejectionOf(ans) == "gap");
    CHECK(ans.z_number() == 4);
    // A store's first record must be Z 1.
    FakeFog c("store-c");
    c.next = 2;
    CHECK(RejectionOf(ledger->Handle("store-c", SubmitOf(c.Next()))) == "gap");
  }
  SECTION("prev_z_hash not the previous Z's hash: chain") {
    const v1::SignedZ z = SignZ(a.key, a.MakeZ(3, a1.hash(), 1).SerializeAsString());
    CHECK(RejectionOf(ledger->Handle("store-a", SubmitOf(z))) == "chain");
    FakeFog c("store-c");
    c.prev_hash = a1.hash();  // Z 1 must chain to 32 zero bytes
    CHECK(RejectionOf(ledger->Handle("store-c", SubmitOf(c.Next()))) == "chain");
  }
  SECTION("another Z under a number already in the log: fork") {
    const v1::SignedZ other2 = SignZ(a.key, a.MakeZ(2, a1.hash(), 701).SerializeAsString());
    CHECK(RejectionOf(ledger->Handle("store-a", SubmitOf(other2))) == "fork");
  }
  SECTION("bytes that are no Z, or a Z of another store: malformed") {
    v1::SignedZ s = good3;
    s.set_z("\xff\xff\xff not a ZReport");
    s.set_hash(Bytes(crypto::Sha256Of(s.z())));
    CHECK(RejectionOf(ledger->Handle("store-a", SubmitOf(s))) == "malformed");
    CHECK(RejectionOf(ledger->Handle("store-b", SubmitOf(good3))) == "malformed");
  }
  SECTION("a pinned store's key is enforced from its first record") {
    const crypto::SigningKey impostor = crypto::SigningKey::Generate();
    const v1::SignedZ fake1 =
        SignZ(impostor, pinned.MakeZ(1, std::string(32, '\0'), 5).SerializeAsString());
    CHECK(RejectionOf(ledger->Handle("store-p", SubmitOf(fake1))) == "unknown-key");
    const v1::SignedZ p1 = pinned.Next();
    CheckAccepted(ledger->Handle("store-p", SubmitOf(p1)), p1, key.public_key());
    ++expected_size;
  }
  SECTION("a store's first key is pinned by its first record") {
    FakeFog thief("store-b");  // same store, another key
    thief.next = 2;
    thief.prev_hash = b1.hash();
    CHECK(RejectionOf(ledger->Handle("store-b", SubmitOf(thief.Next()))) == "unknown-key");
  }
  // Whatever was refused, nothing was written and the chain goes on.
  CHECK(ledger->tree_size() == expected_size);
  const v1::LedgerAnswer next = ledger->Handle("store-a", SubmitOf(good3));
  CHECK(CheckAccepted(next, good3, key.public_key()).leaf_index() == expected_size);
  CHECK(ledger::VerifyLedgerDb(dir + "/ledger.db").ok());
}

TEST_CASE("ledger refuses unknown stores when told to", "[ledger]") {
  const std::string dir = MakeTempDir("sn-ledger-");
  const crypto::SigningKey key = crypto::SigningKey::Generate();
  FakeFog known("store-k"), stranger("store-x");
  ledger::LedgerOptions options;
  options.pinned_stores["store-k"] = known.key.public_key();
  options.accept_unknown_stores = false;
  auto ledger = OpenLedger(dir + "/ledger.db", key, options);
  CHECK(RejectionOf(ledger->Handle("store-x", SubmitOf(stranger.Next()))) == "unknown-key");
  const v1::SignedZ k1 = known.Next();
  CheckAccepted(ledger->Handle("store-k", SubmitOf(k1)), k1, key.public_key());
  CHECK(ledger->tree_size() == 1);
}

TEST_CASE("ledger reopens its file, continues, and the audit finds a tampered Z", "[ledger]") {
  const std::string dir = MakeTempDir("sn-ledger-");
  const std::string path = dir + "/ledger.db";
  const crypto::SigningKey key = crypto::SigningKey::Generate();
  FakeFog a("store-a"), b("store-b");
  std::vector<v1::SignedZ> zs;
  {
    auto ledger = OpenLedger(path, key);
    for (int i = 0; i < 3; ++i) {
      for (FakeFog* fog : {&a, &b}) {
        zs.push_back(fog->Next(100 * i));
        CheckAccepted(ledger->Handle(fog->store, SubmitOf(zs.back())), zs.back(), key.public_key());
      }
    }
  }
  auto ledger = OpenLedger(path, key);
  REQUIRE(ledger->tree_size() == 6);
  // The old records are still known: a resend is a duplicate of its leaf.
  const v1::LedgerAnswer dup = ledger->Handle("store-b", SubmitOf(zs[3]));
  CHECK(dup.accepted().duplicate());
  CHECK(CheckAccepted(dup, zs[3], key.public_key()).leaf_index() == 3);
  // And the chains go on where they were.
  const v1::SignedZ a4 = a.Next();
  const v1::LedgerReceipt r =
      CheckAccepted(ledger->Handle("store-a", SubmitOf(a4)), a4, key.public_key());
  CHECK(r.leaf_index() == 6);

  auto audit = ledger::VerifyLedgerDb(path);
  INFO(audit.status().ToString());
  REQUIRE(audit.ok());
  CHECK(audit->records() == 7);
  CHECK(audit->stores() == 2);
  CHECK(audit->tree_heads() == 7);
  CHECK(audit->tree_size() == 7);
  CHECK(audit->root() == crypto::ToHex(crypto::AsBytes(r.root())));
  CHECK(audit->ledger_id() == "chain-test");
  ledger.reset();

  SECTION("another signing key or ledger id cannot open the file") {
    ledger::LedgerOptions same_id;
    same_id.ledger_id = "chain-test";
    CHECK_FALSE(ledger::Ledger::Open(path, crypto::SigningKey::Generate(), same_id).ok());
    ledger::LedgerOptions other_id;
    other_id.ledger_id = "another";
    CHECK_FALSE(ledger::Ledger::Open(path, key, other_id).ok());
  }
  SECTION("a Z changed in the file fails the audit at its leaf") {
    v1::ZReport z;
    REQUIRE(z.ParseFromString(zs[2].z()));
    z.mutable_grand_totals()->set_net_sales(1);
    const std::string changed = z.SerializeAsString();
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, "UPDATE leaves SET z = ? WHERE idx = 2", -1, &st, nullptr) ==
            SQLITE_OK);
    sqlite3_bind_blob(st, 1, changed.data(), static_cast<int>(changed.size()), SQLITE_TRANSIENT);
    REQUIRE(sqlite3_step(st) == SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);
    auto bad = ledger::VerifyLedgerDb(path);
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.status().code() == Code::kCorruption);
    CHECK(bad.status().message().starts_with("leaf 2: "));
  }
}

TEST_CASE("ledger-sink answers over MQTT and keeps its promise across crashes at the commit",
          "[ledger]") {
  const std::string dir = MakeTempDir("sn-ledger-sink-");
  Broker broker(dir);
  REQUIRE(broker.Start().ok());
  LedgerSinkProcess sink(dir, broker.uri());
  sink.Start();
  const crypto::PublicKey ledger_key = crypto::SigningKey::Load(sink.key_path())->public_key();
  TestClient client(broker.uri(), {ledger::AnswerTopic("store-1")});
  FakeFog fog("store-1");
  uint64_t id = 0;

  const v1::SignedZ z1 = fog.Next();
  auto a1 = AskLedger(client, "store-1", SubmitOf(z1, 0, ++id));
  REQUIRE(a1);
  CHECK(CheckAccepted(*a1, z1, ledger_key).leaf_index() == 0);

  // Bytes that are no request still get an answer, as the topic names the store.
  client.Publish(ledger::SubmitTopic("store-1"), "\xff\xfe garbage");
  REQUIRE(WaitFor(
      [&] {
        for (const mqtt::Message& m : client.Received(ledger::AnswerTopic("store-1"))) {
          v1::LedgerAnswer a;
          if (a.ParseFromString(m.payload) && a.has_rejected() &&
              a.rejected().code() == "malformed") {
            return true;
          }
        }
        return false;
      },
      std::chrono::seconds(15)));
  CHECK(sink.Stop() == 0);

  // Starts the sink to die at `point` on the next Z, submits it, and checks
  // that the killed file audits clean with `records` leaves and `stored`
  // submits stored and not yet leaves.
  auto submit_and_die = [&](const char* point, uint64_t records, uint64_t stored = 0) {
    sink.Start(point);
    const v1::SignedZ z = fog.Next();
    client.Publish(ledger::SubmitTopic("store-1"), SubmitOf(z, 0, ++id).SerializeAsString());
    CHECK(sink.Wait() == -SIGKILL);
    auto audit = ledger::VerifyLedgerDb(sink.db_path());
    INFO(audit.status().ToString());
    REQUIRE(audit.ok());
    CHECK(audit->records() == records);
    CHECK(audit->stored() == stored);
    return z;
  };
  SECTION("killed before the commit: the record is absent, a resend appends it once") {
    const v1::SignedZ z2 = submit_and_die("ledger-before-commit", 1);

    sink.Start();
    auto a2 = AskLedger(client, "store-1", SubmitOf(z2, 1, ++id));
    REQUIRE(a2);
    CHECK_FALSE(a2->accepted().duplicate());
    CHECK(CheckAccepted(*a2, z2, ledger_key).leaf_index() == 1);
    auto again = AskLedger(client, "store-1", SubmitOf(z2, 2, ++id));
    REQUIRE(again);
    CHECK(again->accepted().duplicate());
    CHECK(CheckAccepted(*again, z2, ledger_key).tree_size() == 2);
    CHECK(sink.Stop() == 0);
    CHECK(ledger::VerifyLedgerDb(sink.db_path())->records() == 2);
  }
  // Killed after a commit: the Z is stored (not a leaf yet: the restarted
  // sink integrates it before it listens) or already a leaf whose answer was
  // lost; either way the resend is a duplicate of leaf 1.
  struct Kill {
    const char* point;
    uint64_t leaves, stored;
  };
  for (const Kill& k : {Kill{"ledger-after-commit", 1, 1}, Kill{"sequencer-before-commit", 1, 1},
                        Kill{"sequencer-after-commit", 2, 0}}) {
    DYNAMIC_SECTION("killed at " << k.point << ": the resend is a duplicate of leaf 1") {
      const v1::SignedZ z2 = submit_and_die(k.point, k.leaves, k.stored);

      sink.Start();
      auto a2 = AskLedger(client, "store-1", SubmitOf(z2, 1, ++id));
      REQUIRE(a2);
      CHECK(a2->accepted().duplicate());
      const v1::LedgerReceipt r = CheckAccepted(*a2, z2, ledger_key);
      CHECK(r.leaf_index() == 1);
      CHECK(r.tree_size() == 2);
      REQUIRE(a2->accepted().has_consistency());
      CHECK(a2->accepted().consistency().from_size() == 1);
      CHECK(sink.Stop() == 0);
    }
  }

  const Ran verify = RunTool(dir, "storectl", {"verify", "ledger", "--db", sink.db_path()});
  INFO(verify.out << verify.err);
  CHECK(verify.code == 0);
  CHECK(verify.out.find("records 2, stores 1, tree heads 2") != std::string::npos);
  CHECK(verify.out.find("ledger OK") != std::string::npos);
}

TEST_CASE("storectl verify ledger and ledger-sink refuse what they cannot use", "[ledger]") {
  const std::string dir = MakeTempDir("sn-ledger-cli-");

  SECTION("a broken config: exit 2, one line naming the key") {
    std::ofstream(dir + "/bad.toml") << "[ledger]\nid = \"x\"\nkey_file = \"" << dir
                                     << "/k\"\n[broker]\nuri = \"tcp://127.0.0.1:1\"\n"
                                     << "[data]\ndir = \"" << dir << "/d\"\n";
    const Ran r = RunTool(dir, "ledger-sink", {"--config", dir + "/bad.toml"});
    CHECK(r.code == 2);
    CHECK(Lines(r.err).size() == 1);
    CHECK(r.err.find("broker.uri") != std::string::npos);

    std::ofstream(dir + "/typo.toml") << "[ledger]\nid = \"x\"\nkey_fil = \"k\"\n";
    const Ran t = RunTool(dir, "ledger-sink", {"--config", dir + "/typo.toml"});
    CHECK(t.code == 2);
    CHECK(Lines(t.err).size() == 1);
  }
  SECTION("the shipped config has no unknown key: only its TLS files are missing here") {
    const Ran r =
        RunTool(dir, "ledger-sink",
                {"--config", std::string(SN_SOURCE_DIR) + "/firmware-configs/ledger-sink.toml"});
    CHECK(r.code == 2);
    CHECK(r.err.find("key 'broker.ca_file': cannot open /etc/storenode/tls/ca.crt") !=
          std::string::npos);
  }
  SECTION("a missing or foreign file: exit 2; a tampered ledger: exit 1") {
    const Ran missing = RunTool(dir, "storectl", {"verify", "ledger", "--db", dir + "/none.db"});
    CHECK(missing.code == 2);
    std::ofstream(dir + "/junk.db") << "not sqlite";
    CHECK(RunTool(dir, "storectl", {"verify", "ledger", "--db", dir + "/junk.db"}).code == 2);

    const crypto::SigningKey key = crypto::SigningKey::Generate();
    FakeFog fog("store-1");
    {
      auto ledger = OpenLedger(dir + "/l.db", key);
      for (int i = 0; i < 3; ++i) {
        const v1::SignedZ z = fog.Next();
        CheckAccepted(ledger->Handle("store-1", SubmitOf(z)), z, key.public_key());
      }
    }
    const Ran ok = RunTool(dir, "storectl", {"verify", "ledger", "--db", dir + "/l.db", "--json"});
    CHECK(ok.code == 0);
    CHECK(ok.out.find("\"records\": \"3\"") != std::string::npos);

    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((dir + "/l.db").c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "DELETE FROM tree_heads WHERE tree_size = 2", nullptr, nullptr,
                         nullptr) == SQLITE_OK);
    sqlite3_close(db);
    const Ran bad = RunTool(dir, "storectl", {"verify", "ledger", "--db", dir + "/l.db"});
    CHECK(bad.code == 1);
    CHECK(bad.err.find("tree head of size 2") != std::string::npos);
  }
}

TEST_CASE("a failed ledger append makes the ledger's failure sticky and answers unavailable",
          "[ledger][fault]") {
  const std::string dir = MakeTempDir("sn-ledger-fault-");
  const crypto::SigningKey key = crypto::SigningKey::Generate();
  FakeFog fog("store-1");
  const v1::SignedZ z1 = fog.Next(100), z2 = fog.Next(200);
  FaultVfs::Get().Reset();
  {
    ledger::LedgerOptions o;
    o.sqlite_vfs = FaultVfs::kName;
    auto ledger = OpenLedger(dir + "/ledger.db", key, o);
    CHECK(
        CheckAccepted(ledger->Handle("store-1", SubmitOf(z1)), z1, key.public_key()).leaf_index() ==
        0);
    // The disk fails the commit of Z 2's record: nothing is answered as
    // stored, and from then on every request is "unavailable", even once
    // the disk is fine: memory may no longer match the file.
    FaultVfs::Get().FailNthSync(1);
    v1::LedgerAnswer failed = ledger->Handle("store-1", SubmitOf(z2));
    REQUIRE(failed.has_rejected());
    CHECK(failed.rejected().code() == ledger::kUnavailable);
    CHECK_FALSE(ledger->failed().ok());
    FaultVfs::Get().Reset();
    for (const v1::LedgerRequest& again : {SubmitOf(z2), SubmitOf(z1)}) {
      v1::LedgerAnswer a = ledger->Handle("store-1", again);
      REQUIRE(a.has_rejected());
      CHECK(a.rejected().code() == ledger::kUnavailable);
      CHECK_THAT(a.rejected().reason(),
                 Catch::StartsWith("the ledger stopped after a write failed"));
    }
  }
  // Reopened (the daemon exits and is restarted): Z 2 was not stored, and
  // is appended now as leaf 1.
  auto ledger = OpenLedger(dir + "/ledger.db", key);
  CHECK(ledger->tree_size() == 1);
  const v1::LedgerReceipt r2 =
      CheckAccepted(ledger->Handle("store-1", SubmitOf(z2)), z2, key.public_key());
  CHECK(r2.leaf_index() == 1);
  CHECK(r2.tree_size() == 2);
  auto audit = ledger::VerifyLedgerDb(dir + "/ledger.db");
  INFO(audit.status().ToString());
  CHECK(audit.ok());
}

TEST_CASE("the ledger answers a store's history page by page, its records as submitted",
          "[ledger]") {
  const std::string dir = MakeTempDir("sn-ledger-history-");
  const crypto::SigningKey key = crypto::SigningKey::Generate();
  auto ledger = OpenLedger(dir + "/ledger.db", key);
  FakeFog a("store-1"), b("store-2");
  std::vector<v1::SignedZ> mine;
  for (int i = 0; i < ledger::kHistoryPage + 6; ++i) {
    mine.push_back(a.Next(i));
    REQUIRE(ledger->Handle("store-1", SubmitOf(mine.back())).has_accepted());
    REQUIRE(ledger->Handle("store-2", SubmitOf(b.Next(i))).has_accepted());
  }
  auto ask = [&](const std::string& store, uint64_t from) {
    v1::LedgerRequest r;
    r.set_request_id(7);
    r.mutable_history()->set_from_z_number(from);
    v1::LedgerAnswer answer = ledger->Handle(store, r);
    REQUIRE(answer.has_history());
    CHECK(answer.request_id() == 7);
    CHECK(answer.z_number() == from);
    return answer.history();
  };
  v1::LedgerAnswer::History first = ask("store-1", 1);
  REQUIRE(first.records_size() == ledger::kHistoryPage);
  CHECK(first.more());
  v1::LedgerAnswer::History rest = ask("store-1", ledger::kHistoryPage + 1);
  REQUIRE(rest.records_size() == 6);
  CHECK_FALSE(rest.more());
  for (int i = 0; i < ledger::kHistoryPage + 6; ++i) {
    const v1::SignedZ& got =
        i < ledger::kHistoryPage ? first.records(i) : rest.records(i - ledger::kHistoryPage);
    CHECK(got.SerializeAsString() == mine[i].SerializeAsString());
  }
  CHECK(ask("store-1", ledger::kHistoryPage + 7).records_size() == 0);
  CHECK(ask("store-3", 1).records_size() == 0);  // a store the ledger never saw
}
