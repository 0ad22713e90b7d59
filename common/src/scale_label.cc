#include "storenode/common/scale_label.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace storenode::scale {
namespace {

bool AllDigits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The GS1 weighting factors of the price check digit: the product's digit.
constexpr std::array<int, 10> kTwoMinus = {0, 2, 4, 6, 8, 9, 1, 3, 5, 7};
constexpr std::array<int, 10> kThree = {0, 3, 6, 9, 2, 5, 8, 1, 4, 7};
constexpr std::array<int, 10> kFivePlus = {0, 5, 1, 6, 2, 7, 3, 8, 4, 9};
constexpr std::array<int, 10> kFiveMinus = {0, 5, 9, 4, 8, 3, 7, 2, 6, 1};

}  // namespace

Status CheckLayout(const Layout& l) {
  const bool prefix_ok =
      l.prefix == "2" || (l.prefix.size() == 2 && l.prefix[0] == '2' && AllDigits(l.prefix));
  if (!prefix_ok)
    return Status::Invalid("scale layout: prefix '" + l.prefix + "' is not 2 or 20..29");
  if (l.value_digits < 4 || l.value_digits > 6) {
    return Status::Invalid(
        fmt::format("scale layout {}: value_digits {} is not 4..6", l.prefix, l.value_digits));
  }
  if (l.price_check && l.value_digits == 6) {
    return Status::Invalid(fmt::format(
        "scale layout {}: a price check digit covers 4 or 5 value digits, not 6", l.prefix));
  }
  const int total = static_cast<int>(l.prefix.size()) + l.item_digits + (l.price_check ? 1 : 0) +
                    l.value_digits + 1;
  if (l.item_digits < 1 || total != 13) {
    return Status::Invalid(fmt::format(
        "scale layout {}: prefix, {} item digits, {}{} value digits and the check digit make {} "
        "digits, not 13",
        l.prefix, l.item_digits, l.price_check ? "a price check digit, " : "", l.value_digits,
        total));
  }
  return Status::Ok();
}

int Ean13CheckDigit(std::string_view first12) {
  int sum = 0;
  for (size_t i = 0; i < first12.size(); ++i) sum += (first12[i] - '0') * (i % 2 == 0 ? 1 : 3);
  return (10 - sum % 10) % 10;
}

int PriceCheckDigit(std::string_view v) {
  auto d = [&](size_t i) { return v[i] - '0'; };
  if (v.size() == 4) {
    const int sum = kTwoMinus[d(0)] + kTwoMinus[d(1)] + kThree[d(2)] + kFiveMinus[d(3)];
    return sum * 3 % 10;
  }
  const int sum =
      kFivePlus[d(0)] + kTwoMinus[d(1)] + kFiveMinus[d(2)] + kFivePlus[d(3)] + kTwoMinus[d(4)];
  const int target = (10 - sum % 10) % 10;  // the check digit's 5- product
  return static_cast<int>(std::find(kFiveMinus.begin(), kFiveMinus.end(), target) -
                          kFiveMinus.begin());
}

Result<Label> Parse(std::string_view code, std::span<const Layout> layouts) {
  if (code.size() != 13 || !AllDigits(code) || code[0] != '2') {
    return Status::NotFound("not a scale label (13 digits starting 20..29)");
  }
  const Layout* layout = nullptr;
  for (const Layout& l : layouts) {
    if (code.starts_with(l.prefix)) {
      layout = &l;
      break;
    }
  }
  if (layout == nullptr) {
    return Status::NotFound(fmt::format("scale label {}: no layout of the store takes prefix {}",
                                        code, code.substr(0, 2)));
  }
  const int check = Ean13CheckDigit(code.substr(0, 12));
  if (code[12] - '0' != check) {
    return Status::Invalid(fmt::format("scale label {}: check digit (digit 13) is {}, {} expected",
                                       code, code[12], check));
  }
  const size_t item_end = layout->prefix.size() + layout->item_digits;
  const size_t value_at = item_end + (layout->price_check ? 1 : 0);
  const std::string_view value = code.substr(value_at, layout->value_digits);
  if (layout->price_check) {
    const int price_check = PriceCheckDigit(value);
    if (code[item_end] - '0' != price_check) {
      return Status::Invalid(
          fmt::format("scale label {}: price check digit (digit {}) is {}, {} "
                      "expected",
                      code, item_end + 1, code[item_end], price_check));
    }
  }
  Label label;
  label.item_code = std::string(code.substr(0, item_end));
  label.embedded = layout->embedded;
  for (char c : value) label.value = label.value * 10 + (c - '0');
  return label;
}

}  // namespace storenode::scale
