// MQTT for storenode: the Transport every component talks through, and its
// real implementation, a thin client over Paho (Client) with one broker
// connection that connects in the background and reconnects forever with
// capped, jittered exponential backoff. Tests put tests/support/memory_broker.h
// behind the same interface (a Connector makes the Transports).
//
// A connection speaks MQTT v5 (the store broker, mosquitto) or MQTT 3.1.1
// (the chain's NATS cluster, Options::protocol); v5 is the default. On 3.1.1
// the v5-only parts are refused up front, never dropped in silence: a
// message with a response topic or correlation data, QoS 2 (NATS refuses
// it) and a Maximum Packet Size. A client may be given several servers (a
// cluster): it tries them in order and fails over to the next.
//
// Sessions are clean (v5 clean start, 3.1.1 clean session) and nothing is
// persisted or buffered while offline: a publish either goes to the broker
// now or fails at once, so callers keep their own outbox (the journal) and
// resend from it. Subscriptions are remembered and restored after every
// reconnect.
//
// A Transport is safe to use from several threads. Callbacks run on the
// transport's internal threads; they must return quickly, must not block and
// must not call Stop() or destroy the transport. Publish() and Subscribe()
// may be called from a callback.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storenode/common/status.h"

namespace storenode::mqtt {

// The MQTT version a connection speaks.
enum class Protocol {
  kV5,      // request/response properties, Maximum Packet Size, QoS 0..2
  kV3_1_1,  // none of those properties; QoS 0 and 1 only (NATS's MQTT listener)
};
// "mqtt5" or "mqtt3.1.1", as config files spell them.
const char* ProtocolName(Protocol protocol);

struct Message {
  std::string topic{};
  std::string payload{};  // any bytes, including zeros
  int qos = 1;
  bool retained = false;
  // MQTT v5 request/response properties; empty means absent. A 3.1.1
  // connection refuses to publish a message that sets them.
  std::string response_topic{};
  std::string correlation_data{};
};

// How much of an oversized payload is kept (Oversized::prefix).
inline constexpr size_t kOversizedPrefixBytes = 256;

// A received message whose payload exceeds Options::max_payload_bytes, as the
// client hands it on instead of the message: what it was, never all of it.
struct Oversized {
  std::string topic{};
  size_t size = 0;                   // the whole payload, in bytes
  std::array<uint8_t, 32> sha256{};  // of the whole payload
  std::string prefix{};              // its first kOversizedPrefixBytes bytes at most
};

struct Options {
  std::string uri{};  // "tcp://127.0.0.1:1883" or "ssl://host:8883"
  // Further servers of the same cluster, tried in this order after `uri`
  // when it cannot be reached (Paho's server list). A reconnect after a lost
  // connection starts at the server after the one that was lost, so a dead
  // node is tried last, not first.
  std::vector<std::string> failover_uris{};
  Protocol protocol = Protocol::kV5;
  std::string client_id{};  // empty: a random one (see NewClientId)
  // Published by the broker when the connection dies without a clean
  // disconnect (e.g. a retained "offline" status). Its v5 properties are not
  // sent.
  std::optional<Message> will{};
  int keepalive_s = 10;  // also the connect timeout
  // Most QoS>0 publishes awaiting their ack; Publish() refuses beyond it.
  int max_inflight = 100;
  // Reconnect backoff: doubles after each failed attempt, capped at
  // max_backoff, back to min_backoff once a connection has lasted max_backoff.
  std::chrono::milliseconds min_backoff{100}, max_backoff{5000};
  // TLS, used when uri starts with ssl:// or mqtts://. The server certificate
  // and host name are always verified.
  std::string ca_file{}, cert_file{}, key_file{};
  // A received payload larger than this goes to OnOversized (or is dropped
  // with a warning), never to OnMessage, and is not copied; 0: no limit.
  size_t max_payload_bytes = 0;
  // Sent as the MQTT v5 Maximum Packet Size of the connection: the broker
  // never delivers a larger packet to this client, so the client never has
  // to hold one (Paho holds a whole packet, about three times, before any
  // callback runs). 0: none. Must be 0 on 3.1.1, which cannot say it.
  uint32_t max_packet_bytes = 0;
};

// A random client id: prefix, '-', 16 hex digits.
std::string NewClientId(std::string_view prefix);

// Checks a message before it is published: a topic without wildcards, QoS
// 0 to 2; on 3.1.1 QoS 0 or 1 and no v5 property. InvalidArgument names
// what is wrong.
Status CheckPublish(const Message& m, Protocol protocol = Protocol::kV5);
// Checks a subscription: a non-empty filter, QoS 0 to 2 (0 or 1 on 3.1.1).
Status CheckSubscribe(const std::string& filter, int qos, Protocol protocol = Protocol::kV5);
// The servers of `options` in the order they are tried: uri, then
// failover_uris.
std::vector<std::string> Servers(const Options& options);
// What a receiver hands on instead of a payload over its limit
// (Options::max_payload_bytes): size, SHA-256 and prefix, not the bytes.
Oversized DescribeOversized(std::string topic, std::string_view payload);

// One broker connection, as every storenode component uses it. The contract
// below binds every implementation (Client, the tests' memory broker).
class Transport {
 public:
  // Stop()s: a clean disconnect, so the broker does not send the will.
  virtual ~Transport() = default;

  // Register callbacks before Start().
  virtual void OnMessage(std::function<void(const Message&)> f) = 0;
  // For each message over Options::max_payload_bytes.
  virtual void OnOversized(std::function<void(const Oversized&)> f) = 0;
  // After every (re)connect, once the remembered subscriptions are acked.
  virtual void OnConnected(std::function<void()> f) = 0;
  // When an established connection is lost; not on Stop().
  virtual void OnDisconnected(std::function<void(const std::string& cause)> f) = 0;

  // Remembered and re-sent on every reconnect; sent at once when connected.
  // Does not wait for the broker's ack.
  virtual Status Subscribe(std::string filter, int qos = 1) = 0;

  // Starts connecting in the background and returns at once.
  virtual void Start() = 0;
  // Silences all callbacks (waiting for any that is running), disconnects
  // cleanly and stops reconnecting. Outstanding publishes get no on_done.
  // Idempotent; a stopped transport cannot be started again.
  virtual void Stop() = 0;

  // Connected and the subscriptions restored.
  virtual bool connected() const = 0;

  // Non-blocking. Fails at once with Unavailable when not connected or when
  // max_inflight QoS>0 publishes are outstanding, and with InvalidArgument for
  // a bad topic or QoS; on_done is then never called. Otherwise on_done runs
  // exactly once (on a transport thread) when the broker acked (QoS 1/2), the
  // message was written (QoS 0), or the publish failed (e.g. connection lost).
  virtual Status Publish(const Message& m, std::function<void(Status)> on_done = {}) = 0;

  // QoS>0 publishes awaiting their ack.
  virtual size_t inflight() const = 0;

 protected:
  Transport() = default;
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;
};

// Makes a Transport for the given options; never returns null. What a
// component that connects takes, so that tests can hand it another broker.
using Connector = std::function<std::unique_ptr<Transport>(Options)>;
// The real one: a Client (Paho) per call.
Connector PahoConnector();

// The Paho implementation of Transport.
class Client final : public Transport {
 public:
  // Never null. When Paho refuses the options (e.g. a malformed uri) the
  // client never connects and Publish()/Subscribe() return that error.
  static std::unique_ptr<Client> Create(Options options);
  ~Client() override;

  void OnMessage(std::function<void(const Message&)> f) override;
  void OnOversized(std::function<void(const Oversized&)> f) override;
  void OnConnected(std::function<void()> f) override;
  void OnDisconnected(std::function<void(const std::string& cause)> f) override;
  Status Subscribe(std::string filter, int qos = 1) override;
  void Start() override;
  void Stop() override;
  bool connected() const override;
  Status Publish(const Message& m, std::function<void(Status)> on_done = {}) override;
  size_t inflight() const override;
  // The server of the current connection (uri or one of failover_uris, as
  // Paho names it); empty while none is up.
  std::string server() const;

 private:
  struct Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Publishes and waits (up to `timeout`) for the broker's ack. For shutdown
// paths that must say "offline" before a clean disconnect, which does not
// fire the will. Blocks: never call it from a callback.
Status PublishAndWait(Transport& transport, const Message& m, std::chrono::milliseconds timeout);

}  // namespace storenode::mqtt
