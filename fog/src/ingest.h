// Ingest: turns journal batches from the tills into stored, verified events,
// exactly once in effect.
//
// NOTES ON THE DESIGN
// Promise: an event is acked to its till only after it, and every event
// before it, is committed to fog.db together with the read models it
// changed. Duplicates change nothing; gaps are never skipped.
//
// Invariants:
//  1. devices.acked_seq is the highest seq such that every seq 1..acked_seq
//     of that journal is stored; devices.head_hash is the hash at acked_seq.
//  2. An event is stored only if it extends head_hash (its prev_hash equals
//     it) and its own hash matches its bytes. Chaining makes one signature
//     check per batch enough: the last stored event's signature covers, via
//     the hashes, every event before it. When that check fails each event is
//     checked on its own, to store the good prefix and name the bad seq.
//  3. Work happens inside a transaction the caller opens; device state is
//     staged and becomes current only in Committed(); Aborted() forgets it.
//  4. Anything rejected is written to quarantine (device, topic, reason, raw
//     bytes, their size and SHA-256) in the same transaction, and logged
//     (each device: a burst of 10 lines, then 1 a second, the lines left
//     out counted on the next rate-limit line; every row is kept);
//     nothing stored is touched. A message over config.max_message_bytes
//     never reaches HandleJournal: the MQTT client hands on only its size,
//     hash and first bytes (mqtt::Oversized), which QuarantineOversized
//     stores.
//     A batch refused as a whole changes nothing outside its quarantine row:
//     every check that can refuse it runs before its device is staged (a new
//     till is pinned only after its anchor and genesis passed). The one
//     exception is by design: a new journal for a known till records it as
//     pending on the device row, for `storectl device accept`. When a batch
//     is refused from an event on, the prefix before it is stored (it is
//     verified on its own) and the rest is quarantined.
//  6. Every journal batch of a known till is acked with the current
//     watermark, duplicates included, and so is every till status whose
//     acked seq is behind it: an ack lost in a crash between commit and
//     publish, or while the till was offline, is repeated on the till's
//     next resend or heartbeat, so no till stays "behind" forever.
//  5. Keys come from Trust (trust.h): a genesis or pinned key that differs
//     from the provisioned one is quarantined ("key does not match the
//     provisioned key"), and nothing of a revoked till is stored ("device
//     revoked"). Trust is refreshed before every journal message.
//  7. Signatures are checked off the ingest path. Invariant 2 proves each
//     stored event's bytes (the chain ends in a checked signature), but a
//     receipt is proven by its own signature, which is not covered by any
//     hash. So the worker, when idle (VerifySome), checks every stored
//     signature in seq order and advances devices.verified_seq. A failure
//     at seq s quarantines the stored signature, stops that journal's
//     watermark at s - 1 and asks the till to resend from s (an ack of s - 1
//     with resend, again every kRepairEveryUs); the till's copy, which has
//     the same hash, replaces the stored signature when its own checks. A
//     close-down first checks everything pending (VerifyAll) and does not
//     close a day while one of its events awaits repair (Unproven). Design:
//     docs/FORMATS.md section 7.1.
//
// Not thread-safe: one worker thread owns an Ingest.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "rate_limit.h"
#include "read_models.h"
#include "store.h"
#include "storenode/common/clock.h"
#include "storenode/common/mqtt.h"
#include "storenode/fog/fog.h"
#include "storenode/schemas/sync.pb.h"
#include "trust.h"

namespace storenode::fog {

class Ingest {
 public:
  Ingest(sql::Db& db, const Config& config, const Clock& clock, Trust& trust);
  Status Load();
  // Which part of a business day new events go to (store.h: the read models
  // count per part).
  void SetPartOfDay(std::function<uint32_t(const std::string& day)> part_of) {
    part_of_ = std::move(part_of);
  }
  // Judges each decoded event before it is taken (the store settings,
  // settings.h): a non-empty reason quarantines it like a malformed one,
  // and the events after it wait, as for any refused event.
  void SetEventCheck(std::function<std::string(const DecodedEvent&)> check) {
    check_ = std::move(check);
  }
  // The store's zone, which the hour read model buckets by.
  void SetZone(settings::Zone zone) { read_models_.SetZone(std::move(zone)); }
  // Days that got late events (a closed day's next part) since the last call.
  std::set<std::string> TakeLateDays() { return read_models_.TakeLateDays(); }

  // Inside an open transaction: handles one message from a journal topic.
  // Returns a non-OK Status only for database failures (the caller rolls
  // back); bad input is quarantined and is not an error.
  Status HandleJournal(const mqtt::Message& message);
  // Inside the transaction, before commit: writes staged read models and
  // device rows.
  Status Flush();
  // After COMMIT succeeded / after a rollback.
  void Committed();
  void Aborted();

  // Acks and resend requests to publish now (after Committed()).
  std::vector<mqtt::Message> TakeOutgoing();
  // Resend requests for gaps held longer than the configured time.
  void CheckGaps();
  // An ack of the current watermark for every known device (on connect).
  void AnnounceWatermarks();
  // A resend request to every known device, from its watermark.
  void AskEveryTillToResend(const std::string& reason);
  // A till's status: if it holds events the fog lacks and nothing arrived
  // since its last status (a rebuilt fog, lost messages), ask it to resend.
  void OnTillStatus(const std::string& device_id, const v1::DeviceStatus& status);

  // Accepts a device's pending replacement journal (in a transaction).
  Status AcceptReplacement(const std::string& device_id, Device* accepted);

  // Invariant 7. Outside any transaction: checks stored signatures for about
  // `budget_us`; true while some remain unchecked.
  Result<bool> VerifySome(int64_t budget_us);
  // Checks every pending signature, outside any transaction (a failure's
  // quarantine row commits on its own).
  Status VerifyAll();
  // The events of `day` (or earlier) awaiting a repaired signature, as
  // "till-1 seq 25", by device.
  std::map<std::string, std::string> Unproven(const std::string& day) const;
  // Stored events whose signature is not checked yet, over all devices.
  uint64_t unverified() const;
  // Every event stored, ever (the counters row).
  uint64_t events_total() const { return events_total_; }

  // Inside the caller's transaction: ranges a Z recovered from the ledger
  // covers (forwarder.h, invariant 6); resent events in them are stored but
  // not booked into the read models of a Z again. CoveredCommitted() after
  // COMMIT makes them current.
  Status AddCovered(const std::vector<CoveredRange>& ranges);
  void CoveredCommitted(const std::vector<CoveredRange>& ranges);

  const std::map<std::string, Device>& devices() const { return devices_; }
  uint64_t events_in_txn() const { return events_in_txn_; }
  // Events this transaction stores (not duplicates, not quarantined).
  uint64_t stored_in_txn() const { return staged_counters_.events_stored; }
  Fog::Counters counters() const { return counters_; }
  Status Quarantine(const std::string& device, const std::string& topic, const std::string& reason,
                    const std::string& payload);
  // Quarantine rows by device ("" for messages on no device's topic).
  Result<std::map<std::string, uint64_t>> QuarantinedByDevice() const;
  // Inside an open transaction: a message too large to receive (its size,
  // SHA-256 and first bytes), with the limit in the reason. `device` is
  // empty when the topic is not a device's.
  Status QuarantineOversized(const std::string& device, const mqtt::Oversized& message);

  // Whether the fog answers a device's requests (catalog fetches): only a
  // till it knows (in the registry, expected in fog.toml, or with a stored
  // journal) that is not revoked.
  enum class Standing { kKnown, kUnknown, kRevoked };
  Standing StandingOf(const std::string& device_id) const;

 private:
  struct Held {
    v1::JournalEvent event;
    DecodedEvent decoded;
  };
  Device* Stage(const std::string& device_id);
  Status Extend(Device& d, const std::string& topic, std::vector<Held> run);
  Status StoreEvent(const Device& d, const Held& e);
  // Books a stored event into the read models (of the Z figures too unless
  // a recovered Z covers it).
  void Book(const Held& e);
  // Acks `acked_seq`, by default the device's watermark.
  void QueueAck(const Device& d, bool resend, const std::string& reason,
                std::optional<uint64_t> acked_seq = std::nullopt);
  // Checks up to `max` signatures of `d` past its verified_seq; returns how
  // many it checked (0 when it waits for a repair).
  Result<size_t> CheckSignatures(Device& d, size_t max);
  void RequestRepair(const Device& d);
  // Replaces a stored signature that failed by the till's copy of the event.
  Status Repair(Device& d, const Held& e);
  bool PinNewDevice(const std::string& device_id, const Held& genesis, std::string* why);
  // The quarantine row: `kept` is the payload or its prefix, `size` and
  // `sha256` are of the whole payload.
  Status RecordQuarantine(const std::string& device, const std::string& topic,
                          const std::string& reason, std::string_view kept, size_t size,
                          const crypto::Hash& sha256);

  sql::Db& db_;
  const Config& config_;
  const Clock& clock_;
  Trust& trust_;
  std::map<std::string, Device> devices_;                 // committed state
  std::map<std::string, Device> staged_;                  // changed in the open transaction
  std::map<std::string, std::map<uint64_t, Held>> held_;  // out-of-order events
  std::map<std::string, int64_t> gap_since_us_;
  std::map<std::string, int64_t> last_resend_us_;
  std::map<std::string, uint64_t> acked_at_last_status_;
  std::set<std::string> ack_due_;
  std::vector<mqtt::Message> outgoing_;
  RateLimiter quarantine_log_{"quarantine log lines", {.per_second = 1, .burst = 10}};
  ReadModels read_models_;
  std::function<uint32_t(const std::string&)> part_of_ = [](const std::string&) { return 0u; };
  std::function<std::string(const DecodedEvent&)> check_;
  std::optional<sql::Stmt> insert_event_, find_hash_, unchecked_;
  std::map<std::string, int64_t> last_repair_us_;
  uint64_t events_total_ = 0;
  // (device, journal) -> first_seq -> (last_seq, day), of recovered Zs.
  std::map<std::pair<std::string, std::string>,
           std::map<uint64_t, std::pair<uint64_t, std::string>>>
      covered_;
  uint64_t events_in_txn_ = 0;
  Fog::Counters counters_;
  Fog::Counters staged_counters_;
};

// Calls `fn` with the header and body of every stored event of business
// day `day` (its read-model ranges of every part, and the ranges a Z
// recovered from the ledger covers), by device, journal and seq. Stored
// events were verified when stored: this only parses them. For the readers
// that need a day's order of events (stock.h, invariant 2); an error of
// `fn` ends the walk with it.
Status ForEachEventOfDay(
    sql::Db& db, const std::string& day,
    const std::function<Status(const v1::EventHeader&, const v1::EventBody&)>& fn);

}  // namespace storenode::fog
