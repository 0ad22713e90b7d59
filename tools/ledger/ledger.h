// The reference cloud ledger (issue 5): one append-only RFC 6962 log of the
// close-downs (signed Z-reports) of every store, kept in its own SQLite
// file, answering each submit with a receipt the fog can verify offline.
// See docs/ARCHITECTURE.md "Cloud ledger", docs/FORMATS.md section 9 and
// tools/ledger-sink/README.md.
//
// A Ledger is not thread-safe: one thread (the daemon's worker) calls
// Handle(). VerifyLedgerDb() is a pure function of a file and may run
// anywhere, also while a ledger-sink writes the file.
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

class Ledger {
 public:
  // Opens or creates the ledger file (WAL, synchronous FULL) and loads the
  // leaf hashes, the stores and the latest tree head. Fails if the file was
  // created with another signing key or ledger id, if its latest head does
  // not match its leaves, or if a pinned key contradicts the key a store's
  // records were accepted under.
  static Result<std::unique_ptr<Ledger>> Open(const std::string& db_path,
                                              const crypto::SigningKey& key, LedgerOptions options);
  ~Ledger();
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  // Answers one request that arrived on the submit topic of `topic_store`:
  // a submit gets Accepted (a receipt; the record is durable before this
  // returns) or Rejected; a consistency request gets a ConsistencyProof or
  // Rejected "bad-request"; a history request gets that store's records
  // (History). request_id is echoed.
  v1::LedgerAnswer Handle(const std::string& topic_store, const v1::LedgerRequest& request);

  uint64_t tree_size() const;
  const crypto::PublicKey& public_key() const;
  // Set after a write to the file failed: memory may no longer match the
  // file, so every later request is answered "unavailable" and the owner
  // should reopen (the daemon exits and is restarted).
  const Status& failed() const;

 private:
  struct Impl;
  explicit Ledger(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Re-derives a ledger file from its stored bytes, read-only: each leaf's
// hash from its Z bytes, each Z's hash and fog signature, each store's
// gapless Z numbers from 1, prev_z_hash chain and single key (the one in
// `stores`), and every stored tree head's signature (by the file's ledger
// key) and root (of its first tree_size leaves). Corruption names the first
// problem: "leaf N: ..." or "tree head of size N: ..."; other codes mean the
// file could not be read as a ledger.
Result<v1::LedgerAudit> VerifyLedgerDb(const std::string& path);

}  // namespace storenode::ledger
