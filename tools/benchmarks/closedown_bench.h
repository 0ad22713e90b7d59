// Internals of `bench closedown` shared by its files: closedown_bench.cc runs
// the close-down, closedown_baseline.cc the plain SQL baseline it is compared
// with.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "storenode/common/status.h"
#include "storenode/schemas/closedown.pb.h"

namespace storenode::bench {

// What the tills' journals hold for the business day, counted while the
// baseline tables are written.
struct DayContent {
  uint64_t sale_lines = 0;
  uint64_t receipts = 0;     // sales
  uint64_t line_rows = 0;    // sale and refund lines: the rows of table lines
  uint64_t tender_rows = 0;  // sale and refund tenders: the rows of table tenders
  uint64_t events = 0;       // every event of the journals, whatever its day
};

// Decodes every journal of `journals` (paths) and writes their sale and
// refund lines and tenders of `day` into a fresh SQLite file at `path`:
//   lines(day, device, receipt, kind, sku, qty, unit_price, discount, gross,
//         tax, tax_code, tax_rate_bp)
//   tenders(day, device, receipt, kind, type, amount)
// kind is the v1::EventKind (SALE or REFUND), type the tender's name as the
// totals spell it (CASH, CARD...). Plain rowid tables without an index, in
// one transaction. Fails if an event belongs to another day than `day` (the
// journals must hold one business day).
Result<DayContent> WriteBaselineTables(const std::string& path,
                                       const std::vector<std::string>& journals,
                                       const std::string& day);

// The figures of a Z that the baseline queries give, for the cross-check.
struct BaselineFigures {
  struct Till {
    uint64_t receipts = 0;
    int64_t gross_sales = 0;  // sum of qty * unit_price over sale lines
    int64_t discounts = 0;
    uint64_t refund_count = 0;
    int64_t refunds = 0;     // sum of refund line gross
    int64_t cash_sales = 0;  // CASH tenders of sales: the drawer's figures
    int64_t cash_refunds = 0;
  };
  struct Tender {
    uint64_t count = 0;
    int64_t sales = 0;
    int64_t refunds = 0;
  };
  // (tax code, rate) -> (gross, tax), refunds subtracted.
  std::map<std::pair<std::string, int32_t>, std::pair<int64_t, int64_t>> taxes;
  std::map<std::string, Till> tills;      // by device
  std::map<std::string, Tender> tenders;  // by type, all tills
};

// Medians over the runs, in seconds.
struct BaselineTiming {
  double tax_s = 0;
  double till_s = 0;
  double tender_s = 0;
  double total_s = 0;  // median of each run's three queries together
  std::vector<std::string> queries;
};

// Runs the three GROUP BYs of the baseline over `day` `runs` times on one
// read-only connection to `path` and fills `figures` from the last run.
Result<BaselineTiming> RunBaseline(const std::string& path, const std::string& day, uint32_t runs,
                                   BaselineFigures* figures);

// Empty when the Z's figures are the baseline's, else the first difference.
std::string CompareZWithBaseline(const v1::ZReport& z, const BaselineFigures& figures);

}  // namespace storenode::bench
