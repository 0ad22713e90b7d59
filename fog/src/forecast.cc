// The forecasting methods and the quantile model of forecast.h. Every method
// is one pass over the history that keeps its state and, on the way, the
// one-step-ahead error of each uncensored day after a 28-day warm-up: the
// in-sample MSE the quantiles use (NOTES 3 in forecast.h). The formulas and
// parameters are in docs/FORECAST.md; the constants here are those.
#include "forecast.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

namespace storenode::fog::forecast {
namespace {

constexpr int kWarmup = 28;          // days before in-sample errors count
constexpr int kMaWindow = 28;        // uncensored days of the moving average
constexpr int kProfileDays = 182;    // days the day-of-week profile is taken from
constexpr double kProfilePrior = 4;  // pseudo-weeks shrinking the profile to 1
// Smoothing constants, fixed: chosen on pos-sim demand seed 2 and reported
// on seed 1 (docs/FORECAST.md). An alpha chosen per item by in-sample
// one-step MSE did worse: promotions look like level shifts one step ahead.
constexpr double kSesAlpha = 0.02;
constexpr double kCrostonAlpha = 0.05;
constexpr double kTsbAlpha = 0.05, kTsbBeta = 0.05;
// Above this mean the negative binomial / Poisson is replaced by a normal:
// the exact walk would take ~mean steps, the normal is within a unit there.
constexpr double kExactMeanLimit = 300;
constexpr double kMaxWalk = 100'000;

int Weekday(int first_weekday, size_t index) {
  return static_cast<int>((static_cast<size_t>(first_weekday) + index) % 7);
}

// What a method's pass leaves: the horizon's means and the in-sample errors.
struct Fit {
  std::vector<double> mean;
  double sse = 0;
  int errors = 0;
  void Error(size_t t, double forecast, double actual) {
    if (t < kWarmup) return;
    sse += (actual - forecast) * (actual - forecast);
    ++errors;
  }
};

Fit FitNaive(std::span<const Day> h, int horizon) {
  Fit fit;
  std::optional<double> last;
  for (size_t t = 0; t < h.size(); ++t) {
    if (h[t].censored) continue;
    if (last) fit.Error(t, *last, h[t].qty);
    last = h[t].qty;
  }
  fit.mean.assign(horizon, last.value_or(0));
  return fit;
}

Fit FitSeasonalNaive(std::span<const Day> h, int first_weekday, int horizon) {
  Fit fit;
  std::array<std::optional<double>, 7> last;
  std::optional<double> any;  // a weekday never seen uncensored falls back to the naive value
  for (size_t t = 0; t < h.size(); ++t) {
    if (h[t].censored) continue;
    auto& l = last[Weekday(first_weekday, t)];
    if (l) fit.Error(t, *l, h[t].qty);
    l = h[t].qty;
    any = h[t].qty;
  }
  for (int d = 0; d < horizon; ++d) {
    fit.mean.push_back(last[Weekday(first_weekday, h.size() + d)].value_or(any.value_or(0)));
  }
  return fit;
}

Fit FitMovingAverage(std::span<const Day> h, int horizon) {
  Fit fit;
  std::array<double, kMaWindow> ring{};
  int count = 0;
  size_t next = 0;
  double sum = 0;
  for (size_t t = 0; t < h.size(); ++t) {
    if (h[t].censored) continue;
    if (count > 0) fit.Error(t, sum / count, h[t].qty);
    if (count == kMaWindow) {
      sum -= ring[next];
    } else {
      ++count;
    }
    ring[next] = h[t].qty;
    sum += h[t].qty;
    next = (next + 1) % kMaWindow;
  }
  fit.mean.assign(horizon, count > 0 ? sum / count : 0);
  return fit;
}

// The multiplicative day-of-week profile over the last kProfileDays days,
// each weekday's ratio shrunk to 1 by kProfilePrior pseudo-days, then scaled
// to average 1 over the week. All ones when the window sold nothing.
std::array<double, 7> Profile(std::span<const Day> h, int first_weekday) {
  std::array<double, 7> sum{}, n{};
  double total = 0, days = 0;
  const size_t from = h.size() > kProfileDays ? h.size() - kProfileDays : 0;
  for (size_t t = from; t < h.size(); ++t) {
    if (h[t].censored) continue;
    const int d = Weekday(first_weekday, t);
    sum[d] += h[t].qty;
    n[d] += 1;
    total += h[t].qty;
    days += 1;
  }
  std::array<double, 7> s;
  s.fill(1);
  if (total <= 0) return s;
  const double mean = total / days;
  double avg = 0;
  for (int d = 0; d < 7; ++d) {
    const double ratio = n[d] > 0 ? sum[d] / n[d] / mean : 1;
    s[d] = (n[d] * ratio + kProfilePrior) / (n[d] + kProfilePrior);
    avg += s[d] / 7;
  }
  for (double& v : s) v /= avg;
  return s;
}

// Simple exponential smoothing of the deseasonalised level. The first
// uncensored day starts the level.
Fit FitSmoothingWeekly(std::span<const Day> h, int first_weekday, int horizon) {
  const std::array<double, 7> s = Profile(h, first_weekday);
  Fit fit;
  std::optional<double> level;
  for (size_t t = 0; t < h.size(); ++t) {
    if (h[t].censored) continue;
    const double season = s[Weekday(first_weekday, t)];
    const double y = h[t].qty / season;
    if (!level) {
      level = y;
      continue;
    }
    fit.Error(t, *level * season, h[t].qty);
    *level += kSesAlpha * (y - *level);
  }
  for (int d = 0; d < horizon; ++d) {
    fit.mean.push_back(level.value_or(0) * s[Weekday(first_weekday, h.size() + d)]);
  }
  return fit;
}

// Croston: size z and interval p smoothed at each demand; the interval
// counts uncensored days only. factor 1 is Croston, 1 - alpha/2 is SBA.
Fit FitCroston(std::span<const Day> h, int horizon, double factor) {
  Fit fit;
  double z = 0, p = 0;
  bool started = false;
  int q = 0;  // uncensored days since the last demand, this one included
  for (size_t t = 0; t < h.size(); ++t) {
    if (h[t].censored) continue;
    fit.Error(t, started ? factor * z / p : 0, h[t].qty);
    ++q;
    if (h[t].qty <= 0) continue;
    if (!started) {
      z = h[t].qty;
      p = q;
      started = true;
    } else {
      z += kCrostonAlpha * (h[t].qty - z);
      p += kCrostonAlpha * (q - p);
    }
    q = 0;
  }
  fit.mean.assign(horizon, started ? factor * z / p : 0);
  return fit;
}

// TSB: the probability of a demand, updated every uncensored day, times
// the size, updated at demands. Starts at the first demand with the
// probability 1 / (its uncensored day number) and the size of that demand.
Fit FitTsb(std::span<const Day> h, int horizon) {
  Fit fit;
  double z = 0, pi = 0;
  bool started = false;
  int q = 0;
  for (size_t t = 0; t < h.size(); ++t) {
    if (h[t].censored) continue;
    fit.Error(t, pi * z, h[t].qty);
    ++q;
    const bool demand = h[t].qty > 0;
    if (!started) {
      if (!demand) continue;
      z = h[t].qty;
      pi = 1.0 / q;
      started = true;
      continue;
    }
    pi += kTsbBeta * ((demand ? 1.0 : 0.0) - pi);
    if (demand) z += kTsbAlpha * (h[t].qty - z);
  }
  fit.mean.assign(horizon, pi * z);
  return fit;
}

Fit FitMethod(std::span<const Day> h, int first_weekday, int horizon, Method method) {
  switch (method) {
    case Method::kNaive:
      return FitNaive(h, horizon);
    case Method::kSeasonalNaive:
      return FitSeasonalNaive(h, first_weekday, horizon);
    case Method::kMovingAverage:
      return FitMovingAverage(h, horizon);
    case Method::kSmoothingWeekly:
      return FitSmoothingWeekly(h, first_weekday, horizon);
    case Method::kCroston:
      return FitCroston(h, horizon, 1);
    case Method::kSba:
      return FitCroston(h, horizon, 1 - kCrostonAlpha / 2);
    case Method::kTsb:
      return FitTsb(h, horizon);
    case Method::kCombination: {
      // The mean of the two, and the mean of their squared errors (an
      // upper bound of the combination's own, kept simple and stated).
      Fit a = FitSmoothingWeekly(h, first_weekday, horizon);
      const Fit b = FitTsb(h, horizon);
      for (int d = 0; d < horizon; ++d) a.mean[d] = (a.mean[d] + b.mean[d]) / 2;
      if (a.errors > 0 && b.errors > 0) {
        a.sse = (a.sse / a.errors + b.sse / b.errors) / 2;
        a.errors = 1;
      }
      return a;
    }
  }
  return FitNaive(h, horizon);
}

// Acklam's rational approximation of the standard normal quantile
// (relative error below 1.2e-9), for 0 < p < 1.
double NormalQuantile(double p) {
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                 -2.759285104469687e+02, 1.383577518672690e+02,
                                 -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                 -1.556989798598866e+02, 6.680131188771972e+01,
                                 -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                 -2.400758277161838e+00, -2.549671035506888e+00,
                                 4.374664141464968e+00,  2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                                 2.445134137142996e+00, 3.754408661907416e+00};
  constexpr double kLow = 0.02425;
  if (p < kLow) {
    const double q = std::sqrt(-2 * std::log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - kLow) return -NormalQuantile(1 - p);
  const double q = p - 0.5, r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
         (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

}  // namespace

// The p-quantile of a count with this mean and variance (NOTES 3):
// negative binomial matched on both moments when variance > mean, Poisson
// otherwise, walked from 0 (at most kMaxWalk steps); a normal rounded up and
// floored at 0 when mean > kExactMeanLimit.
double CountQuantile(double mean, double variance, double p) {
  if (mean <= 0) return 0;
  p = std::clamp(p, 1e-9, 1 - 1e-9);
  if (mean > kExactMeanLimit) {
    return std::max(0.0, std::ceil(mean + NormalQuantile(p) * std::sqrt(std::max(variance, mean))));
  }
  double pmf, cdf;
  // pmf(k + 1) = pmf(k) * ratio(k)
  const bool nb = variance > mean * (1 + 1e-9);
  const double r = nb ? mean * mean / (variance - mean) : 0;
  const double success = nb ? r / (r + mean) : 0;  // NB's "p"
  pmf = nb ? std::exp(r * std::log(success)) : std::exp(-mean);
  cdf = pmf;
  // A hostile history (one huge day) gives a huge variance: the walk stops
  // at kMaxWalk units, whatever the tail.
  const double limit = std::min(mean + 50 * std::sqrt(std::max(variance, mean)) + 100, kMaxWalk);
  double k = 0;
  while (cdf < p && k < limit) {
    pmf *= nb ? (k + r) / (k + 1) * (1 - success) : mean / (k + 1);
    k += 1;
    cdf += pmf;
  }
  return k;
}

std::string_view Name(DemandClass c) {
  switch (c) {
    case DemandClass::kSmooth:
      return "smooth";
    case DemandClass::kIntermittent:
      return "intermittent";
    case DemandClass::kErratic:
      return "erratic";
    case DemandClass::kLumpy:
      return "lumpy";
  }
  return "?";
}

Classification Classify(std::span<const Day> history) {
  double days = 0, demands = 0, sum = 0, sum2 = 0;
  for (const Day& d : history) {
    if (d.censored) continue;
    days += 1;
    if (d.qty <= 0) continue;
    demands += 1;
    sum += d.qty;
    sum2 += d.qty * d.qty;
  }
  Classification c;
  c.adi = demands > 0 ? days / demands : std::numeric_limits<double>::infinity();
  c.cv2 = 0;
  if (demands > 0) {
    const double mean = sum / demands;
    c.cv2 = std::max(0.0, sum2 / demands - mean * mean) / (mean * mean);
  }
  const bool intermittent = c.adi >= 1.32, variable = c.cv2 >= 0.49;
  c.demand_class = intermittent ? (variable ? DemandClass::kLumpy : DemandClass::kIntermittent)
                                : (variable ? DemandClass::kErratic : DemandClass::kSmooth);
  return c;
}

std::string_view Name(Method m) {
  switch (m) {
    case Method::kNaive:
      return "naive";
    case Method::kSeasonalNaive:
      return "snaive";
    case Method::kMovingAverage:
      return "ma28";
    case Method::kSmoothingWeekly:
      return "ses-weekly";
    case Method::kCroston:
      return "croston";
    case Method::kSba:
      return "sba";
    case Method::kTsb:
      return "tsb";
    case Method::kCombination:
      return "combo";
  }
  return "?";
}

std::optional<Method> ParseMethod(std::string_view name) {
  for (Method m : kAllMethods) {
    if (Name(m) == name) return m;
  }
  return std::nullopt;
}

double Forecast::SumQuantile(int days, double p) const {
  const int n = std::clamp(days, 0, static_cast<int>(mean.size()));
  double m = 0, v = 0;
  for (int d = 0; d < n; ++d) {
    m += mean[d];
    v += var[d];
  }
  return CountQuantile(m, v, p);
}

Forecast Predict(std::span<const Day> history, int first_weekday, int horizon, Method method) {
  horizon = std::max(horizon, 1);
  Fit fit = FitMethod(history, ((first_weekday % 7) + 7) % 7, horizon, method);
  Forecast f;
  f.method = method;
  double avg = 0;
  for (double& m : fit.mean) {
    m = std::max(m, 0.0);
    avg += m / horizon;
  }
  // Without in-sample errors the variance is the mean's (Poisson).
  const double mse = fit.errors > 0 ? fit.sse / fit.errors : avg;
  f.mean = std::move(fit.mean);
  f.var.resize(horizon);
  f.q50.resize(horizon);
  f.q90.resize(horizon);
  for (int d = 0; d < horizon; ++d) {
    f.var[d] = avg > 0 ? mse * f.mean[d] / avg : 0;
    f.q50[d] = CountQuantile(f.mean[d], f.var[d], 0.5);
    f.q90[d] = CountQuantile(f.mean[d], f.var[d], 0.9);
  }
  return f;
}

Forecast Predict(std::span<const Day> history, int first_weekday, int horizon) {
  return Predict(history, first_weekday, horizon, DefaultFor(Classify(history).demand_class));
}

Method DefaultFor(DemandClass c) {
  // The least RMSSE per class in the backtest of pos-sim demand histories,
  // seeds 1 and 2 alike (docs/FORECAST.md, "Results").
  switch (c) {
    case DemandClass::kSmooth:
      return Method::kSmoothingWeekly;
    case DemandClass::kErratic:
      return Method::kCombination;
    case DemandClass::kIntermittent:
    case DemandClass::kLumpy:
      return Method::kSba;
  }
  return Method::kSmoothingWeekly;
}

}  // namespace storenode::fog::forecast
