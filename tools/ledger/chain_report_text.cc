// The printable forms of the chain report and the watch (docs/FORMATS.md
// 13.3 and 13.4). Each currency is its own section with its own total:
// amounts are printed in that currency's minor units (Money::ToString) and
// never added across currencies.
#include <fmt/format.h>

#include <string>
#include <vector>

#include "ledger/chain_models.h"
#include "sim/json.h"
#include "storenode/common/clock.h"
#include "storenode/common/money.h"
#include "storenode/common/report_text.h"

namespace storenode::ledger {
namespace {

std::string Amount(int64_t minor, int decimals) { return Money(minor).ToString(decimals); }
// 2000 basis points -> "20.00%".
std::string Percent(int32_t rate_bp) { return Money(rate_bp).ToString(2) + "%"; }
std::string CurrencyName(const std::string& code) { return code.empty() ? "(no currency)" : code; }

// The CSV quoting of report_text.cc (RFC 4180): a field with a comma, quote
// or line break is quoted, quotes doubled.
std::string CsvField(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string CsvRow(const std::vector<std::string>& cells) {
  std::string line;
  for (const std::string& cell : cells) line += (line.empty() ? "" : ",") + CsvField(cell);
  return line + "\n";
}

class Text {
 public:
  void Rule(char c) { out_ += std::string(kReportWidth, c) + "\n"; }
  void Line(std::string_view s) { out_ += std::string(s) + "\n"; }
  void Centered(std::string_view s) {
    Line(std::string((kReportWidth - std::min<size_t>(s.size(), kReportWidth)) / 2, ' ') +
         std::string(s));
  }
  void Field(std::string_view label, std::string_view value) {
    Line(fmt::format("{:<16}{}", label, value));
  }
  // A label on the left, its value right-aligned to the margin.
  void Figure(std::string_view label, std::string_view value) {
    Line(
        fmt::format("  {:<{}}{:>{}}", label, kReportWidth - 2 - value.size(), value, value.size()));
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

// By store and by day: key 20, count 6, receipts 10, net 16, tax 14, over/short 14.
std::string FiguresRow(std::string_view key, std::string_view count, std::string_view receipts,
                       std::string_view net, std::string_view tax, std::string_view over_short) {
  return fmt::format("{:<20.20}{:>6}{:>10}{:>16}{:>14}{:>14}", key, count, receipts, net, tax,
                     over_short);
}
// By tax and by tender: key 20, then four columns of 15 (report_text.h's tables).
std::string TableRow(std::string_view key, std::string_view a, std::string_view b,
                     std::string_view c, std::string_view d) {
  return fmt::format("{:<20.20}{:>15}{:>15}{:>15}{:>15}", key, a, b, c, d);
}

void FiguresSection(Text& p, ChainBy by, const v1::ChainCurrency& c) {
  const int dec = c.currency_decimals();
  p.Line(FiguresRow(by == ChainBy::kStore ? "STORE" : "DAY",
                    by == ChainBy::kStore ? "DAYS" : "STORES", "RECEIPTS", "NET SALES", "TAX",
                    "OVER/SHORT"));
  auto row = [&](std::string_view key, const v1::ChainFigures& f) {
    p.Line(FiguresRow(key, std::to_string(by == ChainBy::kStore ? f.days() : f.stores()),
                      std::to_string(f.receipts()), Amount(f.net_sales(), dec),
                      Amount(f.tax(), dec), Amount(f.over_short(), dec)));
  };
  for (const v1::ChainRow& r : c.rows()) {
    row(by == ChainBy::kStore ? r.store_id() : r.business_day(), r.figures());
  }
  const v1::ChainFigures& t = c.total().figures();
  row("  Total", t);
  p.Line("");
  p.Figure(fmt::format("Stores / store-days / closed with a Z"),
           fmt::format("{} / {} / {}", t.stores(), t.days(), t.closed()));
  p.Figure("Gross sales", Amount(t.gross_sales(), dec));
  p.Figure("Discounts", Amount(-t.discounts(), dec));
  p.Figure(fmt::format("Refunds ({})", t.refund_count()), Amount(-t.refunds(), dec));
  p.Figure("Net sales", Amount(t.net_sales(), dec));
  p.Figure("Tax", Amount(t.tax(), dec));
  p.Figure("Cash rounding", Amount(t.rounding(), dec));
  p.Figure(fmt::format("Voids ({}, not in net sales)", t.void_count()), Amount(t.voids(), dec));
  p.Figure("Drawers counted / not counted",
           fmt::format("{} / {}", t.drawers_counted(), t.drawers_not_counted()));
  p.Figure("Cash counted", Amount(t.cash_counted(), dec));
  p.Figure("Over (+) / short (-)", Amount(t.over_short(), dec));
  p.Figure("Forced close-downs (tills missing)",
           fmt::format("{} ({})", t.forced(), t.missing_tills()));
  p.Figure("Supplementary close-downs", std::to_string(t.supplements()));
}

void TaxSection(Text& p, const v1::ChainCurrency& c) {
  const int dec = c.currency_decimals();
  p.Line(TableRow("TAX", "Rate", "Net", "Tax", "Gross"));
  for (const v1::ChainRow& r : c.rows()) {
    const v1::TaxTotal& x = r.tax();
    p.Line(TableRow("  " + x.tax_code() + (x.name().empty() ? "" : " " + x.name()),
                    Percent(x.rate_bp()), Amount(x.net(), dec), Amount(x.tax(), dec),
                    Amount(x.gross(), dec)));
  }
  const v1::TaxTotal& t = c.total().tax();
  p.Line(
      TableRow("  Total", "", Amount(t.net(), dec), Amount(t.tax(), dec), Amount(t.gross(), dec)));
}

void TenderSection(Text& p, const v1::ChainCurrency& c) {
  const int dec = c.currency_decimals();
  p.Line(TableRow("TENDERS", "Count", "Sales", "Refunds", "Net"));
  auto row = [&](std::string_view key, const v1::TenderTotal& x) {
    p.Line(TableRow(key, std::to_string(x.count()), Amount(x.sales(), dec),
                    Amount(-x.refunds(), dec), Amount(x.sales() - x.refunds(), dec)));
  };
  for (const v1::ChainRow& r : c.rows()) row("  " + r.tender().type(), r.tender());
  row("  Total", c.total().tender());
}

ChainBy ByOf(const v1::ChainReport& r) {
  if (r.by() == "day") return ChainBy::kDay;
  if (r.by() == "tax") return ChainBy::kTax;
  if (r.by() == "tender") return ChainBy::kTender;
  return ChainBy::kStore;
}

}  // namespace

std::string FormatChainReportText(const v1::ChainReport& r) {
  const ChainBy by = ByOf(r);
  Text p;
  p.Rule('=');
  p.Centered("CHAIN REPORT BY " + [&] {
    std::string s = r.by();
    for (char& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    return s;
  }());
  p.Rule('=');
  const int days = DaysBetween(r.from_day(), r.to_day()) + 1;
  p.Field("Business days",
          fmt::format("{} .. {} ({} day{})", r.from_day(), r.to_day(), days, days == 1 ? "" : "s"));
  p.Field("Stores", r.store_id().empty() ? "all" : r.store_id());
  if (r.currencies().empty()) {
    p.Line("");
    p.Line("No close-downs stored for these days.");
    return p.Take();
  }
  std::string codes;
  for (const v1::ChainCurrency& c : r.currencies()) {
    codes += (codes.empty() ? "" : ", ") + CurrencyName(c.currency());
  }
  p.Field("Currencies", r.currencies().size() == 1
                            ? codes
                            : codes + ": each totalled on its own, never added together");
  for (const v1::ChainCurrency& c : r.currencies()) {
    p.Line("");
    p.Rule('-');
    p.Line(fmt::format("{} (amounts in {} decimals)", CurrencyName(c.currency()),
                       c.currency_decimals()));
    p.Rule('-');
    switch (by) {
      case ChainBy::kStore:
      case ChainBy::kDay:
        FiguresSection(p, by, c);
        break;
      case ChainBy::kTax:
        TaxSection(p, c);
        break;
      case ChainBy::kTender:
        TenderSection(p, c);
        break;
    }
  }
  return p.Take();
}

std::string FormatChainReportCsv(const v1::ChainReport& r) {
  const ChainBy by = ByOf(r);
  std::string out;
  switch (by) {
    case ChainBy::kStore:
    case ChainBy::kDay: {
      std::vector<std::string> header = {
          "currency", by == ChainBy::kStore ? "store_id" : "business_day", "days", "stores"};
      for (std::string_view f : kDayFigures) header.emplace_back(f);
      out = CsvRow(header);
    } break;
    case ChainBy::kTax:
      out = CsvRow({"currency", "tax_code", "rate_bp", "name", "net", "tax", "gross"});
      break;
    case ChainBy::kTender:
      out = CsvRow({"currency", "type", "count", "sales", "refunds", "net"});
      break;
  }
  for (const v1::ChainCurrency& c : r.currencies()) {
    const int dec = c.currency_decimals();
    auto amount = [dec](int64_t minor) { return Amount(minor, dec); };
    for (const v1::ChainRow& row : c.rows()) {
      switch (by) {
        case ChainBy::kStore:
        case ChainBy::kDay: {
          const v1::ChainFigures& f = row.figures();
          out += CsvRow({c.currency(),
                         by == ChainBy::kStore ? row.store_id() : row.business_day(),
                         std::to_string(f.days()),
                         std::to_string(f.stores()),
                         std::to_string(f.closed()),
                         std::to_string(f.supplements()),
                         std::to_string(f.receipts()),
                         amount(f.gross_sales()),
                         amount(f.discounts()),
                         std::to_string(f.refund_count()),
                         amount(f.refunds()),
                         amount(f.net_sales()),
                         amount(f.tax()),
                         amount(f.rounding()),
                         std::to_string(f.void_count()),
                         amount(f.voids()),
                         std::to_string(f.drawers_counted()),
                         std::to_string(f.drawers_not_counted()),
                         amount(f.cash_counted()),
                         amount(f.over_short()),
                         std::to_string(f.forced()),
                         std::to_string(f.missing_tills())});
          break;
        }
        case ChainBy::kTax: {
          const v1::TaxTotal& x = row.tax();
          out += CsvRow({c.currency(), x.tax_code(), std::to_string(x.rate_bp()), x.name(),
                         amount(x.net()), amount(x.tax()), amount(x.gross())});
          break;
        }
        case ChainBy::kTender: {
          const v1::TenderTotal& x = row.tender();
          out += CsvRow({c.currency(), x.type(), std::to_string(x.count()), amount(x.sales()),
                         amount(x.refunds()), amount(x.sales() - x.refunds())});
          break;
        }
      }
    }
  }
  return out;
}

std::string FormatChainReportJson(const v1::ChainReport& r) { return tools::JsonPretty(r); }

std::string FormatChainWatchText(const v1::ChainWatch& w) {
  Text p;
  p.Line(fmt::format("Business day {}: {} of {} store{} closed", w.business_day(), w.closed(),
                     w.stores(), w.stores() == 1 ? "" : "s"));
  if (!w.not_closed().empty()) {
    p.Line(fmt::format("Not closed ({}):", w.not_closed_size()));
    for (const v1::ChainStoreState& s : w.not_closed()) {
      const std::string last =
          s.last_closed_day().empty() ? "never closed" : "last closed " + s.last_closed_day();
      p.Line(fmt::format("  {:<20} {}{}", s.store_id(), last,
                         s.store_name().empty() ? "" : "  (" + s.store_name() + ")"));
    }
  }
  if (!w.forced().empty()) {
    p.Line(fmt::format("Forced close-downs ({}):", w.forced_size()));
    for (const v1::ChainForcedClose& f : w.forced()) {
      std::string tills;
      for (const std::string& t : f.missing_tills()) tills += (tills.empty() ? "" : ", ") + t;
      p.Line(fmt::format("  {:<20} Z {}, missing {}", f.store_id(), f.z_number(),
                         tills.empty() ? "(none named)" : tills));
    }
  }
  return p.Take();
}

std::string FormatChainWatchJson(const v1::ChainWatch& w) { return tools::JsonPretty(w); }

}  // namespace storenode::ledger
