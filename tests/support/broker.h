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

  std::string uri() const;  // "tcp://127.0.0.1:PORT"
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
};

}  // namespace storenode::testing
