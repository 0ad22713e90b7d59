// A plain MQTT client for tests that inject or observe raw messages.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "storenode/common/mqtt.h"

namespace storenode::testing {

class TestClient {
 public:
  // Connects (and subscribes to `filters`) before returning; REQUIREs success.
  // `connect`: Paho by default, or e.g. the memory broker's Connector().
  explicit TestClient(const std::string& uri, std::vector<std::string> filters = {},
                      mqtt::Connector connect = {});
  ~TestClient();
  // Publishes at QoS 1 and waits for the broker's ack.
  void Publish(const std::string& topic, const std::string& payload, bool retained = false);
  void Publish(const mqtt::Message& m);
  std::vector<mqtt::Message> Received(const std::string& topic) const;

 private:
  mutable std::mutex mu_;
  std::vector<mqtt::Message> received_;
  std::unique_ptr<mqtt::Transport> client_;
};

}  // namespace storenode::testing
