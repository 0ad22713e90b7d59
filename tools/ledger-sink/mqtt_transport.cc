// MqttTransport (transport.h): the cloud broker over MQTT. The callback only
// parks messages on a queue (callbacks must not block); answers go out at
// QoS 1, in order, with a bounded queue for those the client cannot take at
// once (too many in flight).
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <deque>
#include <mutex>

#include "ledger-sink/transport.h"
#include "storenode/common/ledger.h"
#include "storenode/common/mqtt.h"

namespace storenode::ledger {
namespace {

// Answers not yet published. Bounded: a lost answer only costs the fog a
// resend, which gets the duplicate receipt.
constexpr size_t kMaxUnsent = 10000;

class Mqtt final : public Transport {
 public:
  explicit Mqtt(BrokerLink broker) : broker_(std::move(broker)) {}

  Status Start(std::function<void()> ready) override {
    if (broker_.uri.starts_with("tcp://")) {
      spdlog::warn(
          "broker connection is plain TCP (broker.insecure = true): Zs and receipts travel "
          "unencrypted");
    }
    client_ = mqtt::Client::Create(ToMqttOptions(broker_));
    client_->OnMessage([this](const mqtt::Message& m) {
      {
        std::lock_guard lock(mu_);
        queue_.push_back(Inbound{m.topic, m.payload, nullptr, nullptr});
      }
      cv_.notify_one();
    });
    client_->OnConnected([this, ready] {
      spdlog::info("connected to broker {}", broker_.uri);
      if (!ready_.exchange(true)) ready();
    });
    client_->OnDisconnected(
        [](const std::string& cause) { spdlog::warn("broker connection lost: {}", cause); });
    SN_RETURN_IF_ERROR(client_->Subscribe(AllSubmitsTopic(), 1));
    client_->Start();
    return Status::Ok();
  }

  std::vector<Inbound> Next(size_t max, std::chrono::milliseconds wait) override {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, wait, [&] { return !queue_.empty(); });
    std::vector<Inbound> out;
    while (!queue_.empty() && out.size() < max) {
      out.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    return out;
  }

  void Publish(std::vector<Outbound> answers) override {
    for (Outbound& a : answers) {
      mqtt::Message m;
      m.topic = std::move(a.topic);
      m.payload = std::move(a.payload);
      m.qos = 1;
      if (unsent_.size() < kMaxUnsent) unsent_.push_back(std::move(m));
    }
    // Keep the order of answers: nothing jumps the ones already waiting.
    while (!unsent_.empty()) {
      if (!client_->Publish(unsent_.front()).ok()) {
        // Offline: the fogs resend once it is back, and get their receipts then.
        if (!client_->connected()) unsent_.clear();
        return;
      }
      unsent_.pop_front();
    }
  }

  void Stop() override {
    if (client_) client_->Stop();
  }
  std::string name() const override { return broker_.uri; }

 private:
  const BrokerLink broker_;
  std::unique_ptr<mqtt::Client> client_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Inbound> queue_;         // guarded by mu_
  std::deque<mqtt::Message> unsent_;  // worker thread only
  std::atomic<bool> ready_{false};
};

}  // namespace

std::unique_ptr<Transport> MqttTransport(const BrokerLink& broker) {
  return std::make_unique<Mqtt>(broker);
}

}  // namespace storenode::ledger
