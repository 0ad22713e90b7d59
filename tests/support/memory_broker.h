// MemoryBroker: an MQTT broker inside the test process, behind the same
// mqtt::Transport that the Paho client implements, so that a real Fog and
// real SyncEngines run on it without mosquitto (Connector() goes into
// fog::Env and edge::SyncOptions).
//
// Promise: each client sees what a clean-session MQTT v5 client of one
// broker would see, and the faults a test switches on, and nothing else:
//  1. Routing. A publish goes to every connected client with a matching
//     subscription ('+' one level, '#' the rest, MQTT 3.1.1 section 4.7),
//     once per client however many of its filters match, at the lower of
//     the two QoS, with its v5 response topic and correlation data.
//  2. Order. One broker thread delivers everything, in the order the
//     publishes were accepted: each publisher's messages arrive in order
//     (QoS 0 and 1 alike). A publish's on_done runs after the message was
//     delivered to every subscriber. Callbacks run on the broker thread,
//     never inside the caller's Publish(), as with Paho: they must not block.
//  3. Retained messages are kept per topic and sent to a client when it
//     subscribes or (re)connects (with retained = true); an empty retained
//     payload clears the topic. Live deliveries carry retained = false.
//  4. Wills are published when a client's connection dies (Partition()), or
//     when another client connects with its id (session takeover); never on
//     Stop() or destruction, which are clean disconnects.
//  5. Size. A payload over the receiver's Options::max_payload_bytes reaches
//     OnOversized (size, SHA-256, prefix: mqtt::DescribeOversized), never
//     OnMessage; a packet over its max_packet_bytes is not sent to it at all.
//  6. Faults. Drop(filter, n) discards the next n publishes (or all) on
//     matching topics: the publisher's on_done still says OK, as when a
//     broker loses a message it acked. Partition(client_id) cuts that client
//     off: OnDisconnected, its will, Publish() fails with Unavailable, it
//     receives nothing; Heal() reconnects it, its subscriptions restored and
//     the retained messages sent again, then OnConnected.
//  7. Bounds. At most max_queued messages wait for the broker thread;
//     Publish() beyond that, or beyond the client's Options::max_inflight
//     QoS>0 publishes, fails at once with Unavailable.
//
// Thread-safe. Destroy the broker after its clients: a client that outlives
// it is disconnected and its publishes fail.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "storenode/common/mqtt.h"

namespace storenode::testing {

// True when `topic` matches the subscription `filter`.
bool TopicMatches(std::string_view filter, std::string_view topic);

class MemoryBroker {
 public:
  explicit MemoryBroker(size_t max_queued = 100000);
  ~MemoryBroker();
  MemoryBroker(const MemoryBroker&) = delete;
  MemoryBroker& operator=(const MemoryBroker&) = delete;

  // A new client of this broker for each call; Options::uri is ignored and
  // an empty client_id gets a random one.
  std::unique_ptr<mqtt::Transport> Connect(mqtt::Options options);
  mqtt::Connector Connector();

  // Discards the next `count` publishes on topics matching `filter`;
  // count < 0: every one until Undrop(filter).
  void Drop(const std::string& filter, int count = -1);
  void Undrop(const std::string& filter);
  // Cuts off every client with this id, now and when it next starts, until
  // Heal(id).
  void Partition(const std::string& client_id);
  void Heal(const std::string& client_id);

  // Waits until no message or connection change waits for the broker
  // thread and no callback runs; false after `timeout`.
  bool WaitIdle(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // The retained message of `topic`, if any.
  std::optional<mqtt::Message> Retained(const std::string& topic) const;
  // Client ids connected now.
  bool IsConnected(const std::string& client_id) const;

  struct Counts {
    uint64_t published = 0;  // accepted by Publish()
    uint64_t delivered = 0;  // copies handed to subscribers (messages and oversized)
    uint64_t dropped = 0;    // discarded by Drop()
    uint64_t wills = 0;      // wills published
  };
  Counts counts() const;

  struct Core;

 private:
  std::shared_ptr<Core> core_;
};

}  // namespace storenode::testing
