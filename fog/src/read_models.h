// Read models: figures the fog keeps up to date during ingest so that
// reports and the close-down never re-parse stored events, and the stock
// movements of sales and refunds (booked through stock.h's SaleMoves).
// ReadModels::Add is the one place where a stored event enters the read
// models and stock.
//
// Events are staged in memory while a transaction is open and merged into
// the tables by Flush() inside the same transaction, so a read model can
// never count an event that was not stored, nor miss one that was.
//
// This file owns the read-model tables (store.h): it alone names them. The
// close-down and the reports read them through the typed readers below.
#pragma once

#include <map>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "stock.h"
#include "storenode/common/journal_format.h"
#include "storenode/common/sqlite.h"
#include "storenode/common/store_settings.h"
#include "storenode/schemas/closedown.pb.h"
#include "storenode/schemas/xreport.pb.h"
#include "vouchers.h"

namespace storenode::fog {

class ReadModels {
 public:
  // `part` is the day's open part: 0 until its Z, then the supplement's.
  // `covered`: a Z recovered from the ledger already holds the event's
  // figures; only the reports' models (hours, items, cashiers) and seals
  // take it.
  void Add(const DecodedEvent& event, uint32_t part, bool covered = false);
  // The store's zone: report hours are its local hours (default UTC).
  void SetZone(settings::Zone zone) { zone_ = std::move(zone); }
  // Merges everything staged into fog.db; call inside the ingest transaction.
  Status Flush(sql::Db& db);
  // Forgets what is staged (the transaction rolled back).
  void Clear();
  // Days whose events of a part > 0 were staged since the last call (late
  // events of a closed day: a supplement may be due).
  std::set<std::string> TakeLateDays() { return std::exchange(late_days_, {}); }

 private:
  struct Range {
    uint64_t first = 0, last = 0, count = 0;
  };
  using DayPartDevice = std::tuple<std::string, uint32_t, std::string>;
  std::map<DayPartDevice, v1::DayTotals> day_totals_;
  std::map<std::tuple<std::string, uint32_t, std::string, std::string>, Range> ranges_;
  std::map<std::tuple<std::string, std::string, std::string>, uint64_t> seals_;
  settings::Zone zone_ = settings::Zone::Utc();
  // (day, the hour's start instant in seconds) -> its totals.
  std::map<std::pair<std::string, int64_t>, v1::HourTotal> hours_;
  std::map<std::pair<std::string, std::string>, v1::ItemTotal> items_;
  std::map<std::pair<std::string, std::string>, v1::CashierTotal> cashiers_;
  std::set<std::string> late_days_;
  // Stock movements of sales and refunds, booked with the read models
  // (stock.h owns their table).
  SaleMoves stock_;
  // Voucher loads and redemptions (vouchers.h owns their tables).
  VoucherMoves vouchers_;
};

// The stored totals of one (day, part, device) (empty totals if none).
Result<v1::DayTotals> LoadDayTotals(sql::Db& db, const std::string& day, uint32_t part,
                                    const std::string& device);

// Typed readers, each one query.
// The stored totals of every till of (day, part), as (device, totals) in
// the table's order.
Result<std::vector<std::pair<std::string, v1::DayTotals>>> DayTotalsOf(sql::Db& db,
                                                                       const std::string& day,
                                                                       uint32_t part);
// The stored totals of every part and till of the days from..to
// (inclusive), in day order.
Result<std::vector<v1::DayTotals>> DayTotalsOfDays(sql::Db& db, const std::string& from,
                                                   const std::string& to);
// The seqs of one journal that a (day, part, device) covers.
struct DayRange {
  std::string device_id;
  std::string journal_id;  // raw bytes
  uint64_t first_seq = 0, last_seq = 0, event_count = 0;
};
// Ordered by device, then journal.
Result<std::vector<DayRange>> DayRangesOf(sql::Db& db, const std::string& day, uint32_t part);
// The same of every part of `day`, ordered by device, journal, first seq.
Result<std::vector<DayRange>> DayRangesOfEveryPart(sql::Db& db, const std::string& day);
// The tills with events in (day, part).
Result<std::vector<std::string>> DevicesWithEvents(sql::Db& db, const std::string& day,
                                                   uint32_t part);
// The tills whose DAY_SEALED event for `day` is stored.
Result<std::set<std::string>> SealedDevices(sql::Db& db, const std::string& day);
// The days whose DAY_SEALED event `device` has stored.
Result<std::set<std::string>> DaysSealedBy(sql::Db& db, const std::string& device);
// The report models: a day's hours in order; items of the days from..to
// (inclusive), summed per sku, by revenue (highest first, then sku), at
// most `top` (0: all); cashiers of those days, summed, in order.
Result<std::vector<v1::HourTotal>> HourTotalsOf(sql::Db& db, const std::string& day);
Result<std::vector<v1::ItemTotal>> ItemTotalsOf(sql::Db& db, const std::string& from,
                                                const std::string& to, uint32_t top);
// The latest business day with item figures ("" when none).
Result<std::string> LatestItemDay(sql::Db& db);
Result<std::vector<v1::CashierTotal>> CashierTotalsOf(sql::Db& db, const std::string& from,
                                                      const std::string& to);

}  // namespace storenode::fog
