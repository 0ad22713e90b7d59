// Printable forms of day totals: the X-report a till prints and the text and
// CSV that the fog's reports reuse, so one figure reads the same everywhere.
//
// Amounts are printed with two decimals (Money::ToString). Pure functions,
// thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "storenode/schemas/xreport.pb.h"

namespace storenode {

// Width of the printed page in columns.
inline constexpr int kReportWidth = 80;

// A report of `totals` under `title` ("X-REPORT", "Z-REPORT 17"...) that fits
// an 80-column printer page, amounts right-aligned: header, sales, tax per
// rate, tenders, drawers, no-sale opens. Ends with a newline.
std::string FormatDayTotalsText(const v1::DayTotals& totals, std::string_view title);

// The same figures as CSV: a header row "section,key,value", then one row per
// figure. Amounts as decimals ("12.34"), counts as integers; rows of a tax
// rate, tender or drawer have section "tax:A", "tender:CASH", "drawer:till-1".
std::string FormatDayTotalsCsv(const v1::DayTotals& totals);

}  // namespace storenode
