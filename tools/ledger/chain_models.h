// The chain's read models (issue 15, the head-office read side): every Z the
// ledger stores also adds its figures to tables per store and business day
// (totals, tax per rate, tenders, drawers' over/short, the tills missing
// from forced close-downs), from which head office reads chain-wide reports
// and the watch of a day. docs/FORMATS.md section 13 specifies the tables
// and the report's outputs.
//
// NOTES ON THE DESIGN
//  1. RowsOf() is a pure, deterministic function of the Z's bytes: the same
//     Z gives the same rows, in the same order, on any machine.
//  2. Every figure is additive: applying a Z adds its rows to what is there
//     (UPSERT ... DO UPDATE SET x = x + excluded.x), so a day's row is the
//     sum of its Z and its supplements in whatever order they come. Applying
//     one Z twice counts it twice: the caller applies a Z exactly once, in
//     the transaction that first stores it (a duplicate submit applies
//     nothing).
//  3. The currency is part of every key: two Zs in different currencies
//     never share a row, and a report groups and totals per currency.
//  4. The SQL is written once for SQLite and PostgreSQL, with `?`
//     placeholders (no `?` inside literals) that a PostgreSQL layer rewrites
//     to $1, $2...; only the DDL differs (kChainSchemaSqlite, kChainSchemaPg).
//     Both run on the ledger's SqlConn (sql_conn.h); the ledger creates the
//     tables with its own (schema.h) and applies a Z's rows in the
//     transaction that stores it (ledger.cc, Store).
//  5. Reports sort their rows in C++, bytewise, so both engines answer the
//     same bytes whatever their collation.
//
// Pure functions, thread-safe; the SqlConn is the caller's, on its thread.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ledger/sql_conn.h"
#include "storenode/common/money.h"
#include "storenode/common/status.h"
#include "storenode/schemas/chain.pb.h"
#include "storenode/schemas/closedown.pb.h"

namespace storenode::ledger {

// The rows one Z adds. Strings are the Z's; amounts are minor units of
// `currency` (decimals: the Z's, 2 when it names no currency).
struct ChainDayRow {
  std::string store_id, business_day, currency;
  int32_t currency_decimals = 2;
  uint64_t z_number = 0;  // the Z's number for part 0, 0 for a supplement (so the sum is the Z's)
  uint64_t closed = 0;    // 1 for part 0
  uint64_t supplements = 0;  // 1 for a part >= 1
  uint64_t receipts = 0, refund_count = 0, void_count = 0;
  Money gross_sales, discounts, refunds, voids, net_sales, tax, rounding;
  uint64_t drawers_counted = 0, drawers_not_counted = 0;  // part 0's drawer counts
  Money cash_counted, over_short;                         // of the counted drawers
  uint64_t forced = 0;                                    // 1 for a forced Z
  uint64_t missing_tills = 0;
};

struct ChainTaxRow {
  std::string tax_code;
  int32_t rate_bp = 0;
  std::string name;
  Money net, tax, gross;
};

struct ChainTenderRow {
  std::string type;
  uint64_t count = 0;
  Money sales, refunds;
};

struct ChainRows {
  ChainDayRow day;
  std::vector<ChainTaxRow> taxes;          // by (tax_code, rate_bp), one row each
  std::vector<ChainTenderRow> tenders;     // by type, one row each
  std::vector<std::string> missing_tills;  // sorted bytewise, unique
  std::string store_name;                  // the Z's (chain_stores keeps the latest)
};

// The rows of a verified Z (or supplement).
ChainRows RowsOf(const v1::ZReport& z);

// The tables (docs/FORMATS.md 13.1), for a new or an existing database (IF
// NOT EXISTS); one batch of statements without parameters. Keys:
//   chain_stores         (store_id)
//   chain_days           (store_id, business_day, currency)
//   chain_tax            (store_id, business_day, currency, tax_code, rate_bp)
//   chain_tenders        (store_id, business_day, currency, tender)
//   chain_missing_tills  (store_id, business_day, device_id)
// The two texts differ only in SQLite's WITHOUT ROWID (a test holds them to
// that); BIGINT has INTEGER affinity in SQLite.
inline constexpr std::string_view kChainSchemaPg = R"sql(
CREATE TABLE IF NOT EXISTS chain_stores (
  store_id TEXT NOT NULL PRIMARY KEY, store_name TEXT NOT NULL,
  first_day TEXT NOT NULL, last_day TEXT NOT NULL, last_closed_day TEXT NOT NULL,
  parts BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS chain_days (
  store_id TEXT NOT NULL, business_day TEXT NOT NULL, currency TEXT NOT NULL,
  currency_decimals BIGINT NOT NULL, z_number BIGINT NOT NULL, closed BIGINT NOT NULL,
  supplements BIGINT NOT NULL, receipts BIGINT NOT NULL, gross_sales BIGINT NOT NULL,
  discounts BIGINT NOT NULL, refund_count BIGINT NOT NULL, refunds BIGINT NOT NULL,
  net_sales BIGINT NOT NULL, tax BIGINT NOT NULL, rounding BIGINT NOT NULL,
  void_count BIGINT NOT NULL, voids BIGINT NOT NULL, drawers_counted BIGINT NOT NULL,
  drawers_not_counted BIGINT NOT NULL, cash_counted BIGINT NOT NULL,
  over_short BIGINT NOT NULL, forced BIGINT NOT NULL, missing_tills BIGINT NOT NULL,
  PRIMARY KEY (store_id, business_day, currency));
CREATE INDEX IF NOT EXISTS chain_days_by_day ON chain_days (business_day);
CREATE TABLE IF NOT EXISTS chain_tax (
  store_id TEXT NOT NULL, business_day TEXT NOT NULL, currency TEXT NOT NULL,
  currency_decimals BIGINT NOT NULL, tax_code TEXT NOT NULL, rate_bp BIGINT NOT NULL,
  name TEXT NOT NULL, net BIGINT NOT NULL, tax BIGINT NOT NULL, gross BIGINT NOT NULL,
  PRIMARY KEY (store_id, business_day, currency, tax_code, rate_bp));
CREATE INDEX IF NOT EXISTS chain_tax_by_day ON chain_tax (business_day);
CREATE TABLE IF NOT EXISTS chain_tenders (
  store_id TEXT NOT NULL, business_day TEXT NOT NULL, currency TEXT NOT NULL,
  currency_decimals BIGINT NOT NULL, tender TEXT NOT NULL, tender_count BIGINT NOT NULL,
  sales BIGINT NOT NULL, refunds BIGINT NOT NULL,
  PRIMARY KEY (store_id, business_day, currency, tender));
CREATE INDEX IF NOT EXISTS chain_tenders_by_day ON chain_tenders (business_day);
CREATE TABLE IF NOT EXISTS chain_missing_tills (
  store_id TEXT NOT NULL, business_day TEXT NOT NULL, device_id TEXT NOT NULL,
  z_number BIGINT NOT NULL,
  PRIMARY KEY (store_id, business_day, device_id));
CREATE INDEX IF NOT EXISTS chain_missing_tills_by_day ON chain_missing_tills (business_day);
)sql";
inline constexpr std::string_view kChainSchemaSqlite = R"sql(
CREATE TABLE IF NOT EXISTS chain_stores (
  store_id TEXT NOT NULL PRIMARY KEY, store_name TEXT NOT NULL,
  first_day TEXT NOT NULL, last_day TEXT NOT NULL, last_closed_day TEXT NOT NULL,
  parts BIGINT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS chain_days (
  store_id TEXT NOT NULL, business_day TEXT NOT NULL, currency TEXT NOT NULL,
  currency_decimals BIGINT NOT NULL, z_number BIGINT NOT NULL, closed BIGINT NOT NULL,
  supplements BIGINT NOT NULL, receipts BIGINT NOT NULL, gross_sales BIGINT NOT NULL,
  discounts BIGINT NOT NULL, refund_count BIGINT NOT NULL, refunds BIGINT NOT NULL,
  net_sales BIGINT NOT NULL, tax BIGINT NOT NULL, rounding BIGINT NOT NULL,
  void_count BIGINT NOT NULL, voids BIGINT NOT NULL, drawers_counted BIGINT NOT NULL,
  drawers_not_counted BIGINT NOT NULL, cash_counted BIGINT NOT NULL,
  over_short BIGINT NOT NULL, forced BIGINT NOT NULL, missing_tills BIGINT NOT NULL,
  PRIMARY KEY (store_id, business_day, currency)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS chain_days_by_day ON chain_days (business_day);
CREATE TABLE IF NOT EXISTS chain_tax (
  store_id TEXT NOT NULL, business_day TEXT NOT NULL, currency TEXT NOT NULL,
  currency_decimals BIGINT NOT NULL, tax_code TEXT NOT NULL, rate_bp BIGINT NOT NULL,
  name TEXT NOT NULL, net BIGINT NOT NULL, tax BIGINT NOT NULL, gross BIGINT NOT NULL,
  PRIMARY KEY (store_id, business_day, currency, tax_code, rate_bp)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS chain_tax_by_day ON chain_tax (business_day);
CREATE TABLE IF NOT EXISTS chain_tenders (
  store_id TEXT NOT NULL, business_day TEXT NOT NULL, currency TEXT NOT NULL,
  currency_decimals BIGINT NOT NULL, tender TEXT NOT NULL, tender_count BIGINT NOT NULL,
  sales BIGINT NOT NULL, refunds BIGINT NOT NULL,
  PRIMARY KEY (store_id, business_day, currency, tender)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS chain_tenders_by_day ON chain_tenders (business_day);
CREATE TABLE IF NOT EXISTS chain_missing_tills (
  store_id TEXT NOT NULL, business_day TEXT NOT NULL, device_id TEXT NOT NULL,
  z_number BIGINT NOT NULL,
  PRIMARY KEY (store_id, business_day, device_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS chain_missing_tills_by_day ON chain_missing_tills (business_day);
)sql";

// Adds a Z's rows: the caller's transaction, the caller's exactly-once.
Status ApplyChainRows(const ChainRows& rows, SqlConn& db);
// The same for a batch of Zs, a few multi-row statements in all.
Status ApplyChainRows(std::span<const ChainRows> batch, SqlConn& db);

// The figure columns of chain_days in ChainFigures order (after days and
// stores, which are counted): the report sums each.
inline constexpr std::string_view kDayFigures[] = {"closed",
                                                   "supplements",
                                                   "receipts",
                                                   "gross_sales",
                                                   "discounts",
                                                   "refund_count",
                                                   "refunds",
                                                   "net_sales",
                                                   "tax",
                                                   "rounding",
                                                   "void_count",
                                                   "voids",
                                                   "drawers_counted",
                                                   "drawers_not_counted",
                                                   "cash_counted",
                                                   "over_short",
                                                   "forced",
                                                   "missing_tills"};

inline constexpr int kMaxChainReportDays = 366;

enum class ChainBy { kStore, kDay, kTax, kTender };

struct ChainQuery {
  // (Initializers, so that designated ChainQuery{...} may omit any.)
  std::string from_day = "", to_day = "";  // YYYY-MM-DD, inclusive
  std::string store_id = "";               // "" for every store
  std::string by = "store";                // "store", "day", "tax" or "tender"
};

// Checks a query: days valid, from <= to, at most 366 days, a known
// grouping. kInvalidArgument with a one-line reason, e.g.
// "from_day 2026-12-03 is after to_day 2026-12-01".
Result<ChainBy> CheckChainQuery(const ChainQuery& q);

// The report of q's days: per currency, one row per store, day, tax rate or
// tender, and their total. No Z in the range is an empty report, not an
// error.
Result<v1::ChainReport> QueryChainReport(const ChainQuery& q, SqlConn& db);

// Which stores (of every store with a Z in the read models) have no Z of
// `business_day`, and the day's forced close-downs with their missing tills.
Result<v1::ChainWatch> QueryChainWatch(const std::string& business_day, SqlConn& db);

// The printable forms (docs/FORMATS.md 13.3). Text fits 80 columns, amounts
// in each currency's minor units with its code; CSV has a header row and a
// `currency` column on every row (no total rows); JSON is the message
// (tools::JsonPretty field names).
std::string FormatChainReportText(const v1::ChainReport& report);
std::string FormatChainReportCsv(const v1::ChainReport& report);
std::string FormatChainReportJson(const v1::ChainReport& report);
std::string FormatChainWatchText(const v1::ChainWatch& watch);
std::string FormatChainWatchJson(const v1::ChainWatch& watch);

}  // namespace storenode::ledger
