// Foreign cash and currency exchange: the rules a till applies when it
// records a foreign-cash tender or an EXCHANGE, and the fog applies again
// when it checks the event, kept here once (docs/FORMATS.md "Foreign cash
// and exchanges").
//
// The rules:
//  1. A rate is home minor units per foreign minor unit x 1e9 (rate_e9);
//     each currency has its ISO 4217 minor units (settings::CurrencyDecimals,
//     the one table). An amount converts as
//     home = round_half_away(foreign * rate_e9 / 1e9).
//  2. The rate of currency c at instant t is the entry of c in the rate
//     sheet (StoreSettings.fx_rates) with the greatest effective_from_us <= t.
//     The store buys notes at its buy rate (foreign-cash tenders and
//     BUY_FOREIGN) and sells them at its sell rate (SELL_FOREIGN).
//  3. The commission of an exchange is round_half_away(home * rate_bp /
//     10000) held within [min, max] of the direction's schedule. The
//     customer pays home + commission (SELL_FOREIGN) or is paid home -
//     commission (BUY_FOREIGN), which must stay above 0.
//  4. An exchange whose home amount is at least aml_threshold (> 0) must
//     carry a customer reference. A reference is an id, never personal
//     data: 6..32 of [A-Z0-9-], at least one digit, no leading, trailing or
//     doubled '-', and not an IBAN.
//  5. The margin of an exchange is the store's gain against the mid rate:
//     mid = round_half_away(foreign * mid_rate_e9 / 1e9); BUY_FOREIGN
//     mid - home, SELL_FOREIGN home - mid. A foreign-cash tender is the
//     store buying notes: home(foreign_tendered, mid_rate_e9) - tendered,
//     0 for a tender recorded before it carried a mid rate (mid_rate_e9 0).
//
// All functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

#include "storenode/common/status.h"
#include "storenode/schemas/journal.pb.h"
#include "storenode/schemas/settings.pb.h"

namespace storenode::fx {

inline constexpr int64_t kRateScale = 1'000'000'000;
// Caps on what an event or a sheet may say, far above any real figure.
inline constexpr int64_t kMaxForeignMinor = 1'000'000'000'000;  // 1e12
inline constexpr int64_t kMaxRateE9 = 1'000'000'000'000'000;    // 1e15
inline constexpr int kMaxSheetEntries = 1000;

// Rule 1. Throws std::overflow_error only beyond the caps above.
int64_t ToHome(int64_t foreign_minor, int64_t rate_e9);
// Rule 3.
int64_t Commission(int64_t home, const v1::FxCommission& schedule);
// Rule 5.
int64_t Margin(const v1::Exchange& e);
int64_t Margin(const v1::Tender& foreign_cash);

// Rule 2; nullptr if the sheet has no entry of `currency` in force.
const v1::FxRateEntry* RateAt(const v1::StoreSettings& s, std::string_view currency,
                              int64_t utc_us);

// Rule 4, the format alone.
Status CheckCustomerRef(std::string_view ref);

// The sheet, the schedules and the threshold of a settings document on
// their own (settings::Check calls it).
Status CheckSheet(const v1::StoreSettings& s);
// A later settings version keeps the rate sheet or carries a newer one
// (settings::CheckNext calls it): a sheet version never goes back, and the
// same version means the same rates.
Status CheckSheetNext(const v1::StoreSettings& before, const v1::StoreSettings& after);

// A foreign-cash tender: fills rate_e9, mid_rate_e9, rate_sheet_version and
// tendered where the caller left them 0, then checks it (CheckForeignTender).
Status FillForeignTender(v1::Tender* t, const v1::StoreSettings& s, int64_t utc_us);
// Cash, a known currency other than home, the sheet of `s` and its buy and
// mid rates in force at utc_us (mid 0 passes: a tender recorded before the
// field, read by the fog), tendered = the notes' home value (rule 1) >=
// amount.
Status CheckForeignTender(const v1::Tender& t, const v1::StoreSettings& s, int64_t utc_us);

// A cash movement of a foreign drawer balance (currency set): a known
// currency other than home, a float, pay-in, pay-out or drop of at most
// kMaxForeignMinor. A movement of the home drawer (currency "") passes.
Status CheckMovementCurrency(const v1::CashMovement& m, const v1::StoreSettings& s);

// An exchange: fills the rates and the sheet version where the caller left
// them 0 and always home_amount, commission and total, then checks it:
// QuoteExchange all but the tenders (what the POS shows before payment),
// FillExchange everything (CheckExchange).
Status QuoteExchange(v1::Exchange* e, const v1::StoreSettings& s, int64_t utc_us);
Status FillExchange(v1::Exchange* e, const v1::StoreSettings& s, int64_t utc_us);
// Every field of an exchange against `s` at utc_us (rules 1..4); tenders
// CASH or CARD (BUY_FOREIGN: CASH only, the store pays out notes) adding up
// to total.
Status CheckExchange(const v1::Exchange& e, const v1::StoreSettings& s, int64_t utc_us);

// A rate as a manager writes it, home units per foreign unit ("0.9213",
// at most 9 decimals), as rate_e9 between currencies of these minor units.
// Refused when it is not positive or not exact at 1e9.
Result<int64_t> ParseRate(std::string_view text, int home_decimals, int foreign_decimals);

// A rate sheet CSV (docs/FORMATS.md "Rate sheet"):
//   currency,buy,sell,mid,effective_from
//   USD,0.9050,0.9450,0.9250,2026-12-07T08:00
// as entries of `s` (its home currency and zone), sorted by currency then
// time. At most 64 KiB and kMaxSheetEntries rows; the reason names the line.
Result<std::vector<v1::FxRateEntry>> ParseRateSheet(std::string_view csv,
                                                    const v1::StoreSettings& s);

}  // namespace storenode::fx
