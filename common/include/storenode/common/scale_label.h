// Scale labels: the GS1 variable-measure EAN-13 codes a shop's scales print
// for weighed goods (restricted circulation numbers, prefixes 20..29), which
// the till reads into an item code and an embedded weight or price.
//
// Which digits mean what is the store's choice (the national GS1 body's
// recommendation, or the scale vendor's), so it is a list of layouts:
//
//   digit:   1 2 | 3 4 5 6 7 | 8 | 9 10 11 12 | 13
//            prefix  item     [P]   value      C
//
// a 1- or 2-digit prefix, the item code, an optional price check digit P
// over the value (GS1 General Specifications, "check digit calculation for
// price/weight fields": 4 digits with the weights 2-, 2-, 3, 5-; 5 digits
// with 5+, 2-, 5-, 5+, 2-), the value (4 to 6 digits), and the EAN-13 check
// digit C. The value is a price in the currency's minor units, or a weight
// or measure in thousandths of the unit (grams of a kg). Parse refuses a
// label that fails either check digit, naming the digit and the one
// expected, and a code no layout matches. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "storenode/common/status.h"

namespace storenode::scale {

enum class Embedded { kPrice, kMeasure };

struct Layout {
  std::string prefix;  // "2" .. "29": the label's first digit(s)
  int item_digits = 5;
  bool price_check = false;  // a check digit over the value precedes it
  int value_digits = 5;      // 4..6 (a price check digit only with 4 or 5)
  Embedded embedded = Embedded::kPrice;
};

struct Label {
  std::string item_code;  // the prefix and the item digits: "2112345"
  Embedded embedded = Embedded::kPrice;
  int64_t value = 0;  // minor units (kPrice) or thousandths of the unit (kMeasure)
};

// A layout that adds up to 13 digits with a prefix in 20..29 (or "2"), a
// price check digit only over 4 or 5 value digits. The reason names the field.
Status CheckLayout(const Layout& layout);

// The EAN-13 check digit of the first 12 digits.
int Ean13CheckDigit(std::string_view first12);
// The price check digit of a 4- or 5-digit value.
int PriceCheckDigit(std::string_view value);

// The label `code` under the first layout whose prefix it starts with.
// NotFound when it is not a 13-digit code of prefix 20..29 or no layout
// takes its prefix; InvalidArgument for a wrong check digit.
Result<Label> Parse(std::string_view code, std::span<const Layout> layouts);

}  // namespace storenode::scale
