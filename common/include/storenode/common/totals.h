// Day totals: how journal events add up into the figures of an X- or
// Z-report. The till's X-report, pos-sim's oracle and the fog's read models
// all use this one function, so a figure means the same thing everywhere.
//
// Sign conventions: all amounts are positive; refunds, pay-outs and drops are
// subtracted where a figure says so (net_sales, tax totals, drawer expected).
#pragma once

#include "storenode/common/journal_format.h"
#include "storenode/schemas/xreport.pb.h"

namespace storenode {

// Adds one decoded event to `totals`. Events of other days are the caller's
// business: this function books whatever it is given.
void AddToTotals(const DecodedEvent& event, v1::DayTotals* totals);

// Adds `from` into `into` (per-device totals into store totals). Identity
// fields (store, device, day) of `into` are kept.
void MergeTotals(const v1::DayTotals& from, v1::DayTotals* into);

// Recomputes derived figures (net_sales, drawer expected) and sorts repeated
// fields so that equal totals serialize to equal bytes.
void FinishTotals(v1::DayTotals* totals);

const char* TenderName(v1::TenderType type);

}  // namespace storenode
