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

using namespace storenode;
using namespace storenode::testing;

namespace {

constexpr char kStore[] = "store-1";

void Storectl(const std::string& dir, std::vector<std::string> args) {
  Ran r = RunTool(dir, "storectl", std::move(args));
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
}

// Creates a store's PKI and broker config in dir/NAME for a broker on `port`.
std::string ProvisionStore(const std::string& dir, const std::string& name, int port) {
  const std::string pki = dir + "/" + name;
  std::filesystem::create_directories(dir + "/" + name + "-data");
  Storectl(dir, {"provision", "store", "--store", kStore, "--out", pki, "--host", "127.0.0.1",
                 "--port", std::to_string(port), "--bind", "127.0.0.1", "--data-dir",
                 dir + "/" + name + "-data", "--days", "2"});
  return pki;
}

struct Till {
  std::string dir;  // till.crt, till.key, ca.crt
  std::unique_ptr<edge::Journal> journal;
  std::unique_ptr<sim::TillSim> sim;
  std::unique_ptr<edge::SyncEngine> sync;
};

// A provisioned store: PKI, the generated TLS broker, and (after StartFog)
// a fog that connects with its certificate and asks with a manager's.
struct TlsStore {
  std::string dir = MakeTempDir("tls");
  int port = FreePort();
  std::string pki = ProvisionStore(dir, "pki", port);
  Broker broker{dir};
  std::unique_ptr<FogProcess> fog;
  std::map<std::string, Till> tills;

  TlsStore() {
    Storectl(dir, {"provision", "manager", "--name", "anna", "--ca", pki, "--out", dir + "/anna"});
  }
  void StartBroker() {
    Status s = broker.StartWithConfig(pki + "/mosquitto/store-broker.conf", port);
    INFO(s.ToString() << "\n" << ReadFile(broker.log_path()));
    REQUIRE(s.ok());
  }
  void StartFog() {
    std::filesystem::create_directories(dir + "/fog");
    fog = std::make_unique<FogProcess>(dir + "/fog", kStore, broker.tls_uri());
    fog->tls = FogProcess::Tls{pki + "/ca/ca.crt", pki + "/tls/fog.crt", pki + "/tls/fog.key",
                               dir + "/anna/manager.crt", dir + "/anna/manager.key"};
    fog->tills_config = "registry = \"" + pki + "/tills.toml\"\ntrust_on_first_use = false\n";
    Status s = fog->Start();
    INFO(s.ToString() << "\n" << fog->Log());
    REQUIRE(s.ok());
  }
  // Provisions `device` (with its journal key if the journal is open).
  void ProvisionTill(const std::string& device, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"provision", "till", "--device", device,
                                  "--ca",      pki,    "--out",    dir + "/" + device};
    args.insert(args.end(), extra.begin(), extra.end());
    Storectl(dir, args);
    tills[device].dir = dir + "/" + device;
  }
  Till& OpenJournal(const std::string& device) {
    Till& t = tills[device];
    auto j = edge::Journal::Open(sim::SimTillOptions(dir, kStore, device));
    REQUIRE(j.ok());
    t.journal = std::move(*j);
    t.sim = std::make_unique<sim::TillSim>(t.journal.get(), 7, device.back() - '0');
    return t;
  }
  edge::SyncOptions SyncOptionsFor(const std::string& device, const std::string& cert_dir) const {
    edge::SyncOptions o;
    o.broker_uri = broker.tls_uri();
    o.ca_file = cert_dir + "/ca.crt";
    o.cert_file = cert_dir + "/till.crt";
    o.key_file = cert_dir + "/till.key";
    o.ack_timeout_ms = 1500;
    o.status_interval_ms = 500;
    (void)device;
    return o;
  }
  // Syncs with the sync options of the till.toml that provisioning wrote.
  void StartSync(const std::string& device) {
    Till& t = tills[device];
    auto profile = edge::LoadProfile(t.dir + "/till.toml");
    INFO(profile.status().ToString());
    REQUIRE(profile.ok());
    REQUIRE(profile->journal.device_id == device);
    REQUIRE(profile->sync.broker_uri == broker.tls_uri());
    profile->sync.ack_timeout_ms = 1500;
    profile->sync.status_interval_ms = 500;
    auto engine = edge::SyncEngine::Start(t.journal.get(), profile->sync);
    REQUIRE(engine.ok());
    t.sync = std::move(*engine);
  }
  void Sell(const std::string& device, uint64_t n) { REQUIRE(tills[device].sim->RunSales(n).ok()); }
  int64_t Query(const std::string& sql, const std::string& arg) const {
    sql::OpenOptions o;
    o.read_only = true;
    auto db = sql::Db::Open(fog->db_path(), o);
    if (!db.ok()) return -1;
    auto stmt = (*db)->Prepare(sql);
    if (!stmt.ok()) return -1;
    stmt->Bind(1, arg);
    auto row = stmt->Step();
    return row.ok() && *row ? stmt->Int(0) : 0;
  }
  int64_t Acked(const std::string& device) const {
    return Query("SELECT acked_seq FROM devices WHERE device_id = ?", device);
  }
  int64_t Quarantined(const std::string& reason) const {
    return Query("SELECT COUNT(*) FROM quarantine WHERE instr(reason, ?) > 0", reason);
  }
  bool Synced(const std::string& device) {
    return WaitFor(
        [&] { return Acked(device) == static_cast<int64_t>(tills[device].journal->head_seq()); },
        std::chrono::seconds(20));
  }
  // mosquitto_pub with the given certificate (or none); its exit code.
  int MosquittoPub(const std::string& cert_dir, const std::string& cert, const std::string& topic) {
    std::vector<std::string> argv{"/usr/bin/mosquitto_pub",
                                  "-h",
                                  "127.0.0.1",
                                  "-p",
                                  std::to_string(port),
                                  "-t",
                                  topic,
                                  "-m",
                                  "x",
                                  "-q",
                                  "1"};
    if (!cert_dir.empty()) {
      argv.insert(argv.end(),
                  {"--cafile", cert_dir + "/ca.crt", "--cert", cert_dir + "/" + cert + ".crt",
                   "--key", cert_dir + "/" + cert + ".key"});
    }
    return RunArgv(dir, argv).code;
  }
};

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
  plain.broker_uri = "tcp://127.0.0.1:" + std::to_string(s.port);
  plain.insecure = true;
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
