// The promotions engine (common/promotions.h) on hand-computed baskets, one
// rule of docs/FORMATS.md 10.6 per table; the record's rules and the
// import file.
#include "storenode/common/promotions.h"

#include <catch2/catch.hpp>
#include <string>
#include <utility>
#include <vector>

#include "storenode/common/store_settings.h"

using namespace storenode;
using promotions::PricedLine;

namespace {

PricedLine L(std::string sku, int64_t qty, int64_t price, std::string dept = "",
             int64_t manual = 0) {
  PricedLine l;
  l.sku = std::move(sku);
  l.department = std::move(dept);
  l.qty = qty;
  l.unit_price = price;
  l.amount = qty * price;
  l.manual_discount = manual;
  return l;
}

v1::Promotion P(std::string id, v1::PromotionType type, std::vector<std::string> skus = {},
                std::vector<std::string> depts = {}) {
  v1::Promotion p;
  p.set_id(id);
  p.set_name("Promo " + id);
  p.set_type(type);
  std::sort(skus.begin(), skus.end());
  for (auto& s : skus) p.add_skus(s);
  for (auto& d : depts) p.add_departments(d);
  p.set_active(true);
  return p;
}
v1::Promotion MultiBuy(std::string id, std::vector<std::string> skus, uint32_t n, int64_t price) {
  v1::Promotion p = P(std::move(id), v1::MULTI_BUY, std::move(skus));
  p.set_buy_qty(n);
  p.set_price(price);
  return p;
}
v1::Promotion BuyGet(std::string id, std::vector<std::string> skus, uint32_t x, uint32_t y,
                     int32_t bp) {
  v1::Promotion p = P(std::move(id), v1::BUY_X_GET_Y, std::move(skus));
  p.set_buy_qty(x);
  p.set_get_qty(y);
  p.set_percent_bp(bp);
  return p;
}
v1::Promotion ItemOff(std::string id, std::vector<std::string> skus, int32_t bp, int64_t amount,
                      std::vector<std::string> depts = {}) {
  v1::Promotion p = P(std::move(id), v1::ITEM_DISCOUNT, std::move(skus), std::move(depts));
  p.set_percent_bp(bp);
  p.set_amount(amount);
  return p;
}
v1::Promotion Basket(std::string id, int64_t threshold, int32_t bp, int64_t amount) {
  v1::Promotion p = P(std::move(id), v1::BASKET_DISCOUNT);
  p.set_threshold(threshold);
  p.set_percent_bp(bp);
  p.set_amount(amount);
  return p;
}

// Each line's shares as "id:amount" in order.
using Expected = std::vector<std::vector<std::string>>;
Expected Run(const std::vector<PricedLine>& lines, const std::vector<v1::Promotion>& promos) {
  Expected out;
  for (const auto& shares : promotions::Apply(lines, promos)) {
    auto& row = out.emplace_back();
    for (const auto& d : shares) row.push_back(d.promotion_id() + ":" + std::to_string(d.amount()));
  }
  return out;
}

struct Case {
  const char* what;
  std::vector<PricedLine> lines;
  std::vector<v1::Promotion> promos;
  Expected want;
};

void RunCases(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    INFO(c.what);
    CHECK(Run(c.lines, c.promos) == c.want);
  }
}

}  // namespace

TEST_CASE("Item offers: N for a price, buy X get Y, percent and amount off", "[promotions]") {
  RunCases({
      // Units dearest first B,B,A: 700 - 500 = 200, spread 500:200 -> 142.86 / 57.14,
      // the leftover cent to the larger remainder (B).
      {"3 for 5.00 across two skus, the 4th unit left",
       {L("A", 2, 200), L("B", 2, 250)},
       {MultiBuy("m3", {"A", "B"}, 3, 500)},
       {{"m3:57"}, {"m3:143"}}},
      // X: two whole groups (2 x 100 off), then X + Y across lines (380 - 300):
      // 280 over 1000:180 -> 237.29 / 42.71 -> 237 + 42, +1 to Y.
      {"2 for 3.00: whole groups inside a line, then one across lines",
       {L("X", 5, 200), L("Y", 1, 180)},
       {MultiBuy("m2", {"X", "Y"}, 2, 300)},
       {{"m2:237"}, {"m2:43"}}},
      {"2 for 5.00 on items worth less gives nothing",
       {L("A", 2, 200)},
       {MultiBuy("m2", {"A"}, 2, 500)},
       {{}}},
      {"buy 2 get 1 free, 7 units: two groups, the 7th pays",
       {L("C", 7, 300)},
       {BuyGet("b2g1", {"C"}, 2, 1, 10000)},
       {{"b2g1:600"}}},
      // The cheaper E is the "get" unit: 400 * 50% = 200, spread 1000:400.
      {"buy 1 get 1 half price: the cheaper one is discounted, spread over both",
       {L("D", 1, 1000), L("E", 1, 400)},
       {BuyGet("b1g1", {"D", "E"}, 1, 1, 5000)},
       {{"b1g1:143"}, {"b1g1:57"}}},
      // 10% of 345 + 249 = 59.4 -> 59; 34.27 / 24.73 -> 34 + 24, +1 to G.
      {"10% off a department, by sku or department, the other line untouched",
       {L("F", 3, 115, "dairy"), L("G", 1, 249, "dairy"), L("H", 1, 500, "drinks")},
       {ItemOff("d10", {}, 1000, 0, {"dairy"})},
       {{"d10:34"}, {"d10:25"}, {}}},
      {"0.50 off each unit, never more than the unit price, exactly per line",
       {L("J", 2, 30), L("K", 1, 200)},
       {ItemOff("off50", {"J", "K"}, 0, 50)},
       {{"off50:60"}, {"off50:50"}}},
  });
}

TEST_CASE("Competing item promotions: best for the customer, ties by id, one per unit",
          "[promotions]") {
  RunCases({
      {"3 for 5.00 (100 off) beats 10% (60 off)",
       {L("A", 3, 200)},
       {ItemOff("p2", {"A"}, 1000, 0), MultiBuy("p1", {"A"}, 3, 500)},
       {{"p1:100"}}},
      {"20% (120 off) beats 3 for 5.00 (100 off)",
       {L("A", 3, 200)},
       {ItemOff("p2", {"A"}, 2000, 0), MultiBuy("p1", {"A"}, 3, 500)},
       {{"p2:120"}}},
      {"equal offers: the smaller id",
       {L("A", 1, 200)},
       {ItemOff("b", {"A"}, 1000, 0), ItemOff("a", {"A"}, 1000, 0)},
       {{"a:20"}}},
      {"the unit the multi-buy left takes the next best",
       {L("A", 4, 200)},
       {ItemOff("p2", {"A"}, 1000, 0), MultiBuy("p1", {"A"}, 3, 500)},
       {{"p1:100", "p2:20"}}},
      {"a line with a manual discount takes no item promotion",
       {L("A", 3, 200, "", 50), L("A2", 3, 200)},
       {MultiBuy("p1", {"A", "A2"}, 3, 500)},
       {{}, {"p1:100"}}},
      {"a measured line (qty 0) takes no item promotion",
       {[] {
         PricedLine l = L("W", 0, 1000);
         l.amount = 1234;
         return l;
       }()},
       {ItemOff("p", {"W"}, 1000, 0)},
       {{}}},
  });
}

TEST_CASE("Basket promotions: after item promotions, one, spread by largest remainder",
          "[promotions]") {
  RunCases({
      {"10% from 20.00: 2200 -> 220, spread exactly",
       {L("A", 1, 1500), L("B", 1, 700)},
       {Basket("t20", 2000, 1000, 0)},
       {{"t20:150"}, {"t20:70"}}},
      {"the threshold is on the amount after item promotions: 960 + 900 < 2000",
       {L("A", 1, 1200), L("B", 1, 900)},
       {ItemOff("i20", {"A"}, 2000, 0), Basket("t20", 2000, 1000, 0)},
       {{"i20:240"}, {}}},
      // 4500: 10% = 450 < 5.00; 500 over 2500:2000 = 277.8 / 222.2 -> 278, 222.
      {"the better of two basket promotions, only one",
       {L("A", 1, 2500), L("B", 1, 2000)},
       {Basket("pct", 4000, 1000, 0), Basket("amt", 3000, 0, 500)},
       {{"amt:278"}, {"amt:222"}}},
      {"an amount off larger than the basket takes the whole basket",
       {L("A", 1, 300)},
       {Basket("big", 0, 0, 1000)},
       {{"big:300"}}},
      {"equal remainders: the earlier line gets the cent",
       {L("A", 1, 100), L("B", 1, 100), L("C", 1, 100)},
       {Basket("third", 0, 0, 100)},
       {{"third:34"}, {"third:33"}, {"third:33"}}},
      {"the basket part of a manually discounted line is what is left of it",
       {L("A", 1, 1000, "", 500), L("B", 1, 500)},
       {Basket("half", 0, 5000, 0)},
       {{"half:250"}, {"half:250"}}},
  });
}

TEST_CASE("A promotion is in force in its local window", "[promotions]") {
  auto at = [](const char* local) { return settings::ParseLocalTime(local).value(); };
  v1::Promotion p = ItemOff("happy", {"A"}, 1000, 0);
  p.set_starts_local_us(at("2026-12-01"));
  p.set_ends_local_us(at("2026-12-08"));
  p.set_weekdays(0b0011111);  // Mon-Fri
  p.set_daily_from_minute(17 * 60);
  p.set_daily_to_minute(19 * 60);
  struct {
    const char* local;
    bool in_force;
  } cases[] = {
      {"2026-12-07 18:30", true},   // a Monday, inside the hours
      {"2026-12-07 17:00", true},   // from is inclusive
      {"2026-12-07 19:00", false},  // to is exclusive
      {"2026-12-06 18:30", false},  // a Sunday
      {"2026-11-30 18:30", false},  // before starts
      {"2026-12-08 18:30", false},  // ends is exclusive
  };
  for (const auto& c : cases) {
    INFO(c.local);
    CHECK(promotions::InForce(p, at(c.local)) == c.in_force);
  }
  p.set_active(false);
  CHECK_FALSE(promotions::InForce(p, at("2026-12-07 18:30")));
}

TEST_CASE("A promotion record is checked with a one-line reason", "[promotions]") {
  struct {
    v1::Promotion p;
    std::string reason;
  } cases[] = {
      {MultiBuy("ok", {"A"}, 3, 500), ""},
      {MultiBuy("bad id!", {"A"}, 3, 500),
       "id 'bad id!' is not 1..32 letters, digits, '-', '_' or '.'"},
      {MultiBuy("m", {}, 3, 500), "multi_buy needs skus or departments"},
      {MultiBuy("m", {"A"}, 1, 500), "multi_buy qty must be 2..100"},
      {BuyGet("b", {"A"}, 2, 1, 0), "buy_x_get_y needs a percent off (100: free)"},
      {ItemOff("i", {"A"}, 1000, 50), "item_discount needs exactly one of percent and amount"},
      {[] {
         v1::Promotion p = Basket("t", 0, 1000, 0);
         p.add_skus("A");
         return p;
       }(),
       "basket_discount applies to the whole basket: no skus or departments"},
      {[] {
         v1::Promotion p = Basket("t", 0, 1000, 0);
         p.set_starts_local_us(10);
         p.set_ends_local_us(10);
         return p;
       }(),
       "ends must be after starts"},
  };
  for (const auto& c : cases) {
    INFO(c.p.ShortDebugString());
    CHECK(promotions::Check(c.p) == c.reason);
  }
}

TEST_CASE("The promotions file: every type, lists, windows, and every bad row by line",
          "[promotions]") {
  const std::string csv =
      "id,name,type,skus,departments,qty,get_qty,price,percent,amount,threshold,starts,ends,"
      "days,hours,active\n"
      "m3,3 for 5,multi_buy,B;A,,3,,5.00,,,,2026-12-01,2027-01-01,,,\n"
      "b2g1,2+1 free,buy_x_get_y,C,,2,1,,100,,,,,Sat;Sun,,\n"
      "dairy,Dairy 12.5%,item_discount,,dairy,,,,\"12,5\",,,,,Mon-Fri,17:00-19:00,yes\n"
      "t20,5 off 30,basket_discount,,,,,,,5.00,30.00,,,,,0\n"
      "bad,x,multi_buy,A,,1,,500,,,,,,,,\n"
      "m3,again,item_discount,A,,,,,10,,,,,,,\n"
      "h,y,item_discount,A,,,,,10,,,,,Mon-Xyz,,\n";
  promotions::ParsedFile f = promotions::ParseCsv(csv, '\0', "EUR");
  REQUIRE(f.errors.size() == 3);
  CHECK(f.errors[0].line() == 6);
  CHECK(f.errors[0].reason() == "multi_buy qty must be 2..100");
  CHECK(f.errors[1].line() == 7);
  CHECK(f.errors[1].reason() == "promotion m3 twice (line 2)");
  CHECK(f.errors[2].line() == 8);
  CHECK(f.errors[2].reason() == "days 'Mon-Xyz' are not like Mon-Fri;Sun");
  REQUIRE(f.promotions.size() == 4);
  const v1::Promotion& m3 = f.promotions[0];
  CHECK(m3.type() == v1::MULTI_BUY);
  CHECK(std::vector<std::string>(m3.skus().begin(), m3.skus().end()) ==
        std::vector<std::string>{"A", "B"});
  CHECK(m3.buy_qty() == 3);
  CHECK(m3.price() == 500);
  CHECK(m3.starts_local_us() == settings::ParseLocalTime("2026-12-01").value());
  CHECK(m3.ends_local_us() == settings::ParseLocalTime("2027-01-01").value());
  CHECK(m3.active());
  const v1::Promotion& b = f.promotions[1];
  CHECK(b.type() == v1::BUY_X_GET_Y);
  CHECK(b.percent_bp() == 10000);
  CHECK(b.weekdays() == 0b1100000);
  const v1::Promotion& d = f.promotions[2];
  CHECK(d.percent_bp() == 1250);
  CHECK(d.departments(0) == "dairy");
  CHECK(d.weekdays() == 0b0011111);
  CHECK(d.daily_from_minute() == 1020);
  CHECK(d.daily_to_minute() == 1140);
  const v1::Promotion& t = f.promotions[3];
  CHECK(t.type() == v1::BASKET_DISCOUNT);
  CHECK(t.amount() == 500);
  CHECK(t.threshold() == 3000);
  CHECK_FALSE(t.active());

  CHECK(promotions::ParseCsv("id,name,kind\n", '\0', "EUR").errors[0].reason() ==
        "unknown column 'kind'");
  CHECK(promotions::ParseCsv("id,name,type\n", '\0', "EUR").errors[0].reason() ==
        "the file has no rows");
}
