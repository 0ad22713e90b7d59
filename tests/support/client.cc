#include "support/client.h"

#include <atomic>
#include <catch2/catch.hpp>

#include "support/harness.h"

namespace storenode::testing {

TestClient::TestClient(const std::string& uri, std::vector<std::string> filters,
                       mqtt::Connector connect) {
  mqtt::Options o;
  o.uri = uri;
  o.client_id = mqtt::NewClientId("test-");
  client_ = (connect ? connect : mqtt::PahoConnector())(o);
  client_->OnMessage([this](const mqtt::Message& m) {
    std::lock_guard lock(mu_);
    received_.push_back(m);
  });
  for (const std::string& f : filters) REQUIRE(client_->Subscribe(f, 1).ok());
  client_->Start();
  REQUIRE(WaitFor([&] { return client_->connected(); }, std::chrono::seconds(15)));
}

TestClient::~TestClient() { client_->Stop(); }

void TestClient::Publish(const std::string& topic, const std::string& payload, bool retained) {
  mqtt::Message m;
  m.topic = topic;
  m.payload = payload;
  m.retained = retained;
  Publish(m);
}

void TestClient::Publish(const mqtt::Message& m) {
  auto done = std::make_shared<std::atomic<bool>>(false);
  REQUIRE(client_->Publish(m, [done](Status) { *done = true; }).ok());
  REQUIRE(WaitFor([&] { return done->load(); }, std::chrono::seconds(10)));
}

std::vector<mqtt::Message> TestClient::Received(const std::string& topic) const {
  std::lock_guard lock(mu_);
  std::vector<mqtt::Message> out;
  for (const auto& m : received_) {
    if (m.topic == topic) out.push_back(m);
  }
  return out;
}

}  // namespace storenode::testing
