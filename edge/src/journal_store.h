// The journal's SQLite schema and the statements that read it, shared by the
// writer (Journal) and the read-only helpers (VerifyJournalFile, dumps).
#pragma once

#include <string>
#include <vector>

#include "storenode/common/sqlite.h"
#include "storenode/edge.h"

namespace storenode::edge {

// Schema of a journal file. `events` is append-only; `head` is a witness of
// the last event written (a truncated tail shows up against it); `anchor`
// holds the seq and hash just before the oldest kept event after pruning;
// `receipt_lines` indexes sold lines for refund checks.
//
// There is no index on events besides seq: every page a record() touches
// costs a WAL write and part of the fsync (tools/bench journal). Because
// the business day never goes backwards, a day's events are one seq range,
// and `days` holds where each range starts (one row per day, not per event).
inline constexpr const char* kJournalSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(
  key TEXT PRIMARY KEY,
  value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS events(
  seq INTEGER PRIMARY KEY,
  business_day TEXT NOT NULL,
  kind INTEGER NOT NULL,
  receipt_no INTEGER,
  wall_time_us INTEGER NOT NULL,
  header BLOB NOT NULL,
  body BLOB NOT NULL,
  prev_hash BLOB NOT NULL,
  hash BLOB NOT NULL,
  signature BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS days(
  day TEXT PRIMARY KEY,
  first_seq INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS head(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL,
  hash BLOB NOT NULL,
  receipt_no INTEGER NOT NULL,
  business_day TEXT NOT NULL,
  last_sealed_day TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS anchor(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL,
  hash BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS sealed_days(
  day TEXT PRIMARY KEY,
  seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS receipt_lines(
  receipt_no INTEGER NOT NULL,
  line_no INTEGER NOT NULL,
  sku TEXT NOT NULL,
  qty INTEGER NOT NULL,
  unit_price INTEGER NOT NULL,
  discount INTEGER NOT NULL,
  tax_code TEXT NOT NULL,
  refunded_qty INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY(receipt_no, line_no)) WITHOUT ROWID;
)sql";

// Its schema versions, oldest first (sqlite.h, "Schema versions"): version
// 1 is the schema above, which also adopts files made before versions
// existed. A change is one more entry, e.g. {2, "ALTER TABLE ..."}.
// Version 2 (store settings): every settings document the till was given
// (SignedSettings bytes, by version), and the rate each sold line was taxed
// at, which its refunds take (NULL on lines sold before settings existed:
// they are refunded at the rate in force).
inline constexpr const char* kJournalSettings = R"sql(
CREATE TABLE IF NOT EXISTS settings(
  version INTEGER PRIMARY KEY,
  doc BLOB NOT NULL);
ALTER TABLE receipt_lines ADD COLUMN tax_rate_bp INTEGER;
)sql";
// Version 3 (measured lines): a line's unit (UnitOfMeasure); the qty and
// refunded_qty of a measured line count thousandths of it.
inline constexpr const char* kJournalUnits = R"sql(
ALTER TABLE receipt_lines ADD COLUMN unit INTEGER NOT NULL DEFAULT 0;
)sql";
// Version 4 (vouchers, cashier shifts): what this till redeemed offline
// per card (the settings' per-card offline limit), and the open cashier
// shift (its SIGN_ON seq and body), which stamps every event's header.
inline constexpr const char* kJournalTender = R"sql(
CREATE TABLE IF NOT EXISTS voucher_offline(
  card_id TEXT PRIMARY KEY,
  redeemed INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS open_shift(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL,
  shift BLOB NOT NULL);
)sql";
// Version 5 (promotions): each sold line's promotion shares, as a
// serialized SaleLine holding only `promotions` (NULL: none), which its
// refunds give back pro rata (docs/FORMATS.md 10.6).
inline constexpr const char* kJournalPromotions = R"sql(
ALTER TABLE receipt_lines ADD COLUMN promotions BLOB;
)sql";
inline constexpr sql::Migration kJournalMigrations[] = {{1, kJournalSchema},
                                                        {2, kJournalSettings},
                                                        {3, kJournalUnits},
                                                        {4, kJournalTender},
                                                        {5, kJournalPromotions}};

inline constexpr const char* kSelectEvents =
    "SELECT seq, business_day, kind, receipt_no, header, body, prev_hash, hash, signature "
    "FROM events";

// The events of one business day (bind ?1 = day), ascending.
inline constexpr const char* kEventsOfDay =
    " WHERE seq >= (SELECT first_seq FROM days WHERE day = ?1)"
    " AND seq < COALESCE((SELECT MIN(first_seq) FROM days WHERE day > ?1), 9223372036854775807)"
    " AND business_day = ?1";

// Reads the row the statement is on (columns as in kSelectEvents).
v1::JournalEvent EventFromRow(const sql::Stmt& stmt);

// Verifies every kept event of an open journal database.
VerifyReport VerifyDb(sql::Db& db);

// Decodes and adds up every event booked on `day`.
Result<v1::DayTotals> TotalsOfDay(sql::Db& db, const std::string& day);
// The same for the cashier shift opened at seq `shift_seq` (its events
// carry shift_seq in their headers; they are consecutive).
Result<v1::DayTotals> TotalsOfShift(sql::Db& db, uint64_t shift_seq);

}  // namespace storenode::edge
