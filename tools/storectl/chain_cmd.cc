// storectl chain: head office's view of the whole chain, read from the cloud
// ledger's read models (tools/ledger/chain_models.h, docs/FORMATS.md 13).
//
//   storectl chain report (--db LEDGER.db | --pg CONNINFO) --from D --to D
//                         [--store S] [--by store|day|tax|tender]
//                         [--format text|json|csv]
//   storectl chain watch  (--db LEDGER.db | --pg CONNINFO) --day D
//                         [--every SECONDS | --once] [--format text|json]
//
// report sums the Zs and supplements of the days per store, day, tax rate
// or tender, each currency on its own. watch names the stores that have not
// closed the day yet and the day's forced close-downs, every SECONDS until
// interrupted, or once: then exit 0 when every store has closed the day, 1
// when some have not. Both only read: the file is opened read-only (also
// while ledger-sink writes it); --pg takes a libpq connection string
// ("host=... dbname=ledger user=headoffice") and reads in a read-only
// session. Exit 2 for bad arguments or a ledger without the read models, 1
// when PostgreSQL cannot be reached or a query fails.
#include <chrono>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <memory>
#include <thread>

#include "commands.h"
#include "ledger/chain_models.h"
#include "ledger/sql_conn.h"
#include "storenode/common/clock.h"
#include "storenode/common/sqlite.h"

namespace storenode::storectl {
namespace {

struct ChainSource {
  std::string db;
  std::string pg;
};

struct ChainReportArgs {
  ChainSource source;
  ledger::ChainQuery query;
  std::string format = "text";
};

struct ChainWatchArgs {
  ChainSource source;
  std::string day;
  double every_s = 10;
  bool once = false;
  std::string format = "text";
};

void AddSourceOptions(CLI::App* cmd, ChainSource* source) {
  auto* db = cmd->add_option("--db", source->db, "the ledger's SQLite file (ledger.db)")
                 ->type_name("PATH");
  auto* pg =
      cmd->add_option("--pg", source->pg, "the ledger's PostgreSQL database (libpq conninfo)")
          ->type_name("CONNINFO");
  db->excludes(pg);
}

// The read models, opened read-only: a SQLite file or a PostgreSQL database.
struct OpenedSource {
  std::unique_ptr<ledger::SqlConn> db;
  std::string name;  // for messages
};

// Fail()'s code on failure.
int OpenSource(const ChainSource& s, OpenedSource* out) {
  if (s.db.empty() == s.pg.empty()) {
    return Fail(kExitUsage, "name the ledger once: --db LEDGER.db or --pg CONNINFO");
  }
  const char* has_tables;
  if (!s.pg.empty()) {
    out->name = "PostgreSQL";
    auto pg = ledger::OpenPostgres(s.pg);
    if (!pg.ok()) return Fail(kExitFailed, pg.status().message());
    out->db = std::move(pg).value();
    // A report only reads: the session refuses any write.
    if (Status st = out->db->Script("SET default_transaction_read_only = on"); !st.ok()) {
      return Fail(kExitFailed, st.message());
    }
    has_tables =
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'chain_days'"
        " AND table_schema = current_schema()";
  } else {
    out->name = s.db;
    std::error_code ec;
    // SQLite would quietly open nothing; say the file is missing instead.
    if (!std::filesystem::is_regular_file(s.db, ec)) {
      return Fail(kExitUsage, "no ledger file at " + s.db);
    }
    auto opened = ledger::OpenSqlite(s.db, {.read_only = true});
    if (!opened.ok()) {
      return Fail(kExitUsage, "cannot open " + s.db + ": " + opened.status().message());
    }
    out->db = std::move(opened).value();
    has_tables = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'chain_days'";
  }
  auto has = out->db->QueryInt(has_tables, {});
  if (!has.ok()) return Fail(kExitFailed, has.status().message());
  if (*has == 0)
    return Fail(kExitUsage, out->name + " holds no chain read models (table chain_days)");
  return kExitOk;
}

int ChainReport(const ChainReportArgs& a) {
  if (auto checked = ledger::CheckChainQuery(a.query); !checked.ok()) {
    return Fail(kExitUsage, checked.status().message());
  }
  OpenedSource source;
  if (int code = OpenSource(a.source, &source); code != kExitOk) return code;
  auto report = ledger::QueryChainReport(a.query, *source.db);
  if (!report.ok()) return Fail(kExitFailed, source.name + ": " + report.status().message());
  if (a.format == "json") {
    std::cout << ledger::FormatChainReportJson(*report);
  } else if (a.format == "csv") {
    std::cout << ledger::FormatChainReportCsv(*report);
  } else {
    std::cout << ledger::FormatChainReportText(*report);
  }
  return kExitOk;
}

volatile std::sig_atomic_t interrupted = 0;

int ChainWatch(const ChainWatchArgs& a) {
  if (!IsValidDay(a.day))
    return Fail(kExitUsage, "--day '" + a.day + "' is not a day (YYYY-MM-DD)");
  OpenedSource source;
  if (int code = OpenSource(a.source, &source); code != kExitOk) return code;
  if (!a.once) {
    std::signal(SIGINT, [](int) { interrupted = 1; });
    std::signal(SIGTERM, [](int) { interrupted = 1; });
  }
  while (true) {
    auto watch = ledger::QueryChainWatch(a.day, *source.db);
    if (!watch.ok()) return Fail(kExitFailed, source.name + ": " + watch.status().message());
    if (a.once) {
      std::cout << (a.format == "json" ? ledger::FormatChainWatchJson(*watch)
                                       : ledger::FormatChainWatchText(*watch));
      return watch->not_closed().empty() ? kExitOk : kExitFailed;
    }
    if (a.format == "json") {
      std::cout << ledger::FormatChainWatchJson(*watch);
    } else {
      std::cout << "as of " << IsoTime(SystemClock::Default()->NowMicros()) << "\n"
                << ledger::FormatChainWatchText(*watch) << "\n";
    }
    std::cout.flush();
    // Sleep in small steps so that Ctrl-C ends the watch at once.
    const auto until = std::chrono::steady_clock::now() +
                       std::chrono::milliseconds(static_cast<int64_t>(a.every_s * 1000));
    while (!interrupted && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (interrupted) return kExitOk;
  }
}

}  // namespace

void AddChainCommands(CLI::App& app, int* exit_code) {
  CLI::App* chain = app.add_subcommand(
      "chain",
      "head office: chain-wide reports and the day's close-downs from the cloud ledger, and "
      "catalog and settings releases to the stores");
  chain->require_subcommand(1);

  auto r = std::make_shared<ChainReportArgs>();
  CLI::App* report = chain->add_subcommand(
      "report",
      "sum the stores' Zs of a range of business days per store, day, tax rate or tender");
  AddSourceOptions(report, &r->source);
  report->add_option("--from", r->query.from_day, "first business day")
      ->type_name("YYYY-MM-DD")
      ->required();
  report->add_option("--to", r->query.to_day, "last business day, inclusive (at most 366 days)")
      ->type_name("YYYY-MM-DD")
      ->required();
  report->add_option("--store", r->query.store_id, "only this store (default: every store)")
      ->type_name("STORE");
  report->add_option("--by", r->query.by, "one row per store, day, tax rate or tender")
      ->check(CLI::IsMember({"store", "day", "tax", "tender"}))
      ->capture_default_str();
  report
      ->add_option("--format", r->format,
                   "text (an 80-column page per currency), json (ChainReport) or csv")
      ->check(CLI::IsMember({"text", "json", "csv"}))
      ->capture_default_str();
  report->callback([r, exit_code] { *exit_code = ChainReport(*r); });

  auto w = std::make_shared<ChainWatchArgs>();
  CLI::App* watch = chain->add_subcommand(
      "watch", "which stores have not closed a business day yet, and its forced close-downs");
  AddSourceOptions(watch, &w->source);
  watch->add_option("--day", w->day, "the business day")->type_name("YYYY-MM-DD")->required();
  auto* every = watch->add_option("--every", w->every_s, "re-print every SECONDS until interrupted")
                    ->type_name("SECONDS")
                    ->check(CLI::PositiveNumber)
                    ->capture_default_str();
  watch
      ->add_flag("--once", w->once,
                 "print once; exit 0 if every store has closed the day, 1 if not")
      ->excludes(every);
  watch->add_option("--format", w->format, "text or json (ChainWatch)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  watch->callback([w, exit_code] { *exit_code = ChainWatch(*w); });

  AddChainReleaseCommands(chain, exit_code);
}

}  // namespace storenode::storectl
