// Helpers for tests that drive a till journal directly.
#pragma once

#include <string>

#include "storenode/edge.h"

namespace storenode::testing {

// Options for a test journal in `dir` of store "store-1" with the simulated
// store's settings (sim::SimSettings: UTC, EUR, A=20%, B=5.5%, C=0%) but
// no cash rounding.
edge::Options TillOptions(const std::string& dir, const std::string& device,
                          const Clock* clock = nullptr);

// A sale of `qty` x `sku` at `price` under `tax_code`, paid by one tender
// of `type` for the exact total.
v1::Sale SimpleSale(const std::string& sku, int64_t qty, int64_t price,
                    const std::string& tax_code = "A", v1::TenderType type = v1::CASH);

}  // namespace storenode::testing
