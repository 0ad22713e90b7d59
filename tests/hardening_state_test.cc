// The fog's own state (issue 12, item 9) and two Result/file defects
// (item 10): a missing fog.key is refused, every SQLite file carries its
// schema version and adopts the files made before versions existed
// (tests/fixtures/v0, made by the real tools of that time), a file from
// newer software is refused, and a misused Result aborts with its reason.
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "fog/src/store.h"
#include "ledger/ledger.h"
#include "sim/sim.h"
#include "storenode/common/crypto.h"
#include "storenode/common/sqlite.h"
#include "storenode/common/status.h"
#include "storenode/edge.h"
#include "storenode/schemas/closedown.pb.h"
#include "support/fog.h"
#include "support/harness.h"
#include "support/run.h"
#include "support/store.h"
#include "support/till.h"

using namespace storenode;
using storenode::testing::Broker;
using storenode::testing::CopyV0Fixtures;
using storenode::testing::DecodeZ;
using storenode::testing::FogProcess;
using storenode::testing::MakeTempDir;
using storenode::testing::QueryInt;
using storenode::testing::Ran;
using storenode::testing::RunTool;
using storenode::testing::Store;
using storenode::testing::WaitFor;
namespace fs = std::filesystem;

namespace {

// The schema version this fog.db code makes (fog/src/store.h).
const int kFogVersion = static_cast<int>(std::size(fog::kFogMigrations));

void SetUserVersion(const std::string& path, int v) {
  auto db = sql::Db::Open(path, sql::OpenOptions{.create = false});
  REQUIRE(db.ok());
  REQUIRE((*db)->Exec("PRAGMA user_version=" + std::to_string(v)).ok());
}

// A fog.toml that needs no broker to get as far as opening its files.
std::string WriteFogConfig(const std::string& dir, const std::string& data_dir) {
  std::string path = dir + "/fog.toml";
  std::ofstream(path) << "[store]\nid = \"store-1\"\n\n"
                      << sim::SimStoreConfig() << "\n[broker]\nuri = \"tcp://127.0.0.1:9\"\n"
                      << "insecure = true\n\n[data]\ndir = \"" << data_dir << "\"\n";
  return path;
}

}  // namespace

TEST_CASE("fogd refuses to start with a new key when fog.key is missing beside a used fog.db",
          "[hardening-state][integration]") {
  const std::string dir = MakeTempDir("state-key");
  const std::string data = dir + "/data";
  CopyV0Fixtures(data, {"fog.db"});  // a Z and three actions signed by the lost key
  Ran r = RunTool(dir, "storenode-fogd", {"--config", WriteFogConfig(dir, data)});
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains(data + "/fog.key is missing"));
  CHECK_THAT(r.err, Catch::Contains("4 Zs and actions signed with it"));
  CHECK_THAT(r.err, Catch::Contains("restore fog.key from the backup"));
  // Nothing was made: no new key that a second start would silently accept.
  CHECK_FALSE(fs::exists(data + "/fog.key"));
  CHECK_FALSE(fs::exists(data + "/fog.pub"));
  CHECK(QueryInt(data + "/fog.db", "SELECT COUNT(*) FROM zreports") == 1);
}

TEST_CASE("a new store still gets its fog key made on first start",
          "[hardening-state][integration]") {
  const std::string dir = MakeTempDir("state-newkey");
  Broker broker(dir + "/broker");
  REQUIRE(broker.Start().ok());
  fs::create_directories(dir + "/fog");
  FogProcess fog(dir + "/fog", "store-1", broker.uri());
  Status started = fog.Start();
  INFO(started.ToString() << "\n" << fog.Log());
  REQUIRE(started.ok());
  CHECK(fog.Stop() == 0);
  auto key = crypto::SigningKey::Load(fog.data_dir() + "/fog.key");
  REQUIRE(key.ok());
  // fog.pub is written whole (files::WriteAtomic), the hex of the key and a newline.
  CHECK(testing::ReadFile(fog.data_dir() + "/fog.pub") == crypto::ToHex(key->public_key()) + "\n");
  CHECK(QueryInt(fog.db_path(), "PRAGMA user_version") == kFogVersion);
}

TEST_CASE("sql Migrate runs each new step once and in order and refuses a newer file",
          "[hardening-state]") {
  const std::string dir = MakeTempDir("state-migrate");
  const std::string path = dir + "/x.db";
  const sql::Migration v1[] = {{1, "CREATE TABLE IF NOT EXISTS t(a INTEGER NOT NULL);"}};
  const sql::Migration v2[] = {v1[0],
                               {2, "ALTER TABLE t ADD COLUMN b INTEGER NOT NULL DEFAULT 7;"}};
  {
    auto db = sql::Db::Open(path);
    REQUIRE(db.ok());
    auto m = sql::Migrate(**db, "x", v1);
    REQUIRE(m.ok());
    CHECK(*m == 1);
    REQUIRE((*db)->Exec("INSERT INTO t(a) VALUES (1), (2)").ok());
    // Again with the same list: nothing to do.
    CHECK(sql::Migrate(**db, "x", v1).value() == 1);
    // One more entry upgrades the file; the rows stay and get the default.
    CHECK(sql::Migrate(**db, "x", v2).value() == 2);
    CHECK(sql::Migrate(**db, "x", v2).value() == 2);  // ALTER would fail if run twice
    CHECK((*db)->QueryInt("SELECT SUM(a) + SUM(b) FROM t").value() == 17);
    // Older software (a list ending at 1) must not write a version 2 file.
    auto old = sql::Migrate(**db, "x", v1);
    REQUIRE_FALSE(old.ok());
    CHECK(old.status().code() == Code::kFailedPrecondition);
    CHECK(old.status().message() ==
          "x " + path +
              " has schema version 2, newer than this software's 1: run the software that "
              "wrote it, or restore a backup");
    // Steps numbered out of order are a programming error, caught before any write.
    const sql::Migration gap[] = {v1[0], {3, "SELECT 1;"}};
    CHECK_FALSE(sql::Migrate(**db, "x", gap).ok());
    CHECK(sql::SchemaVersion(**db).value() == 2);
  }
}

TEST_CASE("a till journal and its catalog replica made before schema versions are adopted intact",
          "[hardening-state][integration]") {
  const std::string dir = MakeTempDir("state-till");
  CopyV0Fixtures(dir, {"till-1.db", "till-1.db.key", "till-1.db.catalog"});
  const std::string journal_path = dir + "/till-1.db";
  REQUIRE(QueryInt(journal_path, "PRAGMA user_version") == 0);
  {
    // The fixture is dir/till-1.db, the name TillOptions gives it.
    auto j = edge::Journal::Open(storenode::testing::TillOptions(dir, "till-1"));
    INFO(j.status().ToString());
    REQUIRE(j.ok());
    CHECK((*j)->head_seq() == 44);
    edge::VerifyReport v = (*j)->Verify();
    CHECK(v.ok);
    CHECK(v.events_checked == 44);
    // Upgraded to store settings (schema 2): it sells by them from now on.
    auto sale = (*j)->RecordSale(storenode::testing::SimpleSale("SKU-1", 1, 250));
    REQUIRE(sale.ok());
    CHECK(sale->seq == 45);
    CHECK((*j)->settings().version() == 1);
  }
  // Schema 3: measured lines' units; 4: the offline voucher redemptions and
  // the open cashier shift; 5: the promotions of each sold line. The
  // replica's 2: promotions.
  CHECK(QueryInt(journal_path, "PRAGMA user_version") == 5);
  CHECK(QueryInt(journal_path, "SELECT COUNT(*) FROM events") == 45);
  CHECK(QueryInt(journal_path + ".catalog", "PRAGMA user_version") == 2);
  CHECK(QueryInt(journal_path + ".catalog", "SELECT COUNT(*) FROM items") == 20);
  {
    auto replica = edge::CatalogReplica::Open(journal_path + ".catalog");
    REQUIRE(replica.ok());
    CHECK((*replica)->version() == 1);
    CHECK((*replica)->item_count() == 20);
    CHECK((*replica)->ComputeContentHash().value() == (*replica)->content_hash());
  }
  Ran verify = RunTool(dir, "storectl", {"journal", "verify", "--db", journal_path});
  CHECK(verify.code == 0);
  CHECK(verify.out == "ok: 45 events, seq 1..45\n");

  // Newer than this software: refused, and the file is left as it was.
  SetUserVersion(journal_path, 6);
  auto refused = edge::Journal::Open(storenode::testing::TillOptions(dir, "till-1"));
  REQUIRE_FALSE(refused.ok());
  CHECK_THAT(refused.status().message(), Catch::Contains("till journal " + journal_path +
                                                         " has schema version 6, newer "
                                                         "than this software's 5"));
  CHECK(QueryInt(journal_path, "PRAGMA user_version") == 6);
}

TEST_CASE("a ledger made before schema versions is adopted intact and still audits",
          "[hardening-state][integration]") {
  const std::string dir = MakeTempDir("state-ledger");
  CopyV0Fixtures(dir, {"ledger.db", "ledger.key"});
  const std::string path = dir + "/ledger.db";
  auto key = crypto::SigningKey::Load(dir + "/ledger.key");
  REQUIRE(key.ok());
  {
    ledger::LedgerOptions o;
    o.ledger_id = "fixture-ledger";
    o.accept_unknown_stores = true;
    auto l = ledger::Ledger::Open(path, *key, o);
    REQUIRE(l.ok());
    CHECK((*l)->tree_size() == 1);
  }
  CHECK(QueryInt(path, "PRAGMA user_version") == 2);  // the tiles of issue 15
  CHECK(QueryInt(path, "SELECT COUNT(*) FROM leaves") == 1);
  CHECK(QueryInt(path, "SELECT COUNT(*) FROM tree_heads") == 1);
  Ran audit = RunTool(dir, "storectl", {"verify", "ledger", "--db", path});
  CHECK(audit.code == 0);
  CHECK_THAT(audit.out, Catch::Contains("records 1, stores 1, tree heads 1"));
  CHECK_THAT(audit.out, Catch::Contains("ledger OK"));

  SetUserVersion(path, 5);
  ledger::LedgerOptions o;
  o.ledger_id = "fixture-ledger";
  auto refused = ledger::Ledger::Open(path, *key, o);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == Code::kFailedPrecondition);
  CHECK_THAT(refused.status().message(), Catch::Contains("has schema version 5, newer"));
}

TEST_CASE("a fog.db made before schema versions is adopted intact and its receipts still prove",
          "[hardening-state][integration]") {
  const std::string dir = MakeTempDir("state-fog");
  Broker broker(dir + "/broker");
  REQUIRE(broker.Start().ok());
  FogProcess fog(dir + "/fog", "store-1", broker.uri(), {"till-1", "till-2"});
  CopyV0Fixtures(fog.data_dir(), {"fog.db", "fog.key", "fog.pub"});
  REQUIRE(QueryInt(fog.db_path(), "PRAGMA user_version") == 0);
  {
    // A quarantine row as the fog of that time wrote it (no size, no hash).
    auto old = sql::Db::Open(fog.db_path(), sql::OpenOptions{.create = false});
    REQUIRE(old.ok());
    REQUIRE((*old)
                ->Exec("INSERT INTO quarantine(at_us, device_id, topic, reason, payload) "
                       "VALUES(1, 'till-9', 't', 'empty batch', x'0a0b0c')")
                .ok());
  }
  REQUIRE(fog.Start().ok());
  auto status = fog.GetStatus();
  REQUIRE(status.ok());
  CHECK(fog.Stop() == 0);
  const std::string db = fog.db_path();
  CHECK(QueryInt(db, "PRAGMA user_version") == kFogVersion);
  // Version 2 gave the quarantine its size column, filled for old rows, and
  // a hash column that stays NULL for them (their payload is whole).
  CHECK(QueryInt(db,
                 "SELECT COUNT(*) FROM quarantine WHERE payload = x'0a0b0c' AND "
                 "payload_size = 3 AND payload_sha256 IS NULL") == 1);
  CHECK(QueryInt(db, "SELECT COUNT(*) FROM events") == 91);
  // Migration 3 counted them into the counters row.
  CHECK(QueryInt(db, "SELECT value FROM counters WHERE name = 'events_stored'") == 91);
  CHECK(QueryInt(db, "SELECT SUM(acked_seq) FROM devices") == 44 + 47);
  CHECK(QueryInt(db, "SELECT COUNT(*) FROM zreports") == 1);
  CHECK(QueryInt(db, "SELECT COUNT(*) FROM actions") >= 3);
  CHECK(QueryInt(db, "SELECT COUNT(*) FROM ledger_receipts") == 1);
  CHECK(QueryInt(db, "SELECT COUNT(*) FROM catalog_items") == 20);
  // Migration 6 made an index by sku on item_totals and migration 9 dropped
  // it; the table's own key still serves the reports.
  CHECK(QueryInt(db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'item_totals_by_sku'") == 0);
  CHECK(QueryInt(db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'stock_counts_by_sku'") == 1);
  // The five-step proof of a sale, from the till's signature to the ledger's head.
  Ran proof = RunTool(
      dir, "storectl",
      {"verify", "receipt", "--data", fog.data_dir(), "--device", "till-1", "--receipt", "3"});
  CHECK(proof.code == 0);
  CHECK_THAT(proof.out, Catch::Contains("receipt verified from the till's signature to the "
                                        "ledger's tree head"));

  // A fog.db written by newer software: exit 2 before anything runs.
  SetUserVersion(db, kFogVersion + 1);
  Ran refused = RunTool(dir, "storenode-fogd", {"--config", WriteFogConfig(dir, fog.data_dir())});
  CHECK(refused.code == 2);
  CHECK_THAT(
      refused.err,
      Catch::Contains("fog.db " + db + " has schema version " + std::to_string(kFogVersion + 1) +
                      ", newer than this software's " + std::to_string(kFogVersion)));
  CHECK(QueryInt(db, "PRAGMA user_version") == kFogVersion + 1);
}

TEST_CASE("storectl backup of a fog.db of an older schema upgrades the copy, not the live file",
          "[hardening-state][integration]") {
  const std::string dir = MakeTempDir("state-backup-old");
  const std::string data = dir + "/data";
  fs::create_directories(data);
  CopyV0Fixtures(data, {"fog.db", "fog.key", "fog.pub"});
  REQUIRE(QueryInt(data + "/fog.db", "PRAGMA user_version") == 0);
  const std::string out = dir + "/backup";
  Ran backup =
      RunTool(dir, "storectl", {"backup", "--fog-config", WriteFogConfig(dir, data), "--out", out});
  INFO(backup.err);
  REQUIRE(backup.code == 0);
  CHECK_THAT(backup.out, Catch::Contains("fog.db: 91 events, 1 Zs, last Z 1"));
  CHECK(QueryInt(out + "/fog.db", "PRAGMA user_version") == kFogVersion);
  CHECK(QueryInt(out + "/fog.db",
                 "SELECT value FROM counters WHERE name = 'recover_from_ledger'") == 1);
  CHECK(QueryInt(out + "/fog.db", "SELECT value FROM counters WHERE name = 'events_stored'") == 91);
  // The live file is the fog's to upgrade: unchanged.
  CHECK(QueryInt(data + "/fog.db", "PRAGMA user_version") == 0);
}

TEST_CASE("reading the value of a failed Result aborts with the status message",
          "[hardening-state]") {
  int err_pipe[2];
  REQUIRE(pipe(err_pipe) == 0);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // The abort must end the child, not reach Catch's own handler.
    signal(SIGABRT, SIG_DFL);
    dup2(err_pipe[1], STDERR_FILENO);
    close(err_pipe[0]);
    Result<int> r = Status::NotFound("device 'till-9' is not registered");
    int v = *r;  // must not return
    _exit(v == 0 ? 3 : 4);
  }
  close(err_pipe[1]);
  std::string err;
  char buf[512];
  for (ssize_t n; (n = read(err_pipe[0], buf, sizeof buf)) > 0;) err.append(buf, size_t(n));
  close(err_pipe[0]);
  int wstatus = 0;
  REQUIRE(waitpid(pid, &wstatus, 0) == pid);
  REQUIRE(WIFSIGNALED(wstatus));
  CHECK(WTERMSIG(wstatus) == SIGABRT);
  CHECK(err ==
        "storenode: Result::operator* on an error result: not found: device 'till-9' is not "
        "registered\n");
}

namespace {

// The day's net sales and event count summed from the till journal files
// themselves, independently of the fog.
std::pair<int64_t, uint64_t> FromJournalFiles(const Store& store, const std::string& day) {
  int64_t net = 0;
  uint64_t events = 0;
  for (const auto& t : store.tills) {
    auto days = edge::TotalsFromFile(t.journal->options().journal_path);
    REQUIRE(days.ok());
    for (const v1::DayTotals& d : *days) {
      if (d.business_day() != day) continue;
      net += d.net_sales();
      events += d.event_count();
    }
  }
  return {net, events};
}

}  // namespace

TEST_CASE(
    "a backup taken while tills sync restores into an empty data dir and the Z chain continues",
    "[hardening-state][integration]") {
  Store store(2);
  REQUIRE(store.fog->Start().ok());
  for (size_t i = 0; i < 2; ++i) store.OpenTill(i, true, -24 * 60);  // day 1 is yesterday
  for (size_t i = 0; i < 2; ++i) store.Sell(i, 60);
  const std::string day1 = store.tills[0].journal->business_day();
  auto first = store.CloseDay(day1);
  REQUIRE(first.closed());
  const v1::ZReport z1 = DecodeZ(first.z());
  REQUIRE(z1.z_number() == 1);
  REQUIRE(WaitFor(
      [&] {
        return store.tills[0].journal->business_day() > day1 &&
               store.tills[1].journal->business_day() > day1;
      },
      std::chrono::seconds(10)));
  const std::string day2 = store.tills[0].journal->business_day();

  // The tills sell and sync all through the backup. Catch2's assertions
  // are not thread-safe: the seller keeps its first failure for the main
  // thread to check.
  std::atomic<bool> selling{true};
  std::atomic<int> rounds{0};
  Status sold;
  std::thread seller([&] {
    while (selling && sold.ok()) {
      for (size_t i = 0; i < 2 && sold.ok(); ++i) sold = store.tills[i].sim->RunSales(5);
      ++rounds;
    }
  });
  const std::string backup_dir = store.dir + "/backup";
  Ran backup = RunTool(store.dir, "storectl",
                       {"backup", "--fog-config", store.fog->config_path(), "--out", backup_dir});
  selling = false;
  seller.join();
  INFO(sold.ToString());
  REQUIRE(sold.ok());
  INFO(backup.err);
  REQUIRE(backup.code == 0);
  CHECK(rounds > 0);
  CHECK_THAT(backup.out, Catch::Contains("1 Zs, last Z 1"));
  for (const char* f : {"fog.db", "fog.key", "fog.pub", "fog.toml"}) {
    CHECK(fs::exists(backup_dir + "/" + f));
  }
  CHECK((fs::status(backup_dir + "/fog.key").permissions() & fs::perms::others_read) ==
        fs::perms::none);
  // Sales after the backup: the restored fog must get them from the tills.
  for (size_t i = 0; i < 2; ++i) store.Sell(i, 20);
  REQUIRE(store.WaitSynced());

  // The disk is lost; the restore of docs/DEPLOY.md into an empty data dir.
  store.fog->Kill();
  fs::remove_all(store.fog->data_dir());
  fs::create_directories(store.fog->data_dir());
  for (const char* f : {"fog.db", "fog.key", "fog.pub"}) {
    fs::copy_file(backup_dir + "/" + f, store.fog->data_dir() + "/" + f);
  }
  REQUIRE(store.fog->Start().ok());
  INFO(store.fog->Log());
  REQUIRE(store.WaitSynced());
  // Every event once, and each day's totals per till equal the journals'.
  std::vector<std::string> paths;
  for (const auto& t : store.tills) paths.push_back(t.journal->options().journal_path);
  testing::RequireFogMatchesJournals(store.fog->db_path(), paths);
  CHECK(store.FogQuarantined() == 0);

  auto second = store.CloseDay(day2);
  REQUIRE(second.closed());
  const v1::ZReport z2 = DecodeZ(second.z());
  CHECK(z2.z_number() == 2);
  CHECK(z2.prev_z_hash() == first.z().hash());
  auto [net2, events2] = FromJournalFiles(store, day2);
  CHECK(z2.totals().net_sales() == net2);
  CHECK(z2.totals().event_count() == events2);
  CHECK(z2.grand_totals().net_sales() == z1.totals().net_sales() + net2);
  CHECK(QueryInt(store.fog->db_path(), "SELECT COUNT(*) FROM zreports") == 2);
}
