// Foreign cash and exchanges end to end: a real mosquitto, a real fogd, a
// rate sheet imported at the fog and applied by the tills, pos-sim's fx mix
// selling, and the fog's X and Z against pos-sim's own tally, with a
// close-down that counts each foreign drawer.
#include <google/protobuf/util/message_differencer.h>

#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <thread>
#include <tuple>

#include "sim/sim.h"
#include "storenode/common/report_text.h"
#include "support/store.h"

using namespace storenode;
using namespace storenode::testing;
using google::protobuf::util::MessageDifferencer;

namespace {

// The tallies of every till, summed here: fx rows by currency, foreign
// drawers by (device, currency), home fx_cash by device.
struct Expected {
  std::map<std::string, v1::FxTotal> fx;
  std::map<std::pair<std::string, std::string>, v1::ForeignDrawer> drawers;
  std::map<std::string, int64_t> fx_cash;
  int64_t commission = 0, margin = 0;
};

Expected Tallies(const Store& store, const std::string& day) {
  Expected e;
  for (const SimTill& t : store.tills) {
    const v1::DayTotals tally = t.sim->FxTally(day);
    for (const v1::FxTotal& x : tally.fx()) {
      v1::FxTotal& row = e.fx[x.currency()];
      row.set_currency(x.currency());
      row.set_bought_count(row.bought_count() + x.bought_count());
      row.set_bought_foreign(row.bought_foreign() + x.bought_foreign());
      row.set_bought_home(row.bought_home() + x.bought_home());
      row.set_sold_count(row.sold_count() + x.sold_count());
      row.set_sold_foreign(row.sold_foreign() + x.sold_foreign());
      row.set_sold_home(row.sold_home() + x.sold_home());
      row.set_commission(row.commission() + x.commission());
      row.set_margin(row.margin() + x.margin());
      row.set_tendered_count(row.tendered_count() + x.tendered_count());
      row.set_tendered_foreign(row.tendered_foreign() + x.tendered_foreign());
      row.set_tendered_home(row.tendered_home() + x.tendered_home());
      row.set_referenced_count(row.referenced_count() + x.referenced_count());
    }
    for (const v1::ForeignDrawer& d : tally.foreign_drawers()) {
      e.drawers[{d.device_id(), d.currency()}] = d;
    }
    for (const v1::DrawerTotal& d : tally.drawers()) e.fx_cash[d.device_id()] += d.fx_cash();
    e.commission += tally.fx_commission();
    e.margin += tally.fx_margin();
  }
  return e;
}

void RequireFxFigures(const v1::DayTotals& got, const Expected& want) {
  REQUIRE(static_cast<size_t>(got.fx_size()) == want.fx.size());
  for (const v1::FxTotal& x : got.fx()) {
    INFO(x.currency());
    CHECK(MessageDifferencer::Equals(x, want.fx.at(x.currency())));
  }
  REQUIRE(static_cast<size_t>(got.foreign_drawers_size()) == want.drawers.size());
  for (const v1::ForeignDrawer& d : got.foreign_drawers()) {
    INFO(d.device_id() << " " << d.currency());
    CHECK(MessageDifferencer::Equals(d, want.drawers.at({d.device_id(), d.currency()})));
  }
  for (const v1::DrawerTotal& d : got.drawers()) {
    INFO(d.device_id());
    auto it = want.fx_cash.find(d.device_id());
    CHECK(d.fx_cash() == (it == want.fx_cash.end() ? 0 : it->second));
  }
  CHECK(got.fx_commission() == want.commission);
  CHECK(got.fx_margin() == want.margin);
}

}  // namespace

TEST_CASE("fx e2e: a rate sheet imported at the fog and X and Z per currency match pos-sim's tally",
          "[fx][exchange][e2e][integration]") {
  Store store(2);
  REQUIRE(store.fog->Start().ok());

  // A bad sheet changes nothing; the sim's sheet is issued as version 2.
  v1::FogRequest bad;
  bad.mutable_rates_import()->set_csv("currency,buy,sell,mid,effective_from\nUSD,1,0.5,0.7,2000\n");
  bad.mutable_rates_import()->set_file_name("bad.csv");
  auto refused = store.fog->Ask(bad);
  REQUIRE(refused.ok());
  CHECK_FALSE(refused->ok());
  CHECK(refused->error() == "bad.csv: line 2: want buy <= mid <= sell");
  const v1::RatesImportResponse imported = store.ImportRates(sim::SimRateSheetCsv());
  CHECK(imported.settings_version() == 2);
  CHECK(imported.rate_sheet_version() == 1);
  CHECK(imported.rates_size() == 4);

  store.mix = FxOnlyMix();
  for (size_t i = 0; i < 2; ++i) store.OpenSyncedTillOnFogSettings(i);
  for (size_t i = 0; i < 2; ++i) store.Sell(i, 400);
  const std::string day = store.tills[0].journal->business_day();
  REQUIRE(store.WaitSynced());
  INFO(store.fog->Log());
  REQUIRE(store.FogQuarantined() == 0);

  const Expected want = Tallies(store, day);
  REQUIRE(want.fx.size() == 4);
  uint64_t bought = 0, sold = 0, tendered = 0, referenced = 0;
  for (const auto& [c, x] : want.fx) {
    bought += x.bought_count();
    sold += x.sold_count();
    tendered += x.tendered_count();
    referenced += x.referenced_count();
  }
  CHECK(bought > 0);
  CHECK(sold > 0);
  CHECK(tendered > 0);
  CHECK(referenced > 0);

  v1::FogRequest xreq;
  xreq.mutable_report()->set_kind("x");
  xreq.mutable_report()->set_business_day(day);
  auto x = store.fog->Ask(xreq);
  REQUIRE(x.ok());
  REQUIRE(x->ok());
  RequireFxFigures(x->report().x(), want);

  // Close with counts: till-1 USD over by 5.00, till-2 JPY short by 1000
  // yen, the others not counted.
  const auto& drawers = x->report().x().foreign_drawers();
  std::map<std::pair<std::string, std::string>, int64_t> expected;
  for (const auto& d : drawers) expected[{d.device_id(), d.currency()}] = d.expected();
  REQUIRE(expected.count({"till-1", "USD"}) == 1);
  REQUIRE(expected.count({"till-2", "JPY"}) == 1);
  v1::FogRequest close;
  close.mutable_closedown()->set_business_day(day);
  v1::ForeignCount* usd = close.mutable_closedown()->add_counted_foreign();
  usd->set_device_id("till-1");
  usd->set_currency("USD");
  usd->set_counted(expected[{"till-1", "USD"}] + 500);
  v1::ForeignCount* jpy = close.mutable_closedown()->add_counted_foreign();
  jpy->set_device_id("till-2");
  jpy->set_currency("JPY");
  jpy->set_counted(expected[{"till-2", "JPY"}] - 1000);

  // Refused counts change nothing and say why.
  v1::FogRequest wrong = close;
  wrong.mutable_closedown()->mutable_counted_foreign(0)->set_currency("EUR");
  auto no = store.fog->Ask(wrong);
  REQUIRE(no.ok());
  CHECK(no->error() == "foreign count till-1 EUR: not a foreign ISO 4217 currency");

  v1::CloseDownResponse closed;
  for (int i = 0; i < 100 && !closed.closed(); ++i) {
    auto r = store.fog->Ask(close);
    REQUIRE(r.ok());
    INFO(r->error());
    REQUIRE(r->ok());
    closed = r->closedown();
    if (!closed.closed()) std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  REQUIRE(closed.closed());
  const v1::ZReport z = DecodeZ(closed.z());
  RequireFxFigures(z.totals(), want);
  REQUIRE(static_cast<size_t>(z.foreign_counts_size()) == expected.size());
  for (const v1::ForeignDrawerCount& c : z.foreign_counts()) {
    INFO(c.device_id() << " " << c.currency());
    CHECK(c.expected_cash() == expected[{c.device_id(), c.currency()}]);
    if (c.device_id() == "till-1" && c.currency() == "USD") {
      CHECK(c.counted());
      CHECK(c.over_short() == 500);
    } else if (c.device_id() == "till-2" && c.currency() == "JPY") {
      CHECK(c.counted());
      CHECK(c.over_short() == -1000);
    } else {
      CHECK_FALSE(c.counted());
    }
  }
  const std::string text = FormatZText(z, &closed.z());
  CHECK_THAT(text, Catch::Contains("FOREIGN CURRENCY"));
  CHECK_THAT(text, Catch::Contains("DRAWER till-2 JPY"));
  CHECK_THAT(text, Catch::Contains("-1000 JPY"));
  const std::string csv = FormatZCsv(z);
  CHECK_THAT(csv, Catch::Contains("foreign_count:till-1:USD,over_short,5.00"));
}

TEST_CASE("fx e2e: the fog refuses foreign cash its own settings version has no rate sheet for",
          "[fx][exchange][e2e][integration]") {
  Store store(1);
  REQUIRE(store.fog->Start().ok());
  // The till prices by the sim's own settings version 1, with a sheet; the
  // fog's version 1 (from fog.toml) has none.
  SimTill& t = store.tills[0];
  edge::Options o = sim::SimTillOptions(store.dir, store.store_id, sim::SimDeviceId(1));
  o.settings = sim::SimFxSettings(store.store_id);
  t.clock = std::make_unique<ShiftedClock>(0);
  o.clock = t.clock.get();
  t.journal = std::move(edge::Journal::Open(o).value());
  t.sim = std::make_unique<sim::TillSim>(t.journal.get(), 23, 1, FxOnlyMix());
  t.sync = std::move(edge::SyncEngine::Start(t.journal.get(), store.SyncOptionsFor()).value());
  store.Sell(0, 50);
  REQUIRE(
      WaitFor([&] { return store.FogQuarantined("no rate sheet in store settings version 1") > 0; },
              std::chrono::seconds(30)));
}
