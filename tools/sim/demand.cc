// The demand process of demand.h, exactly as docs/FORECAST.md ("The demand
// process") states it: the draws below happen in this order, per item and
// then per day, and nothing else touches the item's generator.
#include "sim/demand.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <random>

#include "storenode/common/clock.h"

namespace storenode::sim::demand {
namespace {

// Pattern shares, cumulative: smooth 40 %, intermittent 30 %, erratic 15 %,
// lumpy 15 %.
constexpr double kSmoothShare = 0.40, kIntermittentShare = 0.70, kErraticShare = 0.85;
// The chain's weekly shape, Monday first, mean 1: Friday and Saturday peak.
constexpr std::array<double, 7> kWeek = {0.85, 0.85, 0.9, 0.95, 1.15, 1.4, 0.9};
constexpr double kPromoStart = 1.0 / 60;  // per day outside a promotion
constexpr double kMaxOccurrence = 0.95;

uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

class Draws {
 public:
  Draws(uint64_t seed, int index) : rng_(SplitMix64(seed ^ SplitMix64(index + 1ULL))) {}
  // Uniform in [0, 1), from the top 53 bits.
  double U() { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; }
  double U(double a, double b) { return a + (b - a) * U(); }
  double LogU(double a, double b) { return std::exp(U(std::log(a), std::log(b))); }
  int Int(int a, int b) { return a + std::min(b - a, static_cast<int>(U() * (b - a + 1))); }

  // Poisson by inverse CDF from one uniform; a mean above 500 is split in
  // halves (a sum of Poissons is Poisson) so that exp(-mean) stays normal.
  double Poisson(double mean) {
    if (mean <= 0) return 0;
    if (mean > 500) return Poisson(mean / 2) + Poisson(mean / 2);
    const double u = U();
    double k = 0, pmf = std::exp(-mean), cdf = pmf;
    while (cdf <= u && pmf > 0) {
      k += 1;
      pmf *= mean / k;
      cdf += pmf;
    }
    return k;
  }

  // Negative binomial with this mean and shape k (variance mean + mean^2/k),
  // by inverse CDF from one uniform.
  double NegBinomial(double mean, double k) {
    if (mean <= 0) return 0;
    const double u = U(), q = mean / (mean + k);
    double j = 0, pmf = std::exp(k * std::log(k / (k + mean))), cdf = pmf;
    while (cdf <= u && pmf > 0) {
      pmf *= (j + k) / (j + 1) * q;
      j += 1;
      cdf += pmf;
    }
    return j;
  }

 private:
  std::mt19937_64 rng_;
};

std::string Sku(int index) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "SKU-%07d", index + 1);
  return buf;
}

}  // namespace

std::string_view Name(Pattern p) {
  switch (p) {
    case Pattern::kSmooth:
      return "smooth";
    case Pattern::kIntermittent:
      return "intermittent";
    case Pattern::kErratic:
      return "erratic";
    case Pattern::kLumpy:
      return "lumpy";
  }
  return "?";
}

Status Check(const Options& o) {
  if (o.items < 1 || o.items > 10'000'000) return Status::Invalid("--items is 1..10000000");
  if (o.days < 1 || o.days > 3660) return Status::Invalid("--days is 1..3660");
  if (!IsValidDay(o.start)) return Status::Invalid("--start is a YYYY-MM-DD date");
  return Status::Ok();
}

Item Generate(const Options& o, int index) {
  Draws r(o.seed, index);
  Item item;
  item.sku = Sku(index);
  const double c = r.U();
  item.pattern = c < kSmoothShare         ? Pattern::kSmooth
                 : c < kIntermittentShare ? Pattern::kIntermittent
                 : c < kErraticShare      ? Pattern::kErratic
                                          : Pattern::kLumpy;
  item.price = std::round(r.LogU(0.5, 50) * 100) / 100;
  const double amplitude = r.U(0.2, 0.8);
  const double trend = r.U(-0.3, 0.4);  // relative change per 365 days
  const double stockout_hazard = r.U(0.002, 0.012);
  // rate: the mean demand of a smooth or erratic item on an average day;
  // occurrence and size: the chance of a demand and its mean size otherwise.
  double rate = 0, occurrence = 0, size = 0;
  switch (item.pattern) {
    case Pattern::kSmooth:
      rate = r.LogU(4, 40);
      break;
    case Pattern::kErratic:
      rate = r.LogU(8, 40);
      break;
    case Pattern::kIntermittent:
      occurrence = r.U(0.08, 0.5);
      size = r.U(0.3, 2.5);
      break;
    case Pattern::kLumpy:
      occurrence = r.U(0.05, 0.4);
      size = r.U(2, 10);
      break;
  }
  const int first_weekday = DaysBetween(WeekStartOf(o.start), o.start);
  item.qty.resize(o.days);
  item.on_hand.resize(o.days);
  item.demand.resize(o.days);
  int promo_left = 0, out_left = 0;
  double uplift = 1;
  for (int t = 0; t < o.days; ++t) {
    if (promo_left == 0 && r.U() < kPromoStart) {
      promo_left = r.Int(3, 10);
      uplift = r.U(1.3, 2.2);
    }
    const bool promo = promo_left > 0;
    if (promo) --promo_left;
    bool first_out_day = false;
    if (out_left == 0 && r.U() < stockout_hazard) {
      out_left = r.Int(1, 7);
      first_out_day = true;
    }
    const bool out = out_left > 0;
    if (out) --out_left;
    const double m = (1 + amplitude * (kWeek[(first_weekday + t) % 7] - 1)) *
                     std::max(0.2, 1 + trend * t / 365.0) * (promo ? uplift : 1);
    double demand = 0, expected = 0;
    switch (item.pattern) {
      case Pattern::kSmooth:
        expected = rate * m;
        demand = r.Poisson(expected);
        break;
      case Pattern::kErratic:
        expected = rate * m;
        demand = r.NegBinomial(expected, 1.2);
        break;
      case Pattern::kIntermittent: {
        const double p = std::min(kMaxOccurrence, occurrence * m);
        expected = p * (1 + size);
        demand = r.U() < p ? 1 + r.Poisson(size) : 0;
        break;
      }
      case Pattern::kLumpy: {
        const double p = std::min(kMaxOccurrence, occurrence * m);
        expected = p * (1 + size);
        demand = r.U() < p ? 1 + r.NegBinomial(size, 0.7) : 0;
        break;
      }
    }
    item.demand[t] = demand;
    // A stock-out sells part of the first day's demand (the shelf emptied
    // during it) and nothing on the following days.
    const double shelf = r.U();
    if (out) {
      item.qty[t] = first_out_day ? std::floor(demand * shelf) : 0;
      item.on_hand[t] = 0;
      ++item.stockout_days;
    } else {
      item.qty[t] = demand;
      item.on_hand[t] = 1 + std::floor(expected * 7 * (0.5 + shelf));
    }
    if (promo) ++item.promo_days;
  }
  return item;
}

Status WriteCsv(const Options& o, std::ostream& out) {
  SN_RETURN_IF_ERROR(Check(o));
  std::vector<std::string> dates(o.days);
  for (int t = 0; t < o.days; ++t) dates[t] = AddDays(o.start, t);
  out << "date,sku,qty,on_hand,price\n";
  std::string buf;
  char line[96];
  for (int i = 0; i < o.items; ++i) {
    const Item item = Generate(o, i);
    buf.clear();
    for (int t = 0; t < o.days; ++t) {
      const int n = std::snprintf(line, sizeof line, "%s,%s,%.0f,%.0f,%.2f\n", dates[t].c_str(),
                                  item.sku.c_str(), item.qty[t], item.on_hand[t], item.price);
      buf.append(line, static_cast<size_t>(n));
    }
    out << buf;
    if (!out) return Status::Io("cannot write the demand file");
  }
  return Status::Ok();
}

}  // namespace storenode::sim::demand
