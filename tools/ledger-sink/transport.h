// Where ledger-sink's submits come from and its answers go (sink.h): MQTT
// (MqttTransport, the cloud broker) or JetStream (NatsTransport, a stream
// on a NATS cluster). Topics are MQTT-style on both: sn/v1/ledger/{store}/
// submit in, .../answer out; on NATS the subject is the topic with '.' for
// '/', so a store id that contains a '.' cannot be carried and is refused.
//
// Acknowledging: an MQTT QoS 1 submit is acknowledged by the client as it
// arrives (the broker never redelivers it; the fog resends until it holds a
// receipt). A JetStream message is acknowledged with Inbound::ack only after
// the transaction that stored it committed, and one that could not be
// stored is negatively acknowledged, so the stream delivers it again.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "storenode/common/broker_link.h"
#include "storenode/common/status.h"

namespace storenode::ledger {

struct Inbound {
  std::string topic;  // MQTT form
  std::string payload;
  std::function<Status()> ack;  // empty: nothing to acknowledge
  std::function<Status()> nak;
};

struct Outbound {
  std::string topic;  // MQTT form
  std::string payload;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Connects; `ready` is called once submits are heard.
  virtual Status Start(std::function<void()> ready) = 0;
  // At most `max` submits, waiting at most `wait` for the first.
  virtual std::vector<Inbound> Next(size_t max, std::chrono::milliseconds wait) = 0;
  // Answers, in order; one that cannot be sent now is dropped after a bounded
  // queue (the fog resends and gets the duplicate receipt).
  virtual void Publish(std::vector<Outbound> answers) = 0;
  virtual void Stop() = 0;
  virtual std::string name() const = 0;
};

std::unique_ptr<Transport> MqttTransport(const BrokerLink& broker);

struct NatsLink {
  std::vector<std::string> servers;  // nats:// or tls://, every node
  std::string stream = "SN_LEDGER";
  std::string durable = "ledger-workers";
  int replicas = 3;
  int keep_days = 7;  // the stream's MaxAge
  // TLS (every tls:// server): the chain CA, and the worker's certificate
  // and key, which the cluster maps to its user (DEPLOY.md 10).
  std::string ca_file, cert_file, key_file;
};
std::unique_ptr<Transport> NatsTransport(const NatsLink& link);

}  // namespace storenode::ledger
