// The fog's forwarding of close-downs to the cloud ledger, end to end: a store
// broker and a cloud broker (two real mosquittos), the real fogd, the real
// ledger-sink or a scripted ledger, and storectl verify on the results.
#include <catch2/catch.hpp>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include "ledger/ledger.h"
#include "storenode/common/ledger.h"
#include "storenode/common/sqlite.h"
#include "storenode/common/totals.h"
#include "storenode/fog/client.h"
#include "support/client.h"
#include "support/ledger_sink.h"
#include "support/run.h"
#include "support/store.h"

using namespace storenode;
using namespace storenode::testing;

namespace {

Ran Storectl(std::vector<std::string> args) {
  static const std::string dir = MakeTempDir("ledger-storectl");
  return RunTool(dir, "storectl", std::move(args));
}

std::vector<std::string> LinesStarting(const std::string& text, const std::string& prefix) {
  std::vector<std::string> out;
  for (std::string& line : Lines(text)) {
    if (line.starts_with(prefix)) out.push_back(std::move(line));
  }
  return out;
}

std::string LedgerConfig(const std::string& uri, const std::string& key_hex = "") {
  std::string c = "\n[ledger]\nuri = \"" + uri +
                  "\"\ninsecure = true\nretry_min_ms = 200\nretry_max_ms = 1000\n";
  if (!key_hex.empty()) c += "public_key = \"" + key_hex + "\"\n";
  return c;
}

v1::LedgerStatus LedgerStatusOf(Store& store) {
  auto s = store.fog->GetStatus();
  REQUIRE(s.ok());
  return s->ledger();
}

bool WaitBacklog(Store& store, uint64_t backlog,
                 std::chrono::seconds timeout = std::chrono::seconds(30)) {
  return WaitFor([&] { return LedgerStatusOf(store).backlog() == backlog; }, timeout);
}

// (store, z_number) of every leaf of a ledger file, in leaf order.
std::vector<std::pair<std::string, int64_t>> LedgerLeaves(const std::string& path) {
  sql::OpenOptions o;
  o.read_only = true;
  auto db = sql::Db::Open(path, o).value();
  auto stmt = db->Prepare("SELECT store_id, z_number FROM leaves ORDER BY idx").value();
  std::vector<std::pair<std::string, int64_t>> out;
  while (stmt.Step().value()) out.emplace_back(stmt.Text(0), stmt.Int(1));
  return out;
}

std::vector<int64_t> FogReceiptLeaves(const std::string& fog_db) {
  sql::OpenOptions o;
  o.read_only = true;
  auto db = sql::Db::Open(fog_db, o).value();
  auto stmt = db->Prepare("SELECT leaf_index FROM ledger_receipts ORDER BY z_number").value();
  std::vector<int64_t> out;
  while (stmt.Step().value()) out.push_back(stmt.Int(0));
  return out;
}

Ran VerifyReceipt(const std::string& data_dir, const std::string& device, uint64_t receipt,
                  std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"verify",   "receipt", "--data",    data_dir,
                                   "--device", device,    "--receipt", std::to_string(receipt)};
  args.insert(args.end(), extra.begin(), extra.end());
  return Storectl(args);
}

// Sells on every till and closes their business day; returns the day.
std::string SellAndClose(Store& store, uint64_t sales) {
  for (size_t i = 0; i < store.tills.size(); ++i) store.Sell(i, sales);
  std::string day = store.tills[0].journal->business_day();
  auto r = store.CloseDay(day);
  REQUIRE(r.closed());
  // The fog's seal command moves the tills on to the next day.
  REQUIRE(WaitFor(
      [&] {
        for (const auto& t : store.tills) {
          if (t.journal->business_day() <= day) return false;
        }
        return true;
      },
      std::chrono::seconds(10)));
  return day;
}

// A store (its broker, fogd and tills) whose fog forwards to a cloud broker
// with ledger-sink behind it; the sink is started by the test.
struct CloudStore {
  Store store;
  Broker cloud;
  std::unique_ptr<LedgerSinkProcess> sink;

  explicit CloudStore(int tills) : store(tills), cloud(store.dir + "/cloud") {
    REQUIRE(cloud.Start().ok());
    sink = std::make_unique<LedgerSinkProcess>(store.dir + "/sink", cloud.uri());
  }
  // Starts the fog with a [ledger] link pinning `ledger_key_hex` (empty:
  // trust the first receipt's key), then opens the tills booking on the day
  // `days_back` days ago, so that several days can be closed today.
  void StartFog(const std::string& ledger_key_hex, int days_back = 1) {
    store.fog->extra_config = LedgerConfig(cloud.uri(), ledger_key_hex);
    REQUIRE(store.fog->Start().ok());
    for (size_t i = 0; i < store.tills.size(); ++i) store.OpenTill(i, true, -days_back * 24 * 60);
  }
  std::string SinkKey() const { return KeyHex(sink->key_path()); }

  // The recovery tests' day: the sink and a fog pinning its key start, two
  // tills sell `sales` each and sync, then till-2 goes offline and sells
  // `late` more, and the day is closed by force without it (Z 1).
  v1::CloseDownResponse SellAndForceCloseWithoutTill2(uint64_t sales, uint64_t late) {
    sink->Start();
    store.fog->extra_config = LedgerConfig(cloud.uri(), SinkKey());
    REQUIRE(store.fog->Start().ok());
    for (size_t i = 0; i < 2; ++i) store.OpenTill(i);
    for (size_t i = 0; i < 2; ++i) store.Sell(i, sales);
    day = store.tills[0].journal->business_day();
    REQUIRE(store.WaitSynced());
    store.tills[1].sync.reset();
    store.Sell(1, late);
    v1::CloseDownResponse closed = store.CloseDay(day, {}, true, std::chrono::seconds(1));
    REQUIRE(closed.closed());
    return closed;
  }
  void BringBackTill2() {
    store.tills[1].sync = std::move(
        edge::SyncEngine::Start(store.tills[1].journal.get(), store.SyncOptionsFor()).value());
  }
  // The disk is lost; fog.key alone comes back (it was kept apart).
  void LoseDiskButKey() {
    REQUIRE(store.fog->Stop() == 0);
    const std::string data = store.fog->data_dir();
    const std::string key = testing::ReadFile(data + "/fog.key");
    std::filesystem::remove_all(data);
    std::filesystem::create_directories(data);
    std::ofstream(data + "/fog.key", std::ios::binary) << key;
    std::filesystem::permissions(data + "/fog.key", std::filesystem::perms::owner_read |
                                                        std::filesystem::perms::owner_write);
  }
  // After the tills resent everything: the day still has its one
  // supplement (what a recovered Z covered was not counted again), and the
  // ledger holds Z 1 and Z 2 once each.
  void RequireNoThirdZ() {
    REQUIRE(store.WaitSynced());
    std::this_thread::sleep_for(std::chrono::seconds(1));
    CHECK(store.CloseDay(day, {}, false, std::chrono::seconds(0)).supplements_size() == 1);
    REQUIRE(WaitBacklog(store, 0));
    sink->Stop();
    CHECK(LedgerLeaves(sink->db_path()) ==
          std::vector<std::pair<std::string, int64_t>>{{"store-1", 1}, {"store-1", 2}});
  }
  std::string day;
};

}  // namespace

TEST_CASE("three days closed while the cloud is away reach the ledger in order, once each",
          "[ledger][integration]") {
  CloudStore s(2);
  s.sink->Start();
  s.StartFog(s.SinkKey(), 2);
  Store& store = s.store;
  Broker& cloud = s.cloud;
  LedgerSinkProcess& sink = *s.sink;

  cloud.Kill();
  std::vector<std::string> days;
  for (int d = 0; d < 3; ++d) days.push_back(SellAndClose(store, 20));
  v1::LedgerStatus away = LedgerStatusOf(store);
  CHECK(away.enabled());
  CHECK_FALSE(away.connected());
  CHECK(away.backlog() == 3);
  CHECK(away.next_z_number() == 1);
  CHECK(away.last_z_number() == 0);
  CHECK(LedgerLeaves(sink.db_path()).empty());

  REQUIRE(cloud.Restart().ok());
  REQUIRE(WaitBacklog(store, 0, std::chrono::seconds(60)));
  v1::LedgerStatus back = LedgerStatusOf(store);
  CHECK(back.connected());
  CHECK(back.last_z_number() == 3);
  CHECK(back.last_leaf_index() == 2);
  CHECK(back.trusted_tree_size() == 3);
  CHECK(back.alerts() == 0);
  using Leaf = std::pair<std::string, int64_t>;
  CHECK(LedgerLeaves(sink.db_path()) ==
        std::vector<Leaf>{{"store-1", 1}, {"store-1", 2}, {"store-1", 3}});
  CHECK(FogReceiptLeaves(store.fog->db_path()) == std::vector<int64_t>{0, 1, 2});

  Ran audit = Storectl({"verify", "ledger", "--db", sink.db_path()});
  INFO(audit.out << audit.err);
  CHECK(audit.code == 0);
  // storectl status shows the link.
  Ran status =
      Storectl({"status", "--store", "store-1", "--broker", store.broker.uri(), "--insecure"});
  INFO(status.out << status.err);
  CHECK_THAT(status.out, Catch::Contains("Ledger: connected to " + cloud.uri() + ", backlog 0."));
  CHECK_THAT(status.out, Catch::Contains("Last receipt: Z 3, leaf 2 of 3"));

  // The first sale of each day, proven from the till to the ledger.
  for (uint64_t receipt : {uint64_t{1}, uint64_t{21}, uint64_t{41}}) {
    Ran v = VerifyReceipt(store.fog->data_dir(), "till-2", receipt);
    INFO(v.out << v.err);
    CHECK(v.code == 0);
    CHECK(LinesStarting(v.out, "[ OK ]").size() == 5);
  }
}

TEST_CASE("ledger-sink SIGKILLed before and after its commit: one entry, backlog completes",
          "[ledger][integration]") {
  CloudStore s(1);
  s.sink->Start("ledger-before-commit");
  s.StartFog("");  // trust the ledger key on first use
  Store& store = s.store;
  Broker& cloud = s.cloud;
  LedgerSinkProcess& sink = *s.sink;
  SellAndClose(store, 10);

  // Killed before its commit: nothing in the log, nothing acknowledged.
  CHECK(sink.Wait() == -SIGKILL);
  CHECK(LedgerLeaves(sink.db_path()).empty());
  CHECK(LedgerStatusOf(store).backlog() == 1);

  // Killed after its commit, before answering: stored (not yet a leaf: the
  // sequencer makes it one), not yet receipted.
  sink.Start("ledger-after-commit");
  CHECK(sink.Wait() == -SIGKILL);
  CHECK(LedgerLeaves(sink.db_path()).empty());
  CHECK(QueryInt(sink.db_path(), "SELECT COUNT(*) FROM pending") == 1);
  CHECK(LedgerStatusOf(store).backlog() == 1);

  // Back for good: the resend gets the same leaf as a duplicate.
  sink.Start();
  REQUIRE(WaitBacklog(store, 0));
  CHECK(LedgerLeaves(sink.db_path()).size() == 1);
  CHECK(FogReceiptLeaves(store.fog->db_path()) == std::vector<int64_t>{0});
  CHECK_THAT(store.fog->Log(), Catch::Contains("Z 1 is in the ledger (already): leaf 0 of 1"));

  // A second day goes through at once.
  SellAndClose(store, 10);
  REQUIRE(WaitBacklog(store, 0));
  CHECK(FogReceiptLeaves(store.fog->db_path()) == std::vector<int64_t>{0, 1});

  // A duplicate publish of Z 1 gets the same leaf and adds nothing.
  TestClient client(cloud.uri(), {ledger::AnswerTopic("store-1")});
  sql::OpenOptions ro;
  ro.read_only = true;
  auto fog_db = sql::Db::Open(store.fog->db_path(), ro).value();
  auto z1 = fog_db->Prepare("SELECT z, hash, signature FROM zreports WHERE z_number = 1").value();
  REQUIRE(z1.Step().value());
  v1::LedgerRequest again;
  again.set_request_id(777);
  again.mutable_submit()->mutable_z()->set_z(z1.Blob(0));
  again.mutable_submit()->mutable_z()->set_hash(z1.Blob(1));
  again.mutable_submit()->mutable_z()->set_signature(z1.Blob(2));
  auto fog_key = crypto::FromHex(ReadFile(store.fog->data_dir() + "/fog.pub").substr(0, 64));
  again.mutable_submit()->mutable_z()->set_fog_public_key(fog_key.value());
  std::optional<v1::LedgerAnswer> answer = AskLedger(client, "store-1", again);
  REQUIRE(answer.has_value());
  REQUIRE(answer->has_accepted());
  CHECK(answer->accepted().duplicate());
  CHECK(answer->accepted().receipt().leaf_index() == 0);
  CHECK(LedgerLeaves(sink.db_path()).size() == 2);

  Ran audit = Storectl({"verify", "ledger", "--db", sink.db_path()});
  INFO(audit.out << audit.err);
  CHECK(audit.code == 0);
  Ran v = VerifyReceipt(store.fog->data_dir(), "till-1", 3);
  INFO(v.out << v.err);
  CHECK(v.code == 0);
}

TEST_CASE("the fog SIGKILLed before committing a receipt resends and gets the same leaf",
          "[ledger][integration]") {
  CloudStore s(1);
  s.sink->Start();
  s.store.fog->crash_at = "ledger-receipt-before-commit";
  s.StartFog(s.SinkKey());
  Store& store = s.store;
  LedgerSinkProcess& sink = *s.sink;
  store.Sell(0, 10);
  const std::string day = store.tills[0].journal->business_day();
  v1::FogRequest close;
  close.mutable_closedown()->set_business_day(day);
  FogClientOptions quick = store.fog->client_options();
  quick.timeout = std::chrono::seconds(2);
  (void)AskFog(quick, close);  // the day closes once the till seals; the fog dies soon after
  REQUIRE(store.fog->Wait() == -SIGKILL);  // verified the receipt, died before keeping it
  CHECK(LedgerLeaves(sink.db_path()).size() == 1);
  CHECK(FogReceiptLeaves(store.fog->db_path()).empty());

  REQUIRE(store.fog->Start().ok());
  REQUIRE(WaitBacklog(store, 0));
  CHECK(LedgerLeaves(sink.db_path()).size() == 1);
  CHECK(FogReceiptLeaves(store.fog->db_path()) == std::vector<int64_t>{0});
  CHECK_THAT(store.fog->Log(), Catch::Contains("Z 1 is in the ledger (already): leaf 0 of 1"));
  Ran v = VerifyReceipt(store.fog->data_dir(), "till-1", 1);
  INFO(v.out << v.err);
  CHECK(v.code == 0);
}

namespace {

// A ledger the test scripts: it sees the fog's submits on the cloud broker
// and answers them through in-process ledger::Ledger instances, whose
// answers it may spoil first.
class ScriptedLedger {
 public:
  explicit ScriptedLedger(const std::string& uri) : client_(uri, {ledger::AllSubmitsTopic()}) {}

  // Waits for the fog's next request of Z submits (a new one, or a resend),
  // or with `history` of its history. A resent request of the other kind
  // is passed over: on a loaded host the fog may ask for its history again
  // before the answer to its first request arrives.
  v1::LedgerRequest NextSubmit(bool history = false) {
    v1::LedgerRequest r;
    REQUIRE(WaitFor(
        [&] {
          auto all = client_.Received(ledger::SubmitTopic("store-1"));
          bool found = false;
          for (; seen_ < all.size(); ++seen_) {
            v1::LedgerRequest next;
            if (next.ParseFromString(all[seen_].payload) && next.has_history() == history) {
              r = std::move(next);
              found = true;
            }
          }
          return found;
        },
        std::chrono::seconds(15)));
    return r;
  }

  void Answer(const v1::LedgerAnswer& a) {
    client_.Publish(ledger::AnswerTopic("store-1"), a.SerializeAsString());
  }

 private:
  TestClient client_;
  size_t seen_ = 0;
};

std::unique_ptr<ledger::Ledger> OpenLedger(const std::string& path, const crypto::SigningKey& key) {
  ledger::LedgerOptions o;
  o.ledger_id = "chain-test";
  auto l = ledger::Ledger::Open(path, key, o);
  INFO(l.status().ToString());
  REQUIRE(l.ok());
  return std::move(*l);
}

}  // namespace

TEST_CASE("the fog refuses ledger answers with a wrong proof, a foreign key or a rewritten history",
          "[ledger][integration]") {
  CloudStore s(1);  // no ledger-sink: the test answers
  Store& store = s.store;
  const crypto::SigningKey ledger_key = crypto::SigningKey::Generate();
  auto honest = OpenLedger(store.dir + "/honest.db", ledger_key);
  ScriptedLedger script(s.cloud.uri());
  s.StartFog(crypto::ToHex(ledger_key.public_key()));
  // A fog.db without a Z first asks for the store's history (none yet), and
  // issues no Z before the answer.
  v1::LedgerRequest history = script.NextSubmit(/*history=*/true);
  REQUIRE(history.has_history());
  CHECK(history.history().from_z_number() == 1);
  CHECK(LedgerStatusOf(store).recovering());
  v1::LedgerAnswer none = honest->Handle("store-1", history);
  REQUIRE(none.has_history());
  CHECK(none.history().records_size() == 0);
  script.Answer(none);
  REQUIRE(WaitFor([&] { return !LedgerStatusOf(store).recovering(); }, std::chrono::seconds(10)));
  SellAndClose(store, 10);

  auto alerts_reach = [&](uint64_t n) {
    return WaitFor([&] { return LedgerStatusOf(store).alerts() >= n; }, std::chrono::seconds(15));
  };
  // A receipt whose inclusion proof is off by one bit.
  v1::LedgerRequest submit = script.NextSubmit();
  REQUIRE(submit.submit().known_tree_size() == 0);
  v1::LedgerAnswer good = honest->Handle("store-1", submit);
  REQUIRE(good.has_accepted());
  REQUIRE(good.accepted().receipt().tree_size() == 1);
  {
    // A tree of one leaf has an empty proof: claim a bigger tree instead.
    v1::LedgerAnswer bad = good;
    bad.mutable_accepted()->mutable_receipt()->set_leaf_index(1);
    script.Answer(bad);
  }
  REQUIRE(alerts_reach(1));
  CHECK_THAT(LedgerStatusOf(store).last_error(), Catch::Contains("inclusion proof"));
  // A valid receipt, but from a ledger with another key.
  auto other = OpenLedger(store.dir + "/other.db", crypto::SigningKey::Generate());
  script.Answer(other->Handle("store-1", script.NextSubmit()));
  REQUIRE(alerts_reach(2));
  CHECK_THAT(LedgerStatusOf(store).last_error(), Catch::Contains("signature does not verify"));
  CHECK(LedgerStatusOf(store).backlog() == 1);
  CHECK(FogReceiptLeaves(store.fog->db_path()).empty());
  // A ledger that cannot reach its storage says so: retried, not an alert.
  {
    v1::LedgerAnswer busy;
    busy.set_z_number(1);
    busy.mutable_rejected()->set_code("unavailable");
    busy.mutable_rejected()->set_reason("disk full");
    script.Answer(busy);
    REQUIRE(WaitFor(
        [&] { return LedgerStatusOf(store).last_error() == "ledger unavailable: disk full"; },
        std::chrono::seconds(15)));
    CHECK(LedgerStatusOf(store).alerts() == 2);
  }
  // The honest answer (a duplicate by now) is taken.
  script.Answer(honest->Handle("store-1", script.NextSubmit()));
  REQUIRE(WaitBacklog(store, 0));
  CHECK(LedgerStatusOf(store).trusted_tree_size() == 1);

  // Day 2 meets a ledger with the same key that rewrote its history: its
  // log starts with another store's Z, so its tree of 1 is not the one the
  // fog trusts.
  SellAndClose(store, 10);
  v1::LedgerRequest submit2 = script.NextSubmit();
  CHECK(submit2.submit().known_tree_size() == 1);
  auto rewritten = OpenLedger(store.dir + "/rewritten.db", ledger_key);
  {
    const crypto::SigningKey foreign_fog = crypto::SigningKey::Generate();
    v1::ZReport z;
    z.set_store_id("store-9");
    z.set_z_number(1);
    z.set_prev_z_hash(std::string(32, '\0'));
    v1::LedgerRequest r;
    v1::SignedZ* s = r.mutable_submit()->mutable_z();
    z.SerializeToString(s->mutable_z());
    crypto::Hash h = crypto::Sha256Of(s->z());
    crypto::Signature sig = foreign_fog.Sign(crypto::Bytes(h.data(), h.size()));
    s->set_hash(h.data(), h.size());
    s->set_signature(sig.data(), sig.size());
    s->set_fog_public_key(foreign_fog.public_key().data(), 32);
    REQUIRE(rewritten->Handle("store-9", r).has_accepted());
    REQUIRE(rewritten->Handle("store-1", submit).has_accepted());  // the fog's Z 1
  }
  script.Answer(rewritten->Handle("store-1", submit2));
  REQUIRE(alerts_reach(3));
  CHECK_THAT(LedgerStatusOf(store).last_error(), Catch::Contains("ledger history changed"));
  CHECK(LedgerStatusOf(store).backlog() == 1);
  CHECK(LedgerStatusOf(store).trusted_tree_size() == 1);

  script.Answer(honest->Handle("store-1", script.NextSubmit()));
  REQUIRE(WaitBacklog(store, 0));
  CHECK(LedgerStatusOf(store).trusted_tree_size() == 2);
  CHECK(FogReceiptLeaves(store.fog->db_path()) == std::vector<int64_t>{0, 1});
  CHECK(LedgerStatusOf(store).last_error().empty());
}

namespace {

// Runs `sql` on a copy of the fog's data dir and returns storectl verify
// receipt's result on the copy.
Ran VerifyTampered(const std::string& data_dir, const std::string& copy,
                   const std::function<void(sql::Db&)>& tamper, uint64_t receipt = 1,
                   std::vector<std::string> extra = {}) {
  std::filesystem::remove_all(copy);
  std::filesystem::copy(data_dir, copy, std::filesystem::copy_options::recursive);
  {
    auto db = sql::Db::Open(copy + "/fog.db").value();
    tamper(*db);
  }
  return VerifyReceipt(copy, "till-1", receipt, extra);
}

// Rewrites one column of one row with `f` applied to its bytes.
void Rewrite(sql::Db& db, const std::string& table, const std::string& column,
             const std::string& where, const std::function<void(std::string&)>& f) {
  auto get = db.Prepare("SELECT " + column + " FROM " + table + " WHERE " + where).value();
  REQUIRE(get.Step().value());
  std::string bytes = get.Blob(0);
  f(bytes);
  auto put = db.Prepare("UPDATE " + table + " SET " + column + " = ? WHERE " + where).value();
  put.BindBlob(1, bytes);
  REQUIRE(put.Run().ok());
  REQUIRE(db.Changes() == 1);
}

// The step storectl verify receipt failed at: "3. z-signature" from "[FAIL] 3. ...".
std::string FailedStep(const Ran& r) {
  auto fails = LinesStarting(r.out, "[FAIL]");
  return fails.size() == 1 ? fails[0].substr(7, fails[0].find(':') - 7) : "none";
}

}  // namespace

TEST_CASE("storectl verify receipt proves a sale and fails at the step that was tampered with",
          "[ledger][integration]") {
  CloudStore s(1);
  s.sink->Start();
  s.StartFog(s.SinkKey());
  Store& store = s.store;
  SellAndClose(store, 10);
  REQUIRE(WaitBacklog(store, 0));
  REQUIRE(store.fog->Stop() == 0);
  const std::string data = store.fog->data_dir();
  const std::string copy = store.dir + "/tampered";

  Ran ok = VerifyReceipt(data, "till-1", 1);
  INFO(ok.out << ok.err);
  REQUIRE(ok.code == 0);
  REQUIRE(LinesStarting(ok.out, "[ OK ]").size() == 5);
  REQUIRE(FailedStep(ok) == "none");

  const std::string sale1 = "device_id = 'till-1' AND kind = 2 AND receipt_no = 1";
  auto flip_last = [](std::string& b) { b.back() ^= 1; };
  struct Case {
    std::string what, step;
    std::function<void(sql::Db&)> tamper;
    std::vector<std::string> extra = {};
  };
  std::vector<Case> cases = {
      {"the sale's own bytes", "1. event",
       [&](sql::Db& db) { Rewrite(db, "events", "body", sale1, flip_last); }},
      {"another sale of the same Z", "2. z-merkle",
       [&](sql::Db& db) {
         Rewrite(db, "events", "body",
                 "device_id = 'till-1' AND kind = 2 AND receipt_no = (SELECT MAX(receipt_no) FROM "
                 "events WHERE device_id = 'till-1' AND kind = 2)",
                 flip_last);
       }},
      {"one total of the Z", "3. z-signature",
       [&](sql::Db& db) {
         Rewrite(db, "zreports", "z", "z_number = 1", [](std::string& b) {
           v1::ZReport z;
           REQUIRE(z.ParseFromString(b));
           z.mutable_totals()->set_net_sales(z.totals().net_sales() + 1);
           b = z.SerializeAsString();
         });
       }},
      {"the Z re-signed by another key", "3. z-signature",
       [&](sql::Db& db) {
         crypto::SigningKey k = crypto::SigningKey::Generate();
         Rewrite(db, "zreports", "signature", "z_number = 1", [&](std::string& b) {
           auto h = db.Prepare("SELECT hash FROM zreports WHERE z_number = 1").value();
           REQUIRE(h.Step().value());
           crypto::Signature s = k.Sign(crypto::AsBytes(h.Blob(0)));
           b.assign(s.begin(), s.end());
         });
       }},
      {"the ledger receipt's leaf index", "4. ledger-inclusion",
       [&](sql::Db& db) {
         Rewrite(db, "ledger_receipts", "receipt", "z_number = 1", [](std::string& b) {
           v1::LedgerReceipt r;
           REQUIRE(r.ParseFromString(b));
           r.set_leaf_index(r.leaf_index() + 1);
           b = r.SerializeAsString();
         });
       }},
      {"the ledger's tree head signature", "5. tree-head",
       [&](sql::Db& db) {
         Rewrite(db, "ledger_receipts", "receipt", "z_number = 1", [&](std::string& b) {
           v1::LedgerReceipt r;
           REQUIRE(r.ParseFromString(b));
           r.mutable_tree_head()->mutable_signature()->back() ^= 1;
           b = r.SerializeAsString();
         });
       }},
      {"an auditor holding another ledger key",
       "5. tree-head",
       [](sql::Db&) {},
       {"--ledger-key", crypto::ToHex(crypto::SigningKey::Generate().public_key())}},
  };
  for (const Case& c : cases) {
    INFO("tampered: " << c.what);
    Ran r = VerifyTampered(data, copy, c.tamper, 1, c.extra);
    INFO(r.out << r.err);
    CHECK(r.code == 1);
    CHECK(FailedStep(r) == c.step);
    const int step = c.step[0] - '0';
    CHECK(LinesStarting(r.out, "[ OK ]").size() == static_cast<size_t>(step - 1));
    CHECK(LinesStarting(r.out, "[SKIP]").size() == static_cast<size_t>(5 - step));
  }
  // No such receipt: the question cannot be asked.
  Ran none = VerifyReceipt(data, "till-1", 999);
  CHECK(none.code == 2);
  CHECK_THAT(none.err, Catch::Contains("no sale with receipt 999 of till-1"));
}

TEST_CASE("the ledger link runs over TLS with client certificates on both sides",
          "[ledger][tls][integration]") {
  Store store(1);
  // The chain's PKI for its cloud broker, made with the store tooling: a CA,
  // the broker's server certificate, a client certificate for the fog and
  // one for ledger-sink.
  const std::string pki = store.dir + "/cloud-pki";
  const int port = FreePort();
  for (std::vector<std::string> args :
       {std::vector<std::string>{"provision", "store", "--store", "cloud", "--out", pki, "--host",
                                 "127.0.0.1", "--port", std::to_string(port), "--bind", "127.0.0.1",
                                 "--data-dir", store.dir + "/cloud-data", "--days", "2"},
        {"provision", "manager", "--name", "ledger-sink", "--ca", pki, "--out",
         store.dir + "/sink-tls"}}) {
    Ran r = Storectl(args);
    INFO(r.out << r.err);
    REQUIRE(r.code == 0);
  }
  const std::string conf = store.dir + "/cloud.conf";
  std::ofstream(conf) << "listener " << port << " 127.0.0.1\ncafile " << pki
                      << "/ca/ca.crt\ncertfile " << pki << "/tls/broker.crt\nkeyfile " << pki
                      << "/tls/broker.key\nrequire_certificate true\nuse_identity_as_username "
                         "true\nallow_anonymous false\npersistence false\n";
  Broker cloud(store.dir + "/cloud");
  Status started = cloud.StartWithConfig(conf, port);
  INFO(started.ToString() << ReadFile(cloud.log_path()));
  REQUIRE(started.ok());

  LedgerSinkProcess sink(store.dir + "/sink", cloud.tls_uri());
  const std::string sink_tls = store.dir + "/sink-tls";
  sink.broker_tls = "ca_file = \"" + sink_tls + "/ca.crt\"\ncert_file = \"" + sink_tls +
                    "/manager.crt\"\nkey_file = \"" + sink_tls + "/manager.key\"\n";
  sink.Start();
  store.fog->extra_config = "\n[ledger]\nuri = \"" + cloud.tls_uri() + "\"\nca_file = \"" + pki +
                            "/ca/ca.crt\"\ncert_file = \"" + pki + "/tls/fog.crt\"\nkey_file = \"" +
                            pki + "/tls/fog.key\"\npublic_key = \"" + KeyHex(sink.key_path()) +
                            "\"\nretry_min_ms = 200\nretry_max_ms = 1000\n";
  REQUIRE(store.fog->Start().ok());
  store.OpenTill(0, true, -24 * 60);
  SellAndClose(store, 10);
  REQUIRE(WaitBacklog(store, 0));
  v1::LedgerStatus l = LedgerStatusOf(store);
  CHECK(l.connected());
  CHECK(l.uri() == cloud.tls_uri());
  CHECK(l.last_z_number() == 1);
  CHECK(LedgerLeaves(sink.db_path()).size() == 1);
  CHECK_THAT(store.fog->Log(), !Catch::Contains("plain TCP (ledger.insecure"));
}

TEST_CASE("a fog rebuilt from an empty disk with only its key recovers its Zs from the ledger",
          "[ledger][integration][hardening-state]") {
  CloudStore s(2);
  Store& store = s.store;
  v1::CloseDownResponse closed = s.SellAndForceCloseWithoutTill2(50, 40);
  const std::string day = s.day;
  const v1::SignedZ z1 = closed.z();
  REQUIRE(DecodeZ(z1).missing_tills_size() == 1);
  REQUIRE(WaitBacklog(store, 0));
  s.LoseDiskButKey();
  REQUIRE(store.fog->Start().ok());
  // Z 1 comes back byte for byte; asked again, the fog answers it.
  v1::CloseDownResponse again;
  REQUIRE(WaitFor(
      [&] {
        again = store.CloseDay(day, {}, false, std::chrono::seconds(0));
        return again.closed();
      },
      std::chrono::seconds(30)));
  REQUIRE(again.z().SerializeAsString() == z1.SerializeAsString());
  CHECK_FALSE(LedgerStatusOf(store).recovering());

  // till-2 returns: its late sales reach a supplement numbered 2 and chained
  // to Z 1; till-1's resent journal, already in Z 1, is counted once.
  s.BringBackTill2();
  v1::CloseDownResponse after = store.WaitSupplements(day, 1, std::chrono::seconds(60));
  REQUIRE(store.WaitSynced());
  REQUIRE(after.supplements_size() == 1);
  v1::ZReport z = DecodeZ(z1);
  v1::ZReport sup = DecodeZ(after.supplements(0));
  CHECK(sup.z_number() == 2);
  CHECK(sup.supplements_z_number() == 1);
  CHECK(sup.prev_z_hash() == z1.hash());
  REQUIRE(sup.tills_size() == 1);
  CHECK(sup.tills(0).device_id() == "till-2");
  v1::DayTotals sum = z.totals();
  MergeTotals(sup.totals(), &sum);
  FinishTotals(&sum);
  const v1::DayTotals want = DayFromJournals(store, day);
  CHECK(sum.net_sales() == want.net_sales());
  CHECK(sum.receipt_count() == want.receipt_count());
  CHECK(sum.event_count() == want.event_count());
  CHECK(sup.grand_totals().net_sales() == z.grand_totals().net_sales() + sup.totals().net_sales());
  CHECK(sup.grand_totals().receipts() ==
        z.grand_totals().receipts() + sup.totals().receipt_count());
  // The ledger holds each Z once, and the fog has both receipts again.
  REQUIRE(WaitBacklog(store, 0));
  s.sink->Stop();
  CHECK(LedgerLeaves(s.sink->db_path()) ==
        std::vector<std::pair<std::string, int64_t>>{{"store-1", 1}, {"store-1", 2}});
  CHECK(FogReceiptLeaves(store.fog->db_path()) == std::vector<int64_t>{0, 1});
  CHECK(store.FogEventCount("till-1") == store.tills[0].journal->head_seq());
}

TEST_CASE("a fog restored from a backup recovers the Zs made after it from the ledger",
          "[ledger][integration][hardening-state]") {
  CloudStore s(2);
  Store& store = s.store;
  v1::CloseDownResponse closed = s.SellAndForceCloseWithoutTill2(50, 40);
  const std::string day = s.day;
  REQUIRE(WaitBacklog(store, 0));
  // The nightly backup, after Z 1.
  const std::string backup = store.dir + "/backup";
  Ran made = Storectl({"backup", "--fog-config", store.fog->config_path(), "--out", backup});
  INFO(made.err);
  REQUIRE(made.code == 0);
  // Then till-2 returns and its late sales make supplement Z 2, which only
  // the ledger keeps once the disk is lost.
  s.BringBackTill2();
  v1::CloseDownResponse after = store.WaitSupplements(day, 1, std::chrono::seconds(60));
  REQUIRE(after.supplements_size() == 1);
  const v1::SignedZ z2 = after.supplements(0);
  REQUIRE(WaitBacklog(store, 0));

  // The restore of docs/DEPLOY.md section 8 into an empty data dir.
  REQUIRE(store.fog->Stop() == 0);
  const std::string data = store.fog->data_dir();
  std::filesystem::remove_all(data);
  std::filesystem::create_directories(data);
  for (const char* f : {"fog.db", "fog.key", "fog.pub"}) {
    std::filesystem::copy_file(backup + "/" + f, data + "/" + f);
  }
  REQUIRE(store.fog->Start().ok());
  v1::CloseDownResponse restored = store.WaitSupplements(day, 1, std::chrono::seconds(30));
  REQUIRE(restored.supplements_size() == 1);
  CHECK(restored.z().SerializeAsString() == closed.z().SerializeAsString());
  CHECK(restored.supplements(0).SerializeAsString() == z2.SerializeAsString());
  CHECK_FALSE(LedgerStatusOf(store).recovering());
  // The tills resend what came after the backup; what Z 2 covered is not
  // counted again: no third Z, and each Z is in the ledger once.
  s.RequireNoThirdZ();
  CHECK(FogReceiptLeaves(store.fog->db_path()) == std::vector<int64_t>{0, 1});
}

TEST_CASE("a recovery from the ledger cut short by SIGKILL goes on at the next start",
          "[ledger][integration][hardening-state][crash]") {
  CloudStore s(2);
  Store& store = s.store;
  v1::CloseDownResponse closed = s.SellAndForceCloseWithoutTill2(30, 20);
  const std::string day = s.day;
  s.BringBackTill2();
  v1::CloseDownResponse two = store.WaitSupplements(day, 1);
  REQUIRE(two.supplements_size() == 1);
  REQUIRE(WaitBacklog(store, 0));

  // The disk is lost but fog.key. The first start dies right after it
  // restored Z 1 of the two.
  s.LoseDiskButKey();
  store.fog->crash_at = "recovery-after-restore";
  REQUIRE(store.fog->Start().ok());
  REQUIRE(store.fog->Wait() == -SIGKILL);
  {
    sql::OpenOptions ro;
    ro.read_only = true;
    auto db = sql::Db::Open(store.fog->db_path(), ro).value();
    REQUIRE(db->QueryInt("SELECT COUNT(*) FROM zreports").value() == 1);
    REQUIRE(
        db->QueryInt("SELECT COUNT(*) FROM counters WHERE name = 'recover_from_ledger'").value() ==
        1);
  }
  // The next start asks for the rest: Z 2 comes back, nothing is issued anew.
  REQUIRE(store.fog->Start().ok());
  v1::CloseDownResponse back = store.WaitSupplements(day, 1, std::chrono::seconds(30));
  REQUIRE(back.supplements_size() == 1);
  CHECK(back.z().SerializeAsString() == closed.z().SerializeAsString());
  CHECK(back.supplements(0).SerializeAsString() == two.supplements(0).SerializeAsString());
  s.RequireNoThirdZ();
}
