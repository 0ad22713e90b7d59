#include "storenode/common/lines.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace storenode::lines {

void SetQuantity(v1::SaleLine* line, int64_t quantity) {
  if (IsMeasured(*line)) {
    line->set_qty(0);
    line->set_qty_milli(quantity);
  } else {
    line->set_qty(quantity);
    line->set_qty_milli(0);
  }
}

Money Extended(const v1::SaleLine& line, int64_t unit_price) {
  if (!IsMeasured(line)) return Money(unit_price) * line.qty();
  return Money(RoundHalfAwayDiv(__int128{line.qty_milli()} * unit_price, 1000));
}

Status CheckQuantity(const v1::SaleLine& line) {
  if (!v1::UnitOfMeasure_IsValid(line.unit())) {
    return Status::Invalid("unknown unit of measure " + std::to_string(line.unit()));
  }
  if (!IsMeasured(line)) {
    if (line.qty() <= 0) {
      return Status::Invalid("quantity must be positive, got " + std::to_string(line.qty()));
    }
    if (line.qty_milli() != 0 || line.tare_milli() != 0 || line.keyed_weight()) {
      return Status::Invalid("a piece line has no qty_milli, tare or keyed weight");
    }
    return Status::Ok();
  }
  const char* unit = UnitSymbol(line.unit());
  if (line.qty() != 0) {
    return Status::Invalid(fmt::format(
        "a line sold by the {} counts qty_milli, qty must be 0, got {}", unit, line.qty()));
  }
  if (line.qty_milli() <= 0 || line.qty_milli() > kMaxQtyMilli) {
    return Status::Invalid(fmt::format("measured quantity {} outside 0.001..{} {}",
                                       FormatQuantity(line.qty_milli(), line.unit()),
                                       kMaxQtyMilli / 1000, unit));
  }
  if (line.tare_milli() < 0 || line.tare_milli() > kMaxQtyMilli) {
    return Status::Invalid(fmt::format("tare {} outside 0..{} {}",
                                       FormatQuantity(line.tare_milli(), line.unit()),
                                       kMaxQtyMilli / 1000, unit));
  }
  return Status::Ok();
}

const char* UnitSymbol(v1::UnitOfMeasure unit) {
  switch (unit) {
    case v1::UNIT_KG:
      return "kg";
    case v1::UNIT_LITRE:
      return "l";
    case v1::UNIT_METRE:
      return "m";
    default:
      return "";
  }
}

std::string FormatMilli(int64_t milli, std::string_view symbol) {
  // Thousandths print like money with three decimals: 1234 -> "1.234".
  return Money(milli).ToString(3) + " " + std::string(symbol);
}

Result<int64_t> ParseMilli(std::string_view text, bool measured, int64_t max_units) {
  const std::string quoted = "'" + std::string(text.substr(0, 40)) + "'";
  std::string_view body = text;
  const bool negative = !body.empty() && body.front() == '-';
  if (negative) body.remove_prefix(1);
  const size_t sep = body.find_first_of(".,");
  const std::string_view whole = body.substr(0, sep);
  const std::string_view frac = sep == std::string_view::npos ? "" : body.substr(sep + 1);
  auto digits = [](std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (whole.empty() || whole.size() > 10 || !digits(whole) ||
      (sep != std::string_view::npos && (frac.empty() || !digits(frac)))) {
    return Status::Invalid(quoted + (measured ? " is not a quantity" : " is not a whole number"));
  }
  if (!frac.empty() && !measured) {
    return Status::Invalid(quoted + " is not a whole number (the item is sold by the piece)");
  }
  if (frac.size() > 3) return Status::Invalid(quoted + " has more than 3 decimals");
  int64_t units = 0, milli = 0;
  std::from_chars(whole.data(), whole.data() + whole.size(), units);
  std::from_chars(frac.data(), frac.data() + frac.size(), milli);
  for (size_t i = frac.size(); i < 3; ++i) milli *= 10;
  if (units > max_units || (units == max_units && milli > 0)) {
    return Status::Invalid(quoted + " is over " + std::to_string(max_units));
  }
  const int64_t v = units * 1000 + milli;
  return negative ? -v : v;
}

std::string FormatUnits(int64_t milli) {
  std::string out = std::to_string(milli / 1000);
  if (const int64_t f = milli % 1000; f != 0) {
    if (milli < 0 && milli > -1000) out = "-" + out;
    out += fmt::format(".{:03d}", f < 0 ? -f : f);
  }
  return out;
}

std::string FormatQuantity(int64_t quantity, v1::UnitOfMeasure unit) {
  if (unit == v1::UNIT_PIECE) return std::to_string(quantity);
  return FormatMilli(quantity, UnitSymbol(unit));
}

Money OverrideDifference(const v1::SaleLine& line) {
  if (!line.has_price_override()) return Money();
  return Extended(line, line.price_override().catalog_price()) - Extended(line);
}

}  // namespace storenode::lines
