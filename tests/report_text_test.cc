// The printed and CSV forms of Z-reports and the fog's reports
// (report_text.h), on messages built by hand with figures worked out here.
#include "storenode/common/report_text.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "storenode/common/crypto.h"

namespace storenode {
namespace {

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

void CheckFitsPage(const std::string& text) {
  REQUIRE_FALSE(text.empty());
  CHECK(text.back() == '\n');
  for (const std::string& line : Lines(text)) {
    INFO(line);
    CHECK(line.size() <= static_cast<size_t>(kReportWidth));
  }
}

// The lines of `text` that start with `prefix`.
std::vector<std::string> LinesStarting(const std::string& text, const std::string& prefix) {
  std::vector<std::string> out;
  for (const std::string& line : Lines(text)) {
    if (line.starts_with(prefix)) out.push_back(line);
  }
  return out;
}

// The one line of `text` that starts with `prefix`.
std::string LineStarting(const std::string& text, const std::string& prefix) {
  const std::vector<std::string> found = LinesStarting(text, prefix);
  INFO(prefix);
  REQUIRE(found.size() == 1);
  return found[0];
}

bool Contains(const std::vector<std::string>& lines, const std::string& line) {
  for (const std::string& l : lines) {
    if (l == line) return true;
  }
  return false;
}

std::string Bytes(size_t n, char c) { return std::string(n, c); }

v1::ZTill Till(const std::string& id, bool sealed, uint64_t first_receipt, uint64_t last_receipt,
               uint64_t head_seq) {
  v1::ZTill t;
  t.set_device_id(id);
  t.set_sealed(sealed);
  t.set_missing(!sealed);
  if (sealed) {
    t.set_journal_id(std::string(32, 'a'));
    t.set_first_seq(1);
    t.set_last_seq(head_seq);
    t.set_event_count(head_seq);
    t.set_first_receipt_no(first_receipt);
    t.set_last_receipt_no(last_receipt);
    t.set_receipt_count(last_receipt - first_receipt + 1);
  }
  t.set_head_seq(head_seq);
  t.set_head_hash(Bytes(32, '\xab'));
  return t;
}

// Z 17 of store-042 for 2026-11-26, forced without till-3. Sales 1000.00
// gross, 5.00 discounts, 10.00 refunds: 985.00 net. till-1 expects 253.60 and
// 252.35 was counted (1.25 short); till-2 was not counted.
v1::ZReport SampleZ() {
  v1::ZReport z;
  z.set_store_id("store-042");
  z.set_business_day("2026-11-26");
  z.set_z_number(17);
  z.set_kind("Z");
  z.set_period_start_us(1'795'680'000'000'000);  // 2026-11-26T08:00:00Z
  z.set_period_end_us(1'795'716'000'000'000);    // 2026-11-26T18:00:00Z
  z.set_software_version("0.1.0");
  z.set_requested_by("alice");
  z.set_forced(true);
  z.add_missing_tills("till-3");
  *z.add_tills() = Till("till-1", true, 1, 80, 312);
  *z.add_tills() = Till("till-2", true, 1, 45, 150);
  *z.add_tills() = Till("till-3", false, 0, 0, 40);

  v1::DayTotals* t = z.mutable_totals();
  t->set_store_id("store-042");
  t->set_business_day("2026-11-26");
  t->set_receipt_count(125);
  t->set_first_receipt_no(1);
  t->set_last_receipt_no(80);
  t->set_gross_sales(100000);
  t->set_discounts(500);
  t->set_refund_count(2);
  t->set_refunds(1000);
  t->set_void_count(1);
  t->set_voids(250);
  t->set_net_sales(98500);
  t->set_event_count(462);
  t->set_sealed(true);
  v1::TaxTotal* tax = t->add_taxes();
  tax->set_tax_code("A");
  tax->set_rate_bp(2000);
  tax->set_net(82083);
  tax->set_tax(16417);
  tax->set_gross(98500);
  v1::TenderTotal* cash = t->add_tenders();
  cash->set_type("CASH");
  cash->set_count(40);
  cash->set_sales(15360);
  cash->set_refunds(0);
  v1::TenderTotal* card = t->add_tenders();
  card->set_type("CARD");
  card->set_count(85);
  card->set_sales(84140);
  card->set_refunds(1000);
  v1::DrawerTotal* d1 = t->add_drawers();
  d1->set_device_id("till-1");
  d1->set_opening_float(10000);
  d1->set_cash_sales(15360);
  d1->set_expected(25360);
  v1::DrawerTotal* d2 = t->add_drawers();
  d2->set_device_id("till-2");
  d2->set_opening_float(5000);
  d2->set_expected(5000);

  v1::DrawerCount* c1 = z.add_drawer_counts();
  c1->set_device_id("till-1");
  c1->set_counted(true);
  c1->set_counted_cash(25235);
  c1->set_expected_cash(25360);
  c1->set_over_short(-125);
  v1::DrawerCount* c2 = z.add_drawer_counts();
  c2->set_device_id("till-2");
  c2->set_expected_cash(5000);

  v1::GrandTotals* g = z.mutable_grand_totals();
  g->set_gross_sales(1'234'567'89);
  g->set_net_sales(1'200'000'00);
  g->set_receipts(20'000);
  z.set_merkle_root(Bytes(32, '\x01'));
  z.set_leaf_count(462);
  z.set_prev_z_hash(Bytes(32, '\0'));
  return z;
}

// Its supplement: till-3's late sales, 30.00 on two receipts.
v1::ZReport SampleSupplement() {
  v1::ZReport z;
  z.set_store_id("store-042");
  z.set_business_day("2026-11-26");
  z.set_z_number(18);
  z.set_kind("SUPPLEMENT");
  z.set_supplements_z_number(17);
  z.set_part(1);
  *z.add_tills() = Till("till-3", true, 1, 2, 44);
  z.mutable_totals()->set_receipt_count(2);
  z.mutable_totals()->set_gross_sales(3000);
  z.mutable_totals()->set_net_sales(3000);
  z.set_leaf_count(4);
  z.set_prev_z_hash(Bytes(32, '\x02'));
  return z;
}

v1::SignedZ Sign(const v1::ZReport& z, const crypto::SigningKey& key) {
  v1::SignedZ s;
  s.set_z(z.SerializeAsString());
  const crypto::Hash hash = crypto::Sha256Of(s.z());
  s.set_hash(std::string(hash.begin(), hash.end()));
  const crypto::Signature sig = key.Sign(hash);
  s.set_signature(std::string(sig.begin(), sig.end()));
  s.set_fog_public_key(std::string(key.public_key().begin(), key.public_key().end()));
  return s;
}

v1::Report SampleReport(const std::string& kind) {
  v1::Report r;
  r.set_kind(kind);
  r.set_store_id("store-042");
  r.set_business_day("2026-11-26");
  return r;
}

TEST_CASE("Z-report text fits the page and shows the close-down", "[report]") {
  const std::string text = FormatZText(SampleZ());
  CheckFitsPage(text);
  const std::vector<std::string> lines = Lines(text);

  CHECK(lines[1] == std::string(34, ' ') + "Z-REPORT 17");
  CHECK(Contains(lines, "Store           store-042"));
  CHECK(Contains(lines, "Business day    2026-11-26"));
  CHECK(Contains(lines, "Z number        17"));
  CHECK(Contains(lines, "Kind            Z"));
  CHECK(Contains(lines, "Period          2026-11-26T08:00:00Z .. 2026-11-26T18:00:00Z"));
  CHECK(Contains(lines, "Software        0.1.0"));
  CHECK(Contains(lines, "Requested by    alice"));
  CHECK(Contains(lines, "Close-down      FORCED before every till had sealed"));
  CHECK(Contains(lines, "Missing tills   till-3"));
  CHECK(LinesStarting(text, "Supplements").empty());

  SECTION("one row per till") {
    CHECK(LineStarting(text, "TILLS") ==
          "TILLS   STATE      RECEIPT NOS         SALES  HEAD SEQ  HEAD HASH");
    CHECK(LineStarting(text, "till-1") ==
          "till-1  sealed     #1..#80                80       312  abababababab");
    CHECK(LineStarting(text, "till-3") ==
          "till-3  missing    -                       0        40  abababababab");
    CHECK(Contains(lines, "        journal aaaaaaaaaaaaaaaa, events seq 1..312 (312)"));
  }

  SECTION("the day's figures, right-aligned") {
    // The day's net sales, then the grand total's.
    const std::vector<std::string> net = LinesStarting(text, "  Net sales");
    REQUIRE(net.size() == 2);
    CHECK(net[0] == "  Net sales" + std::string(63, ' ') + "985.00");
    CHECK(net[1].ends_with(" 1200000.00"));
    CHECK(LinesStarting(text, "  Discounts")[0].ends_with(" -5.00"));
    CHECK(LineStarting(text, "  Refunds (2)").ends_with(" -10.00"));
    CHECK(LineStarting(text, "  A ") ==
          "  A                          20.00%         820.83         164.17         985.00");
    CHECK(LineStarting(text, "  CARD") ==
          "  CARD                           85         841.40         -10.00         831.40");
  }

  SECTION("drawers: counted cash and over/short, or not counted") {
    const std::vector<std::string> over_short = LinesStarting(text, "  Over (+) / short (-)");
    REQUIRE(over_short.size() == 2);
    CHECK(over_short[0] == "  Over (+) / short (-)" + std::string(53, ' ') + "-1.25");
    CHECK(over_short[1].ends_with(" not counted"));
    const std::vector<std::string> counted = LinesStarting(text, "  Counted in drawer");
    REQUIRE(counted.size() == 2);
    CHECK(counted[0].ends_with(" 252.35"));
    CHECK(counted[1].ends_with(" not counted"));
    const std::vector<std::string> expected = LinesStarting(text, "  Expected in drawer");
    REQUIRE(expected.size() == 2);
    CHECK(expected[0].ends_with(" 253.60"));
    CHECK(expected[1].ends_with(" 50.00"));
  }

  SECTION("grand totals, Merkle root, previous Z") {
    CHECK(LinesStarting(text, "GRAND TOTALS").size() == 1);
    CHECK(LinesStarting(text, "  Gross sales").back().ends_with(" 1234567.89"));
    CHECK(LinesStarting(text, "  Sales receipts").back().ends_with(" 20000"));
    std::string root;
    for (int i = 0; i < 32; ++i) root += "01";
    CHECK(Contains(lines, "Merkle root     " + root));
    CHECK(Contains(lines, "Merkle leaves   462 events"));
    CHECK(Contains(lines, "Previous Z hash " + std::string(64, '0')));
    CHECK(LinesStarting(text, "SIGNATURE").size() == 1);
  }
}

TEST_CASE("Z-report text of a supplement names the Z it adds to", "[report]") {
  const std::string text = FormatZText(SampleSupplement());
  CheckFitsPage(text);
  const std::vector<std::string> lines = Lines(text);
  CHECK(lines[1].ends_with("SUPPLEMENTARY Z-REPORT 18"));
  CHECK(Contains(lines, "Kind            SUPPLEMENT, part 1"));
  CHECK(Contains(lines, "Supplements     Z 17"));
  CHECK(Contains(lines, "Close-down      every till sealed"));
  CHECK(Contains(lines, "Period          no events"));
  CHECK(LinesStarting(text, "Missing tills").empty());
  CHECK(Contains(lines, "DRAWERS: no cash movements"));
}

TEST_CASE("Z-report text wraps a long list of missing tills", "[report]") {
  v1::ZReport z = SampleZ();
  z.clear_missing_tills();
  for (int i = 10; i < 30; ++i) z.add_missing_tills("till-" + std::to_string(i));
  const std::string text = FormatZText(z);
  CheckFitsPage(text);
  const std::string first = LineStarting(text, "Missing tills   ");
  CHECK(first.starts_with("Missing tills   till-10, till-11,"));
  // Every till is on the page, each once.
  std::string listed;
  bool in_list = false;
  for (const std::string& line : Lines(text)) {
    if (line.starts_with("Missing tills")) in_list = true;
    if (in_list && !line.starts_with("Missing tills") && !line.starts_with(std::string(16, ' '))) {
      break;
    }
    if (in_list) listed += line.substr(16) + " ";
  }
  for (int i = 10; i < 30; ++i) {
    CHECK(listed.find("till-" + std::to_string(i)) != std::string::npos);
  }
}

TEST_CASE("Z-report text checks the fog's hash and signature", "[report]") {
  const crypto::SigningKey key = crypto::SigningKey::Generate();
  const v1::ZReport z = SampleZ();
  v1::SignedZ s = Sign(z, key);

  const std::string text = FormatZText(z, &s);
  CheckFitsPage(text);
  CHECK(LineStarting(text, "Check") ==
        "Check           hash and signature check out under this fog key");
  CHECK(LineStarting(text, "Z hash") ==
        "Z hash          " + crypto::ToHex(crypto::AsBytes(s.hash())));
  CHECK(LineStarting(text, "Fog key") == "Fog key         " + crypto::ToHex(key.public_key()));
  // 128 hex digits of signature: two lines under the label.
  const std::vector<std::string> lines = Lines(text);
  const std::string signature = crypto::ToHex(crypto::AsBytes(s.signature()));
  CHECK(Contains(lines, "Signature       " + signature.substr(0, 64)));
  CHECK(Contains(lines, std::string(16, ' ') + signature.substr(64)));

  SECTION("a signature by another key does not verify") {
    const v1::SignedZ other = Sign(z, crypto::SigningKey::Generate());
    s.set_signature(other.signature());
    CHECK(LineStarting(FormatZText(z, &s), "Check") == "Check           SIGNATURE DOES NOT VERIFY");
  }
  SECTION("changed bytes do not match the hash") {
    s.mutable_z()->back() ^= 1;
    CHECK(LineStarting(FormatZText(z, &s), "Check") == "Check           HASH DOES NOT MATCH THE Z");
  }
}

TEST_CASE("Z-report CSV: one row per figure under the Z number and part", "[report]") {
  const std::string csv = FormatZCsv(SampleZ());
  const std::vector<std::string> lines = Lines(csv);
  REQUIRE(lines.size() > 1);
  CHECK(lines[0] == "z_number,part,section,key,value");
  for (const std::string& line : lines) {
    INFO(line);
    CHECK(std::count(line.begin(), line.end(), ',') == 4);
  }
  CHECK(Contains(lines, "17,0,z,forced,true"));
  CHECK(Contains(lines, "17,0,z,missing_tills,till-3"));
  CHECK(Contains(lines, "17,0,till:till-3,missing,true"));
  CHECK(Contains(lines, "17,0,sales,net_sales,985.00"));
  CHECK(Contains(lines, "17,0,count:till-1,over_short,-1.25"));
  CHECK(Contains(lines, "17,0,count:till-2,counted,false"));
  CHECK(Contains(lines, "17,0,count:till-2,over_short,"));
  CHECK(Contains(lines, "17,0,grand_totals,gross_sales,1234567.89"));
  CHECK(Contains(lines, "17,0,integrity,leaf_count,462"));
  // 11 Z fields, 11 per till, the day's figures as FormatDayTotalsCsv has
  // them (18 header and sales, 4 per tax rate, 3 per tender, 7 per drawer,
  // no-sale), 4 per drawer count, 7 grand totals, 3 integrity.
  const size_t day_rows = Lines(FormatDayTotalsCsv(SampleZ().totals())).size() - 1;
  CHECK(day_rows == 18 + 4 + 2 * 3 + 2 * 7 + 1);
  CHECK(lines.size() == 1 + 11 + 3 * 11 + day_rows + 2 * 4 + 7 + 3);

  SECTION("a Z and its supplement under one header") {
    v1::Report r = SampleReport("z");
    const crypto::SigningKey key = crypto::SigningKey::Generate();
    for (const v1::ZReport& z : {SampleZ(), SampleSupplement()}) {
      *r.add_z() = Sign(z, key);
      *r.add_z_decoded() = z;
    }
    auto both = FormatReportCsv(r);
    REQUIRE(both.ok());
    const std::vector<std::string> rows = Lines(*both);
    CHECK(LinesStarting(*both, "z_number,").size() == 1);
    CHECK(Contains(rows, "18,1,z,kind,SUPPLEMENT"));
    CHECK(Contains(rows, "18,1,z,supplements_z_number,17"));
    CHECK(rows.size() == lines.size() + Lines(FormatZCsv(SampleSupplement())).size() - 1);

    auto text = FormatReportText(r);
    REQUIRE(text.ok());
    CheckFitsPage(*text);
    CHECK(LinesStarting(*text, "Check").size() == 2);
    CHECK(LinesStarting(*text, "Supplements     Z 17").size() == 1);
  }
}

TEST_CASE("hourly report: receipts, sales, refunds and net per hour", "[report]") {
  v1::Report r = SampleReport("hourly");
  v1::HourTotal* nine = r.add_hours();
  nine->set_hour(9);
  nine->set_label("09:00 +01:00");
  nine->set_receipts(12);
  nine->set_sales(15235);
  nine->set_refunds(500);
  v1::HourTotal* ten = r.add_hours();
  ten->set_hour(10);
  ten->set_label("10:00 +01:00");
  ten->set_receipts(3);
  ten->set_sales(1000);

  const std::string text = FormatHourlyText(r);
  CheckFitsPage(text);
  CHECK(LineStarting(text, "HOUR") ==
        "HOUR                       Receipts          Sales        Refunds            Net");
  CHECK(LineStarting(text, "  09:00") ==
        "  09:00 +01:00                   12         152.35          -5.00         147.35");
  CHECK(LineStarting(text, "  10:00") ==
        "  10:00 +01:00                    3          10.00           0.00          10.00");
  CHECK(LineStarting(text, "  Total") ==
        "  Total                          15         162.35          -5.00         157.35");

  const std::string csv = FormatHourlyCsv(r);
  CHECK(csv ==
        "hour,start,receipts,sales,refunds,net\n"
        "9,09:00 +01:00,12,152.35,5.00,147.35\n"
        "10,10:00 +01:00,3,10.00,0.00,10.00\n");
  CHECK(FormatHourlyCsv(SampleReport("hourly")) == "hour,start,receipts,sales,refunds,net\n");
}

TEST_CASE("items report: quantity, revenue and refunds per item", "[report]") {
  v1::Report r = SampleReport("items");
  auto add = [&](std::string sku, std::string name, int64_t qty, int64_t revenue,
                 int64_t refund_qty, int64_t refund_amount) {
    v1::ItemTotal* i = r.add_items();
    i->set_sku(std::move(sku));
    i->set_name(std::move(name));
    i->set_qty(qty);
    i->set_revenue(revenue);
    i->set_refund_qty(refund_qty);
    i->set_refund_amount(refund_amount);
  };
  add("4006381333931", "Milk, 1l", 120, 13080, 2, 218);
  add("SKU-2", "A name far too long for its column on an eighty-column page", 7, 2093, 0, 0);
  add("SKU-3", "Bread", 1, 250, 0, 0);

  const std::string text = FormatItemsText(r);
  CheckFitsPage(text);
  CHECK(LineStarting(text, "Items listed") == "Items listed    3");
  CHECK(LineStarting(text, "SKU ") ==
        "SKU           NAME                          QTY     REVENUE  REF QTY     REFUNDS");
  CHECK(LineStarting(text, "4006381333931") ==
        "4006381333931 Milk, 1l                      120      130.80        2       -2.18");
  CHECK(LineStarting(text, "SKU-2") ==
        "SKU-2         A name far too long for it      7       20.93        0        0.00");
  CHECK(LinesStarting(text, "              Total (items listed)").size() == 1);
  CHECK(LinesStarting(text, "              Total (items listed)")[0].ends_with(
      "128      154.23        2       -2.18"));

  const std::string csv = FormatItemsCsv(r);
  const std::vector<std::string> lines = Lines(csv);
  REQUIRE(lines.size() == 4);
  CHECK(lines[0] == "sku,name,qty,revenue,refund_qty,refund_amount");
  CHECK(lines[1] == "4006381333931,\"Milk, 1l\",120,130.80,2,2.18");
  CHECK(lines[3] == "SKU-3,Bread,1,2.50,0,0.00");
}

TEST_CASE("cashiers report: receipts, sales, refunds, voids, no-sale", "[report]") {
  v1::Report r = SampleReport("cashiers");
  v1::CashierTotal* ann = r.add_cashiers();
  ann->set_cashier("ann");
  ann->set_receipts(40);
  ann->set_sales(50000);
  ann->set_refund_count(1);
  ann->set_refunds(1000);
  ann->set_void_count(2);
  ann->set_voids(450);
  ann->set_no_sale_count(3);
  v1::CashierTotal* bob = r.add_cashiers();
  bob->set_cashier("bob");
  bob->set_receipts(10);
  bob->set_sales(12345);

  const std::string text = FormatCashiersText(r);
  CheckFitsPage(text);
  CHECK(LineStarting(text, "CASHIER") ==
        "CASHIER        RECEIPTS       SALES REFUNDS   REFUNDED VOIDS     VOIDED NO-SALE");
  CHECK(LineStarting(text, "ann") ==
        "ann                  40      500.00       1     -10.00     2       4.50       3");
  CHECK(LineStarting(text, "Total") ==
        "Total                50      623.45       1     -10.00     2       4.50       3");

  const std::vector<std::string> lines = Lines(FormatCashiersCsv(r));
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == "cashier,receipts,sales,refund_count,refunds,void_count,voids,no_sale_count");
  CHECK(lines[1] == "ann,40,500.00,1,10.00,2,4.50,3");
  CHECK(lines[2] == "bob,10,123.45,0,0.00,0,0.00,0");
}

TEST_CASE("tenders report: from the day's totals", "[report]") {
  v1::Report r = SampleReport("tenders");
  *r.mutable_x() = SampleZ().totals();

  const std::string text = FormatTendersText(r);
  CheckFitsPage(text);
  CHECK(LineStarting(text, "  CASH") ==
        "  CASH                           40         153.60           0.00         153.60");
  CHECK(LineStarting(text, "  Total") ==
        "  Total                         125         995.00         -10.00         985.00");

  const std::vector<std::string> lines = Lines(FormatTendersCsv(r));
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == "type,count,sales,refunds,net");
  CHECK(lines[2] == "CARD,85,841.40,10.00,831.40");
}

TEST_CASE("departments report: per department and the total, money columns name the currency",
          "[report]") {
  v1::Report r = SampleReport("departments");
  r.set_currency("EUR");
  r.set_currency_decimals(2);
  auto add = [&](const std::string& name, int64_t qty, uint64_t lines, int64_t gross,
                 int64_t refunds, int64_t tax) {
    v1::DepartmentTotal* d = r.add_departments();
    d->set_department(name);
    d->set_items(1);
    d->set_qty(qty);
    d->set_lines(lines);
    d->set_gross(gross);
    d->set_refunds(refunds);
    d->set_net(gross - refunds);
    d->set_tax(tax);
  };
  add("Bakery", 4, 3, 535, 214, 21);
  add("(none)", 4, 3, 595, 0, 95);

  const std::string text = FormatDepartmentsText(r);
  CheckFitsPage(text);
  CHECK(LineStarting(text, "Currency") == "Currency        EUR (amounts in 2 decimals)");
  CHECK(LineStarting(text, "DEPARTMENT") ==
        "DEPARTMENT              QTY  LINES       GROSS     REFUNDS        NET        TAX");
  CHECK(LineStarting(text, "Bakery") ==
        "Bakery                    4      3        5.35       -2.14       3.21       0.21");
  CHECK(LineStarting(text, "Total") ==
        "Total                     8      6       11.30       -2.14       9.16       1.16");

  const std::vector<std::string> lines = Lines(FormatDepartmentsCsv(r));
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == "department,items,qty,lines,gross_EUR,refund_qty,refunds_EUR,net_EUR,tax_EUR");
  CHECK(lines[1] == "Bakery,1,4,3,5.35,0,2.14,3.21,0.21");
  CHECK(lines[2] == "(none),1,4,3,5.95,0,0.00,5.95,0.95");
}

TEST_CASE("reports in yen: no decimals, and every CSV header names JPY", "[report]") {
  v1::Report r = SampleReport("items");
  r.set_currency("JPY");
  r.set_currency_decimals(0);
  v1::ItemTotal* i = r.add_items();
  i->set_sku("TEA");
  i->set_name("Tea");
  i->set_qty(2);
  i->set_revenue(1308);
  CHECK(Lines(FormatItemsCsv(r))[0] == "sku,name,qty,revenue_JPY,refund_qty,refund_amount_JPY");
  CHECK(Lines(FormatItemsCsv(r))[1] == "TEA,Tea,2,1308,0,0");
  CHECK(Lines(FormatCashiersCsv(r))[0] ==
        "cashier,receipts,sales_JPY,refund_count,refunds_JPY,void_count,voids_JPY,no_sale_count");
  CHECK(Lines(FormatTendersCsv(r))[0] == "type,count,sales_JPY,refunds_JPY,net_JPY");
  CHECK(Lines(FormatHourlyCsv(r))[0] == "hour,start,receipts,sales_JPY,refunds_JPY,net_JPY");
  r.set_kind("x");
  const std::vector<std::string> x = Lines(FormatReportCsv(r).value());
  CHECK(x[0] == "section,key,value");
  CHECK(std::find(x.begin(), x.end(), "header,currency,JPY") != x.end());
  // A range says so in the head.
  r.set_kind("items");
  r.set_business_day("");
  r.set_from_day("2026-11-30");
  r.set_to_day("2026-12-06");
  CHECK(LineStarting(FormatItemsText(r), "Business days") ==
        "Business days   2026-11-30 .. 2026-12-06 (7 days)");
}

TEST_CASE("reports by kind: x and the others, unknown kinds refused", "[report]") {
  v1::Report x = SampleReport("x");
  *x.mutable_x() = SampleZ().totals();
  auto text = FormatReportText(x);
  REQUIRE(text.ok());
  CHECK(*text == FormatDayTotalsText(x.x(), "X-REPORT"));
  auto csv = FormatReportCsv(x);
  REQUIRE(csv.ok());
  CHECK(*csv == FormatDayTotalsCsv(x.x()));

  for (const char* kind : {"hourly", "items", "cashiers", "tenders"}) {
    INFO(kind);
    auto t = FormatReportText(SampleReport(kind));
    REQUIRE(t.ok());
    CheckFitsPage(*t);
    auto c = FormatReportCsv(SampleReport(kind));
    REQUIRE(c.ok());
    CHECK(Lines(*c).size() == 1);  // the header row alone
  }
  CHECK_FALSE(FormatReportText(SampleReport("weekly")).ok());
  CHECK_FALSE(FormatReportCsv(SampleReport("")).ok());
}

}  // namespace
}  // namespace storenode
