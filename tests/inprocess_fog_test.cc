// A real Fog, real till journals and SyncEngines and real SQLite files, all
// in this process: the MQTT broker is tests/support/memory_broker.h and the
// time is a ManualClock shared by the fog and the tills (issue 13, done-when
// 3). No mosquitto, no fogd, no sleeps that stand for time passing: the
// business day moves because the clock does.
//
// Each test asserts figures recomputed independently, from the journal
// files (tests/support/store.h, FromJournals) or from the events the test
// published, against what the fog stored, acked and closed.
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "sim/sim.h"
#include "storenode/common/clock.h"
#include "storenode/common/crypto.h"
#include "storenode/common/journal_format.h"
#include "storenode/common/sqlite.h"
#include "storenode/common/topics.h"
#include "storenode/common/totals.h"
#include "storenode/edge.h"
#include "storenode/fog/client.h"
#include "storenode/fog/fog.h"
#include "storenode/schemas/fog.pb.h"
#include "storenode/schemas/sync.pb.h"
#include "support/client.h"
#include "support/fog.h"
#include "support/harness.h"
#include "support/memory_broker.h"
#include "support/store.h"
#include "support/till.h"

using namespace storenode;
using namespace storenode::testing;
using namespace std::chrono_literals;

namespace {

constexpr char kStore[] = "store-1";
constexpr auto kWait = 10s;  // for asynchronous delivery only; no test waits for time to pass

// Asks the fog as `identity` over fog/req/{identity} on the memory broker,
// with the client storectl uses (fog/client.h); REQUIREs an answer.
struct Asker {
  v1::CloseDownResponse CloseDown(const std::string& day, bool force = false) const {
    v1::FogRequest req;
    req.mutable_closedown()->set_business_day(day);
    req.mutable_closedown()->set_force(force);
    auto r = AskFog(
        {.store_id = kStore, .identity = identity, .timeout = kWait, .connect = broker.Connector()},
        req);
    REQUIRE(r.ok());
    INFO(r->error());
    REQUIRE(r->ok());
    return r->closedown();
  }
  MemoryBroker& broker;
  std::string identity;
};

int64_t At(const std::string& day, int hour, int minute = 0) {
  return DayStartMicros(day) + (int64_t{hour} * 60 + minute) * 60'000'000;
}

// A Fog on the memory broker and the manual clock, fog.db in dir/fog.
struct InProcessFog {
  InProcessFog(const std::string& dir, MemoryBroker& broker, const Clock& clock,
               std::vector<std::string> expected_tills) {
    config.store_id = kStore;
    config.store = SimStoreTerms();
    config.broker = {.uri = "mem://store-broker", .client_id = "storenode-fog", .insecure = true};
    config.data_dir = dir + "/fog";
    config.expected_tills = std::move(expected_tills);
    fog::Env env;
    env.clock = &clock;
    env.store_broker = broker.Connector();
    env.ledger_broker = broker.Connector();  // no [ledger] uri: never used
    auto opened = fog::Fog::Open(config, env);
    INFO(opened.status().ToString());
    REQUIRE(opened.ok());
    fog = std::move(*opened);
    REQUIRE(fog->Start().ok());
  }
  std::string db_path() const { return config.data_dir + "/fog.db"; }
  fog::Config config;
  std::unique_ptr<fog::Fog> fog;
};

// fog.db, read-only: its quarantine rows as (device, reason), in order.
std::vector<std::pair<std::string, std::string>> Quarantine(const std::string& db_path) {
  sql::OpenOptions ro;
  ro.read_only = true;
  auto db = sql::Db::Open(db_path, ro).value();
  auto stmt = db->Prepare("SELECT device_id, reason FROM quarantine ORDER BY rowid").value();
  std::vector<std::pair<std::string, std::string>> out;
  while (stmt.Step().value()) out.emplace_back(stmt.Text(0), stmt.Text(1));
  return out;
}

std::string Batch(const std::vector<v1::JournalEvent>& events, size_t from, size_t to) {
  v1::JournalBatch b;
  b.set_schema_version(kSchemaVersion);
  for (size_t i = from; i < to && i < events.size(); ++i) *b.add_events() = events[i];
  return b.SerializeAsString();
}

// `ev` with its time changed and resealed with a key that is not the till's:
// correctly chained and hashed, wrongly signed.
v1::JournalEvent Forged(const v1::JournalEvent& ev) {
  v1::EventHeader header;
  REQUIRE(header.ParseFromString(ev.header()));
  header.set_wall_time_us(header.wall_time_us() + 1);
  v1::EventBody body;
  REQUIRE(body.ParseFromString(ev.body()));
  return SealEvent(header, body, crypto::HashFromBytes(ev.prev_hash()).value(),
                   crypto::SigningKey::Generate());
}

std::vector<v1::SyncAck> Acks(const TestClient& o, const std::string& device) {
  std::vector<v1::SyncAck> out;
  for (const mqtt::Message& m : o.Received(topics::Ack(kStore, device))) {
    REQUIRE(out.emplace_back().ParseFromString(m.payload));
  }
  return out;
}

// A till: its journal on the manual clock and, once started, its engine on
// the memory broker (client id "sn-store-1-{device}").
struct Till {
  Till(const std::string& dir, int index, const Clock& clock) {
    device = sim::SimDeviceId(index);
    edge::Options o = sim::SimTillOptions(dir, kStore, device);
    o.clock = &clock;
    auto opened = edge::Journal::Open(o);
    INFO(opened.status().ToString());
    REQUIRE(opened.ok());
    journal = std::move(*opened);
    sim = std::make_unique<sim::TillSim>(journal.get(), 7, index, sim::Mix::WithoutTenderExtras());
  }
  ~Till() {
    sync.reset();
    sim.reset();
  }
  void StartSync(MemoryBroker& broker) {
    edge::SyncOptions o;
    o.broker = {.uri = "mem://store-broker", .insecure = true};
    o.connect = broker.Connector();
    o.ack_timeout_ms = 1500;
    o.status_interval_ms = 500;
    auto engine = edge::SyncEngine::Start(journal.get(), o);
    INFO(engine.status().ToString());
    REQUIRE(engine.ok());
    sync = std::move(*engine);
  }
  void Sell(uint64_t sales) {
    Status s = sim->RunSales(sales);
    INFO(s.ToString());
    REQUIRE(s.ok());
  }
  // The fog acked the whole journal.
  bool Synced() const { return sync && sync->state().acked_seq == journal->head_seq(); }
  std::string client_id() const { return std::string("sn-") + kStore + "-" + device; }
  std::string path() const { return journal->options().journal_path; }

  std::string device;
  std::unique_ptr<edge::Journal> journal;
  std::unique_ptr<sim::TillSim> sim;
  std::unique_ptr<edge::SyncEngine> sync;
};

}  // namespace

TEST_CASE(
    "in process: batches out of order, twice, tampered and foreign are stored once or quarantined",
    "[inprocess][sync][fog]") {
  const std::string dir = MakeTempDir("inproc-ingest");
  ManualClock clock(At("2026-03-10", 9));
  MemoryBroker broker;
  InProcessFog f(dir, broker, clock, {"till-1"});
  Till till(dir, 1, clock);
  till.Sell(40);
  const auto events = till.journal->ReadEvents(1, 100000).value();
  REQUIRE(events.size() > 31);
  const uint64_t head = events.size();
  TestClient net("memory", {topics::Ack(kStore, "till-1")}, broker.Connector());
  const std::string topic = topics::Journal(kStore, "till-1");
  // One batch at a time, each handled (in its own transaction) before the
  // next is sent, so that the acks below can be counted exactly.
  uint64_t sent = 0;
  auto send = [&](const std::string& on, const std::string& payload) {
    net.Publish(on, payload);
    ++sent;
    REQUIRE(WaitFor([&] { return f.fog->counters().batches == sent; }, kWait));
    REQUIRE(broker.WaitIdle());  // its ack delivered too
  };

  // Out of order: 1..10, then 21..30 (held: 11 is missing), then 11..20.
  send(topic, Batch(events, 0, 10));
  send(topic, Batch(events, 20, 30));
  CHECK(f.fog->counters().events_stored == 10);
  send(topic, Batch(events, 10, 20));
  CHECK(f.fog->counters().events_stored == 30);
  // Twice: each batch again, and one across all three.
  send(topic, Batch(events, 0, 10));
  send(topic, Batch(events, 20, 30));
  send(topic, Batch(events, 5, 25));
  fog::Fog::Counters c = f.fog->counters();
  CHECK(c.events_stored == 30);
  CHECK(c.duplicates == 10 + 10 + 20);
  CHECK(c.quarantined == 0);

  // Tampered: seq 31, chained right, signed by another key.
  send(topic, Batch({Forged(events[30])}, 0, 1));
  // Foreign: a till of another store, on till-2's topic of this one.
  ManualClock other_clock(clock.NowMicros());
  std::filesystem::create_directories(dir + "/other");
  edge::Options other = sim::SimTillOptions(dir + "/other", "store-9", "till-2");
  other.clock = &other_clock;
  auto foreign = edge::Journal::Open(other).value();
  REQUIRE(foreign->RecordSale(SimpleSale("SKU-1", 1, 100)).ok());
  send(topics::Journal(kStore, "till-2"), Batch(foreign->ReadEvents(1, 10).value(), 0, 2));
  c = f.fog->counters();
  CHECK(c.events_stored == 30);
  CHECK(c.quarantined == 2);

  // The rest, honestly: everything is stored once.
  send(topic, Batch(events, 30, events.size()));
  c = f.fog->counters();
  CHECK(c.events_stored == head);
  CHECK(c.duplicates == 40);
  CHECK(c.quarantined == 2);
  RequireFogMatchesJournals(f.db_path(), {till.path()});

  // The reasons, as stored.
  auto q = Quarantine(f.db_path());
  REQUIRE(q.size() == 2);
  CHECK(q[0].first == "till-1");
  CHECK_THAT(q[0].second, Catch::Contains("seq 31: bad signature"));
  CHECK(q[1].first == "till-2");
  CHECK_THAT(q[1].second, Catch::Contains("is from store 'store-9'"));

  // The acks: only watermarks the fog had stored, never backwards, one for
  // every batch of the known till (duplicates included), the last the head.
  REQUIRE(WaitFor(
      [&] {
        return !Acks(net, "till-1").empty() && Acks(net, "till-1").back().acked_seq() == head;
      },
      kWait));
  std::vector<v1::SyncAck> acks = Acks(net, "till-1");
  std::map<uint64_t, int> by_seq;
  uint64_t last = 0;
  for (const v1::SyncAck& a : acks) {
    INFO("ack " << a.ShortDebugString());
    CHECK(a.journal_id() == till.journal->journal_id());
    CHECK(a.acked_seq() >= last);
    last = a.acked_seq();
    ++by_seq[a.acked_seq()];
  }
  CHECK(by_seq.size() == 3);
  CHECK(by_seq[10] == 2);  // 1..10 and the held 21..30
  CHECK(by_seq[30] == 5);  // 11..20, the three duplicates and the refused seq 31
  CHECK(by_seq[head] == 1);
  for (const v1::SyncAck& a : acks) CHECK_FALSE(a.resend());
  CHECK(Acks(net, "till-2").empty());  // nothing of the foreign journal was taken
}

TEST_CASE(
    "in process: the clock crosses midnight, the Z holds day 1 only and a late sale makes a "
    "supplement",
    "[inprocess][closedown][fog]") {
  const std::string dir = MakeTempDir("inproc-closedown");
  const std::string day1 = "2026-03-10", day2 = "2026-03-11";
  ManualClock clock(At(day1, 9));
  MemoryBroker broker;
  InProcessFog f(dir, broker, clock, {"till-1", "till-2"});
  Till t1(dir, 1, clock), t2(dir, 2, clock);
  t1.StartSync(broker);
  t2.StartSync(broker);

  // Day 1.
  t1.Sell(30);
  clock.Advance(3 * 3600 * 1000000LL);
  t2.Sell(20);
  REQUIRE(t1.journal->business_day() == day1);
  REQUIRE(t2.journal->business_day() == day1);
  REQUIRE(WaitFor([&] { return t1.Synced() && t2.Synced(); }, kWait));

  // till-2 loses the broker and sells once more on day 1.
  broker.Partition(t2.client_id());
  REQUIRE(WaitFor([&] { return !t2.sync->state().connected; }, kWait));
  const uint64_t t2_at_cut = t2.journal->head_seq();
  clock.Advance(30 * 60 * 1000000LL);
  auto late = t2.journal->RecordSale(SimpleSale("SKU-LATE", 2, 350));
  REQUIRE(late.ok());
  REQUIRE(late->business_day == day1);
  REQUIRE(late->total == 700);

  // Past midnight: day 2 at till-1, by the clock alone.
  clock.Set(At(day2, 8));
  t1.Sell(15);
  REQUIRE(t1.journal->business_day() == day2);
  REQUIRE(WaitFor([&] { return t1.Synced(); }, kWait));

  // The close-down of day 1 waits for till-2 (till-1 seals on command),
  // then is forced without it.
  const Asker anna{broker, "anna"};
  v1::CloseDownResponse waiting = anna.CloseDown(day1);
  CHECK_FALSE(waiting.closed());
  REQUIRE(WaitFor(
      [&] {
        waiting = anna.CloseDown(day1);
        return waiting.sealed_tills_size() == 1;
      },
      kWait));
  CHECK(waiting.sealed_tills(0) == "till-1");
  REQUIRE(waiting.waiting_for_size() == 1);
  CHECK(waiting.waiting_for(0) == "till-2");
  v1::CloseDownResponse closed = anna.CloseDown(day1, /*force=*/true);
  REQUIRE(closed.closed());
  v1::ZReport z = DecodeZ(closed.z());
  CHECK(z.z_number() == 1);
  CHECK(z.kind() == "Z");
  CHECK(z.forced());
  REQUIRE(z.missing_tills_size() == 1);
  CHECK(z.missing_tills(0) == "till-2");

  // Day 1 only: every day-1 event of till-1 (its seal too), till-2's up to
  // the cut; none of till-1's day-2 sales.
  const std::vector<std::string> paths = {t1.path(), t2.path()};
  Oracle at_close = FromJournals(paths, day1, {}, {{"till-2", t2_at_cut}});
  RequireSameFigures(z.totals(), at_close.totals);
  CHECK(z.merkle_root() == std::string(at_close.root.begin(), at_close.root.end()));
  CHECK(z.leaf_count() == at_close.leaves);
  // Day 2's sales are booked on day 2 at the fog, and nowhere in the Z.
  Oracle day2_sales = FromJournals(paths, day2);
  REQUIRE(day2_sales.totals.gross_sales() > 0);
  v1::DayTotals fog_day2;
  for (const v1::DayTotals& t : fog::ReadDayTotals(f.db_path()).value()) {
    if (t.business_day() == day2) MergeTotals(t, &fog_day2);
  }
  FinishTotals(&fog_day2);
  RequireSameFigures(fog_day2, day2_sales.totals);
  for (const auto& t : z.tills()) {
    if (t.device_id() == "till-1") CHECK(t.sealed());
    if (t.device_id() == "till-2") CHECK_FALSE(t.sealed());
  }

  // till-2 comes back: the retained seal command reaches it, it sends the
  // late sale and its seal of day 1, and the fog issues a supplement with
  // exactly those.
  broker.Heal(t2.client_id());
  v1::CloseDownResponse after;
  REQUIRE(WaitFor(
      [&] {
        after = anna.CloseDown(day1);
        return after.supplements_size() == 1;
      },
      kWait));
  v1::ZReport sup = DecodeZ(after.supplements(0));
  CHECK(sup.kind() == "SUPPLEMENT");
  CHECK(sup.z_number() == 2);
  CHECK(sup.supplements_z_number() == 1);
  CHECK(sup.prev_z_hash() == closed.z().hash());
  Oracle late_part = FromJournals(paths, day1, {{"till-2", t2_at_cut + 1}}, {{"till-1", 0}});
  // Exactly the late sale: till-2 seals day 1 after midnight, so its seal is
  // booked on day 2 (Journal::SealDay), outside both.
  CHECK(late_part.leaves == 1);
  RequireSameFigures(sup.totals(), late_part.totals);
  CHECK(sup.merkle_root() == std::string(late_part.root.begin(), late_part.root.end()));
  CHECK(sup.totals().gross_sales() == 700);
  REQUIRE(sup.tills_size() == 1);
  CHECK(sup.tills(0).device_id() == "till-2");
  CHECK(sup.tills(0).sealed());
  CHECK(sup.tills(0).receipt_count() == 1);
  // The Z never changed; Z plus supplement is the whole of day 1.
  CHECK(after.z().z() == closed.z().z());
  v1::DayTotals sum = z.totals();
  MergeTotals(sup.totals(), &sum);
  FinishTotals(&sum);
  RequireSameFigures(sum, FromJournals(paths, day1).totals);
  CHECK(f.fog->counters().quarantined == 0);
}
