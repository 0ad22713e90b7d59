// The forwarder: every close-down (Z and supplement) to the chain's cloud
// ledger, over a second MQTT connection, until the ledger answers with a
// receipt the fog can verify. NOTES ON THE DESIGN
//
// Promise: each Z reaches the ledger once in effect, in Z order, and is
// marked delivered only with a verified receipt, whatever crashes and
// however long the cloud is away.
//
// Invariants:
//  1. The outbox is the close-down's table of Zs itself, which the
//     forwarder sees only as closedown.h's LedgerOutbox (NextUndelivered,
//     UndeliveredCount, ZBytes): a Z enters it in the transaction that
//     issues it (closedown.cc), so no Z is issued without being queued. The
//     Zs without a row in ledger_receipts (the forwarder's own) are the
//     backlog.
//  2. Only the lowest undelivered Z is ever in flight, so delivery is in Z
//     order (the ledger refuses gaps anyway). Receipts form a prefix of the
//     Z numbers: the next Z is MAX(ledger_receipts.z_number) + 1.
//  3. A receipt row is written only after the inclusion proof, the tree
//     head's signature (pinned ledger key) and the consistency from the last
//     trusted tree head all verify; the receipt and the new trusted head are
//     committed together. A crash before that commit resends the Z; the
//     ledger answers a duplicate with the same leaf, not a second entry.
//  4. An unanswered or refused Z is resent after a delay that doubles from
//     retry_min_ms up to retry_max_ms, each wait up to half again longer at
//     random (ledger::ResendBackoff, common/ledger.h); a (re)connect resends
//     at once. The defaults, 5 s and 5 min (ledger::kRetryMinMs,
//     kRetryMaxMs), are sized for the chain's midnight peak: 10,000 stores
//     close together and a receipt then takes seconds, so a first resend
//     within a second would send each Z several times to a ledger that
//     already stored it, and without the jitter the fogs that closed
//     together would resend together.
//  5. An answer that fails verification is never trusted: it is logged and
//     kept in ledger_alerts, the Z stays in the backlog. A head that is not
//     an extension of the trusted one means the ledger rewrote its history.
//  6. Recovery. A fog.db without any Z, with a ledger configured, may be a
//     fog rebuilt from an empty disk with only its key; one restored from a
//     backup (storectl backup marks the copy: counters row
//     'recover_from_ledger') may lack the Zs made after it. The row stays
//     until the ledger's answer is complete, so a recovery cut short by a
//     crash goes on at the next start. Before anything
//     else the forwarder asks the ledger for this store's records after its
//     last Z (History, page by page) and hands each, in Z order, to
//     LedgerOutbox::Restore (the close-down, which checks the fog's own
//     signature, the numbering and the chain).
//     Until the ledger has answered, recovering() is true and no Z is
//     issued: a Z numbered without the ledger's history would fork it.
//     The restored Zs then enter the outbox like any other and are resent;
//     the ledger answers each as a duplicate, with its receipt.
//  7. QoS. Submits go at QoS 1. The answers are subscribed at QoS 1 on an
//     MQTT v5 link (mosquitto, as before) and at QoS 0 on a 3.1.1 link (the
//     chain's NATS cluster, where every QoS 1 subscription is a JetStream
//     consumer: one per store would not scale). QoS 0 is safe because the
//     answer is not the delivery guarantee: a lost answer leaves the Z in
//     flight, and invariant 4 resends it until a receipt verifies (the
//     ledger answers a duplicate with the same leaf). With clean sessions a
//     QoS 1 subscription keeps nothing across a reconnect either.
//
// Runs on the fog's worker thread, except the MQTT client's callbacks, which
// only hand messages to the worker (the `deliver` function).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "closedown.h"
#include "storenode/common/clock.h"
#include "storenode/common/crypto.h"
#include "storenode/common/ledger.h"
#include "storenode/common/mqtt.h"
#include "storenode/common/sqlite.h"
#include "storenode/fog/fog.h"
#include "storenode/schemas/fog.pb.h"
#include "storenode/schemas/ledger.pb.h"

namespace storenode::fog {

// The verified receipt stored for Z `z_number` (for `storectl verify
// receipt`, which opens fog.db itself); NotFound while it is in the backlog.
Result<v1::LedgerReceipt> StoredReceipt(sql::Db& db, uint64_t z_number);

class Forwarder {
 public:
  // `connect` makes the connection to the ledger's broker (fog.h, Env).
  Forwarder(sql::Db& db, const Config& config, const Clock& clock, const crypto::PublicKey& fog_key,
            LedgerOutbox& outbox, mqtt::Connector connect);
  // Reads the pinned ledger key and the trusted tree head from fog.db.
  Status Load();
  // Connects to the cloud broker when a [ledger] uri is configured.
  // `deliver` receives the ledger's answers on an MQTT thread.
  void Start(std::function<void(const mqtt::Message&)> deliver);
  // Invariant 6: true until the ledger answered the recovery of a fog.db
  // that held no Z.
  bool recovering() const { return recover_from_ > 0; }
  void Stop();

  // True for a message from the ledger link.
  bool IsAnswer(const mqtt::Message& m) const;
  // Verifies an answer and, when it is the receipt of the Z in flight,
  // stores it.
  void OnAnswer(const mqtt::Message& m);
  // Sends the next Z when it is due.
  void Poll();

  v1::LedgerStatus GetStatus();

 private:
  Status Accept(uint64_t z_number, const std::string& z, const v1::LedgerAnswer& answer);
  void Alert(uint64_t z_number, const std::string& reason, const std::string& answer);
  void Backoff();
  void OnHistory(const v1::LedgerAnswer& answer, const std::string& raw);

  sql::Db& db_;  // ledger_receipts, ledger_state, ledger_alerts
  LedgerOutbox& outbox_;
  const Config& config_;
  const Clock& clock_;
  const crypto::PublicKey fog_key_;
  const mqtt::Connector connect_;
  std::unique_ptr<mqtt::Transport> client_;
  std::atomic<bool> resend_now_{false};

  std::optional<crypto::PublicKey> ledger_key_;
  v1::TreeHead trusted_;       // tree_size 0: none yet
  uint64_t in_flight_ = 0;     // the Z number sent and not yet answered, 0 if none
  uint64_t recover_from_ = 0;  // invariant 6: the next Z number to ask for, 0 if none
  uint64_t request_id_ = 0;
  int64_t next_try_us_ = 0;
  ledger::ResendBackoff backoff_;
  std::string last_error_;
};

}  // namespace storenode::fog
