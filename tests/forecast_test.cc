// The forecast methods (fog/src/forecast.h) on small series whose answers
// are worked out by hand in the comments, the Syntetos-Boylan classes and
// their boundaries, the quantile model, and censored days.
#include "fog/src/forecast.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

using namespace storenode::fog::forecast;

namespace {

std::vector<Day> Days(std::initializer_list<double> qty) {
  std::vector<Day> out;
  for (double q : qty) out.push_back({q, false});
  return out;
}

// `pattern` repeated `times` times.
std::vector<Day> Repeat(std::initializer_list<double> pattern, int times) {
  std::vector<Day> out;
  for (int i = 0; i < times; ++i) {
    for (double q : pattern) out.push_back({q, false});
  }
  return out;
}

}  // namespace

TEST_CASE("naive forecasts the last uncensored day", "[forecast]") {
  Forecast f = Predict(Days({1, 2, 3, 4}), 0, 5, Method::kNaive);
  REQUIRE(f.mean == std::vector<double>(5, 4));
  std::vector<Day> h = Days({1, 2, 3, 9});
  h[3].censored = true;
  f = Predict(h, 0, 3, Method::kNaive);
  REQUIRE(f.mean == std::vector<double>(3, 3));
}

TEST_CASE("seasonal naive repeats the last uncensored week day by day", "[forecast]") {
  std::vector<Day> h = Repeat({1, 2, 3, 4, 5, 6, 7}, 2);
  // Any first weekday: the forecast day after index 13 is index 14 = 0 mod 7.
  REQUIRE(Predict(h, 3, 7, Method::kSeasonalNaive).mean ==
          std::vector<double>{1, 2, 3, 4, 5, 6, 7});
  // The second week's third day is censored: that weekday comes from week 1.
  h[9] = {99, true};
  h[2].qty = 30;
  REQUIRE(Predict(h, 0, 7, Method::kSeasonalNaive).mean ==
          std::vector<double>{1, 2, 30, 4, 5, 6, 7});
}

TEST_CASE("the moving average is the mean of the last 28 uncensored days", "[forecast]") {
  std::vector<Day> h = Days({100, 100});
  for (int i = 0; i < 28; ++i) h.push_back({2, false});
  REQUIRE(Predict(h, 0, 2, Method::kMovingAverage).mean == std::vector<double>(2, 2));
  // 10, then 27 twos and a censored 50: the window reaches back to the 10.
  h = Days({100, 10});
  for (int i = 0; i < 27; ++i) h.push_back({2, false});
  h.push_back({50, true});
  REQUIRE(Predict(h, 0, 1, Method::kMovingAverage).mean[0] == Approx(64.0 / 28));
}

TEST_CASE("smoothing with a weekly profile: constant series and one worked update", "[forecast]") {
  REQUIRE(Predict(Repeat({5}, 60), 2, 4, Method::kSmoothingWeekly).mean ==
          std::vector<double>(4, 5));
  // Monday 10, Tuesday 20: mean 15, one day each, prior 4 pseudo-days:
  // s_mon = (10/15 + 4) / 5 = 0.93333, s_tue = (20/15 + 4) / 5 = 1.06667,
  // the other days 1 (their average is already 1). The level starts at
  // 10 / 0.93333 = 10.7143 and moves by 0.02 x (20 / 1.06667 - 10.7143)
  // to 10.875. Wednesday: 10.875; the next Monday: 10.875 x 0.93333.
  const Forecast f = Predict(Days({10, 20}), 0, 6, Method::kSmoothingWeekly);
  REQUIRE(f.mean[0] == Approx(10.875));
  REQUIRE(f.mean[4] == Approx(10.875));
  REQUIRE(f.mean[5] == Approx(10.875 * 14 / 15));
}

TEST_CASE("Croston and SBA with alpha 0.05 on a known intermittent series", "[forecast]") {
  // Demands 3 on day 3 (interval 3) and 5 on day 5 (interval 2):
  // z = 3 + 0.05 x (5 - 3) = 3.1, p = 3 + 0.05 x (2 - 3) = 2.95.
  const std::vector<Day> h = Days({0, 0, 3, 0, 5});
  REQUIRE(Predict(h, 0, 3, Method::kCroston).mean[0] == Approx(3.1 / 2.95));
  // SBA: the same times 1 - 0.05 / 2.
  REQUIRE(Predict(h, 0, 3, Method::kSba).mean[0] == Approx(0.975 * 3.1 / 2.95));
  // A censored day neither counts in the interval nor is a zero.
  std::vector<Day> c = Days({0, 0, 3, 7, 0, 5});
  c[3].censored = true;
  REQUIRE(Predict(c, 0, 3, Method::kCroston).mean[0] == Approx(3.1 / 2.95));
  // No demand yet: zero, and zero quantiles.
  const Forecast none = Predict(Days({0, 0, 0}), 0, 2, Method::kCroston);
  REQUIRE(none.mean == std::vector<double>(2, 0));
  REQUIRE(none.q90 == std::vector<double>(2, 0));
}

TEST_CASE("TSB with alpha = beta = 0.05 on the same series", "[forecast]") {
  // The first demand (3, on the third day) starts z = 3 and pi = 1/3; day 4
  // (no demand): pi = 1/3 - 0.05/3 = 0.316667; day 5 (5): pi = 0.316667 +
  // 0.05 x (1 - 0.316667) = 0.350833 and z = 3.1.
  const Forecast f = Predict(Days({0, 0, 3, 0, 5}), 0, 2, Method::kTsb);
  REQUIRE(f.mean[0] == Approx(0.350833 * 3.1).epsilon(1e-5));
}

TEST_CASE("the combination is the mean of smoothing-weekly and TSB", "[forecast]") {
  const std::vector<Day> h = Repeat({0, 4, 1, 0, 6, 0, 2}, 10);
  const Forecast a = Predict(h, 0, 7, Method::kSmoothingWeekly);
  const Forecast b = Predict(h, 0, 7, Method::kTsb);
  const Forecast c = Predict(h, 0, 7, Method::kCombination);
  for (int d = 0; d < 7; ++d) REQUIRE(c.mean[d] == Approx((a.mean[d] + b.mean[d]) / 2));
}

TEST_CASE("the quantile model: Poisson, negative binomial, normal, and sums", "[forecast]") {
  // Poisson(1): cdf 0.368, 0.736, 0.920.
  REQUIRE(CountQuantile(1, 1, 0.5) == 1);
  REQUIRE(CountQuantile(1, 1, 0.9) == 2);
  // Mean 2, variance 6: r = 1, a geometric with cdf(k) = 1 - (2/3)^(k+1).
  REQUIRE(CountQuantile(2, 6, 0.5) == 1);
  REQUIRE(CountQuantile(2, 6, 0.9) == 5);
  // Above a mean of 300 a normal, rounded up: 400 + 1.28155 x 20 = 425.6.
  REQUIRE(CountQuantile(400, 400, 0.9) == 426);
  REQUIRE(CountQuantile(0, 5, 0.9) == 0);
  // A hostile variance: the walk stops at 100,000 units.
  REQUIRE(CountQuantile(300, 1e7, 1 - 1e-9) == 100000);
  // Two days of mean 1 and variance 1 sum to Poisson(2): cdf(4) = 0.947.
  Forecast f{Method::kNaive, {1, 1, 1}, {1, 1, 1}, {2, 2, 2}, {1, 1, 1}};
  REQUIRE(f.SumQuantile(2, 0.9) == 4);
  REQUIRE(f.SumQuantile(2, 0.95) == 5);
  REQUIRE(f.SumQuantile(99, 0.5) == CountQuantile(3, 3, 0.5));
}

TEST_CASE("quantiles are whole, ordered and from the in-sample variance", "[forecast]") {
  // Naive on 0, 2, 0, 2, ...: every one-step error is 2, so the variance
  // is 4 at the mean 2: NB r = 2, cdf 0.25, 0.5, ..., 0.9375 at 5.
  std::vector<Day> h = Repeat({0, 2}, 30);
  const Forecast f = Predict(h, 0, 3, Method::kNaive);
  REQUIRE(f.var == std::vector<double>(3, 4));
  REQUIRE(f.q50 == std::vector<double>(3, 1));
  REQUIRE(f.q90 == std::vector<double>(3, 5));
}

TEST_CASE("Syntetos-Boylan classes of constructed series", "[forecast]") {
  Classification c = Classify(Repeat({10}, 20));
  REQUIRE(c.demand_class == DemandClass::kSmooth);
  REQUIRE(c.adi == 1);
  REQUIRE(c.cv2 == 0);
  // 1 and 10: mean 5.5, variance 20.25, CV^2 = 20.25 / 30.25.
  c = Classify(Repeat({1, 10}, 10));
  REQUIRE(c.demand_class == DemandClass::kErratic);
  REQUIRE(c.cv2 == Approx(20.25 / 30.25));
  c = Classify(Repeat({0, 5}, 10));
  REQUIRE(c.demand_class == DemandClass::kIntermittent);
  REQUIRE(c.adi == 2);
  c = Classify(Repeat({0, 1, 0, 10}, 5));
  REQUIRE(c.demand_class == DemandClass::kLumpy);
  REQUIRE(Name(c.demand_class) == "lumpy");
  c = Classify({});
  REQUIRE(std::isinf(c.adi));
  REQUIRE(c.demand_class == DemandClass::kIntermittent);
}

TEST_CASE("the class boundaries: ADI 1.32 and CV^2 0.49 belong to the upper side", "[forecast]") {
  // 33 days, 25 of them with a demand: ADI 1.32 exactly.
  std::vector<Day> h = Repeat({4}, 25);
  for (int i = 0; i < 8; ++i) h.push_back({0, false});
  REQUIRE(Classify(h).adi == 1.32);
  REQUIRE(Classify(h).demand_class == DemandClass::kIntermittent);
  h.pop_back();  // 32 / 25 = 1.28
  REQUIRE(Classify(h).demand_class == DemandClass::kSmooth);
  // Sizes 3 and 17: mean 10, variance 49, CV^2 0.49 exactly.
  REQUIRE(Classify(Repeat({3, 17}, 4)).cv2 == 0.49);
  REQUIRE(Classify(Repeat({3, 17}, 4)).demand_class == DemandClass::kErratic);
  REQUIRE(Classify(Repeat({4, 16}, 4)).demand_class == DemandClass::kSmooth);  // 0.36
}

TEST_CASE("censored days are not zeros to the classes", "[forecast]") {
  std::vector<Day> h = Days({5, 5, 0, 0, 5});
  REQUIRE(Classify(h).adi == Approx(5.0 / 3));
  h[2].censored = h[3].censored = true;
  REQUIRE(Classify(h).adi == 1);
  // And an all-censored history forecasts nothing.
  for (Day& d : h) d.censored = true;
  for (Method m : kAllMethods) REQUIRE(Predict(h, 0, 3, m).mean == std::vector<double>(3, 0));
}

TEST_CASE("method names round-trip and the defaults are the backtest's", "[forecast]") {
  for (Method m : kAllMethods) REQUIRE(ParseMethod(Name(m)) == m);
  REQUIRE_FALSE(ParseMethod("mape").has_value());
  REQUIRE(DefaultFor(DemandClass::kSmooth) == Method::kSmoothingWeekly);
  REQUIRE(DefaultFor(DemandClass::kErratic) == Method::kCombination);
  REQUIRE(DefaultFor(DemandClass::kIntermittent) == Method::kSba);
  REQUIRE(DefaultFor(DemandClass::kLumpy) == Method::kSba);
  const std::vector<Day> h = Repeat({0, 3}, 20);
  REQUIRE(Predict(h, 0, 5).method == Method::kSba);
}
