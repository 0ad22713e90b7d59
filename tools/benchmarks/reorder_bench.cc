// bench reorder: the fog's background reorder run (fog/src/reorder.h) over a
// fog.db built through the components that own its tables: a catalog of N
// items, a delivery of each, and --days business days of sales booked by the
// read models as ingest books them. It times ReorderJob::RunOnce, which reads
// each item's history on its own connection, forecasts it and writes the
// suggestions in chunks. See ReorderBenchResult in schemas/bench.proto.
#include <malloc.h>

#include <chrono>
#include <fstream>
#include <random>

#include "bench.h"
#include "fog/src/action_journal.h"
#include "fog/src/catalog.h"
#include "fog/src/read_models.h"
#include "fog/src/reorder.h"
#include "fog/src/settings.h"
#include "fog/src/stock.h"
#include "fog/src/store.h"
#include "host.h"
#include "sim/sim.h"
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

std::string Sku(uint32_t i) {
  char s[16];
  std::snprintf(s, sizeof s, "R-%06u", i);
  return s;
}

Status Run(const Config& c, v1::ReorderBenchResult* r) {
  r->set_items(c.items);
  r->set_days(c.days);
  r->set_date(NowIso());
  r->set_cores(HostCores());
  SN_ASSIGN_OR_RETURN(TempDir temp, TempDir::Create("storenode-bench-reorder"));
  const std::string dir = temp.path();
  const std::string first_day = "2025-01-06";  // a Monday
  ManualClock clock(DayStartMicros(first_day) + 8 * 3'600'000'000LL);
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
  SN_RETURN_IF_ERROR(sql::Migrate(*db, "fog.db", fog::kFogMigrations).status());
  const crypto::SigningKey key = crypto::SigningKey::Generate();
  fog::ActionJournal actions(*db, clock, config.store_id, key);
  fog::SettingsIssuer settings(*db, config, clock, actions, key);
  SN_RETURN_IF_ERROR(settings.Load());
  fog::Catalog catalog(*db, config, clock, actions, settings);
  SN_RETURN_IF_ERROR(catalog.Load());
  fog::Stock stock(*db, clock, actions, settings);

  std::string csv =
      "sku,barcodes,name,price,tax_code,department,active,supplier,lead_time_days,pack_size,"
      "min_order\n";
  for (uint32_t i = 0; i < c.items; ++i) {
    csv += Sku(i) + ",,Item " + std::to_string(i) + "," + std::to_string(100 + i % 900) +
           ",A,d,1,S" + std::to_string(i % 20) + "," + std::to_string(1 + i % 7) + "," +
           std::to_string(1 + i % 6) + ",0\n";
  }
  v1::CatalogImportRequest import;
  import.set_csv(csv);
  v1::FogResponse imported = catalog.Import(import, "bench");
  if (!imported.ok()) return Status::Invalid("catalog import: " + imported.error());
  for (uint32_t from = 0; from < c.items; from += fog::kMaxStockLines) {
    std::string note = "sku,quantity,cost\n";
    for (uint32_t i = from; i < std::min<uint32_t>(c.items, from + fog::kMaxStockLines); ++i) {
      note += Sku(i) + "," + std::to_string(20 + i % 200) + ",50\n";
    }
    v1::StockReceiveRequest receive;
    receive.set_csv(note);
    receive.set_request_id("bench-" + std::to_string(from));
    v1::FogResponse received = stock.Receive(receive, "bench");
    if (!received.ok()) return Status::Invalid("receive: " + received.error());
  }
  // One SALE event per day with a line for each item that sold: a rate per
  // item (some intermittent), a weekly profile.
  std::mt19937 rng(c.seed);
  std::vector<double> rate(c.items);
  for (uint32_t i = 0; i < c.items; ++i) {
    rate[i] = i % 4 == 0 ? 0.2 : 0.5 + (i % 13) * 0.4;
  }
  const double week[7] = {0.8, 0.9, 0.9, 1.0, 1.2, 1.5, 0.7};
  uint64_t lines = 0;
  fog::ReadModels models;
  for (uint32_t d = 0; d < c.days; ++d) {
    const std::string day = AddDays(first_day, static_cast<int>(d));
    DecodedEvent e;
    e.header.set_device_id("till-1");
    e.header.set_seq(d + 1);
    e.header.set_kind(v1::SALE);
    e.header.set_business_day(day);
    e.header.set_wall_time_us(DayStartMicros(day) + 12 * 3'600'000'000LL);
    for (uint32_t i = 0; i < c.items; ++i) {
      const int64_t q = std::poisson_distribution<int64_t>(rate[i] * week[d % 7])(rng);
      if (q == 0) continue;
      v1::SaleLine* l = e.body.mutable_sale()->add_lines();
      l->set_sku(Sku(i));
      l->set_qty(q);
      l->set_gross(q * 100);
      ++lines;
    }
    // Four weeks per transaction: each item's day rows are neighbours in
    // their table, so a batch rewrites a page once, not once a day (a day a
    // transaction wrote ~40 GB of WAL for 10,000 items).
    models.Add(e, 0);
    if ((d + 1) % 28 == 0 || d + 1 == c.days) {
      sql::Transaction txn(*db);
      SN_RETURN_IF_ERROR(txn.begin_status());
      SN_RETURN_IF_ERROR(models.Flush(*db));
      SN_RETURN_IF_ERROR(txn.Commit());
      models = fog::ReadModels();
    }
  }
  r->set_sale_lines(lines);
  r->set_generate_s(Round(Since(start), 2));

  // The job's own peak from here: the generator's batches are freed and the
  // peak RSS is reset to what is resident now (Linux clear_refs 5).
  malloc_trim(0);
  std::ofstream("/proc/self/clear_refs") << "5";
  SN_ASSIGN_OR_RETURN(const ProcUsage before, ReadSelfUsage());
  const std::string today = AddDays(first_day, static_cast<int>(c.days));
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
  for (uint32_t i = 0; i < std::min<uint32_t>(c.items, 256); ++i) first.push_back(Sku(i));
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
