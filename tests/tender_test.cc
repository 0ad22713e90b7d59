// Vouchers and gift cards, tips, card details and cashier shifts at the
// till: what the journal takes, what it refuses (with its one-line reason,
// writing nothing), and how each figure of the X moves (docs/FORMATS.md
// "Vouchers, gift cards and tips", "Card details", "Cashier shifts").
#include <catch2/catch.hpp>
#include <functional>
#include <string>
#include <vector>

#include "sim/sim.h"
#include "storenode/common/journal_format.h"
#include "storenode/common/money.h"
#include "storenode/common/report_text.h"
#include "storenode/common/store_settings.h"
#include "storenode/edge.h"
#include "support/harness.h"
#include "support/till.h"

using namespace storenode;
using storenode::testing::SimpleSale;
using storenode::testing::TillOptions;

namespace {

// 2026-11-26T10:00:00Z
constexpr int64_t kT0 = 1795701600LL * 1000000;

struct Till {
  std::string dir = storenode::testing::MakeTempDir("tender");
  ManualClock clock{kT0};
  edge::Options options = TillOptions(dir, "till-1", &clock);
  std::unique_ptr<edge::Journal> journal = std::move(edge::Journal::Open(options).value());

  v1::DayTotals X() { return journal->XReport().value(); }
  // The refusal's message; FAILs when the call was taken.
  std::string Refused(const Result<edge::Recorded>& r) {
    REQUIRE_FALSE(r.ok());
    return r.status().message();
  }
};

v1::SaleLine* Goods(v1::Sale* s, const std::string& sku, int64_t price, const std::string& tax) {
  v1::SaleLine* l = s->add_lines();
  l->set_sku(sku);
  l->set_qty(1);
  l->set_unit_price(price);
  l->set_tax_code(tax);
  return l;
}

v1::SaleLine* Voucher(v1::Sale* s, const std::string& type, const std::string& card, int64_t load) {
  v1::SaleLine* l = s->add_lines();
  l->set_sku("GIFTCARD");
  l->set_qty(1);
  l->set_unit_price(load);
  l->mutable_voucher()->set_card_id(card);
  l->mutable_voucher()->set_voucher_type(type);
  return l;
}

v1::Tender* Pay(v1::Sale* s, v1::TenderType type, int64_t amount) {
  v1::Tender* t = s->add_tenders();
  t->set_type(type);
  t->set_amount(amount);
  return t;
}

v1::Tender* Redeem(v1::Sale* s, const std::string& type, const std::string& card, int64_t amount,
                   bool offline = true) {
  v1::Tender* t = Pay(s, v1::VOUCHER, amount);
  t->mutable_voucher()->set_card_id(card);
  t->mutable_voucher()->set_voucher_type(type);
  t->mutable_voucher()->set_offline(offline);
  return t;
}

const v1::TaxTotal* TaxOf(const v1::DayTotals& t, const std::string& code) {
  for (const auto& x : t.taxes()) {
    if (x.tax_code() == code) return &x;
  }
  return nullptr;
}

const v1::VoucherTotal* VoucherOf(const v1::DayTotals& t, const std::string& type) {
  for (const auto& x : t.vouchers()) {
    if (x.voucher_type() == type) return &x;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("a multi-purpose gift card sold is a liability: no tax, not in net sales", "[vouchers]") {
  Till t;
  v1::Sale s;
  Goods(&s, "bread", 300, "B");
  Voucher(&s, "GIFT", "G-1", 2500);
  Pay(&s, v1::CARD, 2800);
  auto rec = t.journal->RecordSale(s);
  REQUIRE(rec.ok());
  REQUIRE(rec->total == 2800);
  v1::DayTotals x = t.X();
  CHECK(x.gross_sales() == 300);
  CHECK(x.net_sales() == 300);
  CHECK(x.voucher_sales() == 2500);
  // Only the bread is taxed: B 5.5% of 3.00 = round(300 * 550 / 10550) = 16.
  REQUIRE(x.taxes_size() == 1);
  CHECK(x.taxes(0).tax_code() == "B");
  CHECK(x.taxes(0).gross() == 300);
  CHECK(x.taxes(0).tax() == 16);
  const v1::VoucherTotal* v = VoucherOf(x, "GIFT");
  REQUIRE(v != nullptr);
  CHECK(v->purpose() == "MPV");
  CHECK(v->sold_count() == 1);
  CHECK(v->sold() == 2500);
  CHECK(v->redeemed_count() == 0);
  // The card tender took the whole receipt.
  CHECK(x.tenders(0).sales() == 2800);
  // The journal filled the purpose and left the line untaxed.
  auto events = t.journal->ReadEvents(rec->seq, 1).value();
  DecodedEvent e;
  REQUIRE(DecodeEvent(events[0], &e).ok());
  const v1::SaleLine& gift = e.body.sale().lines(1);
  CHECK(gift.voucher().purpose() == v1::MULTI_PURPOSE);
  CHECK(gift.tax() == 0);
  CHECK(gift.tax_code().empty());
  CHECK(gift.gross() == 2500);
  const std::string csv = FormatDayTotalsCsv(x);
  CHECK(csv.find("voucher:GIFT,sold,25.00") != std::string::npos);
  CHECK(csv.find("vouchers,voucher_sales,25.00") != std::string::npos);
}

TEST_CASE("an MPV redeemed pays like a tender and the goods are taxed as usual", "[vouchers]") {
  Till t;
  v1::Sale load;
  Goods(&load, "gum", 100, "A");
  Voucher(&load, "GIFT", "G-2", 2000);
  Pay(&load, v1::CASH, 2100);
  REQUIRE(t.journal->RecordSale(load).ok());
  v1::Sale spend;
  Goods(&spend, "wine", 1200, "A");
  Redeem(&spend, "GIFT", "G-2", 1200);
  REQUIRE(t.journal->RecordSale(spend).ok());
  v1::DayTotals x = t.X();
  CHECK(x.gross_sales() == 1300);
  CHECK(x.net_sales() == 1300);
  // A 20%: round(1300 * 2000 / 12000) = 217 (1.00 -> 17, 12.00 -> 200).
  const v1::TaxTotal* a = TaxOf(x, "A");
  REQUIRE(a != nullptr);
  CHECK(a->gross() == 1300);
  CHECK(a->tax() == 217);
  const v1::VoucherTotal* v = VoucherOf(x, "GIFT");
  CHECK(v->sold() == 2000);
  CHECK(v->redeemed_count() == 1);
  CHECK(v->redeemed() == 1200);
  CHECK(v->offline_count() == 1);
  CHECK(v->offline() == 1200);
  CHECK(x.spv_redeemed_tax() == 0);
}

TEST_CASE("an SPV is taxed when sold and the goods it pays for are not taxed again", "[vouchers]") {
  Till t;
  v1::Sale load;
  Voucher(&load, "MEAL", "M-1", 1000);  // taxed B when sold
  Pay(&load, v1::CASH, 1000);
  REQUIRE(t.journal->RecordSale(load).ok());
  v1::DayTotals sold = t.X();
  const v1::TaxTotal* b = TaxOf(sold, "B");
  REQUIRE(b != nullptr);
  CHECK(b->gross() == 1000);
  CHECK(b->tax() == 52);  // round(1000 * 550 / 10550) = 52.13
  CHECK(sold.gross_sales() == 0);
  CHECK(sold.voucher_sales() == 1000);

  v1::Sale spend;
  Goods(&spend, "cheese", 800, "B");
  Goods(&spend, "gum", 200, "A");
  Redeem(&spend, "MEAL", "M-1", 800);
  Pay(&spend, v1::CARD, 200);
  REQUIRE(t.journal->RecordSale(spend).ok());
  v1::DayTotals x = t.X();
  CHECK(x.gross_sales() == 1000);
  // B: the voucher 10.00 (tax 52) + the cheese 8.00 (tax 42) - the SPV's
  // 8.00 (tax round(800 * 550 / 10550) = 42): tax was due once, at the sale.
  b = TaxOf(x, "B");
  CHECK(b->gross() == 1000);
  CHECK(b->tax() == 52);
  CHECK(b->net() == 948);
  CHECK(x.spv_redeemed_tax() == 42);
  CHECK(TaxOf(x, "A")->gross() == 200);
  const v1::VoucherTotal* v = VoucherOf(x, "MEAL");
  CHECK(v->purpose() == "SPV");
  CHECK(v->redeemed() == 800);
}

TEST_CASE("voucher lines and redemptions the journal refuses, writing nothing", "[vouchers]") {
  struct Case {
    const char* name;
    std::function<void(v1::Sale*)> build;
    const char* reason;
  };
  const std::vector<Case> cases = {
      {"unknown type",
       [](v1::Sale* s) {
         Voucher(s, "NOPE", "X-1", 1000);
         Pay(s, v1::CASH, 1000);
       },
       "line 1: voucher type 'NOPE' is not in store settings version 1"},
      {"two cards on one line",
       [](v1::Sale* s) {
         Voucher(s, "GIFT", "X-1", 1000)->set_qty(2);
         Pay(s, v1::CASH, 2000);
       },
       "line 1: a voucher line loads one card: qty 1, no discount"},
      {"discounted card",
       [](v1::Sale* s) {
         Voucher(s, "GIFT", "X-1", 1000)->set_discount(100);
         Pay(s, v1::CASH, 900);
       },
       "line 1: a voucher line loads one card: qty 1, no discount"},
      {"load over the type's maximum",
       [](v1::Sale* s) {
         Voucher(s, "MEAL", "X-1", 10001);
         Pay(s, v1::CASH, 10001);
       },
       "line 1: voucher load 100.01 outside 0.01..100.00 of type 'MEAL'"},
      {"bad card id",
       [](v1::Sale* s) {
         Voucher(s, "GIFT", "a b", 1000);
         Pay(s, v1::CASH, 1000);
       },
       "line 1: voucher card id must be 1..32 of [A-Za-z0-9._-]"},
      {"SPV at another tax code",
       [](v1::Sale* s) {
         Voucher(s, "MEAL", "X-1", 1000)->set_tax_code("A");
         Pay(s, v1::CASH, 1000);
       },
       "line 1: voucher type 'MEAL' is taxed at code B, not at code A"},
      {"SPV paying for goods of another code",
       [](v1::Sale* s) {
         Goods(s, "gum", 500, "A");
         Redeem(s, "MEAL", "M-9", 500);
       },
       "tender 1: single-purpose voucher 'MEAL' pays only for goods taxed B; this receipt has "
       "none"},
      {"SPV paying more than its goods",
       [](v1::Sale* s) {
         Goods(s, "gum", 500, "A");
         Goods(s, "milk", 300, "B");
         Redeem(s, "MEAL", "M-9", 400);
         Pay(s, v1::CARD, 400);
       },
       "single-purpose vouchers pay 4.00 for goods taxed B worth 3.00"},
      {"offline over the per-card limit",
       [](v1::Sale* s) {
         Goods(s, "wine", 6000, "A");
         Redeem(s, "GIFT", "G-9", 5001);
         Pay(s, v1::CARD, 999);
       },
       "tender 1: offline redemption of card G-9 would bring this till's offline redemptions "
       "of it to 50.01, over the offline limit 50.00 of voucher type 'GIFT'"},
      {"a voucher on a card tender",
       [](v1::Sale* s) {
         Goods(s, "gum", 500, "A");
         Pay(s, v1::CARD, 500)->mutable_voucher()->set_card_id("G-1");
       },
       "tender 1: a voucher on a tender that is no voucher"},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      Till t;
      const uint64_t head = t.journal->head_seq();
      v1::Sale s;
      c.build(&s);
      CHECK(t.Refused(t.journal->RecordSale(s)) == c.reason);
      CHECK(t.journal->head_seq() == head);
    }
  }
}

TEST_CASE("offline redemptions of one card add up against the limit across receipts",
          "[vouchers]") {
  Till t;
  auto spend = [&](int64_t amount, bool offline) {
    v1::Sale s;
    Goods(&s, "wine", amount, "A");
    Redeem(&s, "GIFT", "G-7", amount, offline);
    return t.journal->RecordSale(s);
  };
  REQUIRE(spend(3000, true).ok());
  REQUIRE(spend(2000, true).ok());  // 50.00: at the limit
  CHECK(t.Refused(spend(1, true)) ==
        "tender 1: offline redemption of card G-7 would bring this till's offline redemptions of "
        "it to 50.01, over the offline limit 50.00 of voucher type 'GIFT'");
  // Online (the POS checked the fog's balance): no till limit.
  REQUIRE(spend(1, false).ok());
  // The sum survives a reopen.
  t.journal.reset();
  t.journal = std::move(edge::Journal::Open(t.options).value());
  CHECK_FALSE(spend(1, true).ok());
}

TEST_CASE("a voucher is neither refunded nor loaded by a refund", "[vouchers]") {
  Till t;
  v1::Sale s;
  Goods(&s, "gum", 500, "A");
  Voucher(&s, "GIFT", "G-5", 1000);
  Pay(&s, v1::CASH, 1500);
  auto sold = t.journal->RecordSale(s);
  REQUIRE(sold.ok());
  v1::Refund card_back;
  card_back.set_original_receipt_no(sold->receipt_no);
  card_back.add_lines()->set_sku("GIFTCARD");
  card_back.mutable_lines(0)->set_qty(1);
  v1::Tender* cash = card_back.add_tenders();
  cash->set_type(v1::CASH);
  cash->set_amount(1000);
  CHECK(t.Refused(t.journal->RecordRefund(card_back)) ==
        "refund of 1 x GIFTCARD exceeds what receipt 1 sold and not yet refunded");
  v1::Refund onto_card;
  onto_card.set_original_receipt_no(sold->receipt_no);
  onto_card.add_lines()->set_sku("gum");
  onto_card.mutable_lines(0)->set_qty(1);
  v1::Tender* v = onto_card.add_tenders();
  v->set_type(v1::VOUCHER);
  v->set_amount(500);
  v->mutable_voucher()->set_card_id("G-5");
  v->mutable_voucher()->set_voucher_type("GIFT");
  CHECK(t.Refused(t.journal->RecordRefund(onto_card)) ==
        "tender 1: a refund does not load a voucher card; pay back in cash or to the card it was "
        "paid with");
}

TEST_CASE("voucher types in the store settings are checked", "[vouchers]") {
  struct Case {
    const char* name;
    std::function<void(v1::VoucherType*)> edit;
    const char* reason;
  };
  const std::vector<Case> cases = {
      {"ok", [](v1::VoucherType*) {}, ""},
      {"no id", [](v1::VoucherType* v) { v->clear_id(); },
       "store settings: voucher type '': id must be 1..16 characters"},
      {"no name", [](v1::VoucherType* v) { v->clear_name(); },
       "store settings: voucher type 'GIFT': name must be 1..64 characters"},
      {"no purpose", [](v1::VoucherType* v) { v->clear_purpose(); },
       "store settings: voucher type 'GIFT': purpose must be single or multi"},
      {"MPV with a tax code", [](v1::VoucherType* v) { v->set_tax_code("A"); },
       "store settings: voucher type 'GIFT': a multi-purpose voucher is taxed when redeemed: no "
       "tax code"},
      {"SPV of an unknown code",
       [](v1::VoucherType* v) {
         v->set_purpose(v1::SINGLE_PURPOSE);
         v->set_tax_code("Q");
       },
       "store settings: voucher type 'GIFT': a single-purpose voucher needs a tax code of the "
       "tax table"},
      {"negative offline limit", [](v1::VoucherType* v) { v->set_offline_limit(-1); },
       "store settings: voucher type 'GIFT': offline limit outside 0..100000000"},
      {"no max load", [](v1::VoucherType* v) { v->set_max_load(0); },
       "store settings: voucher type 'GIFT': max load outside 1..100000000"},
      {"twice", [](v1::VoucherType* v) { v->set_id("MEAL"); },
       "store settings: voucher type 'MEAL': listed twice"},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      v1::StoreSettings s = sim::SimStoreSettings("store-1");
      REQUIRE(s.voucher_types(0).id() == "GIFT");
      c.edit(s.mutable_voucher_types(0));  // "twice": GIFT renamed MEAL, the second's id
      Status st = settings::Check(s);
      CHECK(st.message() == c.reason);
      CHECK(st.ok() == std::string(c.reason).empty());
    }
  }
}

TEST_CASE("a masked PAN shows at most the first 6 and the last 4 digits", "[cards]") {
  struct Case {
    const char* pan;
    const char* reason;  // "" = taken
  };
  const std::vector<Case> cases = {
      {"", ""},
      {"411111******1111", ""},
      {"************1111", ""},
      {"378282*****0005", ""},
      {"4111111111111111",
       "tender 1: masked PAN shows digit 7: at most the first 6 and the last 4 digits may show, "
       "the rest must be '*'"},
      {"4111111*****1111",
       "tender 1: masked PAN shows digit 7: at most the first 6 and the last 4 digits may show, "
       "the rest must be '*'"},
      {"411111*****11111",
       "tender 1: masked PAN shows digit 12: at most the first 6 and the last 4 digits may "
       "show, the rest must be '*'"},
      {"411111*****1111", ""},
      {"4111-11**-****-1111", "tender 1: masked PAN holds '-': only digits and '*'"},
      {"41111*1111", "tender 1: masked PAN has 10 characters, want 12..19"},
      {"411111**********1111", "tender 1: masked PAN has 20 characters, want 12..19"},
  };
  for (const Case& c : cases) {
    SECTION(std::string("pan '") + c.pan + "'") {
      Till t;
      v1::Sale s = SimpleSale("gum", 1, 500, "A", v1::CARD);
      s.mutable_tenders(0)->mutable_card()->set_scheme("VISA");
      s.mutable_tenders(0)->mutable_card()->set_masked_pan(c.pan);
      auto rec = t.journal->RecordSale(s);
      if (std::string(c.reason).empty()) {
        CHECK(rec.ok());
      } else {
        CHECK(t.Refused(rec) == c.reason);
        CHECK(t.journal->head_seq() == 1);
      }
    }
  }
}

TEST_CASE("card tenders are totalled by scheme with their offline authorisations", "[cards]") {
  Till t;
  auto card = [&](const std::string& scheme, int64_t amount, bool offline) {
    v1::Sale s = SimpleSale("gum", 1, amount, "A", v1::CARD);
    v1::CardDetails* c = s.mutable_tenders(0)->mutable_card();
    c->set_scheme(scheme);
    c->set_terminal_id("T1");
    c->set_auth_code("123456");
    c->set_masked_pan("411111******1111");
    c->set_offline_auth(offline);
    REQUIRE(t.journal->RecordSale(s).ok());
  };
  card("VISA", 1000, false);
  card("VISA", 500, true);
  card("MASTERCARD", 700, false);
  REQUIRE(t.journal->RecordSale(SimpleSale("gum", 1, 300, "A", v1::CARD)).ok());  // no details
  v1::DayTotals x = t.X();
  REQUIRE(x.card_schemes_size() == 3);
  // Sorted by scheme: "" (no details), MASTERCARD, VISA.
  CHECK(x.card_schemes(0).scheme() == "");
  CHECK(x.card_schemes(0).sales() == 300);
  CHECK(x.card_schemes(1).scheme() == "MASTERCARD");
  CHECK(x.card_schemes(1).count() == 1);
  CHECK(x.card_schemes(1).sales() == 700);
  CHECK(x.card_schemes(2).scheme() == "VISA");
  CHECK(x.card_schemes(2).count() == 2);
  CHECK(x.card_schemes(2).sales() == 1500);
  CHECK(x.card_schemes(2).offline_count() == 1);
  CHECK(x.card_offline_count() == 1);

  v1::Sale cash = SimpleSale("gum", 1, 100, "A", v1::CASH);
  cash.mutable_tenders(0)->mutable_card()->set_scheme("VISA");
  CHECK(t.Refused(t.journal->RecordSale(cash)) ==
        "tender 1: card details on a tender that is no card");
}

TEST_CASE("tips are recorded apart from revenue and paid out from the drawer", "[tips]") {
  Till t;
  v1::CashMovement float_in;
  float_in.set_type(v1::OPENING_FLOAT);
  float_in.set_amount(10000);
  REQUIRE(t.journal->RecordCashMovement(float_in).ok());
  v1::Sale s = SimpleSale("coffee", 1, 1000, "A", v1::CARD);
  s.set_cashier("anna");
  s.mutable_tenders(0)->set_tip(150);
  s.mutable_tenders(0)->mutable_card()->set_scheme("VISA");
  REQUIRE(t.journal->RecordSale(s).ok());
  v1::CashMovement payout;
  payout.set_type(v1::TIP_PAYOUT);
  payout.set_amount(150);
  payout.set_cashier("anna");
  REQUIRE(t.journal->RecordCashMovement(payout).ok());
  v1::DayTotals x = t.X();
  CHECK(x.gross_sales() == 1000);
  CHECK(x.net_sales() == 1000);
  CHECK(x.tenders(0).sales() == 1000);  // the tip is on top, not in the tender's amount
  CHECK(x.tip_count() == 1);
  CHECK(x.tips() == 150);
  CHECK(x.tip_payouts() == 150);
  CHECK(x.card_schemes(0).tips() == 150);
  REQUIRE(x.drawers_size() == 1);
  CHECK(x.drawers(0).tip_payouts() == 150);
  CHECK(x.drawers(0).expected() == 10000 - 150);
  REQUIRE(x.cashier_totals_size() == 1);
  CHECK(x.cashier_totals(0).cashier() == "anna");
  CHECK(x.cashier_totals(0).tips() == 150);
  CHECK(x.cashier_totals(0).tip_payouts() == 150);
  CHECK(x.cashier_totals(0).sales() == 1000);
  // The printed X shows them apart from the sales.
  const std::string text = t.journal->XReportText().value();
  CHECK(text.find("TIPS (not revenue)") != std::string::npos);
  CHECK(text.find("Tips taken (1)") != std::string::npos);
  CHECK(text.find("Tips paid out") != std::string::npos);
  const std::string csv = FormatDayTotalsCsv(x);
  CHECK(csv.find("tips,tips,1.50") != std::string::npos);
  CHECK(csv.find("drawer:till-1,tip_payouts,1.50") != std::string::npos);
}

TEST_CASE("tips the journal refuses", "[tips]") {
  struct Case {
    const char* name;
    v1::TenderType type;
    int64_t tip;
    const char* reason;
  };
  const std::vector<Case> cases = {
      {"negative", v1::CARD, -1, "tender 1: negative tip"},
      {"on cash", v1::CASH, 50,
       "tender 1: a tip is taken on a card tender (cash tips go to the tip jar)"},
      {"on a voucher", v1::VOUCHER, 50,
       "tender 1: a tip is taken on a card tender (cash tips go to the tip jar)"},
      {"over the amount", v1::CARD, 501, "tender 1: tip 5.01 is more than the amount 5.00"},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      Till t;
      v1::Sale s = SimpleSale("gum", 1, 500, "A", c.type);
      s.mutable_tenders(0)->set_tip(c.tip);
      CHECK(t.Refused(t.journal->RecordSale(s)) == c.reason);
      CHECK(t.journal->head_seq() == 1);
    }
  }
  SECTION("on a refund") {
    Till t;
    auto sold = t.journal->RecordSale(SimpleSale("gum", 1, 500, "A", v1::CARD)).value();
    v1::Refund r;
    r.set_original_receipt_no(sold.receipt_no);
    r.add_lines()->set_sku("gum");
    r.mutable_lines(0)->set_qty(1);
    v1::Tender* back = r.add_tenders();
    back->set_type(v1::CARD);
    back->set_amount(500);
    back->set_tip(10);
    CHECK(t.Refused(t.journal->RecordRefund(r)) == "tender 1: a refund pays back no tip");
  }
}

TEST_CASE("a cashier shift stamps every event and has its own X", "[shifts]") {
  Till t;
  REQUIRE(t.journal->RecordSale(SimpleSale("gum", 1, 100)).ok());  // before: no shift
  auto on = t.journal->SignOn("anna", v1::DRAWER_CASHIER, "drawer-anna");
  REQUIRE(on.ok());
  CHECK(t.journal->open_shift_seq() == on->seq);
  v1::CashMovement f;
  f.set_type(v1::OPENING_FLOAT);
  f.set_amount(5000);
  REQUIRE(t.journal->RecordCashMovement(f).ok());  // cashier filled in
  v1::Sale wine = SimpleSale("wine", 1, 1200);
  wine.clear_cashier();  // the journal fills in the signed-on cashier
  REQUIRE(t.journal->RecordSale(wine).ok());
  v1::Sale ben = SimpleSale("gum", 1, 100);
  ben.set_cashier("ben");
  const uint64_t head = t.journal->head_seq();
  auto refused = t.journal->RecordSale(ben);
  CHECK(t.Refused(refused) == "cashier 'ben' is not the signed-on cashier 'anna'");
  CHECK(t.journal->head_seq() == head);
  CHECK(t.Refused(t.journal->SignOn("ben")) ==
        "cashier 'anna' is signed on since seq " + std::to_string(on->seq) + "; sign off first");

  // Reopened, the journal still knows the open shift.
  t.journal.reset();
  t.journal = std::move(edge::Journal::Open(t.options).value());
  CHECK(t.journal->open_shift_seq() == on->seq);
  v1::DayTotals shift = t.journal->ShiftXReport().value();
  CHECK(shift.receipt_count() == 1);
  CHECK(shift.gross_sales() == 1200);
  CHECK(shift.shift_count() == 1);
  REQUIRE(shift.drawers_size() == 1);
  CHECK(shift.drawers(0).device_id() == "drawer-anna");
  CHECK(shift.drawers(0).expected() == 5000 + 1200);
  auto off = t.journal->SignOff();
  REQUIRE(off.ok());
  CHECK(t.journal->open_shift_seq() == 0);
  CHECK(t.Refused(t.journal->SignOff()) == "no cashier is signed on");
  REQUIRE(t.journal->RecordSale(SimpleSale("gum", 1, 100)).ok());  // after: the till's drawer

  auto events = t.journal->ReadEvents(1, 100).value();
  std::vector<uint64_t> shift_seqs;
  std::vector<std::string> drawers;
  for (const auto& raw : events) {
    DecodedEvent e;
    REQUIRE(DecodeEvent(raw, &e).ok());
    shift_seqs.push_back(e.header.shift_seq());
    drawers.push_back(e.header.drawer_id());
  }
  const uint64_t s = on->seq;
  // genesis, sale, SIGN_ON, float, sale, SIGN_OFF, sale
  CHECK(shift_seqs == std::vector<uint64_t>{0, 0, s, s, s, s, 0});
  CHECK(drawers == std::vector<std::string>{"", "", "drawer-anna", "drawer-anna", "drawer-anna",
                                            "drawer-anna", ""});

  v1::DayTotals x = t.X();
  CHECK(x.shift_count() == 1);
  REQUIRE(x.drawers_size() == 2);  // by id: "drawer-anna", "till-1"
  CHECK(x.drawers(0).device_id() == "drawer-anna");
  CHECK(x.drawers(0).cash_sales() == 1200);
  CHECK(x.drawers(1).device_id() == "till-1");
  CHECK(x.drawers(1).cash_sales() == 200);
  const v1::CashierDayTotal* anna = nullptr;
  for (const auto& c : x.cashier_totals()) {
    if (c.cashier() == "anna") anna = &c;
  }
  REQUIRE(anna != nullptr);
  CHECK(anna->shifts() == 1);
  CHECK(anna->receipts() == 1);
  CHECK(anna->sales() == 1200);
  CHECK(anna->drawer_id() == "drawer-anna");
  CHECK(anna->drawer_expected() == 6200);
}

TEST_CASE("sign-ons the journal refuses", "[shifts]") {
  struct Case {
    const char* name;
    std::string cashier;
    v1::DrawerOwner drawer;
    std::string drawer_id;
    const char* reason;
  };
  const std::vector<Case> cases = {
      {"no cashier", "", v1::DRAWER_TILL, "", "cashier must be 1..64 characters"},
      {"long cashier", std::string(65, 'a'), v1::DRAWER_TILL, "",
       "cashier must be 1..64 characters"},
      {"cashier drawer without id", "anna", v1::DRAWER_CASHIER, "",
       "a cashier drawer needs an id of 1..32 [A-Za-z0-9._-], not the till's"},
      {"cashier drawer named as the till", "anna", v1::DRAWER_CASHIER, "till-1",
       "a cashier drawer needs an id of 1..32 [A-Za-z0-9._-], not the till's"},
      {"till drawer with an id", "anna", v1::DRAWER_TILL, "d1",
       "a drawer id belongs to a cashier drawer (DRAWER_CASHIER)"},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      Till t;
      CHECK(t.Refused(t.journal->SignOn(c.cashier, c.drawer, c.drawer_id)) == c.reason);
      CHECK(t.journal->head_seq() == 1);
    }
  }
}
