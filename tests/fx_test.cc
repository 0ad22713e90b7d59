// Foreign cash and currency exchange (common/fx.h): the conversion, the
// commission schedule, the customer reference, the rate sheet, the journal's
// EXCHANGE and foreign-cash tenders, the X figures and pos-sim's own tally.
// Figures are worked out by hand in the tables; the sim store's sheet is
// sim::SimRateSheetCsv (EUR home; USD buy 0.89 sell 0.97 mid 0.93, GBP 1.12
// 1.22 1.17, JPY 0.0058 0.0064 0.0061, CHF 1.01 1.10 1.055), its schedule
// 2% min 1.50 max 15.00 buying notes, 1% min 1.00 max 15.00 selling, the
// AML threshold 1000.00.
#include "storenode/common/fx.h"

#include <google/protobuf/util/message_differencer.h>

#include <catch2/catch.hpp>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "sim/sim.h"
#include "storenode/common/clock.h"
#include "storenode/common/journal_format.h"
#include "storenode/common/report_text.h"
#include "storenode/common/store_settings.h"
#include "storenode/common/totals.h"
#include "storenode/edge.h"
#include "support/harness.h"
#include "support/store.h"

using namespace storenode;
using google::protobuf::util::MessageDifferencer;

namespace {

// pos-sim's fx switch alone (every other issue-17 kind off), so these
// figures are only foreign currency's.
const sim::Mix kFxOnly = testing::FxOnlyMix();

// 2026-03-02T09:00:00Z.
constexpr int64_t kT0 = 1772442000LL * 1'000'000;

v1::FxCommission Schedule(int32_t bp, int64_t min, int64_t max) {
  v1::FxCommission c;
  c.set_rate_bp(bp);
  c.set_min(min);
  c.set_max(max);
  return c;
}

struct FxTill {
  std::string dir = testing::MakeTempDir("fx");
  ManualClock clock{kT0};
  std::unique_ptr<edge::Journal> journal;
  explicit FxTill(bool sheet = true) {
    edge::Options o = sim::SimTillOptions(dir, "store-1", "till-1");
    o.settings = sheet ? sim::SimFxSettings("store-1") : sim::SimSettings("store-1");
    o.clock = &clock;
    auto j = edge::Journal::Open(o);
    INFO(j.status().ToString());
    REQUIRE(j.ok());
    journal = std::move(*j);
  }
};

v1::Exchange MakeExchange(v1::ExchangeDirection d, const std::string& currency, int64_t foreign,
                          v1::TenderType pay, int64_t amount) {
  v1::Exchange e;
  e.set_direction(d);
  e.set_currency(currency);
  e.set_foreign_amount(foreign);
  e.set_cashier("anna");
  v1::Tender* t = e.add_tenders();
  t->set_type(pay);
  t->set_amount(amount);
  return e;
}

v1::Sale OneLineSale(int64_t price) {
  v1::Sale s;
  v1::SaleLine* l = s.add_lines();
  l->set_sku("2000000010274");
  l->set_qty(1);
  l->set_unit_price(price);
  l->set_tax_code("A");
  s.set_cashier("anna");
  return s;
}

}  // namespace

TEST_CASE("fx: home value of foreign minor units rounds half away from zero", "[fx]") {
  struct Row {
    int64_t foreign, rate_e9, home;
  };
  const std::vector<Row> rows = {
      {10000, 930'000'000, 9300},  // 100.00 USD at 0.93
      {1, 500'000'000, 1},         // 0.5 cent up
      {1, 499'999'999, 0},         // just below half: down
      {3, 1'500'000'000, 5},       // 4.5 up
      {10000, 580'000'000, 5800},  // 10000 JPY at 0.0058 EUR
      {2, 290'000'000, 1},         // 2 fils at 2.90 EUR/KWD: 0.58 cent
      {1, 290'000'000, 0},         // 0.29 cent
      {-3, 1'500'000'000, -5},     // symmetric
      {1'000'000'000'000, 1'000'000'000'000'000, 1'000'000'000'000'000'000},  // the caps
  };
  for (const Row& r : rows) {
    INFO(r.foreign << " at " << r.rate_e9);
    CHECK(fx::ToHome(r.foreign, r.rate_e9) == r.home);
  }
}

TEST_CASE("fx: a manager's rate becomes rate_e9 per minor unit, exact or refused", "[fx]") {
  struct Row {
    const char* text;
    int home_decimals, foreign_decimals;
    int64_t rate_e9;  // 0: refused
  };
  const std::vector<Row> rows = {
      {"0.9300", 2, 2, 930'000'000},    // EUR per USD
      {"0.0061", 2, 0, 610'000'000},    // EUR per JPY: 0.61 cent a yen
      {"2.9", 2, 3, 290'000'000},       // EUR per KWD: 0.29 cent a fils
      {"150.25", 0, 2, 1'502'500'000},  // JPY per USD: 1.5025 yen a cent
      {"0.123456789", 2, 3, 0},         // 12.3456789 e9 is not exact per fils
      {"0.123456780", 2, 3, 12'345'678},
      {"0", 2, 2, 0},
      {"-1.00", 2, 2, 0},
      {"1.2345678901", 2, 2, 0},  // 10 decimals
      {"1e3", 2, 2, 0},
      {"", 2, 2, 0},
  };
  for (const Row& r : rows) {
    INFO(r.text);
    auto got = fx::ParseRate(r.text, r.home_decimals, r.foreign_decimals);
    if (r.rate_e9 == 0) {
      CHECK_FALSE(got.ok());
    } else {
      REQUIRE(got.ok());
      CHECK(*got == r.rate_e9);
    }
  }
}

TEST_CASE("fx: commission is the percentage held within min and max, rounded half away",
          "[fx][exchange]") {
  const v1::FxCommission buy = Schedule(200, 150, 1500);   // 2%, 1.50..15.00
  const v1::FxCommission sell = Schedule(100, 100, 1500);  // 1%, 1.00..15.00
  struct Row {
    const v1::FxCommission* c;
    int64_t home, commission;
  };
  const std::vector<Row> rows = {
      {&buy, 0, 150},      {&buy, 1000, 150},    // 20 -> the minimum
      {&buy, 7499, 150},                         // 149.98 -> 150 (min)
      {&buy, 7500, 150},                         // exactly the minimum
      {&buy, 7525, 151},                         // 150.5 -> 151
      {&buy, 7524, 150},                         // 150.48 -> 150
      {&buy, 50000, 1000}, {&buy, 75000, 1500},  // exactly the maximum
      {&buy, 75100, 1500},                       // 1502 -> the maximum
      {&sell, 10049, 100},                       // 100.49 -> 100
      {&sell, 10050, 101},                       // 100.5 -> 101
      {&sell, 19400, 194}, {&sell, 150000, 1500}, {&sell, 150049, 1500}, {&sell, 9999, 100},
  };
  for (const Row& r : rows) {
    INFO(r.home);
    CHECK(fx::Commission(r.home, *r.c) == r.commission);
  }
  // A zero schedule takes nothing.
  CHECK(fx::Commission(123456, v1::FxCommission()) == 0);
}

TEST_CASE("fx: a customer reference is an id, never personal data", "[fx][exchange]") {
  struct Row {
    std::string ref;
    const char* refusal;  // nullptr: accepted
  };
  const std::vector<Row> rows = {
      {"CUST-12345678", nullptr},
      {"AB1234", nullptr},
      {"DE89370400440532013001", nullptr},  // IBAN-shaped, bad check digits: an id
      {"ABC12", "5 characters"},
      {std::string(33, '1'), "33 characters"},
      {"john.smith@example.com", "a character other than"},
      {"JOHN-SMITH", "no digit"},
      {"-AB123", "a misplaced '-'"},
      {"AB123-", "a misplaced '-'"},
      {"AB--123", "a misplaced '-'"},
      {"ab12345", "a character other than"},
      {"AB 12345", "a character other than"},
      {"DE89370400440532013000", "it is an IBAN"},
      {"GB82WEST12345698765432", "it is an IBAN"},
  };
  for (const Row& r : rows) {
    INFO(r.ref);
    Status s = fx::CheckCustomerRef(r.ref);
    if (r.refusal == nullptr) {
      CHECK(s.ok());
    } else {
      REQUIRE_FALSE(s.ok());
      CHECK_THAT(s.message(), Catch::Contains(r.refusal));
    }
  }
}

TEST_CASE("fx: the rate sheet CSV parses into sorted entries or names the bad line", "[fx]") {
  const v1::StoreSettings s = sim::SimStoreSettings("store-1");
  auto good = fx::ParseRateSheet(
      "currency,buy,sell,mid,effective_from\n"
      "USD,0.89,0.97,0.93,2026-03-02T08:00\n"
      "\n"
      "CHF , 1.01 , 1.10 , 1.055 , 2026-03-01\r\n"
      "USD,0.88,0.96,0.92,2026-03-01T08:00\n",
      s);
  INFO(good.status().ToString());
  REQUIRE(good.ok());
  REQUIRE(good->size() == 3);
  CHECK((*good)[0].currency() == "CHF");
  CHECK((*good)[0].mid_rate_e9() == 1'055'000'000);
  CHECK((*good)[1].currency() == "USD");
  CHECK((*good)[1].buy_rate_e9() == 880'000'000);
  CHECK((*good)[1].effective_from() == "2026-03-01T08:00");
  CHECK((*good)[2].effective_from_us() - (*good)[1].effective_from_us() == 86'400'000'000);

  struct Row {
    std::string csv;
    const char* reason;
  };
  const std::string h = "currency,buy,sell,mid,effective_from\n";
  const std::vector<Row> bad = {
      {"", "empty rate sheet"},
      {"cur,buy,sell,mid,from\n", "line 1: want the header"},
      {h + "USD,0.89,0.97,0.93\n", "line 2: want 5 fields, got 4"},
      {h + "XYZ,0.89,0.97,0.93,2026-03-01\n", "line 2: currency 'XYZ' is not an ISO 4217"},
      {h + "EUR,1,1,1,2026-03-01\n", "line 2: currency EUR is the store's own"},
      {h + "USD,0.99,0.97,0.93,2026-03-01\n", "line 2: want buy <= mid <= sell"},
      {h + "USD,0.89,0.97,0.93,tomorrow\n", "line 2:"},
      {h + "USD,0.89,0.97,abc,2026-03-01\n", "line 2: rate 'abc'"},
      {h + "USD,0.89,0.97,0.93,2026-03-01\nUSD,0.8,0.9,0.85,2026-03-01T00:00\n",
       "two rates of USD from"},
      {h + std::string(70000, ' '), "more than 65536"},
  };
  for (const Row& r : bad) {
    INFO(r.csv.substr(0, 120));
    auto got = fx::ParseRateSheet(r.csv, s);
    REQUIRE_FALSE(got.ok());
    CHECK_THAT(got.status().message(), Catch::Contains(r.reason));
  }
}

TEST_CASE("fx: store settings refuse a bad sheet or schedule, and a sheet that goes back", "[fx]") {
  const v1::StoreSettings good = sim::SimFxStoreSettings("store-1");
  REQUIRE(settings::Check(good).ok());
  struct Row {
    std::function<void(v1::StoreSettings*)> edit;
    const char* reason;
  };
  const std::vector<Row> rows = {
      {[](auto* s) { s->set_rate_sheet_version(0); }, "rates without a rate sheet version"},
      {[](auto* s) { s->mutable_fx_rates(0)->set_buy_rate_e9(0); }, "want 0 < buy <= mid <= sell"},
      {[](auto* s) { s->mutable_fx_rates(0)->set_currency("EUR"); }, "is the store's own"},
      {[](auto* s) { std::swap(*s->mutable_fx_rates(0), *s->mutable_fx_rates(1)); },
       "ordered by currency"},
      {[](auto* s) { s->mutable_buy_commission()->set_max(10); }, "buy commission"},
      {[](auto* s) { s->mutable_sell_commission()->set_rate_bp(5001); }, "sell commission"},
      {[](auto* s) { s->set_aml_threshold(-1); }, "negative AML threshold"},
  };
  for (size_t i = 0; i < rows.size(); ++i) {
    INFO("row " << i);
    v1::StoreSettings s = good;
    rows[i].edit(&s);
    Status st = settings::Check(s);
    REQUIRE_FALSE(st.ok());
    CHECK_THAT(st.message(), Catch::Contains(rows[i].reason));
  }
  v1::StoreSettings next = good;
  next.set_version(2);
  CHECK(settings::CheckNext(good, next).ok());
  next.mutable_fx_rates(0)->set_mid_rate_e9(next.fx_rates(0).mid_rate_e9() + 1);
  CHECK_THAT(settings::CheckNext(good, next).message(),
             Catch::Contains("rate sheet 1 changed without a new version"));
  next.set_rate_sheet_version(2);
  CHECK(settings::CheckNext(good, next).ok());
  CHECK_THAT(settings::CheckNext(next, good).message(), Catch::Contains("older than 2"));
}

TEST_CASE("fx: the journal fills an exchange by the sheet and the schedule", "[fx][exchange]") {
  FxTill till;
  struct Row {
    v1::ExchangeDirection d;
    const char* currency;
    int64_t foreign;
    int64_t rate_e9, home, commission, total, margin;
    v1::TenderType pay;
    const char* ref;
  };
  const std::vector<Row> rows = {
      // The customer buys 200.00 USD at 0.97: 194.00, 1% = 1.94, pays 195.94;
      // at mid 186.00 the store gains 8.00.
      {v1::SELL_FOREIGN, "USD", 20000, 970'000'000, 19400, 194, 19594, 800, v1::CARD, ""},
      // The customer sells 50.00 USD at 0.89: 44.50, 2% = 0.89 -> min 1.50,
      // gets 43.00; mid 46.50 - 44.50 = 2.00.
      {v1::BUY_FOREIGN, "USD", 5000, 890'000'000, 4450, 150, 4300, 200, v1::CASH, ""},
      // 100000 JPY sold at 0.0064: 640.00, 6.40, 646.40; mid 610.00.
      {v1::SELL_FOREIGN, "JPY", 100000, 640'000'000, 64000, 640, 64640, 3000, v1::CASH, ""},
      // 2000.00 GBP bought at 1.12: 2240.00 (AML: a reference), 2% = 44.80 ->
      // max 15.00, pays out 2225.00; mid 2340.00 - 2240.00 = 100.00.
      {v1::BUY_FOREIGN, "GBP", 200000, 1'120'000'000, 224000, 1500, 222500, 10000, v1::CASH,
       "CUST-00000042"},
      // Exactly at the threshold: 909.09 CHF at 1.10 is 999.999 -> 1000.00,
      // so a reference; mid 1.055 makes 959.08995 -> 959.09, margin 40.91.
      {v1::SELL_FOREIGN, "CHF", 90909, 1'100'000'000, 100000, 1000, 101000, 4091, v1::CARD,
       "AB1234"},
  };
  uint64_t receipt = 0;
  for (const Row& r : rows) {
    INFO(r.currency << " " << r.foreign);
    v1::Exchange e = MakeExchange(r.d, r.currency, r.foreign, r.pay, r.total);
    e.set_customer_ref(r.ref);
    auto quote = till.journal->QuoteExchange(e);
    INFO(quote.status().ToString());
    REQUIRE(quote.ok());
    CHECK(quote->total() == r.total);
    auto rec = till.journal->RecordExchange(e);
    INFO(rec.status().ToString());
    REQUIRE(rec.ok());
    CHECK(rec->receipt_no == ++receipt);
    CHECK(rec->total == r.total);
    auto events = till.journal->ReadEvents(rec->seq, 1).value();
    DecodedEvent ev;
    REQUIRE(DecodeEvent(events[0], &ev).ok());
    REQUIRE(ev.header.kind() == v1::EXCHANGE);
    const v1::Exchange& got = ev.body.exchange();
    CHECK(got.rate_e9() == r.rate_e9);
    CHECK(got.rate_sheet_version() == 1);
    CHECK(got.home_amount() == r.home);
    CHECK(got.commission() == r.commission);
    CHECK(got.total() == r.total);
    CHECK(fx::Margin(got) == r.margin);
  }
  // The printed receipt of the first: what changed hands, at which rate.
  auto text = till.journal->ReceiptText(1, 48);
  INFO(text.status().ToString());
  REQUIRE(text.ok());
  CHECK_THAT(*text, Catch::Contains("EXCHANGE 1"));
  CHECK_THAT(*text, Catch::Contains("We sell to you"));
  CHECK_THAT(*text, Catch::Contains("200.00 USD"));
  CHECK_THAT(*text, Catch::Contains("0.970000000"));
  CHECK_THAT(*text, Catch::Contains("195.94"));
}

TEST_CASE("fx: an exchange that breaks a rule is refused with its reason and writes nothing",
          "[fx][exchange]") {
  FxTill till;
  const auto sell = [](const std::string& c, int64_t foreign, int64_t pay) {
    return MakeExchange(v1::SELL_FOREIGN, c, foreign, v1::CASH, pay);
  };
  struct Row {
    v1::Exchange e;
    const char* reason;
  };
  std::vector<Row> rows;
  rows.push_back({sell("EUR", 1000, 1000), "currency EUR is the store's own"});
  rows.push_back({sell("XYZ", 1000, 1000), "is not an ISO 4217 code"});
  rows.push_back({sell("SEK", 1000, 1000), "no rate for SEK in force in rate sheet 1"});
  rows.push_back({sell("USD", 0, 100), "foreign amount must be 1.."});
  rows.push_back({sell("USD", 1'000'000'000'001, 100), "foreign amount must be 1.."});
  {
    v1::Exchange e = sell("USD", 10000, 9800);
    e.set_direction(v1::EXCHANGE_DIRECTION_UNSPECIFIED);
    rows.push_back({e, "exchange direction not set"});
  }
  {
    v1::Exchange e = sell("USD", 10000, 9800);
    e.set_rate_e9(960'000'000);  // not the sheet's sell rate
    rows.push_back({e, "the sheet sells at 970000000"});
  }
  {
    v1::Exchange e = sell("USD", 10000, 9800);
    e.set_rate_sheet_version(7);
    rows.push_back({e, "rate sheet 7 is not the one in force (1)"});
  }
  // 100.00 USD at 0.97 = 97.00 + 1.00 commission = 98.00 due.
  rows.push_back({sell("USD", 10000, 9700), "tenders add up to 9700, the exchange total is 9800"});
  rows.push_back({MakeExchange(v1::BUY_FOREIGN, "USD", 10000, v1::CARD, 8700),
                  "the store pays out bought notes in CASH"});
  rows.push_back(
      {MakeExchange(v1::SELL_FOREIGN, "USD", 10000, v1::VOUCHER, 9800), "paid in CASH or by CARD"});
  // 1.00 USD bought: 0.89 does not cover the 1.50 minimum.
  rows.push_back({MakeExchange(v1::BUY_FOREIGN, "USD", 100, v1::CASH, 1),
                  "home amount 89 does not cover the commission 150"});
  // 1200.00 USD sold = 1164.00 >= 1000.00: a reference is required.
  rows.push_back({sell("USD", 120000, 117564), "at or above the AML threshold 100000"});
  {
    v1::Exchange e = sell("USD", 10000, 9800);
    e.set_customer_ref("Jane Doe");
    rows.push_back({e, "customer reference: a character other than"});
  }
  {
    v1::Exchange e = sell("USD", 10000, 9800);
    e.mutable_tenders(0)->set_tendered(9000);
    rows.push_back({e, "cash handed over is less than the amount"});
  }
  const uint64_t head = till.journal->head_seq();
  for (size_t i = 0; i < rows.size(); ++i) {
    INFO("row " << i << ": " << rows[i].reason);
    auto rec = till.journal->RecordExchange(rows[i].e);
    REQUIRE_FALSE(rec.ok());
    CHECK(rec.status().code() == Code::kInvalidArgument);
    CHECK_THAT(rec.status().message(), Catch::Contains(rows[i].reason));
    CHECK(till.journal->head_seq() == head);
  }

  FxTill no_sheet(false);
  auto rec = no_sheet.journal->RecordExchange(sell("USD", 10000, 9800));
  REQUIRE_FALSE(rec.ok());
  CHECK_THAT(rec.status().message(), Catch::Contains("no rate sheet in store settings version 1"));
}

TEST_CASE("fx: a sale tendered in foreign notes takes the buy rate, change in home money", "[fx]") {
  FxTill till;
  // 12.99 in cash rounds to 13.00; 20.00 USD at 0.89 is 17.80, change 4.80.
  v1::Sale sale = OneLineSale(1299);
  v1::Tender* t = sale.add_tenders();
  t->set_type(v1::CASH);
  t->set_amount(1300);
  t->mutable_foreign()->set_currency("USD");
  t->mutable_foreign()->set_foreign_tendered(2000);
  auto rec = till.journal->RecordSale(sale);
  INFO(rec.status().ToString());
  REQUIRE(rec.ok());
  DecodedEvent ev;
  REQUIRE(DecodeEvent(till.journal->ReadEvents(rec->seq, 1).value()[0], &ev).ok());
  const v1::Tender& got = ev.body.sale().tenders(0);
  CHECK(got.tendered() == 1780);
  CHECK(got.foreign().rate_e9() == 890'000'000);
  CHECK(got.foreign().mid_rate_e9() == 930'000'000);
  CHECK(got.foreign().rate_sheet_version() == 1);
  auto text = till.journal->ReceiptText(rec->receipt_no, 48);
  REQUIRE(text.ok());
  CHECK_THAT(*text, Catch::Contains("paid in USD"));
  CHECK_THAT(*text, Catch::Contains("20.00 USD"));
  CHECK_THAT(*text, Catch::Contains("4.80"));

  struct Row {
    std::function<void(v1::Tender*)> edit;
    const char* reason;
  };
  const std::vector<Row> rows = {
      {[](v1::Tender* x) { x->mutable_foreign()->set_rate_e9(900'000'000); },
       "the sheet buys at 890000000"},
      {[](v1::Tender* x) { x->mutable_foreign()->set_mid_rate_e9(920'000'000); },
       "USD at mid_rate_e9 920000000, the sheet's mid is 930000000"},
      {[](v1::Tender* x) { x->set_tendered(1800); }, "is not the notes' home value 1780"},
      {[](v1::Tender* x) { x->mutable_foreign()->set_foreign_tendered(1000); },
       "foreign notes worth 890 do not cover the amount 1300"},
      {[](v1::Tender* x) { x->set_type(v1::CARD); }, "foreign notes are a CASH tender"},
      {[](v1::Tender* x) { x->mutable_foreign()->set_currency("EUR"); }, "the store's own"},
      {[](v1::Tender* x) { x->mutable_foreign()->set_rate_sheet_version(2); },
       "rate sheet 2 is not the one in force"},
  };
  const uint64_t head = till.journal->head_seq();
  for (size_t i = 0; i < rows.size(); ++i) {
    INFO("row " << i);
    v1::Sale s = sale;
    s.mutable_tenders(0)->clear_tendered();
    rows[i].edit(s.mutable_tenders(0));
    auto r = till.journal->RecordSale(s);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.status().message(), Catch::Contains(rows[i].reason));
    CHECK(till.journal->head_seq() == head);
  }

  v1::Refund refund;
  refund.set_original_receipt_no(rec->receipt_no);
  v1::SaleLine* back = refund.add_lines();
  back->set_sku("2000000010274");
  back->set_qty(1);
  v1::Tender* rt = refund.add_tenders();
  rt->set_type(v1::CASH);
  rt->set_amount(1299);
  rt->mutable_foreign()->set_currency("USD");
  rt->mutable_foreign()->set_foreign_tendered(2000);
  auto r = till.journal->RecordRefund(refund);
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.status().message(), Catch::Contains("paid back in the home currency"));
}

TEST_CASE(
    "fx: a foreign-cash tender adds its margin against mid but one recorded without mid adds none",
    "[fx]") {
  // The fog's check and the day totals, on tenders as a till sends them:
  // margin = home(foreign_tendered, mid) - tendered, rounded per tender.
  const v1::StoreSettings s = sim::SimFxStoreSettings("store-1");
  struct Row {
    const char* currency;
    int64_t foreign_tendered, amount, rate_e9, mid_rate_e9;
    int64_t tendered, margin;
  };
  const std::vector<Row> rows = {
      // 50.00 USD at buy 0.89 is 44.50, at mid 0.93 46.50.
      {"USD", 5000, 4450, 890'000'000, 930'000'000, 4450, 200},
      // 20.00 USD for 13.00: 17.80 and 18.60.
      {"USD", 2000, 1300, 890'000'000, 930'000'000, 1780, 80},
      // 10000 yen at 0.0058 is 58.00, at 0.0061 61.00.
      {"JPY", 10000, 5000, 580'000'000, 610'000'000, 5800, 300},
      // 3.33 GBP at 1.12 is 372.96 -> 373, at 1.17 389.61 -> 390.
      {"GBP", 333, 373, 1'120'000'000, 1'170'000'000, 373, 17},
      // Recorded before tenders carried a mid rate: accepted, no margin.
      {"USD", 5000, 4450, 890'000'000, 0, 4450, 0},
  };
  DecodedEvent sale;
  sale.header.set_kind(v1::SALE);
  int64_t margin = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    INFO("row " << i);
    const Row& r = rows[i];
    v1::Tender t;
    t.set_type(v1::CASH);
    t.set_amount(r.amount);
    t.set_tendered(r.tendered);
    v1::ForeignCash* f = t.mutable_foreign();
    f->set_currency(r.currency);
    f->set_foreign_tendered(r.foreign_tendered);
    f->set_rate_e9(r.rate_e9);
    f->set_mid_rate_e9(r.mid_rate_e9);
    f->set_rate_sheet_version(1);
    Status checked = fx::CheckForeignTender(t, s, kT0);
    INFO(checked.ToString());
    CHECK(checked.ok());
    CHECK(fx::Margin(t) == r.margin);
    *sale.body.mutable_sale()->add_tenders() = t;
    margin += r.margin;
  }
  REQUIRE(margin == 200 + 80 + 300 + 17);
  v1::DayTotals x;
  AddToTotals(sale, &x);
  FinishTotals(&x);
  REQUIRE(x.fx_size() == 3);  // GBP, JPY, USD
  CHECK(x.fx(0).margin() == 17);
  CHECK(x.fx(1).margin() == 300);
  CHECK(x.fx(2).margin() == 200 + 80 + 0);
  CHECK(x.fx(2).tendered_count() == 3);
  CHECK(x.fx_margin() == margin);

  // A mid other than the sheet's is refused, by the fog as by the till.
  v1::Tender wrong = sale.body.sale().tenders(0);
  wrong.mutable_foreign()->set_mid_rate_e9(890'000'000);
  CHECK(fx::CheckForeignTender(wrong, s, kT0).message() ==
        "USD at mid_rate_e9 890000000, the sheet's mid is 930000000");
}

TEST_CASE("fx: the X holds per-currency volumes, commission, margin and drawers", "[fx]") {
  FxTill till;
  edge::Journal& j = *till.journal;
  auto move = [&](v1::CashMovementType type, const std::string& currency, int64_t amount) {
    v1::CashMovement m;
    m.set_type(type);
    m.set_currency(currency);
    m.set_amount(amount);
    auto rec = j.RecordCashMovement(m);
    INFO(rec.status().ToString());
    REQUIRE(rec.ok());
  };
  move(v1::OPENING_FLOAT, "", 10000);
  move(v1::OPENING_FLOAT, "USD", 50000);
  move(v1::OPENING_FLOAT, "JPY", 50000);
  move(v1::DROP, "USD", 10000);
  // Sell 200.00 USD for 195.94 cash (tendered 200.00, change 4.06).
  v1::Exchange sell = MakeExchange(v1::SELL_FOREIGN, "USD", 20000, v1::CASH, 19594);
  sell.mutable_tenders(0)->set_tendered(20000);
  REQUIRE(j.RecordExchange(sell).ok());
  // Buy 50.00 USD, pay out 43.00.
  REQUIRE(j.RecordExchange(MakeExchange(v1::BUY_FOREIGN, "USD", 5000, v1::CASH, 4300)).ok());
  // Sell 100000 JPY by card (646.40): no home cash moves.
  REQUIRE(j.RecordExchange(MakeExchange(v1::SELL_FOREIGN, "JPY", 100000, v1::CARD, 64640)).ok());
  // A 13.00 sale paid with 20.00 USD (17.80): change 4.80 out of the home drawer.
  v1::Sale sale = OneLineSale(1299);
  v1::Tender* t = sale.add_tenders();
  t->set_type(v1::CASH);
  t->set_amount(1300);
  t->mutable_foreign()->set_currency("USD");
  t->mutable_foreign()->set_foreign_tendered(2000);
  REQUIRE(j.RecordSale(sale).ok());
  // Refused: a foreign movement of the home currency or of a tip payout.
  v1::CashMovement bad;
  bad.set_type(v1::PAY_IN);
  bad.set_currency("EUR");
  bad.set_amount(1);
  CHECK_THAT(j.RecordCashMovement(bad).status().message(), Catch::Contains("the store's own"));

  auto x = j.XReport(j.business_day());
  REQUIRE(x.ok());
  REQUIRE(x->fx_size() == 2);
  const v1::FxTotal& jpy = x->fx(0);
  const v1::FxTotal& usd = x->fx(1);
  CHECK(jpy.currency() == "JPY");
  CHECK(jpy.sold_count() == 1);
  CHECK(jpy.sold_foreign() == 100000);
  CHECK(jpy.sold_home() == 64000);
  CHECK(jpy.commission() == 640);
  CHECK(jpy.margin() == 3000);
  CHECK(usd.currency() == "USD");
  CHECK(usd.bought_count() == 1);
  CHECK(usd.bought_foreign() == 5000);
  CHECK(usd.bought_home() == 4450);
  CHECK(usd.sold_count() == 1);
  CHECK(usd.sold_foreign() == 20000);
  CHECK(usd.sold_home() == 19400);
  CHECK(usd.commission() == 194 + 150);
  CHECK(usd.margin() == 800 + 200 + 80);  // the 20.00 USD tender: 1860 at mid - 1780
  CHECK(usd.tendered_count() == 1);
  CHECK(usd.tendered_foreign() == 2000);
  CHECK(usd.tendered_home() == 1780);
  CHECK(x->fx_commission() == 194 + 150 + 640);
  CHECK(x->fx_margin() == 800 + 200 + 80 + 3000);
  REQUIRE(x->foreign_drawers_size() == 2);
  const v1::ForeignDrawer& djpy = x->foreign_drawers(0);
  const v1::ForeignDrawer& dusd = x->foreign_drawers(1);
  CHECK(djpy.expected() == 50000 - 100000);  // sold more yen than floated: the X says so
  CHECK(dusd.opening_float() == 50000);
  CHECK(dusd.received() == 5000 + 2000);
  CHECK(dusd.paid() == 20000);
  CHECK(dusd.drops() == 10000);
  CHECK(dusd.expected() == 50000 + 7000 - 20000 - 10000);
  REQUIRE(x->drawers_size() == 1);
  const v1::DrawerTotal& home = x->drawers(0);
  CHECK(home.cash_sales() == 1300);
  CHECK(home.fx_cash() == 19594 - 4300 - 1780);
  CHECK(home.expected() == 10000 + 1300 + 19594 - 4300 - 1780);
  // Exchanges are receipts of their own but not sales.
  CHECK(x->receipt_count() == 1);
  CHECK(x->last_receipt_no() == 4);
  CHECK(x->gross_sales() == 1299);

  const std::string text = FormatDayTotalsText(*x, "X-REPORT");
  CHECK_THAT(text, Catch::Contains("FOREIGN CURRENCY"));
  CHECK_THAT(text, Catch::Contains("USD sold (1)"));
  CHECK_THAT(text, Catch::Contains("200.00 USD"));
  CHECK_THAT(text, Catch::Contains("100000 JPY"));
  CHECK_THAT(text, Catch::Contains("DRAWER till-1 USD"));
  const std::string csv = FormatDayTotalsCsv(*x);
  CHECK_THAT(csv, Catch::Contains("fx:USD,commission,3.44"));
  CHECK_THAT(csv, Catch::Contains("foreign_drawer:till-1:USD,expected,270.00"));
  CHECK_THAT(csv, Catch::Contains("drawer:till-1,fx_cash,135.14"));
}

TEST_CASE(
    "fx: pos-sim's own tally equals the X, across the schedule's bounds and the AML "
    "threshold",
    "[fx][sim]") {
  FxTill till;
  sim::TillSim sim(till.journal.get(), 11, 1, kFxOnly);
  for (int i = 0; i < 3000; ++i) {
    till.clock.Advance(20'000'000);
    Status s = sim.RunSales(1);
    INFO(s.ToString());
    REQUIRE(s.ok());
  }
  // 3000 sales, 20 s apart from 09:00 UTC, cross midnight: the tally and
  // the X are compared day by day.
  auto events = till.journal->ReadEvents(1, 1'000'000).value();
  std::set<std::string> days;
  uint64_t buys = 0, sells = 0, at_min = 0, at_max = 0, with_ref = 0, foreign_tenders = 0;
  const v1::StoreSettings s = sim::SimFxStoreSettings("store-1");
  for (const auto& raw : events) {
    DecodedEvent ev;
    REQUIRE(DecodeEvent(raw, &ev).ok());
    days.insert(ev.header.business_day());
    if (ev.header.kind() == v1::SALE) {
      for (const auto& t : ev.body.sale().tenders()) foreign_tenders += t.has_foreign();
    }
    if (ev.header.kind() != v1::EXCHANGE) continue;
    const v1::Exchange& e = ev.body.exchange();
    const v1::FxCommission& c =
        e.direction() == v1::BUY_FOREIGN ? s.buy_commission() : s.sell_commission();
    (e.direction() == v1::BUY_FOREIGN ? buys : sells) += 1;
    at_min += e.commission() == c.min();
    at_max += e.commission() == c.max();
    with_ref += !e.customer_ref().empty();
    if (e.home_amount() >= s.aml_threshold()) CHECK_FALSE(e.customer_ref().empty());
  }
  CHECK(buys > 20);
  CHECK(sells > 20);
  CHECK(at_min > 5);
  CHECK(at_max > 5);
  CHECK(with_ref > 5);
  CHECK(foreign_tenders > 20);
  for (const std::string& d : days) {
    INFO(d);
    auto x = till.journal->XReport(d);
    REQUIRE(x.ok());
    const v1::DayTotals tally = sim.FxTally(d);
    REQUIRE(tally.fx_size() == x->fx_size());
    for (int i = 0; i < tally.fx_size(); ++i) {
      INFO(tally.fx(i).currency());
      CHECK(MessageDifferencer::Equals(tally.fx(i), x->fx(i)));
    }
    REQUIRE(tally.foreign_drawers_size() == x->foreign_drawers_size());
    for (int i = 0; i < tally.foreign_drawers_size(); ++i) {
      CHECK(MessageDifferencer::Equals(tally.foreign_drawers(i), x->foreign_drawers(i)));
    }
    CHECK(tally.fx_commission() == x->fx_commission());
    CHECK(tally.fx_margin() == x->fx_margin());
    REQUIRE(x->drawers_size() == 1);
    CHECK((tally.drawers_size() == 0 ? 0 : tally.drawers(0).fx_cash()) == x->drawers(0).fx_cash());
  }
}

TEST_CASE("fx: --mix classic, or no rate sheet, records the round-1 stream", "[fx][sim]") {
  auto bodies = [](bool sheet, sim::Mix mix) {
    FxTill till(sheet);
    sim::TillSim sim(till.journal.get(), 5, 1, mix);
    for (int i = 0; i < 400; ++i) {
      till.clock.Advance(20'000'000);
      REQUIRE(sim.RunSales(1).ok());
    }
    std::vector<std::string> out;  // after the genesis, which holds the journal's own key
    for (const auto& e : till.journal->ReadEvents(2, 100000).value()) out.push_back(e.body());
    return out;
  };
  const std::vector<std::string> classic = bodies(true, sim::Mix::Classic());
  const std::vector<std::string> no_sheet = bodies(false, kFxOnly);
  const std::vector<std::string> fx = bodies(true, kFxOnly);
  REQUIRE(classic.size() > 400);
  CHECK(classic == no_sheet);  // not printed on failure: bytes
  CHECK(classic != fx);
  for (const std::string& b : classic) {
    v1::EventBody body;
    REQUIRE(body.ParseFromString(b));
    CHECK_FALSE(body.has_exchange());
    if (body.has_sale()) {
      for (const auto& t : body.sale().tenders()) CHECK_FALSE(t.has_foreign());
    }
  }
  CHECK(sim::ParseMix("classic")->fx == false);
  CHECK(sim::ParseMix("classic")->shifts == false);
  CHECK(sim::ParseMix("all")->fx == true);
  CHECK_FALSE(sim::ParseMix("some").ok());
}
