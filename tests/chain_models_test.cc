// The chain's read models (tools/ledger/chain_models.h): real ZReports of
// three stores over three days, one with a supplement and two forced
// close-downs, in EUR and JPY, applied to a real SQLite file; the report's
// figures per grouping recomputed here from the Zs' inputs, its text, CSV and
// JSON, the watch, the refusals, and the real storectl binary.
#include "ledger/chain_models.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "harness/postgres.h"
#include "ledger/sql_conn.h"
#include "storenode/common/money.h"
#include "storenode/common/sqlite.h"
#include "support/fog.h"
#include "support/harness.h"
#include "support/run.h"
#include "support/store.h"

namespace storenode::testing {
namespace {

using ledger::ChainQuery;

struct Count {
  std::string device;
  bool counted = false;
  int64_t counted_cash = 0, expected = 0;
};

// What one Z (or supplement) says, from which it is built and against which
// the report is recomputed.
struct ZIn {
  std::string store = "", day = "";
  uint64_t z = 0;
  uint32_t part = 0;
  std::string currency = "EUR";
  int decimals = 2;
  uint64_t receipts = 0;
  int64_t gross = 0, discounts = 0, refunds = 0, voids = 0;
  uint64_t refund_count = 0, void_count = 0;
  int32_t rate_a = 1900;  // tax code A at this rate takes what B does not
  int64_t gross_b = 0;    // tax code B (700 bp)
  int64_t cash = 0;       // of the sales; the rest is CARD, the refunds too
  std::vector<Count> counts = {};
  std::vector<std::string> missing = {};

  int64_t net() const { return gross - discounts - refunds; }
  int64_t tax_a() const { return TaxIncluded(Money(net() - gross_b), TaxRate{rate_a}).minor(); }
  int64_t tax_b() const { return TaxIncluded(Money(gross_b), TaxRate{700}).minor(); }
  int64_t tax() const { return tax_a() + tax_b(); }
  int64_t card() const { return gross - discounts - cash; }
};

v1::ZReport MakeZ(const ZIn& in) {
  v1::ZReport z;
  z.set_store_id(in.store);
  z.set_business_day(in.day);
  z.set_z_number(in.z);
  z.set_part(in.part);
  z.set_kind(in.part == 0 ? "Z" : "SUPPLEMENT");
  z.set_currency(in.currency);
  z.set_currency_decimals(in.decimals);
  z.set_store_name("Shop " + in.store);
  v1::DayTotals* t = z.mutable_totals();
  t->set_store_id(in.store);
  t->set_business_day(in.day);
  t->set_receipt_count(in.receipts);
  t->set_gross_sales(in.gross);
  t->set_discounts(in.discounts);
  t->set_refunds(in.refunds);
  t->set_refund_count(in.refund_count);
  t->set_voids(in.voids);
  t->set_void_count(in.void_count);
  t->set_net_sales(in.net());
  t->set_sealed(in.missing.empty());
  auto tax = [&](const std::string& code, int32_t rate, int64_t gross, int64_t tax) {
    if (gross == 0) return;
    v1::TaxTotal* x = t->add_taxes();
    x->set_tax_code(code);
    x->set_rate_bp(rate);
    x->set_name(code == "A" ? "Standard" : "Reduced");
    x->set_gross(gross);
    x->set_tax(tax);
    x->set_net(gross - tax);
  };
  tax("A", in.rate_a, in.net() - in.gross_b, in.tax_a());
  tax("B", 700, in.gross_b, in.tax_b());
  // Tenders by name: CARD before CASH, as FinishTotals sorts them.
  if (in.card() != 0 || in.refunds != 0) {
    v1::TenderTotal* card = t->add_tenders();
    card->set_type("CARD");
    card->set_count(in.receipts + in.refund_count);
    card->set_sales(in.card());
    card->set_refunds(in.refunds);
  }
  if (in.cash != 0) {
    v1::TenderTotal* cash = t->add_tenders();
    cash->set_type("CASH");
    cash->set_count(1);
    cash->set_sales(in.cash);
  }
  for (const Count& c : in.counts) {
    v1::DrawerCount* d = z.add_drawer_counts();
    d->set_device_id(c.device);
    d->set_counted(c.counted);
    d->set_expected_cash(c.expected);
    if (c.counted) {
      d->set_counted_cash(c.counted_cash);
      d->set_over_short(c.counted_cash - c.expected);
    }
  }
  for (const std::string& m : in.missing) z.add_missing_tills(m);
  z.set_forced(!in.missing.empty());
  return z;
}

// store-a and store-b sell in EUR, store-c in JPY (no minor units).
// store-a: 12-01; 12-02 forced without till-2, whose late sales came in a
// supplement; 12-03 not closed. store-b: every day, its last at rate A
// 20.00% (a rate change). store-c: 12-01 forced without till-8 and till-9;
// 12-02 not closed; 12-03.
std::vector<ZIn> Chain() {
  std::vector<ZIn> zs;
  ZIn a1{.store = "store-a", .day = "2026-12-01", .z = 1, .receipts = 10, .gross = 100000};
  a1.discounts = 1000;
  a1.refunds = 2000;
  a1.refund_count = 1;
  a1.voids = 500;
  a1.void_count = 1;
  a1.gross_b = 7000;
  a1.cash = 30000;
  a1.counts = {{"till-1", true, 40000, 40050}, {"till-2", true, 12000, 11900}};
  zs.push_back(a1);
  ZIn a2{.store = "store-a", .day = "2026-12-02", .z = 2, .receipts = 5, .gross = 50000};
  a2.cash = 10000;
  a2.counts = {{"till-1", true, 10000, 10000}};
  a2.missing = {"till-2"};
  zs.push_back(a2);
  ZIn a3{.store = "store-a", .day = "2026-12-02", .z = 3, .part = 1, .receipts = 2, .gross = 3000};
  a3.counts = {{"till-2", false, 0, 0}};
  zs.push_back(a3);
  ZIn b1{.store = "store-b", .day = "2026-12-01", .z = 1, .receipts = 4, .gross = 20000};
  b1.counts = {{"till-1", false, 0, 0}};
  zs.push_back(b1);
  ZIn b2{.store = "store-b", .day = "2026-12-02", .z = 2, .receipts = 6, .gross = 30000};
  b2.discounts = 500;
  zs.push_back(b2);
  ZIn b3{.store = "store-b", .day = "2026-12-03", .z = 3, .receipts = 1, .gross = 1000};
  b3.rate_a = 2000;
  zs.push_back(b3);
  ZIn c1{.store = "store-c", .day = "2026-12-01", .z = 1, .currency = "JPY", .decimals = 0};
  c1.receipts = 3;
  c1.gross = 5000;
  c1.rate_a = 1000;
  c1.cash = 5000;
  c1.missing = {"till-9", "till-8"};
  zs.push_back(c1);
  ZIn c2{.store = "store-c", .day = "2026-12-03", .z = 2, .currency = "JPY", .decimals = 0};
  c2.receipts = 2;
  c2.gross = 2400;
  c2.rate_a = 1000;
  c2.cash = 2400;
  zs.push_back(c2);
  return zs;
}

// A ledger.db with the read models of `zs`, applied in order, each in its
// own transaction as the ledger stores it.
std::string LedgerWith(const std::string& dir, const std::vector<ZIn>& zs) {
  const std::string path = dir + "/ledger.db";
  auto db = ledger::OpenSqlite(path, {});
  REQUIRE(db.ok());
  REQUIRE((*db)->Script(ledger::kChainSchemaSqlite).ok());
  for (const ZIn& in : zs) {
    ledger::SqlTxn tx(**db);
    REQUIRE(tx.begin_status().ok());
    const Status s = ledger::ApplyChainRows(ledger::RowsOf(MakeZ(in)), **db);
    INFO(s.ToString());
    REQUIRE(s.ok());
    REQUIRE(tx.Commit().ok());
  }
  return path;
}

v1::ChainReport Report(const std::string& path, ChainQuery q) {
  auto db = ledger::OpenSqlite(path, {.read_only = true});
  REQUIRE(db.ok());
  auto r = ledger::QueryChainReport(q, **db);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return *r;
}

v1::ChainWatch Watch(const std::string& path, const std::string& day) {
  auto db = ledger::OpenSqlite(path, {});
  REQUIRE(db.ok());
  auto w = ledger::QueryChainWatch(day, **db);
  INFO(w.status().ToString());
  REQUIRE(w.ok());
  return *w;
}

const v1::ChainCurrency& CurrencyOf(const v1::ChainReport& r, const std::string& code) {
  for (const v1::ChainCurrency& c : r.currencies()) {
    if (c.currency() == code) return c;
  }
  FAIL("no currency " << code);
  throw;
}

// The figures of the Zs `pick` selects, recomputed from their inputs.
template <typename Pick>
v1::ChainFigures Expected(Pick pick) {
  v1::ChainFigures f;
  std::set<std::string> stores;
  std::set<std::pair<std::string, std::string>> days;
  for (const ZIn& in : Chain()) {
    if (!pick(in)) continue;
    stores.insert(in.store);
    days.insert({in.store, in.day});
    f.set_closed(f.closed() + (in.part == 0));
    f.set_supplements(f.supplements() + (in.part != 0));
    f.set_receipts(f.receipts() + in.receipts);
    f.set_gross_sales(f.gross_sales() + in.gross);
    f.set_discounts(f.discounts() + in.discounts);
    f.set_refund_count(f.refund_count() + in.refund_count);
    f.set_refunds(f.refunds() + in.refunds);
    f.set_net_sales(f.net_sales() + in.net());
    f.set_tax(f.tax() + in.tax());
    f.set_void_count(f.void_count() + in.void_count);
    f.set_voids(f.voids() + in.voids);
    for (const Count& c : in.counts) {
      if (in.part != 0) continue;
      if (!c.counted) {
        f.set_drawers_not_counted(f.drawers_not_counted() + 1);
        continue;
      }
      f.set_drawers_counted(f.drawers_counted() + 1);
      f.set_cash_counted(f.cash_counted() + c.counted_cash);
      f.set_over_short(f.over_short() + c.counted_cash - c.expected);
    }
    f.set_forced(f.forced() + !in.missing.empty());
    f.set_missing_tills(f.missing_tills() + in.missing.size());
  }
  f.set_stores(stores.size());
  f.set_days(days.size());
  return f;
}

void RequireSame(const v1::ChainFigures& got, const v1::ChainFigures& want) {
  INFO("got  " << got.ShortDebugString() << "\nwant " << want.ShortDebugString());
  REQUIRE(got.SerializeAsString() == want.SerializeAsString());
}

const ChainQuery kAll{.from_day = "2026-12-01", .to_day = "2026-12-03"};

ChainQuery By(std::string by, ChainQuery q = kAll) {
  q.by = std::move(by);
  return q;
}

}  // namespace

TEST_CASE(
    "a Z's chain rows: figures, tax per rate, tenders and over/short, a supplement adds "
    "its part only",
    "[chain-report]") {
  const std::vector<ZIn> zs = Chain();
  const ledger::ChainRows a1 = ledger::RowsOf(MakeZ(zs[0]));
  CHECK(a1.day.store_id == "store-a");
  CHECK(a1.day.business_day == "2026-12-01");
  CHECK(a1.day.currency == "EUR");
  CHECK(a1.day.currency_decimals == 2);
  CHECK(a1.day.z_number == 1);
  CHECK(a1.day.closed == 1);
  CHECK(a1.day.supplements == 0);
  CHECK(a1.day.net_sales == Money(97000));
  // 90000 at 19% holds 14369.75 -> 14370; 7000 at 7% holds 457.94 -> 458.
  CHECK(a1.day.tax == Money(14370 + 458));
  CHECK(a1.day.drawers_counted == 2);
  CHECK(a1.day.cash_counted == Money(52000));
  CHECK(a1.day.over_short == Money(-50 + 100));
  REQUIRE(a1.taxes.size() == 2);
  CHECK(a1.taxes[0].tax_code == "A");
  CHECK(a1.taxes[0].gross == Money(90000));
  CHECK(a1.taxes[1].tax_code == "B");
  CHECK(a1.taxes[1].name == "Reduced");
  REQUIRE(a1.tenders.size() == 2);
  CHECK(a1.tenders[0].type == "CARD");
  CHECK(a1.tenders[0].sales == Money(100000 - 1000 - 30000));
  CHECK(a1.tenders[1].type == "CASH");

  const ledger::ChainRows a3 = ledger::RowsOf(MakeZ(zs[2]));
  CHECK(a3.day.z_number == 0);  // the day's z_number is its Z's
  CHECK(a3.day.closed == 0);
  CHECK(a3.day.supplements == 1);
  CHECK(a3.day.receipts == 2);
  CHECK(a3.day.drawers_not_counted == 0);  // counts belong to the Z

  const ledger::ChainRows c1 = ledger::RowsOf(MakeZ(zs[6]));
  CHECK(c1.day.currency == "JPY");
  CHECK(c1.day.currency_decimals == 0);
  CHECK(c1.day.forced == 1);
  CHECK(c1.missing_tills == std::vector<std::string>{"till-8", "till-9"});

  v1::ZReport bare = MakeZ(zs[0]);
  bare.clear_currency();
  bare.set_currency_decimals(0);
  CHECK(ledger::RowsOf(bare).day.currency_decimals == 2);  // report_text.h's default
}

TEST_CASE("the two schemas differ only in SQLite's WITHOUT ROWID", "[chain-report]") {
  std::string sqlite(ledger::kChainSchemaSqlite);
  for (size_t at; (at = sqlite.find(" WITHOUT ROWID")) != std::string::npos;) {
    sqlite.erase(at, std::string_view(" WITHOUT ROWID").size());
  }
  CHECK(sqlite == ledger::kChainSchemaPg);
}

TEST_CASE(
    "the chain report sums every store's Zs and supplements per currency, by store and by "
    "day",
    "[chain-report]") {
  const std::string path = LedgerWith(MakeTempDir("chain"), Chain());

  const v1::ChainReport by_store = Report(path, kAll);
  REQUIRE(by_store.currencies_size() == 2);
  CHECK(by_store.currencies(0).currency() == "EUR");
  CHECK(by_store.currencies(1).currency() == "JPY");
  const v1::ChainCurrency& eur = CurrencyOf(by_store, "EUR");
  CHECK(eur.currency_decimals() == 2);
  REQUIRE(eur.rows_size() == 2);
  CHECK(eur.rows(0).store_id() == "store-a");
  CHECK(eur.rows(1).store_id() == "store-b");
  RequireSame(eur.rows(0).figures(), Expected([](const ZIn& z) { return z.store == "store-a"; }));
  RequireSame(eur.rows(1).figures(), Expected([](const ZIn& z) { return z.store == "store-b"; }));
  RequireSame(eur.total().figures(), Expected([](const ZIn& z) { return z.currency == "EUR"; }));
  // By hand: store-a 970.00 + 500.00 + 30.00 net over two days (one Z with its
  // supplement), store-b 200.00 + 295.00 + 10.00.
  CHECK(eur.rows(0).figures().net_sales() == 150000);
  CHECK(eur.rows(0).figures().days() == 2);
  CHECK(eur.rows(0).figures().closed() == 2);
  CHECK(eur.rows(0).figures().supplements() == 1);
  CHECK(eur.rows(0).figures().over_short() == 50);
  CHECK(eur.total().figures().net_sales() == 200500);
  CHECK(eur.total().figures().stores() == 2);
  const v1::ChainCurrency& jpy = CurrencyOf(by_store, "JPY");
  CHECK(jpy.currency_decimals() == 0);
  REQUIRE(jpy.rows_size() == 1);
  CHECK(jpy.rows(0).store_id() == "store-c");
  CHECK(jpy.total().figures().net_sales() == 7400);  // never added to the EUR
  CHECK(jpy.total().figures().tax() == 455 + 218);
  CHECK(jpy.total().figures().missing_tills() == 2);

  const v1::ChainReport by_day = Report(path, By("day"));
  const v1::ChainCurrency& eur_days = CurrencyOf(by_day, "EUR");
  REQUIRE(eur_days.rows_size() == 3);
  for (int i = 0; i < 3; ++i) {
    const std::string day = "2026-12-0" + std::to_string(i + 1);
    CHECK(eur_days.rows(i).business_day() == day);
    RequireSame(eur_days.rows(i).figures(),
                Expected([&](const ZIn& z) { return z.currency == "EUR" && z.day == day; }));
  }
  CHECK(eur_days.rows(2).figures().stores() == 1);  // store-a has not closed 12-03
  RequireSame(eur_days.total().figures(), eur.total().figures());
  const v1::ChainCurrency& jpy_days = CurrencyOf(by_day, "JPY");
  REQUIRE(jpy_days.rows_size() == 2);  // store-c did not close 12-02
  CHECK(jpy_days.rows(0).business_day() == "2026-12-01");
  CHECK(jpy_days.rows(1).business_day() == "2026-12-03");

  // One store, one day.
  ChainQuery one = kAll;
  one.store_id = "store-a";
  one.from_day = one.to_day = "2026-12-02";
  const v1::ChainReport a2 = Report(path, one);
  REQUIRE(a2.currencies_size() == 1);
  RequireSame(a2.currencies(0).total().figures(),
              Expected([](const ZIn& z) { return z.store == "store-a" && z.day == "2026-12-02"; }));
  CHECK(a2.currencies(0).total().figures().receipts() == 7);

  // No Z in the range: an empty report.
  ChainQuery none = kAll;
  none.from_day = none.to_day = "2026-11-30";
  CHECK(Report(path, none).currencies_size() == 0);
}

TEST_CASE("the chain report by tax rate and by tender, per currency", "[chain-report]") {
  const std::string path = LedgerWith(MakeTempDir("chain"), Chain());

  // (currency, code, rate) -> gross, tax recomputed from the inputs.
  std::map<std::tuple<std::string, std::string, int32_t>, std::pair<int64_t, int64_t>> taxes;
  for (const ZIn& in : Chain()) {
    auto& a = taxes[{in.currency, "A", in.rate_a}];
    a.first += in.net() - in.gross_b;
    a.second += in.tax_a();
    if (in.gross_b != 0) {
      auto& b = taxes[{in.currency, "B", 700}];
      b.first += in.gross_b;
      b.second += in.tax_b();
    }
  }
  const v1::ChainReport by_tax = Report(path, By("tax"));
  size_t rows = 0;
  for (const v1::ChainCurrency& c : by_tax.currencies()) {
    int64_t gross = 0, tax = 0;
    for (const v1::ChainRow& r : c.rows()) {
      const auto want = taxes.at({c.currency(), r.tax().tax_code(), r.tax().rate_bp()});
      CHECK(r.tax().gross() == want.first);
      CHECK(r.tax().tax() == want.second);
      CHECK(r.tax().net() == want.first - want.second);
      gross += want.first;
      tax += want.second;
      ++rows;
    }
    CHECK(c.total().tax().gross() == gross);
    CHECK(c.total().tax().tax() == tax);
  }
  CHECK(rows == taxes.size());
  const v1::ChainCurrency& eur = CurrencyOf(by_tax, "EUR");
  REQUIRE(eur.rows_size() == 3);  // A 19%, A 20% (store-b's last day), B 7%
  CHECK(eur.rows(0).tax().rate_bp() == 1900);
  CHECK(eur.rows(0).tax().name() == "Standard");
  CHECK(eur.rows(1).tax().rate_bp() == 2000);
  CHECK(eur.rows(1).tax().gross() == 1000);
  CHECK(eur.rows(2).tax().tax_code() == "B");
  CHECK(eur.total().tax().tax() == CurrencyOf(Report(path, kAll), "EUR").total().figures().tax());

  const v1::ChainReport by_tender = Report(path, By("tender"));
  const v1::ChainCurrency& eur_t = CurrencyOf(by_tender, "EUR");
  REQUIRE(eur_t.rows_size() == 2);
  CHECK(eur_t.rows(0).tender().type() == "CARD");
  CHECK(eur_t.rows(1).tender().type() == "CASH");
  int64_t card = 0, card_refunds = 0, cash = 0;
  for (const ZIn& in : Chain()) {
    if (in.currency != "EUR") continue;
    card += in.card();
    card_refunds += in.refunds;
    cash += in.cash;
  }
  CHECK(eur_t.rows(0).tender().sales() == card);
  CHECK(eur_t.rows(0).tender().refunds() == card_refunds);
  CHECK(eur_t.rows(1).tender().sales() == cash);
  CHECK(cash == 40000);
  CHECK(eur_t.total().tender().sales() == card + cash);
  // Taken = net sales (no rounding in these Zs): the tenders add up to the store figures.
  CHECK(eur_t.total().tender().sales() - eur_t.total().tender().refunds() == 200500);
  const v1::ChainCurrency& jpy_t = CurrencyOf(by_tender, "JPY");
  REQUIRE(jpy_t.rows_size() == 1);
  CHECK(jpy_t.rows(0).tender().sales() == 7400);
}

TEST_CASE("a day's figures are the same whichever order its Z and supplement are applied in",
          "[chain-report]") {
  std::vector<ZIn> reversed = Chain();
  std::reverse(reversed.begin(), reversed.end());
  const std::string in_order = LedgerWith(MakeTempDir("chain"), Chain());
  const std::string backwards = LedgerWith(MakeTempDir("chain"), reversed);
  for (const std::string by : {"store", "day", "tax", "tender"}) {
    CHECK(ledger::FormatChainReportCsv(Report(in_order, By(by))) ==
          ledger::FormatChainReportCsv(Report(backwards, By(by))));
  }
}

TEST_CASE("the chain report's CSV, text and JSON", "[chain-report]") {
  const std::string path = LedgerWith(MakeTempDir("chain"), Chain());

  const std::vector<std::string> store_csv =
      Lines(ledger::FormatChainReportCsv(Report(path, kAll)));
  REQUIRE(store_csv.size() == 4);
  CHECK(store_csv[0] ==
        "currency,store_id,days,stores,closed,supplements,receipts,gross_sales,discounts,"
        "refund_count,refunds,net_sales,tax,rounding,void_count,voids,drawers_counted,"
        "drawers_not_counted,cash_counted,over_short,forced,missing_tills");
  // store-a's tax: 14370 + 458 (12-01), 7983 (12-02), 479 (its supplement).
  CHECK(store_csv[1] ==
        "EUR,store-a,2,1,2,1,17,1530.00,10.00,1,20.00,1500.00,232.90,0.00,1,5.00,3,0,620.00,0.50,"
        "1,1");
  CHECK(store_csv[2].starts_with("EUR,store-b,3,1,3,0,11,510.00,5.00,0,0.00,505.00,"));
  CHECK(store_csv[3] == "JPY,store-c,2,1,2,0,5,7400,0,0,0,7400,673,0,0,0,0,0,0,0,1,2");

  const std::vector<std::string> tax_csv =
      Lines(ledger::FormatChainReportCsv(Report(path, By("tax"))));
  REQUIRE(tax_csv.size() == 5);
  CHECK(tax_csv[0] == "currency,tax_code,rate_bp,name,net,tax,gross");
  // 1000 at 20% holds 166.67 -> 167.
  CHECK(tax_csv[2] == "EUR,A,2000,Standard,8.33,1.67,10.00");
  CHECK(tax_csv[4] == "JPY,A,1000,Standard,6727,673,7400");
  const std::vector<std::string> tender_csv =
      Lines(ledger::FormatChainReportCsv(Report(path, By("tender"))));
  REQUIRE(tender_csv.size() == 4);
  CHECK(tender_csv[0] == "currency,type,count,sales,refunds,net");
  CHECK(tender_csv[2] == "EUR,CASH,2,400.00,0.00,400.00");
  CHECK(tender_csv[3] == "JPY,CASH,2,7400,0,7400");
  CHECK(Lines(ledger::FormatChainReportCsv(Report(path, By("day"))))[0].starts_with(
      "currency,business_day,days,stores,"));

  const std::string text = ledger::FormatChainReportText(Report(path, kAll));
  INFO(text);
  for (const std::string& line : Lines(text)) CHECK(line.size() <= 80);
  const std::vector<std::string> lines = Lines(text);
  CHECK(lines[1].find("CHAIN REPORT BY STORE") != std::string::npos);
  CHECK(lines[3] == "Business days   2026-12-01 .. 2026-12-03 (3 days)");
  CHECK(lines[4] == "Stores          all");
  CHECK(lines[5] == "Currencies      EUR, JPY: each totalled on its own, never added together");
  //                 key (20)            count(6) receipts(10) net(16)     tax(14)  over/short(14)
  CHECK(std::count(
            lines.begin(), lines.end(),
            "store-a                  2        17         1500.00        232.90          0.50") ==
        1);
  CHECK(std::count(lines.begin(), lines.end(), "JPY (amounts in 0 decimals)") == 1);
  CHECK(std::count(
            lines.begin(), lines.end(),
            "store-c                  2         5            7400           673             0") ==
        1);

  // JSON: the ChainReport message, int64 as strings (protobuf's mapping).
  const std::string json = ledger::FormatChainReportJson(Report(path, kAll));
  v1::ChainReport parsed;
  REQUIRE(google::protobuf::util::JsonStringToMessage(json, &parsed).ok());
  CHECK(parsed.SerializeAsString() == Report(path, kAll).SerializeAsString());
  CHECK(json.find("\"currency\": \"JPY\"") != std::string::npos);
  CHECK(json.find("\"net_sales\": \"200500\"") != std::string::npos);
  CHECK(json.find("\"by\": \"store\"") != std::string::npos);
}

TEST_CASE(
    "the watch names the stores that have not closed a day and the day's forced "
    "close-downs",
    "[chain-report]") {
  const std::string path = LedgerWith(MakeTempDir("chain"), Chain());

  const v1::ChainWatch d1 = Watch(path, "2026-12-01");
  CHECK(d1.stores() == 3);
  CHECK(d1.closed() == 3);
  CHECK(d1.not_closed_size() == 0);
  REQUIRE(d1.forced_size() == 1);
  CHECK(d1.forced(0).store_id() == "store-c");
  CHECK(d1.forced(0).z_number() == 1);
  CHECK(std::vector<std::string>(d1.forced(0).missing_tills().begin(),
                                 d1.forced(0).missing_tills().end()) ==
        std::vector<std::string>{"till-8", "till-9"});

  const v1::ChainWatch d2 = Watch(path, "2026-12-02");
  CHECK(d2.closed() == 2);
  REQUIRE(d2.not_closed_size() == 1);
  CHECK(d2.not_closed(0).store_id() == "store-c");
  CHECK(d2.not_closed(0).store_name() == "Shop store-c");
  CHECK(d2.not_closed(0).last_closed_day() == "2026-12-03");
  REQUIRE(d2.forced_size() == 1);
  CHECK(d2.forced(0).store_id() == "store-a");
  CHECK(d2.forced(0).z_number() == 2);  // the supplement does not change the day's Z
  CHECK(d2.forced(0).missing_tills_size() == 1);
  CHECK(d2.forced(0).missing_tills(0) == "till-2");

  const v1::ChainWatch d3 = Watch(path, "2026-12-03");
  REQUIRE(d3.not_closed_size() == 1);
  CHECK(d3.not_closed(0).store_id() == "store-a");
  CHECK(d3.not_closed(0).last_closed_day() == "2026-12-02");
  CHECK(d3.forced_size() == 0);

  const v1::ChainWatch d4 = Watch(path, "2026-12-04");
  CHECK(d4.not_closed_size() == 3);

  CHECK(Lines(ledger::FormatChainWatchText(d2)) ==
        std::vector<std::string>{
            "Business day 2026-12-02: 2 of 3 stores closed",
            "Not closed (1):", "  store-c              last closed 2026-12-03  (Shop store-c)",
            "Forced close-downs (1):", "  store-a              Z 2, missing till-2"});
  v1::ChainWatch parsed;
  REQUIRE(
      google::protobuf::util::JsonStringToMessage(ledger::FormatChainWatchJson(d2), &parsed).ok());
  CHECK(parsed.SerializeAsString() == d2.SerializeAsString());
}

TEST_CASE(
    "a chain query is refused with one line: bad days, reversed or too long a range, an "
    "unknown grouping",
    "[chain-report]") {
  auto reason = [](ChainQuery q) {
    auto r = ledger::CheckChainQuery(q);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kInvalidArgument);
    return r.status().message();
  };
  CHECK(reason({.from_day = "2026-12-32", .to_day = "2026-12-31"}) ==
        "'2026-12-32' is not a business day (want YYYY-MM-DD)");
  CHECK(reason({.from_day = "2026-12-01", .to_day = ""}) ==
        "'' is not a business day (want YYYY-MM-DD)");
  CHECK(reason({.from_day = "2026-12-03", .to_day = "2026-12-01"}) ==
        "from_day 2026-12-03 is after to_day 2026-12-01");
  CHECK(reason({.from_day = "2025-06-01", .to_day = "2026-06-02"}) ==
        "a report covers at most 366 days; 2025-06-01 .. 2026-06-02 is 367");
  CHECK(reason({.from_day = "2026-12-01", .to_day = "2026-12-01", .by = "week"}) ==
        "unknown grouping 'week' (store, day, tax or tender)");
  CHECK(ledger::CheckChainQuery({.from_day = "2025-06-02", .to_day = "2026-06-02"}).ok());

  auto db = ledger::OpenSqlite(MakeTempDir("chain") + "/ledger.db", {});
  REQUIRE(db.ok());
  auto watch = ledger::QueryChainWatch("12/02/2026", **db);
  REQUIRE_FALSE(watch.ok());
  CHECK(watch.status().message() == "'12/02/2026' is not a business day (want YYYY-MM-DD)");
}

TEST_CASE("storectl chain report and watch print the read models of a ledger file",
          "[chain-report]") {
  const std::string dir = MakeTempDir("chain");
  const std::string path = LedgerWith(dir, Chain());
  const std::vector<std::string> range = {"--db",       path,   "--from",
                                          "2026-12-01", "--to", "2026-12-03"};
  auto report = [&](std::vector<std::string> more) {
    std::vector<std::string> args = {"chain", "report"};
    args.insert(args.end(), range.begin(), range.end());
    args.insert(args.end(), more.begin(), more.end());
    return RunTool(dir, "storectl", args);
  };

  Ran text = report({});
  INFO(text.err);
  REQUIRE(text.code == 0);
  CHECK(text.out == ledger::FormatChainReportText(Report(path, kAll)));
  Ran csv = report({"--by", "tax", "--format", "csv"});
  REQUIRE(csv.code == 0);
  CHECK(csv.out == ledger::FormatChainReportCsv(Report(path, By("tax"))));
  Ran json = report({"--by", "day", "--format", "json", "--store", "store-b"});
  REQUIRE(json.code == 0);
  v1::ChainReport parsed;
  REQUIRE(google::protobuf::util::JsonStringToMessage(json.out, &parsed).ok());
  CHECK(parsed.store_id() == "store-b");
  REQUIRE(parsed.currencies_size() == 1);
  CHECK(parsed.currencies(0).rows_size() == 3);
  CHECK(parsed.currencies(0).total().figures().net_sales() == 50500);

  Ran watch =
      RunTool(dir, "storectl", {"chain", "watch", "--db", path, "--day", "2026-12-03", "--once"});
  CHECK(watch.code == 1);  // store-a has not closed it
  CHECK(watch.out == ledger::FormatChainWatchText(Watch(path, "2026-12-03")));
  Ran closed = RunTool(
      dir, "storectl",
      {"chain", "watch", "--db", path, "--day", "2026-12-01", "--once", "--format", "json"});
  CHECK(closed.code == 0);
  v1::ChainWatch w;
  REQUIRE(google::protobuf::util::JsonStringToMessage(closed.out, &w).ok());
  CHECK(w.closed() == 3);
  CHECK(w.forced_size() == 1);

  // Usage errors: exit 2, one line.
  Ran reversed =
      RunTool(dir, "storectl",
              {"chain", "report", "--db", path, "--from", "2026-12-03", "--to", "2026-12-01"});
  CHECK(reversed.code == 2);
  CHECK(reversed.err == "storectl: from_day 2026-12-03 is after to_day 2026-12-01\n");
  Ran missing = RunTool(
      dir, "storectl",
      {"chain", "report", "--db", dir + "/none.db", "--from", "2026-12-01", "--to", "2026-12-01"});
  CHECK(missing.code == 2);
  CHECK(missing.err == "storectl: no ledger file at " + dir + "/none.db\n");
  const std::string plain = dir + "/plain.db";
  REQUIRE(ledger::OpenSqlite(plain, {}).ok());
  Ran no_models =
      RunTool(dir, "storectl", {"chain", "watch", "--db", plain, "--day", "2026-12-01", "--once"});
  CHECK(no_models.code == 2);
  CHECK(no_models.err == "storectl: " + plain + " holds no chain read models (table chain_days)\n");
  Ran bad_by = report({"--by", "week"});
  CHECK(bad_by.code == 2);
}

}  // namespace storenode::testing

namespace storenode::testing {

TEST_CASE("PostgreSQL keeps the same read models and answers the same reports as SQLite",
          "[chain-report][integration]") {
  harness::PgCluster pg(MakeTempDir("pg"));
  const Status started = pg.Start();
  INFO(started.ToString() << "\n" << ReadFile(pg.log_path()));
  REQUIRE(started.ok());
  auto conn = ledger::OpenPostgres(pg.conninfo());
  INFO(conn.status().ToString());
  REQUIRE(conn.ok());
  REQUIRE((*conn)->Script(ledger::kChainSchemaPg).ok());
  REQUIRE((*conn)->Script(ledger::kChainSchemaPg).ok());  // IF NOT EXISTS: again is a no-op
  for (const ZIn& in : Chain()) {
    REQUIRE((*conn)->Script("BEGIN").ok());
    const Status s = ledger::ApplyChainRows(ledger::RowsOf(MakeZ(in)), **conn);
    INFO(s.ToString());
    REQUIRE(s.ok());
    REQUIRE((*conn)->Script("COMMIT").ok());
  }
  const std::string dir = MakeTempDir("chain");
  const std::string sqlite = LedgerWith(dir, Chain());

  auto pg_report = [&](const ChainQuery& q) {
    auto r = ledger::QueryChainReport(q, **conn);
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    return *r;
  };
  ChainQuery one_store = kAll;
  one_store.store_id = "store-a";
  for (const ChainQuery& q : {By("store"), By("day"), By("tax"), By("tender"), one_store}) {
    INFO(q.by << " " << q.store_id);
    const v1::ChainReport from_pg = pg_report(q);
    CHECK(from_pg.currencies_size() >= 1);
    CHECK(from_pg.SerializeAsString() == Report(sqlite, q).SerializeAsString());
  }
  for (const std::string day : {"2026-12-01", "2026-12-02", "2026-12-03", "2026-12-04"}) {
    auto w = ledger::QueryChainWatch(day, **conn);
    REQUIRE(w.ok());
    CHECK(w->SerializeAsString() == Watch(sqlite, day).SerializeAsString());
  }

  // A read-only session refuses to write.
  auto reader = ledger::OpenPostgres(pg.conninfo());
  REQUIRE(reader.ok());
  REQUIRE((*reader)->Script("SET default_transaction_read_only = on").ok());
  const Status write = ledger::ApplyChainRows(ledger::RowsOf(MakeZ(Chain()[0])), **reader);
  CHECK_FALSE(write.ok());
  CHECK(write.message().find("read-only transaction") != std::string::npos);

  // storectl --pg, each format.
  const std::vector<std::string> range = {"--pg",       pg.conninfo(), "--from",
                                          "2026-12-01", "--to",        "2026-12-03"};
  auto report = [&](std::vector<std::string> more) {
    std::vector<std::string> args = {"chain", "report"};
    args.insert(args.end(), range.begin(), range.end());
    args.insert(args.end(), more.begin(), more.end());
    return RunTool(dir, "storectl", args);
  };
  Ran text = report({"--by", "day"});
  INFO(text.err);
  REQUIRE(text.code == 0);
  CHECK(text.out == ledger::FormatChainReportText(Report(sqlite, By("day"))));
  Ran csv = report({"--by", "tender", "--format", "csv"});
  REQUIRE(csv.code == 0);
  CHECK(csv.out == ledger::FormatChainReportCsv(Report(sqlite, By("tender"))));
  Ran json = report({"--format", "json"});
  REQUIRE(json.code == 0);
  CHECK(json.out == ledger::FormatChainReportJson(Report(sqlite, kAll)));
  Ran watch = RunTool(dir, "storectl",
                      {"chain", "watch", "--pg", pg.conninfo(), "--day", "2026-12-02", "--once"});
  CHECK(watch.code == 1);
  CHECK(watch.out == ledger::FormatChainWatchText(Watch(sqlite, "2026-12-02")));
  Ran both = RunTool(
      dir, "storectl",
      {"chain", "watch", "--pg", pg.conninfo(), "--db", sqlite, "--day", "2026-12-02", "--once"});
  CHECK(both.code == 2);
}

}  // namespace storenode::testing

namespace storenode::testing {

TEST_CASE(
    "a real store's forced Z and its supplement add up in the chain report to the day its "
    "journals hold",
    "[chain-report][integration]") {
  Store store(3, "store-real");
  REQUIRE(store.fog->Start().ok());
  for (size_t i = 0; i < 3; ++i) store.OpenTill(i);
  for (size_t i = 0; i < 3; ++i) store.Sell(i, 60);
  const std::string day = store.tills[0].journal->business_day();
  REQUIRE(store.WaitSynced());
  store.tills[2].sync.reset();  // till-3 goes offline and keeps selling
  store.Sell(2, 25);

  // till-1 counted 1.25 over; till-2 and till-3 not counted.
  v1::FogRequest xreq;
  xreq.mutable_report()->set_kind("x");
  xreq.mutable_report()->set_business_day(day);
  const v1::DayTotals x = store.fog->Ask(xreq).value().report().x();
  int64_t till1_expected = 0;
  for (const auto& d : x.drawers()) {
    if (d.device_id() == "till-1") till1_expected = d.expected();
  }
  auto closed = store.CloseDay(day, {{"till-1", till1_expected + 125}}, /*force=*/true,
                               std::chrono::seconds(3));
  REQUIRE(closed.closed());
  store.tills[2].sync = std::move(
      edge::SyncEngine::Start(store.tills[2].journal.get(), store.SyncOptionsFor()).value());
  const v1::CloseDownResponse after = store.WaitSupplements(day, 1);

  const std::string dir = MakeTempDir("chain");
  const std::string path = dir + "/ledger.db";
  {
    auto db = ledger::OpenSqlite(path, {});
    REQUIRE(db.ok());
    REQUIRE((*db)->Script(ledger::kChainSchemaSqlite).ok());
    // The verbatim Z bytes, as the ledger stores them.
    for (const v1::SignedZ& s : {after.z(), after.supplements(0)}) {
      v1::ZReport z;
      REQUIRE(z.ParseFromString(s.z()));
      REQUIRE(ledger::ApplyChainRows(ledger::RowsOf(z), **db).ok());
    }
  }
  const v1::ZReport z = DecodeZ(after.z());
  REQUIRE(z.forced());
  const v1::DayTotals want = DayFromJournals(store, day);  // every event of the day, all tills

  const ChainQuery q{.from_day = day, .to_day = day};
  const v1::ChainReport by_store = Report(path, q);
  REQUIRE(by_store.currencies_size() == 1);
  CHECK(by_store.currencies(0).currency() == z.currency());
  const v1::ChainFigures& f = by_store.currencies(0).rows(0).figures();
  CHECK(by_store.currencies(0).rows(0).store_id() == "store-real");
  CHECK(f.closed() == 1);
  CHECK(f.supplements() == 1);
  CHECK(f.receipts() == want.receipt_count());
  CHECK(f.receipts() > 0);
  CHECK(f.gross_sales() == want.gross_sales());
  CHECK(f.discounts() == want.discounts());
  CHECK(f.refunds() == want.refunds());
  CHECK(f.voids() == want.voids());
  CHECK(f.net_sales() == want.net_sales());
  CHECK(f.rounding() == want.rounding());
  int64_t tax = 0;
  for (const v1::TaxTotal& t : want.taxes()) tax += t.tax();
  CHECK(f.tax() == tax);
  CHECK(f.drawers_counted() == 1);
  CHECK(f.over_short() == 125);
  CHECK(f.forced() == 1);
  CHECK(f.missing_tills() == 1);

  const v1::ChainReport by_tax = Report(path, By("tax", q));
  REQUIRE(by_tax.currencies(0).rows_size() == want.taxes_size());
  for (int i = 0; i < want.taxes_size(); ++i) {
    const v1::TaxTotal& got = by_tax.currencies(0).rows(i).tax();
    CHECK(got.tax_code() == want.taxes(i).tax_code());
    CHECK(got.rate_bp() == want.taxes(i).rate_bp());
    CHECK(got.gross() == want.taxes(i).gross());
    CHECK(got.tax() == want.taxes(i).tax());
  }
  const v1::ChainReport by_tender = Report(path, By("tender", q));
  REQUIRE(by_tender.currencies(0).rows_size() == want.tenders_size());
  for (int i = 0; i < want.tenders_size(); ++i) {
    const v1::TenderTotal& got = by_tender.currencies(0).rows(i).tender();
    CHECK(got.type() == want.tenders(i).type());
    CHECK(got.count() == want.tenders(i).count());
    CHECK(got.sales() == want.tenders(i).sales());
    CHECK(got.refunds() == want.tenders(i).refunds());
  }

  const v1::ChainWatch w = Watch(path, day);
  CHECK(w.stores() == 1);
  CHECK(w.closed() == 1);
  REQUIRE(w.forced_size() == 1);
  CHECK(w.forced(0).z_number() == z.z_number());
  CHECK(w.forced(0).missing_tills_size() == 1);
  CHECK(w.forced(0).missing_tills(0) == "till-3");
}

}  // namespace storenode::testing

namespace storenode::testing {

TEST_CASE(
    "storectl chain watch re-prints until interrupted and shows a close-down stored "
    "meanwhile",
    "[chain-report]") {
  const std::string dir = MakeTempDir("chain");
  const std::string path = LedgerWith(dir, Chain());
  auto watch = Process::Spawn({std::string(SN_BIN_DIR) + "/storectl", "chain", "watch", "--db",
                               path, "--day", "2026-12-03", "--every", "0.2"},
                              dir + "/watch.out", dir + "/watch.err");
  REQUIRE(watch.ok());
  auto printed = [&](const std::string& what) {
    return harness::WaitFor(
        [&] { return ReadFile(dir + "/watch.out").find(what) != std::string::npos; },
        std::chrono::seconds(10));
  };
  REQUIRE(printed("Business day 2026-12-03: 2 of 3 stores closed"));

  // store-a closes 12-03 while the watch reads the file.
  {
    auto db = ledger::OpenSqlite(path, {});
    REQUIRE(db.ok());
    ZIn a4{.store = "store-a", .day = "2026-12-03", .z = 4, .receipts = 1, .gross = 100};
    ledger::SqlTxn tx(**db);
    REQUIRE(ledger::ApplyChainRows(ledger::RowsOf(MakeZ(a4)), **db).ok());
    REQUIRE(tx.Commit().ok());
  }
  REQUIRE(printed("Business day 2026-12-03: 3 of 3 stores closed"));
  watch->Kill(SIGINT);
  CHECK(watch->Wait().code == 0);
  const std::string out = ReadFile(dir + "/watch.out");
  CHECK(out.starts_with("as of "));
  CHECK(ReadFile(dir + "/watch.err").empty());
}

}  // namespace storenode::testing
