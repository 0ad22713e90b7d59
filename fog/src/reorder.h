// Reorder suggestions: how much of each item to order now, from its
// forecast, its stock and its catalog terms; computed in the background.
//
// NOTES ON THE DESIGN
// The arithmetic (OrderUpTo, SuggestedOrder) is pure and exact:
//   S         = the forecast's service-level quantile of total demand over
//               lead_time_days + review_days (whole units; safety stock is
//               S minus the mean over the same days);
//   need      = S - on_hand - on_order (thousandths, exact integers);
//   suggested = 0 when need <= 0; else need rounded UP to a whole number
//               of packs; if that is below min_order, min_order rounded up
//               to a whole number of packs.
//
// The job (ReorderJob) keeps the promise that forecasting never delays
// ingest or a close-down:
//  1. It runs on its own thread at the lowest CPU priority (SCHED_IDLE, or
//     nice 19 where that is refused), with
//     its own read-only connection to fog.db: WAL readers never block the
//     worker's writes, and the worker never waits for the job.
//  2. Memory is bounded by one chunk and a 16 MiB page cache of its own
//     connection: it reads kChunkItems catalog items at
//     a time, with their histories, forecasts them and hands the chunk's
//     results to the worker, which writes them in one short transaction
//     (reorder_items), and only then reads the next chunk.
//  3. A run is started at start-up, after each close-down and on
//     `storectl reorder --refresh`; a trigger during a run starts one more
//     run after it. With `[stock] reorder = false` the fog makes no job. A run's results replace
//     the last run's item by item; reorder_state says when the newest complete run finished.
//  4. Its answers are figures of one run: a reader sees the last complete
//     run's rows, or the rows of the run in progress and the last one's for
//     items not reached yet, never a half-written item.
//
// Thread contract: ReorderJob's Trigger(), running() and Stop() are safe
// from any thread; everything that writes fog.db runs on the worker through
// the `post` function it is given. ReorderItems/ReorderState read on the
// connection they are given.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "forecast.h"
#include "stock.h"
#include "storenode/common/catalog.h"
#include "storenode/common/sqlite.h"
#include "storenode/common/store_settings.h"
#include "storenode/fog/fog.h"

namespace storenode::fog {

// S: the `service_level` quantile of demand over lead + review days.
double OrderUpTo(const forecast::Forecast& f, int lead_time_days, int review_days,
                 double service_level);
// The suggested order in units (a multiple of pack_size; NOTES).
int64_t SuggestedOrder(double order_up_to, int64_t on_hand_milli, int64_t on_order_milli,
                       uint32_t pack_size, uint32_t min_order);

// One item's suggestion from its history, terms and stock: forecast with
// the default method of its class over max(28, lead + review) days.
v1::ReorderItem PlanItem(const Series& history, const v1::CatalogItem& item, const Level& level,
                         const StockConfig& config, int64_t now_us);

// Reads of the job's tables, on any connection.
// The newest suggestions, by supplier then sku; `supplier` "" for every
// one, "(none)" for items without one; `sku` "" for every item; unless
// `all` or a sku is given, only items with a suggestion > 0.
Result<v1::ReorderResponse> ReadReorder(sql::Db& db, const std::string& supplier,
                                        const std::string& sku, bool all);

class ReorderJob {
 public:
  // Items per chunk (NOTES 2).
  static constexpr size_t kChunkItems = 256;
  // `post` runs a function on the worker (the daemon's task queue) and
  // returns once it ran, or false when it could not (the fog is stopping).
  // `today` gives the store's business day now ("" when it cannot): the
  // history ends the day before, since today is not over.
  ReorderJob(std::string db_path, StockConfig config, const Clock& clock,
             std::function<std::string()> today,
             std::function<bool(std::function<void(sql::Db&)>)> post);
  ~ReorderJob();
  void Start();
  void Stop();
  void Trigger();
  bool running() const { return running_; }
  // Runs to the end on the calling thread (tests, the bench).
  Status RunOnce();

 private:
  void Loop();

  const std::string db_path_;
  const StockConfig config_;
  const Clock& clock_;
  std::function<std::string()> today_;
  std::function<bool(std::function<void(sql::Db&)>)> post_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool triggered_ = false, stopping_ = false;
  std::atomic<bool> running_{false};
  std::thread thread_;
};

}  // namespace storenode::fog
