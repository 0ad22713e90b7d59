// A store's stock and sales history in a fog.db, for the benches that run the
// reorder job: `bench reorder` times the job alone, `bench sync
// --reorder-items` drains a backlog while storenode-fogd runs it.
//
// The tables are written through the components that own them (Catalog,
// Stock, ReadModels), so the job reads what a real fog would hold.
#pragma once

#include <cstdint>
#include <string>

#include "storenode/common/clock.h"
#include "storenode/common/crypto.h"
#include "storenode/common/sqlite.h"
#include "storenode/fog/fog.h"

namespace storenode::bench {

struct StockHistoryOptions {
  uint32_t items = 10000;
  uint32_t days = 364;  // business days of sales, the last one the day before `today`
  uint32_t seed = 1;
};

// "R-000042": the sku of item 42.
std::string StockSku(uint32_t item);

// Migrates `db` and fills it as store `config` with:
//  - a catalog of `items` items, each with a supplier (20 of them), a lead
//    time of 1..7 days and a pack of 1..6;
//  - one delivery of 20..219 units of each, on the first day;
//  - `days` business days of sales up to the day before `today`, one SALE
//    event a day with a line for each item that sold: Poisson with a rate
//    per item (a quarter are intermittent, 0.2 a day) and a weekly profile.
// `clock` is set to 08:00 UTC of the first day for the catalog and the
// delivery, and left there. Returns the sale lines booked.
Result<uint64_t> SeedStockHistory(sql::Db& db, const fog::Config& config,
                                  const crypto::SigningKey& key, ManualClock& clock,
                                  const std::string& today, const StockHistoryOptions& options);

}  // namespace storenode::bench
