// Backtest: the forecast methods (forecast.h) judged on a store's own daily
// history by rolling origins, with the measures of the M5 competition and a
// simulation of the reorder policy. Also the history file it reads from
// `storectl forecast backtest --history`. docs/FORECAST.md gives the
// procedure and every formula.
//
// NOTES
// 1. Honest: a forecast made at an origin sees only the days before it; every
//    method is measured on the same (series, origin) pairs and days.
// 2. A censored day (out of stock) is in no measure: not in RMSSE, WRMSSE,
//    bias, pinball, coverage or fill rate, nor in the scales. In the reorder
//    simulation it still sells what was observed (a lower bound of demand).
// 3. A pair without an uncensored test day is dropped from every measure; a
//    pair whose naive scale is 0 (a constant history) is kept for bias, fill
//    rate and stock but dropped from RMSSE, WRMSSE and pinball.
//
// Pure functions; safe to call from several threads at once.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "forecast.h"
#include "storenode/common/status.h"
#include "storenode/schemas/forecast.pb.h"

namespace storenode::fog::backtest {

using forecast::Series;

// Every series has the same number of days, from first_date on (each
// series' first_day).
struct History {
  std::string first_date;  // YYYY-MM-DD
  std::vector<Series> series;
};

struct Options {
  int origins = 6;
  int horizon = forecast::kDefaultHorizon;
  int lead_days = 3;  // an order placed at a review arrives this many days later
  int review_days = 7;
  double service_level = 0.95;            // of the order-up-to level's quantile
  std::vector<forecast::Method> methods;  // empty: all (forecast::kAllMethods)
};
// origins 1..52, horizon 1..91, lead 0..60, review 1..60, lead + review <=
// horizon, service level in (0.5, 1).
Status Check(const Options& options);

// Origins are spaced by the horizon and end at the end of the data: the
// last test window is the history's last `horizon` days. At least 56 days
// must precede the first origin, else the call fails with the reason.
Result<v1::BacktestReport> Run(const History& history, const Options& options);

// The same over items read one at a time, so that only one item's days are
// in memory (the fog's source): `next` fills *series (days from first_date,
// `days` of them) and returns true, or false after the last item; an error
// it returns ends the run with that error.
using SeriesSource = std::function<Result<bool>(Series* series)>;
Result<v1::BacktestReport> Run(const std::string& first_date, size_t days, const SeriesSource& next,
                               const Options& options);

// Limits of a history file.
struct CsvLimits {
  size_t max_bytes = 64u << 20;
  size_t max_rows = 2'000'000;
  int max_days = 3660;  // from the first date to the last
};

// Parses `date,sku,qty[,on_hand][,price]` (a header row naming the columns,
// in any order; ISO dates). A row with on_hand <= 0 is a censored day. Days
// of the range without a row are zero demand, except before an item's first
// row, where they are censored (not yet on sale). price is the last one
// given. The first bad row fails the whole file: "line N: reason".
Result<History> ParseHistoryCsv(std::string_view text, const CsvLimits& limits = {});

// The report as a table for people, ending with a newline.
std::string Text(const v1::BacktestReport& report);

}  // namespace storenode::fog::backtest
