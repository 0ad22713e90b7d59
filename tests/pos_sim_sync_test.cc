// pos-sim --broker, run as a real process against a real mosquitto and a real
// storenode-fogd: what the fog ends up with must be exactly what the tills'
// journals hold, even when pos-sim is SIGKILLed while it sells and syncs.
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "storenode/edge.h"
#include "storenode/schemas/tools.pb.h"
#include "support/run.h"
#include "support/store.h"

using namespace storenode;
using namespace storenode::testing;
using google::protobuf::util::JsonStringToMessage;
using google::protobuf::util::MessageDifferencer;

namespace {

std::string PosSim() { return std::string(SN_BIN_DIR) + "/pos-sim"; }

// pos-sim's arguments for the store's broker, its journals in DIR/tills.
std::vector<std::string> PosSimArgs(const Store& store, int tills, std::vector<std::string> more) {
  std::vector<std::string> args = {
      PosSim(),       "--broker", store.broker.uri(),    "--insecure", "--store",
      store.store_id, "--tills",  std::to_string(tills), "--data",     store.dir + "/tills"};
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

std::vector<std::string> JournalPaths(const Store& store, int tills) {
  std::vector<std::string> out;
  for (int k = 1; k <= tills; ++k)
    out.push_back(store.dir + "/tills/till-" + std::to_string(k) + ".db");
  return out;
}

// The report parses, every till's engine ended with nothing unacked, and the
// oracle totals it prints are its journal's.
v1::SimReport RequireSyncedReport(const Ran& r, int tills) {
  INFO("stderr: " << r.err);
  REQUIRE(r.code == 0);
  v1::SimReport report;
  REQUIRE(JsonStringToMessage(r.out, &report).ok());
  REQUIRE(report.tills_size() == tills);
  for (const v1::SimTill& t : report.tills()) {
    INFO(t.device_id());
    REQUIRE(t.has_sync());
    CHECK(t.sync().backlog() == 0);
    CHECK(t.sync().acked_seq() == t.head_seq());
    auto days = edge::TotalsFromFile(t.journal_path());
    REQUIRE(days.ok());
    REQUIRE(static_cast<size_t>(t.days_size()) == days->size());
    for (size_t i = 0; i < days->size(); ++i) {
      CHECK(MessageDifferencer::Equals(t.days(static_cast<int>(i)), (*days)[i]));
    }
  }
  return report;
}

}  // namespace

TEST_CASE("pos-sim --broker: 3 tills x 500 sales reach the fog exactly once",
          "[sync][integration]") {
  Store store(3);
  REQUIRE(store.fog->Start().ok());
  Ran r = RunArgv(store.dir, PosSimArgs(store, 3, {"--sales", "500", "--wait-synced", "60"}));
  INFO(store.fog->Log());
  const v1::SimReport report = RequireSyncedReport(r, 3);
  for (const v1::SimTill& t : report.tills()) CHECK(t.sales() == 500);
  RequireFogMatchesJournals(store.fog->db_path(), JournalPaths(store, 3));
  REQUIRE(store.FogQuarantined() == 0);
}

TEST_CASE("A till is SIGKILLed and restarted", "[sync][integration][crash]") {
  Store store(2);
  REQUIRE(store.fog->Start().ok());
  const std::string log = store.dir + "/first";
  auto first =
      Process::Spawn(PosSimArgs(store, 2, {"--rate", "150", "--duration", "120", "--seed", "3"}),
                     log + ".out", log + ".err");
  REQUIRE(first.ok());
  // Kill it mid-stream: the fog has stored some of each journal, and the
  // tills are still selling and publishing.
  INFO(ReadFile(log + ".err"));
  REQUIRE(WaitFor([&] { return store.FogAcked("till-1") > 150 && store.FogAcked("till-2") > 150; },
                  std::chrono::seconds(20)));
  REQUIRE(first->Running());
  first->Kill(SIGKILL);
  REQUIRE(first->Wait().code == -SIGKILL);
  const uint64_t acked_at_kill = store.FogAcked("till-1") + store.FogAcked("till-2");

  // Same journals, same devices: the restarted tills continue their chains
  // and resend from the fog's watermark.
  Ran r = RunArgv(store.dir,
                  PosSimArgs(store, 2, {"--sales", "200", "--seed", "4", "--wait-synced", "60"}));
  INFO(store.fog->Log());
  const v1::SimReport report = RequireSyncedReport(r, 2);
  uint64_t heads = 0;
  for (const v1::SimTill& t : report.tills()) heads += t.head_seq();
  INFO("acked when killed: " << acked_at_kill << ", heads after the restart: " << heads);
  REQUIRE(heads > acked_at_kill);
  for (const std::string& path : JournalPaths(store, 2)) {
    const edge::VerifyReport v = edge::VerifyJournalFile(path);
    INFO(path << ": " << v.reason);
    REQUIRE(v.ok);
  }
  RequireFogMatchesJournals(store.fog->db_path(), JournalPaths(store, 2));
  REQUIRE(store.FogQuarantined() == 0);
}
