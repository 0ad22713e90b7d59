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
  explicit TestClient(const std::string& uri, std::vector<std::string> filters = {});
  ~TestClient();
  // Publishes at QoS 1 and waits for the broker's ack.
  void Publish(const std::string& topic, const std::string& payload, bool retained = false);
  void Publish(const mqtt::Message& m);
  std::vector<mqtt::Message> Received(const std::string& topic);

 private:
  std::mutex mu_;
  std::vector<mqtt::Message> received_;
  std::unique_ptr<mqtt::Client> client_;
};

}  // namespace storenode::testing
