// bench journal: how close Journal::RecordSale() comes to the raw limit of
// the disk, a single-row durable SQLite commit.
//
// Both sides run in the same process, alternating in chunks (record, raw,
// record, raw, ...) so that disk noise, other writers and the host's cache
// flushes hit both alike:
//   record: RecordSale() of a realistic sale (2-4 lines, cash or card) on a
//           fresh journal, timed around the call only: the POS has priced
//           the sale (PriceSale) before, as it must to show the amount due.
//   raw:    BEGIN IMMEDIATE; INSERT one blob row; COMMIT, on a separate file
//           with the journal's settings (WAL, synchronous=FULL). The blob is
//           as large as the average stored sale event (header, body,
//           prev_hash, hash, signature), measured from the journal before the
//           first raw commit.
// The sales are pseudo-random with a fixed seed, so every run records the
// same sales. Target (from the issue): record p50 <= 2x raw p50 and record
// p99 <= 3x raw p99.

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <random>

#include "bench.h"
#include "sim/json.h"
#include "sim/sim.h"
#include "storenode/common/scale_label.h"
#include "storenode/common/sqlite.h"
#include "storenode/edge.h"
#include "storenode/schemas/bench.pb.h"

namespace storenode::bench {
namespace {

constexpr std::string_view kUsage =
    "usage: bench journal [--sales N] [--warmup N] [--chunk N] [--dir DIR] [--mix all|classic]\n"
    "  --sales N   timed RecordSale() calls, and as many raw commits (default 10000)\n"
    "  --warmup N  untimed calls on each side before timing (default 200)\n"
    "  --chunk N   calls per side before switching to the other (default 1000)\n"
    "  --dir DIR   write till-1.db and raw.db there and keep them (default: a fresh\n"
    "              directory under /tmp, removed at the end)\n"
    "  --mix M     all (default): one sale in four also has a line sold by the kg,\n"
    "              and the sales carry sim::SimPromotions(), priced by\n"
    "              Journal::ApplyPromotions; classic: piece lines only, the\n"
    "              round-1 sales\n";

constexpr double kTargetRatioP50 = 2.0;
constexpr double kTargetRatioP99 = 3.0;

struct Config {
  uint32_t sales = 10000;
  uint32_t warmup = 200;
  uint32_t chunk = 1000;
  std::string dir;
  std::string mix = "all";
};

// Makes the bench's sales: 2-4 lines of the simulator's catalog, mostly
// single items, a discount on one line in ten, paid by card (60%) or cash
// handed over in notes. Unlike sim::TillSim, which records a whole mix of
// events itself, it only builds the sale, so that the bench can time
// RecordSale() alone. With `all`, one sale in four also has a line of
// sim::MeasuredCatalog() (0.050 .. 3.000 of its unit, from a scale label),
// and the POS prices promotions itself (Journal::ApplyPromotions, catalog
// version 0): the bench's till has no catalog replica to name them.
class SaleMaker {
 public:
  SaleMaker(uint64_t seed, bool all) : rng_(seed), weighed_(all), promotions_(all) {}

  Result<v1::Sale> Next(const edge::Journal& journal) {
    v1::Sale sale;
    const std::vector<sim::CatalogItem>& catalog = sim::Catalog();
    int lines = Uniform(2, 4);
    for (int i = 0; i < lines; ++i) {
      const sim::CatalogItem& item = catalog[Uniform(0, static_cast<int>(catalog.size()) - 1)];
      v1::SaleLine* line = sale.add_lines();
      line->set_sku(std::string(item.sku));
      line->set_barcode(line->sku());
      line->set_name(std::string(item.name));
      int qty_roll = Uniform(1, 10);
      line->set_qty(qty_roll <= 7 ? 1 : qty_roll <= 9 ? 2 : 3);
      line->set_unit_price(item.price);
      line->set_tax_code(std::string(item.tax_code));
      if (Uniform(1, 10) == 1) line->set_discount(line->qty() * line->unit_price() / 10);
    }
    if (weighed_ && Uniform(1, 4) == 1) AddMeasuredLine(&sale);
    sale.set_cashier("c" + std::to_string(Uniform(1, 4)));
    if (promotions_) {
      std::vector<std::string> departments;
      for (const v1::SaleLine& l : sale.lines()) departments.push_back(sim::SimDepartment(l.sku()));
      SN_RETURN_IF_ERROR(journal.ApplyPromotions(&sale, departments, sim::SimPromotions()));
    } else {
      sale.set_catalog_version(1);
    }
    // The amount due depends on the tender type (cash rounding), so the type
    // is set before pricing and the amount after.
    bool cash = Uniform(1, 10) <= 4;
    v1::Tender* tender = sale.add_tenders();
    tender->set_type(cash ? v1::CASH : v1::CARD);
    SN_RETURN_IF_ERROR(journal.PriceSale(&sale));
    tender->set_amount(sale.total());
    if (cash) {
      tender->set_tendered((sale.total() / 500 + 1) * 500);
    } else {
      tender->set_reference(std::to_string(Uniform(100000, 999999)));
    }
    return sale;
  }

 private:
  int Uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

  void AddMeasuredLine(v1::Sale* sale) {
    const std::vector<sim::CatalogItem>& measured = sim::MeasuredCatalog();
    const sim::CatalogItem& item = measured[Uniform(0, static_cast<int>(measured.size()) - 1)];
    v1::SaleLine* line = sale->add_lines();
    line->set_sku(std::string(item.sku));
    line->set_name(std::string(item.name));
    line->set_unit(item.unit);
    line->set_qty_milli(Uniform(50, 3000));
    const std::string first12 = line->sku() + std::to_string(100000 + line->qty_milli()).substr(1);
    line->set_barcode(first12 + std::to_string(scale::Ean13CheckDigit(first12)));
    line->set_unit_price(item.price);
    line->set_tax_code(std::string(item.tax_code));
  }

  std::mt19937_64 rng_;
  bool weighed_;
  bool promotions_;
};

// The raw limit: one durable single-row transaction per call.
class RawBaseline {
 public:
  static Result<std::unique_ptr<RawBaseline>> Open(const std::string& path, uint32_t row_bytes) {
    sql::OpenOptions options;
    options.wal = true;
    options.sync = sql::Sync::kFull;
    SN_ASSIGN_OR_RETURN(std::unique_ptr<sql::Db> db, sql::Db::Open(path, options));
    SN_RETURN_IF_ERROR(
        db->Exec("CREATE TABLE IF NOT EXISTS rows(id INTEGER PRIMARY KEY, payload BLOB NOT NULL)"));
    SN_ASSIGN_OR_RETURN(sql::Stmt insert,
                        db->Prepare("INSERT INTO rows(id, payload) VALUES(?, ?)"));
    // Incompressible bytes, like the hashes and signature of an event.
    std::string row(row_bytes, '\0');
    std::mt19937 rng(7);
    for (char& c : row) c = static_cast<char>(rng());
    return std::make_unique<RawBaseline>(std::move(db), std::move(insert), std::move(row));
  }

  RawBaseline(std::unique_ptr<sql::Db> db, sql::Stmt insert, std::string row)
      : db_(std::move(db)), insert_(std::move(insert)), row_(std::move(row)) {}

  Status Commit() {
    sql::Transaction txn(*db_);
    SN_RETURN_IF_ERROR(txn.begin_status());
    insert_.Bind(1, next_id_).BindBlob(2, row_);
    SN_RETURN_IF_ERROR(insert_.Run());
    SN_RETURN_IF_ERROR(txn.Commit());
    ++next_id_;
    return Status::Ok();
  }

 private:
  std::unique_ptr<sql::Db> db_;  // declared first: outlives insert_
  sql::Stmt insert_;
  std::string row_;
  int64_t next_id_ = 1;
};

// The wall time of each timed call, and their CPU time in total.
struct Samples {
  std::vector<int64_t> wall_ns;
  int64_t cpu_ns = 0;
};

// Runs `fn` and adds its times to `samples` (nothing when null: warmup).
template <typename Fn>
Status Timed(Samples* samples, Fn&& fn) {
  int64_t cpu_start = ThreadCpuNanos();
  auto start = std::chrono::steady_clock::now();
  Status status = fn();
  auto end = std::chrono::steady_clock::now();
  int64_t cpu_end = ThreadCpuNanos();
  if (samples != nullptr) {
    samples->wall_ns.push_back(
        std::chrono::duration_cast<std::chrono::nanoseconds>(end - start).count());
    samples->cpu_ns += cpu_end - cpu_start;
  }
  return status;
}

Status RecordSales(edge::Journal& journal, SaleMaker& maker, uint32_t count, Samples* samples) {
  for (uint32_t i = 0; i < count; ++i) {
    SN_ASSIGN_OR_RETURN(v1::Sale sale, maker.Next(journal));
    SN_RETURN_IF_ERROR(Timed(samples, [&] { return journal.RecordSale(sale).status(); }));
  }
  return Status::Ok();
}

Status RawCommits(RawBaseline& raw, uint32_t count, Samples* samples) {
  for (uint32_t i = 0; i < count; ++i) {
    SN_RETURN_IF_ERROR(Timed(samples, [&] { return raw.Commit(); }));
  }
  return Status::Ok();
}

// Mean CPU microseconds per timed call.
double CpuMeanMicros(const Samples& samples) {
  if (samples.wall_ns.empty()) return 0;
  return samples.cpu_ns / 1000.0 / static_cast<double>(samples.wall_ns.size());
}

// Average stored bytes of the journal's sale events: what one RecordSale()
// adds to the events table besides its index columns.
Result<uint32_t> AverageSaleEventBytes(const edge::Journal& journal) {
  constexpr size_t kBatch = 1000;
  uint64_t bytes = 0, sales = 0;
  uint64_t from = 1;
  while (true) {
    SN_ASSIGN_OR_RETURN(std::vector<v1::JournalEvent> events, journal.ReadEvents(from, kBatch));
    for (const v1::JournalEvent& ev : events) {
      v1::EventHeader header;
      if (!header.ParseFromString(ev.header())) {
        return Status::Corruption("cannot parse an event header of the bench journal");
      }
      if (header.kind() != v1::SALE) continue;
      bytes += ev.header().size() + ev.body().size() + ev.prev_hash().size() + ev.hash().size() +
               ev.signature().size();
      ++sales;
    }
    if (events.size() < kBatch) break;
    from += events.size();
  }
  if (sales == 0) return Status::Precondition("the bench journal holds no sale");
  return static_cast<uint32_t>((bytes + sales / 2) / sales);
}

Status CheckFresh(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec) || ec) {
    return Status::Precondition(path +
                                " exists; bench journal wants fresh files "
                                "(remove it or pick another --dir)");
  }
  return Status::Ok();
}

Status Run(const Config& config, v1::JournalBenchResult* result) {
  result->set_date(NowIso());
  std::optional<TempDir> temp;
  std::string dir = config.dir;
  if (dir.empty()) {
    SN_ASSIGN_OR_RETURN(TempDir created, TempDir::Create("storenode-bench"));
    temp.emplace(std::move(created));
    dir = temp->path();
  } else {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return Status::Io("cannot create " + dir + ": " + ec.message());
  }
  edge::Options options;
  options.journal_path = dir + "/till-1.db";
  options.store_id = "bench";
  options.device_id = "till-1";
  options.settings =
      sim::SimSettings(options.store_id);  // A=20%, B=5.5%, C=0%, as the catalog needs
  const std::string raw_path = dir + "/raw.db";
  for (const std::string& path : {options.journal_path, options.journal_path + ".key", raw_path}) {
    SN_RETURN_IF_ERROR(CheckFresh(path));
  }

  // Declared after `temp`, so both files are closed before it is removed.
  SN_ASSIGN_OR_RETURN(std::unique_ptr<edge::Journal> journal, edge::Journal::Open(options));
  std::unique_ptr<RawBaseline> raw;
  SaleMaker maker(/*seed=*/42, config.mix == "all");
  Samples record_samples, raw_samples;
  record_samples.wall_ns.reserve(config.sales);
  raw_samples.wall_ns.reserve(config.sales);

  std::fprintf(stderr, "bench journal: %u sales in %s (warmup %u, chunks of %u)\n", config.sales,
               dir.c_str(), config.warmup, config.chunk);
  SN_RETURN_IF_ERROR(RecordSales(*journal, maker, config.warmup, nullptr));
  for (uint32_t done = 0; done < config.sales;) {
    uint32_t n = std::min(config.chunk, config.sales - done);
    SN_RETURN_IF_ERROR(RecordSales(*journal, maker, n, &record_samples));
    if (raw == nullptr) {
      SN_ASSIGN_OR_RETURN(uint32_t row_bytes, AverageSaleEventBytes(*journal));
      result->set_row_bytes(row_bytes);
      SN_ASSIGN_OR_RETURN(raw, RawBaseline::Open(raw_path, row_bytes));
      SN_RETURN_IF_ERROR(RawCommits(*raw, config.warmup, nullptr));
    }
    SN_RETURN_IF_ERROR(RawCommits(*raw, n, &raw_samples));
    done += n;
    std::fprintf(stderr, "bench journal: %u/%u\n", done, config.sales);
  }
  SN_ASSIGN_OR_RETURN(uint32_t event_bytes, AverageSaleEventBytes(*journal));

  Latency record = Summarize(record_samples.wall_ns);
  Latency raw_latency = Summarize(raw_samples.wall_ns);
  double ratio_p50 = record.p50_us / raw_latency.p50_us;
  double ratio_p99 = record.p99_us / raw_latency.p99_us;
  result->set_sales(config.sales);
  result->set_warmup(config.warmup);
  result->set_chunk(config.chunk);
  result->set_record_p50_us(Round(record.p50_us, 1));
  result->set_record_p99_us(Round(record.p99_us, 1));
  result->set_record_max_us(Round(record.max_us, 1));
  result->set_record_mean_us(Round(record.mean_us, 1));
  result->set_raw_p50_us(Round(raw_latency.p50_us, 1));
  result->set_raw_p99_us(Round(raw_latency.p99_us, 1));
  result->set_raw_max_us(Round(raw_latency.max_us, 1));
  result->set_raw_mean_us(Round(raw_latency.mean_us, 1));
  result->set_record_cpu_us(Round(CpuMeanMicros(record_samples), 1));
  result->set_raw_cpu_us(Round(CpuMeanMicros(raw_samples), 1));
  result->set_journal_event_bytes(event_bytes);
  result->set_ratio_p50(Round(ratio_p50, 2));
  result->set_ratio_p99(Round(ratio_p99, 2));
  result->set_target_met(ratio_p50 <= kTargetRatioP50 && ratio_p99 <= kTargetRatioP99);
  SetRunFacts(dir, result);
  return Status::Ok();
}

}  // namespace

int RunJournal(const std::vector<std::string>& args) {
  Config config;
  const Flag flags[] = {{"sales", &config.sales},
                        {"warmup", &config.warmup},
                        {"chunk", &config.chunk},
                        {"dir", &config.dir},
                        {"mix", &config.mix}};
  return RunMode<v1::JournalBenchResult>(
      "journal", kUsage, args, flags,
      [&] {
        if (config.mix != "all" && config.mix != "classic") {
          return Status::Invalid("--mix is all or classic, not '" + config.mix + "'");
        }
        return config.sales == 0 || config.chunk == 0
                   ? Status::Invalid("--sales and --chunk must be at least 1")
                   : Status::Ok();
      },
      [&](v1::JournalBenchResult* r) { return Run(config, r); });
}

}  // namespace storenode::bench
