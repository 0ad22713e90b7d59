// The backtest (fog/src/backtest.h): its measures on a tiny history worked
// out by hand, what a censored day does, the history file's refusals, and
// the default methods' standing on pos-sim's demand histories.
#include "fog/src/backtest.h"

#include <google/protobuf/util/json_util.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "sim/demand.h"
#include "support/harness.h"
#include "support/run.h"

using namespace storenode;
using namespace storenode::fog;

namespace {

// 56 training days 0, 2, 0, 2, ... (ending on 2), then `test`.
backtest::History Tiny(std::vector<forecast::Day> test) {
  backtest::Series s;
  s.sku = "A";
  s.first_day = "2025-01-06";
  for (int t = 0; t < 56; ++t) s.days.push_back({t % 2 == 0 ? 0.0 : 2.0, false});
  s.days.insert(s.days.end(), test.begin(), test.end());
  return {"2025-01-06", {s}};
}

backtest::Options NaiveOnly(int horizon) {
  backtest::Options o;
  o.origins = 1;
  o.horizon = horizon;
  o.lead_days = 0;
  o.review_days = 1;
  o.service_level = 0.9;
  o.methods = {forecast::Method::kNaive};
  return o;
}

const v1::BacktestMeasures& All(const v1::BacktestReport& r, std::string_view method) {
  for (const auto& m : r.measures()) {
    if (m.method() == method && m.demand_class() == "all") return m;
  }
  FAIL("no measures of " << method);
  return r.measures(0);
}

}  // namespace

TEST_CASE("RMSSE, bias, pinball and the reorder simulation on a hand-worked history",
          "[forecast]") {
  // Naive forecasts 2 for the test days 4 and 0: MSE 4; the naive scale
  // (every difference is 2) is 4 squared and 2 absolute, so RMSSE 1.
  // Quantiles: NB mean 2, variance 4 -> q50 1, q90 5 (forecast_test.cc).
  // Pinball 0.5: (0.5 x 3 + 0.5 x 1) / 2 / 2 = 0.5; 0.9: (0.1 x 1 + 0.1 x 5)
  // / 2 / 2 = 0.15. Bias (2 - 4 + 2 - 0) / 4 = 0. Reorder, S = q90 of one day
  // = 5: day 0 sells 4 of 5 (1 left), day 1 orders 4 and sells 0 (5 left):
  // fill 1, mean stock 3.
  Result<v1::BacktestReport> r = backtest::Run(Tiny({{4, false}, {0, false}}), NaiveOnly(2));
  REQUIRE(r.ok());
  const v1::BacktestMeasures& m = All(*r, "naive");
  REQUIRE(m.pairs() == 1);
  REQUIRE(m.scaled_pairs() == 1);
  REQUIRE(m.rmsse() == Approx(1));
  REQUIRE(m.wrmsse() == Approx(1));
  REQUIRE(m.bias() == Approx(0).margin(1e-12));
  REQUIRE(m.pinball50() == Approx(0.5));
  REQUIRE(m.pinball90() == Approx(0.15));
  REQUIRE(m.coverage90() == 1);
  REQUIRE(m.fill_rate() == 1);
  REQUIRE(m.avg_stock() == Approx(3));
  REQUIRE(r->origins_size() == 1);
  REQUIRE(r->origins(0) == "2025-03-03");  // 56 days after 2025-01-06
  REQUIRE(r->test_days() == 2);
}

TEST_CASE("a censored test day is in no measure but still sells from stock", "[forecast]") {
  // The same days with a censored 100 between them: the same RMSSE and
  // pinball; the stock sells out on it (1 + 4 ordered = 5, all gone), then
  // refills to 5: mean stock (1 + 0 + 5) / 3 = 2, fill still 4 / 4.
  Result<v1::BacktestReport> r =
      backtest::Run(Tiny({{4, false}, {100, true}, {0, false}}), NaiveOnly(3));
  REQUIRE(r.ok());
  const v1::BacktestMeasures& m = All(*r, "naive");
  REQUIRE(m.rmsse() == Approx(1));
  REQUIRE(m.pinball50() == Approx(0.5));
  REQUIRE(m.bias() == Approx(0).margin(1e-12));
  REQUIRE(m.fill_rate() == 1);
  REQUIRE(m.avg_stock() == Approx(2));
  REQUIRE(r->test_days() == 2);
  REQUIRE(r->censored_days() == 1);
}

TEST_CASE("the backtest refuses too short a history and bad options", "[forecast]") {
  backtest::Options o;
  Result<v1::BacktestReport> r = backtest::Run(Tiny({{1, false}}), o);
  REQUIRE_FALSE(r.ok());
  REQUIRE(r.status().message() ==
          "the history has 57 days; 6 origins of 28 days need at least 224");
  o.lead_days = 30;
  REQUIRE(backtest::Check(o).message() == "--lead + --review must not exceed --horizon");
}

TEST_CASE("the history file: columns, gaps, censored days, prices", "[forecast]") {
  Result<backtest::History> h = backtest::ParseHistoryCsv(
      "sku,date,qty,on_hand,price\n"
      "B,2025-01-08,2,5,1.50\n"
      "A,2025-01-06,3,4,\n"
      "A,2025-01-08,1,0,\n"
      "\n"
      "B,2025-01-09,4,3,1.75\r\n");
  REQUIRE(h.ok());
  REQUIRE(h->first_date == "2025-01-06");
  REQUIRE(h->series.size() == 2);
  const backtest::Series& a = h->series[0];
  REQUIRE(a.sku == "A");
  REQUIRE(a.days.size() == 4);
  REQUIRE((a.days[0].qty == 3 && !a.days[0].censored));
  REQUIRE((a.days[1].qty == 0 && !a.days[1].censored));  // a gap: zero demand
  REQUIRE((a.days[2].qty == 1 && a.days[2].censored));   // on_hand 0
  REQUIRE(a.price == 0);
  const backtest::Series& b = h->series[1];
  REQUIRE((b.days[0].censored && b.days[1].censored));  // before B's first row
  REQUIRE((b.days[2].qty == 2 && !b.days[2].censored));
  REQUIRE(b.price == 1.75);
}

TEST_CASE("the history file's refusals name the line", "[forecast]") {
  auto reason = [](std::string_view text, backtest::CsvLimits limits = {}) {
    Result<backtest::History> h = backtest::ParseHistoryCsv(text, limits);
    return h.ok() ? std::string("ok") : h.status().message();
  };
  const std::string header = "date,sku,qty\n";
  REQUIRE(reason(header + "2025-01-06,A,1\n2025-02-30,A,1\n") == "line 3: bad date '2025-02-30'");
  REQUIRE(reason(header + "06/01/2025,A,1\n") == "line 2: bad date '06/01/2025'");
  REQUIRE(reason(header + "2025-01-06,A,-1\n") == "line 2: qty '-1' is not a number from 0 to 1e9");
  REQUIRE(reason(header + "2025-01-06,A,x\n") == "line 2: qty 'x' is not a number from 0 to 1e9");
  REQUIRE(reason(header + "2025-01-06,A\n") == "line 2: 2 fields, the header has 3");
  REQUIRE(reason(header + "2025-01-06,,1\n") == "line 2: the sku is empty or longer than 64");
  REQUIRE(reason("date,sku,qty,colour\n") == "line 1: unknown column 'colour'");
  REQUIRE(reason("date,qty\n") ==
          "line 1: the header must name date, sku and qty (and optionally on_hand, price)");
  REQUIRE(reason(header + "2025-01-06,A,1\n2025-01-06,A,2\n") ==
          "sku A has two rows for 2025-01-06");
  REQUIRE(reason(header) == "the history file has no rows");
  backtest::CsvLimits small;
  small.max_bytes = 20;
  REQUIRE(reason(header + "2025-01-06,A,1\n", small) == "the history file is larger than 20 bytes");
  small = {};
  small.max_rows = 1;
  REQUIRE(reason(header + "2025-01-06,A,1\n2025-01-07,A,1\n", small) == "line 3: more than 1 rows");
  small = {};
  small.max_days = 10;
  REQUIRE(reason(header + "2025-01-01,A,1\n2025-01-11,A,1\n", small) ==
          "line 3: the dates span more than 10 days");
}

TEST_CASE(
    "on pos-sim's demand histories the defaults are best per class and beat the "
    "baselines",
    "[forecast]") {
  // 1,000 items x 730 days, seed 1: the figures of docs/FORECAST.md, read
  // one item at a time as the fog's source would give them.
  sim::demand::Options d;
  d.items = 1000;
  d.days = 730;
  d.seed = 1;
  int next = 0;
  auto source = [&](backtest::Series* s) -> Result<bool> {
    if (next == d.items) return false;
    const sim::demand::Item item = sim::demand::Generate(d, next++);
    s->sku = item.sku;
    s->price = item.price;
    s->days.clear();
    for (int t = 0; t < d.days; ++t) s->days.push_back({item.qty[t], item.on_hand[t] <= 0});
    return true;
  };
  Result<v1::BacktestReport> r = backtest::Run(d.start, d.days, source, backtest::Options{});
  REQUIRE(r.ok());
  REQUIRE(r->choices_size() == 4);
  for (const v1::BacktestClassChoice& c : r->choices()) {
    INFO(c.demand_class());
    REQUIRE(c.default_method() == c.best_method());
    REQUIRE(c.default_rmsse() < c.best_baseline_rmsse());
  }
  REQUIRE(r->default_vs_snaive() >= 0.15);
  REQUIRE(r->series() == 1000);
  REQUIRE(r->test_days() == 163477);
  REQUIRE(r->censored_days() == 4523);
}

TEST_CASE("a source's error ends the backtest with it", "[forecast]") {
  auto failing = [](backtest::Series*) -> Result<bool> { return Status::Io("fog.db is gone"); };
  Result<v1::BacktestReport> r = backtest::Run("2025-01-06", 400, failing, backtest::Options{});
  REQUIRE(r.status().message() == "fog.db is gone");
}

TEST_CASE("pos-sim demand feeds storectl forecast backtest, and bad files are refused",
          "[forecast]") {
  const std::string dir = testing::MakeTempDir("forecast-cli-");
  const std::string csv = dir + "/d.csv";
  testing::Ran gen = testing::RunTool(
      dir, "pos-sim", {"demand", "--items", "200", "--days", "400", "--seed", "3", "--out", csv});
  REQUIRE(gen.code == 0);
  REQUIRE(gen.out.starts_with("{\"items\":200,\"days\":400,\"rows\":80000,"));
  testing::Ran json = testing::RunTool(
      dir, "storectl", {"forecast", "backtest", "--history", csv, "--format", "json"});
  REQUIRE(json.code == 0);
  v1::BacktestReport parsed;
  REQUIRE(google::protobuf::util::JsonStringToMessage(json.out, &parsed).ok());
  REQUIRE(parsed.series() == 200);
  REQUIRE(parsed.days() == 400);
  REQUIRE(parsed.origins_size() == 6);
  REQUIRE(parsed.measures_size() == 9 * 5);  // 8 methods and the default, all + 4 classes
  REQUIRE(parsed.first_date() == "2025-01-06");
  {
    std::ofstream bad(dir + "/bad.csv");
    bad << "date,sku,qty,on_hand\n2025-01-06,A,1,3\n2025-01-07,A,-2,3\n";
  }
  testing::Ran refused =
      testing::RunTool(dir, "storectl", {"forecast", "backtest", "--history", dir + "/bad.csv"});
  REQUIRE(refused.code == 2);
  REQUIRE(refused.err ==
          "storectl: " + dir + "/bad.csv: line 3: qty '-2' is not a number from 0 to 1e9\n");
  // Without --history: the store's own, in --data's fog.db (tests/stock_test.cc).
  testing::Ran none =
      testing::RunTool(dir, "storectl", {"forecast", "backtest", "--data", dir + "/no-fog"});
  REQUIRE(none.code == 2);
  REQUIRE(none.err == "storectl: " + dir + "/no-fog/fog.db does not exist\n");
}
