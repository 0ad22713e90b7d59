// Issue 17, weighed goods, corrections and training at the till: every rule
// of docs/FORMATS.md "Measured lines", "Corrections" and "Training", with
// the exact figures the journal fills and the X-report sums, and the one-line
// reason of every refusal (a refused call writes nothing).
#include <array>
#include <catch2/catch.hpp>
#include <fstream>
#include <functional>

#include "edge/src/sync_access.h"
#include "sim/sim.h"
#include "storenode/common/catalog.h"
#include "storenode/common/journal_format.h"
#include "storenode/common/lines.h"
#include "storenode/common/report_text.h"
#include "storenode/common/store_settings.h"
#include "storenode/edge.h"
#include "storenode/fog/fog.h"
#include "support/catalog_payload.h"
#include "support/harness.h"
#include "support/till.h"

using namespace storenode;
using storenode::testing::SimpleSale;
using storenode::testing::TillOptions;

namespace {

// 2026-11-26T10:00:00Z
constexpr int64_t kT0 = 1795701600LL * 1000000;

struct Till {
  std::string dir = storenode::testing::MakeTempDir("weighed");
  ManualClock clock{kT0};
  edge::Options options = TillOptions(dir, "till-1", &clock);
  std::unique_ptr<edge::Journal> journal;

  explicit Till(const std::string& settings = "") {
    if (!settings.empty()) options.settings = settings;
    auto j = edge::Journal::Open(options);
    INFO(j.status().ToString());
    REQUIRE(j.ok());
    journal = std::move(*j);
  }
  v1::DayTotals X() { return journal->XReport().value(); }
};

v1::SaleLine Measured(const std::string& sku, int64_t qty_milli, int64_t price,
                      v1::UnitOfMeasure unit = v1::UNIT_KG, int64_t discount = 0) {
  v1::SaleLine l;
  l.set_sku(sku);
  l.set_unit(unit);
  l.set_qty_milli(qty_milli);
  l.set_unit_price(price);
  l.set_discount(discount);
  l.set_tax_code("B");
  return l;
}

// A sale of `lines` paid by card for its priced total.
v1::Sale CardSale(std::vector<v1::SaleLine> lines, edge::Journal& j) {
  v1::Sale s;
  for (auto& l : lines) *s.add_lines() = l;
  s.add_tenders()->set_type(v1::CARD);
  REQUIRE(j.PriceSale(&s).ok());
  s.mutable_tenders(0)->set_amount(s.total());
  return s;
}

v1::Refund CardRefund(std::vector<v1::SaleLine> lines, int64_t amount) {
  v1::Refund r;
  for (auto& l : lines) *r.add_lines() = l;
  v1::Tender* t = r.add_tenders();
  t->set_type(v1::CARD);
  t->set_amount(amount);
  return r;
}

// The sim store's settings with `edit` applied, signed by the sim's key.
std::string SettingsWith(const std::function<void(v1::StoreSettings*)>& edit) {
  v1::StoreSettings s = sim::SimStoreSettings("store-1", "UTC", 1);
  edit(&s);
  const std::array<uint8_t, 32> seed{'s', 'i', 'm'};
  return settings::Sign(s, crypto::SigningKey::FromSeed(seed).value()).SerializeAsString();
}

}  // namespace

// ---------------------------------------------------------------- weighed

TEST_CASE("a measured line's gross is round_half_away(qty_milli x price / 1000) - discount",
          "[weighed]") {
  struct Case {
    int64_t qty_milli, price, discount;
    int64_t extended, gross, tax;  // tax of B = 5.5%: round_half_away(gross * 550 / 10550)
  };
  const Case cases[] = {
      {1234, 299, 0, 369, 369, 19},              // 368.966
      {1500, 333, 0, 500, 500, 26},              // 499.5 rounds away from zero
      {1, 1, 0, 0, 0, 0},                        // 0.001 cent
      {999, 1850, 48, 1848, 1800, 94},           // 1848.15
      {1000000, 990, 0, 990000, 990000, 51611},  // the 1,000 kg cap
  };
  for (const Case& c : cases) {
    INFO(c.qty_milli << " x " << c.price);
    Till t;
    v1::Sale s =
        CardSale({Measured("beef", c.qty_milli, c.price, v1::UNIT_KG, c.discount)}, *t.journal);
    CHECK(lines::Extended(s.lines(0)).minor() == c.extended);
    CHECK(s.lines(0).gross() == c.gross);
    CHECK(s.lines(0).tax() == c.tax);
    CHECK(s.total() == c.gross);
    if (c.gross == 0) continue;  // a tender of 0 is refused: nothing to record
    REQUIRE(t.journal->RecordSale(s).ok());
    v1::DayTotals x = t.X();
    CHECK(x.gross_sales() == c.extended);
    CHECK(x.discounts() == c.discount);
    CHECK(x.measured_line_count() == 1);
    CHECK(x.measured_gross() == c.gross);
  }
}

TEST_CASE("the journal refuses inconsistent quantity fields, naming the line", "[weighed]") {
  struct Case {
    std::function<void(v1::SaleLine*)> edit;
    std::string reason;
  };
  const Case cases[] = {
      {[](v1::SaleLine* l) { l->set_qty(1); },
       "line 2: a line sold by the kg counts qty_milli, qty must be 0, got 1"},
      {[](v1::SaleLine* l) { l->set_qty_milli(0); },
       "line 2: measured quantity 0.000 kg outside 0.001..1000 kg"},
      {[](v1::SaleLine* l) { l->set_qty_milli(1000001); },
       "line 2: measured quantity 1000.001 kg outside 0.001..1000 kg"},
      {[](v1::SaleLine* l) { l->set_tare_milli(-5); }, "line 2: tare -0.005 kg outside 0..1000 kg"},
      {[](v1::SaleLine* l) { l->set_unit(static_cast<v1::UnitOfMeasure>(7)); },
       "line 2: unknown unit of measure 7"},
      {[](v1::SaleLine* l) {
         l->set_unit(v1::UNIT_PIECE);
         l->set_qty(2);
       },
       "line 2: a piece line has no qty_milli, tare or keyed weight"},
      {[](v1::SaleLine* l) {
         l->set_unit(v1::UNIT_PIECE);
         l->clear_qty_milli();
         l->set_keyed_weight(true);
         l->set_qty(1);
       },
       "line 2: a piece line has no qty_milli, tare or keyed weight"},
  };
  Till t;
  const uint64_t head = t.journal->head_seq();
  for (const Case& c : cases) {
    v1::Sale s = SimpleSale("apple", 1, 100, "A", v1::CARD);
    v1::SaleLine* l = s.add_lines();
    *l = Measured("beef", 500, 990);
    c.edit(l);
    auto rec = t.journal->RecordSale(s);
    REQUIRE_FALSE(rec.ok());
    CHECK(rec.status().message() == c.reason);
  }
  CHECK(t.journal->head_seq() == head);
}

TEST_CASE("a measured line is refunded in thousandths with its cumulative discount share",
          "[weighed]") {
  Till t;
  // 1.500 kg at 10.00/kg = 15.00, 1.00 off: 14.00.
  auto sale = t.journal->RecordSale(CardSale({SimpleSale("apple", 2, 100, "A", v1::CARD).lines(0),
                                              Measured("cheese", 1500, 1000, v1::UNIT_KG, 100)},
                                             *t.journal));
  REQUIRE(sale.ok());
  struct Step {
    int64_t qty_milli;
    int64_t total;  // extended of the part - (share(after) - share(before))
  };
  // share(q) = round_half_away(100 * q / 1500): 33 at 0.500, 100 at 1.500.
  for (const Step& s : {Step{500, 500 - 33}, Step{1000, 1000 - 67}}) {
    v1::SaleLine back;
    back.set_sku("cheese");
    back.set_unit(v1::UNIT_KG);
    back.set_qty_milli(s.qty_milli);
    v1::Refund r = CardRefund({back}, s.total);
    r.set_original_receipt_no(sale->receipt_no);
    auto rec = t.journal->RecordRefund(r);
    INFO(rec.status().ToString());
    REQUIRE(rec.ok());
    CHECK(rec->total == s.total);
  }
  // Both parts give back the line's 14.00 exactly; nothing is left.
  CHECK(t.X().refunds() == 1400);
  v1::SaleLine more;
  more.set_sku("cheese");
  more.set_unit(v1::UNIT_KG);
  more.set_qty_milli(1);
  v1::Refund r = CardRefund({more}, 1);
  r.set_original_receipt_no(sale->receipt_no);
  auto rec = t.journal->RecordRefund(r);
  REQUIRE_FALSE(rec.ok());
  CHECK(rec.status().message() ==
        "refund of 0.001 kg x cheese exceeds what receipt 1 sold and not yet refunded");
  // A piece refund of a measured item finds no piece line.
  v1::SaleLine piece;
  piece.set_sku("cheese");
  piece.set_qty(1);
  v1::Refund p = CardRefund({piece}, 1);
  p.set_original_receipt_no(sale->receipt_no);
  CHECK(t.journal->RecordRefund(p).status().message() ==
        "refund of 1 x cheese exceeds what receipt 1 sold and not yet refunded");
}

TEST_CASE("scale labels: a weight label sells its weight, a price label its printed price",
          "[weighed]") {
  // The sim's weight layout "28 5 measure 5" and a price layout
  // "21 5 price 4 check".
  Till t(SettingsWith([](v1::StoreSettings* s) {
    v1::ScaleLabelLayout* l = s->add_scale_labels();
    l->set_prefix("21");
    l->set_item_digits(5);
    l->set_price_check(true);
    l->set_value_digits(4);
    l->set_embeds_price(true);
  }));
  std::vector<v1::CatalogItem> items(3);
  auto item = [](v1::CatalogItem* i, const std::string& sku, int64_t price, v1::UnitOfMeasure u) {
    i->set_sku(sku);
    v1::CatalogEntry* e = i->add_entries();
    e->set_price(price);
    e->set_name(sku);
    e->set_tax_code("B");
    e->set_active(true);
    e->set_unit(u);
  };
  item(&items[0], "2800001", 299, v1::UNIT_KG);     // apples, per kg
  item(&items[1], "2100002", 1899, v1::UNIT_KG);    // the deli's ham, price labels
  item(&items[2], "2800003", 150, v1::UNIT_PIECE);  // a piece item under the weight prefix
  auto payload = storenode::testing::MakePayloadOf(0, 1, items);
  REQUIRE(edge::SyncAccess::Apply(t.journal->catalog(), payload.first).ok());

  auto label = [](const std::string& first12) {
    return first12 + std::to_string(scale::Ean13CheckDigit(first12));
  };
  const std::string weight = label("280000101234");  // 1.234 kg
  const std::string value = "0456";                  // 4.56
  const std::string price =
      label("2100002" + std::to_string(scale::PriceCheckDigit(value)) + value);
  auto sale = t.journal->SaleFromCatalog({{weight}, {price}});
  INFO(sale.status().ToString());
  REQUIRE(sale.ok());
  const v1::SaleLine& w = sale->lines(0);
  CHECK(w.sku() == "2800001");
  CHECK(w.barcode() == weight);
  CHECK(w.unit() == v1::UNIT_KG);
  CHECK(w.qty() == 0);
  CHECK(w.qty_milli() == 1234);
  CHECK(w.gross() == 369);  // 1.234 x 2.99 = 3.68966
  const v1::SaleLine& p = sale->lines(1);
  CHECK(p.sku() == "2100002");
  CHECK(p.unit() == v1::UNIT_PIECE);
  CHECK(p.qty() == 1);
  CHECK(p.unit_price() == 456);
  CHECK(p.gross() == 456);  // exactly the printed price
  CHECK(sale->total() == 369 + 456);

  // A scale at the till: an item sold by the kg needs its weight.
  edge::ScannedLine scaled{"2800001"};
  scaled.qty_milli = 2000;
  scaled.tare_milli = 15;
  auto at_till = t.journal->SaleFromCatalog({scaled});
  REQUIRE(at_till.ok());
  CHECK(at_till->lines(0).gross() == 598);
  CHECK(at_till->lines(0).tare_milli() == 15);

  struct Bad {
    edge::ScannedLine scan;
    std::string reason;
  };
  std::string wrong = weight;
  wrong[12] = static_cast<char>('0' + (wrong[12] - '0' + 1) % 10);
  const Bad bad[] = {
      {{wrong},
       "line 1: scale label " + wrong + ": check digit (digit 13) is " + wrong.substr(12) + ", " +
           weight.substr(12) + " expected"},
      {{label("280000300500")},
       "line 1: scale label " + label("280000300500") +
           " embeds a weight, but 2800003 is sold by the piece"},
      {{"2800001"},
       "line 1: 2800001 is sold by the kg: give its quantity in thousandths (qty_milli)"},
  };
  for (const Bad& b : bad) {
    auto s = t.journal->SaleFromCatalog({b.scan});
    REQUIRE_FALSE(s.ok());
    CHECK(s.status().message() == b.reason);
  }
}

TEST_CASE("the receipt shows a measured line in its unit, tare and keyed weight", "[weighed]") {
  Till t;
  v1::SaleLine l = Measured("apples", 1234, 299);
  l.set_name("Apples loose");
  l.set_tare_milli(15);
  l.set_keyed_weight(true);
  auto rec = t.journal->RecordSale(CardSale({l}, *t.journal));
  REQUIRE(rec.ok());
  std::string text = t.journal->ReceiptText(rec->receipt_no).value();
  INFO(text);
  CHECK_THAT(text, Catch::Contains("1.234 kg x 2.99/kg"));
  CHECK_THAT(text, Catch::Contains("3.69 B"));
  CHECK_THAT(text, Catch::Contains("tare 0.015 kg"));
  CHECK_THAT(text, Catch::Contains("weight keyed by hand"));
  CHECK_THAT(t.journal->XReportText().value(),
             Catch::Contains("Sold by measure (1 lines, in gross)"));
}

TEST_CASE("the catalog's unit column: pc, kg, l, m, a default unit keeps the item's bytes",
          "[weighed]") {
  catalog::CsvOptions o;
  o.tax_codes = {"A"};
  const std::string head = "sku,barcodes,name,price,tax_code,department,active,unit\n";
  struct Case {
    std::string unit;
    v1::UnitOfMeasure want;
  };
  for (const Case& c :
       {Case{"", v1::UNIT_PIECE}, Case{"pc", v1::UNIT_PIECE}, Case{"kg", v1::UNIT_KG},
        Case{"l", v1::UNIT_LITRE}, Case{"m", v1::UNIT_METRE}}) {
    catalog::ParsedCsv p = catalog::ParseCsv(head + "S1,,Rope,149,A,d,1," + c.unit + "\n", o);
    REQUIRE(p.errors.empty());
    REQUIRE(p.rows.size() == 1);
    CHECK(p.rows[0].entry.unit() == c.want);
  }
  catalog::ParsedCsv bad = catalog::ParseCsv(head + "S1,,Rope,149,A,d,1,yard\n", o);
  REQUIRE(bad.errors.size() == 1);
  CHECK(bad.errors[0].line() == 2);
  CHECK(bad.errors[0].reason() == "unit 'yard' is not pc, kg, l or m");
  // Without the column, or with pc, the entry serializes as before units.
  catalog::ParsedCsv old = catalog::ParseCsv(
      "sku,barcodes,name,price,tax_code,department,active\nS1,,Rope,149,A,d,1\n", o);
  catalog::ParsedCsv pc = catalog::ParseCsv(head + "S1,,Rope,149,A,d,1,pc\n", o);
  CHECK(old.rows[0].entry.SerializeAsString() == pc.rows[0].entry.SerializeAsString());
  v1::CatalogEntry without_unit = pc.rows[0].entry;
  without_unit.clear_unit();
  CHECK(pc.rows[0].entry.SerializeAsString() == without_unit.SerializeAsString());
}

// ------------------------------------------------------------ corrections

TEST_CASE("a line voided before the total is priced, kept apart and counted", "[corrections]") {
  Till t;
  v1::Sale s = SimpleSale("apple", 2, 120, "A", v1::CARD);
  *s.add_voided_lines() = SimpleSale("pear", 3, 99).lines(0);
  *s.add_voided_lines() = Measured("beef", 250, 990);
  auto rec = t.journal->RecordSale(s);
  INFO(rec.status().ToString());
  REQUIRE(rec.ok());
  CHECK(rec->total == 240);  // the voided lines are not in it
  v1::DayTotals x = t.X();
  CHECK(x.gross_sales() == 240);
  CHECK(x.corrections().line_void_count() == 2);
  CHECK(x.corrections().line_voids() == 297 + 248);  // 0.250 x 9.90 = 2.475
  CHECK(x.measured_line_count() == 0);
  // A voided line is checked like any line.
  v1::Sale bad = SimpleSale("apple", 1, 120, "A", v1::CARD);
  v1::SaleLine* v = bad.add_voided_lines();
  *v = SimpleSale("pear", 1, 99).lines(0);
  v->set_tax_code("Q");
  auto refused = t.journal->RecordSale(bad);
  CHECK(refused.status().message() ==
        "voided line 1: unknown tax code 'Q' (none in force in store settings version 1)");
}

TEST_CASE(
    "a price override needs a reason of the settings and a supervisor, the Z sums "
    "catalog - keyed",
    "[corrections]") {
  struct Case {
    std::string reason, supervisor;
    int64_t catalog_price;
    std::string refusal;  // empty: recorded
  };
  const Case cases[] = {
      {"damaged", "sup-1", 500, ""},
      {"price match", "sup-2", 350, ""},  // keyed above the catalog price: negative
      {"", "sup-1", 500, "line 1: a price override needs a reason code and a supervisor id"},
      {"damaged", "", 500, "line 1: a price override needs a reason code and a supervisor id"},
      {"friend", "sup-1", 500,
       "line 1: price override reason 'friend' is not one of the store settings' (damaged, "
       "price match, manager special)"},
      {std::string(65, 'r'), "sup-1", 500,
       "line 1: price override reason code or supervisor id over 64 characters"},
      {"damaged", "sup-1", -1, "line 1: negative catalog price in the override"},
  };
  Till t;
  for (const Case& c : cases) {
    INFO(c.reason << " " << c.supervisor);
    v1::Sale s = SimpleSale("vase", 3, 400, "A", v1::CARD);  // keyed 4.00
    v1::PriceOverride* o = s.mutable_lines(0)->mutable_price_override();
    o->set_catalog_price(c.catalog_price);
    o->set_reason_code(c.reason);
    o->set_supervisor_id(c.supervisor);
    auto rec = t.journal->RecordSale(s);
    if (c.refusal.empty()) {
      REQUIRE(rec.ok());
    } else {
      REQUIRE_FALSE(rec.ok());
      CHECK(rec.status().message() == c.refusal);
    }
  }
  v1::DayTotals x = t.X();
  CHECK(x.receipt_count() == 2);
  CHECK(x.gross_sales() == 2 * 1200);  // at the keyed price
  CHECK(x.corrections().price_override_count() == 2);
  CHECK(x.corrections().price_overrides() == 3 * (500 - 400) + 3 * (350 - 400));
}

TEST_CASE("a return without a receipt: a reason, within the limit, a supervisor above 20.00",
          "[corrections]") {
  struct Case {
    int64_t price;
    std::string reason, supervisor;
    bool with_original;
    std::string refusal;
  };
  // The sim store: at most 50.00, a supervisor above 20.00.
  const Case cases[] = {
      {1500, "gift", "", false, ""},
      {4999, "lost receipt", "sup-1", false, ""},
      {2000, "gift", "", false, ""},  // 20.00 is not above 20.00
      {2001, "gift", "", false,
       "a return without a receipt of 20.01 (above 20.00) needs a supervisor id"},
      {5001, "gift", "sup-1", false,
       "a return without a receipt of 50.01 is above the store's limit of 50.00"},
      {1500, "", "", false, "a return without a receipt needs a reason"},
      {1500, "gift", "", true, "a return without a receipt names no original receipt"},
      {1500, std::string(201, 'x'), "", false,
       "refund reason over 200 or supervisor id over 64 characters"},
  };
  Till t;
  for (const Case& c : cases) {
    INFO(c.price << " " << c.reason);
    v1::SaleLine l = SimpleSale("scarf", 1, c.price).lines(0);
    v1::Refund r = CardRefund({l}, c.price);
    r.set_without_receipt(true);
    r.set_reason(c.reason);
    r.set_supervisor_id(c.supervisor);
    if (c.with_original) r.set_original_receipt_no(1);
    auto rec = t.journal->RecordRefund(r);
    if (c.refusal.empty()) {
      INFO(rec.status().ToString());
      REQUIRE(rec.ok());
    } else {
      REQUIRE_FALSE(rec.ok());
      CHECK(rec.status().message() == c.refusal);
    }
  }
  v1::DayTotals x = t.X();
  CHECK(x.refund_count() == 3);
  CHECK(x.refunds() == 1500 + 4999 + 2000);
  CHECK(x.corrections().no_receipt_refund_count() == 3);
  CHECK(x.corrections().no_receipt_refunds() == 1500 + 4999 + 2000);
  CHECK_THAT(t.journal->ReceiptText(1).value(), Catch::Contains("Return without receipt: gift"));

  // A store whose settings set no limit takes none.
  Till strict(SettingsWith([](v1::StoreSettings* s) { s->set_no_receipt_refund_limit(0); }));
  v1::Refund r = CardRefund({SimpleSale("scarf", 1, 100).lines(0)}, 100);
  r.set_without_receipt(true);
  r.set_reason("gift");
  CHECK(strict.journal->RecordRefund(r).status().message() ==
        "returns without a receipt are not allowed (store settings version 1 sets no limit)");
}

TEST_CASE("the settings' terms of weighed goods and corrections are checked", "[corrections]") {
  struct Case {
    std::function<void(v1::StoreSettings*)> edit;
    std::string reason;  // empty: valid
  };
  const Case cases[] = {
      {[](v1::StoreSettings*) {}, ""},
      {[](v1::StoreSettings* s) { s->mutable_scale_labels(0)->set_item_digits(4); },
       "store settings: scale label 1: "},
      {[](v1::StoreSettings* s) { s->set_no_receipt_refund_limit(-1); },
       "store settings: a limit for returns without a receipt is negative"},
      {[](v1::StoreSettings* s) { s->add_price_override_reasons(""); },
       "store settings: a price override reason of 1..64 characters"},
      {[](v1::StoreSettings* s) {
         for (int i = 0; i < 48; ++i) s->add_price_override_reasons("r" + std::to_string(i));
       },
       "store settings: more than 50 price override reasons"},
      {[](v1::StoreSettings* s) {
         for (int i = 0; i < 10; ++i) *s->add_scale_labels() = s->scale_labels(0);
       },
       "store settings: more than 10 scale label layouts"},
  };
  for (const Case& c : cases) {
    v1::StoreSettings s = sim::SimStoreSettings("store-1");
    c.edit(&s);
    Status st = settings::Check(s);
    if (c.reason.empty()) {
      CHECK(st.ok());
    } else {
      REQUIRE_FALSE(st.ok());
      CHECK_THAT(st.message(), Catch::StartsWith(c.reason));
    }
  }
}

// --------------------------------------------------------------- training

TEST_CASE("training receipts take the next number, print TRAINING and count only apart",
          "[training]") {
  Till t;
  v1::CashMovement float_in;
  float_in.set_type(v1::OPENING_FLOAT);
  float_in.set_amount(10000);
  REQUIRE(t.journal->RecordCashMovement(float_in).ok());
  auto real = t.journal->RecordSale(SimpleSale("apple", 2, 120));  // cash 2.40
  REQUIRE(real.ok());

  t.journal->SetTraining(true);
  CHECK(t.journal->training());
  auto practice = t.journal->RecordSale(SimpleSale("tv", 1, 49900));
  REQUIRE(practice.ok());
  // A training refund of the real receipt consumes nothing of it.
  v1::SaleLine back;
  back.set_sku("apple");
  back.set_qty(2);
  v1::Refund tr = CardRefund({back}, 240);
  tr.set_original_receipt_no(real->receipt_no);
  auto training_refund = t.journal->RecordRefund(tr);
  REQUIRE(training_refund.ok());
  v1::Void v;
  *v.add_lines() = SimpleSale("pear", 1, 99).lines(0);
  REQUIRE(t.journal->RecordVoid(v).ok());
  t.journal->SetTraining(false);

  CHECK(practice->receipt_no == real->receipt_no + 1);  // gapless numbering
  CHECK(training_refund->receipt_no == real->receipt_no + 2);
  auto events = t.journal->ReadEvents(practice->seq, 1).value();
  DecodedEvent d;
  REQUIRE(DecodeEvent(events[0], &d).ok());
  CHECK(d.header.training());
  CHECK(t.journal->Verify().ok);  // chained and signed like any event

  v1::DayTotals x = t.X();
  CHECK(x.receipt_count() == 1);
  CHECK(x.gross_sales() == 240);
  CHECK(x.refund_count() == 0);
  CHECK(x.void_count() == 0);
  CHECK(x.last_receipt_no() == real->receipt_no + 3);
  REQUIRE(x.drawers_size() == 1);
  CHECK(x.drawers(0).expected() == 10000 + 240);
  CHECK(x.training().event_count() == 3);
  CHECK(x.training().receipt_count() == 1);
  CHECK(x.training().sales() == 49900);
  CHECK(x.training().refund_count() == 1);
  CHECK(x.training().refunds() == 240);
  CHECK(x.training().void_count() == 1);
  CHECK(x.training().voids() == 99);
  int64_t taxed = 0;
  for (const auto& tax : x.taxes()) taxed += tax.gross();
  CHECK(taxed == 240);

  std::string receipt = t.journal->ReceiptText(practice->receipt_no).value();
  CHECK_THAT(receipt, Catch::Contains("*** TRAINING - NOT A RECEIPT ***"));
  CHECK_THAT(t.journal->ReceiptText(real->receipt_no).value(), !Catch::Contains("TRAINING"));
  CHECK_THAT(t.journal->XReportText().value(), Catch::Contains("TRAINING (not in any total)"));

  // The real receipt is still whole for a real refund; the training sale
  // cannot be refunded for real.
  v1::Refund again = CardRefund({back}, 240);
  again.set_original_receipt_no(real->receipt_no);
  CHECK(t.journal->RecordRefund(again).ok());
  v1::SaleLine tv;
  tv.set_sku("tv");
  tv.set_qty(1);
  v1::Refund fake = CardRefund({tv}, 49900);
  fake.set_original_receipt_no(practice->receipt_no);
  CHECK(t.journal->RecordRefund(fake).status().message() ==
        "refund of unknown receipt " + std::to_string(practice->receipt_no) +
            " (no sale of this till has that number)");
}

TEST_CASE("a day sealed in training mode is a real seal", "[training]") {
  Till t;
  t.journal->SetTraining(true);
  REQUIRE(t.journal->RecordSale(SimpleSale("apple", 1, 120)).ok());
  auto seal = t.journal->SealDay(t.journal->business_day(), "anna");
  REQUIRE(seal.ok());
  auto events = t.journal->ReadEvents(seal->seq, 1).value();
  DecodedEvent d;
  REQUIRE(DecodeEvent(events[0], &d).ok());
  CHECK_FALSE(d.header.training());
  auto x = t.journal->XReport(d.body.day_sealed().sealed_day()).value();
  CHECK(x.sealed());
  CHECK(x.training().event_count() == 1);
}

// -------------------------------------------------------------------- sim

TEST_CASE("pos-sim's own tally of weighed goods, corrections and training matches the journal",
          "[weighed][corrections][training][sim]") {
  std::string dir = storenode::testing::MakeTempDir("weighed-sim");
  ManualClock clock(kT0);
  edge::Options options = sim::SimTillOptions(dir, "store-1", sim::SimDeviceId(1));
  options.clock = &clock;
  auto journal = edge::Journal::Open(options).value();
  sim::TillSim till(journal.get(), 7, 1);
  for (int i = 0; i < 1500; ++i) {
    clock.Advance(20'000'000);
    REQUIRE(till.RunSales(1).ok());
  }
  auto days = edge::TotalsFromFile(options.journal_path).value();
  REQUIRE(days.size() == till.Tally().size());
  for (const v1::DayTotals& d : days) {
    INFO(d.business_day());
    const v1::DayTotals& tally = till.Tally().at(d.business_day());
    CHECK(d.measured_line_count() == tally.measured_line_count());
    CHECK(d.measured_gross() == tally.measured_gross());
    CHECK(d.corrections().SerializeAsString() == tally.corrections().SerializeAsString());
    CHECK(d.training().SerializeAsString() == tally.training().SerializeAsString());
    // The mix has every figure.
    CHECK(tally.measured_line_count() > 0);
    CHECK(tally.corrections().line_void_count() > 0);
    CHECK(tally.corrections().price_override_count() > 0);
    CHECK(tally.corrections().no_receipt_refund_count() > 0);
    CHECK(tally.training().receipt_count() > 0);
  }
}

TEST_CASE("pos-sim's classic mix draws none of issue 17's kinds", "[weighed][sim]") {
  std::string dir = storenode::testing::MakeTempDir("weighed-classic");
  ManualClock clock(kT0);
  edge::Options options = sim::SimTillOptions(dir, "store-1", sim::SimDeviceId(1));
  options.clock = &clock;
  auto journal = edge::Journal::Open(options).value();
  sim::TillSim till(journal.get(), 7, 1, sim::ParseMix("classic").value());
  REQUIRE(till.RunSales(400).ok());
  for (const v1::DayTotals& d : edge::TotalsFromFile(options.journal_path).value()) {
    CHECK(d.measured_line_count() == 0);
    CHECK_FALSE(d.has_corrections());
    CHECK_FALSE(d.has_training());
  }
  for (const auto& [day, tally] : till.Tally()) {
    CHECK(tally.measured_line_count() == 0);
    CHECK(tally.corrections().ByteSizeLong() == 0);
    CHECK(tally.training().ByteSizeLong() == 0);
  }
}

// ------------------------------------------------------------- fog.toml

TEST_CASE("fog.toml [store] takes scale labels, return limits and override reasons",
          "[weighed][corrections]") {
  const std::string dir = storenode::testing::MakeTempDir("weighed-toml");
  auto load = [&](const std::string& terms) {
    const std::string path = dir + "/store.toml";
    std::ofstream(path) << "[store]\nid = \"store-1\"\n" << terms;
    return fog::LoadStoreTermsFile(path);
  };
  const std::string base = "time_zone = \"UTC\"\ncurrency = \"EUR\"\n";
  const std::string tax =
      "\n[store.tax.A]\nname = \"Standard\"\nrates = [\"2000-01-01T00:00 20%\"]\n";

  // The sim store's fog.toml says what its tills' settings say.
  auto sim_terms = load(sim::SimStoreConfig());
  REQUIRE(sim_terms.ok());
  const v1::StoreSettings want = sim::SimStoreSettings("store-1");
  CHECK(sim_terms->scale_labels(0).SerializeAsString() == want.scale_labels(0).SerializeAsString());
  CHECK(sim_terms->no_receipt_refund_limit() == 5000);
  CHECK(sim_terms->no_receipt_supervisor_above() == 2000);
  CHECK(std::vector<std::string>(sim_terms->price_override_reasons().begin(),
                                 sim_terms->price_override_reasons().end()) ==
        std::vector<std::string>{"damaged", "price match", "manager special"});

  auto two = load(base + "scale_labels = [\"28 5 measure 5\", \"21 5 price 4 check\"]\n" + tax);
  REQUIRE(two.ok());
  REQUIRE(two->scale_labels_size() == 2);
  const v1::ScaleLabelLayout& price = two->scale_labels(1);
  CHECK(price.prefix() == "21");
  CHECK(price.item_digits() == 5);
  CHECK(price.embeds_price());
  CHECK(price.price_check());
  CHECK(price.value_digits() == 4);
  CHECK(two->no_receipt_refund_limit() == 0);  // default: no returns without a receipt

  struct Bad {
    std::string terms, reason;
  };
  const Bad bad[] = {
      {"scale_labels = [\"28 5 grams 5\"]\n",
       "key 'store.scale_labels': scale label '28 5 grams 5': want \"PREFIX ITEM_DIGITS "
       "price|measure VALUE_DIGITS [check]\""},
      {"scale_labels = [\"28 5 measure 5 check please\"]\n", "key 'store.scale_labels'"},
      {"no_receipt_refund_limit = -1\n", "no_receipt_refund_limit"},
  };
  for (const Bad& b : bad) {
    auto r = load(base + b.terms + tax);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.status().message(), Catch::Contains(b.reason));
  }
  // A layout that does not add up to 13 digits parses, and the settings
  // check refuses it before any till sees it.
  auto twelve = load(base + "scale_labels = [\"28 4 measure 5\"]\n" + tax);
  REQUIRE(twelve.ok());
  v1::StoreSettings doc = *twelve;
  doc.set_version(1);
  doc.set_currency_decimals(2);
  CHECK_THAT(settings::Check(doc).message(), Catch::StartsWith("store settings: scale label 1: "));
}

TEST_CASE("lines: a quantity in thousandths reads and prints back the same", "[weighed]") {
  struct Case {
    const char* text;
    int64_t milli;
    const char* printed;
  };
  for (const Case& c :
       {Case{"12", 12'000, "12"}, Case{"12.5", 12'500, "12.500"}, Case{"0,250", 250, "0.250"},
        Case{"-0.75", -750, "-0.750"}, Case{"-12.001", -12'001, "-12.001"},
        Case{"1000000000", 1'000'000'000'000, "1000000000"}}) {
    INFO(c.text);
    auto milli = lines::ParseMilli(c.text, /*measured=*/true, 1'000'000'000);
    REQUIRE(milli.ok());
    CHECK(*milli == c.milli);
    CHECK(lines::FormatUnits(*milli) == c.printed);
  }
  CHECK(lines::ParseMilli("1000000000.001", true, 1'000'000'000).status().message() ==
        "'1000000000.001' is over 1000000000");
  CHECK(lines::ParseMilli("12.5", false, 100).status().message() ==
        "'12.5' is not a whole number (the item is sold by the piece)");
  CHECK(lines::ParseMilli("", true, 100).status().message() == "'' is not a quantity");
  CHECK(lines::ParseMilli(".5", true, 100).status().message() == "'.5' is not a quantity");
  CHECK(lines::ParseMilli("5.", true, 100).status().message() == "'5.' is not a quantity");
}
