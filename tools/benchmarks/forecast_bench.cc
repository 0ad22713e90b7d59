// bench forecast: forecasts and order-up-to levels for many items, streamed
// one item at a time as the fog's background pass runs them. See
// ForecastBenchResult in schemas/bench.proto for every figure.
#include <chrono>

#include "bench.h"
#include "fog/src/forecast.h"
#include "host.h"
#include "sim/demand.h"
#include "storenode/schemas/bench.pb.h"

namespace storenode::bench {
namespace {

constexpr std::string_view kUsage =
    "usage: bench forecast [--items N] [--days N] [--seed N] [--lead N] [--review N]\n"
    "  classifies, forecasts 28 days and computes the order-up-to level at 95 % for N items\n"
    "  (default 100000) over --days of history (default 365), one item at a time\n";

constexpr double kTargetSeconds = 60, kTargetRssMb = 200, kServiceLevel = 0.95;

struct Config {
  uint32_t items = 100000, days = 365, seed = 1, lead = 3, review = 7;
};

using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// The core's raw speed: a chain of dependent multiply-adds the compiler
// cannot fold (the factor comes from the volatile).
double RawMops() {
  volatile double factor = 0.999999;
  const double f = factor;
  double x = 1;
  constexpr int kOps = 200'000'000;
  const auto start = Clock::now();
  for (int i = 0; i < kOps; ++i) x = x * f + 1e-9;
  const double s = Since(start);
  factor = x;  // keeps x alive
  return kOps / s / 1e6;
}

Status Run(const Config& c, v1::ForecastBenchResult* r) {
  namespace fc = fog::forecast;
  r->set_items(c.items);
  r->set_days(c.days);
  r->set_horizon(fc::kDefaultHorizon);
  r->set_lead_days(c.lead);
  r->set_review_days(c.review);
  r->set_date(NowIso());
  r->set_cores(HostCores());
  r->set_kernel(HostKernel());
  r->set_raw_mops(Round(RawMops(), 1));
  sim::demand::Options d;
  d.items = static_cast<int>(c.items);
  d.days = static_cast<int>(c.days);
  d.seed = c.seed;
  SN_RETURN_IF_ERROR(sim::demand::Check(d));
  const int first_weekday = 0;  // the demand histories start on a Monday
  double generate_s = 0, forecast_s = 0, raw_s = 0, levels = 0, suggested = 0, raw_sink = 0;
  uint32_t classes[4] = {};
  std::vector<fc::Day> days(c.days);
  for (uint32_t i = 0; i < c.items; ++i) {
    auto t = Clock::now();
    const sim::demand::Item item = sim::demand::Generate(d, static_cast<int>(i));
    for (uint32_t k = 0; k < c.days; ++k) days[k] = {item.qty[k], item.on_hand[k] <= 0};
    generate_s += Since(t);

    t = Clock::now();
    const fc::Classification cls = fc::Classify(days);
    const fc::Forecast f =
        fc::Predict(days, first_weekday, fc::kDefaultHorizon, fc::DefaultFor(cls.demand_class));
    const double level = f.SumQuantile(static_cast<int>(c.lead + c.review), kServiceLevel);
    const double suggestion = std::max(0.0, level - item.on_hand.back());
    forecast_s += Since(t);
    ++classes[static_cast<int>(cls.demand_class)];
    levels += level;
    suggested += suggestion;

    t = Clock::now();
    double l = days[0].qty;
    for (const fc::Day& day : days) {
      if (!day.censored) l += 0.02 * (day.qty - l);
    }
    raw_s += Since(t);
    raw_sink += l;
  }
  r->set_generate_s(Round(generate_s, 3));
  r->set_forecast_s(Round(forecast_s, 3));
  r->set_items_per_s(Round(c.items / forecast_s, 0));
  r->set_raw_pass_s(Round(raw_s, 4));
  r->set_ratio_to_raw(Round(forecast_s / raw_s, 1));
  for (uint32_t n : classes) r->add_class_items(n);
  r->set_order_up_to_units(levels);
  r->set_suggested_units(suggested);
  static volatile double sink = 0;
  sink = sink + raw_sink;  // read and written: the raw passes are not optimised away
  SN_ASSIGN_OR_RETURN(const ProcUsage usage, ReadSelfUsage());
  r->set_peak_rss_mb(Round(usage.peak_rss_mb, 1));
  if (forecast_s > kTargetSeconds) r->add_missed_targets("forecast_s above 60");
  if (usage.peak_rss_mb > kTargetRssMb) r->add_missed_targets("peak_rss_mb above 200");
  r->set_target_met(r->missed_targets_size() == 0);
  return Status::Ok();
}

}  // namespace

int RunForecast(const std::vector<std::string>& args) {
  Config c;
  const Flag flags[] = {{"items", &c.items},
                        {"days", &c.days},
                        {"seed", &c.seed},
                        {"lead", &c.lead},
                        {"review", &c.review}};
  return RunMode<v1::ForecastBenchResult>(
      "forecast", kUsage, args, flags,
      [&] {
        if (c.items == 0 || c.days < 28 || c.review == 0 ||
            c.lead + c.review > static_cast<uint32_t>(fog::forecast::kDefaultHorizon)) {
          return Status::Invalid("items > 0, days >= 28, review > 0, lead + review <= 28");
        }
        return Status::Ok();
      },
      [&](v1::ForecastBenchResult* r) { return Run(c, r); });
}

}  // namespace storenode::bench
