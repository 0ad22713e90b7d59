// storenode::sim::demand: seeded daily demand histories of many items, for
// pos-sim demand, the forecast backtest, its tests and bench forecast.
//
// Every item is generated from its own std::mt19937_64, seeded from (seed,
// item index), through samplers written here (uniform from the top 53 bits,
// Poisson and negative binomial by inverse CDF): no std::*_distribution,
// whose outputs differ between standard libraries. So an item's history
// depends only on (seed, index, days), items can be generated one at a time
// in any order, and the same seed writes the same file everywhere (up to
// the last bit of libm's exp/log). docs/FORECAST.md states the process.
//
// Pure functions; safe to call from several threads at once.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "storenode/common/status.h"

namespace storenode::sim::demand {

// The pattern an item is drawn from (40/30/15/15 %). Its measured
// Syntetos-Boylan class may differ: a slow smooth item can look intermittent.
enum class Pattern { kSmooth, kIntermittent, kErratic, kLumpy };
std::string_view Name(Pattern);

struct Options {
  int items = 1000;
  int days = 365;
  uint64_t seed = 1;
  std::string start = "2025-01-06";  // the first day, a Monday by default
};
// items in 1..10,000,000, days in 1..3,660, start a valid YYYY-MM-DD.
Status Check(const Options& options);

struct Item {
  std::string sku;  // "SKU-0000001" for index 0
  Pattern pattern;
  double price;                 // major units, two decimals, constant
  std::vector<double> qty;      // observed sales per day (capped on stock-out days)
  std::vector<double> on_hand;  // end-of-day stock; 0 on a stock-out day
  std::vector<double> demand;   // the true demand, which a stock-out hides
  int promo_days = 0;
  int stockout_days = 0;
};

// Item `index` (0-based) of the options' histories.
Item Generate(const Options& options, int index);

// Writes "date,sku,qty,on_hand,price" with a header row, item by item and
// day by day (only one item in memory). Fails on a bad option or a write
// error.
Status WriteCsv(const Options& options, std::ostream& out);

}  // namespace storenode::sim::demand
