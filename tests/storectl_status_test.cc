// storectl status and storectl device accept, run as real processes against
// a real mosquitto, a real storenode-fogd and tills that a real pos-sim ran.
#include <google/protobuf/util/json_util.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "storenode/common/crypto.h"
#include "storenode/edge.h"
#include "storenode/schemas/fog.pb.h"
#include "storenode/schemas/tools.pb.h"
#include "support/run.h"
#include "support/store.h"

using namespace storenode;
using namespace storenode::testing;
using google::protobuf::util::JsonStringToMessage;

namespace {

// Runs SN_BIN_DIR/tool with `args` to completion, its output in files in dir.

// `args` plus the flags that reach the store's fog.
std::vector<std::string> FogArgs(const Store& store, std::vector<std::string> args) {
  args.insert(args.end(),
              {"--broker", store.broker.uri(), "--insecure", "--store", store.store_id});
  return args;
}

// `storectl status --json`, parsed; false if it failed (e.g. a fog that is
// still starting did not hear the request).
bool TryStatus(const Store& store, v1::StoreStatus* s) {
  Ran r = RunTool(store.dir, "storectl", FogArgs(store, {"status", "--json", "--timeout", "2"}));
  return r.code == 0 && JsonStringToMessage(r.out, s).ok();
}

// `storectl status --json`, parsed; REQUIREs that it worked.
v1::StoreStatus AskStatus(const Store& store) {
  Ran r = RunTool(store.dir, "storectl", FogArgs(store, {"status", "--json"}));
  INFO(r.err);
  REQUIRE(r.code == 0);
  v1::StoreStatus s;
  REQUIRE(JsonStringToMessage(r.out, &s).ok());
  return s;
}

// Starts the store's fog and waits until it answers.
void StartFog(Store& store) {
  REQUIRE(store.fog->Start().ok());
  v1::StoreStatus s;
  INFO(store.fog->Log());
  REQUIRE(WaitFor([&] { return TryStatus(store, &s); }, std::chrono::seconds(15)));
}

bool AllOnline(const v1::StoreStatus& s, bool online) {
  for (const v1::TillStatus& t : s.tills()) {
    if (t.online() != online) return false;
  }
  return s.tills_size() > 0;
}

}  // namespace

TEST_CASE("storectl status shows the tills pos-sim synced, online then offline",
          "[storectl][integration]") {
  Store store(3);
  StartFog(store);
  const std::string log = store.dir + "/pos-sim";
  auto sim =
      Process::Spawn({std::string(SN_BIN_DIR) + "/pos-sim", "--broker", store.broker.uri(),
                      "--insecure", "--store", store.store_id, "--tills", "3", "--sales", "100",
                      "--data", store.dir + "/tills", "--wait-synced", "30", "--linger", "30"},
                     log + ".out", log + ".err");
  REQUIRE(sim.ok());
  INFO(store.fog->Log());
  v1::StoreStatus s;
  REQUIRE(WaitFor([&] { return TryStatus(store, &s) && AllOnline(s, true); },
                  std::chrono::seconds(20)));
  REQUIRE(s.tills_size() == 3);
  // Only once the fog acked every event does pos-sim linger; a SIGTERM
  // before that is a failed run ("stopped before the fog acked").
  REQUIRE(WaitFor([&] { return ReadFile(log + ".err").find("lingering") != std::string::npos; },
                  std::chrono::seconds(30)));

  // SIGTERM ends the lingering cleanly: each till says it is offline.
  sim->Kill(SIGTERM);
  INFO(ReadFile(log + ".err"));
  REQUIRE(sim->Wait().code == 0);
  v1::SimReport report;
  REQUIRE(JsonStringToMessage(ReadFile(log + ".out"), &report).ok());
  REQUIRE(report.tills_size() == 3);
  REQUIRE(WaitFor([&] { return TryStatus(store, &s) && AllOnline(s, false); },
                  std::chrono::seconds(10)));
  REQUIRE(s.store_id() == "store-1");
  REQUIRE(s.tills_size() == 3);
  CHECK(s.quarantine_count() == 0);
  uint64_t events = 0;
  for (int i = 0; i < 3; ++i) {
    const v1::TillStatus& t = s.tills(i);
    const v1::SimTill& till = report.tills(i);
    INFO(t.ShortDebugString());
    CHECK(t.device_id() == till.device_id());
    CHECK(t.acked_seq() == till.head_seq());
    CHECK(t.head_seq() == till.head_seq());
    CHECK(t.backlog() == 0);
    CHECK(t.state() == "active");
    CHECK(t.quarantined() == 0);
    CHECK(t.last_seen_us() > 0);
    auto journal = edge::ReadJournalFile(till.journal_path());
    REQUIRE(journal.ok());
    v1::EventHeader genesis;
    REQUIRE(genesis.ParseFromString(journal->front().header()));
    CHECK(t.journal_id() == crypto::ToHex(crypto::AsBytes(genesis.journal_id())));
    events += till.head_seq();
  }
  CHECK(s.events_stored() == events);

  {  // the text table names every till and fits 80 columns
    Ran r = RunTool(store.dir, "storectl", FogArgs(store, {"status"}));
    INFO(r.err);
    REQUIRE(r.code == 0);
    for (const char* till : {"till-1", "till-2", "till-3"}) {
      CHECK(r.out.find(till) != std::string::npos);
    }
    CHECK(r.out.find("offline") != std::string::npos);
    CHECK(r.out.find("Quarantine: 0 entries. Events stored: " + std::to_string(events)) !=
          std::string::npos);
    for (const std::string& line : Lines(r.out)) {
      INFO(line);
      CHECK(line.size() <= 80);
    }
  }

  {  // --config supplies the store and broker; flags override it
    const std::string config = store.dir + "/storectl.toml";
    std::ofstream(config) << "[store]\nid = \"another-store\"\n\n[broker]\nuri = \""
                          << store.broker.uri() << "\"\ninsecure = true\n";
    Ran r = RunTool(store.dir, "storectl",
                    {"status", "--json", "--config", config, "--store", "store-1"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    v1::StoreStatus from_config;
    REQUIRE(JsonStringToMessage(r.out, &from_config).ok());
    CHECK(from_config.tills_size() == 3);

    std::ofstream(config, std::ios::app) << "typo = 1\n";
    r = RunTool(store.dir, "storectl", {"status", "--config", config});
    CHECK(r.code == 2);
    CHECK(Lines(r.err).size() == 1);
    CHECK(r.err.find("broker.typo") != std::string::npos);
  }
}

TEST_CASE("storectl status and device accept say in one line why there is no answer",
          "[storectl][integration]") {
  Store store(1);
  StartFog(store);

  {  // a broker that is not running
    const std::string uri = "tcp://127.0.0.1:" + std::to_string(FreePort());
    Ran r =
        RunTool(store.dir, "storectl",
                {"status", "--broker", uri, "--insecure", "--store", "store-1", "--timeout", "2"});
    CHECK(r.code == 1);
    CHECK(r.out.empty());
    CHECK(Lines(r.err).size() == 1);
    CHECK(r.err.find("cannot reach the broker at " + uri) != std::string::npos);
  }

  {  // a store whose fog is not running
    Ran r = RunTool(store.dir, "storectl",
                    {"status", "--broker", store.broker.uri(), "--insecure", "--store", "store-9",
                     "--timeout", "2"});
    CHECK(r.code == 1);
    CHECK(Lines(r.err).size() == 1);
    CHECK(r.err.find("did not answer") != std::string::npos);
  }

  {  // plain tcp:// without --insecure is refused before connecting
    Ran r = RunTool(store.dir, "storectl",
                    {"status", "--broker", store.broker.uri(), "--store", "store-1"});
    CHECK(r.code == 2);
    CHECK(r.err.find("--insecure") != std::string::npos);
  }

  {  // the fog refuses to accept a device it does not know
    Ran r =
        RunTool(store.dir, "storectl", FogArgs(store, {"device", "accept", "--device", "nope"}));
    CHECK(r.code == 1);
    CHECK(r.out.empty());
    CHECK(Lines(r.err).size() == 1);
    CHECK(r.err.find("unknown device") != std::string::npos);
  }
}

TEST_CASE("storectl device accept lets a wiped till's new journal in", "[storectl][integration]") {
  Store store(1);
  StartFog(store);
  auto pos_sim = [&](const std::string& data, std::vector<std::string> more) {
    std::vector<std::string> args = {"--broker",     store.broker.uri(), "--insecure", "--store",
                                     store.store_id, "--data",           data};
    args.insert(args.end(), more.begin(), more.end());
    return RunTool(store.dir, "pos-sim", args);
  };
  Ran first = pos_sim(store.dir + "/old", {"--sales", "20", "--wait-synced", "30"});
  INFO(first.err);
  REQUIRE(first.code == 0);

  // The till is wiped: a new journal, a new key, the same device id. The fog
  // holds it back until a manager accepts it.
  const std::string fresh = store.dir + "/new";
  Ran held = pos_sim(fresh, {"--sales", "10", "--linger", "2"});
  INFO(held.err);
  REQUIRE(held.code == 0);
  INFO(store.fog->Log());
  REQUIRE(WaitFor(
      [&] {
        v1::StoreStatus s;
        return TryStatus(store, &s) && s.tills(0).state() == "replacement pending";
      },
      std::chrono::seconds(10)));

  Ran r =
      RunTool(store.dir, "storectl", FogArgs(store, {"device", "accept", "--device", "till-1"}));
  INFO(r.err);
  REQUIRE(r.code == 0);
  auto journal = edge::ReadJournalFile(fresh + "/till-1.db");
  REQUIRE(journal.ok());
  v1::EventHeader genesis;
  REQUIRE(genesis.ParseFromString(journal->front().header()));
  const std::string id = crypto::ToHex(crypto::AsBytes(genesis.journal_id()));
  CHECK(r.out.find("accepted journal " + id + " of till-1\n") != std::string::npos);
  CHECK(r.out.find("key fingerprint ") != std::string::npos);

  Ran after = pos_sim(fresh, {"--sales", "5", "--wait-synced", "30"});
  INFO(after.err);
  REQUIRE(after.code == 0);
  const v1::StoreStatus s = AskStatus(store);
  CHECK(s.tills(0).state() == "active");
  CHECK(s.tills(0).journal_id() == id);
  CHECK(r.out.find(s.tills(0).key_fingerprint()) != std::string::npos);
}
