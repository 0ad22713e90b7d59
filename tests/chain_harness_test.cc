// The chain's real parts as the tests start them (tests/support/harness:
// nats.h, postgres.h): a three-node nats-server cluster whose MQTT listener
// feeds a JetStream stream at R3 that a durable pull consumer drains, with
// a node killed in the middle; and a throwaway PostgreSQL cluster that
// keeps a committed row across a fast stop and a SIGKILL.
#include <libpq-fe.h>
#include <mqtt/async_client.h>
#include <nats/nats.h>

#include <catch2/catch.hpp>
#include <set>

#include "harness/nats.h"
#include "harness/postgres.h"
#include "support/fog.h"
#include "support/harness.h"

using namespace storenode;
using storenode::harness::NatsCluster;
using storenode::harness::PgCluster;
using storenode::testing::MakeTempDir;

namespace {

// Publishes `n` QoS 1 messages "PREFIX-i" over MQTT 3.1.1 until each has
// its PUBACK (which says the server took it, not that the stream stored it).
// Right after a node died the MQTT layer's own streams elect new leaders, and
// the node may refuse the connection or drop it with publishes in flight
// (paho's -11, operation incomplete): those are sent again on a new
// connection, as a fog resends what it holds no receipt for.
void PublishMqtt(const std::string& uri, const std::string& topic, const std::string& prefix,
                 int n) {
  ::mqtt::async_client client(uri, "harness-" + prefix);
  auto opts = ::mqtt::connect_options_builder()
                  .mqtt_version(MQTTVERSION_3_1_1)
                  .clean_session(true)
                  .connect_timeout(std::chrono::seconds(5))
                  .finalize();
  std::set<int> unacked;
  for (int i = 0; i < n; ++i) unacked.insert(i);
  for (int attempt = 0; !unacked.empty(); ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(500));
    try {
      if (!client.is_connected()) client.connect(opts)->wait();
      std::vector<std::pair<int, ::mqtt::delivery_token_ptr>> tokens;
      for (int i : unacked) {
        tokens.emplace_back(i, client.publish(topic, prefix + "-" + std::to_string(i), 1, false));
      }
      for (auto& [i, t] : tokens) {
        t->wait();
        unacked.erase(i);
      }
    } catch (const ::mqtt::exception&) {
      if (attempt == 20) throw;
    }
  }
  client.disconnect()->wait();
}

struct Js {
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  natsSubscription* sub = nullptr;
  ~Js() {
    natsSubscription_Destroy(sub);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
  }
};

// Fetches into `seen` (acking each, waiting for the server's answer) until
// it holds `want` distinct payloads or `timeout` passed; the new ones.
std::set<std::string> Drain(natsSubscription* sub, std::set<std::string>* seen, size_t want,
                            std::chrono::seconds timeout = std::chrono::seconds(20)) {
  std::set<std::string> fresh;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (seen->size() < want && std::chrono::steady_clock::now() < deadline) {
    natsMsgList list{};
    jsErrCode jerr = static_cast<jsErrCode>(0);
    // A batch of one while messages are pending: libnats 3.4.1 overflows its
    // batch array otherwise (see tools/ledger-sink/jetstream.cc, Fetch).
    int pending = 0;
    natsSubscription_GetPending(sub, &pending, nullptr);
    if (natsSubscription_Fetch(&list, sub, pending > 0 ? 1 : 100, 1000, &jerr) != NATS_OK) continue;
    for (int i = 0; i < list.Count; ++i) {
      std::string payload(natsMsg_GetData(list.Msgs[i]), natsMsg_GetDataLength(list.Msgs[i]));
      if (seen->insert(payload).second) fresh.insert(payload);
      natsMsg_AckSync(list.Msgs[i], nullptr, nullptr);
    }
    natsMsgList_Destroy(&list);
  }
  return fresh;
}

// Waits until `stream` and its `consumer` each have a leader again; the
// seconds it took, or -1 after `timeout`.
double WaitLeaders(jsCtx* js, const char* stream, const char* consumer,
                   std::chrono::seconds timeout) {
  const auto start = std::chrono::steady_clock::now();
  auto has_leader = [](jsClusterInfo* c) { return c != nullptr && c->Leader != nullptr; };
  while (std::chrono::steady_clock::now() - start < timeout) {
    jsStreamInfo* si = nullptr;
    jsConsumerInfo* ci = nullptr;
    bool ok = js_GetStreamInfo(&si, js, stream, nullptr, nullptr) == NATS_OK &&
              has_leader(si->Cluster) &&
              js_GetConsumerInfo(&ci, js, stream, consumer, nullptr, nullptr) == NATS_OK &&
              has_leader(ci->Cluster);
    jsStreamInfo_Destroy(si);
    jsConsumerInfo_Destroy(ci);
    if (ok) return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return -1;
}

}  // namespace

// It failed about one run in five while it published right after the
// node's death. The failed runs' nats-server logs (harness dir, nN/nats.log)
// and stores show two causes, both the cluster's, not the test's:
//  - nats-server 2.9's MQTT QoS 1 PUBLISH is a core NATS publish (which a
//    stream stores only if it has a leader) plus a store into the MQTT
//    layer's own $MQTT_msgs stream, and the PUBACK waits for the latter only
//    (server/mqtt.go, mqttProcessPub). When the dead node led SUBMIT,
//    $MQTT_msgs had a new leader ~2 s before SUBMIT did, and the 100 "b"
//    publishes of that window were PUBACKed and are in no node's SUBMIT
//    store files.
//  - the durable consumer, when it lost its leader too, stalled ("has NO
//    quorum, stalled") for 26 s before the two survivors elected one,
//    longer than the drain's 20 s.
// So the test waits for both leaders before it publishes again (a fog's
// resend until it holds a verified receipt has that effect) and gives the
// election up to 45 s.
TEST_CASE("a three-node NATS cluster takes MQTT into an R3 stream through a node's death",
          "[nats][chain][integration]") {
  NatsCluster cluster(MakeTempDir("nats"));
  Status started = cluster.Start();
  INFO(started.ToString());
  REQUIRE(started.ok());

  Js c;
  natsOptions* opts = nullptr;
  REQUIRE(natsOptions_Create(&opts) == NATS_OK);
  // natsOptions_SetServers, not SetURL: 3.4's SetURL does not take a list.
  std::vector<std::string> urls;
  for (int i = 0; i < cluster.nodes(); ++i) urls.push_back(cluster.nats_url(i));
  std::vector<const char*> servers;
  for (const std::string& u : urls) servers.push_back(u.c_str());
  REQUIRE(natsOptions_SetServers(opts, servers.data(), static_cast<int>(servers.size())) ==
          NATS_OK);
  REQUIRE(natsOptions_SetMaxReconnect(opts, -1) == NATS_OK);
  natsStatus connected = natsConnection_Connect(&c.nc, opts);
  INFO(natsStatus_GetText(connected) << ": " << nats_GetLastError(nullptr));
  REQUIRE(connected == NATS_OK);
  natsOptions_Destroy(opts);
  REQUIRE(natsConnection_JetStream(&c.js, c.nc, nullptr) == NATS_OK);
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = "SUBMIT";
  const char* subjects[] = {"sn.v1.chain.submit.>"};
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  cfg.Storage = js_FileStorage;
  cfg.Replicas = 3;
  jsStreamInfo* info = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  // The meta leader may still be settling right after the cluster is healthy.
  REQUIRE(storenode::testing::WaitFor(
      [&] { return js_AddStream(&info, c.js, &cfg, nullptr, &jerr) == NATS_OK; },
      std::chrono::seconds(20)));
  CHECK(info->Config->Replicas == 3);
  jsStreamInfo_Destroy(info);
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = "SUBMIT";
  REQUIRE(js_PullSubscribe(&c.sub, c.js, "sn.v1.chain.submit.>", "workers", nullptr, &so, &jerr) ==
          NATS_OK);

  // MQTT topic sn/v1/chain/submit/store-1 is subject sn.v1.chain.submit.store-1.
  PublishMqtt(cluster.mqtt_uri(0), "sn/v1/chain/submit/store-1", "a", 100);
  std::set<std::string> seen;
  Drain(c.sub, &seen, 100);
  CHECK(seen.size() == 100);
  CHECK(seen.count("a-0") == 1);
  CHECK(seen.count("a-99") == 1);

  // One node dies: the other two keep the stream's quorum. Delivery is at
  // least once (an MQTT resend, an ack lost to a leader change): a payload
  // may come twice, which is why the ledger stores idempotently.
  cluster.Kill(1);
  const double elected_s = WaitLeaders(c.js, "SUBMIT", "workers", std::chrono::seconds(45));
  INFO("leaders of SUBMIT and its consumer back after " << elected_s << " s");
  REQUIRE(elected_s >= 0);
  PublishMqtt(cluster.mqtt_uri(2), "sn/v1/chain/submit/store-2", "b", 100);
  Drain(c.sub, &seen, 200);
  CHECK(seen.size() == 200);
  CHECK(seen.count("b-0") == 1);
  CHECK(seen.count("b-99") == 1);
  REQUIRE(cluster.Restart(1).ok());
  // Nothing new after that, nothing lost.
  CHECK(Drain(c.sub, &seen, 201, std::chrono::seconds(3)).empty());
  CHECK(seen.size() == 200);
}

TEST_CASE("a throwaway PostgreSQL cluster keeps a commit across a fast stop and a SIGKILL",
          "[chain][integration]") {
  PgCluster pg(MakeTempDir("pg"));
  Status started = pg.Start();
  INFO(started.ToString() << "\n" << storenode::testing::ReadFile(pg.log_path()));
  REQUIRE(started.ok());
  auto query = [&](const std::string& sql) {
    PGconn* conn = PQconnectdb(pg.conninfo().c_str());
    INFO(PQerrorMessage(conn));
    REQUIRE(PQstatus(conn) == CONNECTION_OK);
    PGresult* r = PQexec(conn, sql.c_str());
    INFO(PQresultErrorMessage(r));
    REQUIRE((PQresultStatus(r) == PGRES_TUPLES_OK || PQresultStatus(r) == PGRES_COMMAND_OK));
    std::string out = PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "";
    PQclear(r);
    PQfinish(conn);
    return out;
  };
  query("CREATE TABLE z(store TEXT, z_number BIGINT, PRIMARY KEY(store, z_number))");
  query("INSERT INTO z VALUES('store-1', 1)");
  REQUIRE(pg.StopFast().ok());
  REQUIRE(pg.Start().ok());
  CHECK(query("SELECT COUNT(*) FROM z") == "1");
  query("INSERT INTO z VALUES('store-1', 2)");
  pg.Kill();  // a crash: recovery replays the WAL
  REQUIRE(pg.Start().ok());
  CHECK(query("SELECT COUNT(*) FROM z") == "2");
}
