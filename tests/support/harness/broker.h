// A real mosquitto on a free 127.0.0.1 port, for the integration tests and
// the benches (tests/support/harness/, library sn_harness).
//
// Promise: Start() returns only once the broker accepts connections, or with
// the reason it does not; the destructor kills it, so a broker never outlives
// its object.
//
// Not thread-safe.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "harness/process.h"
#include "storenode/common/status.h"

namespace storenode::harness {

// What the written config (Start) says besides the port.
struct BrokerOptions {
  // Messages mosquitto queues per client before it drops the rest. Its
  // default (1000) silently drops the rest of a burst; a bench drain queues
  // up to a window of every till for the fog.
  int max_queued_messages = 100000;
  // Log information messages too, for a test's post-mortem; a bench keeps
  // errors, warnings, notices and connections.
  bool log_information = true;
};

class Broker {
 public:
  // dir holds the broker's config and log (mosquitto.conf, mosquitto.log).
  explicit Broker(std::string dir, BrokerOptions options = {});
  ~Broker();
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  // Picks a free port, writes the config, starts mosquitto and waits until it
  // accepts connections; tries another port when it could not bind.
  Status Start();
  // SIGKILL and reap: clients see their connections reset.
  void Kill();
  // Starts again on the same port (after Kill(), or kills first).
  Status Restart();
  // SIGSTOP / SIGCONT: the broker keeps its sockets but answers nothing, so
  // publishes stay unacked and keepalives go unanswered.
  void Pause();
  void Resume();

  // Starts mosquitto with a config written elsewhere (e.g. by `storectl
  // provision store`), which must name `port` in its listener: mosquitto
  // ignores -p then. The config is copied into dir; as root a `user` line
  // for ourselves is added (mosquitto would switch to "mosquitto", which
  // cannot read our 0600 keys). Its stderr is log_path() from then on.
  Status StartWithConfig(const std::string& config_path, int port);
  // SIGHUP: mosquitto re-reads its ACL and CRL.
  void Reload();

  std::string uri() const;  // "tcp://127.0.0.1:PORT"
  std::string tls_uri() const { return "ssl://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  pid_t pid() const { return process_ ? process_->pid() : -1; }
  const std::string& log_path() const { return log_path_; }

 private:
  Status WriteConfig() const;
  // Spawns on port_ and waits for it to accept; Unavailable if it exited.
  Status Launch();

  std::string dir_;
  BrokerOptions options_;
  std::string conf_path_;
  std::string log_path_;
  int port_ = -1;
  std::optional<Process> process_;
  std::string given_config_;  // StartWithConfig's file, copied instead of WriteConfig()
};

}  // namespace storenode::harness
