// pos-sim's mix of vouchers, tips, card details and shifts: each kind shows
// up, and the simulator's own tally of their figures equals what the
// journal's X (AddToTotals) makes of the recorded events.
#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "sim/sim.h"
#include "storenode/common/journal_format.h"
#include "storenode/edge.h"
#include "support/harness.h"
#include "support/tender_figures.h"

using namespace storenode;
using storenode::testing::FigureDiff;
using storenode::testing::TenderFigures;

TEST_CASE("the full mix tallies vouchers, tips, cards and shifts exactly as the X counts them",
          "[sim][vouchers][tips][cards][shifts]") {
  const std::string dir = testing::MakeTempDir("tender-sim");
  ManualClock clock(1795701600LL * 1000000);  // one business day
  edge::Options o = sim::SimTillOptions(dir, "store-1", "till-1");
  o.clock = &clock;
  auto journal = edge::Journal::Open(o).value();
  sim::TillSim till(journal.get(), 11, 1, sim::Mix{});
  for (int i = 0; i < 1500; ++i) {
    Status s = till.Step();
    INFO(s.ToString());
    REQUIRE(s.ok());
    clock.Advance(10'000'000);
  }
  const std::string day = journal->business_day();
  REQUIRE(till.Tally().size() == 1);
  const v1::DayTotals& tally = till.Tally().at(day);
  const v1::DayTotals x = journal->XReport(day).value();

  // Every kind of the mix happened.
  CHECK(x.vouchers_size() == 2);
  for (const auto& v : x.vouchers()) {
    INFO(v.voucher_type());
    CHECK(v.sold_count() > 0);
    CHECK(v.redeemed_count() > 0);
  }
  CHECK(x.spv_redeemed_tax() > 0);
  CHECK(x.tip_count() > 0);
  CHECK(x.tip_payouts() > 0);
  CHECK(x.card_schemes_size() == 4);
  CHECK(x.card_offline_count() > 0);
  CHECK(x.shift_count() >= 4);
  int cashier_drawers = 0;
  for (const auto& d : x.drawers()) cashier_drawers += d.device_id() != "till-1";
  CHECK(cashier_drawers > 0);

  // The tally is the X, figure for figure.
  CHECK(FigureDiff(TenderFigures(x), TenderFigures(tally)) == "");
  // And the area does not leak into the round-1 figures: net sales exclude
  // the cards sold.
  CHECK(x.net_sales() == x.gross_sales() - x.discounts() - x.refunds());
  CHECK(x.voucher_sales() > 0);
}

TEST_CASE("the classic mix records none of the new kinds", "[sim][vouchers][tips][cards][shifts]") {
  const std::string dir = testing::MakeTempDir("tender-classic");
  ManualClock clock(1795701600LL * 1000000);
  edge::Options o = sim::SimTillOptions(dir, "store-1", "till-1");
  o.clock = &clock;
  auto journal = edge::Journal::Open(o).value();
  sim::TillSim till(journal.get(), 11, 1, sim::Mix::Classic());
  REQUIRE(till.RunSales(500).ok());
  for (const auto& [day, t] : till.Tally()) CHECK(TenderFigures(t).empty());
  for (const v1::JournalEvent& raw : journal->ReadEvents(1, 100000).value()) {
    DecodedEvent e;
    REQUIRE(DecodeEvent(raw, &e).ok());
    CHECK(e.header.shift_seq() == 0);
    CHECK(e.header.kind() != v1::SIGN_ON);
    if (e.header.kind() == v1::CASH_MOVEMENT) {
      CHECK(e.body.cash_movement().type() != v1::TIP_PAYOUT);
    }
    if (e.header.kind() != v1::SALE) continue;
    for (const auto& l : e.body.sale().lines()) CHECK_FALSE(l.has_voucher());
    for (const auto& t : e.body.sale().tenders()) {
      CHECK_FALSE(t.has_card());
      CHECK_FALSE(t.has_voucher());
      CHECK(t.tip() == 0);
    }
  }
}
