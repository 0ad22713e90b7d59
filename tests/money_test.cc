#include "storenode/common/money.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

namespace storenode {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();  //  9223372036854775807
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();  // -9223372036854775808

struct TaxCase {
  int64_t gross;
  int32_t basis_points;
  int64_t tax;
};

// Every figure is gross * bp / (10000 + bp) worked out by hand as
// "quotient remainder r": the tax rounds up when 2r >= denominator.
constexpr TaxCase kTaxCases[] = {
    // Zero gross, and a zero rate.
    {0, 0, 0},
    {0, 2000, 0},
    {1000, 0, 0},
    // 10.00 at every rate we sell under.
    {1000, 550, 52},    // 550000 / 10550 = 52 r 1400
    {1000, 700, 65},    // 700000 / 10700 = 65 r 4500 (< 5350)
    {1000, 1000, 91},   // 1000000 / 11000 = 90 r 10000
    {1000, 1900, 160},  // 1900000 / 11900 = 159 r 7900
    {1000, 2000, 167},  // 2000000 / 12000 = 166 r 8000
    {1000, 2100, 174},  // 2100000 / 12100 = 173 r 6700
    {1000, 2500, 200},  // 2500000 / 12500 = 200 exactly
    {1, 2500, 0},       // 2500 / 12500 = 0 r 2500
    {1234, 2100, 214},  // 2591400 / 12100 = 214 r 2000
    // Exact halves. At 2000 bp the tax is gross / 6, a half when gross = 3 mod 6.
    {3, 2000, 1},    // 0.5
    {9, 2000, 2},    // 1.5
    {15, 2000, 3},   // 2.5
    {21, 2000, 4},   // 3.5
    {99, 2000, 17},  // 16.5
    // At 1200 bp the tax is gross * 3 / 28, a half when gross = 14 mod 28.
    {14, 1200, 2},  // 42 / 28 = 1.5
    {42, 1200, 5},  // 126 / 28 = 4.5
    // The other rates have odd denominators (11/211, 7/107, 1/11, 19/119,
    // 21/121, 1/5), so they never hit a half; these are the nearest misses.
    {48, 550, 3},    // 26400 / 10550 = 2 r 5300 (> 5275)
    {163, 550, 8},   // 89650 / 10550 = 8 r 5250 (< 5275)
    {47, 1900, 8},   // 89300 / 11900 = 7 r 6000 (> 5950)
    {72, 1900, 11},  // 136800 / 11900 = 11 r 5900 (< 5950)
    {49, 2100, 9},   // 102900 / 12100 = 8 r 6100 (> 6050)
    {72, 2100, 12},  // 151200 / 12100 = 12 r 6000 (< 6050)
    // Large amounts: gross * bp overflows int64_t, so these need 128 bits.
    {9'000'000'000'000'000, 550, 469'194'312'796'209},     // r 5600 of 10550
    {9'000'000'000'000'000, 700, 588'785'046'728'972},     // 588785046728971 r 10300
    {9'000'000'000'000'000, 1000, 818'181'818'181'818},    // r 2000 of 11000
    {9'000'000'000'000'000, 1900, 1'436'974'789'915'966},  // r 4600 of 11900
    {9'000'000'000'000'000, 2000, 1'500'000'000'000'000},  // exact
    {9'000'000'000'000'000, 2100, 1'561'983'471'074'380},  // r 2000 of 12100
    {9'000'000'000'000'000, 2500, 1'800'000'000'000'000},  // exact
    {kMax, 2000, 1'537'228'672'809'129'301},               // r 2000 of 12000
    {kMax, 2500, 1'844'674'407'370'955'161},               // r 5000 of 12500
};

TEST_CASE("TaxIncluded matches hand-computed figures, and refunds mirror sales", "[money]") {
  for (const TaxCase& c : kTaxCases) {
    CAPTURE(c.gross, c.basis_points);
    CHECK(TaxIncluded(Money(c.gross), TaxRate{c.basis_points}) == Money(c.tax));
    // A refund line carries exactly the negated tax of the sale line.
    CHECK(TaxIncluded(Money(-c.gross), TaxRate{c.basis_points}) == Money(-c.tax));
  }
}

TEST_CASE("TaxIncluded of the most negative amount", "[money]") {
  // 9223372036854775808 * 2500 / 12500 = 1844674407370955161 r 7500 -> away from zero.
  CHECK(TaxIncluded(Money(kMin), TaxRate{2500}) == Money(-1'844'674'407'370'955'162));
}

TEST_CASE("TaxIncluded rounds to the nearest unit, halves away from zero", "[money]") {
  // Integer-only restatement of the rule for every small amount: with
  // n = gross * bp and d = 10000 + bp, |2n - 2*tax*d| <= d, and on a tie
  // (equality) the tax is the one further from zero.
  const int32_t rate = GENERATE(0, 550, 700, 1000, 1200, 1900, 2000, 2100, 2500);
  const __int128 d = 10000 + rate;
  for (int64_t gross = -3000; gross <= 3000; ++gross) {
    const int64_t tax = TaxIncluded(Money(gross), TaxRate{rate}).minor();
    const __int128 n = static_cast<__int128>(gross) * rate;
    __int128 error = 2 * n - 2 * static_cast<__int128>(tax) * d;
    if (error < 0) error = -error;
    CAPTURE(gross, rate, tax);
    REQUIRE(error <= d);
    if (error == d) REQUIRE((tax >= 0 ? tax : -tax) * d > (n >= 0 ? n : -n));
  }
}

TEST_CASE("TaxIncluded rejects a negative rate", "[money]") {
  CHECK_THROWS_AS(TaxIncluded(Money(100), TaxRate{-1}), std::invalid_argument);
}

TEST_CASE("RoundHalfAwayDiv", "[money]") {
  auto [numerator, denominator, expected] = GENERATE(table<int64_t, int64_t, int64_t>({
      {0, 5, 0},
      {10, 5, 2},
      {-10, 5, -2},
      {1, 3, 0},    // 0.33
      {-1, 3, 0},   // -0.33
      {2, 3, 1},    // 0.67
      {-2, 3, -1},  // -0.67
      {5, 2, 3},    // 2.5
      {-5, 2, -3},  // -2.5
      {7, 2, 4},    // 3.5
      {-7, 2, -4},  // -3.5
      {13, 4, 3},   // 3.25
      {-13, 4, -3},
      {14, 4, 4},  // 3.5
      {-14, 4, -4},
      {kMax, 1, kMax},
      {kMin, 1, kMin},
      {kMin, 2, kMin / 2},
  }));
  CAPTURE(numerator, denominator);
  CHECK(RoundHalfAwayDiv(numerator, denominator) == expected);
}

TEST_CASE("RoundHalfAwayDiv rejects bad denominators and oversized quotients", "[money]") {
  CHECK_THROWS_AS(RoundHalfAwayDiv(1, 0), std::invalid_argument);
  CHECK_THROWS_AS(RoundHalfAwayDiv(1, -2), std::invalid_argument);
  CHECK_THROWS_AS(RoundHalfAwayDiv(static_cast<__int128>(kMax) * 2, 1), std::overflow_error);
  // kMax + 0.5 rounds away from zero, out of range.
  CHECK_THROWS_AS(RoundHalfAwayDiv(static_cast<__int128>(kMax) * 2 + 1, 2), std::overflow_error);
}

TEST_CASE("CashRound", "[money]") {
  auto [amount, increment, expected] = GENERATE(table<int64_t, int64_t, int64_t>({
      {1232, 5, 1230},    // 246.4 steps of 0.05 -> 246
      {1233, 5, 1235},    // 246.6 -> 247
      {-1232, 5, -1230},  // refunds round the same way, mirrored
      {-1233, 5, -1235},
      {1230, 5, 1230},
      {2, 5, 0},
      {3, 5, 5},
      {-3, 5, -5},
      {0, 5, 0},
      {1235, 10, 1240},  // 123.5 -> 124, a half
      {-1235, 10, -1240},
      {1234, 10, 1230},
      {1, 2, 2},  // 0.5 -> 1
      {-1, 2, -2},
      {3, 2, 4},                               // 1.5 -> 2
      {kMax, 100, 9'223'372'036'854'775'800},  // ...58.07 steps -> ...58
      // increment <= 1 leaves the amount alone.
      {1233, 1, 1233},
      {1233, 0, 1233},
      {-1233, -5, -1233},
  }));
  CAPTURE(amount, increment);
  CHECK(CashRound(Money(amount), increment) == Money(expected));
}

TEST_CASE("CashRound overflow", "[money]") {
  // 922337203685477580.7 steps of 10 round up to ...581 steps, past kMax.
  CHECK_THROWS_AS(CashRound(Money(kMax), 10), std::overflow_error);
}

TEST_CASE("Money arithmetic and comparison", "[money]") {
  const Money a(1234);
  const Money b(-50);
  CHECK((a + b).minor() == 1184);
  CHECK((a - b).minor() == 1284);
  CHECK((-a).minor() == -1234);
  CHECK((a * 3).minor() == 3702);
  CHECK((a * -2).minor() == -2468);
  CHECK((a * 0).minor() == 0);
  Money total;
  CHECK(total.minor() == 0);
  total += a;
  total += a;
  total -= b;
  CHECK(total == Money(2518));
  CHECK(b < a);
  CHECK(a > b);
  CHECK(a <= Money(1234));
  CHECK(a != b);
  static_assert(Money(5).minor() == 5);
}

TEST_CASE("Money arithmetic overflow throws", "[money]") {
  CHECK_THROWS_AS(Money(kMax / 2 + 1) * 2, std::overflow_error);
  CHECK_THROWS_AS(Money(kMax) * -2, std::overflow_error);
  CHECK_THROWS_AS(Money(kMin) * -1, std::overflow_error);
  CHECK_THROWS_AS(Money(kMax) + Money(1), std::overflow_error);
  CHECK_THROWS_AS(Money(kMin) - Money(1), std::overflow_error);
  CHECK_THROWS_AS(-Money(kMin), std::overflow_error);
  CHECK((Money(kMax / 2) * 2).minor() == kMax - 1);
  CHECK((Money(kMin / 2) * 2).minor() == kMin);
}

TEST_CASE("Money::ToString", "[money]") {
  auto [minor, decimals, text] = GENERATE(table<int64_t, int, std::string>({
      {1234, 2, "12.34"},
      {-1234, 2, "-12.34"},
      {5, 2, "0.05"},
      {-5, 2, "-0.05"},
      {50, 2, "0.50"},
      {0, 2, "0.00"},
      {100, 2, "1.00"},
      {12, 0, "12"},
      {-12, 0, "-12"},
      {1234, 3, "1.234"},
      {kMax, 2, "92233720368547758.07"},
      {kMin, 2, "-92233720368547758.08"},
      {kMin, 0, "-9223372036854775808"},
  }));
  CAPTURE(minor, decimals);
  CHECK(Money(minor).ToString(decimals) == text);
  // Every ToString output parses back to the same amount.
  Result<Money> parsed = Money::Parse(text, decimals);
  REQUIRE(parsed.ok());
  CHECK(parsed.value().minor() == minor);
}

TEST_CASE("Money::Parse accepts plain decimals", "[money]") {
  auto [text, decimals, minor] = GENERATE(table<std::string, int, int64_t>({
      {"12.34", 2, 1234},
      {"12", 2, 1200},
      {"-0.5", 2, -50},
      {"0.05", 2, 5},
      {"-12.34", 2, -1234},
      {"0", 2, 0},
      {"-0", 2, 0},
      {"007.10", 2, 710},
      {"12", 0, 12},
      {"1.5", 3, 1500},
      {"92233720368547758.07", 2, kMax},
      {"-92233720368547758.08", 2, kMin},
  }));
  CAPTURE(text, decimals);
  Result<Money> parsed = Money::Parse(text, decimals);
  REQUIRE(parsed.ok());
  CHECK(parsed.value().minor() == minor);
}

TEST_CASE("Money::Parse rejects malformed and out-of-range text", "[money]") {
  auto [text, decimals, reason] = GENERATE(table<std::string, int, std::string>({
      {"1.234", 2, "more than 2 decimal places"},
      {"12.0", 0, "more than 0 decimal places"},
      {"abc", 2, "not a decimal number"},
      {"", 2, "empty"},
      {"1.", 2, "no digits after the decimal point"},
      {".5", 2, "no digits before the decimal point"},
      {"-", 2, "no digits before the decimal point"},
      {"+1", 2, "not a decimal number"},
      {" 1", 2, "not a decimal number"},
      {"1 ", 2, "not a decimal number"},
      {"1e3", 2, "not a decimal number"},
      {"--1", 2, "not a decimal number"},
      {"1,00", 2, "not a decimal number"},
      {"1.2.3", 2, "not a decimal number"},
      {"92233720368547758.08", 2, "out of range"},   // kMax + 1
      {"-92233720368547758.09", 2, "out of range"},  // kMin - 1
      {"92233720368547759", 2, "out of range"},      // fits only before scaling by 100
      {"99999999999999999999999999999999999999999", 2, "out of range"},
  }));
  CAPTURE(text, decimals);
  Result<Money> parsed = Money::Parse(text, decimals);
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.status().code() == Code::kInvalidArgument);
  CHECK(parsed.status().message() == "money '" + text + "': " + reason);
}

}  // namespace
}  // namespace storenode
