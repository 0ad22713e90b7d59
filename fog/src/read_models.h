// Read models: figures the fog keeps up to date during ingest so that
// reports and the close-down never re-parse stored events.
//
// Events are staged in memory while a transaction is open and merged into
// the tables by Flush() inside the same transaction, so a read model can
// never count an event that was not stored, nor miss one that was.
#pragma once

#include <map>
#include <string>
#include <utility>

#include "storenode/common/journal_format.h"
#include "storenode/common/sqlite.h"
#include "storenode/schemas/xreport.pb.h"

namespace storenode::fog {

class ReadModels {
 public:
  void Add(const DecodedEvent& event);
  // Merges everything staged into fog.db; call inside the ingest transaction.
  Status Flush(sql::Db& db);
  // Forgets what is staged (the transaction rolled back).
  void Clear() { day_totals_.clear(); }

 private:
  std::map<std::pair<std::string, std::string>, v1::DayTotals> day_totals_;
};

// The stored totals of one device and day (empty totals if none).
Result<v1::DayTotals> LoadDayTotals(sql::Db& db, const std::string& device,
                                    const std::string& day);

}  // namespace storenode::fog
