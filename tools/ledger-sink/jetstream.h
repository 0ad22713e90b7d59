// JetStream for the ledger workers: the chain's submits as a stream on the
// NATS cluster, drained by one durable pull consumer that every worker
// shares, over the NATS C client (Debian libnats 3.4). Library sn_jetstream.
//
// NOTES ON THE DESIGN
//
// Promise: a submit stored in the stream reaches some worker until one acks
// it (at least once). Duplicates are normal, not errors: a redelivery after
// ack_wait, an ack lost to a leader change, a fog's resend. The ledger
// stores idempotently, keyed by (store, Z number, part), so a worker acks
// only after its transaction committed. An Ack is not confirmed by the
// server (natsMsg_Ack, one publish; AckSync would be a round trip per
// message): one lost with a connection or a leader change is a redelivery
// after ack_wait, which the idempotent store absorbs like any duplicate.
//
// What the cluster does not promise, and callers must live with:
//  1. Fogs publish over MQTT. nats-server 2.9 sends the PUBACK of a QoS 1
//     PUBLISH once its own $MQTT_msgs stream stored it; this stream gets the
//     message as a core publish, stored only if it has a leader. While it
//     has none (a few seconds after its leader's node died) a message is
//     PUBACKed and lost here. The fog resends until it holds a verified
//     receipt.
//  2. After a node's death the consumer may have no leader for a while (up
//     to 26 s seen with nats-server 2.9.10, usually ~5 s): Fetch then
//     returns Unavailable or nothing; after an Unavailable sleep a little
//     before the next call, it may come at once. An Ack sent in that window
//     may be lost: the message comes again after ack_wait.
//  3. An answer (Publish) is core NATS, at most once: the fog subscribes at
//     MQTT QoS 0 and resends what stays unanswered. While the connection is
//     down libnats buffers publishes (up to 8 MB) and sends them on
//     reconnect.
//  4. Fetch(max, wait) may return fewer than max before `wait` when the
//     server says nothing more is pending; an empty vector is a timeout.
//
// Thread contract: Fetch from one thread at a time; Ack, Nak, Publish,
// JsPublish and Flush from any thread, also while a Fetch runs. A Msg
// belongs to the thread that holds it and must go before its JetStream (it
// acks through the JetStream's subscription). The last JetStream of a
// process to be destroyed closes libnats and waits for its threads
// (nats_CloseAndWait), so that none runs into the process's exit.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "storenode/common/status.h"

// libnats's types, declared so that this header does not pull in nats.h.
struct __natsMsg;

namespace storenode::ledger {

struct JetStreamOptions {
  std::vector<std::string> servers;  // nats://127.0.0.1:PORT, all cluster nodes
  std::string stream = "SN_LEDGER";
  std::vector<std::string> subjects = {"sn.v1.ledger.*.submit"};
  std::string durable = "ledger-workers";  // one durable pull consumer shared by every worker
  int replicas = 3;
  std::chrono::milliseconds ack_wait{30000};
  int max_ack_pending = 20000;
  int64_t max_msg_bytes = 256 * 1024;  // stream's max message size (size cap)
  // How long the stream keeps a submit (its MaxAge): the ledger is the
  // record, the stream only the way in, so its disk stays bounded; long
  // enough to replay a few days' submits after a bad deploy.
  std::chrono::milliseconds keep{std::chrono::hours(24 * 7)};
  std::string name = "storenode-ledger-sink";  // connection name
  // TLS: the CA that signed the servers' certificates (required for TLS),
  // and this client's certificate and key (optional, together).
  std::string ca_file, cert_file, key_file;
  // Connect() gives up after this: no server answers, or the stream or the
  // consumer cannot be made (the meta leader is still being elected).
  std::chrono::milliseconds connect_timeout{30000};
  // How long a JetStream API call, a JsPublish or an Ack waits for the server.
  std::chrono::milliseconds api_timeout{5000};
};

class JetStream {
 public:
  // Connects (natsOptions_SetServers, retry on failed connect, reconnect forever with a wait of
  // ~250 ms), makes sure the stream exists (creates it with the options' subjects, file storage,
  // R=replicas, limits retention, max_msg_size, MaxAge keep; an existing stream whose subjects,
  // replicas, max_msg_size or MaxAge differ is updated, one with other storage or retention refused
  // with a reason) and the durable pull consumer (AckExplicit, DeliverAll, ack_wait,
  // max_ack_pending; updated when those differ).
  static Result<std::unique_ptr<JetStream>> Connect(const JetStreamOptions& options);
  // Stops libnats's own threads; once per process, after every JetStream is
  // gone, just before exit (jetstream.cc says why).
  static void CloseLibrary();
  ~JetStream();
  JetStream(const JetStream&) = delete;
  JetStream& operator=(const JetStream&) = delete;

  // One fetched stream message; owns its natsMsg. Move-only.
  class Msg {
   public:
    Msg(Msg&& other) noexcept;
    Msg& operator=(Msg&& other) noexcept;
    ~Msg();
    const std::string& subject() const { return subject_; }
    std::string_view data() const;
    uint64_t stream_seq() const { return stream_seq_; }
    // 1 on the first delivery, more on a redelivery.
    uint64_t delivered() const { return delivered_; }

   private:
    friend class JetStream;
    explicit Msg(__natsMsg* msg);
    __natsMsg* msg_ = nullptr;
    std::string subject_;
    uint64_t stream_seq_ = 0;
    uint64_t delivered_ = 0;
  };

  // Up to `max` messages, waiting at most `wait`; an empty vector on timeout. Transient cluster
  // errors (no leader during a node's death, timeouts) are returned as Status::Unavailable with
  // the reason, never a crash.
  Result<std::vector<Msg>> Fetch(int max, std::chrono::milliseconds wait);
  // natsMsg_Ack: queued on the connection and sent by libnats's flusher or the next Flush, not
  // confirmed. Unavailable when it cannot be queued (the connection is closed: the message comes
  // again after ack_wait).
  Status Ack(Msg& m);
  // Asks for redelivery after `delay`.
  Status Nak(Msg& m, std::chrono::milliseconds delay);
  // A core NATS publish (not JetStream): answers to fogs, which subscribe at MQTT QoS 0.
  Status Publish(const std::string& subject, std::string_view data);
  Status Flush(std::chrono::milliseconds timeout);
  // JetStream publish with its PubAck (the bench and tests use it to put submits into the
  // stream): OK once the stream stored it.
  Status JsPublish(const std::string& subject, std::string_view data);
  bool connected() const;
  // The server name of the durable consumer's leader (ops and tests: which
  // node to kill); Unavailable while it has none.
  Result<std::string> ConsumerLeader();

 private:
  struct Impl;
  explicit JetStream(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace storenode::ledger
