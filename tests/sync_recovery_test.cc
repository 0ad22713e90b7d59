// Recovery: a fog rebuilt from the tills, a replaced till, pruning, the fog's
// will, and config errors.
#include <google/protobuf/util/message_differencer.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "edge/src/sync_access.h"
#include "storenode/common/clock.h"
#include "storenode/common/topics.h"
#include "storenode/common/totals.h"
#include "storenode/fog/fog.h"
#include "storenode/schemas/sync.pb.h"
#include "support/client.h"
#include "support/store.h"
#include "support/till.h"

using namespace storenode;
using namespace storenode::testing;

namespace {

std::vector<std::string> JournalPaths(const Store& s) {
  std::vector<std::string> out;
  for (const auto& t : s.tills) out.push_back(t.journal->options().journal_path);
  return out;
}

}  // namespace

TEST_CASE("a fog whose database was deleted between two days rebuilds identical figures",
          "[sync][integration][recovery]") {
  Store store(2);
  REQUIRE(store.fog->Start().ok());
  for (size_t i = 0; i < 2; ++i) store.OpenTill(i);
  for (size_t i = 0; i < 2; ++i) store.Sell(i, 400);
  std::string today = store.tills[0].journal->business_day();
  for (size_t i = 0; i < 2; ++i) REQUIRE(store.tills[i].journal->SealDay(today, "test").ok());
  for (size_t i = 0; i < 2; ++i) store.Sell(i, 300);  // booked on the next day
  REQUIRE(store.tills[0].journal->business_day() == NextDay(today));
  REQUIRE(store.WaitSynced());
  auto before = fog::ReadDayTotals(store.fog->db_path()).value();
  REQUIRE(before.size() == 4);

  store.fog->Kill();
  std::filesystem::remove_all(store.fog->data_dir());
  REQUIRE(store.fog->Start().ok());
  INFO(store.fog->Log());
  REQUIRE(store.WaitSynced());
  auto after = fog::ReadDayTotals(store.fog->db_path()).value();
  REQUIRE(after.size() == before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    INFO(before[i].ShortDebugString() << "\n" << after[i].ShortDebugString());
    REQUIRE(google::protobuf::util::MessageDifferencer::Equals(before[i], after[i]));
  }
  RequireFogMatchesJournals(store.fog->db_path(), JournalPaths(store));
  REQUIRE(store.FogQuarantined() == 0);
}

TEST_CASE("a replaced till is quarantined until accepted, the old chain's figures stay",
          "[sync][integration][recovery]") {
  Store store(2);
  REQUIRE(store.fog->Start().ok());
  for (size_t i = 0; i < 2; ++i) store.OpenTill(i);
  for (size_t i = 0; i < 2; ++i) store.Sell(i, 200);
  REQUIRE(store.WaitSynced());
  std::string old_path = store.tills[1].journal->options().journal_path;
  auto old_totals = edge::TotalsFromFile(old_path).value();
  std::string old_journal = store.tills[1].journal->journal_id();

  // The till is replaced: its disk is wiped and it starts a new journal.
  store.CloseTill(1);
  for (const char* suffix : {"", "-wal", "-shm", ".key"}) {
    std::filesystem::remove(old_path + suffix);
  }
  store.OpenTill(1);
  REQUIRE(store.tills[1].journal->journal_id() != old_journal);
  store.Sell(1, 150);
  REQUIRE(WaitFor([&] { return store.FogQuarantined("new journal id") == 1; },
                  std::chrono::seconds(15)));
  auto status = store.fog->GetStatus();
  REQUIRE(status.ok());
  bool pending = false;
  for (const auto& t : status->tills()) {
    if (t.device_id() == "till-2") pending = t.state() == "replacement pending";
  }
  REQUIRE(pending);
  REQUIRE(store.FogEventCount("till-2") == old_totals[0].event_count());

  v1::FogRequest accept;
  accept.mutable_device_accept()->set_device_id("till-2");
  auto answer = store.fog->Ask(accept);
  REQUIRE(answer.ok());
  INFO(answer->error());
  REQUIRE(answer->ok());
  REQUIRE(store.WaitSynced());

  // Fog figures for till-2 = old journal + new journal, day by day.
  auto new_totals = edge::TotalsFromFile(store.tills[1].journal->options().journal_path).value();
  REQUIRE(old_totals.size() == 1);
  REQUIRE(new_totals.size() == 1);
  v1::DayTotals want = old_totals[0];
  MergeTotals(new_totals[0], &want);
  FinishTotals(&want);
  for (auto t : fog::ReadDayTotals(store.fog->db_path()).value()) {
    if (t.device_id() != "till-2") continue;
    t.clear_store_id();
    want.clear_store_id();
    INFO(t.ShortDebugString() << "\n" << want.ShortDebugString());
    REQUIRE(google::protobuf::util::MessageDifferencer::Equals(t, want));
  }
  REQUIRE(store.FogEventCount("till-2") ==
          old_totals[0].event_count() + new_totals[0].event_count());
  REQUIRE(store.FogQuarantined() == 1);
}

TEST_CASE("pruning keeps unacked events and an anchor the fog can rebuild from",
          "[sync][integration][recovery]") {
  Store store(1);
  REQUIRE(store.fog->Start().ok());
  store.OpenTill(0);
  store.Sell(0, 300);
  REQUIRE(store.WaitSynced());
  edge::Journal& j = *store.tills[0].journal;
  // Acked up to the head; a retention of 0 days prunes everything acked.
  REQUIRE(WaitFor([&] { return j.acked_seq() == j.head_seq(); }, std::chrono::seconds(5)));
  store.tills[0].sync.reset();  // stop the engine so the test drives the journal alone
  REQUIRE(edge::SyncAccess::SetAckedSeq(j, j.head_seq() - 50).ok());
  uint64_t head = j.head_seq();
  auto pruned = edge::SyncAccess::Prune(j, 0);
  REQUIRE(pruned.ok());
  REQUIRE(*pruned == head - 50 - 1);  // 2..head-50; genesis stays
  REQUIRE(edge::SyncAccess::AnchorSeq(j) == head - 50);
  edge::VerifyReport v = j.Verify();
  INFO(v.reason);
  REQUIRE(v.ok);
  REQUIRE(v.first_seq == head - 49);
  REQUIRE(v.events_checked == 50);  // kept after the anchor (genesis is checked apart)
  store.Sell(0, 20);

  // A new fog rebuilds from genesis + anchor and the kept events.
  store.fog->Kill();
  std::filesystem::remove_all(store.fog->data_dir());
  REQUIRE(store.fog->Start().ok());
  store.tills[0].sync = std::move(edge::SyncEngine::Start(&j, store.SyncOptionsFor()).value());
  INFO(store.fog->Log());
  REQUIRE(store.WaitSynced());
  RequireFogMatchesJournals(store.fog->db_path(), {j.options().journal_path});
  REQUIRE(store.FogEventCount("till-1") == 1 + j.head_seq() - edge::SyncAccess::AnchorSeq(j));
}

TEST_CASE("the fog's retained status says offline when it dies", "[sync][integration]") {
  Store store(1);
  REQUIRE(store.fog->Start().ok());
  std::string topic = topics::FogStatus("store-1");
  auto last_status = [&](TestClient& c) {
    auto got = c.Received(topic);
    v1::FogStatus s;
    if (got.empty() || !s.ParseFromString(got.back().payload)) return -1;
    return s.online() ? 1 : 0;
  };
  {
    TestClient watcher(store.broker.uri(), {topic});
    REQUIRE(WaitFor([&] { return last_status(watcher) == 1; }, std::chrono::seconds(10)));
  }
  store.fog->Kill();
  // The broker notices the dead connection after the keepalive, then
  // publishes the will, retained for whoever comes later.
  REQUIRE(WaitFor(
      [&] {
        TestClient late(store.broker.uri(), {topic});
        return WaitFor([&] { return last_status(late) == 0; }, std::chrono::seconds(2));
      },
      std::chrono::seconds(30)));
}

TEST_CASE("a broken fog config is refused with file, key and reason, exit code 2",
          "[fog][config]") {
  std::string dir = MakeTempDir("fogcfg");
  // The store's terms, so that each case fails on its own key.
  const std::string terms =
      "time_zone = \"UTC\"\ncurrency = \"EUR\"\n[store.tax.A]\nname = \"Standard\"\n"
      "rates = [\"2000-01-01T00:00 20%\"]\n";
  struct Case {
    std::string text;
    const char* message;
  } cases[] = {
      {"[store]\nid = \"s\"\n" + terms +
           "[broker]\nuri = \"tcp://127.0.0.1:1\"\ninsecure = true\n"
           "[data]\ndir = \"/tmp/x\"\ncolour = 3\n",
       "key 'data.colour': unknown key"},
      {"[store]\nid = 7\n" + terms +
           "[broker]\nuri = \"tcp://127.0.0.1:1\"\ninsecure = true\n[data]\n"
           "dir = \"/tmp/x\"\n",
       "key 'store.id': expected a string, got integer"},
      {"[store]\nid = \"s\"\n" + terms + "[data]\ndir = \"/tmp/x\"\n",
       "key 'broker.uri': required key is missing"},
      {"[store]\nid = \"s\"\n" + terms +
           "[broker]\nuri = \"tcp://127.0.0.1:1\"\n[data]\ndir = \"/tmp/x\"\n",
       "plain tcp:// needs broker.insecure = true"},
      {"[store]\nid = \"s\"\n[broker\n", "fog.toml:3"},
      {"[store]\nid = \"s\"\n[data]\ndir = \"/tmp/x\"\n",
       "key 'store.time_zone': required key is missing"},
      {"[store]\nid = \"s\"\ntime_zone = \"Europe/Atlantis\"\ncurrency = \"EUR\"\n"
       "[data]\ndir = \"/tmp/x\"\n",
       "key 'store.time_zone': unknown time zone 'Europe/Atlantis'"},
  };
  for (const Case& c : cases) {
    std::ofstream(dir + "/fog.toml", std::ios::trunc) << c.text;
    auto p =
        Process::Spawn({std::string(SN_BIN_DIR) + "/storenode-fogd", "--config", dir + "/fog.toml"},
                       dir + "/out", dir + "/err");
    REQUIRE(p.ok());
    REQUIRE(p->Wait().code == 2);
    std::string err = ReadFile(dir + "/err");
    std::filesystem::remove(dir + "/err");
    INFO(err);
    REQUIRE_THAT(err, Catch::Contains(c.message));
    REQUIRE_THAT(err, Catch::Contains("fog.toml"));
    REQUIRE(std::count(err.begin(), err.end(), '\n') == 1);  // one line
  }
}
