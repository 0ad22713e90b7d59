// Stock: what the store holds of each item, as a ledger of movements, and
// the daily demand history that forecasts and reorders read from it.
//
// NOTES ON THE DESIGN
// Promise: stock on hand of an item is the sum of its movements, and every
// movement is booked exactly once, in the same transaction as its cause: a
// sale or refund with the stored event (ingest), a manager's receive,
// count, adjust or order with its entry in the signed action journal.
//
// Invariants:
//  1. stock_moves is append-only but for the day rows of invariant 2.
//     Quantities are thousandths of the item's unit: a piece line moves
//     qty x 1000, a measured line (kg, l, m) its qty_milli, so weighed goods
//     keep their grams (StockLinesOf); a manager's quantity is whole units
//     of a piece item and up to three decimals of a measured one
//     (lines::ParseMilli, the unit of the catalog entry in force). A
//     voided receipt moves nothing (it was never paid), nor does a
//     training-mode event (StockLinesOf).
//  2. Sales and refunds are booked as two running sums per item and
//     business day, kinds `day_sales` (-) and `day_refunds` (+), by
//     SaleMoves, which ingest calls only for events it stores for the first
//     time (ingest.h: a duplicate or a redelivered batch is not stored
//     again, so it is not booked again). A rolled-back transaction forgets
//     what was staged (Clear). Where the order of sales within a day
//     matters (a count's book, a censored day), it is read from that day's
//     stored events (ForEachEventOfDay), never kept twice.
//  3. Time order: a manager movement has its instant; a sale or refund is
//     at (its business day, its wall time). It is at or before a count of
//     (day D, instant T) when its day is before D, or its day is D and its
//     wall time <= T. A count fixes the level at T: it books counted -
//     book(T), book(T) = the movements with at_us <= T (day rows: of the
//     days before D) plus the sales and refunds of D's stored events up to
//     T. A sale or refund at or before a count that is ingested after it (a
//     till that was offline) was already off the shelf when it was
//     counted: its day row takes it, and an equal and opposite `count_late`
//     movement is booked at the earliest count at or after it, so every
//     count's level, and on hand, stay what was counted. Events after T
//     count against the counted level.
//  4. A manager request applies all its lines or none (one transaction with
//     its action journal entry), and at most once per request_id: the
//     answer is kept in stock_requests, so a resend, or a retry after the
//     fog died between commit and answer, gets the first answer.
//  5. On order: `stock order` adds, a receive takes off what it receives
//     (never below 0).
//  6. Demand history (DemandHistoryOf): a business day's demand of an item is
//     its sold minus refunded quantity that day (its day rows), at least 0.
//     The day is censored when the item's on-hand was <= 0 at the end of
//     the day or right after any of its sales that day: the shelf was empty
//     at some point, so the day's sales only bound its demand from below.
//     The day rows decide most days (end <= 0: censored; the level at the
//     day's start, less its stock-reducing movements and all its sales,
//     still > 0: not); only a day they cannot decide (a refund, delivery or
//     count the same day near zero) is walked in order from its stored
//     events. An item's stock is tracked from its first receive or count
//     on; before that no sale censors a day (the book then knows no stock).
//
// Not thread-safe: the fog's worker owns a Stock; the free readers below
// take any connection (the reorder job reads on its own, reorder.h).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "action_journal.h"
#include "forecast.h"
#include "settings.h"
#include "storenode/common/clock.h"
#include "storenode/common/journal_format.h"
#include "storenode/common/money.h"
#include "storenode/common/sqlite.h"
#include "storenode/schemas/fog.pb.h"

namespace storenode::fog {

// Tables (store.h, schema version 6; this file alone names them):
//   stock_moves     the ledger: one row per manager movement, one per item
//                   and day for its sales and one for its refunds (invariants
//                   1, 2), clustered by (sku, at_us).
//   stock_on_order  units on order per sku (invariant 5).
//   stock_requests  request_id -> the serialized answer (invariant 4).

// Limits on a manager's stock file (hostile input: refused whole above them).
inline constexpr size_t kMaxStockFileBytes = 4 << 20;
inline constexpr size_t kMaxStockLines = 50'000;
inline constexpr size_t kMaxReasonBytes = 200;
// A count may be dated back at most this far (a count is typed in after it
// was made, rarely days later).
inline constexpr int64_t kMaxCountAgeUs = int64_t{30} * 86'400'000'000;

// One item's demand history (forecast.h), the price in minor units.
using forecast::Series;

// On hand and on order of one item.
struct Level {
  int64_t on_hand_milli = 0;
  int64_t on_order_milli = 0;
};

// What one event moves, per sku of its lines (summed), in signed
// thousandths: a SALE's lines -, a REFUND's +; nothing for any other event
// and nothing for a training-mode event (invariant 1). The one place where
// events become stock, for ingest (SaleMoves) and for the readers of a
// day's stored events alike.
std::vector<std::pair<std::string, int64_t>> StockLinesOf(const v1::EventHeader& header,
                                                          const v1::EventBody& body);

// Sales and refunds staged during an ingest transaction (invariant 2).
class SaleMoves {
 public:
  void Add(const DecodedEvent& event);
  // Inside the ingest transaction: adds the staged quantities to their day
  // rows and books the count_late movements of invariant 3.
  Status Flush(sql::Db& db);
  void Clear() { staged_.clear(); }

 private:
  struct Staged {
    std::string sku, day, ref;
    int64_t at_us = 0, qty_milli = 0;
  };
  std::vector<Staged> staged_;  // one per event and sku
};

class Stock {
 public:
  // Every change is recorded in `actions`, in its transaction; business
  // days of manager movements come from the settings' calendar.
  Stock(sql::Db& db, const Clock& clock, ActionJournal& actions, const SettingsIssuer& settings)
      : db_(db), clock_(clock), actions_(actions), settings_(settings) {}

  v1::FogResponse Receive(const v1::StockReceiveRequest& request, const std::string& actor);
  v1::FogResponse Count(const v1::StockCountRequest& request, const std::string& actor);
  v1::FogResponse Adjust(const v1::StockAdjustRequest& request, const std::string& actor);
  v1::FogResponse Order(const v1::StockOrderRequest& request, const std::string& actor);
  v1::FogResponse Show(const v1::StockShowRequest& request);

 private:
  // Runs `make` (which parses and checks, returning the moves to book, or
  // the refusal) and books its moves with their journal entry, once per
  // request_id (invariant 4).
  v1::FogResponse Apply(const std::string& request_id, const std::string& actor,
                        const std::string& action, const std::string& detail,
                        const std::function<Result<v1::StockChangeResponse>()>& make);
  Status Book(const v1::StockMove& move, const std::string& ref);

  sql::Db& db_;
  const Clock& clock_;
  ActionJournal& actions_;
  const SettingsIssuer& settings_;
};

// Typed readers of the stock tables, on any connection.
// Levels of every item with a movement or on order, by sku.
Result<std::map<std::string, Level>> StockLevels(sql::Db& db);
// The demand history of `skus` (distinct; every one gets a series, zeros
// if it sold nothing) over the `days` business days ending with `last_day`
// (invariant 6): one ordered scan of their rows, plus the stored events of
// the days the rows cannot decide. Prices are left 0: the caller knows the
// catalog.
Result<std::vector<Series>> DemandHistoryOf(sql::Db& db, const std::vector<std::string>& skus,
                                            const std::string& last_day, int days);
// The weekday of series.first_day, 0 = Monday (forecast::Predict's
// first_weekday).
int FirstWeekday(const Series& series);
// The same for every item that sold or was refunded in the `days` business
// days up to the latest day with sales, by sku, priced from the catalog
// (for `storectl forecast backtest` and the forecast bench).
Result<std::vector<Series>> DemandHistory(sql::Db& db, int days);

}  // namespace storenode::fog
