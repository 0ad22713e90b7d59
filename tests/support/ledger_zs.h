// Real Zs for the ledger's tests: serialized ZReports, hashed and signed
// with a fog key the way the fog's close-down does, chained per store.
#pragma once

#include <cstdint>
#include <string>

#include "storenode/common/crypto.h"
#include "storenode/schemas/closedown.pb.h"
#include "storenode/schemas/ledger.pb.h"

namespace storenode::testing {

// What the fog does to a Z it issues (fog/src/closedown.cc).
v1::SignedZ SignZ(const crypto::SigningKey& key, const std::string& z_bytes);

// One store's fog: its key and the chain of the Zs it issued.
struct FakeFog {
  explicit FakeFog(std::string id) : store(std::move(id)) {}
  // Z `number` with figures that depend on `net_sales`, chained to `prev`.
  v1::ZReport MakeZ(uint64_t number, const std::string& prev, int64_t net_sales) const;
  // The next Z of the chain, signed; the chain moves on.
  v1::SignedZ Next(int64_t net_sales = 10'000);

  std::string store;
  crypto::SigningKey key = crypto::SigningKey::Generate();
  uint64_t next = 1;
  std::string prev_hash = std::string(32, '\0');
};

v1::LedgerRequest SubmitOf(const v1::SignedZ& z, uint64_t known_tree_size = 0, uint64_t id = 1);

// Accepted, and its receipt verifies end to end against the ledger's key.
v1::LedgerReceipt CheckAccepted(const v1::LedgerAnswer& a, const v1::SignedZ& z,
                                const crypto::PublicKey& ledger_key);

}  // namespace storenode::testing
