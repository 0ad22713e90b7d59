// Sale lines: the one rule for a line's quantity and its extended price,
// used by the journal (pricing and checks), the day totals, pos-sim and the
// report texts, so that a measured line means the same thing everywhere.
//
// A PIECE line counts whole units in `qty`; a measured line (kg, litre,
// metre) counts thousandths of its unit in `qty_milli` with `qty` 0, and its
// unit_price is per whole unit. Extended price:
//   piece:    qty * unit_price
//   measured: round_half_away(qty_milli * unit_price / 1000)
// and gross = extended - discount (docs/FORMATS.md, "Measured lines").
// Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "storenode/common/money.h"
#include "storenode/common/status.h"
#include "storenode/schemas/journal.pb.h"

namespace storenode::lines {

// The largest quantity of a measured line: 1,000 kg (l, m), in thousandths.
inline constexpr int64_t kMaxQtyMilli = 1'000'000;

inline bool IsMeasured(const v1::SaleLine& line) { return line.unit() != v1::UNIT_PIECE; }

// The line's quantity in its counting unit: qty, or qty_milli when measured.
inline int64_t Quantity(const v1::SaleLine& line) {
  return IsMeasured(line) ? line.qty_milli() : line.qty();
}

// Sets the quantity in its counting unit (qty or qty_milli, the other 0).
void SetQuantity(v1::SaleLine* line, int64_t quantity);

// The extended price at `unit_price` (or the line's own). Throws
// std::overflow_error when it does not fit, as Money does.
Money Extended(const v1::SaleLine& line, int64_t unit_price);
inline Money Extended(const v1::SaleLine& line) { return Extended(line, line.unit_price()); }

// OK when the quantity fields are consistent: a known unit; a piece line
// with qty > 0 and no qty_milli, tare or keyed weight; a measured line with
// qty 0 and 0 < qty_milli <= kMaxQtyMilli, 0 <= tare_milli <= kMaxQtyMilli.
// Otherwise InvalidArgument with a one-line reason (no "line N" prefix).
Status CheckQuantity(const v1::SaleLine& line);

// "kg", "l", "m"; "" for a piece.
const char* UnitSymbol(v1::UnitOfMeasure unit);

// Thousandths of a unit as printed: FormatMilli(1234, "kg") is "1.234 kg".
std::string FormatMilli(int64_t milli, std::string_view symbol);

// A quantity as a person writes it, in thousandths of its unit: whole units
// ("12", "-3"), or, when `measured`, up to three decimals after '.' or ','
// ("12.5" is 12500, "0,250" is 250). At most `max_units` whole units either
// way. InvalidArgument with a one-line reason that quotes `text`.
Result<int64_t> ParseMilli(std::string_view text, bool measured, int64_t max_units);
// Its inverse for output: "12" for whole units, else three decimals
// ("12.500", "-0.750").
std::string FormatUnits(int64_t milli);

// A quantity as printed: "3" for pieces, "1.234 kg" for thousandths of a unit.
std::string FormatQuantity(int64_t quantity, v1::UnitOfMeasure unit);
inline std::string FormatQuantity(const v1::SaleLine& line) {
  return FormatQuantity(Quantity(line), line.unit());
}

// What a price override took off the line: the extended price at the catalog
// price minus the extended price at the keyed one (negative when the keyed
// price is higher); 0 for a line without an override.
Money OverrideDifference(const v1::SaleLine& line);

}  // namespace storenode::lines
