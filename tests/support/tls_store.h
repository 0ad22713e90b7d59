// A store provisioned with `storectl provision` for TLS tests: its PKI, the
// generated mosquitto config on a free port (Broker::StartWithConfig), a real
// fogd that connects with its certificate and asks with a manager's, and
// in-process tills over ssl://. Used by security_test.cc and
// hardening_requests_test.cc.
//
// Not thread-safe.
#pragma once

#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/sim.h"
#include "storenode/common/sqlite.h"
#include "storenode/edge.h"
#include "storenode/profile.h"
#include "support/fog.h"
#include "support/harness.h"
#include "support/run.h"

namespace storenode::testing {

inline constexpr char kTlsStoreId[] = "store-1";

inline void Storectl(const std::string& dir, std::vector<std::string> args) {
  Ran r = RunTool(dir, "storectl", std::move(args));
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
}

// Creates a store's PKI and broker config in dir/NAME for a broker on `port`.
inline std::string ProvisionStore(const std::string& dir, const std::string& name, int port) {
  const std::string pki = dir + "/" + name;
  std::filesystem::create_directories(dir + "/" + name + "-data");
  Storectl(dir, {"provision", "store", "--store", kTlsStoreId, "--out", pki, "--host", "127.0.0.1",
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
  // `roles`: the [roles] section, if not the harness's (all supervisors);
  // `extra`: more sections of fog.toml.
  void StartFog(const std::string& roles = "", const std::string& extra = "") {
    std::filesystem::create_directories(dir + "/fog");
    fog = std::make_unique<FogProcess>(dir + "/fog", kTlsStoreId, broker.tls_uri());
    if (!roles.empty()) fog->roles_config = roles;
    fog->extra_config = extra;
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
    auto j = edge::Journal::Open(sim::SimTillOptions(dir, kTlsStoreId, device));
    REQUIRE(j.ok());
    t.journal = std::move(*j);
    t.sim = std::make_unique<sim::TillSim>(t.journal.get(), 7, device.back() - '0');
    return t;
  }
  edge::SyncOptions SyncOptionsFor(const std::string& device, const std::string& cert_dir) const {
    edge::SyncOptions o;
    o.broker.uri = broker.tls_uri();
    o.broker.ca_file = cert_dir + "/ca.crt";
    o.broker.cert_file = cert_dir + "/till.crt";
    o.broker.key_file = cert_dir + "/till.key";
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
    REQUIRE(profile->sync.broker.uri == broker.tls_uri());
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

}  // namespace storenode::testing
