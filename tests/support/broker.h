// A real mosquitto broker for integration tests, on a free 127.0.0.1 port.
//
// Not thread-safe. The destructor kills the broker.
#pragma once

#include <optional>
#include <string>

#include "storenode/common/status.h"
#include "support/process.h"

namespace storenode::testing {

class Broker {
 public:
  // dir holds the broker's config and log (mosquitto.conf, mosquitto.log).
  explicit Broker(std::string dir);
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
  const std::string& log_path() const { return log_path_; }

 private:
  Status WriteConfig() const;
  // Spawns on port_ and waits for it to accept; Unavailable if it exited.
  Status Launch();

  std::string dir_;
  std::string conf_path_;
  std::string log_path_;
  int port_ = -1;
  std::optional<Process> process_;
  std::string given_config_;  // StartWithConfig's file, copied instead of WriteConfig()
};

}  // namespace storenode::testing
