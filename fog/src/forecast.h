// Forecast: demand forecasts per item per business day, with quantiles, from
// the item's own daily history. Pure functions of their arguments: no I/O, no
// clock, no shared state, so they are safe to call from any thread at once.
// docs/FORECAST.md gives every formula and parameter; this header states the
// contract.
//
// NOTES
// 1. A censored day (out of stock) tells only that demand was at least qty.
//    No method fits to it: its qty is never a target and never a level, and
//    every error measure (backtest.h) skips it.
// 2. Forecast means are >= 0 and quantiles are whole units >= 0; q50 <= q90.
// 3. The quantiles come from one stated model for every method: the day's
//    demand has the method's mean and a variance from the method's own
//    in-sample one-step errors, negative binomial when that variance exceeds
//    the mean, Poisson otherwise, normal (floored at zero) for large means.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace storenode::fog::forecast {

inline constexpr int kDefaultHorizon = 28;

// One business day's demand of one item, qty >= 0 and finite (the history
// file refuses others). censored = out of stock that day (the true demand
// is unknown, at least qty).
struct Day {
  double qty = 0;
  bool censored = false;
};

// One item's demand history, the one input of forecasts, backtests and
// reorder plans: days[0] is business day first_day, one entry per day.
struct Series {
  std::string sku;
  std::string first_day;  // YYYY-MM-DD
  std::vector<Day> days;
  // The item's price at the history's end, in any one unit for the whole
  // history (the fog: minor units; a history file: as it gives them): a
  // revenue weight. 0 = unknown: the weight is units sold.
  double price = 0;
};

// Syntetos-Boylan classes: ADI (mean interval between demands) against 1.32,
// CV^2 of the non-zero demand sizes against 0.49, both on uncensored days.
enum class DemandClass { kSmooth, kIntermittent, kErratic, kLumpy };
struct Classification {
  DemandClass demand_class;
  double adi;  // uncensored days / uncensored days with qty > 0; +inf if none
  double cv2;  // population variance / mean^2 of the non-zero sizes; 0 if none
};
Classification Classify(std::span<const Day> history);
std::string_view Name(DemandClass);  // "smooth", "intermittent", "erratic", "lumpy"

enum class Method {
  kNaive,            // the last uncensored day
  kSeasonalNaive,    // the same weekday, last uncensored week
  kMovingAverage,    // the mean of the last 28 uncensored days
  kSmoothingWeekly,  // exponential smoothing of the level x a day-of-week profile
  kCroston,
  kSba,          // Croston x (1 - alpha/2)
  kTsb,          // Teunter-Syntetos-Babai: probability x size, both smoothed
  kCombination,  // the mean of kSmoothingWeekly and kTsb
};
inline constexpr Method kAllMethods[] = {
    Method::kNaive,   Method::kSeasonalNaive, Method::kMovingAverage, Method::kSmoothingWeekly,
    Method::kCroston, Method::kSba,           Method::kTsb,           Method::kCombination};
// "naive", "snaive", "ma28", "ses-weekly", "croston", "sba", "tsb", "combo".
std::string_view Name(Method);
std::optional<Method> ParseMethod(std::string_view);

struct Forecast {
  Method method;
  std::vector<double> mean, q50, q90;  // per day of the horizon
  std::vector<double> var;             // per day: the variance the quantiles use
  // The p-quantile of the total demand over the first `days` days (days is
  // clamped to the horizon), whole units: for a reorder, lead time + review
  // period at the service level. Days are taken as independent.
  double SumQuantile(int days, double p) const;
};

// history[0] falls on weekday first_weekday (0 = Monday); the forecast starts
// the day after history.back(). horizon >= 1 days (kDefaultHorizon is 28).
// An empty or all-censored history forecasts zero demand.
Forecast Predict(std::span<const Day> history, int first_weekday, int horizon, Method method);
// The same with DefaultFor(Classify(history).demand_class).
Forecast Predict(std::span<const Day> history, int first_weekday, int horizon);

// What the backtest shows best per class (docs/FORECAST.md has the table).
Method DefaultFor(DemandClass);

// The p-quantile (whole units) of a day's or a period's demand with this
// mean and variance, as NOTES 3 states: the quantile model of Forecast.
double CountQuantile(double mean, double variance, double p);

}  // namespace storenode::fog::forecast
