// Bad input on the sync topics: what the fog quarantines, ignores or asks
// again for, and that the honest data stays intact.
#include <catch2/catch.hpp>
#include <thread>

#include "storenode/common/journal_format.h"
#include "storenode/common/topics.h"
#include "storenode/schemas/fog.pb.h"
#include "storenode/schemas/sync.pb.h"
#include "support/client.h"
#include "support/store.h"

using namespace storenode;
using namespace storenode::testing;

namespace {

std::string Batch(const std::vector<v1::JournalEvent>& events, size_t from, size_t to) {
  v1::JournalBatch b;
  b.set_schema_version(kSchemaVersion);
  for (size_t i = from; i < to && i < events.size(); ++i) *b.add_events() = events[i];
  return b.SerializeAsString();
}

// Till 1 (index 0) records without syncing; the test publishes by hand.
struct Rig {
  Store store{2};
  std::unique_ptr<TestClient> client;
  std::vector<v1::JournalEvent> events;  // till-1's journal

  explicit Rig(uint64_t sales = 30) {
    REQUIRE(store.fog->Start().ok());
    store.OpenTill(0, /*sync=*/false);
    store.OpenTill(1);
    store.Sell(0, sales);
    store.Sell(1, 20);
    client = std::make_unique<TestClient>(
        store.broker.uri(), std::vector<std::string>{topics::Ack("store-1", "till-1")});
    events = store.tills[0].journal->ReadEvents(1, 100000).value();
  }
  std::string Topic(const std::string& device = "till-1") {
    return topics::Journal("store-1", device);
  }
  bool Acked(uint64_t seq) {
    return WaitFor([&] { return store.FogAcked("till-1") == seq; }, std::chrono::seconds(10));
  }
  void SyncTill1() {
    store.tills[0].sync = std::move(
        edge::SyncEngine::Start(store.tills[0].journal.get(), store.SyncOptionsFor()).value());
    REQUIRE(store.WaitSynced());
    std::vector<std::string> paths;
    for (auto& t : store.tills) paths.push_back(t.journal->options().journal_path);
    RequireFogMatchesJournals(store.fog->db_path(), paths);
  }
};

}  // namespace

TEST_CASE("garbage bytes on a journal topic are quarantined", "[sync][reject]") {
  Rig rig;
  rig.client->Publish(rig.Topic(), std::string("\x00\xff\x13garbage", 10));
  REQUIRE(WaitFor([&] { return rig.store.FogQuarantined("does not parse") == 1; },
                  std::chrono::seconds(10)));
  rig.SyncTill1();
  REQUIRE(rig.store.FogQuarantined() == 1);
  REQUIRE_THAT(rig.store.fog->Log(), Catch::Contains("payload does not parse as a JournalBatch"));
}

TEST_CASE("a replayed old batch changes nothing, a doctored one is quarantined", "[sync][reject]") {
  Rig rig;
  rig.client->Publish(rig.Topic(), Batch(rig.events, 0, 20));
  REQUIRE(rig.Acked(20));
  rig.client->Publish(rig.Topic(), Batch(rig.events, 5, 15));  // a replay
  // A doctored copy of seq 10: rehashed and resigned with the wrong key.
  v1::JournalEvent forged = rig.events[9];
  v1::EventBody body;
  REQUIRE(body.ParseFromString(forged.body()));
  v1::EventHeader header;
  REQUIRE(header.ParseFromString(forged.header()));
  header.set_wall_time_us(header.wall_time_us() + 1);
  forged = SealEvent(header, body, crypto::HashFromBytes(forged.prev_hash()).value(),
                     crypto::SigningKey::Generate());
  v1::JournalBatch b;
  b.set_schema_version(1);
  *b.add_events() = forged;
  rig.client->Publish(rig.Topic(), b.SerializeAsString());
  REQUIRE(WaitFor([&] { return rig.store.FogQuarantined("conflicts with the stored event") == 1; },
                  std::chrono::seconds(10)));
  REQUIRE(rig.store.FogEventCount("till-1") == 20);
  rig.SyncTill1();
  REQUIRE(rig.store.FogQuarantined() == 1);
}

TEST_CASE("a forged event with the right format but the wrong key is quarantined",
          "[sync][reject]") {
  Rig rig;
  rig.client->Publish(rig.Topic(), Batch(rig.events, 0, 10));
  REQUIRE(rig.Acked(10));
  // The next event, correctly chained to seq 10, signed by someone else.
  v1::EventHeader header;
  REQUIRE(header.ParseFromString(rig.events[10].header()));
  v1::EventBody body;
  REQUIRE(body.ParseFromString(rig.events[10].body()));
  body.mutable_sale()->mutable_tenders(0)->set_reference("forged");
  v1::JournalEvent forged =
      SealEvent(header, body, crypto::HashFromBytes(rig.events[9].hash()).value(),
                crypto::SigningKey::Generate());
  v1::JournalBatch b;
  b.set_schema_version(1);
  *b.add_events() = forged;
  rig.client->Publish(rig.Topic(), b.SerializeAsString());
  REQUIRE(WaitFor([&] { return rig.store.FogQuarantined("seq 11: bad signature") == 1; },
                  std::chrono::seconds(10)));
  REQUIRE(rig.store.FogAcked("till-1") == 10);
  rig.SyncTill1();
  REQUIRE(rig.store.FogQuarantined() == 1);
}

TEST_CASE("a batch on another till's topic is quarantined", "[sync][reject]") {
  Rig rig;
  auto till2 = rig.store.tills[1].journal->ReadEvents(1, 10).value();
  rig.client->Publish(rig.Topic("till-1"), Batch(till2, 0, 10));
  REQUIRE(WaitFor([&] { return rig.store.FogQuarantined("topic names device 'till-1'") == 1; },
                  std::chrono::seconds(10)));
  rig.SyncTill1();
  REQUIRE(rig.store.FogQuarantined() == 1);
}

TEST_CASE("an event from a newer schema version is quarantined", "[sync][reject]") {
  Rig rig;
  v1::JournalBatch b;
  b.set_schema_version(kSchemaVersion + 1);
  *b.add_events() = rig.events[0];
  rig.client->Publish(rig.Topic(), b.SerializeAsString());
  REQUIRE(WaitFor([&] { return rig.store.FogQuarantined("newer than this fog") == 1; },
                  std::chrono::seconds(10)));
  rig.SyncTill1();
}

TEST_CASE("a gap is held briefly, filled, or asked for again", "[sync][reject]") {
  Rig rig(60);
  std::string ack_topic = topics::Ack("store-1", "till-1");
  // Filled in time: 1..10, then 21..30, then 11..20 -> everything to 30.
  rig.client->Publish(rig.Topic(), Batch(rig.events, 0, 10));
  rig.client->Publish(rig.Topic(), Batch(rig.events, 20, 30));
  rig.client->Publish(rig.Topic(), Batch(rig.events, 10, 20));
  REQUIRE(rig.Acked(30));
  // Not filled: 41..50 waits for the hold time, then the fog asks for 31 on.
  rig.client->Publish(rig.Topic(), Batch(rig.events, 40, 50));
  REQUIRE(WaitFor(
      [&] {
        for (const auto& m : rig.client->Received(ack_topic)) {
          v1::SyncAck ack;
          if (ack.ParseFromString(m.payload) && ack.resend() && ack.acked_seq() == 30) return true;
        }
        return false;
      },
      std::chrono::seconds(10)));
  REQUIRE(rig.store.FogAcked("till-1") == 30);
  REQUIRE(rig.store.FogQuarantined() == 0);
  rig.SyncTill1();
}

TEST_CASE("a request whose reply topic is a till's command topic is refused", "[sync][reject]") {
  Rig rig;
  TestClient spy(rig.store.broker.uri(),
                 {topics::Cmd("store-1", "till-2"), "sn/v1/store-1/reply/#"});
  const std::string answers = topics::Reply("store-1", "spy", "1");
  v1::FogRequest request;
  request.mutable_status();
  mqtt::Message m;
  m.topic = topics::FogRequest("store-1", "spy");
  m.payload = request.SerializeAsString();
  m.response_topic = topics::Cmd("store-1", "till-2");
  m.correlation_data = "1";
  spy.Publish(m);
  // The same request with a proper reply topic is answered, so the refused
  // one had its chance first.
  m.response_topic = answers;
  m.correlation_data = "2";
  spy.Publish(m);
  REQUIRE(WaitFor([&] { return !spy.Received(answers).empty(); }, std::chrono::seconds(10)));
  CHECK(spy.Received(topics::Cmd("store-1", "till-2")).empty());
  CHECK_THAT(rig.store.fog->Log(), Catch::Contains("is not under sn/v1/store-1/reply/"));
}
