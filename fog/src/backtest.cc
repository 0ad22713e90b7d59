// The rolling-origin backtest and the history file of backtest.h. For each
// series and origin the training days are those before the origin; each
// method forecasts the next `horizon` days from them and is scored on the
// uncensored ones (NOTES 2, 3 in backtest.h).
#include "backtest.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <unordered_map>

#include "storenode/common/clock.h"

namespace storenode::fog::backtest {
namespace {

using forecast::Day;
using forecast::DemandClass;
using forecast::Method;

constexpr int kMinTrainingDays = 56;
constexpr int kClasses = 4;  // DemandClass values; group kClasses is "all"
constexpr int kWeightDays = 28;

// Sums of one (method, group); turned into BacktestMeasures at the end.
struct Sums {
  uint32_t pairs = 0, scaled = 0;
  double rmsse = 0, weighted_rmsse = 0, weight = 0;
  double error = 0, actual = 0;
  double pinball50 = 0, pinball90 = 0;
  double covered = 0, days = 0;
  double sold = 0, demanded = 0;
  double stock = 0, mean_demand = 0;
};

// The naive one-step scales of a training window, over consecutive
// uncensored pairs: mean squared and mean absolute difference.
struct Scale {
  double squared = 0, absolute = 0;
};
Scale NaiveScale(std::span<const Day> train) {
  double sq = 0, ab = 0, n = 0;
  for (size_t t = 1; t < train.size(); ++t) {
    if (train[t].censored || train[t - 1].censored) continue;
    const double d = train[t].qty - train[t - 1].qty;
    sq += d * d;
    ab += std::abs(d);
    n += 1;
  }
  if (n == 0) return {};
  return {sq / n, ab / n};
}

double Pinball(double actual, double quantile, double tau) {
  const double e = actual - quantile;
  return e >= 0 ? tau * e : (tau - 1) * e;
}

// Periodic review, order-up-to S (docs/FORECAST.md "Reorder simulation"):
// day 0 is a review with the inventory position at S, of which the mean
// lead-time demand is on order, arriving on day lead; later reviews every
// `review` days order S minus the position, arriving `lead` days later.
struct Policy {
  double sold = 0, demanded = 0, stock = 0;
};
Policy Simulate(const forecast::Forecast& f, std::span<const Day> test, const Options& o) {
  const double s = f.SumQuantile(o.lead_days + o.review_days, o.service_level);
  double pipeline0 = 0;
  for (int d = 0; d < o.lead_days && d < static_cast<int>(f.mean.size()); ++d) {
    pipeline0 += f.mean[d];
  }
  pipeline0 = std::min(s, std::round(pipeline0));
  std::vector<double> arriving(test.size() + o.lead_days + 1, 0);
  arriving[o.lead_days] += pipeline0;
  double on_hand = s - pipeline0, on_order = pipeline0;
  Policy p;
  for (size_t t = 0; t < test.size(); ++t) {
    on_hand += arriving[t];
    on_order -= arriving[t];
    if (t > 0 && t % o.review_days == 0) {
      const double q = std::max(0.0, s - on_hand - on_order);
      if (o.lead_days == 0) {
        on_hand += q;
      } else {
        arriving[t + o.lead_days] += q;
        on_order += q;
      }
    }
    const double sold = std::min(on_hand, test[t].qty);
    on_hand -= sold;
    if (!test[t].censored) {
      p.sold += sold;
      p.demanded += test[t].qty;
    }
    p.stock += on_hand / static_cast<double>(test.size());
  }
  return p;
}

// The measures of one forecast on one pair, added to `sums`.
void Score(const forecast::Forecast& f, std::span<const Day> test, const Scale& scale,
           double weight, const Options& o, Sums& sums) {
  double se = 0, pin50 = 0, pin90 = 0, n = 0, mean_demand = 0;
  for (size_t t = 0; t < test.size(); ++t) {
    if (test[t].censored) continue;
    const double y = test[t].qty, e = f.mean[t] - y;
    se += e * e;
    sums.error += e;
    sums.actual += y;
    pin50 += Pinball(y, f.q50[t], 0.5);
    pin90 += Pinball(y, f.q90[t], 0.9);
    sums.covered += y <= f.q90[t] ? 1 : 0;
    mean_demand += y;
    n += 1;
  }
  sums.days += n;
  ++sums.pairs;
  if (scale.squared > 0) {
    const double rmsse = std::sqrt(se / n / scale.squared);
    ++sums.scaled;
    sums.rmsse += rmsse;
    sums.weighted_rmsse += weight * rmsse;
    sums.weight += weight;
    sums.pinball50 += pin50 / n / scale.absolute;
    sums.pinball90 += pin90 / n / scale.absolute;
  }
  const Policy p = Simulate(f, test, o);
  sums.sold += p.sold;
  sums.demanded += p.demanded;
  sums.stock += p.stock;
  sums.mean_demand += mean_demand / n;
}

v1::BacktestMeasures Measures(std::string_view method, std::string_view group, const Sums& s) {
  v1::BacktestMeasures m;
  m.set_method(std::string(method));
  m.set_demand_class(std::string(group));
  m.set_pairs(s.pairs);
  m.set_scaled_pairs(s.scaled);
  auto ratio = [](double a, double b) { return b > 0 ? a / b : 0; };
  m.set_rmsse(ratio(s.rmsse, s.scaled));
  m.set_wrmsse(ratio(s.weighted_rmsse, s.weight));
  m.set_bias(ratio(s.error, s.actual));
  m.set_pinball50(ratio(s.pinball50, s.scaled));
  m.set_pinball90(ratio(s.pinball90, s.scaled));
  m.set_coverage90(ratio(s.covered, s.days));
  m.set_fill_rate(ratio(s.sold, s.demanded));
  m.set_avg_stock(ratio(s.stock, s.pairs));
  m.set_stock_days(ratio(s.stock, s.mean_demand));
  return m;
}

bool IsBaseline(Method m) {
  return m == Method::kNaive || m == Method::kSeasonalNaive || m == Method::kMovingAverage;
}

std::string_view GroupName(int g) {
  return g == kClasses ? "all" : forecast::Name(static_cast<DemandClass>(g));
}

}  // namespace

Status Check(const Options& o) {
  if (o.origins < 1 || o.origins > 52) return Status::Invalid("--origins is 1..52");
  if (o.horizon < 1 || o.horizon > 91) return Status::Invalid("--horizon is 1..91");
  if (o.lead_days < 0 || o.lead_days > 60) return Status::Invalid("--lead is 0..60 days");
  if (o.review_days < 1 || o.review_days > 60) return Status::Invalid("--review is 1..60 days");
  if (o.lead_days + o.review_days > o.horizon) {
    return Status::Invalid("--lead + --review must not exceed --horizon");
  }
  if (!(o.service_level > 0.5 && o.service_level < 1)) {
    return Status::Invalid("--service is between 0.5 and 1");
  }
  return Status::Ok();
}

Result<v1::BacktestReport> Run(const History& history, const Options& o) {
  size_t i = 0;
  const size_t days = history.series.empty() ? 0 : history.series.front().days.size();
  return Run(
      history.first_date, days,
      [&](Series* s) -> Result<bool> {
        if (i == history.series.size()) return false;
        *s = history.series[i++];
        return true;
      },
      o);
}

Result<v1::BacktestReport> Run(const std::string& first_date, size_t days, const SeriesSource& next,
                               const Options& o) {
  SN_RETURN_IF_ERROR(Check(o));
  const auto started = std::chrono::steady_clock::now();
  if (!IsValidDay(first_date)) return Status::Invalid("the history has no valid first date");
  const int64_t first_origin = static_cast<int64_t>(days) - int64_t{o.origins} * o.horizon;
  if (first_origin < kMinTrainingDays) {
    return Status::Invalid("the history has " + std::to_string(days) + " days; " +
                           std::to_string(o.origins) + " origins of " + std::to_string(o.horizon) +
                           " days need at least " +
                           std::to_string(kMinTrainingDays + o.origins * o.horizon));
  }
  std::vector<Method> methods(o.methods.begin(), o.methods.end());
  if (methods.empty())
    methods.assign(std::begin(forecast::kAllMethods), std::end(forecast::kAllMethods));
  const int first_weekday = DaysBetween(WeekStartOf(first_date), first_date);

  v1::BacktestReport report;
  report.set_first_date(first_date);
  report.set_last_date(AddDays(first_date, static_cast<int>(days) - 1));
  report.set_days(static_cast<uint32_t>(days));
  report.set_horizon(o.horizon);
  report.set_lead_days(o.lead_days);
  report.set_review_days(o.review_days);
  report.set_service_level(o.service_level);
  for (int k = 0; k < o.origins; ++k) {
    report.add_origins(AddDays(first_date, static_cast<int>(first_origin) + k * o.horizon));
  }
  // sums[method index][group]; the last method index is "default".
  std::vector<std::array<Sums, kClasses + 1>> sums(methods.size() + 1);
  uint64_t test_days = 0, censored_days = 0;
  uint32_t items = 0;
  Series s;
  while (true) {
    SN_ASSIGN_OR_RETURN(const bool more, next(&s));
    if (!more) break;
    if (s.days.size() != days) return Status::Invalid("item " + s.sku + " has a different length");
    ++items;
    for (int k = 0; k < o.origins; ++k) {
      const size_t origin = static_cast<size_t>(first_origin) + static_cast<size_t>(k) * o.horizon;
      const std::span<const Day> train(s.days.data(), origin);
      const std::span<const Day> test(s.days.data() + origin, o.horizon);
      const auto uncensored =
          std::count_if(test.begin(), test.end(), [](const Day& d) { return !d.censored; });
      censored_days += test.size() - uncensored;
      if (uncensored == 0) continue;
      test_days += uncensored;
      const int group = static_cast<int>(forecast::Classify(train).demand_class);
      const Scale scale = NaiveScale(train);
      double weight = 0;
      for (size_t t = origin >= kWeightDays ? origin - kWeightDays : 0; t < origin; ++t) {
        weight += s.days[t].qty;
      }
      weight *= s.price > 0 ? s.price : 1;
      const Method fallback = forecast::DefaultFor(static_cast<DemandClass>(group));
      bool scored_default = false;
      for (size_t m = 0; m <= methods.size(); ++m) {
        const bool is_default = m == methods.size();
        if (is_default && scored_default) break;
        const Method method = is_default ? fallback : methods[m];
        const forecast::Forecast f = forecast::Predict(train, first_weekday, o.horizon, method);
        Score(f, test, scale, weight, o, sums[m][group]);
        Score(f, test, scale, weight, o, sums[m][kClasses]);
        if (!is_default && method == fallback) {
          // The default is this method: the same forecast, scored once more.
          Score(f, test, scale, weight, o, sums[methods.size()][group]);
          Score(f, test, scale, weight, o, sums[methods.size()][kClasses]);
          scored_default = true;
        }
      }
    }
  }
  if (items == 0) return Status::Invalid("the history has no items");
  report.set_series(items);
  report.set_test_days(test_days);
  report.set_censored_days(censored_days);
  for (size_t m = 0; m <= methods.size(); ++m) {
    const std::string_view name = m == methods.size() ? "default" : forecast::Name(methods[m]);
    report.add_measures()->CopyFrom(Measures(name, "all", sums[m][kClasses]));
    for (int g = 0; g < kClasses; ++g) {
      report.add_measures()->CopyFrom(Measures(name, GroupName(g), sums[m][g]));
    }
  }
  for (int g = 0; g < kClasses; ++g) {
    v1::BacktestClassChoice* c = report.add_choices();
    c->set_demand_class(std::string(GroupName(g)));
    c->set_pairs(sums.back()[g].pairs);
    c->set_default_method(
        std::string(forecast::Name(forecast::DefaultFor(static_cast<DemandClass>(g)))));
    c->set_default_rmsse(Measures("", "", sums.back()[g]).rmsse());
    for (size_t m = 0; m < methods.size(); ++m) {
      if (sums[m][g].scaled == 0) continue;
      const double rmsse = Measures("", "", sums[m][g]).rmsse();
      if (c->best_method().empty() || rmsse < c->best_rmsse()) {
        c->set_best_method(std::string(forecast::Name(methods[m])));
        c->set_best_rmsse(rmsse);
      }
      if (IsBaseline(methods[m]) &&
          (c->best_baseline().empty() || rmsse < c->best_baseline_rmsse())) {
        c->set_best_baseline(std::string(forecast::Name(methods[m])));
        c->set_best_baseline_rmsse(rmsse);
      }
    }
  }
  const auto snaive = std::find(methods.begin(), methods.end(), Method::kSeasonalNaive);
  if (snaive != methods.end()) {
    const double base = Measures("", "", sums[snaive - methods.begin()][kClasses]).rmsse();
    const double def = Measures("", "", sums.back()[kClasses]).rmsse();
    report.set_default_vs_snaive(base > 0 ? 1 - def / base : 0);
  }
  report.set_seconds(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  return report;
}

namespace {

struct Column {
  int date = -1, sku = -1, qty = -1, on_hand = -1, price = -1;
};

std::vector<std::string_view> Split(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  while (true) {
    const size_t comma = line.find(',', start);
    std::string_view f =
        line.substr(start, comma == std::string_view::npos ? line.npos : comma - start);
    while (!f.empty() && (f.front() == ' ' || f.front() == '\t')) f.remove_prefix(1);
    while (!f.empty() && (f.back() == ' ' || f.back() == '\t')) f.remove_suffix(1);
    fields.push_back(f);
    if (comma == std::string_view::npos) return fields;
    start = comma + 1;
  }
}

std::optional<double> Number(std::string_view text) {
  double v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v)) {
    return std::nullopt;
  }
  return v;
}

struct Row {
  int day;
  double qty;
  bool censored;
};

}  // namespace

Result<History> ParseHistoryCsv(std::string_view text, const CsvLimits& limits) {
  if (text.size() > limits.max_bytes) {
    return Status::Invalid("the history file is larger than " + std::to_string(limits.max_bytes) +
                           " bytes");
  }
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  size_t pos = 0;
  uint32_t line_no = 0;
  auto next_line = [&](std::string_view* line) {
    if (pos >= text.size()) return false;
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    *line = text.substr(pos, end - pos);
    if (line->ends_with('\r')) line->remove_suffix(1);
    pos = end + 1;
    ++line_no;
    return true;
  };
  auto fail = [&](const std::string& reason) {
    return Status::Invalid("line " + std::to_string(line_no) + ": " + reason);
  };
  std::string_view line;
  if (!next_line(&line)) return Status::Invalid("the history file is empty");
  Column col;
  const std::vector<std::string_view> header = Split(line);
  for (size_t i = 0; i < header.size(); ++i) {
    int* slot = header[i] == "date"      ? &col.date
                : header[i] == "sku"     ? &col.sku
                : header[i] == "qty"     ? &col.qty
                : header[i] == "on_hand" ? &col.on_hand
                : header[i] == "price"   ? &col.price
                                         : nullptr;
    if (slot == nullptr) return fail("unknown column '" + std::string(header[i]) + "'");
    if (*slot >= 0) return fail("column '" + std::string(header[i]) + "' twice");
    *slot = static_cast<int>(i);
  }
  if (col.date < 0 || col.sku < 0 || col.qty < 0) {
    return fail("the header must name date, sku and qty (and optionally on_hand, price)");
  }
  std::unordered_map<std::string, size_t> index;
  std::vector<std::string> skus;
  std::vector<std::vector<Row>> rows;
  std::vector<double> prices;
  std::unordered_map<std::string, int> day_of;  // date text -> days from 2000-01-01
  size_t count = 0;
  int min_day = 0, max_day = 0;
  while (next_line(&line)) {
    if (line.find_first_not_of(" \t,") == std::string_view::npos) continue;  // blank
    if (++count > limits.max_rows) {
      return fail("more than " + std::to_string(limits.max_rows) + " rows");
    }
    const std::vector<std::string_view> f = Split(line);
    if (f.size() != header.size()) {
      return fail(std::to_string(f.size()) + " fields, the header has " +
                  std::to_string(header.size()));
    }
    const std::string date(f[col.date]);
    auto cached = day_of.find(date);
    if (cached == day_of.end()) {
      if (date.size() != 10 || !IsValidDay(date)) return fail("bad date '" + date + "'");
      cached = day_of.emplace(date, DaysBetween("2000-01-01", date)).first;
    }
    const int day = cached->second;
    const std::string_view sku = f[col.sku];
    if (sku.empty() || sku.size() > 64) return fail("the sku is empty or longer than 64");
    const std::optional<double> qty = Number(f[col.qty]);
    if (!qty || *qty < 0 || *qty > 1e9) {
      return fail("qty '" + std::string(f[col.qty]) + "' is not a number from 0 to 1e9");
    }
    bool censored = false;
    if (col.on_hand >= 0 && !f[col.on_hand].empty()) {
      const std::optional<double> on_hand = Number(f[col.on_hand]);
      if (!on_hand) return fail("on_hand '" + std::string(f[col.on_hand]) + "' is not a number");
      censored = *on_hand <= 0;
    }
    std::optional<double> price;
    if (col.price >= 0 && !f[col.price].empty()) {
      price = Number(f[col.price]);
      if (!price || *price < 0) {
        return fail("price '" + std::string(f[col.price]) + "' is not a number >= 0");
      }
    }
    auto [it, added] = index.emplace(std::string(sku), skus.size());
    if (added) {
      skus.emplace_back(sku);
      rows.emplace_back();
      prices.push_back(0);
    }
    rows[it->second].push_back({day, *qty, censored});
    if (price) prices[it->second] = *price;
    if (count == 1) min_day = max_day = day;
    min_day = std::min(min_day, day);
    max_day = std::max(max_day, day);
    if (max_day - min_day >= limits.max_days) {
      return fail("the dates span more than " + std::to_string(limits.max_days) + " days");
    }
  }
  if (count == 0) return Status::Invalid("the history file has no rows");
  History h;
  h.first_date = AddDays("2000-01-01", min_day);
  const size_t days = static_cast<size_t>(max_day - min_day + 1);
  std::vector<size_t> order(skus.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return skus[a] < skus[b]; });
  h.series.reserve(order.size());
  for (size_t i : order) {
    Series s;
    s.sku = skus[i];
    s.first_day = h.first_date;
    s.price = prices[i];
    s.days.assign(days, Day{});
    std::vector<bool> seen(days, false);
    int first = max_day;
    for (const Row& r : rows[i]) {
      const size_t t = static_cast<size_t>(r.day - min_day);
      if (seen[t]) {
        return Status::Invalid("sku " + s.sku + " has two rows for " +
                               AddDays("2000-01-01", r.day));
      }
      seen[t] = true;
      s.days[t] = {r.qty, r.censored};
      first = std::min(first, r.day);
    }
    for (int t = 0; t < first - min_day; ++t) s.days[t].censored = true;
    h.series.push_back(std::move(s));
  }
  return h;
}

std::string Text(const v1::BacktestReport& r) {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line,
                "%u items, %u days %s..%s; %d origins of %u days from %s; lead %u, review %u, "
                "service %.2f\n",
                r.series(), r.days(), r.first_date().c_str(), r.last_date().c_str(),
                r.origins_size(), r.horizon(), r.origins_size() ? r.origins(0).c_str() : "-",
                r.lead_days(), r.review_days(), r.service_level());
  out += line;
  std::snprintf(line, sizeof line,
                "%llu uncensored test days measured, %llu censored test days not measured\n\n",
                static_cast<unsigned long long>(r.test_days()),
                static_cast<unsigned long long>(r.censored_days()));
  out += line;
  std::snprintf(line, sizeof line, "%-11s %-12s %6s %7s %7s %7s %7s %7s %6s %6s %6s\n", "method",
                "class", "pairs", "RMSSE", "WRMSSE", "bias", "SPL50", "SPL90", "cov90", "fill",
                "stockd");
  out += line;
  for (const v1::BacktestMeasures& m : r.measures()) {
    std::snprintf(
        line, sizeof line, "%-11s %-12s %6u %7.3f %7.3f %+7.3f %7.3f %7.3f %6.3f %6.3f %6.2f\n",
        m.method().c_str(), m.demand_class().c_str(), m.pairs(), m.rmsse(), m.wrmsse(), m.bias(),
        m.pinball50(), m.pinball90(), m.coverage90(), m.fill_rate(), m.stock_days());
    out += line;
  }
  out += "\nper class: best method, best baseline, default\n";
  for (const v1::BacktestClassChoice& c : r.choices()) {
    std::snprintf(line, sizeof line, "%-12s %6u  %-10s %.3f  %-7s %.3f  %-10s %.3f\n",
                  c.demand_class().c_str(), c.pairs(), c.best_method().c_str(), c.best_rmsse(),
                  c.best_baseline().c_str(), c.best_baseline_rmsse(), c.default_method().c_str(),
                  c.default_rmsse());
    out += line;
  }
  std::snprintf(line, sizeof line, "\ndefault vs seasonal naive (RMSSE, all): %.1f%% better\n",
                100 * r.default_vs_snaive());
  out += line;
  return out;
}

}  // namespace storenode::fog::backtest
