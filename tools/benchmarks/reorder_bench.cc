// bench reorder: the fog's background reorder run (fog/src/reorder.h) over a
// fog.db built through the components that own its tables: a catalog of N
// items, a delivery of each, and --days business days of sales booked by the
// read models as ingest books them. It times ReorderJob::RunOnce, which reads
// each item's history on its own connection, forecasts it and writes the
// suggestions in chunks. See ReorderBenchResult in schemas/bench.proto.
#include <malloc.h>

#include <chrono>
#include <fstream>

#include "bench.h"
#include "fog/src/reorder.h"
#include "fog/src/stock.h"
#include "host.h"
#include "sim/sim.h"
#include "stock_history.h"
#include "storenode/schemas/bench.pb.h"

namespace storenode::bench {
namespace {

constexpr std::string_view kUsage =
    "usage: bench reorder [--items N] [--days N] [--seed N]\n"
    "  builds a fog.db with N items (default 10000) and --days of sales (default 364),\n"
    "  then times the reorder job's run over every item\n";

struct Config {
  uint32_t items = 10000, days = 364, seed = 1;
};

using SteadyClock = std::chrono::steady_clock;
double Since(SteadyClock::time_point t) {
  return std::chrono::duration<double>(SteadyClock::now() - t).count();
}

Status Run(const Config& c, v1::ReorderBenchResult* r) {
  r->set_items(c.items);
  r->set_days(c.days);
  r->set_date(NowIso());
  r->set_cores(HostCores());
  SN_ASSIGN_OR_RETURN(TempDir temp, TempDir::Create("storenode-bench-reorder"));
  const std::string dir = temp.path();
  // The history starts on Monday 2025-01-06 at the default --days.
  const std::string today = AddDays("2025-01-06", static_cast<int>(c.days));
  ManualClock clock(0);
  fog::Config config;
  config.store_id = "bench";
  const v1::StoreSettings s = sim::SimStoreSettings("");
  config.store.name = s.name();
  config.store.time_zone = s.time_zone();
  config.store.currency = s.currency();
  config.store.currency_decimals = s.currency_decimals();
  config.store.tax_rates.assign(s.tax_rates().begin(), s.tax_rates().end());
  config.data_dir = dir;
  const auto start = SteadyClock::now();
  SN_ASSIGN_OR_RETURN(auto db, sql::Db::Open(dir + "/fog.db"));
  SN_ASSIGN_OR_RETURN(const uint64_t lines,
                      SeedStockHistory(*db, config, crypto::SigningKey::Generate(), clock, today,
                                       {c.items, c.days, c.seed}));
  r->set_sale_lines(lines);
  r->set_generate_s(Round(Since(start), 2));

  // The job's own peak from here: the generator's batches are freed and the
  // peak RSS is reset to what is resident now (Linux clear_refs 5).
  malloc_trim(0);
  std::ofstream("/proc/self/clear_refs") << "5";
  SN_ASSIGN_OR_RETURN(const ProcUsage before, ReadSelfUsage());
  clock.Set(DayStartMicros(today) + 8 * 3'600'000'000LL);
  fog::ReorderJob job(
      dir + "/fog.db", fog::StockConfig{}, clock, [&] { return today; },
      [&](std::function<void(sql::Db&)> write) {
        write(*db);
        return true;
      });
  const auto run = SteadyClock::now();
  SN_RETURN_IF_ERROR(job.RunOnce());
  const double reorder_s = Since(run);
  r->set_reorder_s(Round(reorder_s, 2));
  r->set_items_per_s(Round(c.items / reorder_s, 0));
  SN_ASSIGN_OR_RETURN(const ProcUsage after, ReadSelfUsage());
  r->set_peak_rss_mb(Round(after.peak_rss_mb, 1));
  r->set_rss_growth_mb(Round(after.peak_rss_mb - before.peak_rss_mb, 1));
  // Every stored suggestion (ReadReorder's answer stops at its cap of 5,000
  // items, so it would count only the first).
  SN_ASSIGN_OR_RETURN(sql::Stmt rows, db->Prepare("SELECT item FROM reorder_items"));
  uint64_t units = 0;
  uint32_t to_order = 0, planned = 0;
  while (true) {
    SN_ASSIGN_OR_RETURN(bool row, rows.Step());
    if (!row) break;
    v1::ReorderItem item;
    if (!item.ParseFromString(rows.Blob(0))) return Status::Corruption("a reorder_items row");
    ++planned;
    units += static_cast<uint64_t>(item.suggested());
    to_order += item.suggested() > 0 ? 1 : 0;
  }
  if (planned != c.items) {
    return Status::Corruption(std::to_string(planned) + " items planned of " +
                              std::to_string(c.items));
  }
  r->set_suggested_units(units);
  r->set_items_to_order(to_order);
  std::vector<std::string> first;
  for (uint32_t i = 0; i < std::min<uint32_t>(c.items, 256); ++i) first.push_back(StockSku(i));
  SN_ASSIGN_OR_RETURN(
      auto history, fog::DemandHistoryOf(*db, first, AddDays(today, -1), static_cast<int>(c.days)));
  uint32_t censored = 0;
  for (const fog::Series& h : history) {
    for (const auto& day : h.days) censored += day.censored ? 1 : 0;
  }
  r->set_censored_days(censored);
  return Status::Ok();
}

}  // namespace

int RunReorder(const std::vector<std::string>& args) {
  Config c;
  const Flag flags[] = {{"items", &c.items}, {"days", &c.days}, {"seed", &c.seed}};
  return RunMode<v1::ReorderBenchResult>(
      "reorder", kUsage, args, flags,
      [&] {
        if (c.items == 0 || c.days < 28) return Status::Invalid("items > 0, days >= 28");
        return Status::Ok();
      },
      [&](v1::ReorderBenchResult* r) { return Run(c, r); });
}

}  // namespace storenode::bench
