// The close-down's typed interface: its stored Zs, as the other stages read them.
//
// The close-down owns zreports and closedowns (store.h): closedown.cc alone
// writes them, and only its files (closedown.cc, this header) name them. The
// forwarder (the ledger outbox), metrics and audit read them through these
// typed functions, implemented in closedown.cc. Each is one query.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "storenode/common/sqlite.h"
#include "storenode/schemas/closedown.pb.h"

namespace storenode::fog {

// One stored Z or supplement. `z` holds its bytes, hash and signature (not
// the fog's public key).
struct StoredZ {
  uint64_t z_number = 0;
  v1::SignedZ z;
};

// The Zs of a business day, by part (the Z, then its supplements).
Result<std::vector<StoredZ>> ZsOf(sql::Db& db, const std::string& day);
// Zs 1 to `up_to` as stored, in Z order, one at a time to `visit` (stops at
// the first error it returns).
Status ForEachZ(sql::Db& db, uint64_t up_to, const std::function<Status(StoredZ&)>& visit);
// The highest Z number, 0 if none.
Result<uint64_t> LastZNumber(sql::Db& db);
// The bytes of Z `z_number`, if stored.
Result<std::optional<std::string>> ZBytes(sql::Db& db, uint64_t z_number);

// The newest Z (part 0) with its close-down's first request time.
struct NewestCloseDown {
  std::string business_day;
  int64_t requested_us = 0;
  std::string z;  // its bytes
};
Result<std::optional<NewestCloseDown>> LastCloseDown(sql::Db& db);

// The ledger outbox (forwarder.h, invariant 1): the Zs after the highest one
// with a row in ledger_receipts. These two queries join the forwarder's
// ledger_receipts, so they live here, with the table they read the Zs from.
// The lowest undelivered Z, if any.
Result<std::optional<StoredZ>> NextUndelivered(sql::Db& db);
// How many Zs are undelivered.
Result<uint64_t> UndeliveredCount(sql::Db& db);

}  // namespace storenode::fog
