// Stock at the fog (fog/src/stock.h), component by component on a real
// fog.db: receive, count, adjust and order as the worker runs them, sales
// and refunds booked through the read models as ingest books them, and the
// demand history with its censored days. Every figure is recomputed by hand
// in the test.
#include "fog/src/stock.h"

#include <google/protobuf/util/json_util.h>

#include <catch2/catch.hpp>
#include <limits>

#include "fog/src/catalog.h"
#include "storenode/common/catalog.h"
#include "storenode/common/clock.h"
#include "storenode/schemas/forecast.pb.h"
#include "support/run.h"
#include "support/stock.h"

using namespace storenode;
using namespace storenode::testing;

TEST_CASE("stock: catalog reorder columns are optional and take their documented defaults",
          "[stock]") {
  StockFixture f;
  f.ImportCatalog(kItems);
  auto a = fog::CatalogItemOf(*f.db, "SKU-A").value();
  auto b = fog::CatalogItemOf(*f.db, "SKU-B").value();
  auto c = fog::CatalogItemOf(*f.db, "SKU-C").value();
  REQUIRE((a && b && c));
  catalog::ItemReorderTerms ta = catalog::TermsOf(*a), tb = catalog::TermsOf(*b),
                            tc = catalog::TermsOf(*c);
  CHECK(ta.supplier == "Fresh Farms");
  CHECK(ta.lead_time_days == 2);
  CHECK(ta.pack_size == 6);
  CHECK(ta.min_order == 12);
  CHECK(tb.supplier.empty());
  CHECK(catalog::SupplierName(tb.supplier) == "(none)");
  CHECK(tb.lead_time_days == 7);
  CHECK(tb.pack_size == 1);
  CHECK(tb.min_order == 0);
  CHECK(tc.lead_time_days == 7);
  CHECK(tc.pack_size == 4);
  // An item without the columns is byte-identical to before they existed.
  CHECK_FALSE(b->has_reorder());

  catalog::CsvOptions options;
  options.tax_codes = {"A", "B"};
  catalog::ParsedCsv bad = catalog::ParseCsv(
      "sku,barcodes,name,price,tax_code,department,active,pack_size,lead_time_days\n"
      "SKU-D,,D,1,A,d,1,0,\n"
      "SKU-E,,E,1,A,d,1,2,400\n"
      "SKU-F,,F,1,A,d,1,x,3\n",
      options);
  REQUIRE(bad.errors.size() == 3);
  CHECK(bad.errors[0].line() == 2);
  CHECK(bad.errors[0].reason() == "pack_size '0' is not between 1 and 1000000");
  CHECK(bad.errors[1].reason() == "lead_time_days '400' is not between 0 and 365");
  CHECK(bad.errors[2].reason() == "pack_size 'x' is not a whole number");
}

TEST_CASE(
    "stock: receive, sales, refunds and adjust give exact on-hand figures, negative stock "
    "is flagged",
    "[stock]") {
  StockFixture f;
  f.ImportCatalog(kItems);
  const int64_t actions_before = f.Rows("SELECT COUNT(*) FROM actions");
  v1::FogResponse r =
      f.Receive("sku,quantity,cost,note\nSKU-A,10,\"1,25\",crate 7\nSKU-B,3,200,\nSKU-A,2,1.30,\n");
  INFO(r.error());
  REQUIRE(r.ok());
  REQUIRE(r.stock_change().moves_size() == 3);
  CHECK(r.stock_change().moves(0).unit_cost() == 125);
  CHECK(r.stock_change().moves(0).reason() == "crate 7");
  CHECK(r.stock_change().moves(2).unit_cost() == 130);
  CHECK(f.LevelOf("SKU-A").on_hand_milli == 12'000);

  f.Ingest("SKU-A", 4, f.At("2026-12-01", 9));
  f.Ingest("SKU-A", 1, f.At("2026-12-01", 9, 30), /*refund=*/true);
  f.Ingest("SKU-B", 5, f.At("2026-12-01", 10));
  f.clock.Set(f.At("2026-12-01", 11));
  r = f.Adjust("SKU-A", -2, "waste");
  INFO(r.error());
  REQUIRE(r.ok());
  // 10 + 2 received - 4 sold + 1 refunded - 2 wasted; 3 - 5.
  CHECK(f.LevelOf("SKU-A").on_hand_milli == 7'000);
  CHECK(f.LevelOf("SKU-B").on_hand_milli == -2'000);

  v1::StockShowRequest all;
  v1::FogResponse show = f.stock->Show(all);
  REQUIRE(show.ok());
  REQUIRE(show.stock_show().items_size() == 2);
  const v1::StockItem& a = show.stock_show().items(0);
  const v1::StockItem& b = show.stock_show().items(1);
  CHECK(a.sku() == "SKU-A");
  CHECK(a.name() == "Apples");
  CHECK(a.supplier() == "Fresh Farms");
  CHECK(a.on_hand_milli() == 7'000);
  CHECK_FALSE(a.negative());
  CHECK(b.on_hand_milli() == -2'000);
  CHECK(b.negative());
  CHECK(show.stock_show().negative_items() == 1);

  v1::StockShowRequest one;
  one.set_sku("SKU-A");
  show = f.stock->Show(one);
  REQUIRE(show.ok());
  REQUIRE(show.stock_show().items(0).moves_size() == 5);
  CHECK(show.stock_show().items(0).moves(0).kind() == "adjust");
  CHECK(show.stock_show().items(0).moves(0).reason() == "waste");
  CHECK(show.stock_show().items(0).moves(0).qty_milli() == -2'000);

  // Each manager change is one signed action with its actor; sales are not.
  CHECK(f.Rows("SELECT COUNT(*) FROM actions") == actions_before + 2);
  CHECK(f.Rows("SELECT COUNT(*) FROM actions WHERE kind = 'stock-receive' AND manager = 'alice' "
               "AND detail LIKE '%3 lines, net 15 units%'") == 1);
  CHECK(f.Rows("SELECT COUNT(*) FROM actions WHERE kind = 'stock-adjust'") == 1);
}

TEST_CASE("stock: a refused file or request changes nothing and names the line", "[stock]") {
  StockFixture f;
  f.ImportCatalog(kItems);
  REQUIRE(f.Receive("sku,quantity,cost\nSKU-A,5,100\n").ok());
  const int64_t moves = f.Rows("SELECT COUNT(*) FROM stock_moves");
  const int64_t actions = f.Rows("SELECT COUNT(*) FROM actions");
  auto refused = [&](const v1::FogResponse& r, const std::string& error) {
    CHECK_FALSE(r.ok());
    CHECK(r.error() == error);
    CHECK(f.Rows("SELECT COUNT(*) FROM stock_moves") == moves);
    CHECK(f.Rows("SELECT COUNT(*) FROM actions") == actions);
    CHECK(f.Rows("SELECT COUNT(*) FROM stock_on_order") == 0);
    CHECK(f.LevelOf("SKU-A").on_hand_milli == 5'000);
  };
  refused(f.Receive("sku,quantity,cost\nSKU-A,5,100\nSKU-A,1,100\nSKU-X,1,100\n"),
          "1 bad line(s), nothing applied; first: line 4: unknown sku 'SKU-X' (not in the "
          "catalog)");
  refused(f.Receive("sku,quantity,cost\nSKU-A,2.5,100\nSKU-A,-1,100\nSKU-A,1,-3\n"),
          "3 bad line(s), nothing applied; first: line 2: quantity '2.5' is not a whole number "
          "(the item is sold by the piece)");
  refused(f.Receive("sku,qty,cost\nSKU-A,1,1\n"), "line 1: unknown column 'qty'");
  refused(f.Receive("sku,cost\nSKU-A,1\n"), "line 1: missing column 'quantity'");
  refused(f.Receive(""), "the file is empty (want a header line)");
  refused(f.Receive("sku,quantity,cost\n\"SKU-A,1,1\n"),
          "1 bad line(s), nothing applied; first: line 2: unterminated quoted field");
  std::string big = "sku,quantity,cost\n";
  while (big.size() <= fog::kMaxStockFileBytes) big += "SKU-A,1,100\n";
  refused(f.Receive(big),
          "the file is " + std::to_string(big.size()) + " bytes, over the 4194304-byte limit");
  std::string many = "sku,quantity,cost\n";
  for (size_t i = 0; i <= fog::kMaxStockLines; ++i) many += "SKU-A,1,1\n";
  refused(f.Receive(many), "the file has 50001 lines, over the limit of 50000");
  refused(f.Count("sku,counted\nSKU-A,3\nSKU-A,4\n", 0),
          "1 bad line(s), nothing applied; first: line 3: sku SKU-A is counted twice (also on "
          "line 2)");
  refused(f.Count("sku,counted\nSKU-A,3\n", f.clock.NowMicros() + 3'600'000'000),
          "the count's time is in the future (the fog's clock is 2026-12-01T08:00:00Z)");
  refused(f.Count("sku,counted\nSKU-A,3\n", std::numeric_limits<int64_t>::min()),
          "the count's time is more than 30 days ago");
  refused(f.Adjust("SKU-A", -1, "theft"), "reason 'theft' is not waste, shrink, damage or other");
  refused(f.Adjust("SKU-X", -1, "waste"), "unknown sku 'SKU-X' (not in the catalog)");
  refused(f.Adjust("SKU-A", 0, "waste"), "qty must be non-zero and at most 1000000000 units");
  v1::StockAdjustRequest huge;
  huge.set_sku("SKU-A");
  huge.set_qty_milli(std::numeric_limits<int64_t>::min());
  huge.set_reason("waste");
  huge.set_request_id("huge");
  refused(f.stock->Adjust(huge, "alice"), "qty must be non-zero and at most 1000000000 units");
  huge.set_qty_milli(-1500);
  refused(f.stock->Adjust(huge, "alice"),
          "qty must be a whole number of units (SKU-A is sold by the piece)");
  v1::StockAdjustRequest no_id;
  no_id.set_sku("SKU-A");
  no_id.set_qty_milli(-1000);
  no_id.set_reason("waste");
  refused(f.stock->Adjust(no_id, "alice"),
          "the request has no request_id (or one over 64 bytes): storectl sets one");
}

TEST_CASE("stock: a request_id is applied once, its repeat gets the first answer", "[stock]") {
  StockFixture f;
  f.ImportCatalog(kItems);
  v1::FogResponse first = f.Receive("sku,quantity,cost\nSKU-A,5,100\n", "delivery-1");
  REQUIRE(first.ok());
  v1::FogResponse again = f.Receive("sku,quantity,cost\nSKU-A,5,100\n", "delivery-1");
  REQUIRE(again.ok());
  CHECK(again.stock_change().repeated_request());
  CHECK(again.stock_change().moves_size() == 1);
  CHECK(f.LevelOf("SKU-A").on_hand_milli == 5'000);
  CHECK(f.Rows("SELECT COUNT(*) FROM actions WHERE kind = 'stock-receive'") == 1);
}

TEST_CASE("stock: on order grows with an order and shrinks with what is received, never below 0",
          "[stock]") {
  StockFixture f;
  f.ImportCatalog(kItems);
  v1::StockOrderRequest order;
  order.set_csv("sku,qty\nSKU-A,24\nSKU-C,8\n");
  order.set_request_id("o1");
  REQUIRE(f.stock->Order(order, "alice").ok());
  CHECK(f.LevelOf("SKU-A").on_order_milli == 24'000);
  REQUIRE(f.Receive("sku,quantity,cost\nSKU-A,18,100\nSKU-C,10,100\n").ok());
  CHECK(f.LevelOf("SKU-A").on_order_milli == 6'000);
  CHECK(f.LevelOf("SKU-A").on_hand_milli == 18'000);
  CHECK(f.LevelOf("SKU-C").on_order_milli == 0);
}

TEST_CASE(
    "stock: a count in the middle of a day fixes the level at its time, also against a "
    "sale made before it that arrives after it",
    "[stock]") {
  StockFixture f;
  f.ImportCatalog(kItems);
  const std::string day = "2026-12-01";
  REQUIRE(f.Receive("sku,quantity,cost\nSKU-A,20,100\n").ok());  // 08:00
  f.Ingest("SKU-A", 3, f.At(day, 10));                           // 17 on the book
  f.clock.Set(f.At(day, 12));
  // Counted 15 at 12:00: 2 missing. A till that is offline sold 1 at 11:00,
  // which the fog does not know yet: the shelf already lacked it.
  v1::FogResponse r = f.Count("sku,counted\nSKU-A,15\n", 0);
  INFO(r.error());
  REQUIRE(r.ok());
  const v1::StockMove& count = r.stock_change().moves(0);
  CHECK(count.book_milli() == 17'000);
  CHECK(count.counted_milli() == 15'000);
  CHECK(count.qty_milli() == -2'000);
  CHECK(count.at_us() == f.At(day, 12));
  CHECK(f.LevelOf("SKU-A").on_hand_milli == 15'000);

  f.Ingest("SKU-A", 1, f.At(day, 11));  // the offline till's sale arrives
  CHECK(f.LevelOf("SKU-A").on_hand_milli == 15'000);
  CHECK(f.Rows("SELECT qty_milli FROM stock_moves WHERE kind = 'count_late'") == 1'000);
  CHECK(f.Rows("SELECT at_us FROM stock_moves WHERE kind = 'count_late'") == f.At(day, 12));
  f.Ingest("SKU-A", 2, f.At(day, 13));  // after the count: counts against it
  CHECK(f.LevelOf("SKU-A").on_hand_milli == 13'000);
  f.Ingest("SKU-A", 1, f.At(day, 14), /*refund=*/true);
  CHECK(f.LevelOf("SKU-A").on_hand_milli == 14'000);

  // A count typed in later, of 15:00: the book then excludes a sale at
  // 15:30 that is already stored, which counts against the counted level.
  f.Ingest("SKU-A", 4, f.At(day, 15, 30));  // 10 on the book
  f.clock.Set(f.At(day, 16));
  r = f.Count("sku,counted\nSKU-A,12\n", f.At(day, 15));
  REQUIRE(r.ok());
  CHECK(r.stock_change().moves(0).book_milli() == 14'000);
  CHECK(r.stock_change().moves(0).qty_milli() == -2'000);
  CHECK(f.LevelOf("SKU-A").on_hand_milli == 8'000);  // 12 counted, 4 sold after
  // A late sale of 14:00 is absorbed by the earliest count after it (15:00),
  // which leaves both counts' levels as counted.
  f.Ingest("SKU-A", 1, f.At(day, 14, 30));
  CHECK(f.LevelOf("SKU-A").on_hand_milli == 8'000);
  CHECK(f.Rows("SELECT COUNT(*) FROM stock_moves WHERE kind = 'count_late' AND at_us = " +
               std::to_string(f.At(day, 15))) == 1);
  CHECK(f.Rows("SELECT COUNT(*) FROM actions WHERE kind = 'stock-count' AND manager = 'bob'") == 2);

  // Demand that day: 3 + 1 + 2 - 1 + 4 + 1 sold, net of the refund.
  auto h = fog::DemandHistoryOf(*f.db, {"SKU-A"}, day, 1);
  REQUIRE(h.ok());
  CHECK(h->at(0).days.at(0).qty == 10);
  CHECK_FALSE(h->at(0).days.at(0).censored);
}

TEST_CASE(
    "stock: demand history marks a day censored when the shelf was empty at a sale or at "
    "the day's end, and only once stock is tracked",
    "[stock]") {
  StockFixture f;
  f.ImportCatalog(kItems);
  auto on = [&](const std::string& day, int hour) { f.clock.Set(f.At(day, hour)); };
  on("2026-12-01", 8);
  REQUIRE(f.Receive("sku,quantity,cost\nSKU-A,5,100\n").ok());
  f.Ingest("SKU-A", 2, f.At("2026-12-01", 10));  // 3 left: a normal day
  f.Ingest("SKU-A", 3, f.At("2026-12-02", 10));  // 0 after this sale
  // 2026-12-03: nothing sold, nothing on the shelf
  on("2026-12-04", 8);
  REQUIRE(f.Receive("sku,quantity,cost\nSKU-A,10,100\n").ok());
  f.Ingest("SKU-A", 1, f.At("2026-12-04", 10));  // 9 at the end
  f.Ingest("SKU-A", 9, f.At("2026-12-05", 10));  // emptied, then restocked the same day
  on("2026-12-05", 18);
  REQUIRE(f.Receive("sku,quantity,cost\nSKU-A,4,100\n").ok());
  // SKU-B is sold but never received or counted: its book knows no stock,
  // so no day is censored.
  f.Ingest("SKU-B", 2, f.At("2026-12-02", 11));

  auto h = fog::DemandHistoryOf(*f.db, {"SKU-A", "SKU-B", "SKU-C"}, "2026-12-05", 6);
  REQUIRE(h.ok());
  REQUIRE(h->size() == 3);
  const fog::Series& a = h->at(0);
  CHECK(a.first_day == "2026-11-30");
  CHECK(fog::FirstWeekday(a) == 0);  // a Monday
  REQUIRE(a.days.size() == 6);
  const double qty[] = {0, 2, 3, 0, 1, 9};
  const bool censored[] = {false, false, true, true, false, true};
  for (size_t i = 0; i < 6; ++i) {
    INFO("day " << i);
    CHECK(a.days[i].qty == qty[i]);
    CHECK(a.days[i].censored == censored[i]);
  }
  const fog::Series& b = h->at(1);
  CHECK(b.days[2].qty == 2);
  for (const auto& d : b.days) CHECK_FALSE(d.censored);
  const fog::Series& c = h->at(2);
  for (const auto& d : c.days) CHECK((d.qty == 0 && !d.censored));

  auto all = fog::DemandHistory(*f.db, 6);
  REQUIRE(all.ok());
  REQUIRE(all->size() == 2);  // the items that sold
  CHECK(all->at(0).sku == "SKU-A");
  CHECK(all->at(0).price == 100);
  CHECK(all->at(1).price == 250);
}

TEST_CASE("storectl forecast backtest runs on the store's own history in fog.db by default",
          "[stock][forecast]") {
  StockFixture f;
  f.ImportCatalog(kItems);
  // 120 days of sales from 2026-06-01 (a Monday): SKU-A 2 a day and 6 on
  // Saturdays, SKU-C 1 every third day; SKU-B never sells.
  constexpr int64_t kDay = 86'400'000'000;
  const int64_t first = StockFixture::At("2026-06-01", 12);
  int64_t sold_a = 0;
  for (int d = 0; d < 120; ++d) {
    const int64_t qa = d % 7 == 5 ? 6 : 2;
    f.Ingest("SKU-A", qa, first + d * kDay);
    sold_a += qa;
    if (d % 3 == 0) f.Ingest("SKU-C", 1, first + d * kDay + 1);
  }
  REQUIRE(sold_a == 17 * 6 + 103 * 2);
  Ran r = RunTool(f.dir, "storectl",
                  {"forecast", "backtest", "--data", f.dir, "--origins", "2", "--horizon", "14",
                   "--format", "json"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  v1::BacktestReport report;
  REQUIRE(google::protobuf::util::JsonStringToMessage(r.out, &report).ok());
  CHECK(report.series() == 2);  // the items that sold
  CHECK(report.days() == 364);  // the history's days, up to the last day with sales
  CHECK(report.last_date() == "2026-09-28");
  REQUIRE(report.origins_size() == 2);
  CHECK(report.origins(1) == "2026-09-15");  // the last 14 days are the last origin's test
  // Two series, two origins, 14 days each: 56 series-days measured per method.
  CHECK(report.test_days() == 56);
  CHECK(report.censored_days() == 0);  // no stock was ever received or counted
}

TEST_CASE("stock: sales and refunds book one row per item and business day, not per event",
          "[stock]") {
  StockFixture f;
  f.ImportCatalog(kItems);
  const std::string day = "2026-12-01";
  for (int k = 0; k < 5; ++k) f.Ingest("SKU-A", k + 1, f.At(day, 9 + k));  // 15 sold
  f.Ingest("SKU-A", 2, f.At(day, 15), /*refund=*/true);
  f.Ingest("SKU-A", 4, f.At("2026-12-02", 9));
  CHECK(f.Rows("SELECT COUNT(*) FROM stock_moves") == 3);
  CHECK(f.Rows("SELECT qty_milli FROM stock_moves WHERE kind = 'day_sales' AND business_day = '" +
               day + "'") == -15'000);
  CHECK(f.Rows("SELECT qty_milli FROM stock_moves WHERE kind = 'day_refunds'") == 2'000);
  CHECK(f.Rows("SELECT at_us FROM stock_moves WHERE kind = 'day_refunds'") == DayStartMicros(day));
  CHECK(f.LevelOf("SKU-A").on_hand_milli == -17'000);
  auto h = fog::DemandHistoryOf(*f.db, {"SKU-A"}, "2026-12-02", 2);
  REQUIRE(h.ok());
  CHECK(h->at(0).days.at(0).qty == 13);
  CHECK(h->at(0).days.at(1).qty == 4);
}

TEST_CASE(
    "stock: a measured line books its thousandths of the unit, a training-mode event books "
    "nothing, in the level, a count's book and the demand history",
    "[stock]") {
  StockFixture f;
  f.ImportCatalog(kItems);
  const std::string day = "2026-12-01";
  REQUIRE(f.Receive("sku,quantity,cost\nSKU-C,10,100\n").ok());  // 08:00
  auto measured = [](int64_t milli) {
    v1::SaleLine l;
    l.set_sku("SKU-C");
    l.set_unit(v1::UNIT_KG);
    l.set_qty_milli(milli);
    l.set_unit_price(1000);
    l.set_gross(milli);
    return l;
  };
  f.IngestLines({measured(1'234), measured(250)}, f.At(day, 9));      // 1.484 kg
  f.IngestLines({measured(500)}, f.At(day, 9, 30), /*refund=*/true);  // 0.5 kg back
  f.IngestLines({measured(3'000)}, f.At(day, 10), false, /*training=*/true);
  CHECK(f.LevelOf("SKU-C").on_hand_milli == 10'000 - 1'484 + 500);
  CHECK(f.Rows("SELECT COUNT(*) FROM stock_moves WHERE kind = 'day_sales'") == 1);

  f.clock.Set(f.At(day, 11));
  v1::FogResponse r = f.Count("sku,counted\nSKU-C,9\n", 0);
  INFO(r.error());
  REQUIRE(r.ok());
  CHECK(r.stock_change().moves(0).book_milli() == 9'016);
  CHECK(r.stock_change().moves(0).qty_milli() == -16);
  // A training sale before the count, arriving after it, is no late sale.
  f.IngestLines({measured(700)}, f.At(day, 10, 30), false, /*training=*/true);
  CHECK(f.Rows("SELECT COUNT(*) FROM stock_moves WHERE kind = 'count_late'") == 0);
  CHECK(f.LevelOf("SKU-C").on_hand_milli == 9'000);

  auto h = fog::DemandHistoryOf(*f.db, {"SKU-C"}, day, 1);
  REQUIRE(h.ok());
  CHECK(h->at(0).days.at(0).qty == Approx(0.984).margin(1e-12));
  CHECK_FALSE(h->at(0).days.at(0).censored);
}

TEST_CASE(
    "stock: a day the day rows cannot decide is censored from the order of its stored "
    "events",
    "[stock]") {
  // SKU-A: 1 received on 2026-12-01; on 2026-12-02 one sale of 1 and one
  // refund of 1, in either order; end of day 1 on the shelf either way.
  struct Case {
    const char* name;
    int sale_hour, refund_hour;
    bool censored;
  };
  const Case cases[] = {
      {"the sale empties the shelf, the refund refills it", 10, 11, true},
      {"the refund comes first: the sale leaves 1", 11, 10, false},
  };
  for (const Case& c : cases) {
    DYNAMIC_SECTION(c.name) {
      StockFixture f;
      f.ImportCatalog(kItems);
      REQUIRE(f.Receive("sku,quantity,cost\nSKU-A,1,100\n").ok());
      f.Ingest("SKU-A", 1, f.At("2026-12-02", c.sale_hour));
      f.Ingest("SKU-A", 1, f.At("2026-12-02", c.refund_hour), /*refund=*/true);
      CHECK(f.LevelOf("SKU-A").on_hand_milli == 1'000);
      auto h = fog::DemandHistoryOf(*f.db, {"SKU-A"}, "2026-12-02", 2);
      REQUIRE(h.ok());
      CHECK_FALSE(h->at(0).days.at(0).censored);
      CHECK(h->at(0).days.at(1).qty == 0);
      CHECK(h->at(0).days.at(1).censored == c.censored);
    }
  }
}

TEST_CASE(
    "stock: a measured item takes thousandths in every manager file, a piece item whole units",
    "[stock][weighed]") {
  StockFixture f;
  f.ImportCatalog(
      "sku,barcodes,name,price,tax_code,department,active,unit\n"
      "CHEESE,2001,Gouda,1890,A,dairy,1,kg\n"
      "SKU-A,1001,Apples,100,A,fruit,1,\n");
  // A delivery of 12.5 kg, then 3.25 kg counted (a decimal comma, quoted),
  // 0.75 kg wasted, 20.125 kg on order.
  REQUIRE(f.Receive("sku,quantity,cost\nCHEESE,12.5,900\nSKU-A,6,40\n").ok());
  CHECK(f.LevelOf("CHEESE").on_hand_milli == 12'500);
  REQUIRE(f.Count("sku,counted\nCHEESE,\"3,250\"\n", 0).ok());
  CHECK(f.LevelOf("CHEESE").on_hand_milli == 3'250);
  v1::StockAdjustRequest waste;
  waste.set_sku("CHEESE");
  waste.set_qty_milli(-750);
  waste.set_reason("waste");
  waste.set_request_id("w1");
  v1::FogResponse wasted = f.stock->Adjust(waste, "alice");
  INFO(wasted.error());
  REQUIRE(wasted.ok());
  CHECK(f.LevelOf("CHEESE").on_hand_milli == 2'500);
  v1::StockOrderRequest order;
  order.set_csv("sku,qty\nCHEESE,20.125\n");
  order.set_request_id("o1");
  REQUIRE(f.stock->Order(order, "alice").ok());
  CHECK(f.LevelOf("CHEESE").on_order_milli == 20'125);

  // Refused, and nothing booked: a fourth decimal, a fraction of a piece,
  // a stray character.
  const int64_t moves = f.Rows("SELECT COUNT(*) FROM stock_moves");
  v1::FogResponse bad =
      f.Receive("sku,quantity,cost\nCHEESE,1.2345,900\nSKU-A,0.5,40\nCHEESE,1.5kg,900\n");
  CHECK_FALSE(bad.ok());
  REQUIRE(bad.stock_change().errors_size() == 3);
  CHECK(bad.stock_change().errors(0).reason() == "quantity '1.2345' has more than 3 decimals");
  CHECK(bad.stock_change().errors(1).reason() ==
        "quantity '0.5' is not a whole number (the item is sold by the piece)");
  CHECK(bad.stock_change().errors(2).reason() == "quantity '1.5kg' is not a quantity");
  CHECK(f.Rows("SELECT COUNT(*) FROM stock_moves") == moves);
  CHECK(f.LevelOf("CHEESE").on_hand_milli == 2'500);
}
