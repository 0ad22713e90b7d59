// The receipt a till prints and its QR code (Journal::ReceiptText,
// ReceiptQr, ReceiptQrSvg; report_text.h FormatReceiptText), on a sale,
// a refund and a void whose figures are worked out here.
#include <catch2/catch.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "storenode/common/crypto.h"
#include "storenode/common/report_text.h"
#include "storenode/edge.h"
#include "support/harness.h"
#include "support/till.h"

using namespace storenode;
using storenode::testing::SimpleSale;
using storenode::testing::TillOptions;

namespace {

// 2026-11-26T14:00:00Z
constexpr int64_t kT0 = 1795701600LL * 1000000;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// A figure as the receipt prints it: label indented by 2, value flush right.
std::string Figure(const std::string& label, const std::string& value, size_t width = 42) {
  return "  " + label + std::string(width - 2 - label.size() - value.size(), ' ') + value;
}

bool HasLine(const std::vector<std::string>& lines, const std::string& want) {
  return std::find(lines.begin(), lines.end(), want) != lines.end();
}

struct Till {
  std::string dir = storenode::testing::MakeTempDir("receipt");
  ManualClock clock{kT0};
  edge::Options options = TillOptions(dir, "till-1", &clock);
  std::unique_ptr<edge::Journal> journal = std::move(edge::Journal::Open(options).value());

  v1::JournalEvent Event(uint64_t seq) { return journal->ReadEvents(seq, 1).value().at(0); }
};

// 2 x milk at 2.50 less 0.50 (A, 20%) and 1 x bread at 10.55 (B, 5.5%),
// 20.00 cash handed over for 15.05.
v1::Sale Groceries() {
  v1::Sale sale;
  sale.set_cashier("c7");
  auto* milk = sale.add_lines();
  milk->set_sku("milk");
  milk->set_name("Milk 1l");
  milk->set_qty(2);
  milk->set_unit_price(250);
  milk->set_discount(50);
  milk->set_tax_code("A");
  auto* bread = sale.add_lines();
  bread->set_sku("bread");
  bread->set_qty(1);
  bread->set_unit_price(1055);
  bread->set_tax_code("B");
  auto* cash = sale.add_tenders();
  cash->set_type(v1::CASH);
  cash->set_amount(1505);
  cash->set_tendered(2000);
  return sale;
}

}  // namespace

TEST_CASE("a receipt prints its lines, tax per rate, tenders and change, hash and signature",
          "[receipt]") {
  Till t;
  const edge::Recorded rec = t.journal->RecordSale(Groceries()).value();
  REQUIRE(rec.total == 1505);
  const std::string text = t.journal->ReceiptText(rec.receipt_no).value();
  const std::vector<std::string> lines = Lines(text);
  INFO(text);
  for (const std::string& line : lines) CHECK(line.size() <= 42);
  // TillOptions' store: sim::SimSettings, "Simulated store", UTC.
  CHECK(lines.at(0).find("Simulated store") != std::string::npos);
  CHECK(HasLine(lines, "                RECEIPT 1"));
  CHECK(HasLine(lines, "2026-11-26 14:00 +00:00"));
  CHECK(HasLine(lines, "Till till-1  Cashier c7"));
  CHECK(HasLine(lines, "Milk 1l"));
  CHECK(HasLine(lines, Figure("2 x 2.50", "5.00 A")));
  CHECK(HasLine(lines, Figure("discount", "-0.50  ")));
  CHECK(HasLine(lines, "bread"));  // no name: the sku
  CHECK(HasLine(lines, Figure("1 x 10.55", "10.55 B")));
  CHECK(HasLine(lines, Figure("TOTAL", "15.05")));
  CHECK(HasLine(lines, Figure("CASH", "20.00")));
  CHECK(HasLine(lines, Figure("Change", "4.95")));
  // Per rate: A gross 4.50, tax round(450 * 0.2 / 1.2) = 0.75, net 3.75;
  // B gross 10.55, tax round(1055 * 0.055 / 1.055) = 0.55, net 10.00.
  CHECK(HasLine(lines, "Tax       Rate       Net      Tax    Gross"));
  CHECK(HasLine(lines, "A       20.00%      3.75     0.75     4.50"));
  CHECK(HasLine(lines, "B        5.50%     10.00     0.55    10.55"));
  CHECK(HasLine(lines, "Day 2026-11-26  Seq " + std::to_string(rec.seq)));
  // Hash and signature in full, wrapped at the width.
  const v1::JournalEvent e = t.Event(rec.seq);
  const std::string hash = crypto::ToHex(crypto::AsBytes(e.hash()));
  const std::string sig = crypto::ToHex(crypto::AsBytes(e.signature()));
  CHECK(HasLine(lines, hash.substr(0, 42)));
  CHECK(HasLine(lines, sig.substr(126)));
  std::string joined;
  for (const std::string& line : lines) joined += line;
  CHECK(joined.find(hash + "Signature" + sig) != std::string::npos);

  // The QR payload names the receipt and carries the same hash and signature.
  CHECK(t.journal->ReceiptQr(rec.receipt_no).value() ==
        "SN1;s=store-1;d=till-1;r=1;q=" + std::to_string(rec.seq) +
            ";b=2026-11-26;t=1505;h=" + hash + ";g=" + sig);
  // Other widths hold the same figures; out of range is refused.
  const std::string wide = t.journal->ReceiptText(rec.receipt_no, 80).value();
  CHECK(HasLine(Lines(wide), Figure("TOTAL", "15.05", 80)));
  CHECK_THAT(t.journal->ReceiptText(rec.receipt_no, 31).status().message(),
             Catch::Contains("32 to 80 columns"));
}

TEST_CASE("a line voided before the total is listed in brackets and charged nowhere", "[receipt]") {
  Till t;
  v1::Sale sale = Groceries();
  auto* voided = sale.add_voided_lines();
  voided->set_sku("wine");
  voided->set_name("Red wine");
  voided->set_qty(2);
  voided->set_unit_price(899);
  voided->set_tax_code("A");
  const edge::Recorded rec = t.journal->RecordSale(sale).value();
  REQUIRE(rec.total == 1505);  // the voided 17.98 is not in the total
  const std::vector<std::string> lines = Lines(t.journal->ReceiptText(rec.receipt_no).value());
  INFO(t.journal->ReceiptText(rec.receipt_no).value());
  CHECK(HasLine(lines, "VOIDED Red wine"));
  CHECK(HasLine(lines, Figure("2 x 8.99", "(17.98)  ")));
  CHECK(HasLine(lines, Figure("TOTAL", "15.05")));
  // The tax table holds the sold lines only.
  CHECK(HasLine(lines, "A       20.00%      3.75     0.75     4.50"));
}

TEST_CASE("refund and void receipts say what they are, other events and unknown numbers refuse",
          "[receipt]") {
  Till t;
  REQUIRE(t.journal->RecordSale(Groceries()).ok());
  v1::Refund refund;
  refund.set_original_receipt_no(1);
  auto* line = refund.add_lines();
  line->set_sku("milk");
  line->set_qty(1);
  auto* back = refund.add_tenders();
  back->set_type(v1::CASH);
  back->set_amount(225);  // 2.50 less half the 0.50 discount
  const edge::Recorded r2 = t.journal->RecordRefund(refund).value();
  const std::vector<std::string> lines = Lines(t.journal->ReceiptText(r2.receipt_no).value());
  CHECK(HasLine(lines, "                 REFUND 2"));
  CHECK(HasLine(lines, "Refund of till-1 receipt 1"));
  CHECK(HasLine(lines, Figure("TOTAL", "2.25")));
  v1::Void abandoned;
  *abandoned.add_lines() = SimpleSale("bag", 3, 100, "C").lines(0);
  const edge::Recorded r3 = t.journal->RecordVoid(abandoned).value();
  const std::vector<std::string> voided = Lines(t.journal->ReceiptText(r3.receipt_no).value());
  CHECK(HasLine(voided, "                  VOID 3"));
  CHECK(HasLine(voided, "Voided: not a sale, no money taken"));
  CHECK(HasLine(voided, Figure("VOIDED", "3.00")));
  // A cash movement is no receipt; receipt 4 has not been issued.
  v1::CashMovement float_in;
  float_in.set_type(v1::OPENING_FLOAT);
  float_in.set_amount(1000);
  const edge::Recorded mv = t.journal->RecordCashMovement(float_in).value();
  CHECK_THAT(FormatReceiptText(t.Event(mv.seq), t.journal->settings()).status().message(),
             Catch::Contains("is not a receipt"));
  auto none = t.journal->ReceiptText(4);
  CHECK(none.status().code() == Code::kNotFound);
  CHECK_THAT(none.status().message(), Catch::Contains("receipt 4 has not been issued"));
  // A damaged event is refused, not printed.
  v1::JournalEvent bad = t.Event(r2.seq);
  bad.mutable_body()->back() ^= 1;
  CHECK_FALSE(FormatReceiptText(bad, t.journal->settings()).ok());
}

TEST_CASE("the receipt's QR code is an SVG with the three finder patterns", "[receipt]") {
  Till t;
  REQUIRE(t.journal->RecordSale(Groceries()).ok());
  const std::string svg = t.journal->ReceiptQrSvg(1).value();
  std::smatch m;
  REQUIRE(std::regex_search(svg, m, std::regex("viewBox=\"0 0 (\\d+) \\1\"")));
  // A QR code of version v is 17 + 4v modules, plus 4 of quiet zone each side.
  const int modules = std::stoi(m[1]) - 8;
  REQUIRE((modules - 17) % 4 == 0);
  const int version = (modules - 17) / 4;
  // The payload is about 230 bytes: version 9 or 10 at level M.
  CHECK(version >= 8);
  CHECK(version <= 11);
  // The finder patterns' top rows: 7 dark modules at three corners.
  const int far = 4 + modules - 7;
  CHECK(svg.find("M4 4h7v1h-7z") != std::string::npos);
  CHECK(svg.find("M" + std::to_string(far) + " 4h7v1h-7z") != std::string::npos);
  CHECK(svg.find("M4 " + std::to_string(far) + "h7v1h-7z") != std::string::npos);
}
