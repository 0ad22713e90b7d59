// Reorder suggestions (fog/src/reorder.h): the arithmetic from the
// order-up-to level to a suggested order, table-driven with its rounding
// edge cases, and the background job's run over a real fog.db, each
// suggestion recomputed from the same history here.
#include "fog/src/reorder.h"

#include <catch2/catch.hpp>

#include "fog/src/forecast.h"
#include "support/stock.h"

using namespace storenode;
using namespace storenode::testing;

TEST_CASE("reorder: the suggested order rounds up to whole packs and to the minimum order",
          "[stock][reorder]") {
  struct Row {
    double order_up_to;
    int64_t on_hand_milli, on_order_milli;
    uint32_t pack, min_order;
    int64_t want;
  };
  const Row rows[] = {
      {10, 10'000, 0, 1, 0, 0},     // exactly at S: nothing
      {10, 12'000, 0, 1, 0, 0},     // above S: nothing, never negative
      {10, 9'000, 0, 1, 0, 1},      // one short
      {10, 4'000, 0, 6, 0, 6},      // 6 short: exactly one pack
      {10, 3'000, 0, 6, 0, 12},     // 7 short: a second pack
      {10, 3'000, 1'000, 6, 0, 6},  // on order counts like on hand
      {10, 9'500, 0, 6, 0, 6},      // half a unit short: a whole pack
      {10, 9'999, 0, 1, 0, 1},      // a thousandth short: a whole unit
      {10, 9'000, 0, 1, 5, 5},      // 1 short, below the minimum: the minimum
      {10, 9'000, 0, 4, 5, 8},      // the minimum rounded up to packs
      {10, 9'000, 0, 4, 8, 8},      // the minimum already whole packs
      {10, 10'000, 0, 4, 8, 0},     // no need: no minimum order either
      {24, 0, 0, 12, 30, 36},       // 24 short = 2 packs, under 30: 3 packs
      {24, 0, 0, 12, 24, 24},       // at the minimum
      {0, -3'000, 0, 1, 0, 3},      // a negative book is made good up to S
      {10, 4'000, 0, 0, 0, 6},      // pack 0 (never stored) is taken as 1
      {0, 0, 0, 1, 10, 0},          // no demand: nothing, whatever the minimum
      {1000000, 0, 0, 1000, 0, 1000000},
  };
  for (const Row& r : rows) {
    INFO("S " << r.order_up_to << " on hand " << r.on_hand_milli << " on order " << r.on_order_milli
              << " pack " << r.pack << " min " << r.min_order);
    CHECK(fog::SuggestedOrder(r.order_up_to, r.on_hand_milli, r.on_order_milli, r.pack,
                              r.min_order) == r.want);
  }
}

TEST_CASE("reorder: S is the forecast's service-level quantile over lead time plus review",
          "[stock][reorder]") {
  std::vector<fog::forecast::Day> history(56, {3, false});
  const auto f = fog::forecast::Predict(history, 0, 28, fog::forecast::Method::kMovingAverage);
  CHECK(fog::OrderUpTo(f, 2, 7, 0.95) == f.SumQuantile(9, 0.95));
  CHECK(fog::OrderUpTo(f, 0, 0, 0.95) == 0);
  // More service asks for no less stock.
  CHECK(fog::OrderUpTo(f, 2, 7, 0.99) >= fog::OrderUpTo(f, 2, 7, 0.80));
}

TEST_CASE("reorder: the job suggests for every active item from its history, stock and terms",
          "[stock][reorder]") {
  StockFixture f;
  f.ImportCatalog(std::string(kItems) + "SKU-D,1004,Old,100,A,dairy,0,Dairy Co,,,\n");
  REQUIRE(f.Receive("sku,quantity,cost\nSKU-A,10,100\nSKU-C,2,100\n").ok());
  v1::StockOrderRequest order;
  order.set_csv("sku,qty\nSKU-C,4\n");
  order.set_request_id("o1");
  REQUIRE(f.stock->Order(order, "alice").ok());
  // Four weeks of steady sales of SKU-A, 1 to 4 a day.
  for (int d = 0; d < 28; ++d) {
    const std::string day = AddDays("2026-11-08", d);
    f.Ingest("SKU-A", 1 + d % 4, f.At(day, 12));
    if (d % 7 == 0) f.Ingest("SKU-C", 2, f.At(day, 13));
  }
  fog::StockConfig config;  // 95 %, review 7 days, 364 days of history
  int writes = 0;
  fog::ReorderJob job(
      f.dir + "/fog.db", config, f.clock, [] { return std::string("2026-12-06"); },
      [&](std::function<void(sql::Db&)> write) {
        ++writes;
        write(*f.db);
        return true;
      });
  Status s = job.RunOnce();
  INFO(s.ToString());
  REQUIRE(s.ok());
  CHECK(writes == 2);  // one chunk, then the end of the run

  auto read = fog::ReadReorder(*f.db, "", "", true);
  REQUIRE(read.ok());
  CHECK(read->computed_us() == f.clock.NowMicros());
  CHECK(read->history_to() == "2026-12-05");
  REQUIRE(read->items_size() == 3);  // SKU-D is inactive
  // By supplier, then sku: "" (SKU-B), "Dairy Co" (SKU-C), "Fresh Farms" (SKU-A).
  CHECK(read->items(0).sku() == "SKU-B");
  CHECK(read->items(1).sku() == "SKU-C");
  CHECK(read->items(2).sku() == "SKU-A");

  auto history = fog::DemandHistoryOf(*f.db, {"SKU-A", "SKU-C"}, "2026-12-05", 364);
  REQUIRE(history.ok());
  const fog::Level levels[] = {f.LevelOf("SKU-A"), f.LevelOf("SKU-C")};
  CHECK(levels[0].on_hand_milli == 10'000 - 70'000);  // sold 70 of 10 received
  for (int i = 0; i < 2; ++i) {
    const v1::ReorderItem& item = read->items(i == 0 ? 2 : 1);
    const fog::Series& h = history->at(static_cast<size_t>(i));
    const auto c = fog::forecast::Classify(h.days);
    const auto fc = fog::forecast::Predict(h.days, fog::FirstWeekday(h), 28,
                                           fog::forecast::DefaultFor(c.demand_class));
    const int lead = i == 0 ? 2 : 7;
    const uint32_t pack = i == 0 ? 6 : 4, min_order = i == 0 ? 12 : 0;
    INFO(item.sku());
    CHECK(item.demand_class() == fog::forecast::Name(c.demand_class));
    CHECK(item.method() == fog::forecast::Name(fc.method));
    CHECK(item.on_hand_milli() == levels[i].on_hand_milli);
    CHECK(item.on_order_milli() == levels[i].on_order_milli);
    CHECK(item.lead_time_days() == static_cast<uint32_t>(lead));
    CHECK(item.review_days() == 7);
    CHECK(item.order_up_to() == fc.SumQuantile(lead + 7, 0.95));
    CHECK(item.suggested() == fog::SuggestedOrder(item.order_up_to(), levels[i].on_hand_milli,
                                                  levels[i].on_order_milli, pack, min_order));
    CHECK(item.suggested() % pack == 0);
    CHECK(item.history_from() == "2026-10-11");  // the last 56 days
    CHECK(item.history_qty_size() == 56);
    CHECK(item.forecast_from() == "2026-12-06");
    CHECK(item.forecast_daily_mean_size() == 28);
    CHECK(item.forecast_q90_size() == 28);
  }
  CHECK(read->items(2).suggested() > 0);  // SKU-A sells and is far below 0
  CHECK(read->items(2).suggested() >= 60);

  // By supplier, and the default answer leaves out items with nothing to order.
  auto dairy = fog::ReadReorder(*f.db, "Dairy Co", "", true);
  REQUIRE(dairy.ok());
  REQUIRE(dairy->items_size() == 1);
  CHECK(dairy->items(0).sku() == "SKU-C");
  auto none = fog::ReadReorder(*f.db, "(none)", "", true);
  REQUIRE(none.ok());
  REQUIRE(none->items_size() == 1);
  CHECK(none->items(0).sku() == "SKU-B");
  auto wanted = fog::ReadReorder(*f.db, "", "", false);
  REQUIRE(wanted.ok());
  for (const auto& i : wanted->items()) CHECK(i.suggested() > 0);
  CHECK(wanted->items_size() >= 1);
}
