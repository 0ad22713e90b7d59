#include "storenode/common/lines.h"

#include <fmt/format.h>

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

std::string FormatQuantity(int64_t quantity, v1::UnitOfMeasure unit) {
  if (unit == v1::UNIT_PIECE) return std::to_string(quantity);
  return FormatMilli(quantity, UnitSymbol(unit));
}

Money OverrideDifference(const v1::SaleLine& line) {
  if (!line.has_price_override()) return Money();
  return Extended(line, line.price_override().catalog_price()) - Extended(line);
}

}  // namespace storenode::lines
