#include "storenode/common/money.h"

#include <limits>
#include <stdexcept>

namespace storenode {
namespace {

constexpr int kMaxDecimals = 18;  // 10^18 is the largest power of ten in int64_t

void CheckDecimals(int decimals) {
  if (decimals < 0 || decimals > kMaxDecimals) {
    throw std::invalid_argument("Money: decimals must be in [0, 18], got " +
                                std::to_string(decimals));
  }
}

__int128 Pow10(int exponent) {
  __int128 p = 1;
  for (int i = 0; i < exponent; ++i) p *= 10;
  return p;
}

int64_t CheckedNarrow(__int128 value, const char* what) {
  if (value > std::numeric_limits<int64_t>::max() || value < std::numeric_limits<int64_t>::min()) {
    throw std::overflow_error(std::string("Money: overflow in ") + what);
  }
  return static_cast<int64_t>(value);
}

}  // namespace

Money Money::operator+(Money other) const {
  return Money(CheckedNarrow(static_cast<__int128>(minor_) + other.minor_, "+"));
}

Money Money::operator-(Money other) const {
  return Money(CheckedNarrow(static_cast<__int128>(minor_) - other.minor_, "-"));
}

Money Money::operator-() const { return Money(CheckedNarrow(-static_cast<__int128>(minor_), "-")); }

Money Money::operator*(int64_t qty) const {
  return Money(CheckedNarrow(static_cast<__int128>(minor_) * qty, "*"));
}

std::string Money::ToString(int decimals) const {
  CheckDecimals(decimals);
  // Work on the magnitude in 128 bits so that INT64_MIN has a positive twin.
  __int128 magnitude = minor_;
  if (magnitude < 0) magnitude = -magnitude;
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(magnitude % 10)));
    magnitude /= 10;
  } while (magnitude != 0);
  // Pad so there is at least one digit before the point: 5 -> "0.05".
  if (digits.size() < static_cast<size_t>(decimals) + 1) {
    digits.insert(0, static_cast<size_t>(decimals) + 1 - digits.size(), '0');
  }
  if (decimals > 0) digits.insert(digits.size() - static_cast<size_t>(decimals), 1, '.');
  if (minor_ < 0) digits.insert(digits.begin(), '-');
  return digits;
}

Result<Money> Money::Parse(std::string_view text, int decimals) {
  auto fail = [&](std::string_view reason) -> Status {
    return Status::Invalid("money '" + std::string(text) + "': " + std::string(reason));
  };
  if (decimals < 0 || decimals > kMaxDecimals) {
    return Status::Invalid("money: decimals must be in [0, 18], got " + std::to_string(decimals));
  }
  if (text.empty()) return fail("empty");

  std::string_view rest = text;
  const bool negative = rest.front() == '-';
  if (negative) rest.remove_prefix(1);

  std::string_view whole = rest;
  std::string_view fraction;
  const size_t point = rest.find('.');
  if (point != std::string_view::npos) {
    whole = rest.substr(0, point);
    fraction = rest.substr(point + 1);
    if (fraction.empty()) return fail("no digits after the decimal point");
  }
  if (whole.empty()) return fail("no digits before the decimal point");
  for (std::string_view part : {whole, fraction}) {
    for (char c : part) {
      if (c < '0' || c > '9') return fail("not a decimal number");
    }
  }
  if (fraction.size() > static_cast<size_t>(decimals)) {
    return fail("more than " + std::to_string(decimals) + " decimal places");
  }

  // Accumulate in 128 bits and stop as soon as the value leaves int64_t's
  // range (|INT64_MIN| = INT64_MAX + 1 is allowed for a negative amount).
  const __int128 limit = static_cast<__int128>(std::numeric_limits<int64_t>::max()) + negative;
  __int128 value = 0;
  auto append = [&](std::string_view digits_in) {
    for (char c : digits_in) {
      value = value * 10 + (c - '0');
      if (value > limit) return false;
    }
    return true;
  };
  if (!append(whole) || !append(fraction)) return fail("out of range");
  value *= Pow10(decimals - static_cast<int>(fraction.size()));
  if (value > limit) return fail("out of range");
  return Money(static_cast<int64_t>(negative ? -value : value));
}

int64_t RoundHalfAwayDiv(__int128 numerator, __int128 denominator) {
  if (denominator <= 0) throw std::invalid_argument("RoundHalfAwayDiv: denominator must be > 0");
  // C++ division truncates toward zero and the remainder takes the sign of
  // the numerator, so rounding away from zero is a step in the sign's direction.
  __int128 quotient = numerator / denominator;
  __int128 remainder = numerator % denominator;
  if (remainder < 0) remainder = -remainder;
  // remainder >= denominator - remainder is 2 * remainder >= denominator
  // without the risk of overflowing the doubling.
  if (remainder >= denominator - remainder) quotient += numerator < 0 ? -1 : 1;
  return CheckedNarrow(quotient, "RoundHalfAwayDiv");
}

Money TaxIncluded(Money gross, TaxRate rate) {
  if (rate.basis_points < 0) {
    throw std::invalid_argument("TaxIncluded: negative rate " + std::to_string(rate.basis_points) +
                                " bp");
  }
  // |gross| * rate fits easily in 128 bits (< 2^63 * 2^31), and the result
  // is at most |gross|, so it always fits back in int64_t.
  const __int128 numerator = static_cast<__int128>(gross.minor()) * rate.basis_points;
  const __int128 denominator = 10000 + static_cast<__int128>(rate.basis_points);
  return Money(RoundHalfAwayDiv(numerator, denominator));
}

Money CashRound(Money amount, int64_t increment) {
  if (increment <= 1) return amount;
  const int64_t units = RoundHalfAwayDiv(amount.minor(), increment);
  return Money(CheckedNarrow(static_cast<__int128>(units) * increment, "CashRound"));
}

}  // namespace storenode
