// TLS, client certificates, the broker's ACL and revocation, end to end: a
// store provisioned with `storectl provision`, its generated mosquitto
// config on a free port, a real fogd and in-process tills over ssl://.
#include <catch2/catch.hpp>
#include <filesystem>
#include <thread>

#include "sim/sim.h"
#include "storenode/common/journal_format.h"
#include "storenode/common/mqtt.h"
#include "storenode/common/sqlite.h"
#include "storenode/common/topics.h"
#include "storenode/profile.h"
#include "storenode/schemas/sync.pb.h"
#include "support/run.h"
#include "support/store.h"
#include "support/tls_store.h"

using namespace storenode;
using namespace storenode::testing;

namespace {

constexpr const char* kStore = kTlsStoreId;

}  // namespace

TEST_CASE("the generated TLS broker config starts without warnings and refuses plain TCP",
          "[tls]") {
  TlsStore s;
  s.StartBroker();
  // Settled: mosquitto logs its config problems at start.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const std::string log = ReadFile(s.broker.log_path());
  INFO(log);
  REQUIRE_THAT(log,
               Catch::Contains("Opening ipv4 listen socket on port " + std::to_string(s.port)));
  for (const std::string& line : Lines(log)) {
    // Only because the tests run as root here; storenode-mosquitto.service
    // runs it as the storenode user.
    if (line.find("should not be run as root") != std::string::npos) continue;
    INFO(line);
    REQUIRE_THAT(line, !Catch::Contains("Warning") && !Catch::Contains("Error"));
  }

  // A manager with a certificate of this CA gets in.
  REQUIRE(s.MosquittoPub(s.dir + "/anna", "manager", "sn/v1/store-1/fog/req/anna") == 0);
  // Plain MQTT on the TLS listener: no connection.
  REQUIRE(s.MosquittoPub("", "", "sn/v1/store-1/fog/req/anna") != 0);
  // Nor through the till's own sync engine, even when insecure is allowed.
  s.ProvisionTill("till-1");
  Till& t = s.OpenJournal("till-1");
  edge::SyncOptions plain;
  plain.broker.uri = "tcp://127.0.0.1:" + std::to_string(s.port);
  plain.broker.insecure = true;
  auto engine = edge::SyncEngine::Start(t.journal.get(), plain);
  REQUIRE(engine.ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  REQUIRE_FALSE((*engine)->state().connected);
}

TEST_CASE("provisioned tills sync over TLS with client certificates and pinned keys", "[tls]") {
  TlsStore s;
  s.ProvisionTill("till-1");  // before its journal exists: key pinned from genesis
  s.OpenJournal("till-2");    // journal first: its key is provisioned
  s.ProvisionTill("till-2", {"--journal-key", s.dir + "/till-2.db.key"});
  s.OpenJournal("till-3");  // provisioned with somebody else's key
  s.ProvisionTill("till-3", {"--public-key", std::string(64, 'a')});
  s.StartBroker();
  s.StartFog();
  s.OpenJournal("till-1");
  for (const char* d : {"till-1", "till-2", "till-3"}) {
    s.StartSync(d);
    s.Sell(d, 25);
  }
  REQUIRE(s.Synced("till-1"));
  REQUIRE(s.Synced("till-2"));
  RequireFogMatchesJournals(s.fog->db_path(), {s.tills["till-1"].journal->options().journal_path,
                                               s.tills["till-2"].journal->options().journal_path});
  const std::string log = s.fog->Log();
  REQUIRE_THAT(log, Catch::Contains("till-2: journal") && Catch::Contains("(provisioned)"));
  REQUIRE_THAT(log, Catch::Contains("genesis of a provisioned till"));
  // till-3's genesis carries a key other than the provisioned one.
  REQUIRE(WaitFor([&] { return s.Quarantined("key does not match the provisioned key") > 0; },
                  std::chrono::seconds(10)));
  REQUIRE(s.Acked("till-3") == 0);
  auto status = s.fog->GetStatus();
  REQUIRE(status.ok());
  REQUIRE(status->quarantine_count() >= 1);
}

TEST_CASE("a till certificate of another CA cannot connect", "[tls]") {
  TlsStore s;
  s.ProvisionTill("till-1");
  // Same store id, same device id, but another CA.
  const std::string other = ProvisionStore(s.dir, "other-pki", FreePort());
  Storectl(s.dir, {"provision", "till", "--device", "till-1", "--ca", other, "--out",
                   s.dir + "/impostor"});
  std::filesystem::copy_file(s.pki + "/ca/ca.crt", s.dir + "/impostor/ca.crt",
                             std::filesystem::copy_options::overwrite_existing);
  s.StartBroker();
  REQUIRE(s.MosquittoPub(s.dir + "/till-1", "till", "sn/v1/store-1/dev/till-1/status") == 0);
  REQUIRE(s.MosquittoPub(s.dir + "/impostor", "till", "sn/v1/store-1/dev/till-1/status") != 0);
  Till& t = s.OpenJournal("till-1");
  auto engine =
      edge::SyncEngine::Start(t.journal.get(), s.SyncOptionsFor("till-1", s.dir + "/impostor"));
  REQUIRE(engine.ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  REQUIRE_FALSE((*engine)->state().connected);
  REQUIRE_THAT(ReadFile(s.broker.log_path()), Catch::Contains("certificate verify failed"));
}

TEST_CASE("a till cannot publish on another till's topic: the broker denies, the fog sees nothing",
          "[tls]") {
  TlsStore s;
  s.ProvisionTill("till-1");
  s.ProvisionTill("till-2");
  s.StartBroker();
  s.StartFog();
  Till& victim = s.OpenJournal("till-1");
  s.Sell("till-1", 10);
  v1::JournalBatch batch;
  batch.set_schema_version(kSchemaVersion);
  for (auto& e : victim.journal->ReadEvents(1, 1000).value()) *batch.add_events() = e;

  // till-2, with its valid certificate, publishes till-1's (valid) journal
  // on till-1's topic, and a request to the fog.
  mqtt::Options o;
  o.uri = s.broker.tls_uri();
  o.ca_file = s.dir + "/till-2/ca.crt";
  o.cert_file = s.dir + "/till-2/till.crt";
  o.key_file = s.dir + "/till-2/till.key";
  auto intruder = mqtt::Client::Create(o);
  intruder->Start();
  REQUIRE(WaitFor([&] { return intruder->connected(); }, std::chrono::seconds(10)));
  mqtt::Message m;
  m.topic = topics::Journal(kStore, "till-1");
  m.payload = batch.SerializeAsString();
  // mosquitto 2.0 answers an MQTT v5 client's denied QoS 1 publish with
  // "not authorized" (a v3 client would get a plain ack).
  Status denied = mqtt::PublishAndWait(*intruder, m, std::chrono::seconds(5));
  INFO(denied.ToString());
  REQUIRE_THAT(denied.message(), Catch::Contains("Not authorized"));
  intruder->Stop();
  // A till may not ask the fog either.
  FogClientOptions ask = s.fog->client_options();
  ask.cert_file = o.cert_file;
  ask.key_file = o.key_file;
  ask.timeout = std::chrono::seconds(2);
  v1::FogRequest request;
  request.mutable_status();
  REQUIRE_FALSE(AskFog(ask, request).ok());

  // till-2 syncs its own journal: the fog has caught up with everything the
  // broker let through before it.
  s.OpenJournal("till-2");
  s.StartSync("till-2");
  s.Sell("till-2", 5);
  REQUIRE(s.Synced("till-2"));
  REQUIRE(s.Acked("till-1") == 0);
  REQUIRE(s.Query("SELECT COUNT(*) FROM events WHERE device_id = ?", "till-1") == 0);
  REQUIRE(s.Quarantined("") == 0);
  auto status = s.fog->GetStatus();
  REQUIRE(status.ok());
  REQUIRE(status->quarantine_count() == 0);

  // The same bytes from till-1 itself are fine: the ACL made the difference.
  s.StartSync("till-1");
  REQUIRE(s.Synced("till-1"));
}

TEST_CASE("a revoked till's events are quarantined and its certificate refused", "[tls]") {
  TlsStore s;
  s.ProvisionTill("till-1");
  s.ProvisionTill("till-2");
  s.StartBroker();
  s.StartFog();
  s.OpenJournal("till-1");
  s.StartSync("till-1");
  s.Sell("till-1", 10);
  REQUIRE(s.Synced("till-1"));
  const int64_t acked = s.Acked("till-1");

  Storectl(s.dir, {"provision", "revoke", "--device", "till-1", "--ca", s.pki});
  const std::string acl = ReadFile(s.pki + "/mosquitto/store-acl.conf");
  REQUIRE_THAT(acl, Catch::Contains("till till-1: revoked") && Catch::Contains("user till-2") &&
                        !Catch::Contains("user till-1"));
  // Until the broker reloads, the till still gets through: the fog stops it.
  s.Sell("till-1", 5);
  REQUIRE(WaitFor([&] { return s.Quarantined("device revoked") > 0; }, std::chrono::seconds(15)));
  REQUIRE(s.Acked("till-1") == acked);
  auto status = s.fog->GetStatus();
  REQUIRE(status.ok());
  REQUIRE(status->quarantine_count() >= 1);
  bool listed = false;
  for (const auto& t : status->tills()) {
    if (t.device_id() == "till-1") {
      listed = true;
      REQUIRE(t.state() == "revoked");
      REQUIRE(t.quarantined() >= 1);
    }
  }
  REQUIRE(listed);

  // After the reload the CRL keeps its certificate out.
  s.broker.Reload();
  REQUIRE(WaitFor([&] { return s.MosquittoPub(s.dir + "/till-1", "till", "x") != 0; },
                  std::chrono::seconds(5)));
  REQUIRE(s.MosquittoPub(s.dir + "/till-2", "till", "sn/v1/store-1/dev/till-2/status") == 0);
}
