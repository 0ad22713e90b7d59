// bench chain (chain_bench.cc) and its store processes, `bench chain-stores`
// (chain_stores.cc): what both sides share.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "storenode/common/crypto.h"
#include "storenode/schemas/closedown.pb.h"

namespace storenode::bench {

// One simulated store's fog: its own key and the chain of the Zs it issued,
// signed as fog/src/closedown.cc signs them.
struct ChainFog {
  explicit ChainFog(std::string id) : store(std::move(id)) {}
  // The next Z of the chain, a realistic one (8 tills, 4 tax lines, 4
  // tenders, drawers and counts: about 2.3 KB serialized); the chain moves on.
  v1::SignedZ Next();

  std::string store;
  crypto::SigningKey key = crypto::SigningKey::Generate();
  uint64_t next = 1;
  std::string prev_hash = std::string(32, '\0');
};

// The store id of simulated store `index` (0-based): "bench-s000001".
std::string ChainStoreId(uint32_t index);

// The files through which the parent paces its store processes: each
// writes ready-<first> once its connections are up, then waits for
// go-<phase> (holding the phase's start, CLOCK_MONOTONIC ns) and writes
// done-<phase>-<first> once its Zs of that phase are receipted.
std::string ChainSignalPath(const std::string& dir, std::string_view what);

inline constexpr std::string_view kChainPhases[] = {"rate", "max", "burst"};

}  // namespace storenode::bench
