// The chain's cloud ledger (issues 5 and 15): one append-only RFC 6962 log
// of the close-downs (signed Z-reports) of every store, answering each
// submit with a receipt the fog can verify offline. Its storage is SQLite
// (one worker) or PostgreSQL (any number of workers sharing one database);
// a submit is stored first (Accept) and made a leaf by the sequencer
// (Integrate), which one worker at a time may be. See docs/ARCHITECTURE.md
// "Cloud ledger", docs/FORMATS.md section 9 and tools/ledger-sink/README.md.
//
// A Ledger is one connection and not thread-safe: one thread calls it.
// VerifyLedgerDb() is a pure function of the stored ledger and may run
// anywhere, also while workers write it.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "storenode/common/clock.h"
#include "storenode/common/crypto.h"
#include "storenode/common/status.h"
#include "storenode/schemas/ledger.pb.h"
#include "storenode/schemas/tools.pb.h"

namespace storenode::ledger {

struct LedgerOptions {
  // Signed into every tree head (TreeHead.ledger_id); fixed for the file's life.
  std::string ledger_id;
  // Store id -> the fog key its Zs must be signed with. A store not listed
  // here is pinned to the key of its first accepted record.
  std::map<std::string, crypto::PublicKey> pinned_stores;
  // false: a store not in pinned_stores is refused ("unknown-key").
  bool accept_unknown_stores = true;
  Clock* clock = SystemClock::Default();  // appended_us and tree head timestamps
  // The SQLite VFS of ledger.db; empty: SQLite's default (tests pass a
  // failing one, tests/support/fault_vfs.h).
  std::string sqlite_vfs = "";
  // The sequencer's batch: at most this many leaves per tree head.
  size_t max_batch = 256;
  // With nothing to integrate, a fresh head is signed this often.
  int64_t head_interval_us = 1'000'000;
};

// Rejected.code values; "unavailable" alone means "try again later".
inline constexpr const char* kMalformed = "malformed";
inline constexpr const char* kBadHash = "bad-hash";
inline constexpr const char* kBadSignature = "bad-signature";
inline constexpr const char* kUnknownKey = "unknown-key";
inline constexpr const char* kFork = "fork";
inline constexpr const char* kGap = "gap";
inline constexpr const char* kChain = "chain";
inline constexpr const char* kBadRequest = "bad-request";
inline constexpr const char* kUnavailable = "unavailable";
// Records per History answer (about 3 KB each).
inline constexpr int kHistoryPage = 64;

// A request as it arrived on the submit topic of `store`.
struct LedgerRequestIn {
  std::string store;
  v1::LedgerRequest request;
};

class Ledger {
 public:
  // Opens or creates the ledger at `target`: a SQLite file (WAL, synchronous
  // FULL), or a PostgreSQL database given as a libpq conninfo (IsPostgres).
  // Fails if it was created with another signing key or ledger id, if its
  // tree state does not match its tiles, or if a pinned key contradicts the
  // key a store's records were accepted under. Any number of Ledgers may
  // share one PostgreSQL database (the workers); one per SQLite file.
  static Result<std::unique_ptr<Ledger>> Open(const std::string& target,
                                              const crypto::SigningKey& key, LedgerOptions options);
  ~Ledger();
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  // Phase 1, any worker: the batch in one transaction. A new submit that
  // passes every check is stored (durable when this returns) and gets no
  // answer here: its receipt comes from the Integrate() that makes it a
  // leaf. Every other request gets its answer, in (store, Z number) order: refusals,
  // duplicates of leaves (their receipt against the current head), history
  // and consistency. Unavailable: nothing of the batch was stored, and the
  // caller should let it be delivered again.
  Result<std::vector<v1::LedgerAnswer>> Accept(std::vector<LedgerRequestIn> batch);
  // Phase 2: when no other worker holds the sequencer's lock, makes up to
  // max_batch stored submits the next leaves, signs the head of the new size
  // and returns their answers (receipts); with nothing stored, signs a fresh
  // head of the same size once the newest is head_interval_us old. Empty
  // when another worker is the sequencer or there was nothing to do.
  Result<std::vector<v1::LedgerAnswer>> Integrate();
  // Accept, then Integrate until the request's own answer: the one-worker
  // path (ledger-sink over MQTT, and the tests).
  v1::LedgerAnswer Handle(const std::string& topic_store, const v1::LedgerRequest& request);

  // The number of leaves, read from storage (0 if it cannot be read).
  uint64_t tree_size() const;
  const crypto::PublicKey& public_key() const;
  // Set after a write failed for another reason than "try again"
  // (Unavailable): the owner should reopen (the daemon exits and is
  // restarted); every later request is answered "unavailable".
  const Status& failed() const;

 private:
  struct Impl;
  explicit Ledger(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Re-derives a ledger (a SQLite file or a PostgreSQL conninfo) from its
// stored bytes, read-only: each leaf's hash from its Z bytes, each Z's hash
// and fog signature, each store's gapless Z numbers from 1, prev_z_hash
// chain and single key (the one in `stores`), continued by the submits not
// yet leaves; every stored tree head's signature (by the ledger key) and
// root (of its first tree_size leaves), and the tiles. Corruption names the first
// problem: "leaf N: ..." or "tree head of size N: ..."; other codes mean the
// file could not be read as a ledger.
Result<v1::LedgerAudit> VerifyLedgerDb(const std::string& target);

}  // namespace storenode::ledger
