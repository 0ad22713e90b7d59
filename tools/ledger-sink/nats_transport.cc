// NatsTransport (transport.h): the submits of a JetStream stream through the
// durable pull consumer every worker shares; answers as core NATS publishes,
// which fogs subscribed at MQTT QoS 0 receive (a QoS 1 subscription would be
// one JetStream consumer per fog).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

#include "ledger-sink/jetstream.h"
#include "ledger-sink/transport.h"

namespace storenode::ledger {
namespace {

// MQTT topic <-> NATS subject: '/' is '.'.
std::string Swap(std::string s, char from, char to) {
  std::replace(s.begin(), s.end(), from, to);
  return s;
}

class Nats final : public Transport {
 public:
  explicit Nats(NatsLink link) : link_(std::move(link)) {}

  Status Start(std::function<void()> ready) override {
    JetStreamOptions o;
    o.servers = link_.servers;
    o.stream = link_.stream;
    o.durable = link_.durable;
    o.replicas = link_.replicas;
    o.keep = std::chrono::hours(24 * link_.keep_days);
    o.ca_file = link_.ca_file;
    o.cert_file = link_.cert_file;
    o.key_file = link_.key_file;
    SN_ASSIGN_OR_RETURN(js_, JetStream::Connect(o));
    spdlog::info("connected to NATS, stream {} consumer {}", link_.stream, link_.durable);
    ready();
    return Status::Ok();
  }

  std::vector<Inbound> Next(size_t max, std::chrono::milliseconds wait) override {
    std::vector<Inbound> out;
    auto msgs = js_->Fetch(static_cast<int>(max), std::max(wait, std::chrono::milliseconds(1)));
    if (!msgs.ok()) {
      // A node's death or a partition: the cluster answers again soon.
      const auto now = std::chrono::steady_clock::now();
      if (now - last_warn_ > std::chrono::seconds(10)) {
        spdlog::warn("JetStream fetch: {}", msgs.status().ToString());
        last_warn_ = now;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      return out;
    }
    for (JetStream::Msg& m : *msgs) {
      auto held = std::make_shared<JetStream::Msg>(std::move(m));
      Inbound in;
      in.topic = Swap(held->subject(), '.', '/');
      in.payload = std::string(held->data());
      in.ack = [this, held] {
        unflushed_ = true;
        return js_->Ack(*held);
      };
      in.nak = [this, held] {
        unflushed_ = true;
        return js_->Nak(*held, std::chrono::milliseconds(1000));
      };
      out.push_back(std::move(in));
    }
    return out;
  }

  // The batch's answers, and with them its acks, go out in one flush.
  void Publish(std::vector<Outbound> answers) override {
    if (answers.empty() && !unflushed_) return;
    for (const Outbound& a : answers) {
      if (Status s = js_->Publish(Swap(a.topic, '/', '.'), a.payload); !s.ok()) {
        spdlog::warn("answer on {} not sent (the fog resends): {}", a.topic, s.ToString());
      }
    }
    unflushed_ = false;
    (void)js_->Flush(std::chrono::milliseconds(1000));
  }

  // After the worker's last batch (Sink::Stop): its acks go out before the
  // connection closes (one lost is a redelivery, nothing worse).
  void Stop() override {
    if (js_ && unflushed_) (void)js_->Flush(std::chrono::milliseconds(1000));
    js_.reset();
  }
  std::string name() const override {
    std::string s = "NATS";
    for (const std::string& server : link_.servers) s += " " + server;
    return s;
  }

 private:
  const NatsLink link_;
  std::unique_ptr<JetStream> js_;
  std::chrono::steady_clock::time_point last_warn_{};
  bool unflushed_ = false;  // acks queued since the last flush (worker thread)
};

}  // namespace

std::unique_ptr<Transport> NatsTransport(const NatsLink& link) {
  return std::make_unique<Nats>(link);
}

}  // namespace storenode::ledger
