// The fog's ledger link against the chain's real NATS cluster (three
// nats-server 2.9 nodes, tests/support/harness/nats.h): the storenode MQTT
// client in 3.1.1 mode with the three MQTT listeners as its failover list,
// seen from the NATS side with the C client (libnats). An MQTT topic a/b/c
// is the NATS subject a.b.c.
#include <nats/nats.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "harness/nats.h"
#include "storenode/common/ledger.h"
#include "storenode/common/mqtt.h"
#include "storenode/schemas/ledger.pb.h"
#include "support/fog.h"
#include "support/harness.h"
#include "support/recorder.h"
#include "support/store.h"

namespace storenode {
namespace {

using namespace std::chrono_literals;
using harness::NatsCluster;
using testing::MakeTempDir;
using testing::Recorder;
using testing::WaitFor;

// A core NATS connection to every node of the cluster, reconnecting forever.
struct NatsConn {
  explicit NatsConn(const NatsCluster& cluster) {
    natsOptions* opts = nullptr;
    REQUIRE(natsOptions_Create(&opts) == NATS_OK);
    std::vector<std::string> urls;
    for (int i = 0; i < cluster.nodes(); ++i) urls.push_back(cluster.nats_url(i));
    std::vector<const char*> servers;
    for (const std::string& u : urls) servers.push_back(u.c_str());
    REQUIRE(natsOptions_SetServers(opts, servers.data(), int(servers.size())) == NATS_OK);
    REQUIRE(natsOptions_SetMaxReconnect(opts, -1) == NATS_OK);
    REQUIRE(natsOptions_SetReconnectWait(opts, 250) == NATS_OK);
    natsStatus s = natsConnection_Connect(&nc, opts);
    natsOptions_Destroy(opts);
    INFO(natsStatus_GetText(s));
    REQUIRE(s == NATS_OK);
  }
  ~NatsConn() {
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(nc);
  }
  // A synchronous subscription, flushed to the server.
  void Subscribe(const char* subject) {
    REQUIRE(natsConnection_SubscribeSync(&sub, nc, subject) == NATS_OK);
    REQUIRE(natsConnection_FlushTimeout(nc, 5000) == NATS_OK);
  }
  // The next message on `sub` as (subject, data); empty subject on timeout.
  std::pair<std::string, std::string> Next(std::chrono::milliseconds timeout) {
    natsMsg* m = nullptr;
    if (natsSubscription_NextMsg(&m, sub, timeout.count()) != NATS_OK) return {};
    std::pair<std::string, std::string> out{
        natsMsg_GetSubject(m), std::string(natsMsg_GetData(m), size_t(natsMsg_GetDataLength(m)))};
    natsMsg_Destroy(m);
    return out;
  }
  natsConnection* nc = nullptr;
  natsSubscription* sub = nullptr;
};

std::vector<std::string> MqttUris(const NatsCluster& cluster) {
  std::vector<std::string> uris;
  for (int i = 0; i < cluster.nodes(); ++i) uris.push_back(cluster.mqtt_uri(i));
  return uris;
}

// The fog's ledger link as ToMqttOptions makes it for `uris = [...]` and
// protocol = "mqtt3.1.1".
mqtt::Options LinkOptions(const NatsCluster& cluster) {
  std::vector<std::string> uris = MqttUris(cluster);
  mqtt::Options o;
  o.uri = uris[0];
  o.failover_uris.assign(uris.begin() + 1, uris.end());
  o.protocol = mqtt::Protocol::kV3_1_1;
  o.client_id = "store-1-fog-ledger";
  o.min_backoff = 100ms;
  o.max_backoff = 1000ms;
  return o;
}

// Core NATS publishes of "PREFIX-k" on `subject`, one every 200 ms, until
// `recorder` holds a message or `timeout` passed (a new subscription's
// interest reaches the other nodes over the routes a moment after its
// SUBACK). The first message received, or nothing.
std::optional<mqtt::Message> PublishUntilReceived(NatsConn& nats, const char* subject,
                                                  const std::string& prefix, Recorder& recorder,
                                                  std::vector<std::string>* sent,
                                                  std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (int k = 0; std::chrono::steady_clock::now() < deadline; ++k) {
    std::string data = prefix + "-" + std::to_string(k) + std::string("\0\xff", 2);
    if (natsConnection_Publish(nats.nc, subject, data.data(), int(data.size())) == NATS_OK) {
      sent->push_back(data);
      (void)natsConnection_FlushTimeout(nats.nc, 1000);
    }
    if (WaitFor([&] { return recorder.count() > 0; }, 200ms)) return recorder.messages()[0];
  }
  return std::nullopt;
}

int NodeOf(const NatsCluster& cluster, const std::string& mqtt_uri) {
  for (int i = 0; i < cluster.nodes(); ++i) {
    if (cluster.mqtt_uri(i) == mqtt_uri) return i;
  }
  return -1;
}

}  // namespace

TEST_CASE("the ledger link speaks MQTT 3.1.1 to a NATS cluster and fails over when its node dies",
          "[nats][mqtt][integration]") {
  NatsCluster cluster(MakeTempDir("natslink"));
  Status started = cluster.Start();
  INFO(started.ToString());
  REQUIRE(started.ok());
  NatsConn nats(cluster);
  nats.Subscribe("sn.v1.ledger.*.submit");

  auto client = mqtt::Client::Create(LinkOptions(cluster));
  Recorder answers;
  answers.Attach(*client);
  REQUIRE(client->Subscribe(ledger::AnswerTopic("store-1"), 0).ok());
  client->Start();
  REQUIRE(WaitFor([&] { return client->connected(); }, 30s));
  // The first server is tried first.
  CHECK(client->server() == cluster.mqtt_uri(0));

  SECTION("a QoS 1 submit arrives on the NATS subject with exactly its bytes") {
    mqtt::Message submit;
    submit.topic = ledger::SubmitTopic("store-1");
    submit.payload = std::string("\x0a\x00\x01Z-1\xff\x00", 8);
    submit.qos = 1;
    Status published = mqtt::PublishAndWait(*client, submit, 10s);
    INFO(published.ToString());
    REQUIRE(published.ok());
    auto [subject, data] = nats.Next(10s);
    CHECK(subject == "sn.v1.ledger.store-1.submit");
    CHECK(data == submit.payload);
    // Once: nothing else arrives.
    CHECK(nats.Next(500ms).first.empty());
  }

  SECTION("a core NATS answer reaches the QoS 0 subscription, again after its node's death") {
    std::vector<std::string> sent;
    auto got =
        PublishUntilReceived(nats, "sn.v1.ledger.store-1.answer", "first", answers, &sent, 10s);
    REQUIRE(got.has_value());
    CHECK(got->topic == "sn/v1/ledger/store-1/answer");
    CHECK(got->qos == 0);
    CHECK(std::find(sent.begin(), sent.end(), got->payload) != sent.end());
    CHECK(got->payload.size() == std::string("first-0").size() + 2);

    const int dead = NodeOf(cluster, client->server());
    REQUIRE(dead >= 0);
    const auto killed_at = std::chrono::steady_clock::now();
    cluster.Kill(dead);
    // The client reconnects to another node (right after a death NATS's MQTT
    // layer refuses connects until its session stream has a leader again:
    // the client's backoff retries).
    REQUIRE(WaitFor(
        [&] {
          std::string s = client->server();
          return client->connected() && !s.empty() && s != cluster.mqtt_uri(dead);
        },
        30s));
    const auto failover_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - killed_at).count();
    WARN("reconnected to " << client->server() << " " << failover_s << " s after node " << dead + 1
                           << "'s death");
    CHECK(answers.connects() >= 2);  // at least the first connection and this one

    std::vector<std::string> sent_again;
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    bool arrived = false;
    for (int k = 0; !arrived && std::chrono::steady_clock::now() < deadline; ++k) {
      std::string data = "second-" + std::to_string(k);
      if (natsConnection_Publish(nats.nc, "sn.v1.ledger.store-1.answer", data.data(),
                                 int(data.size())) == NATS_OK) {
        sent_again.push_back(data);
        (void)natsConnection_FlushTimeout(nats.nc, 1000);
      }
      arrived = WaitFor(
          [&] {
            for (const mqtt::Message& m : answers.messages()) {
              if (m.payload.starts_with("second-")) return true;
            }
            return false;
          },
          200ms);
    }
    REQUIRE(arrived);
    for (const mqtt::Message& m : answers.messages()) {
      if (!m.payload.starts_with("second-")) continue;
      CHECK(m.topic == "sn/v1/ledger/store-1/answer");
      CHECK(std::find(sent_again.begin(), sent_again.end(), m.payload) != sent_again.end());
    }
    // Within the bound the fog lives with: a reconnect and one resend.
    CHECK(std::chrono::steady_clock::now() - killed_at < 40s);
  }

  SECTION("v5-only features are refused on the 3.1.1 link, each with its reason") {
    mqtt::Message m;
    m.topic = ledger::SubmitTopic("store-1");
    m.payload = "x";
    m.response_topic = ledger::AnswerTopic("store-1");
    Status s = client->Publish(m);
    CHECK(s.code() == Code::kInvalidArgument);
    CHECK(s.message() ==
          "mqtt: publish on sn/v1/ledger/store-1/submit refused: a response topic needs MQTT v5, "
          "the link speaks 3.1.1");
    m.response_topic.clear();
    m.correlation_data = "7";
    s = client->Publish(m);
    CHECK(s.message() ==
          "mqtt: publish on sn/v1/ledger/store-1/submit refused: correlation data needs MQTT v5, "
          "the link speaks 3.1.1");
    m.correlation_data.clear();
    m.qos = 2;
    s = client->Publish(m);
    CHECK(s.code() == Code::kInvalidArgument);
    CHECK(s.message() ==
          "mqtt: QoS 2 publish on sn/v1/ledger/store-1/submit refused: MQTT 3.1.1 link (QoS 0 or "
          "1 only)");
    s = client->Subscribe("sn/v1/ledger/store-1/other", 2);
    CHECK(s.message() ==
          "mqtt: QoS 2 subscription to sn/v1/ledger/store-1/other refused: MQTT 3.1.1 link (QoS "
          "0 or 1 only)");
    // None of them reached the cluster; the link still works.
    CHECK(client->inflight() == 0);
    m.qos = 1;
    REQUIRE(mqtt::PublishAndWait(*client, m, 10s).ok());
    CHECK(nats.Next(10s) ==
          std::pair<std::string, std::string>("sn.v1.ledger.store-1.submit", "x"));
    CHECK(nats.Next(300ms).first.empty());

    // Options that need v5 are refused when the client is made.
    mqtt::Options o = LinkOptions(cluster);
    o.max_packet_bytes = 1 << 20;
    auto refused = mqtt::Client::Create(o);
    refused->Start();
    Status why = refused->Publish(m);
    CHECK(why.code() == Code::kInvalidArgument);
    CHECK(why.message() == "mqtt: bad options for " + cluster.mqtt_uri(0) + "," +
                               cluster.mqtt_uri(1) + "," + cluster.mqtt_uri(2) +
                               ": max_packet_bytes needs MQTT v5 (3.1.1 has no Maximum Packet "
                               "Size)");
  }
  client->Stop();
}

TEST_CASE("a client tries its failover servers in order when the first is down",
          "[nats][mqtt][integration]") {
  NatsCluster cluster(MakeTempDir("natslink"));
  REQUIRE(cluster.Start().ok());
  // Nothing listens on the first server: the next one in the list is used,
  // not the last.
  mqtt::Options o = LinkOptions(cluster);
  o.uri = "tcp://127.0.0.1:" + std::to_string(harness::FreePort());
  o.failover_uris = {cluster.mqtt_uri(1), cluster.mqtt_uri(2)};
  auto client = mqtt::Client::Create(o);
  client->Start();
  REQUIRE(WaitFor([&] { return client->connected(); }, 30s));
  CHECK(client->server() == cluster.mqtt_uri(1));
  client->Stop();
}

TEST_CASE("storenode-fogd with [ledger] uris and mqtt3.1.1 publishes to the NATS cluster",
          "[nats][ledger][integration]") {
  testing::Store store(0);
  NatsCluster cluster(store.dir + "/nats");
  REQUIRE(cluster.Start().ok());
  NatsConn nats(cluster);
  nats.Subscribe("sn.v1.ledger.*.submit");

  std::vector<std::string> uris = MqttUris(cluster);
  store.fog->extra_config = "\n[ledger]\nuris = [\"" + uris[0] + "\", \"" + uris[1] + "\", \"" +
                            uris[2] +
                            "\"]\nprotocol = \"mqtt3.1.1\"\ninsecure = true\n"
                            "retry_min_ms = 300\nretry_max_ms = 600\n";
  REQUIRE(store.fog->Start().ok());
  // A fog.db without any Z first asks the ledger for this store's history
  // (forwarder invariant 6), at QoS 1 on its submit topic; with nobody
  // answering it asks again.
  std::vector<v1::LedgerRequest> requests;
  for (int i = 0; i < 2; ++i) {
    auto [subject, data] = nats.Next(15s);
    INFO(store.fog->Log());
    REQUIRE(subject == "sn.v1.ledger.store-1.submit");
    v1::LedgerRequest r;
    REQUIRE(r.ParseFromString(data));
    requests.push_back(r);
  }
  CHECK(requests[0].has_history());
  CHECK(requests[0].history().from_z_number() == 1);
  CHECK(requests[1].has_history());
  CHECK(requests[1].request_id() > requests[0].request_id());
  CHECK_THAT(store.fog->Log(), Catch::Contains("connected to the ledger broker"));
  CHECK_THAT(store.fog->Log(), Catch::Contains("(mqtt3.1.1)"));

  // The answer subscription is QoS 0, so it made no JetStream consumer: a
  // QoS 1 one would be a consumer on the MQTT layer's $MQTT_msgs stream.
  jsCtx* js = nullptr;
  REQUIRE(natsConnection_JetStream(&js, nats.nc, nullptr) == NATS_OK);
  jsConsumerNamesList* names = nullptr;
  natsStatus s = js_ConsumerNames(&names, js, "$MQTT_msgs", nullptr, nullptr);
  CHECK((s == NATS_NOT_FOUND || (s == NATS_OK && (names == nullptr || names->Count == 0))));
  jsConsumerNamesList_Destroy(names);
  jsCtx_Destroy(js);
}

}  // namespace storenode
