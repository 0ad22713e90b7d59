#include "storenode/common/report_text.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "storenode/common/clock.h"
#include "storenode/common/crypto.h"
#include "storenode/common/journal_format.h"
#include "storenode/common/lines.h"
#include "storenode/common/money.h"
#include "storenode/common/store_settings.h"
#include "storenode/common/totals.h"

namespace storenode {
namespace {

template <typename T>
using Repeated = google::protobuf::RepeatedPtrField<T>;

constexpr size_t kGutter = 16;  // width of a header field's label
constexpr size_t kShortHash = 12;

// How amounts and times read in the report being formatted: the store's
// currency (its minor units and code) and its zone. Each public Format*
// function sets them from what it formats for its own duration (UseTerms),
// so the sections below need no parameter for them. Default: two decimals,
// no code, UTC.
struct Terms {
  int decimals = 2;
  std::string currency;
  std::optional<settings::Zone> zone;
};
thread_local Terms terms;

class UseTerms {
 public:
  UseTerms(const std::string& currency, int decimals, const std::string& zone) : saved_(terms) {
    if (!currency.empty()) {
      terms.currency = currency;
      terms.decimals = decimals;
    }
    if (zone.empty()) return;
    if (auto z = settings::Zone::Find(zone); z.ok()) terms.zone = *z;
  }
  explicit UseTerms(const v1::ZReport& z)
      : UseTerms(z.currency(), z.currency_decimals(), z.time_zone()) {}
  explicit UseTerms(const v1::Report& r)
      : UseTerms(r.currency(), r.currency_decimals(), r.time_zone()) {}
  ~UseTerms() { terms = saved_; }
  UseTerms(const UseTerms&) = delete;
  UseTerms& operator=(const UseTerms&) = delete;

 private:
  Terms saved_;
};

std::string Amount(int64_t minor) { return Money(minor).ToString(terms.decimals); }
std::string Negated(int64_t minor) { return Money(-minor).ToString(terms.decimals); }
// An instant as the store reads it: local with the offset, else UTC.
std::string Time(int64_t us) { return terms.zone ? terms.zone->Format(us) : IsoTime(us); }
// A CSV column of amounts names their currency: "sales_EUR".
std::string MoneyColumn(std::string_view name) {
  return std::string(name) + (terms.currency.empty() ? "" : "_" + terms.currency);
}
// The currency field of a report head ("" when unknown).
std::string CurrencyNote() {
  if (terms.currency.empty()) return "";
  return terms.currency + " (amounts in " + std::to_string(terms.decimals) + " decimals)";
}
// 550 basis points -> "5.50%".
std::string Percent(int32_t rate_bp) { return Money(rate_bp).ToString() + "%"; }
std::string Hex(const std::string& bytes) { return crypto::ToHex(crypto::AsBytes(bytes)); }
std::string Count(uint64_t n) { return std::to_string(n); }

class Page {
 public:
  explicit Page(size_t width = kReportWidth) : width_(width) {}
  void Rule(char c) { out_ += std::string(width_, c) + "\n"; }
  void Blank() { out_ += "\n"; }
  void Heading(std::string_view text) { out_ += std::string(text) + "\n"; }
  void Centered(std::string_view text) {
    const size_t pad = text.size() < width_ ? (width_ - text.size()) / 2 : 0;
    out_ += std::string(pad, ' ') + std::string(text.substr(0, width_)) + "\n";
  }
  // A header field: label in a 16-column gutter, value after it.
  void Field(std::string_view label, std::string_view value) {
    out_ += fmt::format("{:<{}}{}\n", label, kGutter, value);
  }
  // A field whose value is a list: as many items per line as fit the page,
  // continuation lines indented to the gutter.
  void ListField(std::string_view label, const Repeated<std::string>& items) {
    const size_t room = width_ - kGutter;
    std::string line;
    for (int i = 0; i < items.size(); ++i) {
      std::string item = items[i] + (i + 1 < items.size() ? "," : "");
      if (!line.empty() && line.size() + 1 + item.size() > room) {
        Field(label, line);
        label = "";
        line.clear();
      }
      line += (line.empty() ? "" : " ") + item;
    }
    Field(label, line);
  }
  // A figure: label indented on the left, value right-aligned to the margin.
  void Figure(std::string_view label, std::string_view value) {
    std::string left = "  " + std::string(label);
    const size_t room = width_ - 1 - std::min<size_t>(value.size(), width_ - 4);
    if (left.size() > room) left.resize(room);
    out_ += fmt::format("{:<{}}{:>{}}\n", left, width_ - value.size(), value, value.size());
  }
  // A table row: first cell left in 20 columns, the others right in 15 each.
  void Row(const std::vector<std::string>& cells) {
    std::string line;
    for (size_t i = 0; i < cells.size(); ++i) {
      line += i == 0 ? fmt::format("{:<20.20}", cells[i]) : fmt::format("{:>15}", cells[i]);
    }
    out_ += line + "\n";
  }
  // A line laid out by the caller.
  void Line(std::string_view text) { out_ += std::string(text) + "\n"; }
  // `text` cut into lines of the page's width (hashes, signatures).
  void Wrapped(std::string_view text) {
    for (size_t i = 0; i < text.size(); i += width_) Line(text.substr(i, width_));
  }
  std::string Take() { return std::move(out_); }

 private:
  size_t width_;
  std::string out_;
};

// The title between two double rules.
void Banner(Page& p, std::string_view title) {
  p.Rule('=');
  p.Centered(title);
  p.Rule('=');
}

// Whether `r` covers a range of days (business_day is then empty).
bool IsRange(const v1::Report& r) { return r.business_day().empty() && !r.from_day().empty(); }

// The days of a ranged report: "2026-11-30 .. 2026-12-06 (7 days)".
std::string DaysOf(const v1::Report& r) {
  const int days = DaysBetween(r.from_day(), r.to_day()) + 1;
  return fmt::format("{} .. {} ({} day{})", r.from_day(), r.to_day(), days, days == 1 ? "" : "s");
}

// Banner, store and day: the head of every report cut from a Report.
void ReportHead(Page& p, std::string_view title, const v1::Report& r) {
  Banner(p, title);
  p.Field("Store",
          r.store_name().empty() ? r.store_id() : r.store_name() + " (" + r.store_id() + ")");
  if (IsRange(r)) {
    p.Field("Business days", DaysOf(r));
  } else {
    p.Field("Business day", r.business_day());
  }
  if (!CurrencyNote().empty()) p.Field("Currency", CurrencyNote());
}

std::string Period(int64_t first_us, int64_t last_us) {
  if (first_us == 0 && last_us == 0) return "no events";
  return Time(first_us) + " .. " + Time(last_us);
}

std::string ReceiptRange(const v1::DayTotals& t) {
  if (t.first_receipt_no() == 0) return "none";
  return fmt::format("#{} .. #{} ({} numbers)", t.first_receipt_no(), t.last_receipt_no(),
                     t.last_receipt_no() - t.first_receipt_no() + 1);
}

// The sections of a day's figures, shared by the X- and the Z-report.

void DayHeaderFields(Page& p, const v1::DayTotals& t) {
  p.Field("Store", t.store_id());
  p.Field("Device", t.device_id().empty() ? "all tills" : t.device_id());
  p.Field("Business day", t.business_day() + (t.sealed() ? " (sealed)" : " (open)"));
  p.Field("Period", t.event_count() == 0 ? "no events"
                                         : Period(t.first_event_time_us(), t.last_event_time_us()));
  // Receipt numbers are per till: a range across tills would mislead.
  p.Field("Receipt numbers",
          t.device_id().empty() ? "per till (see each till's report)" : ReceiptRange(t));
  p.Field("Sales receipts", Count(t.receipt_count()));
  p.Field("Events", Count(t.event_count()));
}

void SalesSection(Page& p, const v1::DayTotals& t) {
  p.Heading("SALES");
  p.Figure("Gross sales", Amount(t.gross_sales()));
  p.Figure("Discounts", Negated(t.discounts()));
  p.Figure(fmt::format("Refunds ({})", t.refund_count()), Negated(t.refunds()));
  p.Figure("Net sales", Amount(t.net_sales()));
  p.Figure("Cash rounding", Amount(t.rounding()));
  p.Figure("Taken (net sales + rounding)", Amount(t.net_sales() + t.rounding()));
  p.Figure(fmt::format("Voids ({}, not in net sales)", t.void_count()), Amount(t.voids()));
}

// Discounts per promotion (docs/FORMATS.md 10.6); only on a day that had any.
void PromotionsSection(Page& p, const v1::DayTotals& t) {
  if (t.promotions().empty()) return;
  p.Blank();
  p.Row({"PROMOTIONS", "Lines/Rcpts", "Discount", "Refunded", "Net"});
  int64_t amount = 0, refunded = 0;
  for (const v1::PromotionTotal& x : t.promotions()) {
    p.Row({"  " + x.promotion_id() + " " + x.name(), fmt::format("{}/{}", x.lines(), x.receipts()),
           Negated(x.amount()), Amount(x.refunded()), Negated(x.net())});
    amount += x.amount();
    refunded += x.refunded();
  }
  p.Row({"  Total", "", Negated(amount), Amount(refunded), Negated(amount - refunded)});
}

// --- Corrections and training (docs/FORMATS.md) ---

// Printed only when the day has any: a day without corrections or training
// prints as before.
void CorrectionsSection(Page& p, const v1::DayTotals& t) {
  if (t.measured_line_count() != 0) {
    p.Figure(fmt::format("Sold by measure ({} lines, in gross)", t.measured_line_count()),
             Amount(t.measured_gross()));
  }
  if (t.has_corrections()) {
    const v1::CorrectionTotals& c = t.corrections();
    p.Blank();
    p.Heading("CORRECTIONS");
    p.Figure(fmt::format("Lines voided before total ({})", c.line_void_count()),
             Amount(c.line_voids()));
    p.Figure(fmt::format("Price overrides ({}), catalog - keyed", c.price_override_count()),
             Amount(c.price_overrides()));
    p.Figure(fmt::format("Returns without receipt ({})", c.no_receipt_refund_count()),
             Negated(c.no_receipt_refunds()));
  }
  if (t.has_training()) {
    const v1::TrainingTotals& x = t.training();
    p.Blank();
    p.Heading("TRAINING (not in any total)");
    p.Field("Training events", Count(x.event_count()));
    p.Figure(fmt::format("Training sales ({})", x.receipt_count()), Amount(x.sales()));
    p.Figure(fmt::format("Training refunds ({})", x.refund_count()), Negated(x.refunds()));
    p.Figure(fmt::format("Training voids ({})", x.void_count()), Amount(x.voids()));
  }
}

void TaxSection(Page& p, const v1::DayTotals& t) {
  p.Row({"TAX", "Rate", "Net", "Tax", "Gross"});
  int64_t net = 0, tax = 0, gross = 0;
  for (const v1::TaxTotal& x : t.taxes()) {
    // A code has two rows only when its rate changed during the day.
    p.Row({"  " + x.tax_code() + (x.name().empty() ? "" : " " + x.name()), Percent(x.rate_bp()),
           Amount(x.net()), Amount(x.tax()), Amount(x.gross())});
    net += x.net();
    tax += x.tax();
    gross += x.gross();
  }
  p.Row({"  Total", "", Amount(net), Amount(tax), Amount(gross)});
}

void TenderSection(Page& p, const Repeated<v1::TenderTotal>& tenders) {
  p.Row({"TENDERS", "Count", "Sales", "Refunds", "Net"});
  uint64_t count = 0;
  int64_t sales = 0, refunds = 0;
  for (const v1::TenderTotal& x : tenders) {
    p.Row({"  " + x.type(), Count(x.count()), Amount(x.sales()), Negated(x.refunds()),
           Amount(x.sales() - x.refunds())});
    count += x.count();
    sales += x.sales();
    refunds += x.refunds();
  }
  p.Row({"  Total", Count(count), Amount(sales), Negated(refunds), Amount(sales - refunds)});
}

// One drawer; with `count` (a Z), the cash counted and the difference too.
void DrawerSection(Page& p, const v1::DrawerTotal& d, const v1::DrawerCount* count) {
  p.Blank();
  p.Heading("DRAWER " + d.device_id());
  p.Figure("Opening float", Amount(d.opening_float()));
  p.Figure("Cash sales", Amount(d.cash_sales()));
  p.Figure("Cash refunds", Negated(d.cash_refunds()));
  p.Figure("Pay-ins", Amount(d.pay_ins()));
  p.Figure("Pay-outs", Negated(d.pay_outs()));
  p.Figure("Drops to safe", Negated(d.drops()));
  if (d.tip_payouts() != 0) p.Figure("Tips paid out", Negated(d.tip_payouts()));
  if (d.fx_cash() != 0) p.Figure("Exchanges and change for foreign cash", Amount(d.fx_cash()));
  p.Figure("Expected in drawer", Amount(d.expected()));
  if (count == nullptr) return;
  const bool counted = count->counted();
  p.Figure("Counted in drawer", counted ? Amount(count->counted_cash()) : "not counted");
  p.Figure("Over (+) / short (-)", counted ? Amount(count->over_short()) : "not counted");
}

// Every drawer of the day; `counts` (a Z's drawer counts, or null) are
// matched by device, and a count for a till without cash movements gets a
// drawer of its own.
void DrawersSection(Page& p, const v1::DayTotals& t, const Repeated<v1::DrawerCount>* counts) {
  auto count_of = [&](const std::string& device) -> const v1::DrawerCount* {
    if (counts == nullptr) return nullptr;
    for (const v1::DrawerCount& c : *counts) {
      if (c.device_id() == device) return &c;
    }
    return nullptr;
  };
  auto has_drawer = [&](const std::string& device) {
    return std::any_of(t.drawers().begin(), t.drawers().end(),
                       [&](const v1::DrawerTotal& d) { return d.device_id() == device; });
  };
  bool any = false;
  for (const v1::DrawerTotal& d : t.drawers()) {
    DrawerSection(p, d, counts == nullptr ? nullptr : count_of(d.device_id()));
    any = true;
  }
  if (counts != nullptr) {
    for (const v1::DrawerCount& c : *counts) {
      if (has_drawer(c.device_id())) continue;
      v1::DrawerTotal idle;
      idle.set_device_id(c.device_id());
      idle.set_expected(c.expected_cash());
      DrawerSection(p, idle, &c);
      any = true;
    }
  }
  if (!any) {
    p.Blank();
    p.Heading("DRAWERS: no cash movements");
  }
}

// Vouchers, tips, card schemes and cashiers (docs/FORMATS.md "Vouchers,
// gift cards and tips", "Card details", "Cashier shifts"); each part only
// when the day has it, so a day without them prints as before.
void TenderAreaSection(Page& p, const v1::DayTotals& t) {
  if (t.vouchers_size() > 0) {
    p.Blank();
    p.Row({"VOUCHERS", "Sold", "Amount", "Redeemed", "Amount"});
    for (const v1::VoucherTotal& v : t.vouchers()) {
      p.Row({"  " + v.voucher_type() + " " + v.purpose(), Count(v.sold_count()), Amount(v.sold()),
             Count(v.redeemed_count()), Amount(v.redeemed())});
    }
    p.Figure("Voucher sales (not in net sales)", Amount(t.voucher_sales()));
    if (t.spv_redeemed_tax() != 0) {
      p.Figure("SPV tax taken off (paid when sold)", Amount(t.spv_redeemed_tax()));
    }
  }
  if (t.tip_count() > 0 || t.tip_payouts() > 0) {
    p.Blank();
    p.Heading("TIPS (not revenue)");
    p.Figure(fmt::format("Tips taken ({})", t.tip_count()), Amount(t.tips()));
    p.Figure("Tips paid out", Negated(t.tip_payouts()));
  }
  if (t.card_schemes_size() > 0) {
    p.Blank();
    p.Row({"CARDS", "Count", "Sales", "Refunds", "Tips"});
    for (const v1::CardSchemeTotal& c : t.card_schemes()) {
      p.Row({"  " + (c.scheme().empty() ? std::string("(no details)") : c.scheme()),
             Count(c.count()), Amount(c.sales()), Negated(c.refunds()), Amount(c.tips())});
    }
    p.Figure("Authorised offline", Count(t.card_offline_count()));
  }
  if (t.shift_count() > 0) {
    p.Blank();
    p.Row({"CASHIERS", "Receipts", "Sales", "Refunds", "Tips"});
    for (const v1::CashierDayTotal& c : t.cashier_totals()) {
      p.Row({"  " + c.cashier(), Count(c.receipts()), Amount(c.sales()), Negated(c.refunds()),
             Amount(c.tips())});
      if (!c.drawer_id().empty()) {
        p.Figure("drawer " + c.drawer_id() + " expected", Amount(c.drawer_expected()));
      }
    }
    p.Figure("Shifts", Count(t.shift_count()));
  }
}

// Foreign cash and exchanges (common/fx.h): per currency, then each
// foreign drawer balance; with `counts` (a Z) what was counted too.
std::string Foreign(int64_t minor, const std::string& currency) {
  return settings::FormatMoney(minor, std::max(settings::CurrencyDecimals(currency), 0), currency);
}

void FxSection(Page& p, const v1::DayTotals& t, const Repeated<v1::ForeignDrawerCount>* counts) {
  const bool any_count = counts != nullptr && !counts->empty();
  if (t.fx().empty() && t.foreign_drawers().empty() && !any_count) return;
  p.Blank();
  p.Heading("FOREIGN CURRENCY");
  for (const v1::FxTotal& x : t.fx()) {
    const std::string& c = x.currency();
    p.Figure(fmt::format("{} bought ({})", c, x.bought_count()), Foreign(x.bought_foreign(), c));
    p.Figure(c + " bought, home value", Amount(x.bought_home()));
    p.Figure(fmt::format("{} sold ({})", c, x.sold_count()), Foreign(x.sold_foreign(), c));
    p.Figure(c + " sold, home value", Amount(x.sold_home()));
    p.Figure(fmt::format("{} tendered on sales ({})", c, x.tendered_count()),
             Foreign(x.tendered_foreign(), c));
    p.Figure(c + " tendered, home value", Amount(x.tendered_home()));
    p.Figure(c + " commission", Amount(x.commission()));
    p.Figure(c + " margin against mid", Amount(x.margin()));
    p.Figure(c + " exchanges with customer ref", Count(x.referenced_count()));
  }
  p.Figure("Exchange commission", Amount(t.fx_commission()));
  p.Figure("Exchange margin against mid", Amount(t.fx_margin()));
  auto count_of = [&](const std::string& device,
                      const std::string& currency) -> const v1::ForeignDrawerCount* {
    if (counts == nullptr) return nullptr;
    for (const v1::ForeignDrawerCount& c : *counts) {
      if (c.device_id() == device && c.currency() == currency) return &c;
    }
    return nullptr;
  };
  for (const v1::ForeignDrawer& d : t.foreign_drawers()) {
    const std::string& c = d.currency();
    p.Blank();
    p.Heading("DRAWER " + d.device_id() + " " + c);
    p.Figure("Opening float", Foreign(d.opening_float(), c));
    p.Figure("Received (tenders, bought)", Foreign(d.received(), c));
    p.Figure("Paid out (sold)", Foreign(-d.paid(), c));
    p.Figure("Pay-ins", Foreign(d.pay_ins(), c));
    p.Figure("Pay-outs", Foreign(-d.pay_outs(), c));
    p.Figure("Drops to safe", Foreign(-d.drops(), c));
    p.Figure("Expected in drawer", Foreign(d.expected(), c));
    const v1::ForeignDrawerCount* n = count_of(d.device_id(), c);
    if (counts == nullptr) continue;
    const bool counted = n != nullptr && n->counted();
    p.Figure("Counted in drawer", counted ? Foreign(n->counted_cash(), c) : "not counted");
    p.Figure("Over (+) / short (-)", counted ? Foreign(n->over_short(), c) : "not counted");
  }
}

void NoSaleLine(Page& p, const v1::DayTotals& t) {
  p.Figure("No-sale drawer opens", Count(t.no_sale_count()));
}

// The Z-report's own sections.

void ZHeader(Page& p, const v1::ZReport& z) {
  const bool supplement = z.kind() == "SUPPLEMENT";
  Banner(p, supplement ? fmt::format("SUPPLEMENTARY Z-REPORT {}", z.z_number())
                       : fmt::format("Z-REPORT {}", z.z_number()));
  if (!z.store_name().empty()) {
    p.Centered(z.store_name());
    if (!z.store_address().empty()) p.Centered(z.store_address());
    if (!z.store_tax_id().empty()) p.Centered("Tax id " + z.store_tax_id());
    p.Rule('-');
  }
  p.Field("Store", z.store_id());
  if (!CurrencyNote().empty()) p.Field("Currency", CurrencyNote());
  if (!z.time_zone().empty()) p.Field("Time zone", z.time_zone());
  p.Field("Business day", z.business_day());
  p.Field("Z number", Count(z.z_number()));
  p.Field("Kind", supplement ? fmt::format("{}, part {}", z.kind(), z.part()) : z.kind());
  if (supplement) p.Field("Supplements", fmt::format("Z {}", z.supplements_z_number()));
  p.Field("Period", Period(z.period_start_us(), z.period_end_us()));
  p.Field("Software", z.software_version());
  if (z.created_us() != 0) p.Field("Created", Time(z.created_us()));
  if (!z.requested_by().empty()) p.Field("Requested by", z.requested_by());
  p.Field("Close-down", z.forced() ? "FORCED before every till had sealed" : "every till sealed");
  if (!z.missing_tills().empty()) p.ListField("Missing tills", z.missing_tills());
  p.Field("Sales receipts", Count(z.totals().receipt_count()));
  p.Field("Events", Count(z.totals().event_count()));
}

std::string TillState(const v1::ZTill& t) {
  if (t.missing()) return "missing";
  return t.sealed() ? "sealed" : "not sealed";
}

std::string TillRow(std::string_view id, size_t id_width, std::string_view state,
                    std::string_view receipts, std::string_view sales, std::string_view head_seq,
                    std::string_view head_hash) {
  return fmt::format("{:<{}}  {:<11}{:<18}{:>7}{:>10}  {}", id, id_width, state, receipts, sales,
                     head_seq, head_hash);
}

// One row per till; a second line names the journal and the events covered.
void TillsSection(Page& p, const v1::ZReport& z) {
  constexpr size_t kMinIdWidth = 5;
  constexpr size_t kMaxIdWidth = 16;  // the other columns take 62 of the 80
  size_t id_width = kMinIdWidth;
  for (const v1::ZTill& t : z.tills()) {
    id_width = std::clamp(t.device_id().size(), id_width, kMaxIdWidth);
  }
  p.Line(TillRow("TILLS", id_width, "STATE", "RECEIPT NOS", "SALES", "HEAD SEQ", "HEAD HASH"));
  for (const v1::ZTill& t : z.tills()) {
    // An id too long for its column gets a line of its own.
    const bool long_id = t.device_id().size() > id_width;
    if (long_id) p.Line(t.device_id());
    const std::string receipts =
        t.first_receipt_no() == 0
            ? "-"
            : fmt::format("#{}..#{}", t.first_receipt_no(), t.last_receipt_no());
    const std::string hash = t.head_hash().empty() ? "-" : Hex(t.head_hash()).substr(0, kShortHash);
    p.Line(TillRow(long_id ? "" : t.device_id(), id_width, TillState(t), receipts,
                   Count(t.receipt_count()), Count(t.head_seq()), hash));
    if (t.event_count() == 0) continue;
    p.Line(fmt::format("{:<{}}  journal {}, events seq {}..{} ({})", "", id_width,
                       t.journal_id().substr(0, 16), t.first_seq(), t.last_seq(), t.event_count()));
  }
}

void GrandTotalsSection(Page& p, const v1::GrandTotals& g) {
  p.Heading("GRAND TOTALS (since the store's first Z, this one included)");
  p.Figure("Gross sales", Amount(g.gross_sales()));
  p.Figure("Discounts", Negated(g.discounts()));
  p.Figure("Refunds", Negated(g.refunds()));
  p.Figure("Net sales", Amount(g.net_sales()));
  p.Figure("Tax", Amount(g.tax()));
  p.Figure("Voids (not in net sales)", Amount(g.voids()));
  p.Figure("Sales receipts", Count(g.receipts()));
}

void IntegritySection(Page& p, const v1::ZReport& z) {
  p.Heading("INTEGRITY");
  p.Field("Merkle root", Hex(z.merkle_root()));
  p.Field("Merkle leaves", Count(z.leaf_count()) + " events");
  p.Field("Previous Z hash", Hex(z.prev_z_hash()));
}

// What the bytes of `s` say about themselves: the hash is SHA-256 of the Z
// and the signature verifies under the key it carries. Whether that key is
// the store's fog is for the reader (or the ledger) to know.
std::string SignatureCheck(const v1::SignedZ& s) {
  const crypto::Hash hash = crypto::Sha256Of(s.z());
  if (s.hash() != std::string(hash.begin(), hash.end())) return "HASH DOES NOT MATCH THE Z";
  crypto::PublicKey key;
  if (s.fog_public_key().size() != key.size()) return "NO VALID FOG KEY";
  std::copy(s.fog_public_key().begin(), s.fog_public_key().end(), key.begin());
  if (!crypto::Verify(key, crypto::AsBytes(s.hash()), crypto::AsBytes(s.signature()))) {
    return "SIGNATURE DOES NOT VERIFY";
  }
  return "hash and signature check out under this fog key";
}

void SignatureSection(Page& p, const v1::SignedZ* s) {
  p.Heading("SIGNATURE: the fog signs SHA-256 of the Z's bytes with Ed25519");
  if (s == nullptr) {
    p.Line("  (kept with the stored and forwarded Z, SignedZ; not on this page)");
    return;
  }
  const size_t room = kReportWidth - kGutter;
  p.Field("Z hash", Hex(s->hash()));
  p.Field("Fog key", Hex(s->fog_public_key()));
  const std::string signature = Hex(s->signature());
  for (size_t at = 0; at < signature.size() || at == 0; at += room) {
    p.Field(at == 0 ? "Signature" : "", signature.substr(std::min(at, signature.size()), room));
  }
  p.Field("Check", SignatureCheck(*s));
}

// CSV.

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
  explicit Csv(std::string_view header) : out_(std::string(header) + "\n") {}
  // Cells put before every later Add() row (e.g. the Z number and part).
  void Prefix(std::vector<std::string> cells) { prefix_ = std::move(cells); }
  void Row(const std::vector<std::string>& cells) {
    std::string line;
    for (const std::string& cell : cells) line += (line.empty() ? "" : ",") + CsvField(cell);
    out_ += line + "\n";
  }
  void Add(std::string_view section, std::string_view key, std::string_view value) {
    std::vector<std::string> cells = prefix_;
    cells.insert(cells.end(), {std::string(section), std::string(key), std::string(value)});
    Row(cells);
  }
  void Count(std::string_view section, std::string_view key, uint64_t value) {
    Add(section, key, std::to_string(value));
  }
  void Money(std::string_view section, std::string_view key, int64_t minor) {
    Add(section, key, Amount(minor));
  }
  void Bool(std::string_view section, std::string_view key, bool value) {
    Add(section, key, value ? "true" : "false");
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
  std::vector<std::string> prefix_;
};

constexpr std::string_view kKeyValueHeader = "section,key,value";
constexpr std::string_view kZHeader = "z_number,part,section,key,value";

// TenderAreaSection's figures, as rows (none for a day without them).
void TenderAreaRows(Csv& c, const v1::DayTotals& t) {
  for (const v1::VoucherTotal& v : t.vouchers()) {
    const std::string section = "voucher:" + v.voucher_type();
    c.Add(section, "purpose", v.purpose());
    c.Count(section, "sold_count", v.sold_count());
    c.Money(section, "sold", v.sold());
    c.Count(section, "redeemed_count", v.redeemed_count());
    c.Money(section, "redeemed", v.redeemed());
    c.Count(section, "offline_count", v.offline_count());
    c.Money(section, "offline", v.offline());
  }
  if (t.vouchers_size() > 0) {
    c.Money("vouchers", "voucher_sales", t.voucher_sales());
    c.Money("vouchers", "spv_redeemed_tax", t.spv_redeemed_tax());
  }
  if (t.tip_count() > 0 || t.tip_payouts() > 0) {
    c.Count("tips", "tip_count", t.tip_count());
    c.Money("tips", "tips", t.tips());
    c.Money("tips", "tip_payouts", t.tip_payouts());
  }
  for (const v1::CardSchemeTotal& x : t.card_schemes()) {
    const std::string section = "card:" + x.scheme();
    c.Count(section, "count", x.count());
    c.Money(section, "sales", x.sales());
    c.Money(section, "refunds", x.refunds());
    c.Money(section, "tips", x.tips());
    c.Count(section, "offline_count", x.offline_count());
  }
  if (t.card_schemes_size() > 0) c.Count("cards", "offline_count", t.card_offline_count());
  if (t.shift_count() == 0) return;
  for (const v1::CashierDayTotal& x : t.cashier_totals()) {
    const std::string section = "cashier:" + x.cashier();
    c.Count(section, "shifts", x.shifts());
    c.Count(section, "receipts", x.receipts());
    c.Money(section, "sales", x.sales());
    c.Count(section, "refund_count", x.refund_count());
    c.Money(section, "refunds", x.refunds());
    c.Count(section, "tip_count", x.tip_count());
    c.Money(section, "tips", x.tips());
    c.Money(section, "tip_payouts", x.tip_payouts());
    c.Add(section, "drawer_id", x.drawer_id());
    c.Money(section, "drawer_expected", x.drawer_expected());
  }
  c.Count("shifts", "count", t.shift_count());
}

void CorrectionRows(Csv& c, const v1::DayTotals& t) {
  if (t.measured_line_count() != 0) {
    c.Count("sales", "measured_line_count", t.measured_line_count());
    c.Money("sales", "measured_gross", t.measured_gross());
  }
  if (t.has_corrections()) {
    const v1::CorrectionTotals& x = t.corrections();
    c.Count("corrections", "line_void_count", x.line_void_count());
    c.Money("corrections", "line_voids", x.line_voids());
    c.Count("corrections", "price_override_count", x.price_override_count());
    c.Money("corrections", "price_overrides", x.price_overrides());
    c.Count("corrections", "no_receipt_refund_count", x.no_receipt_refund_count());
    c.Money("corrections", "no_receipt_refunds", x.no_receipt_refunds());
  }
  if (t.has_training()) {
    const v1::TrainingTotals& x = t.training();
    c.Count("training", "event_count", x.event_count());
    c.Count("training", "receipt_count", x.receipt_count());
    c.Money("training", "sales", x.sales());
    c.Count("training", "refund_count", x.refund_count());
    c.Money("training", "refunds", x.refunds());
    c.Count("training", "void_count", x.void_count());
    c.Money("training", "voids", x.voids());
  }
}

void FxRows(Csv& c, const v1::DayTotals& t) {
  for (const v1::FxTotal& x : t.fx()) {
    const std::string section = "fx:" + x.currency();
    const int d = std::max(settings::CurrencyDecimals(x.currency()), 0);
    auto foreign = [&](int64_t v) { return Money(v).ToString(d); };
    c.Count(section, "bought_count", x.bought_count());
    c.Add(section, "bought_foreign", foreign(x.bought_foreign()));
    c.Money(section, "bought_home", x.bought_home());
    c.Count(section, "sold_count", x.sold_count());
    c.Add(section, "sold_foreign", foreign(x.sold_foreign()));
    c.Money(section, "sold_home", x.sold_home());
    c.Count(section, "tendered_count", x.tendered_count());
    c.Add(section, "tendered_foreign", foreign(x.tendered_foreign()));
    c.Money(section, "tendered_home", x.tendered_home());
    c.Money(section, "commission", x.commission());
    c.Money(section, "margin", x.margin());
    c.Count(section, "referenced_count", x.referenced_count());
  }
  if (!t.fx().empty()) {
    c.Money("fx", "commission", t.fx_commission());
    c.Money("fx", "margin", t.fx_margin());
  }
  for (const v1::ForeignDrawer& x : t.foreign_drawers()) {
    const std::string section = "foreign_drawer:" + x.device_id() + ":" + x.currency();
    const int d = std::max(settings::CurrencyDecimals(x.currency()), 0);
    auto foreign = [&](int64_t v) { return Money(v).ToString(d); };
    c.Add(section, "opening_float", foreign(x.opening_float()));
    c.Add(section, "received", foreign(x.received()));
    c.Add(section, "paid", foreign(x.paid()));
    c.Add(section, "pay_ins", foreign(x.pay_ins()));
    c.Add(section, "pay_outs", foreign(x.pay_outs()));
    c.Add(section, "drops", foreign(x.drops()));
    c.Add(section, "expected", foreign(x.expected()));
  }
}

void DayTotalsRows(Csv& c, const v1::DayTotals& t) {
  c.Add("header", "store_id", t.store_id());
  // The value column mixes counts and amounts: the amounts' currency is a row.
  if (!terms.currency.empty()) c.Add("header", "currency", terms.currency);
  c.Add("header", "device_id", t.device_id());
  c.Add("header", "business_day", t.business_day());
  c.Bool("header", "sealed", t.sealed());
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
    if (d.tip_payouts() != 0) c.Money(section, "tip_payouts", d.tip_payouts());
    c.Money(section, "expected", d.expected());
    if (d.fx_cash() != 0) c.Money(section, "fx_cash", d.fx_cash());
  }
  for (const v1::PromotionTotal& x : t.promotions()) {
    const std::string section = "promotion:" + x.promotion_id();
    c.Add(section, "name", x.name());
    c.Count(section, "lines", x.lines());
    c.Count(section, "receipts", x.receipts());
    c.Money(section, "amount", x.amount());
    c.Count(section, "refund_lines", x.refund_lines());
    c.Money(section, "refunded", x.refunded());
    c.Money(section, "net", x.net());
  }
  FxRows(c, t);
  c.Count("no_sale", "count", t.no_sale_count());
  TenderAreaRows(c, t);
  CorrectionRows(c, t);
}

std::string Joined(const Repeated<std::string>& items, std::string_view separator) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : std::string(separator)) + item;
  return out;
}

void ZRows(Csv& c, const v1::ZReport& z) {
  c.Prefix({Count(z.z_number()), Count(z.part())});
  c.Add("z", "store_id", z.store_id());
  c.Add("z", "business_day", z.business_day());
  c.Add("z", "kind", z.kind());
  c.Count("z", "supplements_z_number", z.supplements_z_number());
  c.Add("z", "period_start", z.period_start_us() == 0 ? "" : IsoTime(z.period_start_us()));
  c.Add("z", "period_end", z.period_end_us() == 0 ? "" : IsoTime(z.period_end_us()));
  c.Add("z", "software_version", z.software_version());
  c.Add("z", "created", z.created_us() == 0 ? "" : IsoTime(z.created_us()));
  c.Add("z", "requested_by", z.requested_by());
  c.Bool("z", "forced", z.forced());
  c.Add("z", "missing_tills", Joined(z.missing_tills(), " "));
  for (const v1::ZTill& t : z.tills()) {
    const std::string section = "till:" + t.device_id();
    c.Bool(section, "sealed", t.sealed());
    c.Bool(section, "missing", t.missing());
    c.Add(section, "journal_id", t.journal_id());
    c.Count(section, "first_seq", t.first_seq());
    c.Count(section, "last_seq", t.last_seq());
    c.Count(section, "event_count", t.event_count());
    c.Count(section, "first_receipt_no", t.first_receipt_no());
    c.Count(section, "last_receipt_no", t.last_receipt_no());
    c.Count(section, "receipt_count", t.receipt_count());
    c.Count(section, "head_seq", t.head_seq());
    c.Add(section, "head_hash", Hex(t.head_hash()));
  }
  DayTotalsRows(c, z.totals());
  for (const v1::DrawerCount& d : z.drawer_counts()) {
    const std::string section = "count:" + d.device_id();
    c.Bool(section, "counted", d.counted());
    c.Add(section, "counted_cash", d.counted() ? Amount(d.counted_cash()) : "");
    c.Money(section, "expected_cash", d.expected_cash());
    c.Add(section, "over_short", d.counted() ? Amount(d.over_short()) : "");
  }
  for (const v1::ForeignDrawerCount& d : z.foreign_counts()) {
    const std::string section = "foreign_count:" + d.device_id() + ":" + d.currency();
    const int dec = std::max(settings::CurrencyDecimals(d.currency()), 0);
    c.Bool(section, "counted", d.counted());
    c.Add(section, "counted_cash", d.counted() ? Money(d.counted_cash()).ToString(dec) : "");
    c.Add(section, "expected_cash", Money(d.expected_cash()).ToString(dec));
    c.Add(section, "over_short", d.counted() ? Money(d.over_short()).ToString(dec) : "");
  }
  const v1::GrandTotals& g = z.grand_totals();
  c.Money("grand_totals", "gross_sales", g.gross_sales());
  c.Money("grand_totals", "discounts", g.discounts());
  c.Money("grand_totals", "refunds", g.refunds());
  c.Money("grand_totals", "voids", g.voids());
  c.Money("grand_totals", "net_sales", g.net_sales());
  c.Money("grand_totals", "tax", g.tax());
  c.Count("grand_totals", "receipts", g.receipts());
  c.Add("integrity", "merkle_root", Hex(z.merkle_root()));
  c.Count("integrity", "leaf_count", z.leaf_count());
  c.Add("integrity", "prev_z_hash", Hex(z.prev_z_hash()));
}

// An item's quantity: pieces, or "1.234 kg" for one sold by measure (both
// when it was sold both ways).
std::string ItemQty(int64_t pieces, int64_t milli, const std::string& unit) {
  if (unit.empty() || milli == 0) return std::to_string(pieces);
  std::string measured = lines::FormatMilli(milli, unit);
  return pieces == 0 ? measured : std::to_string(pieces) + " + " + measured;
}

std::string ItemRow(std::string_view sku, size_t sku_width, std::string_view name,
                    std::string_view qty, std::string_view revenue, std::string_view refund_qty,
                    std::string_view refunds) {
  constexpr size_t kSkuAndName = 40;  // the figures take the other 40 columns
  const size_t name_width = kSkuAndName - 1 - sku_width;
  return fmt::format("{:<{}.{}} {:<{}.{}}{:>7}{:>12}{:>9}{:>12}", sku, sku_width, sku_width, name,
                     name_width, name_width, qty, revenue, refund_qty, refunds);
}

std::string DepartmentRow(std::string_view department, std::string_view qty, std::string_view lines,
                          std::string_view gross, std::string_view refunds, std::string_view net,
                          std::string_view tax) {
  return fmt::format("{:<20.20}{:>7}{:>7}{:>12}{:>12}{:>11}{:>11}", department, qty, lines, gross,
                     refunds, net, tax);
}

std::string CashierRow(std::string_view cashier, std::string_view receipts, std::string_view sales,
                       std::string_view refund_count, std::string_view refunds,
                       std::string_view void_count, std::string_view voids,
                       std::string_view no_sale) {
  return fmt::format("{:<14.14}{:>9}{:>12}{:>8}{:>11}{:>6}{:>11}{:>8}", cashier, receipts, sales,
                     refund_count, refunds, void_count, voids, no_sale);
}

// The parts of a "z" Report, decoded: the fog sends them decoded too, but
// the signed bytes are what counts when the two disagree in number.
std::vector<v1::ZReport> ZParts(const v1::Report& r) {
  if (r.z_decoded_size() == r.z_size()) return {r.z_decoded().begin(), r.z_decoded().end()};
  std::vector<v1::ZReport> parts(r.z_size());
  for (int i = 0; i < r.z_size(); ++i) (void)parts[i].ParseFromString(r.z(i).z());
  return parts;
}

}  // namespace

std::string FormatDayTotalsText(const v1::DayTotals& t, std::string_view title) {
  Page p;
  Banner(p, title);
  DayHeaderFields(p, t);
  p.Blank();
  SalesSection(p, t);
  PromotionsSection(p, t);
  CorrectionsSection(p, t);
  p.Blank();
  TaxSection(p, t);
  p.Blank();
  TenderSection(p, t.tenders());
  TenderAreaSection(p, t);
  DrawersSection(p, t, nullptr);
  FxSection(p, t, nullptr);
  p.Blank();
  NoSaleLine(p, t);
  p.Rule('=');
  return p.Take();
}

std::string FormatDayTotalsCsv(const v1::DayTotals& t) {
  Csv c(kKeyValueHeader);
  DayTotalsRows(c, t);
  return c.Take();
}

std::string FormatZText(const v1::ZReport& z, const v1::SignedZ* signed_z) {
  UseTerms use(z);
  Page p;
  ZHeader(p, z);
  p.Blank();
  TillsSection(p, z);
  p.Blank();
  SalesSection(p, z.totals());
  PromotionsSection(p, z.totals());
  CorrectionsSection(p, z.totals());
  p.Blank();
  TaxSection(p, z.totals());
  p.Blank();
  TenderSection(p, z.totals().tenders());
  TenderAreaSection(p, z.totals());
  DrawersSection(p, z.totals(), &z.drawer_counts());
  FxSection(p, z.totals(), &z.foreign_counts());
  p.Blank();
  NoSaleLine(p, z.totals());
  p.Blank();
  GrandTotalsSection(p, z.grand_totals());
  p.Blank();
  IntegritySection(p, z);
  p.Blank();
  SignatureSection(p, signed_z);
  p.Rule('=');
  return p.Take();
}

std::string FormatZCsv(const v1::ZReport& z) {
  UseTerms use(z);
  Csv c(kZHeader);
  ZRows(c, z);
  return c.Take();
}

std::string FormatHourlyText(const v1::Report& r) {
  UseTerms use(r);
  Page p;
  ReportHead(p, "HOURLY SALES", r);
  std::string zone = r.time_zone().empty() ? "UTC" : r.time_zone();
  if (IsRange(r)) {
    p.Field("Hours", "local (" + zone + "), each summed over the days");
  } else {
    p.Field("Hours", r.hours_in_day() == 24 || r.hours_in_day() == 0
                         ? "local (" + zone + ")"
                         : fmt::format("local ({}); this day has {} hours (clock change)", zone,
                                       r.hours_in_day()));
  }
  p.Blank();
  p.Row({"HOUR", "Receipts", "Sales", "Refunds", "Net"});
  uint64_t receipts = 0;
  int64_t sales = 0, refunds = 0;
  for (const v1::HourTotal& h : r.hours()) {
    p.Row({"  " + h.label(), Count(h.receipts()), Amount(h.sales()), Negated(h.refunds()),
           Amount(h.sales() - h.refunds())});
    receipts += h.receipts();
    sales += h.sales();
    refunds += h.refunds();
  }
  p.Row({"  Total", Count(receipts), Amount(sales), Negated(refunds), Amount(sales - refunds)});
  p.Rule('=');
  return p.Take();
}

std::string FormatHourlyCsv(const v1::Report& r) {
  UseTerms use(r);
  Csv c("hour,start,receipts," + MoneyColumn("sales") + "," + MoneyColumn("refunds") + "," +
        MoneyColumn("net"));
  for (const v1::HourTotal& h : r.hours()) {
    c.Row({Count(h.hour()), h.label(), Count(h.receipts()), Amount(h.sales()), Amount(h.refunds()),
           Amount(h.sales() - h.refunds())});
  }
  return c.Take();
}

std::string FormatItemsText(const v1::Report& r) {
  UseTerms use(r);
  constexpr size_t kMinSkuWidth = 3;
  constexpr size_t kMaxSkuWidth = 16;
  size_t sku_width = kMinSkuWidth;
  for (const v1::ItemTotal& i : r.items()) {
    sku_width = std::clamp(i.sku().size(), sku_width, kMaxSkuWidth);
  }
  Page p;
  ReportHead(p, "ITEMS BY REVENUE", r);
  p.Field("Items listed", Count(r.items_size()));
  p.Blank();
  p.Line(ItemRow("SKU", sku_width, "NAME", "QTY", "REVENUE", "REF QTY", "REFUNDS"));
  int64_t qty = 0, revenue = 0, refund_qty = 0, refunds = 0;
  for (const v1::ItemTotal& i : r.items()) {
    p.Line(ItemRow(i.sku(), sku_width, i.name(), ItemQty(i.qty(), i.qty_milli(), i.unit()),
                   Amount(i.revenue()), ItemQty(i.refund_qty(), i.refund_qty_milli(), i.unit()),
                   Negated(i.refund_amount())));
    qty += i.qty();
    revenue += i.revenue();
    refund_qty += i.refund_qty();
    refunds += i.refund_amount();
  }
  p.Line(ItemRow("", sku_width, "Total (items listed)", std::to_string(qty), Amount(revenue),
                 std::to_string(refund_qty), Negated(refunds)));
  p.Rule('=');
  return p.Take();
}

std::string FormatItemsCsv(const v1::Report& r) {
  UseTerms use(r);
  Csv c("sku,name,qty," + MoneyColumn("revenue") + ",refund_qty," + MoneyColumn("refund_amount"));
  for (const v1::ItemTotal& i : r.items()) {
    c.Row({i.sku(), i.name(), std::to_string(i.qty()), Amount(i.revenue()),
           std::to_string(i.refund_qty()), Amount(i.refund_amount())});
  }
  return c.Take();
}

std::string FormatDepartmentsText(const v1::Report& r) {
  UseTerms use(r);
  Page p;
  ReportHead(p, "DEPARTMENTS", r);
  p.Blank();
  p.Line(DepartmentRow("DEPARTMENT", "QTY", "LINES", "GROSS", "REFUNDS", "NET", "TAX"));
  v1::DepartmentTotal total;
  for (const v1::DepartmentTotal& d : r.departments()) {
    p.Line(DepartmentRow(d.department(), std::to_string(d.qty()), Count(d.lines()),
                         Amount(d.gross()), Negated(d.refunds()), Amount(d.net()),
                         Amount(d.tax())));
    total.set_qty(total.qty() + d.qty());
    total.set_lines(total.lines() + d.lines());
    total.set_gross(total.gross() + d.gross());
    total.set_refunds(total.refunds() + d.refunds());
    total.set_net(total.net() + d.net());
    total.set_tax(total.tax() + d.tax());
  }
  p.Line(DepartmentRow("Total", std::to_string(total.qty()), Count(total.lines()),
                       Amount(total.gross()), Negated(total.refunds()), Amount(total.net()),
                       Amount(total.tax())));
  p.Rule('=');
  return p.Take();
}

std::string FormatDepartmentsCsv(const v1::Report& r) {
  UseTerms use(r);
  Csv c("department,items,qty,lines," + MoneyColumn("gross") + ",refund_qty," +
        MoneyColumn("refunds") + "," + MoneyColumn("net") + "," + MoneyColumn("tax"));
  for (const v1::DepartmentTotal& d : r.departments()) {
    c.Row({d.department(), Count(d.items()), std::to_string(d.qty()), Count(d.lines()),
           Amount(d.gross()), std::to_string(d.refund_qty()), Amount(d.refunds()), Amount(d.net()),
           Amount(d.tax())});
  }
  return c.Take();
}

std::string FormatCashiersText(const v1::Report& r) {
  UseTerms use(r);
  Page p;
  ReportHead(p, "CASHIERS", r);
  p.Blank();
  p.Line(CashierRow("CASHIER", "RECEIPTS", "SALES", "REFUNDS", "REFUNDED", "VOIDS", "VOIDED",
                    "NO-SALE"));
  v1::CashierTotal total;
  for (const v1::CashierTotal& x : r.cashiers()) {
    p.Line(CashierRow(x.cashier(), Count(x.receipts()), Amount(x.sales()), Count(x.refund_count()),
                      Negated(x.refunds()), Count(x.void_count()), Amount(x.voids()),
                      Count(x.no_sale_count())));
    total.set_receipts(total.receipts() + x.receipts());
    total.set_sales(total.sales() + x.sales());
    total.set_refund_count(total.refund_count() + x.refund_count());
    total.set_refunds(total.refunds() + x.refunds());
    total.set_void_count(total.void_count() + x.void_count());
    total.set_voids(total.voids() + x.voids());
    total.set_no_sale_count(total.no_sale_count() + x.no_sale_count());
  }
  p.Line(CashierRow("Total", Count(total.receipts()), Amount(total.sales()),
                    Count(total.refund_count()), Negated(total.refunds()),
                    Count(total.void_count()), Amount(total.voids()),
                    Count(total.no_sale_count())));
  p.Rule('=');
  return p.Take();
}

std::string FormatCashiersCsv(const v1::Report& r) {
  UseTerms use(r);
  Csv c("cashier,receipts," + MoneyColumn("sales") + ",refund_count," + MoneyColumn("refunds") +
        ",void_count," + MoneyColumn("voids") + ",no_sale_count");
  for (const v1::CashierTotal& x : r.cashiers()) {
    c.Row({x.cashier(), Count(x.receipts()), Amount(x.sales()), Count(x.refund_count()),
           Amount(x.refunds()), Count(x.void_count()), Amount(x.voids()),
           Count(x.no_sale_count())});
  }
  return c.Take();
}

std::string FormatTendersText(const v1::Report& r) {
  UseTerms use(r);
  Page p;
  ReportHead(p, "TENDERS", r);
  p.Blank();
  TenderSection(p, r.x().tenders());
  p.Rule('=');
  return p.Take();
}

std::string FormatTendersCsv(const v1::Report& r) {
  UseTerms use(r);
  Csv c("type,count," + MoneyColumn("sales") + "," + MoneyColumn("refunds") + "," +
        MoneyColumn("net"));
  for (const v1::TenderTotal& x : r.x().tenders()) {
    c.Row({x.type(), Count(x.count()), Amount(x.sales()), Amount(x.refunds()),
           Amount(x.sales() - x.refunds())});
  }
  return c.Take();
}

// A range's Zs on one page: one line each, their sum and the days not
// closed; the Zs themselves follow it.
std::string ZSummaryText(const v1::Report& r, const std::vector<v1::ZReport>& parts) {
  Page p;
  ReportHead(p, "Z-REPORTS OF THE DAYS", r);
  p.Field("Z-reports", Count(parts.size()) + " (each in full below)");
  if (!r.open_days().empty()) p.ListField("Not closed", r.open_days());
  p.Blank();
  p.Row({"Z  DAY", "Receipts", "Net sales", "Tax", "Voids"});
  v1::DayTotals sum;
  auto tax_of = [](const v1::DayTotals& t) {
    int64_t tax = 0;
    for (const v1::TaxTotal& x : t.taxes()) tax += x.tax();
    return tax;
  };
  for (const v1::ZReport& z : parts) {
    const std::string label =
        fmt::format("{}{} {}", z.z_number(), z.kind() == "SUPPLEMENT" ? "s" : "", z.business_day());
    p.Row({label, Count(z.totals().receipt_count()), Amount(z.totals().net_sales()),
           Amount(tax_of(z.totals())), Amount(z.totals().voids())});
    MergeTotals(z.totals(), &sum);
  }
  FinishTotals(&sum);
  p.Row({"Total of the Zs", Count(sum.receipt_count()), Amount(sum.net_sales()),
         Amount(tax_of(sum)), Amount(sum.voids())});
  p.Rule('=');
  return p.Take();
}

Result<std::string> FormatReportText(const v1::Report& r) {
  UseTerms use(r);
  const std::string& kind = r.kind();
  if (kind == "z") {
    const std::vector<v1::ZReport> parts = ZParts(r);
    const bool range = IsRange(r);
    std::string out = range ? ZSummaryText(r, parts) : "";
    for (size_t i = 0; i < parts.size(); ++i) {
      if (i > 0 || range) out += "\n";
      const v1::SignedZ* signed_z = static_cast<int>(i) < r.z_size() ? &r.z(i) : nullptr;
      out += FormatZText(parts[i], signed_z);
    }
    return out;
  }
  if (kind == "x") return FormatDayTotalsText(r.x(), "X-REPORT");
  if (kind == "hourly") return FormatHourlyText(r);
  if (kind == "items") return FormatItemsText(r);
  if (kind == "departments") return FormatDepartmentsText(r);
  if (kind == "cashiers") return FormatCashiersText(r);
  if (kind == "tenders") return FormatTendersText(r);
  return Status::Invalid("no text form for a report of kind '" + kind + "'");
}

Result<std::string> FormatReportCsv(const v1::Report& r) {
  UseTerms use(r);
  const std::string& kind = r.kind();
  if (kind == "z") {
    Csv c(kZHeader);
    for (const v1::ZReport& z : ZParts(r)) ZRows(c, z);
    return c.Take();
  }
  if (kind == "x") return FormatDayTotalsCsv(r.x());
  if (kind == "hourly") return FormatHourlyCsv(r);
  if (kind == "items") return FormatItemsCsv(r);
  if (kind == "departments") return FormatDepartmentsCsv(r);
  if (kind == "cashiers") return FormatCashiersCsv(r);
  if (kind == "tenders") return FormatTendersCsv(r);
  return Status::Invalid("no CSV form for a report of kind '" + kind + "'");
}

std::string FormatTillXText(const v1::DayTotals& totals, const v1::StoreSettings& settings) {
  UseTerms use(settings.currency(), settings.currency_decimals(), settings.time_zone());
  return FormatDayTotalsText(totals, "X-REPORT");
}

namespace {

// The parts of a receipt event FormatReceiptText and ReceiptQrPayload read.
struct Receipt {
  DecodedEvent event;
  std::string title, note;  // note: what a refund or void is of
  const Repeated<v1::SaleLine>* lines = nullptr;
  const Repeated<v1::SaleLine>* voided = nullptr;  // a sale's lines voided before the total
  const Repeated<v1::Tender>* tenders = nullptr;   // none on a void
  const v1::Exchange* exchange = nullptr;          // an exchange has no lines
  std::string cashier;
  int64_t total = 0, rounding = 0;
};

// An exchange's body on its receipt: what changed hands at which rate.
void ExchangeLines(Page& p, const v1::Exchange& e) {
  const bool buy = e.direction() == v1::BUY_FOREIGN;
  p.Line(buy ? "We buy from you" : "We sell to you");
  p.Figure(e.currency(), Foreign(e.foreign_amount(), e.currency()));
  p.Figure("Rate (minor per minor)", Money(e.rate_e9()).ToString(9));
  p.Figure("Value", Amount(e.home_amount()));
  p.Figure("Commission", buy ? Negated(e.commission()) : Amount(e.commission()));
  if (!e.customer_ref().empty()) p.Figure("Customer ref", e.customer_ref());
}

// Per tax code and rate: net, tax and gross of a receipt's lines.
void ReceiptTaxTable(
    Page& p, const std::map<std::pair<std::string, int32_t>, std::pair<int64_t, int64_t>>& by_rate,
    int width) {
  p.Line(fmt::format("{:<6}{:>8}{:>{}}{:>9}", "Tax", "Rate", "Net", width - 32, "Tax") +
         fmt::format("{:>9}", "Gross"));
  for (const auto& [key, figures] : by_rate) {
    const auto& [gross, tax] = figures;
    p.Line(fmt::format("{:<6.6}{:>8}{:>{}}{:>9}{:>9}", key.first, Percent(key.second),
                       Amount(gross - tax), width - 32, Amount(tax), Amount(gross)));
  }
  p.Rule('-');
}

Result<Receipt> ReadReceipt(const v1::JournalEvent& event) {
  Receipt r;
  SN_RETURN_IF_ERROR(DecodeEvent(event, &r.event));
  const v1::EventBody& b = r.event.body;
  if (b.has_sale()) {
    r.title = "RECEIPT";
    r.lines = &b.sale().lines();
    r.voided = &b.sale().voided_lines();
    r.tenders = &b.sale().tenders();
    r.cashier = b.sale().cashier();
    r.total = b.sale().total();
    r.rounding = b.sale().rounding();
  } else if (b.has_refund()) {
    r.title = "REFUND";
    r.note = b.refund().without_receipt() ? "Return without receipt: " + b.refund().reason()
                                          : fmt::format("Refund of {} receipt {}",
                                                        b.refund().original_device_id().empty()
                                                            ? r.event.header.device_id()
                                                            : b.refund().original_device_id(),
                                                        b.refund().original_receipt_no());
    r.lines = &b.refund().lines();
    r.tenders = &b.refund().tenders();
    r.cashier = b.refund().cashier();
    r.total = b.refund().total();
  } else if (b.has_void_receipt()) {
    r.title = "VOID";
    r.note = "Voided: not a sale, no money taken";
    r.lines = &b.void_receipt().lines();
    r.cashier = b.void_receipt().cashier();
    r.total = b.void_receipt().total();
  } else if (b.has_exchange()) {
    static const Repeated<v1::SaleLine> kNoLines;
    r.title = "EXCHANGE";
    r.exchange = &b.exchange();
    r.lines = &kNoLines;
    r.tenders = &b.exchange().tenders();
    r.cashier = b.exchange().cashier();
    r.total = b.exchange().total();
  } else {
    return Status::Invalid(fmt::format(
        "event {} is not a receipt (a sale, refund, void or exchange)", r.event.header.seq()));
  }
  return r;
}

}  // namespace

Result<std::string> FormatReceiptText(const v1::JournalEvent& event,
                                      const v1::StoreSettings& settings, int width) {
  if (width < 32 || width > kReportWidth) {
    return Status::Invalid(
        fmt::format("a receipt is 32 to {} columns wide, not {}", kReportWidth, width));
  }
  SN_ASSIGN_OR_RETURN(Receipt r, ReadReceipt(event));
  UseTerms use(settings.currency(), settings.currency_decimals(), settings.time_zone());
  const v1::EventHeader& h = r.event.header;
  Page p(width);
  for (const std::string& s : {settings.name(), settings.address()}) {
    if (!s.empty()) p.Centered(s);
  }
  if (!settings.tax_id().empty()) p.Centered("Tax id " + settings.tax_id());
  p.Rule('-');
  // A training receipt says so at its top and bottom: it is no receipt.
  if (h.training()) p.Centered("*** TRAINING - NOT A RECEIPT ***");
  p.Centered(fmt::format("{} {}", r.title, h.receipt_no()));
  if (!r.note.empty()) p.Line(r.note);
  p.Line(Time(h.wall_time_us()));
  p.Line(
      fmt::format("Till {}{}", h.device_id(), r.cashier.empty() ? "" : "  Cashier " + r.cashier));
  p.Rule('-');
  // Per tax code and rate: gross and tax, for the table below.
  std::map<std::pair<std::string, int32_t>, std::pair<int64_t, int64_t>> by_rate;
  if (r.exchange != nullptr) ExchangeLines(p, *r.exchange);
  // "1.234 kg x 2.99/kg" for a measured line.
  auto quantity = [](const v1::SaleLine& l) {
    const char* unit = lines::UnitSymbol(l.unit());
    return fmt::format("{} x {}{}{}", lines::FormatQuantity(l), Amount(l.unit_price()),
                       *unit ? "/" : "", unit);
  };
  for (const v1::SaleLine& l : *r.lines) {
    p.Line(l.name().empty() ? l.sku() : l.name());
    p.Figure(quantity(l), fmt::format("{} {}", Amount(lines::Extended(l).minor()), l.tax_code()));
    if (l.tare_milli() != 0) p.Line("  tare " + lines::FormatQuantity(l.tare_milli(), l.unit()));
    if (l.keyed_weight()) p.Line("  weight keyed by hand");
    if (l.has_price_override()) {
      p.Line(fmt::format("  price override {} (catalog {}) by {}", l.price_override().reason_code(),
                         Amount(l.price_override().catalog_price()),
                         l.price_override().supervisor_id()));
    }
    int64_t manual = l.discount();
    for (const v1::LineDiscount& d : l.promotions()) {
      p.Figure(d.name().empty() ? d.promotion_id() : d.name(), Negated(d.amount()) + "  ");
      manual -= d.amount();
    }
    if (manual != 0) p.Figure("discount", Negated(manual) + "  ");
    auto& [gross, tax] = by_rate[{l.tax_code(), l.tax_rate_bp()}];
    gross += l.gross();
    tax += l.tax();
  }
  // Lines voided before the total (3.9): listed, in brackets, never charged.
  if (r.voided != nullptr) {
    for (const v1::SaleLine& l : *r.voided) {
      p.Line("VOIDED " + (l.name().empty() ? l.sku() : l.name()));
      p.Figure(quantity(l), "(" + Amount(l.gross()) + ")  ");
    }
  }
  p.Rule('-');
  if (r.rounding != 0) p.Figure("Rounding", Amount(r.rounding));
  p.Figure(r.tenders ? "TOTAL" : "VOIDED", Amount(r.total));
  if (r.tenders) {
    for (const v1::Tender& t : *r.tenders) {
      std::string name = v1::TenderType_Name(t.type());
      if (!t.reference().empty()) name += " " + t.reference();
      p.Figure(name, Amount(t.tendered() > 0 ? t.tendered() : t.amount()));
      if (t.has_foreign()) {
        p.Figure("  paid in " + t.foreign().currency(),
                 Foreign(t.foreign().foreign_tendered(), t.foreign().currency()));
      }
      if (t.tendered() > t.amount()) p.Figure("Change", Amount(t.tendered() - t.amount()));
    }
  }
  p.Rule('-');
  if (r.exchange == nullptr) ReceiptTaxTable(p, by_rate, width);
  if (h.training()) p.Centered("*** TRAINING - NOT A RECEIPT ***");
  p.Line(fmt::format("Day {}  Seq {}", h.business_day(), h.seq()));
  p.Line("Hash");
  p.Wrapped(Hex(event.hash()));
  p.Line("Signature");
  p.Wrapped(Hex(event.signature()));
  return p.Take();
}

Result<std::string> ReceiptQrPayload(const v1::JournalEvent& event) {
  SN_ASSIGN_OR_RETURN(Receipt r, ReadReceipt(event));
  const v1::EventHeader& h = r.event.header;
  return fmt::format("SN1;s={};d={};r={};q={};b={};t={};h={};g={}", h.store_id(), h.device_id(),
                     h.receipt_no(), h.seq(), h.business_day(), r.total, Hex(event.hash()),
                     Hex(event.signature()));
}

}  // namespace storenode
