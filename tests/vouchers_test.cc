// The fog's voucher balances (fog/src/vouchers.h) on a real fog.db: each
// load and redemption counted once however often it is booked, and an
// overdraft written as an alert, never a silent negative balance.
#include "fog/src/vouchers.h"

#include <catch2/catch.hpp>

#include "fog/src/store.h"
#include "storenode/common/sqlite.h"
#include "support/harness.h"

using namespace storenode;

namespace {

DecodedEvent Sale(uint64_t seq, const std::string& device, int64_t load, int64_t redeem) {
  DecodedEvent e;
  e.header.set_kind(v1::SALE);
  e.header.set_device_id(device);
  e.header.set_journal_id(std::string(16, 'j'));
  e.header.set_seq(seq);
  e.header.set_business_day("2026-11-26");
  e.header.set_wall_time_us(1795701600LL * 1000000 + static_cast<int64_t>(seq));
  v1::Sale* s = e.body.mutable_sale();
  if (load > 0) {
    v1::SaleLine* l = s->add_lines();
    l->set_gross(load);
    l->mutable_voucher()->set_card_id("C-1");
    l->mutable_voucher()->set_voucher_type("GIFT");
  }
  if (redeem > 0) {
    v1::Tender* t = s->add_tenders();
    t->set_type(v1::VOUCHER);
    t->set_amount(redeem);
    t->mutable_voucher()->set_card_id("C-1");
    t->mutable_voucher()->set_voucher_type("GIFT");
  }
  return e;
}

}  // namespace

TEST_CASE("a card's balance counts each move once and an overdraft is an alert", "[vouchers]") {
  const std::string dir = testing::MakeTempDir("vouchers");
  auto db = sql::Db::Open(dir + "/fog.db").value();
  REQUIRE(sql::Migrate(*db, "fog.db", fog::kFogMigrations).ok());
  fog::VoucherMoves moves;
  auto book = [&](const DecodedEvent& e) {
    moves.Add(e);
    REQUIRE(moves.Flush(*db).ok());
  };
  book(Sale(2, "till-1", 2500, 0));
  book(Sale(2, "till-1", 2500, 0));  // redelivered: nothing new
  book(Sale(3, "till-1", 0, 1000));
  book(Sale(3, "till-1", 0, 1000));
  auto shown = fog::ShowVouchers(*db, "C-1", 0).value();
  REQUIRE(shown.cards_size() == 1);
  CHECK(shown.cards(0).loaded() == 2500);
  CHECK(shown.cards(0).redeemed() == 1000);
  CHECK(shown.cards(0).balance() == 1500);
  CHECK(shown.alert_count() == 0);

  book(Sale(7, "till-2", 0, 2000));  // another till, offline: 5.00 over
  book(Sale(7, "till-2", 0, 2000));
  shown = fog::ShowVouchers(*db, "", 0).value();
  CHECK(shown.cards(0).balance() == -500);
  REQUIRE(shown.alert_count() == 1);
  CHECK(shown.alerts(0).device_id() == "till-2");
  CHECK(shown.alerts(0).seq() == 7);
  CHECK(shown.alerts(0).amount() == 2000);
  CHECK(shown.alerts(0).balance() == -500);

  // A rolled-back transaction's staged moves are forgotten.
  moves.Add(Sale(8, "till-2", 0, 100));
  moves.Clear();
  REQUIRE(moves.Flush(*db).ok());
  CHECK(fog::ShowVouchers(*db, "C-1", 0).value().cards(0).balance() == -500);
}
