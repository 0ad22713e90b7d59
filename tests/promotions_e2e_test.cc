// Promotions end to end, with a real mosquitto and a real fog: a promotions
// file imported at the fog reaches a till with the catalog, prices a sale
// there, a refund in parts gives back exactly its shares, and the fog's X
// and Z show the figures per promotion; pos-sim's promotions reach the Z
// equal to the simulator's own tally.
#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "edge/src/sync_access.h"
#include "storenode/common/report_text.h"
#include "support/catalog_payload.h"
#include "support/harness.h"
#include "support/store.h"

namespace storenode::testing {
namespace {

v1::FogResponse ImportFile(Store& store, const std::string& csv, bool promotions) {
  v1::FogRequest req;
  req.mutable_catalog_import()->set_csv(csv);
  req.mutable_catalog_import()->set_file_name(promotions ? "promotions.csv" : "items.csv");
  req.mutable_catalog_import()->set_promotions(promotions);
  auto r = store.fog->Ask(req);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return *r;
}

v1::DayTotals FogX(Store& store, const std::string& day) {
  v1::FogRequest req;
  req.mutable_report()->set_kind("x");
  req.mutable_report()->set_business_day(day);
  auto r = store.fog->Ask(req);
  REQUIRE(r.ok());
  INFO(r->error());
  REQUIRE(r->ok());
  return r->report().x();
}

// "id lines/receipts amount refund_lines refunded net" per promotion.
std::vector<std::string> Rows(const google::protobuf::RepeatedPtrField<v1::PromotionTotal>& rows) {
  std::vector<std::string> out;
  for (const v1::PromotionTotal& p : rows) {
    out.push_back(p.promotion_id() + " " + std::to_string(p.lines()) + "/" +
                  std::to_string(p.receipts()) + " " + std::to_string(p.amount()) + " " +
                  std::to_string(p.refund_lines()) + " " + std::to_string(p.refunded()) + " " +
                  std::to_string(p.net()));
  }
  return out;
}

}  // namespace

TEST_CASE(
    "A promotions import reaches the till, prices a sale, and a refund in parts gives "
    "back exactly its shares",
    "[promotions][integration]") {
  Store store(1);
  REQUIRE(store.fog->Start().ok());
  store.OpenTill(0);
  edge::Journal& till = *store.tills[0].journal;
  v1::FogResponse items = ImportFile(store,
                                     "sku,barcodes,name,price,tax_code,department,active\n"
                                     "A1,,Crisps,200,A,snacks,1\n"
                                     "B1,,Nuts,250,A,snacks,1\n"
                                     "C1,,Wine,1000,A,wine,1\n",
                                     false);
  REQUIRE(items.ok());

  // A bad file: every bad row by line, nothing applied.
  v1::FogResponse bad = ImportFile(store,
                                   "id,name,type,skus,departments,qty,price\n"
                                   "m3,3 for 5.00,multi_buy,A1;B1,,3,5.00\n"
                                   "x1,Typo,multi_buy,NOPE,,3,5.00\n"
                                   "x2,Typo,item_discount,,spirits,,\n",
                                   true);
  REQUIRE_FALSE(bad.ok());
  REQUIRE(bad.catalog_import().errors_size() == 2);
  CHECK(bad.catalog_import().errors(0).line() == 3);
  CHECK(bad.catalog_import().errors(0).reason() == "sku NOPE is not in the catalog (promotion x1)");
  CHECK(bad.catalog_import().errors(1).line() == 4);
  CHECK(bad.catalog_import().errors(1).reason() ==
        "item_discount needs exactly one of percent and amount");

  v1::FogResponse promos = ImportFile(store,
                                      "id,name,type,skus,departments,qty,price,percent\n"
                                      "m3,3 for 5.00,multi_buy,A1;B1,,3,5.00,\n"
                                      "w10,Wine -10%,item_discount,,wine,,,10\n",
                                      true);
  INFO(promos.error());
  REQUIRE(promos.ok());
  const v1::CatalogImportResponse& v2 = promos.catalog_import();
  CHECK(v2.version() == 2);
  CHECK(v2.promotions_changed() == 2);
  CHECK(v2.promotion_count() == 2);
  CHECK(v2.item_count() == 3);
  CHECK(v2.content_hash() != items.catalog_import().content_hash());
  REQUIRE(WaitFor([&] { return till.catalog().version() == 2; }, std::chrono::seconds(30)));
  CHECK(till.catalog().promotion_count() == 2);
  CHECK(till.catalog().content_hash() == v2.content_hash());
  CHECK(till.catalog().ComputeContentHash().value() == v2.content_hash());

  // 2 x A1 + 2 x B1 + 1 x C1: B, B, A make 3 for 5.00 (7.00 - 5.00 = 2.00,
  // B 1.43, A 0.57, FORMATS 10.6); the wine is 10% off (1.00).
  auto sale = till.SaleFromCatalog({{"A1", 2}, {"B1", 2}, {"C1", 1}});
  INFO(sale.status().ToString());
  REQUIRE(sale.ok());
  REQUIRE(sale->lines_size() == 3);
  auto shares = [](const v1::SaleLine& l) {
    std::string out;
    for (const auto& d : l.promotions()) out += d.promotion_id() + ":" + std::to_string(d.amount());
    return out;
  };
  CHECK(shares(sale->lines(0)) == "m3:57");
  CHECK(shares(sale->lines(1)) == "m3:143");
  CHECK(shares(sale->lines(2)) == "w10:100");
  CHECK(sale->lines(1).discount() == 143);
  CHECK(sale->total() == 400 + 500 + 1000 - 300);

  // A share naming a promotion the catalog does not have is refused.
  v1::Sale forged = *sale;
  forged.mutable_lines(0)->mutable_promotions(0)->set_promotion_id("zz");
  forged.add_tenders()->set_type(v1::CARD);
  forged.mutable_tenders(0)->set_amount(sale->total());
  auto refused = till.RecordSale(forged);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().message() == "promotion zz is not in the catalog (version 2)");

  v1::Tender* card = sale->add_tenders();
  card->set_type(v1::CARD);
  card->set_amount(sale->total());
  auto rec = till.RecordSale(*sale);
  INFO(rec.status().ToString());
  REQUIRE(rec.ok());

  // B1 back one at a time: round_half_away(143 * 1 / 2) = 72, then 143 - 72 = 71.
  for (int64_t want : {72, 71}) {
    v1::Refund refund;
    refund.set_original_receipt_no(rec->receipt_no);
    refund.add_lines()->set_sku("B1");
    refund.mutable_lines(0)->set_qty(1);
    refund.add_tenders()->set_type(v1::CARD);
    refund.mutable_tenders(0)->set_amount(250 - want);
    refund.set_reason("changed mind");
    auto back = till.RecordRefund(refund);
    INFO(back.status().ToString());
    REQUIRE(back.ok());
    CHECK(back->total == 250 - want);
  }
  const std::string day = till.business_day();
  REQUIRE(store.WaitSynced());
  const std::vector<std::string> want = {"m3 2/1 200 2 143 57", "w10 1/1 100 0 0 100"};
  CHECK(Rows(till.XReport(day).value().promotions()) == want);
  v1::DayTotals x = FogX(store, day);
  CHECK(Rows(x.promotions()) == want);
  CHECK(x.discounts() == 300);

  v1::CloseDownResponse closed = store.CloseDay(day);
  REQUIRE(closed.closed());
  v1::ZReport z = DecodeZ(closed.z());
  CHECK(Rows(z.totals().promotions()) == want);
  const std::string text = FormatZText(z, &closed.z());
  CHECK_THAT(text, Catch::Contains("PROMOTIONS"));
  CHECK_THAT(text, Catch::Contains("m3 3 for 5.00"));
  REQUIRE(store.FogQuarantined() == 0);
}

TEST_CASE("pos-sim's promotions reach the fog's X and Z equal to the simulator's own tally",
          "[promotions][integration]") {
  Store store(2);
  REQUIRE(store.fog->Start().ok());
  for (size_t i = 0; i < 2; ++i) store.OpenTill(i);
  for (size_t i = 0; i < 2; ++i) store.Sell(i, 600);
  const std::string day = store.tills[0].journal->business_day();
  REQUIRE(store.WaitSynced());

  // The oracle: the two tills' own tallies of the day, merged by id.
  std::map<std::string, v1::PromotionTotal> tally;
  for (const SimTill& t : store.tills) {
    const v1::SimTill summary = t.sim->Summary();
    for (const v1::DayTotals& d : summary.tally()) {
      if (d.business_day() != day) continue;
      for (const v1::PromotionTotal& p : d.promotions()) {
        v1::PromotionTotal& row = tally[p.promotion_id()];
        row.set_promotion_id(p.promotion_id());
        row.set_lines(row.lines() + p.lines());
        row.set_receipts(row.receipts() + p.receipts());
        row.set_amount(row.amount() + p.amount());
        row.set_refund_lines(row.refund_lines() + p.refund_lines());
        row.set_refunded(row.refunded() + p.refunded());
        row.set_net(row.amount() - row.refunded());
      }
    }
  }
  google::protobuf::RepeatedPtrField<v1::PromotionTotal> oracle;
  for (const auto& [id, row] : tally) *oracle.Add() = row;
  // A realistic mix: every promotion of the sim store was given, some given
  // back; the one with a daily window (bakery-20) only when the wall clock
  // was in it (promotions_totals_test checks the window on a manual clock).
  for (const v1::Promotion& p : sim::SimPromotions()) {
    INFO(p.id());
    if (p.daily_to_minute() == 0) CHECK(tally.count(p.id()) == 1);
  }
  REQUIRE(oracle.size() >= static_cast<int>(sim::SimPromotions().size()) - 1);
  int64_t refunded = 0;
  for (const auto& p : oracle) {
    INFO(p.promotion_id());
    CHECK(p.amount() > 0);
    refunded += p.refunded();
  }
  CHECK(refunded > 0);

  CHECK(Rows(FogX(store, day).promotions()) == Rows(oracle));
  v1::CloseDownResponse closed = store.CloseDay(day);
  REQUIRE(closed.closed());
  v1::ZReport z = DecodeZ(closed.z());
  CHECK(Rows(z.totals().promotions()) == Rows(oracle));
  // The shares are in the day's discounts: the Z's net sales still add up.
  CHECK(z.totals().net_sales() ==
        z.totals().gross_sales() - z.totals().discounts() - z.totals().refunds());
  REQUIRE(store.FogQuarantined() == 0);
}

TEST_CASE("The fog refuses a sale naming a promotion its catalog never had",
          "[promotions][integration]") {
  Store store(1);
  REQUIRE(store.fog->Start().ok());
  store.OpenTill(0, /*sync=*/false);
  edge::Journal& till = *store.tills[0].journal;
  // A replica from elsewhere: 3 items and a promotion this fog never issued
  // (this fog has no catalog, so it sends none to replace it).
  v1::Promotion rogue;
  rogue.set_id("rogue");
  rogue.set_name("Half price");
  rogue.set_type(v1::ITEM_DISCOUNT);
  rogue.add_skus(Sku(1));
  rogue.set_percent_bp(5000);
  rogue.set_active(true);
  auto [payload, hash] = MakePayload(0, 1, 3, 100, {rogue});
  REQUIRE(edge::SyncAccess::Apply(till.catalog(), payload).ok());
  CHECK(till.catalog().content_hash() == hash);
  CHECK(till.catalog().promotion_count() == 1);
  auto sale = till.SaleFromCatalog({{Sku(1), 2}});
  REQUIRE(sale.ok());
  REQUIRE(sale->lines(0).promotions_size() == 1);
  CHECK(sale->lines(0).promotions(0).amount() == 101);  // 50% of 2 x 1.01
  sale->add_tenders()->set_type(v1::CARD);
  sale->mutable_tenders(0)->set_amount(sale->total());
  REQUIRE(till.RecordSale(*sale).ok());
  auto engine = edge::SyncEngine::Start(&till, store.SyncOptionsFor());
  REQUIRE(engine.ok());
  store.tills[0].sync = std::move(*engine);
  CHECK(WaitFor(
      [&] { return store.FogQuarantined("promotion rogue is not in the fog's catalog") > 0; },
      std::chrono::seconds(30)));
}

}  // namespace storenode::testing
