// A real storenode-fogd process for integration tests, with its own config
// and data dir, that can be SIGKILLed and restarted.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sim/sim.h"
#include "storenode/fog/client.h"
#include "storenode/fog/fog.h"
#include "storenode/schemas/fog.pb.h"
#include "support/harness.h"

namespace storenode::testing {

class FogProcess {
 public:
  FogProcess(std::string dir, std::string store, std::string broker_uri,
             std::vector<std::string> expected_tills = {});
  Status Start();
  void Kill();  // SIGKILL
  int Stop();   // SIGTERM, waits; the exit code
  int Wait();   // waits for it to exit by itself; the exit code (-signal)
  bool Running();
  // The running process's id (-1 when none), e.g. to read /proc/PID/status.
  pid_t pid() const { return process_ ? process_->pid() : -1; }
  // Sends a request over MQTT and waits for the answer.
  Result<v1::FogResponse> Ask(const v1::FogRequest& request);
  Result<v1::StoreStatus> GetStatus();

  std::string config_path() const { return dir_ + "/fog.toml"; }
  std::string data_dir() const { return dir_ + "/data"; }
  std::string db_path() const { return data_dir() + "/fog.db"; }
  std::string log_path() const { return dir_ + "/fogd.log"; }
  std::string Log() const;
  FogClientOptions client_options() const;
  // Extra TOML appended to the config before Start().
  std::string extra_config;
  // [store] after its id: the store's terms (default the simulated store's,
  // sim::SimStoreConfig, so tills with sim::SimSettings agree with it).
  std::string store_config = sim::SimStoreConfig();
  // TLS instead of plain TCP: the fog's CA, certificate and key, and the
  // manager certificate that Ask() and Start() use for their requests.
  struct Tls {
    std::string ca_file, cert_file, key_file, manager_cert, manager_key;
  };
  std::optional<Tls> tls;
  // Extra lines for the [broker] section (max_message_bytes).
  std::string broker_config;
  // Extra lines for the [tills] section (registry, trust_on_first_use).
  std::string tills_config;
  // The [roles] section. Tests act as supervisors unless they test roles.
  std::string roles_config = "default = \"supervisor\"\n";
  // Who Ask() asks as without TLS (with it: the manager certificate's CN).
  std::string identity = "test";
  // Set STORENODE_CRASH_AT for the next Start() (see common/fault.h); the
  // fog then dies at that point, so Start() does not wait for it to answer.
  std::string crash_at;
  // Environment for the next Start() only (NOTIFY_SOCKET, JOURNAL_STREAM...).
  std::map<std::string, std::string> env;
  // false: Start() returns once the process is spawned, without asking.
  bool wait_ready = true;

 private:
  std::string dir_, store_, broker_uri_;
  std::vector<std::string> expected_;
  std::optional<Process> process_;
};

// The simulated store's terms for a fog::Config made in code (the terms
// sim::SimStoreConfig writes).
fog::StoreTerms SimStoreTerms();

// [store] terms (after the id) of a store in Europe/Berlin in EUR with the
// German rates since 2000: A "Standard" 19%, B "Reduced" 7%.
std::string BerlinStoreConfig(const std::string& name, const std::string& day_start = "00:00");

std::string ReadFile(const std::string& path);

}  // namespace storenode::testing
