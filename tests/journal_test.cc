#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "storenode/common/sqlite.h"
#include "storenode/edge.h"
#include "support/harness.h"
#include "support/till.h"

using namespace storenode;
using storenode::testing::SimpleSale;
using storenode::testing::TillOptions;

namespace {

// 2026-11-26T10:00:00Z
constexpr int64_t kT0 = 1795701600LL * 1000000;

struct Fixture {
  std::string dir = storenode::testing::MakeTempDir("journal");
  ManualClock clock{kT0};
  edge::Options options = TillOptions(dir, "till-1", &clock);
  std::unique_ptr<edge::Journal> journal = std::move(edge::Journal::Open(options).value());

  int64_t Count(const std::string& sql) {
    auto db = sql::Db::Open(options.journal_path).value();
    return db->QueryInt(sql).value();
  }
  void Exec(const std::string& sql) {
    journal.reset();
    auto db = sql::Db::Open(options.journal_path).value();
    REQUIRE(db->Exec(sql).ok());
  }
};

}  // namespace

TEST_CASE("a new journal starts with a signed genesis event and a private key", "[journal]") {
  Fixture f;
  REQUIRE(f.journal->head_seq() == 1);
  REQUIRE(f.journal->journal_id().size() == 16);
  struct stat st {};
  REQUIRE(stat(f.options.journal_path.c_str(), &st) == 0);
  REQUIRE(stat((f.options.journal_path + ".key").c_str(), &st) == 0);
  REQUIRE((st.st_mode & 0777) == 0600);
  auto events = f.journal->ReadEvents(1, 10).value();
  REQUIRE(events.size() == 1);
  v1::EventBody body;
  REQUIRE(body.ParseFromString(events[0].body()));
  REQUIRE(body.genesis().public_key() ==
          std::string(f.journal->public_key().begin(), f.journal->public_key().end()));
  REQUIRE(f.journal->Verify().ok);
}

TEST_CASE("seq and receipt numbers are gapless across kinds and reopen", "[journal]") {
  Fixture f;
  auto s1 = f.journal->RecordSale(SimpleSale("apple", 3, 120)).value();
  v1::CashMovement float_in;
  float_in.set_type(v1::OPENING_FLOAT);
  float_in.set_amount(10000);
  auto m = f.journal->RecordCashMovement(float_in).value();
  v1::Void v;
  *v.add_lines() = SimpleSale("pear", 1, 99).lines(0);
  auto vd = f.journal->RecordVoid(v).value();
  REQUIRE(s1.seq == 2);
  REQUIRE(s1.receipt_no == 1);
  REQUIRE(s1.total == 360);
  REQUIRE(m.seq == 3);
  REQUIRE(m.receipt_no == 0);
  REQUIRE(vd.seq == 4);
  REQUIRE(vd.receipt_no == 2);

  f.journal.reset();
  f.journal = std::move(edge::Journal::Open(f.options).value());
  auto s2 = f.journal->RecordSale(SimpleSale("apple", 1, 120)).value();
  REQUIRE(s2.seq == 5);
  REQUIRE(s2.receipt_no == 3);
  REQUIRE(f.journal->Verify().events_checked == 5);
}

TEST_CASE("the X-report adds up sales, refunds, voids, taxes, tenders and the drawer",
          "[journal]") {
  Fixture f;
  v1::CashMovement mv;
  mv.set_type(v1::OPENING_FLOAT);
  mv.set_amount(20000);
  REQUIRE(f.journal->RecordCashMovement(mv).ok());
  mv.set_type(v1::DROP);
  mv.set_amount(5000);
  REQUIRE(f.journal->RecordCashMovement(mv).ok());

  // Receipt 1: 2 x 2.50 (A, 20%) with 0.50 discount + 1 x 10.55 (B, 5.5%), cash.
  v1::Sale sale;
  auto* l1 = sale.add_lines();
  l1->set_sku("milk");
  l1->set_qty(2);
  l1->set_unit_price(250);
  l1->set_discount(50);
  l1->set_tax_code("A");
  auto* l2 = sale.add_lines();
  l2->set_sku("bread");
  l2->set_qty(1);
  l2->set_unit_price(1055);
  l2->set_tax_code("B");
  auto* t = sale.add_tenders();
  t->set_type(v1::CASH);
  t->set_amount(1505);
  t->set_tendered(2000);
  auto r1 = f.journal->RecordSale(sale).value();
  REQUIRE(r1.total == 1505);
  // Receipt 2: card sale 3 x 1.00 (C, 0%).
  REQUIRE(f.journal->RecordSale(SimpleSale("bag", 3, 100, "C", v1::CARD)).ok());
  // Receipt 3: refund 1 milk of receipt 1 in cash: 2.50 minus half the discount = 2.25.
  v1::Refund refund;
  refund.set_original_receipt_no(1);
  auto* rl = refund.add_lines();
  rl->set_sku("milk");
  rl->set_qty(1);
  auto* rt = refund.add_tenders();
  rt->set_type(v1::CASH);
  rt->set_amount(225);
  auto r3 = f.journal->RecordRefund(refund).value();
  REQUIRE(r3.total == 225);
  // Receipt 4: a void.
  v1::Void v;
  *v.add_lines() = SimpleSale("gum", 1, 80).lines(0);
  REQUIRE(f.journal->RecordVoid(v).ok());
  REQUIRE(f.journal->RecordNoSale(v1::NoSale()).ok());

  v1::DayTotals x = f.journal->XReport().value();
  REQUIRE(x.business_day() == "2026-11-26");
  REQUIRE(x.receipt_count() == 2);
  REQUIRE(x.first_receipt_no() == 1);
  REQUIRE(x.last_receipt_no() == 4);
  REQUIRE(x.gross_sales() == 500 + 1055 + 300);
  REQUIRE(x.discounts() == 50);
  REQUIRE(x.refund_count() == 1);
  REQUIRE(x.refunds() == 225);
  REQUIRE(x.void_count() == 1);
  REQUIRE(x.voids() == 80);
  REQUIRE(x.net_sales() == 1855 - 50 - 225);
  REQUIRE(x.no_sale_count() == 1);
  REQUIRE(x.taxes_size() == 3);
  // A: 450 sold - 225 refunded = 225 gross; tax 75 - 38 (round(37.5)) = 37.
  REQUIRE(x.taxes(0).tax_code() == "A");
  REQUIRE(x.taxes(0).gross() == 225);
  REQUIRE(x.taxes(0).tax() == 75 - 38);
  REQUIRE(x.taxes(0).net() == 225 - 37);
  // B: 10.55 at 5.5% -> tax round(1055*550/10550) = 55.
  REQUIRE(x.taxes(1).tax_code() == "B");
  REQUIRE(x.taxes(1).tax() == 55);
  REQUIRE(x.taxes(2).tax() == 0);
  REQUIRE(x.tenders_size() == 2);
  REQUIRE(x.tenders(0).type() == "CARD");
  REQUIRE(x.tenders(0).sales() == 300);
  REQUIRE(x.tenders(1).type() == "CASH");
  REQUIRE(x.tenders(1).sales() == 1505);
  REQUIRE(x.tenders(1).refunds() == 225);
  REQUIRE(x.drawers_size() == 1);
  REQUIRE(x.drawers(0).expected() == 20000 + 1505 - 225 - 5000);
}

TEST_CASE("partial refunds return exactly the whole line discount", "[journal]") {
  Fixture f;
  v1::Sale sale = SimpleSale("x", 3, 100);
  sale.mutable_lines(0)->set_discount(100);  // 3.00 - 1.00 = 2.00
  sale.mutable_tenders(0)->set_amount(200);
  REQUIRE(f.journal->RecordSale(sale).ok());
  int64_t refunded = 0;
  for (int i = 0; i < 3; ++i) {
    v1::Refund r;
    r.set_original_receipt_no(1);
    r.add_lines()->set_sku("x");
    r.mutable_lines(0)->set_qty(1);
    // Discount shares round(100*q/3) cumulative: 33, 67, 100, so the refunds
    // are 1.00-0.33, 1.00-0.34, 1.00-0.33.
    int64_t expect = i == 1 ? 66 : 67;
    auto* t = r.add_tenders();
    t->set_type(v1::CASH);
    t->set_amount(expect);
    auto rec = f.journal->RecordRefund(r);
    INFO(rec.status().ToString());
    REQUIRE(rec.ok());
    REQUIRE(rec->total == expect);
    refunded += rec->total;
  }
  REQUIRE(refunded == 200);
}

TEST_CASE("invalid input is rejected with a reason and writes nothing", "[journal]") {
  Fixture f;
  REQUIRE(f.journal->RecordSale(SimpleSale("a", 2, 100)).ok());
  uint64_t head = f.journal->head_seq();

  auto expect_rejected = [&](Status s, const std::string& fragment) {
    INFO(s.ToString());
    REQUIRE(s.code() == Code::kInvalidArgument);
    REQUIRE_THAT(s.message(), Catch::Contains(fragment));
    REQUIRE(f.journal->head_seq() == head);
  };

  v1::Sale bad = SimpleSale("a", 1, 100);
  bad.mutable_tenders(0)->set_amount(90);
  expect_rejected(f.journal->RecordSale(bad).status(), "tenders add up to 0.90, total due is 1.00");
  bad = SimpleSale("a", 1, 100, "Z");
  expect_rejected(f.journal->RecordSale(bad).status(), "unknown tax code 'Z'");
  bad = SimpleSale("a", 0, 100);
  expect_rejected(f.journal->RecordSale(bad).status(), "quantity must be positive");
  bad = SimpleSale("a", -2, 100);
  expect_rejected(f.journal->RecordSale(bad).status(), "quantity must be positive");
  bad = SimpleSale("a", 1, 100);
  bad.mutable_lines(0)->set_discount(101);
  expect_rejected(f.journal->RecordSale(bad).status(), "discount");
  bad = SimpleSale("a", 1, 100);
  bad.clear_tenders();
  expect_rejected(f.journal->RecordSale(bad).status(), "no tender");
  bad = SimpleSale("a", 1, 100);
  bad.clear_lines();
  expect_rejected(f.journal->RecordSale(bad).status(), "at least one line");

  v1::Refund r;
  r.set_original_receipt_no(99);
  r.add_lines()->set_sku("a");
  r.mutable_lines(0)->set_qty(1);
  auto* t = r.add_tenders();
  t->set_type(v1::CASH);
  t->set_amount(100);
  expect_rejected(f.journal->RecordRefund(r).status(), "unknown receipt 99");
  r.set_original_receipt_no(1);
  r.mutable_lines(0)->set_qty(3);
  expect_rejected(f.journal->RecordRefund(r).status(), "exceeds what receipt 1 sold");
  r.mutable_lines(0)->set_sku("b");
  r.mutable_lines(0)->set_qty(1);
  expect_rejected(f.journal->RecordRefund(r).status(), "exceeds what receipt 1 sold");
  r.mutable_lines(0)->set_sku("a");
  r.mutable_lines(0)->set_qty(2);
  r.mutable_tenders(0)->set_amount(200);
  REQUIRE(f.journal->RecordRefund(r).ok());
  head = f.journal->head_seq();
  r.mutable_lines(0)->set_qty(1);
  r.mutable_tenders(0)->set_amount(100);
  expect_rejected(f.journal->RecordRefund(r).status(), "exceeds");  // already fully refunded

  v1::CashMovement mv;
  mv.set_type(v1::PAY_IN);
  expect_rejected(f.journal->RecordCashMovement(mv).status(), "must be positive");
  expect_rejected(f.journal->OpenDay("2026-11-25"), "cannot go backwards");
  expect_rejected(f.journal->SealDay("2026-13-01", "fog").status(), "not a day");
  REQUIRE(f.journal->Verify().ok);
}

TEST_CASE("sealing a day books later events on the next day, once", "[journal]") {
  Fixture f;
  REQUIRE(f.journal->RecordSale(SimpleSale("a", 1, 100)).ok());
  auto seal = f.journal->SealDay("2026-11-26", "fog").value();
  REQUIRE(seal.business_day == "2026-11-26");
  auto again = f.journal->SealDay("2026-11-26", "fog").value();
  REQUIRE(again.seq == seal.seq);
  auto next = f.journal->RecordSale(SimpleSale("a", 1, 100)).value();
  REQUIRE(next.business_day == "2026-11-27");
  auto x = f.journal->XReport("2026-11-26").value();
  REQUIRE(x.sealed());
  REQUIRE(x.receipt_count() == 1);
  auto events = f.journal->ReadEvents(seal.seq, 1).value();
  v1::EventBody body;
  REQUIRE(body.ParseFromString(events[0].body()));
  REQUIRE(body.day_sealed().first_receipt_no() == 1);
  REQUIRE(body.day_sealed().last_receipt_no() == 1);
  REQUIRE(body.day_sealed().event_count() == 3);  // genesis, sale, seal
  // Reopened, the till still knows the day is sealed.
  f.journal.reset();
  f.journal = std::move(edge::Journal::Open(f.options).value());
  REQUIRE(f.journal->business_day() == "2026-11-27");
}

TEST_CASE("verify finds the first bad seq for each kind of tampering", "[journal][tamper]") {
  struct Case {
    const char* name;
    const char* sql;
    uint64_t bad_seq;
    const char* reason;
  };
  Case cases[] = {
      {"changed byte in a body",
       "UPDATE events SET body = CAST(substr(body, 1, 3) || X'FF' || substr(body, 5) AS BLOB) "
       "WHERE seq = 6",
       6, "hash does not match"},
      {"deleted row", "DELETE FROM events WHERE seq = 4", 4, "missing"},
      {"swapped rows",
       "UPDATE events SET seq = -1 WHERE seq = 3; UPDATE events SET seq = 3 WHERE seq = 4; "
       "UPDATE events SET seq = 4 WHERE seq = -1",
       3, "missing"},
      {"changed signature", "UPDATE events SET signature = zeroblob(64) WHERE seq = 7", 7,
       "bad signature"},
      {"truncated tail", "DELETE FROM events WHERE seq >= 9", 9, "truncated tail"},
      {"edited index column", "UPDATE events SET business_day = '2026-01-01' WHERE seq = 5", 5,
       "columns differ"},
  };
  for (const Case& c : cases) {
    DYNAMIC_SECTION(c.name) {
      Fixture f;
      for (int i = 0; i < 10; ++i) {
        REQUIRE(f.journal->RecordSale(SimpleSale("sku-" + std::to_string(i + 2), 1, 100)).ok());
      }
      REQUIRE(f.journal->Verify().ok);
      f.Exec(c.sql);
      edge::VerifyReport r = edge::VerifyJournalFile(f.options.journal_path);
      INFO(r.reason);
      REQUIRE_FALSE(r.ok);
      REQUIRE(r.first_bad_seq == c.bad_seq);
      REQUIRE_THAT(r.reason, Catch::Contains(c.reason));
    }
  }
}

TEST_CASE("opening refuses a foreign key file or a journal of another device", "[journal]") {
  Fixture f;
  f.journal.reset();
  edge::Options other = f.options;
  other.device_id = "till-2";
  auto r = edge::Journal::Open(other);
  REQUIRE(r.status().code() == Code::kFailedPrecondition);
  REQUIRE_THAT(r.status().message(), Catch::Contains("belongs to store 'store-1' device 'till-1'"));
  chmod(f.options.key_path.empty() ? (f.options.journal_path + ".key").c_str()
                                   : f.options.key_path.c_str(),
        0644);
  auto r2 = edge::Journal::Open(f.options);
  REQUIRE_THAT(r2.status().message(), Catch::Contains("readable by others"));
}

TEST_CASE("a full PAN, a cash tip and bad promotion shares are refused, not journaled",
          "[journal]") {
  Fixture f;
  const uint64_t head = f.journal->head_seq();
  auto refused = [&](const v1::Sale& sale, const std::string& fragment) {
    Status s = f.journal->RecordSale(sale).status();
    INFO(s.ToString());
    CHECK(s.code() == Code::kInvalidArgument);
    CHECK_THAT(s.message(), Catch::Contains(fragment));
    CHECK(f.journal->head_seq() == head);
  };
  v1::Sale sale = SimpleSale("a", 1, 100);
  sale.mutable_tenders(0)->set_type(v1::CARD);
  sale.mutable_tenders(0)->mutable_card()->set_masked_pan("4111111111111111");  // a full PAN
  refused(sale, "tender 1: masked PAN shows digit 7");
  sale = SimpleSale("a", 1, 100);
  sale.mutable_tenders(0)->set_type(v1::CASH);
  sale.mutable_tenders(0)->set_tip(50);
  refused(sale, "tender 1: a tip is taken on a card tender");
  // A share with no id, and shares beyond the line's discount.
  sale = SimpleSale("a", 1, 100);
  sale.mutable_lines(0)->add_promotions()->set_amount(10);
  refused(sale, "line 1: a promotion needs an id");
  sale = SimpleSale("a", 1, 100);
  v1::LineDiscount* share = sale.mutable_lines(0)->add_promotions();
  share->set_promotion_id("p1");
  share->set_amount(10);
  refused(sale, "line 1: promotions add up to more than the line discount 0.00");
  // A voucher line takes no promotion.
  sale = SimpleSale("a", 1, 100);
  sale.mutable_lines(0)->mutable_voucher()->set_card_id("6001");
  sale.mutable_lines(0)->set_discount(10);
  *sale.mutable_lines(0)->add_promotions() = *share;
  refused(sale, "line 1: a voucher line takes no promotion");
  CHECK(f.Count("SELECT COUNT(*) FROM events") == static_cast<int64_t>(head));
}
