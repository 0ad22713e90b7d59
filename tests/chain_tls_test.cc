// The chain's cloud as DEPLOY.md 10 secures it: `storectl provision chain`
// makes the chain CA, the nodes', stores' and worker's certificates and the
// NATS users; three nats-server nodes run TLS on every listener and route
// and map each client certificate to its user. A ledger worker (JetStream,
// SQLite backend) connects with its certificate. Each store may publish
// only its own submit subject and read only its own answers: what another
// store's certificate tries is refused by NATS and changes nothing in the
// ledger.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "harness/nats.h"
#include "storenode/common/config.h"
#include "storenode/common/head_office.h"
#include "storenode/common/ledger.h"
#include "storenode/common/mqtt.h"
#include "support/fog.h"
#include "support/harness.h"
#include "support/ledger_sink.h"
#include "support/ledger_zs.h"
#include "support/run.h"

using namespace storenode;
using namespace storenode::testing;
using namespace std::chrono_literals;

namespace {

// One store's fog link over TLS with its chain certificate, at MQTT 3.1.1.
class StoreLink {
 public:
  StoreLink(const harness::NatsCluster& nats, const std::string& pki, const std::string& cert,
            std::vector<std::string> answer_topics) {
    mqtt::Options o;
    o.uri = nats.mqtt_uri(0);
    o.failover_uris = {nats.mqtt_uri(1), nats.mqtt_uri(2)};
    o.protocol = mqtt::Protocol::kV3_1_1;
    o.client_id = "tls-test-" + cert;
    o.ca_file = pki + "/ca/ca.crt";
    o.cert_file = pki + "/stores/" + cert + ".crt";
    o.key_file = pki + "/stores/" + cert + ".key";
    o.min_backoff = 100ms;
    o.max_backoff = 1000ms;
    client_ = mqtt::Client::Create(o);
    client_->OnMessage([this](const mqtt::Message& m) {
      std::lock_guard lock(mu_);
      received_.push_back(m);
    });
    for (const std::string& t : answer_topics) REQUIRE(client_->Subscribe(t, 0).ok());
    client_->Start();
  }
  ~StoreLink() { client_->Stop(); }

  bool connected() const { return client_->connected(); }

  // Publishes `z` as `store`'s submit (QoS 1) every 2 s until an answer
  // arrives on the store's answer topic, or `timeout`. One Z in flight.
  std::optional<v1::LedgerAnswer> Submit(const std::string& store, const v1::SignedZ& z,
                                         std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto sent = std::chrono::steady_clock::time_point{};
    {
      std::lock_guard lock(mu_);  // earlier answers are for earlier Zs
      std::erase_if(received_,
                    [&](const mqtt::Message& m) { return m.topic == ledger::AnswerTopic(store); });
    }
    while (std::chrono::steady_clock::now() < deadline) {
      if (std::chrono::steady_clock::now() - sent > 2s) {
        mqtt::Message m;
        m.topic = ledger::SubmitTopic(store);
        m.payload = SubmitOf(z).SerializeAsString();
        m.qos = 1;
        if (client_->Publish(m).ok()) sent = std::chrono::steady_clock::now();
      }
      if (auto a = AnswerFor(store); a) return a;
      std::this_thread::sleep_for(50ms);
    }
    return std::nullopt;
  }

  std::optional<v1::LedgerAnswer> AnswerFor(const std::string& store) {
    std::lock_guard lock(mu_);
    for (const mqtt::Message& m : received_) {
      v1::LedgerAnswer a;
      if (m.topic == ledger::AnswerTopic(store) && a.ParseFromString(m.payload)) return a;
    }
    return std::nullopt;
  }

  std::vector<mqtt::Message> Received(const std::string& topic) {
    std::lock_guard lock(mu_);
    std::vector<mqtt::Message> out;
    for (const mqtt::Message& m : received_) {
      if (m.topic == topic) out.push_back(m);
    }
    return out;
  }

  size_t received_on(const std::string& topic) {
    std::lock_guard lock(mu_);
    size_t n = 0;
    for (const mqtt::Message& m : received_) n += m.topic == topic;
    return n;
  }

 private:
  std::mutex mu_;
  std::vector<mqtt::Message> received_;
  std::unique_ptr<mqtt::Transport> client_;
};

bool AnyLogHas(const harness::NatsCluster& nats, const std::string& needle) {
  for (int i = 0; i < nats.nodes(); ++i) {
    if (ReadFile(nats.log_path(i)).find(needle) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("a TLS chain cloud maps certificates to users, a store may use only its own subjects",
          "[chain][tls][integration]") {
  const std::string dir = MakeTempDir("chain-tls");
  const std::string pki = dir + "/chain";
  Ran provisioned =
      RunTool(dir, "storectl",
              {"provision", "chain", "--out", pki, "--node", "127.0.0.1", "--store", "store-1",
               "--store", "store-2", "--worker", "worker-a", "--days", "2"});
  INFO(provisioned.out << provisioned.err);
  REQUIRE(provisioned.code == 0);
  CHECK_THAT(provisioned.out, Catch::Contains("2 stores in nats/authorization.conf"));

  // Each store's [ledger] section, appended to the shipped fog.toml as
  // DEPLOY.md 7 says: it parses (no table defined twice) and names every node.
  {
    Ran more = RunTool(dir, "storectl",
                       {"provision", "chain", "--out", pki, "--node", "127.0.0.1", "--mqtt-port",
                        "18883", "--ledger-key", std::string(64, 'a')});
    INFO(more.out << more.err);
    REQUIRE(more.code == 0);
    CHECK_THAT(more.out, Catch::Contains("kept " + pki + "/nodes/127.0.0.1.crt"));
    const std::string section = ReadFile(pki + "/stores/store-2.fog.toml");
    CHECK_THAT(section, Catch::Contains("\n[ledger]\nuris = [\"ssl://127.0.0.1:18883\"]\n"
                                        "protocol = \"mqtt3.1.1\"\n") &&
                            Catch::Contains("\npublic_key = \"" + std::string(64, 'a') + "\"\n"));
    auto r = ConfigReader::FromString(
        ReadFile(std::string(SN_SOURCE_DIR) + "/firmware-configs/fog.toml") + section, "fog.toml");
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    CHECK(r->StringList("ledger.uris") == std::vector<std::string>{"ssl://127.0.0.1:18883"});
  }

  // A node name that would break out of the configs it goes into is refused.
  Ran evil = RunTool(dir, "storectl",
                     {"provision", "chain", "--out", dir + "/evil", "--node", "nats-1\n}"});
  CHECK(evil.code == 2);
  CHECK_THAT(evil.err, Catch::Contains("is not a host name or address"));
  CHECK_FALSE(std::filesystem::exists(dir + "/evil/nats/authorization.conf"));

  harness::NatsCluster nats(dir + "/nats");
  harness::NatsCluster::Tls tls;
  tls.ca_file = pki + "/ca/ca.crt";
  tls.authorization_file = pki + "/nats/authorization.conf";
  for (int i = 0; i < nats.nodes(); ++i) {
    tls.cert_files.push_back(pki + "/nodes/127.0.0.1.crt");
    tls.key_files.push_back(pki + "/nodes/127.0.0.1.key");
  }
  nats.tls = tls;
  const Status started = nats.Start();
  INFO(started.ToString());
  REQUIRE(started.ok());
  CHECK(nats.nats_url(0).starts_with("tls://"));

  LedgerSinkProcess worker(dir + "/worker-a", "");
  for (int i = 0; i < nats.nodes(); ++i) worker.nats.push_back(nats.nats_url(i));
  worker.nats_tls = "ca_file = \"" + pki + "/ca/ca.crt\"\ncert_file = \"" + pki +
                    "/workers/worker-a.crt\"\nkey_file = \"" + pki + "/workers/worker-a.key\"\n";
  worker.Start();
  const crypto::PublicKey ledger_key =
      crypto::SigningKey::Load(worker.key_path()).value().public_key();

  FakeFog store1("store-1"), store2("store-2");
  const v1::SignedZ z1 = store1.Next(1'000), z2 = store1.Next(2'000);
  const v1::SignedZ real2 = store2.Next(3'000);

  SECTION("each store gets its receipts; another store's subjects are refused and stored nowhere") {
    StoreLink one(nats, pki, "store-1", {ledger::AnswerTopic("store-1")});
    StoreLink two(nats, pki, "store-2", {ledger::AnswerTopic("store-2")});
    REQUIRE(WaitFor([&] { return one.connected() && two.connected(); }, 30s));

    auto a1 = one.Submit("store-1", z1, 30s);
    REQUIRE(a1.has_value());
    CheckAccepted(*a1, z1, ledger_key);

    // store-1's certificate publishing a Z as store-2: NATS takes the
    // PUBACK path but drops it (a publish violation), so no answer comes
    // and the ledger never sees it.
    const v1::SignedZ forged = FakeFog("store-2").Next(9'999);
    CHECK_FALSE(one.Submit("store-2", forged, 5s).has_value());
    CHECK(WaitFor(
        [&] {
          return AnyLogHas(nats,
                           "Publish Violation - User \"CN=store-1\", Subject "
                           "\"sn.v1.ledger.store-2.submit\"");
        },
        10s));

    // store-2's own first Z is accepted as Z 1 of store-2: nothing of the
    // forged one was stored under store-2.
    auto a2 = two.Submit("store-2", real2, 30s);
    REQUIRE(a2.has_value());
    CheckAccepted(*a2, real2, ledger_key);
    auto a3 = one.Submit("store-1", z2, 30s);
    REQUIRE(a3.has_value());
    CheckAccepted(*a3, z2, ledger_key);

    CHECK(worker.Stop() == 0);
    CHECK(QueryInt(worker.db_path(), "SELECT COUNT(*) FROM leaves") == 3);
    CHECK(QueryInt(worker.db_path(), "SELECT COUNT(*) FROM leaves WHERE store_id = 'store-2'") ==
          1);
    Ran verified = RunTool(dir, "storectl", {"verify", "ledger", "--db", worker.db_path()});
    INFO(verified.out << verified.err);
    CHECK(verified.code == 0);
  }

  SECTION("a store cannot read another store's answers") {
    StoreLink nosy(nats, pki, "store-1",
                   {ledger::AnswerTopic("store-1"), ledger::AnswerTopic("store-2")});
    StoreLink two(nats, pki, "store-2", {ledger::AnswerTopic("store-2")});
    REQUIRE(WaitFor([&] { return two.connected(); }, 30s));
    auto a2 = two.Submit("store-2", real2, 30s);
    REQUIRE(a2.has_value());
    CheckAccepted(*a2, real2, ledger_key);
    std::this_thread::sleep_for(1s);
    CHECK(nosy.received_on(ledger::AnswerTopic("store-2")) == 0);
    CHECK(AnyLogHas(nats,
                    "Subscription Violation - User \"CN=store-1\", Subject "
                    "\"sn.v1.ledger.store-2.answer\""));
  }

  SECTION("only head office's certificate publishes releases; the stores receive them") {
    const std::string topic = "sn/v1/chain/release/catalog/all";
    StoreLink two(nats, pki, "store-2", {topic});
    REQUIRE(WaitFor([&] { return two.connected(); }, 30s));
    const std::string csv = dir + "/prices.csv";
    {
      std::ofstream f(csv);
      f << "sku,barcodes,name,price,tax_code,department,active\nSKU-1,,Milk,119,A,dairy,1\n";
    }
    auto release = [&](const std::string& id, const std::string& cert) {
      return RunTool(dir, "storectl",
                     {"chain", "release", "catalog", csv, "--key", dir + "/ho.key", "--id", id,
                      "--all", "--broker", nats.mqtt_uri(0), "--protocol", "mqtt3.1.1", "--tls-ca",
                      pki + "/ca/ca.crt", "--tls-cert", cert + ".crt", "--tls-key", cert + ".key"});
    };
    REQUIRE(RunTool(dir, "storectl", {"chain", "keygen", "--out", dir + "/ho.key"}).code == 0);
    // A store's certificate: NATS drops the publish (the PUBACK comes all
    // the same), so no store ever sees it.
    Ran forged = release("7", pki + "/stores/store-1");
    INFO(forged.out << forged.err);
    CHECK(WaitFor(
        [&] {
          return AnyLogHas(nats,
                           "Publish Violation - User \"CN=store-1\", Subject "
                           "\"sn.v1.chain.release.catalog.all\"");
        },
        10s));
    Ran published = release("8", pki + "/head-office/head-office");
    INFO(published.out << published.err);
    REQUIRE(published.code == 0);
    CHECK_THAT(published.out, Catch::Contains("release 8 (catalog, "));
    REQUIRE(WaitFor([&] { return two.received_on(topic) > 0; }, 10s));
    std::this_thread::sleep_for(500ms);
    CHECK(two.received_on(topic) == 1);
    auto got = two.Received(topic);
    REQUIRE(got.size() == 1);
    const crypto::PublicKey ho = crypto::SigningKey::Load(dir + "/ho.key").value().public_key();
    auto opened = head_office::Open(got[0].payload, ho);
    INFO(opened.status().ToString());
    REQUIRE(opened.ok());
    CHECK(opened->release_id() == 8);
    // Without a certificate the release cannot even connect.
    Ran anonymous = RunTool(
        dir, "storectl",
        {"chain", "release", "catalog", csv, "--key", dir + "/ho.key", "--id", "9", "--all",
         "--broker", nats.mqtt_uri(0), "--protocol", "mqtt3.1.1", "--tls-ca", pki + "/ca/ca.crt"});
    CHECK(anonymous.code == 1);
    CHECK_THAT(anonymous.err, Catch::Contains("cannot reach the broker"));
  }

  SECTION("a client without a chain certificate, or a worker's over MQTT, is refused") {
    mqtt::Options o;
    o.uri = nats.mqtt_uri(0);
    o.protocol = mqtt::Protocol::kV3_1_1;
    o.client_id = "tls-test-anonymous";
    o.ca_file = pki + "/ca/ca.crt";
    auto anonymous = mqtt::Client::Create(o);
    anonymous->Start();
    o.client_id = "tls-test-worker-over-mqtt";
    o.cert_file = pki + "/workers/worker-a.crt";
    o.key_file = pki + "/workers/worker-a.key";
    auto worker_mqtt = mqtt::Client::Create(o);
    worker_mqtt->Start();
    std::this_thread::sleep_for(3s);
    CHECK_FALSE(anonymous->connected());
    CHECK_FALSE(worker_mqtt->connected());
    anonymous->Stop();
    worker_mqtt->Stop();
  }
}
