// Money: an amount in integer minor units (cents, pence), never floating point.
//
// Prices are tax inclusive and tax is computed per line with TaxIncluded(), so
// line figures add up to receipt and Z-report figures exactly (see
// docs/ARCHITECTURE.md, "Money"). All arithmetic is overflow checked and throws
// std::overflow_error: an overflowing till total is a bug, not an input error.
// Money is a plain value; all functions here are pure and thread-safe.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "storenode/common/status.h"

namespace storenode {

class Money {
 public:
  constexpr Money() = default;
  constexpr explicit Money(int64_t minor) : minor_(minor) {}

  constexpr int64_t minor() const { return minor_; }

  Money operator+(Money other) const;
  Money operator-(Money other) const;
  Money operator-() const;
  Money& operator+=(Money other) { return *this = *this + other; }
  Money& operator-=(Money other) { return *this = *this - other; }
  // Line amount for a quantity, e.g. unit price * 3.
  Money operator*(int64_t qty) const;

  constexpr auto operator<=>(const Money&) const = default;

  // "-12.34", "0.05"; with decimals == 0, "-12". decimals must be in [0, 18].
  std::string ToString(int decimals = 2) const;

  // Parses "[-]digits[.digits]" with at most `decimals` fraction digits:
  // "12.34" -> 1234, "12" -> 1200, "-0.5" -> -50. No sign "+", no spaces, no
  // exponent. Fails with kInvalidArgument naming the text and the reason.
  static Result<Money> Parse(std::string_view text, int decimals = 2);

 private:
  int64_t minor_ = 0;
};

// A tax rate in basis points: 2000 = 20.00%.
struct TaxRate {
  int32_t basis_points = 0;
};

// numerator / denominator rounded half away from zero (2.5 -> 3, -2.5 -> -3).
// Requires denominator > 0 (throws std::invalid_argument otherwise); throws
// std::overflow_error if the quotient does not fit in int64_t.
int64_t RoundHalfAwayDiv(__int128 numerator, __int128 denominator);

// The tax contained in a tax-inclusive gross amount:
// round_half_away(gross * rate / (10000 + rate)), computed in 128 bits.
// Symmetric for refunds: TaxIncluded(-x, r) == -TaxIncluded(x, r).
// Throws std::invalid_argument for a negative rate.
Money TaxIncluded(Money gross, TaxRate rate);

// `amount` rounded half away from zero to a multiple of `increment` (5 rounds
// to 0.05 in a two-decimal currency). increment <= 1 returns amount unchanged.
Money CashRound(Money amount, int64_t increment);

}  // namespace storenode
