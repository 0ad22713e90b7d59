// Read models: figures the fog keeps up to date during ingest so that
// reports and the close-down never re-parse stored events.
//
// Events are staged in memory while a transaction is open and merged into
// the tables by Flush() inside the same transaction, so a read model can
// never count an event that was not stored, nor miss one that was.
#pragma once

#include <map>
#include <set>
#include <string>
#include <tuple>
#include <utility>

#include "storenode/common/journal_format.h"
#include "storenode/common/sqlite.h"
#include "storenode/schemas/closedown.pb.h"
#include "storenode/schemas/xreport.pb.h"

namespace storenode::fog {

class ReadModels {
 public:
  // `part` is the day's open part: 0 until its Z, then the supplement's.
  // `covered`: a Z recovered from the ledger already holds the event's
  // figures; only the reports' models (hours, items, cashiers) and seals
  // take it.
  void Add(const DecodedEvent& event, uint32_t part, bool covered = false);
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
  std::map<std::pair<std::string, uint32_t>, v1::HourTotal> hours_;
  std::map<std::pair<std::string, std::string>, v1::ItemTotal> items_;
  std::map<std::pair<std::string, std::string>, v1::CashierTotal> cashiers_;
  std::set<std::string> late_days_;
};

// The stored totals of one (day, part, device) (empty totals if none).
Result<v1::DayTotals> LoadDayTotals(sql::Db& db, const std::string& day, uint32_t part,
                                    const std::string& device);

}  // namespace storenode::fog
