// The fog's ingest promise under a failing disk (fog/src/ingest.h): an
// event is acked only after it is durable, a failed COMMIT acks nothing and
// the till's resend is then stored once. The fog runs in this process over
// tests/support/fault_vfs.h, with a real mosquitto and real protobuf bytes;
// SIGKILL keeps the page cache, a power cut does not.
#include <catch2/catch.hpp>
#include <thread>

#include "storenode/common/journal_format.h"
#include "storenode/common/sqlite.h"
#include "storenode/common/topics.h"
#include "storenode/edge.h"
#include "storenode/fog/client.h"
#include "storenode/fog/fog.h"
#include "storenode/schemas/fog.pb.h"
#include "storenode/schemas/sync.pb.h"
#include "support/client.h"
#include "support/fault_vfs.h"
#include "support/fog.h"
#include "support/harness.h"
#include "support/till.h"

using namespace storenode;
using namespace storenode::testing;
using namespace std::chrono_literals;

namespace {

constexpr int64_t kT0 = 1795701600LL * 1000000;  // 2026-11-26T10:00:00Z
constexpr int kSales = 40;                       // seq 2..41; sale i costs 100 + i

// Gross sales of the first `events` events of the till (genesis first).
int64_t GrossOfFirst(uint64_t events) {
  int64_t gross = 0;
  for (uint64_t seq = 2; seq <= events; ++seq) gross += 100 + static_cast<int64_t>(seq - 2);
  return gross;
}

struct FogRig {
  std::string dir = MakeTempDir("fog-fault");
  Broker broker{dir + "/broker"};
  std::vector<v1::JournalEvent> events;  // till-1's journal, seq 1..41
  fog::Config config;
  std::unique_ptr<fog::Fog> fog;
  std::unique_ptr<TestClient> client;

  FogRig() {
    REQUIRE(broker.Start().ok());
    ManualClock clock{kT0};
    auto journal = edge::Journal::Open(TillOptions(dir, "till-1", &clock)).value();
    for (int i = 0; i < kSales; ++i) {
      REQUIRE(journal->RecordSale(SimpleSale("apple", 1, 100 + i)).ok());
    }
    events = journal->ReadEvents(1, 1000).value();
    REQUIRE(events.size() == kSales + 1);
    config.store_id = "store-1";
    config.store = SimStoreTerms();
    config.broker.uri = broker.uri();
    config.broker.insecure = true;
    config.data_dir = dir + "/fog";
    config.expected_tills = {"till-1"};
    client = std::make_unique<TestClient>(
        broker.uri(), std::vector<std::string>{topics::Ack("store-1", "till-1")});
    FaultVfs::Get().Reset();
  }
  ~FogRig() {
    fog.reset();
    FaultVfs::Get().Reset();
  }

  void StartFog(const std::string& vfs) {
    auto opened = fog::Fog::Open(config, fog::Env{.clock = nullptr, .sqlite_vfs = vfs});
    INFO(opened.status().ToString());
    REQUIRE(opened.ok());
    fog = std::move(*opened);
    REQUIRE(fog->Start().ok());
    // Start() returns before the fog has subscribed: its retained status
    // says it is online.
    TestClient watcher(broker.uri(), {topics::FogStatus("store-1")});
    REQUIRE(WaitFor(
        [&] {
          auto got = watcher.Received(topics::FogStatus("store-1"));
          v1::FogStatus status;
          return !got.empty() && status.ParseFromString(got.back().payload) && status.online();
        },
        15s));
  }
  void StopFog() {
    fog->Stop();
    fog.reset();
  }
  // Publishes events with seq [from, to] as one batch, as the till would.
  void Send(uint64_t from, uint64_t to) {
    v1::JournalBatch b;
    b.set_schema_version(kSchemaVersion);
    for (uint64_t seq = from; seq <= to; ++seq) *b.add_events() = events[seq - 1];
    client->Publish(topics::Journal("store-1", "till-1"), b.SerializeAsString());
  }
  uint64_t MaxAcked() {
    uint64_t max = 0;
    for (const auto& m : client->Received(topics::Ack("store-1", "till-1"))) {
      v1::SyncAck ack;
      if (ack.ParseFromString(m.payload)) max = std::max<uint64_t>(max, ack.acked_seq());
    }
    return max;
  }
  bool WaitAcked(uint64_t seq) {
    return WaitFor([&] { return MaxAcked() >= seq; }, 15s);
  }
  // What fog.db holds, read with SQLite's own VFS (the fog stopped).
  struct Held {
    int64_t events = 0;
    int64_t acked = 0;
    int64_t gross = 0;
  };
  Held Read() {
    Held h;
    auto db = sql::Db::Open(config.data_dir + "/fog.db").value();
    h.events = db->QueryInt("SELECT count(*) FROM events WHERE device_id = 'till-1'").value();
    h.acked = db->QueryInt("SELECT acked_seq FROM devices WHERE device_id = 'till-1'").value();
    for (const auto& t : fog::ReadDayTotals(config.data_dir + "/fog.db").value()) {
      h.gross += t.gross_sales();
    }
    return h;
  }
};

}  // namespace

TEST_CASE("a failed ingest COMMIT sends no ack and the resent batch is stored once",
          "[fog][fault]") {
  FogRig rig;
  rig.StartFog(FaultVfs::kName);
  rig.Send(1, 10);
  REQUIRE(rig.WaitAcked(10));
  std::this_thread::sleep_for(300ms);  // the fog is idle
  const int syncs = FaultVfs::Get().syncs();
  FaultVfs::Get().FailNthSync(1);
  rig.Send(11, 20);
  // The commit was tried and failed; no ack beyond 10 follows.
  REQUIRE(WaitFor([&] { return FaultVfs::Get().syncs() > syncs; }, 10s));
  std::this_thread::sleep_for(500ms);
  CHECK(rig.MaxAcked() == 10);
  // The till resends from the fog's watermark, with more: stored once.
  rig.Send(11, 30);
  REQUIRE(rig.WaitAcked(30));
  const fog::Fog::Counters counters = rig.fog->counters();
  CHECK(counters.events_stored == 30);
  CHECK(counters.duplicates == 0);
  CHECK(counters.quarantined == 0);
  rig.StopFog();
  auto held = rig.Read();
  CHECK(held.events == 30);
  CHECK(held.acked == 30);
  CHECK(held.gross == GrossOfFirst(30));
}

TEST_CASE("every ack the fog sent survives a power cut at every sync point of one ingest batch",
          "[fog][fault]") {
  // How many syncs one batch's transaction makes (the WAL commit at least).
  int batch_syncs = 0;
  {
    FogRig rig;
    rig.StartFog(FaultVfs::kName);
    rig.Send(1, 10);
    REQUIRE(rig.WaitAcked(10));
    std::this_thread::sleep_for(300ms);
    const int before = FaultVfs::Get().syncs();
    rig.Send(11, 20);
    REQUIRE(rig.WaitAcked(20));
    std::this_thread::sleep_for(300ms);
    batch_syncs = FaultVfs::Get().syncs() - before;
  }
  REQUIRE(batch_syncs >= 1);
  for (int k = 1; k <= batch_syncs; ++k) {
    for (bool after : {false, true}) {
      DYNAMIC_SECTION("power cut " << (after ? "after" : "at") << " sync " << k << " of "
                                   << batch_syncs) {
        FogRig rig;
        rig.StartFog(FaultVfs::kName);
        rig.Send(1, 10);
        REQUIRE(rig.WaitAcked(10));
        std::this_thread::sleep_for(300ms);
        if (after) {
          FaultVfs::Get().PowerCutAfterSync(k);
        } else {
          FaultVfs::Get().PowerCutAtSync(k);
        }
        rig.Send(11, 20);
        REQUIRE(WaitFor([] { return FaultVfs::Get().power_cut(); }, 10s));
        std::this_thread::sleep_for(500ms);  // any ack that is coming has come
        const uint64_t acked_before_cut = rig.MaxAcked();
        rig.StopFog();
        FaultVfs::Get().Reset();

        // The disk after the reboot: every acked event is there, and the
        // read models count exactly the events stored.
        auto held = rig.Read();
        INFO("acked before the cut " << acked_before_cut << ", stored " << held.events);
        CHECK(held.acked >= static_cast<int64_t>(acked_before_cut));
        CHECK(held.events == held.acked);
        CHECK(held.gross == GrossOfFirst(static_cast<uint64_t>(held.events)));
        // Losing a needed sync loses the batch; a cut after the last one
        // keeps it. (The last sync counted may be the idle signature
        // check's, after the batch was committed and acked: then the cut
        // loses nothing.)
        if (!after && acked_before_cut < 20) CHECK(held.acked == 10);
        if (after && k == batch_syncs) CHECK(held.acked == 20);

        // The fog comes back; the till resends everything: nothing doubled.
        rig.StartFog("");
        rig.Send(1, 20);
        REQUIRE(WaitFor(
            [&] {
              return rig.fog->counters().events_stored + rig.fog->counters().duplicates >= 20;
            },
            15s));
        rig.StopFog();
        auto final_held = rig.Read();
        CHECK(final_held.events == 20);
        CHECK(final_held.acked == 20);
        CHECK(final_held.gross == GrossOfFirst(20));
      }
    }
  }
}

TEST_CASE("a failed close-down COMMIT issues no Z and consumes no Z number", "[fog][fault]") {
  FogRig rig;
  rig.StartFog(FaultVfs::kName);
  rig.Send(1, kSales + 1);
  REQUIRE(rig.WaitAcked(kSales + 1));
  FogClientOptions ask;
  ask.broker_uri = rig.broker.uri();
  ask.store_id = "store-1";
  ask.identity = "anna";
  // The fog is idle: its signature checks are done (they commit too).
  REQUIRE(WaitFor(
      [&] {
        v1::FogRequest status;
        status.mutable_status();
        auto r = AskFog(ask, status);
        return r.ok() && r->ok() && r->status().unverified_signatures() == 0;
      },
      15s));
  std::this_thread::sleep_for(300ms);
  v1::FogRequest close;
  close.mutable_closedown()->set_business_day("2026-11-26");
  close.mutable_closedown()->set_force(true);
  FaultVfs::Get().FailNthSync(1);
  auto failed = AskFog(ask, close);
  REQUIRE(failed.ok());
  CHECK_FALSE(failed->ok());
  CHECK_THAT(failed->error(), Catch::StartsWith("close-down of 2026-11-26 failed: "));
  // The disk is fine again: the same request makes Z 1, not Z 2.
  auto closed = AskFog(ask, close);
  REQUIRE(closed.ok());
  INFO(closed->error());
  REQUIRE(closed->ok());
  REQUIRE(closed->closedown().closed());
  v1::ZReport z;
  REQUIRE(z.ParseFromString(closed->closedown().z().z()));
  CHECK(z.z_number() == 1);
  CHECK(z.totals().gross_sales() == GrossOfFirst(kSales + 1));
  rig.StopFog();
  auto db = sql::Db::Open(rig.config.data_dir + "/fog.db").value();
  CHECK(db->QueryInt("SELECT COUNT(*) FROM zreports").value() == 1);
  CHECK(db->QueryInt("SELECT MAX(z_number) FROM zreports").value() == 1);
  // One request and one Z in the action journal: nothing of the failed try.
  CHECK(db->QueryInt("SELECT COUNT(*) FROM actions WHERE kind = 'z-issued'").value() == 1);
  CHECK(db->QueryInt("SELECT COUNT(*) FROM actions WHERE kind = 'closedown-request'").value() == 1);
}
