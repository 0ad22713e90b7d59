// The action journal: the fog's own record of what managers did (close-down
// requests and counts, Zs issued or recovered, catalog imports).
//
// Promise: entries are only appended, each in the caller's transaction with
// the change it records, so an action is on record exactly when its effect
// is. Each entry is hash-chained to the one before (prev || be32
// length-prefixed fields, the framing of journal events, journal_format.h)
// and signed with the fog's key, so a removed or edited entry breaks the
// chain (docs/FORMATS.md, the action journal).
//
// Owns the `actions` table. Not thread-safe: the fog's worker thread owns it.
#pragma once

#include <cstdint>
#include <string>

#include "storenode/common/clock.h"
#include "storenode/common/crypto.h"
#include "storenode/common/sqlite.h"

namespace storenode::fog {

class ActionJournal {
 public:
  ActionJournal(sql::Db& db, const Clock& clock, std::string store_id,
                const crypto::SigningKey& key)
      : db_(db), clock_(clock), store_id_(std::move(store_id)), key_(key) {}

  // Inside the caller's transaction.
  Status Append(const std::string& manager, const std::string& kind, const std::string& detail);

  // Entries on record (the fog key's check at start-up, closedown.h).
  static Result<int64_t> Count(sql::Db& db);

 private:
  sql::Db& db_;
  const Clock& clock_;
  const std::string store_id_;
  const crypto::SigningKey& key_;
};

}  // namespace storenode::fog
