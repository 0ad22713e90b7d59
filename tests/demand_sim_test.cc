// The demand generator (tools/sim/demand.h): the same seed writes the same
// file, and the patterns come in their documented shares.
#include <catch2/catch.hpp>
#include <sstream>

#include "sim/demand.h"
#include "storenode/common/crypto.h"

using namespace storenode;

TEST_CASE("a demand seed writes the same file every time", "[forecast]") {
  sim::demand::Options o;
  o.items = 40;
  o.days = 60;
  o.seed = 7;
  std::ostringstream a, b;
  REQUIRE(sim::demand::WriteCsv(o, a).ok());
  REQUIRE(sim::demand::WriteCsv(o, b).ok());
  const std::string text = a.str();
  REQUIRE(text == b.str());
  REQUIRE(text.starts_with("date,sku,qty,on_hand,price\n2025-01-06,SKU-0000001,"));
  REQUIRE(std::count(text.begin(), text.end(), '\n') == 1 + 40 * 60);
  REQUIRE(crypto::ToHex(crypto::Sha256Of(text)) ==
          "06b645a0aad82642c31d200eb6b3db810beef043974d03b2bcb8857e3901cb52");
  o.seed = 8;
  std::ostringstream c;
  REQUIRE(sim::demand::WriteCsv(o, c).ok());
  REQUIRE(c.str() != text);
}

TEST_CASE("demand patterns come 40/30/15/15 with promotions and stock-outs", "[forecast]") {
  sim::demand::Options o;
  o.items = 10000;
  o.days = 365;
  int count[4] = {};
  int promo = 0, out = 0, hidden = 0;
  for (int i = 0; i < o.items; ++i) {
    const sim::demand::Item item = sim::demand::Generate(o, i);
    ++count[static_cast<int>(item.pattern)];
    promo += item.promo_days;
    out += item.stockout_days;
    for (int t = 0; t < o.days; ++t) {
      if (item.on_hand[t] <= 0) {
        REQUIRE(item.qty[t] <= item.demand[t]);
        hidden += item.qty[t] < item.demand[t];
      } else {
        REQUIRE(item.qty[t] == item.demand[t]);
      }
    }
  }
  // Seed 1's draws, and within sampling error (3 sd) of 40/30/15/15 %.
  REQUIRE(count[0] == 4098);
  REQUIRE(count[1] == 2908);
  REQUIRE(count[2] == 1484);
  REQUIRE(count[3] == 1510);
  REQUIRE(std::abs(count[0] - 4000) < 3 * 49);
  REQUIRE(std::abs(count[1] - 3000) < 3 * 46);
  REQUIRE(std::abs(count[2] - 1500) < 3 * 36);
  REQUIRE(std::abs(count[3] - 1500) < 3 * 36);
  REQUIRE(count[0] + count[1] + count[2] + count[3] == 10000);
  const double days = 10000.0 * 365;
  INFO(promo / days << " " << out / days);
  // Promotions start at 1/60 a day and last 6.5 days on average: ~9.8 %.
  REQUIRE(promo / days == Approx(6.5 / 66.5).epsilon(0.1));
  // Stock-outs start at 0.2..1.2 % a day and last 4 days: ~2.7 %.
  REQUIRE(out / days == Approx(0.027).epsilon(0.15));
  REQUIRE(hidden > 0);
}

TEST_CASE("demand options are checked", "[forecast]") {
  sim::demand::Options o;
  o.items = 0;
  REQUIRE(sim::demand::Check(o).message() == "--items is 1..10000000");
  o = {};
  o.start = "2025-13-01";
  REQUIRE(sim::demand::Check(o).message() == "--start is a YYYY-MM-DD date");
}
