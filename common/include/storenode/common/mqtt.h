// A thin MQTT v5 client: one broker connection that connects in the
// background and reconnects forever with capped, jittered exponential backoff.
//
// Sessions are clean (MQTT v5 clean start) and nothing is persisted or
// buffered while offline: a publish either goes to the broker now or fails at
// once, so callers keep their own outbox (the journal) and resend from it.
// Subscriptions are remembered and restored after every reconnect.
//
// A Client is safe to use from several threads. Callbacks run on the client's
// internal threads; they must return quickly, must not block and must not call
// Stop() or destroy the client. Publish() and Subscribe() may be called from a
// callback.
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

#include "storenode/common/status.h"

namespace storenode::mqtt {

struct Message {
  std::string topic{};
  std::string payload{};  // any bytes, including zeros
  int qos = 1;
  bool retained = false;
  // MQTT v5 request/response properties; empty means absent.
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
  std::string uri{};        // "tcp://127.0.0.1:1883" or "ssl://host:8883"
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
  // callback runs). 0: none.
  uint32_t max_packet_bytes = 0;
};

// A random client id: prefix, '-', 16 hex digits.
std::string NewClientId(std::string_view prefix);

class Client {
 public:
  // Never null. When Paho refuses the options (e.g. a malformed uri) the
  // client never connects and Publish()/Subscribe() return that error.
  static std::unique_ptr<Client> Create(Options options);
  // Stop()s: a clean disconnect, so the broker does not send the will.
  virtual ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Register callbacks before Start().
  void OnMessage(std::function<void(const Message&)> f);
  // For each message over Options::max_payload_bytes.
  void OnOversized(std::function<void(const Oversized&)> f);
  // After every (re)connect, once the remembered subscriptions are acked.
  void OnConnected(std::function<void()> f);
  // When an established connection is lost; not on Stop().
  void OnDisconnected(std::function<void(const std::string& cause)> f);

  // Remembered and re-sent on every reconnect; sent at once when connected.
  // Does not wait for the broker's ack.
  Status Subscribe(std::string filter, int qos = 1);

  // Starts connecting in the background and returns at once.
  void Start();
  // Silences all callbacks (waiting for any that is running), disconnects
  // cleanly and stops reconnecting. Outstanding publishes get no on_done.
  // Idempotent; a stopped client cannot be started again.
  void Stop();

  // Connected and the subscriptions restored.
  bool connected() const;

  // Non-blocking. Fails at once with Unavailable when not connected or when
  // max_inflight QoS>0 publishes are outstanding, and with InvalidArgument for
  // a bad topic or QoS; on_done is then never called. Otherwise on_done runs
  // exactly once (on a client thread) when the broker acked (QoS 1/2), the
  // message was written (QoS 0), or the publish failed (e.g. connection lost).
  Status Publish(const Message& m, std::function<void(Status)> on_done = {});

  // QoS>0 publishes awaiting their ack.
  size_t inflight() const;

 private:
  struct Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Publishes and waits (up to `timeout`) for the broker's ack. For shutdown
// paths that must say "offline" before a clean disconnect, which does not
// fire the will. Blocks: never call it from a callback.
Status PublishAndWait(Client& client, const Message& m, std::chrono::milliseconds timeout);

}  // namespace storenode::mqtt
