// The promotions engine: NOTES ON THE DESIGN
//
// Promise: the shares depend on nothing but the lines (in their order) and
// the set of promotions given, so every till computes the same receipt
// offline, and docs/FORMATS.md 10.6 is enough to recompute them. Integer
// math only; round_half_away is money.h's RoundHalfAwayDiv.
//
// Rules (FORMATS 10.6 numbers them the same way):
//  1. In force: active, starts <= local time < ends (0: open), the local
//     weekday in `weekdays` (0: any), the minute of the local day in
//     [daily_from, daily_to) (both 0: all day).
//  2. Item promotions (MULTI_BUY, BUY_X_GET_Y, ITEM_DISCOUNT) come first,
//     one basket promotion (BASKET_DISCOUNT) after them.
//  3. A unit takes at most one item promotion. Only whole units of piece
//     lines without a manual discount take item promotions (a cashier's
//     discount replaces them); a line is eligible when its sku or its
//     department is the promotion's.
//  4. Competing item promotions: best for the customer, greedily. Each
//     round offers every promotion not yet applied on the units still
//     free; the largest discount wins, ties to the smaller id (byte order);
//     its units are taken; until no offer is > 0. Each promotion applies
//     at most once per basket, as often as its groups fill.
//  5. Offers. Units are ordered by unit price, dearest first, then by line.
//     MULTI_BUY (N for P): consecutive groups of N units; a group whose
//     price sum S is <= P, and every later one, is left; D = sum(S - P).
//     BUY_X_GET_Y: consecutive groups of X+Y units, the last Y of each
//     (the cheapest) are discounted: D = round_half_away(G * bp / 10000),
//     G the sum of their prices; an incomplete group is left.
//     ITEM_DISCOUNT takes every free eligible unit: by percent D =
//     round_half_away(C * bp / 10000), C their price sum; by amount each
//     unit gets min(amount, unit price) off, exactly, on its own line.
//  6. Basket: B = sum over lines of amount - manual discount - item shares.
//     Every BASKET_DISCOUNT with B >= threshold (and B > 0) offers
//     round_half_away(B * bp / 10000) or min(amount, B); the largest wins,
//     ties to the smaller id; only one applies.
//  7. Spreading a discount D over lines (all but ITEM_DISCOUNT by amount):
//     pro rata to each line's weight w (the price sum of its units the
//     promotion took; for the basket, the line's B part): floor(D*w/W),
//     then the D - sum left go +1 each to the lines with the largest
//     remainder (D*w mod W), ties to the earlier line. D <= W, so no line
//     gets more than its weight.
//  8. A line lists its shares in the order the promotions were applied;
//     zero shares are not listed.
#include "storenode/common/promotions.h"

#include <algorithm>
#include <map>
#include <numeric>

#include "storenode/common/money.h"
#include "storenode/common/store_settings.h"

namespace storenode::promotions {
namespace {

using Wide = __int128;
constexpr int64_t kDayUs = 86'400'000'000;
constexpr int64_t kMinuteUs = 60'000'000;

bool ItemLevel(const v1::Promotion& p) {
  return p.type() == v1::MULTI_BUY || p.type() == v1::BUY_X_GET_Y || p.type() == v1::ITEM_DISCOUNT;
}

bool Eligible(const v1::Promotion& p, const PricedLine& l) {
  return std::binary_search(p.skus().begin(), p.skus().end(), l.sku) ||
         (!l.department.empty() &&
          std::binary_search(p.departments().begin(), p.departments().end(), l.department));
}

// Rule 7.
std::vector<int64_t> Spread(Wide discount, const std::vector<Wide>& weights) {
  std::vector<int64_t> out(weights.size(), 0);
  const Wide total = std::accumulate(weights.begin(), weights.end(), Wide{0});
  if (discount <= 0 || total <= 0) return out;
  std::vector<std::pair<Wide, size_t>> rest;
  Wide given = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    out[i] = static_cast<int64_t>(discount * weights[i] / total);
    given += out[i];
    rest.push_back({discount * weights[i] % total, i});
  }
  std::stable_sort(rest.begin(), rest.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (size_t k = 0; given < discount; ++k, ++given) ++out[rest[k].second];
  return out;
}

struct Offer {
  Wide discount = 0;
  std::vector<int64_t> taken;   // units per line
  std::vector<int64_t> shares;  // per line
};

// Rule 5: what `p` gives on the units still `free`.
Offer OfferOf(const v1::Promotion& p, const std::vector<PricedLine>& lines,
              const std::vector<int64_t>& free) {
  const size_t n = lines.size();
  Offer o;
  o.taken.assign(n, 0);
  o.shares.assign(n, 0);
  std::vector<size_t> order;
  for (size_t i = 0; i < n; ++i) {
    if (free[i] > 0 && Eligible(p, lines[i])) order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return lines[a].unit_price > lines[b].unit_price; });
  if (p.type() == v1::ITEM_DISCOUNT) {
    Wide sum = 0;
    for (size_t i : order) {
      o.taken[i] = free[i];
      if (p.amount() > 0) {
        o.shares[i] = std::min(p.amount(), lines[i].unit_price) * free[i];
        o.discount += o.shares[i];
      }
      sum += Wide{free[i]} * lines[i].unit_price;
    }
    if (p.amount() > 0) return o;
    o.discount = RoundHalfAwayDiv(sum * p.percent_bp(), 10000);
  } else {
    const bool multi = p.type() == v1::MULTI_BUY;
    const int64_t group = multi ? p.buy_qty() : int64_t{p.buy_qty()} + p.get_qty();
    const int64_t get = multi ? 0 : p.get_qty();
    Wide discounted = 0;  // BUY_X_GET_Y: the price sum of the "get" units
    size_t at = 0;        // into order
    int64_t used = 0;     // units of order[at] already grouped
    while (at < order.size() && group > 0) {
      const size_t i = order[at];
      const int64_t price = lines[i].unit_price;
      if (free[i] - used >= group) {
        // Whole groups inside this line: all alike.
        const int64_t m = (free[i] - used) / group;
        if (multi && Wide{group} * price <= p.price()) break;
        if (multi) o.discount += Wide{m} * (Wide{group} * price - p.price());
        discounted += Wide{m} * get * price;
        o.taken[i] += m * group;
        used += m * group;
      } else {
        // One group across lines, unit by unit (at most kMaxGroupQty*2).
        std::vector<std::pair<size_t, int64_t>> units;  // (line, price)
        size_t a = at;
        int64_t u = used;
        while (a < order.size() && static_cast<int64_t>(units.size()) < group) {
          const size_t j = order[a];
          const int64_t k = std::min(free[j] - u, group - static_cast<int64_t>(units.size()));
          for (int64_t x = 0; x < k; ++x) units.push_back({j, lines[j].unit_price});
          u += k;
          if (u == free[j]) {
            ++a;
            u = 0;
          }
        }
        if (static_cast<int64_t>(units.size()) < group) break;
        Wide sum = 0;
        for (const auto& [j, pr] : units) sum += pr;
        if (multi && sum <= p.price()) break;
        if (multi) o.discount += sum - p.price();
        for (int64_t x = group - get; x < group; ++x) discounted += units[x].second;
        for (const auto& [j, pr] : units) ++o.taken[j];
        at = a;
        used = u;
        continue;
      }
      if (used == free[i]) {
        ++at;
        used = 0;
      }
    }
    if (!multi) o.discount = RoundHalfAwayDiv(discounted * p.percent_bp(), 10000);
  }
  std::vector<Wide> weights(n, 0);
  for (size_t i = 0; i < n; ++i) weights[i] = Wide{o.taken[i]} * lines[i].unit_price;
  o.shares = Spread(o.discount, weights);
  return o;
}

void AddShare(const v1::Promotion& p, int64_t amount, LineShares* line) {
  if (amount <= 0) return;
  v1::LineDiscount* d = &line->emplace_back();
  d->set_promotion_id(p.id());
  d->set_amount(amount);
  d->set_name(p.name());
}

int64_t Shared(const LineShares& shares) {
  int64_t sum = 0;
  for (const v1::LineDiscount& d : shares) sum += d.amount();
  return sum;
}

}  // namespace

bool InForce(const v1::Promotion& p, int64_t local_us) {
  if (!p.active()) return false;
  if (p.starts_local_us() != 0 && local_us < p.starts_local_us()) return false;
  if (p.ends_local_us() != 0 && local_us >= p.ends_local_us()) return false;
  int64_t day = local_us / kDayUs;
  if (local_us % kDayUs < 0) --day;
  const int64_t weekday = ((day + 3) % 7 + 7) % 7;  // 1970-01-01 was a Thursday; Monday = 0
  if (p.weekdays() != 0 && (p.weekdays() & (1u << weekday)) == 0) return false;
  const int64_t minute = (local_us - day * kDayUs) / kMinuteUs;
  if (p.daily_from_minute() != 0 || p.daily_to_minute() != 0) {
    if (minute < p.daily_from_minute() || minute >= p.daily_to_minute()) return false;
  }
  return true;
}

std::vector<LineShares> Apply(const std::vector<PricedLine>& lines,
                              const std::vector<v1::Promotion>& in_force) {
  const size_t n = lines.size();
  std::vector<LineShares> out(n);
  // Rule 4's candidates in id order, so ties go to the first.
  std::vector<const v1::Promotion*> items, baskets;
  for (const v1::Promotion& p : in_force) {
    (ItemLevel(p) ? items : baskets).push_back(&p);
  }
  auto by_id = [](const v1::Promotion* a, const v1::Promotion* b) { return a->id() < b->id(); };
  std::sort(items.begin(), items.end(), by_id);
  std::sort(baskets.begin(), baskets.end(), by_id);
  std::vector<int64_t> free(n, 0);
  for (size_t i = 0; i < n; ++i) {
    if (lines[i].qty > 0 && lines[i].manual_discount == 0) free[i] = lines[i].qty;
  }
  while (!items.empty()) {
    size_t best = 0;
    Offer best_offer;
    for (size_t k = 0; k < items.size(); ++k) {
      Offer o = OfferOf(*items[k], lines, free);
      if (o.discount > best_offer.discount) {
        best = k;
        best_offer = std::move(o);
      }
    }
    if (best_offer.discount <= 0) break;
    for (size_t i = 0; i < n; ++i) {
      free[i] -= best_offer.taken[i];
      AddShare(*items[best], best_offer.shares[i], &out[i]);
    }
    items.erase(items.begin() + static_cast<std::ptrdiff_t>(best));
  }
  std::vector<Wide> left(n, 0);
  Wide basket = 0;
  for (size_t i = 0; i < n; ++i) {
    left[i] = Wide{lines[i].amount} - lines[i].manual_discount - Shared(out[i]);
    basket += left[i];
  }
  const v1::Promotion* chosen = nullptr;
  Wide chosen_discount = 0;
  for (const v1::Promotion* p : baskets) {
    if (basket <= 0 || basket < p->threshold()) continue;
    Wide d = p->amount() > 0 ? std::min<Wide>(p->amount(), basket)
                             : Wide{RoundHalfAwayDiv(basket * p->percent_bp(), 10000)};
    if (d > chosen_discount) {
      chosen = p;
      chosen_discount = d;
    }
  }
  if (chosen != nullptr) {
    std::vector<int64_t> shares = Spread(chosen_discount, left);
    for (size_t i = 0; i < n; ++i) AddShare(*chosen, shares[i], &out[i]);
  }
  return out;
}

std::string Check(const v1::Promotion& p) {
  auto plain = [](const std::string& s) {
    return std::all_of(s.begin(), s.end(), [](unsigned char c) {
      return std::isalnum(c) || c == '-' || c == '_' || c == '.';
    });
  };
  if (p.id().empty() || p.id().size() > kMaxIdBytes || !plain(p.id())) {
    return "id '" + p.id() + "' is not 1.." + std::to_string(kMaxIdBytes) +
           " letters, digits, '-', '_' or '.'";
  }
  if (p.name().empty() || p.name().size() > kMaxNameBytes) {
    return "name must be 1.." + std::to_string(kMaxNameBytes) + " bytes";
  }
  const bool members = p.skus_size() + p.departments_size() > 0;
  if (static_cast<size_t>(p.skus_size() + p.departments_size()) > kMaxMembers) {
    return "more than " + std::to_string(kMaxMembers) + " skus and departments";
  }
  const bool percent = p.percent_bp() != 0, amount = p.amount() != 0;
  if (p.percent_bp() < 0 || p.percent_bp() > 10000) return "percent must be in 0..100";
  if (p.amount() < 0 || p.price() < 0 || p.threshold() < 0) return "negative amount";
  auto group = [](uint32_t q, uint32_t min) { return q >= min && q <= kMaxGroupQty; };
  const std::string groups = std::to_string(kMaxGroupQty);
  switch (p.type()) {
    case v1::MULTI_BUY:
      if (!members) return "multi_buy needs skus or departments";
      if (!group(p.buy_qty(), 2)) return "multi_buy qty must be 2.." + groups;
      if (percent || amount || p.get_qty() || p.threshold()) {
        return "multi_buy takes qty and price only";
      }
      break;
    case v1::BUY_X_GET_Y:
      if (!members) return "buy_x_get_y needs skus or departments";
      if (!group(p.buy_qty(), 1) || !group(p.get_qty(), 1)) {
        return "buy_x_get_y qty and get_qty must be 1.." + groups;
      }
      if (!percent) return "buy_x_get_y needs a percent off (100: free)";
      if (amount || p.price() || p.threshold()) return "buy_x_get_y takes qty, get_qty, percent";
      break;
    case v1::ITEM_DISCOUNT:
      if (!members) return "item_discount needs skus or departments";
      if (percent == amount) return "item_discount needs exactly one of percent and amount";
      if (p.buy_qty() || p.get_qty() || p.price() || p.threshold()) {
        return "item_discount takes percent or amount only";
      }
      break;
    case v1::BASKET_DISCOUNT:
      if (members) return "basket_discount applies to the whole basket: no skus or departments";
      if (percent == amount) return "basket_discount needs exactly one of percent and amount";
      if (p.buy_qty() || p.get_qty() || p.price()) {
        return "basket_discount takes threshold and percent or amount only";
      }
      break;
    default:
      return "type must be multi_buy, buy_x_get_y, item_discount or basket_discount";
  }
  if (p.ends_local_us() != 0 && p.ends_local_us() <= p.starts_local_us()) {
    return "ends must be after starts";
  }
  if (p.weekdays() >= 128) return "weekdays outside Mon..Sun";
  const int from = p.daily_from_minute(), to = p.daily_to_minute();
  if ((from != 0 || to != 0) && !(from >= 0 && from < to && to <= 1440)) {
    return "hours must be HH:MM-HH:MM with the end after the start";
  }
  return "";
}

std::string CheckShares(const v1::SaleLine& line) {
  if (line.promotions_size() == 0) return "";
  if (static_cast<size_t>(line.promotions_size()) > kMaxLinePromotions) {
    return "more than " + std::to_string(kMaxLinePromotions) + " promotions";
  }
  int64_t sum = 0;
  for (const v1::LineDiscount& d : line.promotions()) {
    if (d.promotion_id().empty() || d.promotion_id().size() > kMaxIdBytes ||
        d.name().size() > kMaxNameBytes) {
      return "a promotion needs an id of 1.." + std::to_string(kMaxIdBytes) +
             " bytes and a name of at most " + std::to_string(kMaxNameBytes);
    }
    if (d.amount() <= 0) return "promotion " + d.promotion_id() + ": amount must be positive";
    if (d.amount() > line.discount() - sum) {
      return "promotions add up to more than the line discount " +
             Money(line.discount()).ToString() + " (promotion " + d.promotion_id() + " " +
             Money(d.amount()).ToString() + ")";
    }
    sum += d.amount();
  }
  return "";
}

crypto::Hash Digest(std::string_view promotion_bytes) {
  crypto::Sha256 sha;
  sha.Update(std::string_view("storenode.v1.Promotion\0", 23));
  sha.Update(promotion_bytes);
  return sha.Final();
}

namespace {

enum Column {
  kId,
  kName,
  kType,
  kSkus,
  kDepartments,
  kQty,
  kGetQty,
  kPrice,
  kPercent,
  kAmount,
  kThreshold,
  kStarts,
  kEnds,
  kDays,
  kHours,
  kActive,
  kCount
};
constexpr const char* kColumnNames[kCount] = {
    "id",      "name",   "type",      "skus",   "departments", "qty",  "get_qty", "price",
    "percent", "amount", "threshold", "starts", "ends",        "days", "hours",   "active"};
constexpr const char* kTypeNames[] = {"", "multi_buy", "buy_x_get_y", "item_discount",
                                      "basket_discount"};
constexpr const char* kDayNames[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::vector<std::string> Split(const std::string& cell, char separator) {
  std::vector<std::string> out;
  size_t from = 0;
  while (from <= cell.size()) {
    size_t to = cell.find(separator, from);
    if (to == std::string::npos) to = cell.size();
    std::string part = cell.substr(from, to - from);
    part.erase(0, part.find_first_not_of(' '));
    part.erase(part.find_last_not_of(' ') + 1);
    if (!part.empty()) out.push_back(part);
    from = to + 1;
  }
  return out;
}

bool Whole(const std::string& s, uint32_t max, uint32_t* out) {
  if (s.empty() || s.size() > 9 ||
      !std::all_of(s.begin(), s.end(), [](unsigned char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  *out = static_cast<uint32_t>(std::stoul(s));
  return *out <= max;
}

// "12.5" or "12,5" percent -> 1250 bp; up to two decimals, 0 < p <= 100.
bool Percent(const std::string& s, int32_t* bp) {
  size_t sep = s.find_first_of(".,");
  std::string whole = s.substr(0, sep), frac = sep == std::string::npos ? "" : s.substr(sep + 1);
  uint32_t w = 0, f = 0;
  if (!Whole(whole, 100, &w) || frac.size() > 2) return false;
  if (!frac.empty() && !Whole(frac, 99, &f)) return false;
  if (frac.size() == 1) f *= 10;
  *bp = static_cast<int32_t>(w * 100 + f);
  return *bp > 0 && *bp <= 10000;
}

// "Mon-Fri", "Sat;Sun" (the list separator), "" -> bit mask.
bool Days(const std::string& cell, char separator, uint32_t* mask) {
  *mask = 0;
  auto day = [](const std::string& name) {
    auto it = std::find(std::begin(kDayNames), std::end(kDayNames), Lower(name));
    return it == std::end(kDayNames) ? -1 : static_cast<int>(it - std::begin(kDayNames));
  };
  for (const std::string& part : Split(cell, separator)) {
    size_t dash = part.find('-');
    int a = day(part.substr(0, dash));
    int b = dash == std::string::npos ? a : day(part.substr(dash + 1));
    if (a < 0 || b < 0) return false;
    for (int d = a;; d = (d + 1) % 7) {
      *mask |= 1u << d;
      if (d == b) break;
    }
  }
  return true;
}

// "17:00-19:00" -> [1020, 1140); "24:00" may end it.
bool Hours(const std::string& cell, int32_t* from, int32_t* to) {
  size_t dash = cell.find('-');
  if (dash == std::string::npos) return false;
  auto clock = [](std::string t, int32_t* out) {
    t.erase(0, t.find_first_not_of(' '));
    t.erase(t.find_last_not_of(' ') + 1);
    if (t == "24:00") {
      *out = 1440;
      return true;
    }
    auto m = settings::ParseClockTime(t);
    if (!m.ok()) return false;
    *out = *m;
    return true;
  };
  return clock(cell.substr(0, dash), from) && clock(cell.substr(dash + 1), to) && *from < *to;
}

}  // namespace

ParsedFile ParseCsv(std::string_view csv, char delimiter, const std::string& currency) {
  ParsedFile out;
  auto error = [&](uint32_t line, std::string reason) {
    v1::CatalogRowError& e = out.errors.emplace_back();
    e.set_line(line);
    e.set_reason(std::move(reason));
  };
  if (csv.substr(0, 3) == "\xEF\xBB\xBF") csv.remove_prefix(3);
  if (delimiter == '\0') delimiter = catalog::DetectDelimiter(csv);
  const char separator = delimiter == ';' ? ',' : ';';
  std::vector<catalog::CsvRecord> records = catalog::ReadCsvRecords(csv, delimiter);
  if (records.empty()) {
    error(1, "the file has no header line");
    return out;
  }
  int index[kCount];
  std::fill(std::begin(index), std::end(index), -1);
  const catalog::CsvRecord& head = records[0];
  if (!head.error.empty()) {
    error(head.line, head.error + " in the header line");
    return out;
  }
  for (size_t i = 0; i < head.fields.size(); ++i) {
    auto known = std::find_if(std::begin(kColumnNames), std::end(kColumnNames),
                              [&](const char* c) { return Lower(head.fields[i]) == c; });
    if (known == std::end(kColumnNames)) {
      error(head.line, "unknown column '" + head.fields[i] + "'");
    } else if (index[known - std::begin(kColumnNames)] >= 0) {
      error(head.line, "column '" + head.fields[i] + "' twice");
    } else {
      index[known - std::begin(kColumnNames)] = static_cast<int>(i);
    }
  }
  for (Column required : {kId, kName, kType}) {
    if (index[required] < 0) {
      error(head.line, std::string("column '") + kColumnNames[required] + "' is missing");
    }
  }
  if (!out.errors.empty()) return out;
  if (records.size() - 1 > kMaxPromotions) {
    error(head.line, "more than " + std::to_string(kMaxPromotions) + " promotions in one file");
    return out;
  }
  std::map<std::string, uint32_t> seen;
  for (size_t r = 1; r < records.size(); ++r) {
    const catalog::CsvRecord& rec = records[r];
    if (!rec.error.empty()) {
      error(rec.line, rec.error);
      continue;
    }
    auto field = [&](Column c) -> std::string {
      return index[c] >= 0 && static_cast<size_t>(index[c]) < rec.fields.size()
                 ? rec.fields[static_cast<size_t>(index[c])]
                 : std::string();
    };
    auto amount = [&](Column c, int64_t* to) {
      if (field(c).empty()) return true;
      auto a = catalog::ParseAmount(field(c), currency);
      if (!a.ok()) error(rec.line, std::string(kColumnNames[c]) + ": " + a.status().message());
      if (a.ok()) *to = *a;
      return a.ok();
    };
    v1::Promotion p;
    p.set_id(field(kId));
    p.set_name(field(kName));
    const std::string type = Lower(field(kType));
    auto t = std::find(std::begin(kTypeNames) + 1, std::end(kTypeNames), type);
    if (t == std::end(kTypeNames)) {
      error(rec.line, "type '" + field(kType) +
                          "' is not multi_buy, buy_x_get_y, item_discount or basket_discount");
      continue;
    }
    p.set_type(static_cast<v1::PromotionType>(t - std::begin(kTypeNames)));
    std::vector<std::string> skus = Split(field(kSkus), separator),
                             departments = Split(field(kDepartments), separator);
    std::sort(skus.begin(), skus.end());
    skus.erase(std::unique(skus.begin(), skus.end()), skus.end());
    std::sort(departments.begin(), departments.end());
    departments.erase(std::unique(departments.begin(), departments.end()), departments.end());
    for (std::string& s : skus) p.add_skus(std::move(s));
    for (std::string& d : departments) p.add_departments(std::move(d));
    uint32_t q = 0;
    if (!field(kQty).empty() && !Whole(field(kQty), kMaxGroupQty, &q)) {
      error(rec.line, "qty '" + field(kQty) + "' is not a whole number up to " +
                          std::to_string(kMaxGroupQty));
      continue;
    }
    p.set_buy_qty(q);
    q = 0;
    if (!field(kGetQty).empty() && !Whole(field(kGetQty), kMaxGroupQty, &q)) {
      error(rec.line, "get_qty '" + field(kGetQty) + "' is not a whole number up to " +
                          std::to_string(kMaxGroupQty));
      continue;
    }
    p.set_get_qty(q);
    int64_t price = 0, off = 0, threshold = 0;
    if (!amount(kPrice, &price) || !amount(kAmount, &off) || !amount(kThreshold, &threshold)) {
      continue;
    }
    p.set_price(price);
    p.set_amount(off);
    p.set_threshold(threshold);
    int32_t bp = 0;
    if (!field(kPercent).empty() && !Percent(field(kPercent), &bp)) {
      error(rec.line, "percent '" + field(kPercent) + "' is not a number in (0, 100]");
      continue;
    }
    p.set_percent_bp(bp);
    for (Column c : {kStarts, kEnds}) {
      if (field(c).empty()) continue;
      auto at = settings::ParseLocalTime(field(c));
      if (!at.ok()) {
        error(rec.line,
              std::string(kColumnNames[c]) + " '" + field(c) + "': " + at.status().message());
        break;
      }
      (c == kStarts ? p.set_starts_local_us(*at) : p.set_ends_local_us(*at));
    }
    uint32_t mask = 0;
    if (!Days(field(kDays), separator, &mask)) {
      error(rec.line, "days '" + field(kDays) + "' are not like Mon-Fri" + separator + "Sun");
      continue;
    }
    p.set_weekdays(mask == 127 ? 0 : mask);
    int32_t from = 0, to = 0;
    if (!field(kHours).empty() && !Hours(field(kHours), &from, &to)) {
      error(rec.line, "hours '" + field(kHours) + "' are not HH:MM-HH:MM, the end after the start");
      continue;
    }
    p.set_daily_from_minute(from);
    p.set_daily_to_minute(to == 1440 && from == 0 ? 0 : to);
    bool active = true;
    if (!catalog::ParseBool(field(kActive), &active)) {
      error(rec.line, "active '" + field(kActive) + "' is not 1/0/true/false/yes/no");
      continue;
    }
    p.set_active(active);
    if (std::string why = Check(p); !why.empty()) {
      error(rec.line, why);
      continue;
    }
    if (auto [it, fresh] = seen.emplace(p.id(), rec.line); !fresh) {
      error(rec.line, "promotion " + p.id() + " twice (line " + std::to_string(it->second) + ")");
      continue;
    }
    out.promotions.push_back(std::move(p));
    out.lines.push_back(rec.line);
  }
  if (out.errors.empty() && out.promotions.empty()) error(1, "the file has no rows");
  return out;
}

}  // namespace storenode::promotions
