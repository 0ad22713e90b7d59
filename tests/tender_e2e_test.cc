// Vouchers, tips, card details and cashier shifts end to end: simulated
// tills sell through a real mosquitto to a real fog, which must show in its
// X and its Z exactly the figures pos-sim tallied on its own, and must
// raise an alert when two tills redeem one card past its balance.
#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "storenode/common/journal_format.h"
#include "support/run.h"
#include "support/store.h"
#include "support/tender_figures.h"

using namespace storenode;
using namespace storenode::testing;

namespace {

std::vector<std::string> Paths(const Store& s) {
  std::vector<std::string> out;
  for (const auto& t : s.tills) out.push_back(t.journal->options().journal_path);
  return out;
}

v1::FogResponse AskOk(Store& store, const v1::FogRequest& req) {
  auto r = store.fog->Ask(req);
  REQUIRE(r.ok());
  INFO(r->error());
  REQUIRE(r->ok());
  return *r;
}

}  // namespace

TEST_CASE("two tills' vouchers, tips, cards and shifts reach the fog's X and Z as pos-sim tallied",
          "[vouchers][tips][cards][shifts][e2e][integration]") {
  Store store(2);
  store.mix = sim::Mix{};  // every kind
  REQUIRE(store.fog->Start().ok());
  for (size_t i = 0; i < 2; ++i) store.OpenTill(i);
  for (size_t i = 0; i < 2; ++i) store.Sell(i, 400);
  const std::string day = store.tills[0].journal->business_day();
  REQUIRE(store.WaitSynced());

  // The oracle: the simulators' own tallies of the day, both tills.
  std::map<std::string, int64_t> want;
  for (const SimTill& t : store.tills) {
    auto d = t.sim->Tally().find(day);
    REQUIRE(d != t.sim->Tally().end());
    for (const auto& [k, v] : TenderFigures(d->second)) want[k] += v;
  }
  // The mix had every kind.
  CHECK(want["voucher:GIFT:MPV:sold"] > 0);
  CHECK(want["voucher:MEAL:SPV:sold"] > 0);
  CHECK(want["tips"] > 0);
  CHECK(want["shift_count"] >= 4);
  CHECK(want["card_offline_count"] > 0);

  v1::FogRequest xreq;
  xreq.mutable_report()->set_kind("x");
  xreq.mutable_report()->set_business_day(day);
  const v1::DayTotals x = AskOk(store, xreq).report().x();
  CHECK(FigureDiff(TenderFigures(x), want) == "");

  auto closed = store.CloseDay(day);
  REQUIRE(closed.closed());
  const v1::ZReport z = DecodeZ(closed.z());
  CHECK(FigureDiff(TenderFigures(z.totals()), want) == "");
  // Every other figure as the journals make it, net sales without the
  // cards sold.
  Oracle o = FromJournals(Paths(store), day);
  RequireSameFigures(z.totals(), o.totals);
  CHECK(z.totals().net_sales() ==
        z.totals().gross_sales() - z.totals().discounts() - z.totals().refunds());
  REQUIRE(store.FogQuarantined() == 0);

  // The balances the fog keeps add up to what was sold less what was
  // redeemed, and none is overdrawn (each till spends only its own cards).
  v1::FogRequest show;
  show.mutable_voucher_show();
  const v1::VoucherShowResponse cards = AskOk(store, show).voucher_show();
  int64_t balance = 0;
  for (const auto& c : cards.cards()) {
    CHECK(c.balance() >= 0);
    balance += c.balance();
  }
  int64_t sold = 0, redeemed = 0;
  for (const auto& v : z.totals().vouchers()) {
    sold += v.sold();
    redeemed += v.redeemed();
  }
  CHECK(balance == sold - redeemed);
  CHECK(cards.alert_count() == 0);
}

TEST_CASE("two tills redeem one card offline past its balance: the fog raises an overdraft alert",
          "[vouchers][e2e][integration]") {
  Store store(2);
  REQUIRE(store.fog->Start().ok());
  for (size_t i = 0; i < 2; ++i) store.OpenTill(i);
  v1::Sale load;
  v1::SaleLine* gift = load.add_lines();
  gift->set_sku("GIFTCARD");
  gift->set_qty(1);
  gift->set_unit_price(2000);
  gift->mutable_voucher()->set_card_id("G-OVER");
  gift->mutable_voucher()->set_voucher_type("GIFT");
  v1::Tender* cash = load.add_tenders();
  cash->set_type(v1::CASH);
  cash->set_amount(2000);
  REQUIRE(store.tills[0].journal->RecordSale(load).ok());
  // The card is sold (and at the fog) before it is spent: the fog checks
  // balances in the order it stores the moves.
  REQUIRE(store.WaitSynced());
  // Each till alone stays within the 50.00 offline limit per card.
  for (size_t i = 0; i < 2; ++i) {
    v1::Sale spend;
    v1::SaleLine* l = spend.add_lines();
    l->set_sku("2000000010274");
    l->set_qty(1);
    l->set_unit_price(1500);
    l->set_tax_code("A");
    v1::Tender* t = spend.add_tenders();
    t->set_type(v1::VOUCHER);
    t->set_amount(1500);
    t->mutable_voucher()->set_card_id("G-OVER");
    t->mutable_voucher()->set_voucher_type("GIFT");
    t->mutable_voucher()->set_offline(true);
    auto rec = store.tills[i].journal->RecordSale(spend);
    INFO(rec.status().ToString());
    REQUIRE(rec.ok());
  }
  REQUIRE(store.WaitSynced());

  v1::FogRequest status;
  status.mutable_status();
  const v1::StoreStatus s = AskOk(store, status).status();
  REQUIRE(s.voucher_overdrafts() == 1);
  REQUIRE(s.voucher_alerts_size() == 1);
  CHECK(s.voucher_alerts(0).card_id() == "G-OVER");
  CHECK(s.voucher_alerts(0).amount() == 1500);
  CHECK(s.voucher_alerts(0).balance() == -1000);

  v1::FogRequest show;
  show.mutable_voucher_show()->set_card_id("G-OVER");
  const v1::VoucherShowResponse r = AskOk(store, show).voucher_show();
  REQUIRE(r.cards_size() == 1);
  CHECK(r.cards(0).loaded() == 2000);
  CHECK(r.cards(0).redeemed() == 3000);
  CHECK(r.cards(0).balance() == -1000);
  CHECK(r.alert_count() == 1);

  // What a manager reads.
  Ran shown = RunTool(store.dir, "storectl",
                      {"vouchers", "show", "--card", "G-OVER", "--broker", store.broker.uri(),
                       "--insecure", "--store", store.store_id, "--timeout", "30"});
  INFO(shown.err);
  REQUIRE(shown.code == 0);
  CHECK(shown.out.find("G-OVER") != std::string::npos);
  CHECK(shown.out.find("-10.00  OVERDRAWN") != std::string::npos);
  CHECK(shown.out.find("1 overdraft alert(s)") != std::string::npos);

  v1::FogRequest unknown;
  unknown.mutable_voucher_show()->set_card_id("G-NONE");
  auto none = store.fog->Ask(unknown);
  REQUIRE(none.ok());
  CHECK_FALSE(none->ok());
  CHECK(none->error() == "no voucher card G-NONE at this store");
}
