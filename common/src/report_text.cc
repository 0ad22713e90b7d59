#include "storenode/common/report_text.h"

#include <fmt/format.h>

#include <string>
#include <utility>
#include <vector>

#include "storenode/common/clock.h"
#include "storenode/common/money.h"

namespace storenode {
namespace {

std::string Amount(int64_t minor) { return Money(minor).ToString(); }
std::string Negated(int64_t minor) { return Money(-minor).ToString(); }
// 550 basis points -> "5.50%".
std::string Percent(int32_t rate_bp) { return Money(rate_bp).ToString() + "%"; }

class Page {
 public:
  void Rule(char c) { out_ += std::string(kReportWidth, c) + "\n"; }
  void Blank() { out_ += "\n"; }
  void Heading(std::string_view text) { out_ += std::string(text) + "\n"; }
  void Centered(std::string_view text) {
    const size_t pad = text.size() < kReportWidth ? (kReportWidth - text.size()) / 2 : 0;
    out_ += std::string(pad, ' ') + std::string(text.substr(0, kReportWidth)) + "\n";
  }
  // A header field: label in a 16-column gutter, value after it.
  void Field(std::string_view label, std::string_view value) {
    out_ += fmt::format("{:<16}{}\n", label, value);
  }
  // A figure: label indented on the left, value right-aligned to the margin.
  void Figure(std::string_view label, std::string_view value) {
    std::string left = "  " + std::string(label);
    const size_t room = kReportWidth - 1 - std::min<size_t>(value.size(), kReportWidth - 4);
    if (left.size() > room) left.resize(room);
    out_ += fmt::format("{:<{}}{:>{}}\n", left, kReportWidth - value.size(), value, value.size());
  }
  // A table row: first cell left in 20 columns, the others right in 15 each.
  void Row(const std::vector<std::string>& cells) {
    std::string line;
    for (size_t i = 0; i < cells.size(); ++i) {
      line += i == 0 ? fmt::format("{:<20.20}", cells[i]) : fmt::format("{:>15}", cells[i]);
    }
    out_ += line + "\n";
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

std::string Period(const v1::DayTotals& t) {
  if (t.event_count() == 0) return "no events";
  return IsoTime(t.first_event_time_us()) + " .. " + IsoTime(t.last_event_time_us());
}

std::string ReceiptRange(const v1::DayTotals& t) {
  if (t.first_receipt_no() == 0) return "none";
  return fmt::format("#{} .. #{} ({} numbers)", t.first_receipt_no(), t.last_receipt_no(),
                     t.last_receipt_no() - t.first_receipt_no() + 1);
}

std::string CsvField(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

class Csv {
 public:
  Csv() { out_ = "section,key,value\n"; }
  void Add(std::string_view section, std::string_view key, std::string_view value) {
    out_ += CsvField(section) + "," + CsvField(key) + "," + CsvField(value) + "\n";
  }
  void Count(std::string_view section, std::string_view key, uint64_t value) {
    Add(section, key, std::to_string(value));
  }
  void Money(std::string_view section, std::string_view key, int64_t minor) {
    Add(section, key, Amount(minor));
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

}  // namespace

std::string FormatDayTotalsText(const v1::DayTotals& t, std::string_view title) {
  Page p;
  p.Rule('=');
  p.Centered(title);
  p.Rule('=');
  p.Field("Store", t.store_id());
  p.Field("Device", t.device_id().empty() ? "all tills" : t.device_id());
  p.Field("Business day", t.business_day() + (t.sealed() ? " (sealed)" : " (open)"));
  p.Field("Period", Period(t));
  p.Field("Receipt numbers", ReceiptRange(t));
  p.Field("Sales receipts", std::to_string(t.receipt_count()));
  p.Field("Events", std::to_string(t.event_count()));

  p.Blank();
  p.Heading("SALES");
  p.Figure("Gross sales", Amount(t.gross_sales()));
  p.Figure("Discounts", Negated(t.discounts()));
  p.Figure(fmt::format("Refunds ({})", t.refund_count()), Negated(t.refunds()));
  p.Figure("Net sales", Amount(t.net_sales()));
  p.Figure("Cash rounding", Amount(t.rounding()));
  p.Figure("Taken (net sales + rounding)", Amount(t.net_sales() + t.rounding()));
  p.Figure(fmt::format("Voids ({}, not in net sales)", t.void_count()), Amount(t.voids()));

  p.Blank();
  p.Row({"TAX", "Rate", "Net", "Tax", "Gross"});
  int64_t net = 0, tax = 0, gross = 0;
  for (const v1::TaxTotal& x : t.taxes()) {
    p.Row({"  " + x.tax_code(), Percent(x.rate_bp()), Amount(x.net()), Amount(x.tax()),
           Amount(x.gross())});
    net += x.net();
    tax += x.tax();
    gross += x.gross();
  }
  p.Row({"  Total", "", Amount(net), Amount(tax), Amount(gross)});

  p.Blank();
  p.Row({"TENDERS", "Count", "Sales", "Refunds", "Net"});
  uint64_t count = 0;
  int64_t sales = 0, refunds = 0;
  for (const v1::TenderTotal& x : t.tenders()) {
    p.Row({"  " + x.type(), std::to_string(x.count()), Amount(x.sales()), Negated(x.refunds()),
           Amount(x.sales() - x.refunds())});
    count += x.count();
    sales += x.sales();
    refunds += x.refunds();
  }
  p.Row(
      {"  Total", std::to_string(count), Amount(sales), Negated(refunds), Amount(sales - refunds)});

  for (const v1::DrawerTotal& d : t.drawers()) {
    p.Blank();
    p.Heading("DRAWER " + d.device_id());
    p.Figure("Opening float", Amount(d.opening_float()));
    p.Figure("Cash sales", Amount(d.cash_sales()));
    p.Figure("Cash refunds", Negated(d.cash_refunds()));
    p.Figure("Pay-ins", Amount(d.pay_ins()));
    p.Figure("Pay-outs", Negated(d.pay_outs()));
    p.Figure("Drops to safe", Negated(d.drops()));
    p.Figure("Expected in drawer", Amount(d.expected()));
  }
  if (t.drawers().empty()) {
    p.Blank();
    p.Heading("DRAWERS: no cash movements");
  }

  p.Blank();
  p.Figure("No-sale drawer opens", std::to_string(t.no_sale_count()));
  p.Rule('=');
  return p.Take();
}

std::string FormatDayTotalsCsv(const v1::DayTotals& t) {
  Csv c;
  c.Add("header", "store_id", t.store_id());
  c.Add("header", "device_id", t.device_id());
  c.Add("header", "business_day", t.business_day());
  c.Add("header", "sealed", t.sealed() ? "true" : "false");
  c.Add("header", "first_event_time", t.event_count() == 0 ? "" : IsoTime(t.first_event_time_us()));
  c.Add("header", "last_event_time", t.event_count() == 0 ? "" : IsoTime(t.last_event_time_us()));
  c.Count("header", "first_receipt_no", t.first_receipt_no());
  c.Count("header", "last_receipt_no", t.last_receipt_no());
  c.Count("header", "receipt_count", t.receipt_count());
  c.Count("header", "event_count", t.event_count());
  c.Money("sales", "gross_sales", t.gross_sales());
  c.Money("sales", "discounts", t.discounts());
  c.Count("sales", "refund_count", t.refund_count());
  c.Money("sales", "refunds", t.refunds());
  c.Count("sales", "void_count", t.void_count());
  c.Money("sales", "voids", t.voids());
  c.Money("sales", "net_sales", t.net_sales());
  c.Money("sales", "rounding", t.rounding());
  for (const v1::TaxTotal& x : t.taxes()) {
    const std::string section = "tax:" + x.tax_code();
    c.Money(section, "rate_percent", x.rate_bp());
    c.Money(section, "net", x.net());
    c.Money(section, "tax", x.tax());
    c.Money(section, "gross", x.gross());
  }
  for (const v1::TenderTotal& x : t.tenders()) {
    const std::string section = "tender:" + x.type();
    c.Count(section, "count", x.count());
    c.Money(section, "sales", x.sales());
    c.Money(section, "refunds", x.refunds());
  }
  for (const v1::DrawerTotal& d : t.drawers()) {
    const std::string section = "drawer:" + d.device_id();
    c.Money(section, "opening_float", d.opening_float());
    c.Money(section, "cash_sales", d.cash_sales());
    c.Money(section, "cash_refunds", d.cash_refunds());
    c.Money(section, "pay_ins", d.pay_ins());
    c.Money(section, "pay_outs", d.pay_outs());
    c.Money(section, "drops", d.drops());
    c.Money(section, "expected", d.expected());
  }
  c.Count("no_sale", "count", t.no_sale_count());
  return c.Take();
}

}  // namespace storenode
