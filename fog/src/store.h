// fog.db: the schema and the device registry.
//
// Tables:
//   devices      one row per till: the journal the fog follows, its pinned
//                key, the acked watermark (highest contiguous seq stored) and
//                the chain head hash at that watermark, verified_seq (every
//                stored event up to it had its own signature checked); plus
//                a pending journal when a till was replaced and waits for
//                acceptance.
//   journals     every journal ever accepted per device (old chains stay).
//   events       every event, verbatim, keyed by (device, journal, seq).
//   day_totals   read model: DayTotals per (business day, part, device).
//                Part 0 holds what a day's Z covers; events of a closed day
//                that arrive later go to part 1, 2... (its supplements).
//   day_ranges   which seqs of which journal each (day, part, device) covers.
//   seals        DAY_SEALED events stored, per (day, device, journal).
//   hour_totals, item_totals, cashier_totals: report read models per day.
//   closedowns   close-down requests and their state.
//   zreports     signed Z-reports and supplements, numbered gaplessly.
//   actions      the fog's own append-only, hash-chained, signed journal of
//                manager actions (requests, counts, close-downs).
//   quarantine   rejected input with device, topic, reason and raw bytes:
//                the whole payload, or for a message over [broker]
//                max_message_bytes only its first mqtt::kOversizedPrefixBytes;
//                payload_size and payload_sha256 are always of the whole
//                payload (NULL sha256 in rows from before schema version 2,
//                whose payload is whole).
//   ledger_receipts  the cloud ledger's verified receipt per Z; the Zs
//                without one are the ledger outbox (forwarder.h).
//   ledger_state the ledger's pinned key and the newest verified tree head.
//   counters     running totals kept in a row: events_stored.
//   covered_ranges  the seqs a Z recovered from the ledger covers, per
//                (device, journal, day): resent events in them are stored
//                but not booked again (forwarder.h, invariant 6).
//   ledger_alerts    the ledger's rejections and answers that failed
//                verification, with the reason and the raw answer.
//   settings_versions  every store settings document the fog issued
//                (SignedSettings bytes), by version.
//
//   stock_moves, stock_on_order, stock_requests: stock at the fog
//                (stock.h); reorder_items, reorder_state: the reorder
//                suggestions (reorder.h).
//
// Ownership: a table is written by one component, and besides this schema
// only that component's files name it; the other stages read it through the
// owner's typed functions, never by SQL of their own (fog/src/daemon.cc
// lists the components). One reader is exempt on purpose: audit.cc (storectl
// verify receipt) reads the stored events themselves and checks them from
// their bytes, so a proof never rests on the daemon's own bookkeeping.
//   devices, journals, events, quarantine, covered_ranges: Ingest
//     (ingest.h);
//   counters: by row, each name its writer's: events_stored Ingest's,
//     recover_from_ledger the forwarder's (set too by `storectl backup`),
//     health_checked_us the daemon's /healthz write check (console.h);
//   day_totals, day_ranges, seals, hour_totals, item_totals,
//     cashier_totals: the read models (read_models.h), which Ingest books;
//   closedowns, zreports: the close-down (closedown.h), whose LedgerOutbox
//     queries join the forwarder's ledger_receipts;
//   actions: the action journal (action_journal.h);
//   ledger_receipts, ledger_state, ledger_alerts: the forwarder;
//   catalog_*: the catalog master (catalog.h);
//   settings_versions: the store settings (settings.h);
//   stock_moves, stock_on_order, stock_requests: Stock (stock.h), whose
//     SaleMoves the read models call inside the ingest transaction;
//   reorder_items, reorder_state: the reorder job (reorder.h).
#pragma once

#include <iterator>
#include <map>
#include <memory>
#include <string>

#include "storenode/common/crypto.h"
#include "storenode/common/sqlite.h"

namespace storenode::fog {

inline constexpr const char* kFogSchema = R"sql(
CREATE TABLE IF NOT EXISTS devices(
  device_id TEXT PRIMARY KEY,
  journal_id BLOB NOT NULL,
  public_key BLOB NOT NULL,
  key_source TEXT NOT NULL,
  acked_seq INTEGER NOT NULL,
  head_hash BLOB NOT NULL,
  pending_journal_id BLOB,
  pending_public_key BLOB,
  first_seen_us INTEGER NOT NULL,
  last_event_us INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS journals(
  device_id TEXT NOT NULL,
  journal_id BLOB NOT NULL,
  public_key BLOB NOT NULL,
  accepted_us INTEGER NOT NULL,
  PRIMARY KEY(device_id, journal_id));
CREATE TABLE IF NOT EXISTS events(
  device_id TEXT NOT NULL,
  journal_id BLOB NOT NULL,
  seq INTEGER NOT NULL,
  business_day TEXT NOT NULL,
  kind INTEGER NOT NULL,
  receipt_no INTEGER NOT NULL,
  header BLOB NOT NULL,
  body BLOB NOT NULL,
  prev_hash BLOB NOT NULL,
  hash BLOB NOT NULL,
  signature BLOB NOT NULL,
  PRIMARY KEY(device_id, journal_id, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS day_totals(
  device_id TEXT NOT NULL,
  business_day TEXT NOT NULL,
  part INTEGER NOT NULL,
  totals BLOB NOT NULL,
  PRIMARY KEY(business_day, part, device_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS day_ranges(
  business_day TEXT NOT NULL,
  part INTEGER NOT NULL,
  device_id TEXT NOT NULL,
  journal_id BLOB NOT NULL,
  first_seq INTEGER NOT NULL,
  last_seq INTEGER NOT NULL,
  event_count INTEGER NOT NULL,
  PRIMARY KEY(business_day, part, device_id, journal_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS seals(
  business_day TEXT NOT NULL,
  device_id TEXT NOT NULL,
  journal_id BLOB NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY(business_day, device_id, journal_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS hour_totals(
  business_day TEXT NOT NULL,
  hour INTEGER NOT NULL,
  receipts INTEGER NOT NULL,
  sales INTEGER NOT NULL,
  refunds INTEGER NOT NULL,
  PRIMARY KEY(business_day, hour)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS item_totals(
  business_day TEXT NOT NULL,
  sku TEXT NOT NULL,
  name TEXT NOT NULL,
  qty INTEGER NOT NULL,
  revenue INTEGER NOT NULL,
  refund_qty INTEGER NOT NULL,
  refund_amount INTEGER NOT NULL,
  PRIMARY KEY(business_day, sku)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS cashier_totals(
  business_day TEXT NOT NULL,
  cashier TEXT NOT NULL,
  receipts INTEGER NOT NULL,
  sales INTEGER NOT NULL,
  refund_count INTEGER NOT NULL,
  refunds INTEGER NOT NULL,
  void_count INTEGER NOT NULL,
  voids INTEGER NOT NULL,
  no_sale_count INTEGER NOT NULL,
  PRIMARY KEY(business_day, cashier)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS closedowns(
  business_day TEXT PRIMARY KEY,
  state TEXT NOT NULL,
  request BLOB NOT NULL,
  requested_by TEXT NOT NULL,
  requested_us INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS zreports(
  z_number INTEGER PRIMARY KEY,
  business_day TEXT NOT NULL,
  part INTEGER NOT NULL,
  z BLOB NOT NULL,
  hash BLOB NOT NULL,
  signature BLOB NOT NULL,
  UNIQUE(business_day, part));
CREATE TABLE IF NOT EXISTS actions(
  seq INTEGER PRIMARY KEY,
  at_us INTEGER NOT NULL,
  manager TEXT NOT NULL,
  kind TEXT NOT NULL,
  detail TEXT NOT NULL,
  prev_hash BLOB NOT NULL,
  hash BLOB NOT NULL,
  signature BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS quarantine(
  id INTEGER PRIMARY KEY,
  at_us INTEGER NOT NULL,
  device_id TEXT NOT NULL,
  topic TEXT NOT NULL,
  reason TEXT NOT NULL,
  payload BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS ledger_receipts(
  z_number INTEGER PRIMARY KEY,
  leaf_index INTEGER NOT NULL,
  tree_size INTEGER NOT NULL,
  receipt BLOB NOT NULL,
  received_us INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS ledger_state(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  ledger_public_key BLOB NOT NULL,
  key_source TEXT NOT NULL,
  tree_head BLOB,
  updated_us INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS ledger_alerts(
  id INTEGER PRIMARY KEY,
  at_us INTEGER NOT NULL,
  z_number INTEGER NOT NULL,
  reason TEXT NOT NULL,
  answer BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS quarantine_by_device ON quarantine(device_id);
)sql";

// Its schema versions, oldest first (sqlite.h, "Schema versions"): version
// 1 is the schema above (kFogSchema), which also adopts files made before versions
// existed. A change is one more entry, e.g. {4, "ALTER TABLE ..."}.
// Version 2: the quarantine keeps the size and SHA-256 of what it got, so an
// oversized message needs only a bounded prefix stored.
// The catalog's tables (catalog.h) live in the same file but are created by
// the catalog itself; versions count kFogSchema's changes and theirs alike.
// Version 3: per-device signature watermark; the stored-event count kept in
// a row instead of counted on every status; the ranges of Zs recovered from
// the ledger.
inline constexpr const char* kFogSchemaV3 = R"sql(
ALTER TABLE devices ADD COLUMN verified_seq INTEGER NOT NULL DEFAULT 0;
CREATE TABLE counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE covered_ranges(
  device_id TEXT NOT NULL,
  journal_id BLOB NOT NULL,
  business_day TEXT NOT NULL,
  first_seq INTEGER NOT NULL,
  last_seq INTEGER NOT NULL,
  PRIMARY KEY(device_id, journal_id, business_day, first_seq));
INSERT INTO counters(name, value) SELECT 'events_stored', COUNT(*) FROM events;
)sql";

// Version 6: stock at the fog (stock.h) and reorder suggestions
// (reorder.h); item_totals by sku for the demand history (an index that
// version 9 drops again).
inline constexpr const char* kFogSchemaV6 = R"sql(
CREATE TABLE stock_moves(
  sku TEXT NOT NULL,
  at_us INTEGER NOT NULL,
  kind TEXT NOT NULL,
  ref TEXT NOT NULL,
  business_day TEXT NOT NULL,
  qty_milli INTEGER NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  unit_cost INTEGER NOT NULL DEFAULT 0,
  book_milli INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY(sku, at_us, kind, ref)) WITHOUT ROWID;
CREATE INDEX stock_counts_by_sku ON stock_moves(sku, at_us) WHERE kind = 'count';
CREATE TABLE stock_on_order(sku TEXT PRIMARY KEY, qty_milli INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE stock_requests(
  request_id TEXT PRIMARY KEY,
  at_us INTEGER NOT NULL,
  answer BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE reorder_items(
  sku TEXT PRIMARY KEY,
  supplier TEXT NOT NULL,
  run_us INTEGER NOT NULL,
  item BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE reorder_state(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  computed_us INTEGER NOT NULL,
  history_to TEXT NOT NULL);
CREATE INDEX item_totals_by_sku ON item_totals(sku, business_day);
)sql";

// Version 7: voucher and gift card balances (vouchers.h): every load and
// redemption once, the balance per card, the overdraft alerts.
inline constexpr const char* kFogSchemaVouchers = R"sql(
CREATE TABLE voucher_moves(
  device_id TEXT NOT NULL,
  journal_id BLOB NOT NULL,
  seq INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  card_id TEXT NOT NULL,
  business_day TEXT NOT NULL,
  at_us INTEGER NOT NULL,
  amount INTEGER NOT NULL,
  PRIMARY KEY(device_id, journal_id, seq, idx)) WITHOUT ROWID;
CREATE TABLE voucher_cards(
  card_id TEXT PRIMARY KEY,
  voucher_type TEXT NOT NULL,
  loaded INTEGER NOT NULL,
  redeemed INTEGER NOT NULL,
  balance INTEGER NOT NULL,
  last_us INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE voucher_alerts(
  id INTEGER PRIMARY KEY,
  card_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  business_day TEXT NOT NULL,
  at_us INTEGER NOT NULL,
  amount INTEGER NOT NULL,
  balance INTEGER NOT NULL);
)sql";

inline constexpr sql::Migration kFogMigrations[] = {
    {1, kFogSchema},
    {2,
     "ALTER TABLE quarantine ADD COLUMN payload_size INTEGER;"
     "ALTER TABLE quarantine ADD COLUMN payload_sha256 BLOB;"
     "UPDATE quarantine SET payload_size = length(payload);"},
    {3, kFogSchemaV3},
    // Store settings; hour_totals.hour becomes the hour's start instant
    // (seconds) instead of its UTC hour of the day.
    {4,
     "CREATE TABLE settings_versions(version INTEGER PRIMARY KEY, issued_us INTEGER NOT NULL, "
     "doc BLOB NOT NULL);"
     "UPDATE hour_totals SET hour = CAST(strftime('%s', business_day) AS INTEGER) + hour * 3600 "
     "WHERE hour < 24;"},
    // The department report: sale lines and tax per item. Days booked
    // before this version count 0 lines and 0 tax (their events are not
    // booked again).
    {5,
     "ALTER TABLE item_totals ADD COLUMN lines INTEGER NOT NULL DEFAULT 0;"
     "ALTER TABLE item_totals ADD COLUMN tax INTEGER NOT NULL DEFAULT 0;"
     "ALTER TABLE item_totals ADD COLUMN refund_tax INTEGER NOT NULL DEFAULT 0;"},
    {6, kFogSchemaV6},
    // Weighed goods: measured quantities per item, in thousandths of its unit.
    {7,
     "ALTER TABLE item_totals ADD COLUMN qty_milli INTEGER NOT NULL DEFAULT 0;"
     "ALTER TABLE item_totals ADD COLUMN refund_qty_milli INTEGER NOT NULL DEFAULT 0;"
     "ALTER TABLE item_totals ADD COLUMN unit TEXT NOT NULL DEFAULT '';"},
    {8, kFogSchemaVouchers},
    // The demand history reads stock_moves, and nothing reads item_totals by
    // sku: the index was only written, once per item and business day.
    {9, "DROP INDEX IF EXISTS item_totals_by_sku;"},
};
// The schema version this software writes (the last migration's).
inline constexpr int64_t kFogVersion = std::size(kFogMigrations);

// A till as the fog knows it.
struct Device {
  std::string device_id;
  std::string journal_id;
  crypto::PublicKey key{};
  std::string key_source;  // "genesis (trust on first use)", "provisioned"
  uint64_t acked_seq = 0;
  crypto::Hash head_hash{};
  std::string pending_journal_id;  // a replacement journal awaiting acceptance
  std::string pending_key;
  int64_t first_seen_us = 0;
  int64_t last_event_us = 0;
  // Every stored event of this journal up to verified_seq has had its own
  // signature checked (ingest.h, invariant 7).
  uint64_t verified_seq = 0;
  // Not stored: the first seq whose stored signature failed, awaiting the
  // till's copy (0: none), with its business day.
  uint64_t repair_seq = 0;
  std::string repair_day;
};

// Events first_seq..last_seq of one journal's business day, covered by a Z
// that was recovered from the ledger.
struct CoveredRange {
  std::string device_id;
  std::string journal_id;
  std::string business_day;
  uint64_t first_seq = 0;
  uint64_t last_seq = 0;
};

// Loads every device row.
Result<std::map<std::string, Device>> LoadDevices(sql::Db& db);
// Inserts or replaces the row of `d`.
Status SaveDevice(sql::Db& db, const Device& d);

}  // namespace storenode::fog
