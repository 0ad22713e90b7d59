// Recorder: what an mqtt::Transport's callbacks report (messages, oversized
// messages, connects, disconnects and their cause) and on which thread, for
// the tests of the Paho client and of the memory broker. Thread-safe: the
// callbacks run on the transport's threads, the test reads on its own.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "storenode/common/mqtt.h"
#include "support/harness.h"

namespace storenode::testing {

class Recorder {
 public:
  // Registers every callback of `t` (before its Start()).
  void Attach(mqtt::Transport& t) {
    t.OnMessage([this](const mqtt::Message& m) {
      std::lock_guard lk(mu_);
      messages_.push_back(m);
      threads_.push_back(std::this_thread::get_id());
    });
    t.OnOversized([this](const mqtt::Oversized& o) {
      std::lock_guard lk(mu_);
      oversized_.push_back(o);
    });
    t.OnConnected([this] {
      std::lock_guard lk(mu_);
      ++connects_;
    });
    t.OnDisconnected([this](const std::string& cause) {
      std::lock_guard lk(mu_);
      ++disconnects_;
      cause_ = cause;
    });
  }
  std::vector<mqtt::Message> messages() const {
    std::lock_guard lk(mu_);
    return messages_;
  }
  std::vector<std::string> payloads() const {
    std::vector<std::string> out;
    for (const mqtt::Message& m : messages()) out.push_back(m.payload);
    return out;
  }
  size_t count() const {
    std::lock_guard lk(mu_);
    return messages_.size();
  }
  std::vector<mqtt::Oversized> oversized() const {
    std::lock_guard lk(mu_);
    return oversized_;
  }
  std::vector<std::thread::id> threads() const {
    std::lock_guard lk(mu_);
    return threads_;
  }
  int connects() const {
    std::lock_guard lk(mu_);
    return connects_;
  }
  int disconnects() const {
    std::lock_guard lk(mu_);
    return disconnects_;
  }
  // The cause of the last disconnect.
  std::string cause() const {
    std::lock_guard lk(mu_);
    return cause_;
  }
  // Waits for a message on `topic` with `payload`.
  bool WaitForMessage(const std::string& topic, const std::string& payload,
                      std::chrono::milliseconds timeout = std::chrono::seconds(5)) const {
    return WaitFor(
        [&] {
          std::lock_guard lk(mu_);
          for (const auto& m : messages_) {
            if (m.topic == topic && m.payload == payload) return true;
          }
          return false;
        },
        timeout);
  }

 private:
  mutable std::mutex mu_;
  std::vector<mqtt::Message> messages_;
  std::vector<std::thread::id> threads_;
  std::vector<mqtt::Oversized> oversized_;
  int connects_ = 0, disconnects_ = 0;
  std::string cause_;
};

}  // namespace storenode::testing
