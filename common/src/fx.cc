#include "storenode/common/fx.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <string>
#include <tuple>

#include "storenode/common/money.h"
#include "storenode/common/store_settings.h"

namespace storenode::fx {
namespace {

constexpr size_t kMaxSheetBytes = 64 * 1024;

std::string Num(int64_t v) { return std::to_string(v); }

// A known ISO 4217 code other than the store's own.
Status CheckForeignCurrency(const std::string& currency, const v1::StoreSettings& s) {
  if (settings::CurrencyDecimals(currency) < 0) {
    return Status::Invalid("currency '" + currency.substr(0, 8) + "' is not an ISO 4217 code");
  }
  if (currency == s.currency()) {
    return Status::Invalid("currency " + currency + " is the store's own");
  }
  return Status::Ok();
}

// The entry of rule 2, refused with a reason when there is none.
Result<const v1::FxRateEntry*> RateInForce(const v1::StoreSettings& s, const std::string& currency,
                                           int64_t utc_us) {
  SN_RETURN_IF_ERROR(CheckForeignCurrency(currency, s));
  if (s.rate_sheet_version() == 0) {
    return Status::Invalid("no rate sheet in store settings version " + Num(s.version()));
  }
  const v1::FxRateEntry* e = RateAt(s, currency, utc_us);
  if (e == nullptr) {
    return Status::Invalid("no rate for " + currency + " in force in rate sheet " +
                           Num(s.rate_sheet_version()));
  }
  return e;
}

Status CheckSheetVersion(uint64_t version, const v1::StoreSettings& s) {
  if (version != s.rate_sheet_version()) {
    return Status::Invalid("rate sheet " + Num(version) + " is not the one in force (" +
                           Num(s.rate_sheet_version()) + ")");
  }
  return Status::Ok();
}

Status CheckSchedule(const char* name, const v1::FxCommission& c) {
  if (c.rate_bp() < 0 || c.rate_bp() > 5000 || c.min() < 0 || c.max() < c.min() ||
      c.max() > kMaxForeignMinor) {
    return Status::Invalid(std::string("store settings: ") + name +
                           " commission: want 0..50%, 0 <= min <= max");
  }
  return Status::Ok();
}

bool IsIban(std::string_view ref) {
  if (ref.size() < 15 || ref.size() > 34) return false;
  if (!std::isupper(static_cast<unsigned char>(ref[0])) ||
      !std::isupper(static_cast<unsigned char>(ref[1])) ||
      !std::isdigit(static_cast<unsigned char>(ref[2])) ||
      !std::isdigit(static_cast<unsigned char>(ref[3]))) {
    return false;
  }
  // ISO 13616: the country and check digits moved to the end, letters as
  // 10..35, the number mod 97 is 1.
  std::string moved = std::string(ref.substr(4)) + std::string(ref.substr(0, 4));
  int mod = 0;
  for (char c : moved) {
    if (c == '-') return false;
    int v = std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : c - 'A' + 10;
    mod = (v >= 10 ? mod * 100 : mod * 10) + v;
    mod %= 97;
  }
  return mod == 1;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

int64_t ToHome(int64_t foreign_minor, int64_t rate_e9) {
  return RoundHalfAwayDiv(static_cast<__int128>(foreign_minor) * rate_e9, kRateScale);
}

int64_t Commission(int64_t home, const v1::FxCommission& c) {
  int64_t pct = RoundHalfAwayDiv(static_cast<__int128>(home) * c.rate_bp(), 10000);
  return std::clamp(pct, c.min(), c.max());
}

int64_t Margin(const v1::Exchange& e) {
  int64_t mid = ToHome(e.foreign_amount(), e.mid_rate_e9());
  return e.direction() == v1::BUY_FOREIGN ? mid - e.home_amount() : e.home_amount() - mid;
}

int64_t Margin(const v1::Tender& t) {
  const v1::ForeignCash& f = t.foreign();
  if (f.mid_rate_e9() == 0) return 0;
  return ToHome(f.foreign_tendered(), f.mid_rate_e9()) - t.tendered();
}

const v1::FxRateEntry* RateAt(const v1::StoreSettings& s, std::string_view currency,
                              int64_t utc_us) {
  const v1::FxRateEntry* best = nullptr;
  for (const v1::FxRateEntry& e : s.fx_rates()) {
    if (e.currency() == currency && e.effective_from_us() <= utc_us &&
        (best == nullptr || e.effective_from_us() > best->effective_from_us())) {
      best = &e;
    }
  }
  return best;
}

Status CheckCustomerRef(std::string_view ref) {
  auto bad = [&](const std::string& why) {
    return Status::Invalid("customer reference: " + why +
                           " (want 6..32 of A-Z 0-9 '-', an id, "
                           "never a name, e-mail or account number)");
  };
  if (ref.size() < 6 || ref.size() > 32)
    return bad(Num(static_cast<int64_t>(ref.size())) + " characters");
  bool digit = false;
  for (size_t i = 0; i < ref.size(); ++i) {
    char c = ref[i];
    if (c == '-') {
      if (i == 0 || i + 1 == ref.size() || ref[i - 1] == '-') return bad("a misplaced '-'");
    } else if (c >= '0' && c <= '9') {
      digit = true;
    } else if (c < 'A' || c > 'Z') {
      return bad("a character other than A-Z 0-9 '-'");
    }
  }
  if (!digit) return bad("no digit: it reads like a name");
  if (IsIban(ref)) return bad("it is an IBAN");
  return Status::Ok();
}

Status CheckSheet(const v1::StoreSettings& s) {
  auto bad = [](const std::string& why) { return Status::Invalid("store settings: " + why); };
  SN_RETURN_IF_ERROR(CheckSchedule("buy", s.buy_commission()));
  SN_RETURN_IF_ERROR(CheckSchedule("sell", s.sell_commission()));
  if (s.aml_threshold() < 0) return bad("negative AML threshold");
  if (s.rate_sheet_version() == 0 && s.fx_rates_size() > 0) {
    return bad("rates without a rate sheet version");
  }
  if (s.fx_rates_size() > kMaxSheetEntries) {
    return bad("more than " + Num(kMaxSheetEntries) + " rate sheet entries");
  }
  for (int i = 0; i < s.fx_rates_size(); ++i) {
    const v1::FxRateEntry& e = s.fx_rates(i);
    std::string at = "rate " + e.currency().substr(0, 8) + " from " + e.effective_from() + ": ";
    if (Status c = CheckForeignCurrency(e.currency(), s); !c.ok()) return bad(at + c.message());
    if (e.buy_rate_e9() <= 0 || e.buy_rate_e9() > e.mid_rate_e9() ||
        e.mid_rate_e9() > e.sell_rate_e9() || e.sell_rate_e9() > kMaxRateE9) {
      return bad(at + "want 0 < buy <= mid <= sell");
    }
    if (i > 0) {
      const v1::FxRateEntry& p = s.fx_rates(i - 1);
      if (std::make_tuple(p.currency(), p.effective_from_us()) >=
          std::make_tuple(e.currency(), e.effective_from_us())) {
        return bad(at + "entries must be ordered by currency, then by time, without repeats");
      }
    }
  }
  return Status::Ok();
}

Status CheckSheetNext(const v1::StoreSettings& before, const v1::StoreSettings& after) {
  if (after.rate_sheet_version() < before.rate_sheet_version()) {
    return Status::Invalid("rate sheet " + Num(after.rate_sheet_version()) + " is older than " +
                           Num(before.rate_sheet_version()));
  }
  if (after.rate_sheet_version() == before.rate_sheet_version()) {
    bool same = after.fx_rates_size() == before.fx_rates_size();
    for (int i = 0; same && i < after.fx_rates_size(); ++i) {
      same = after.fx_rates(i).SerializeAsString() == before.fx_rates(i).SerializeAsString();
    }
    if (!same) {
      return Status::Invalid("rate sheet " + Num(after.rate_sheet_version()) +
                             " changed without a new version");
    }
  }
  return Status::Ok();
}

Status FillForeignTender(v1::Tender* t, const v1::StoreSettings& s, int64_t utc_us) {
  v1::ForeignCash* f = t->mutable_foreign();
  auto entry = RateInForce(s, f->currency(), utc_us);
  if (!entry.ok()) return entry.status();
  if (f->rate_e9() == 0) f->set_rate_e9((*entry)->buy_rate_e9());
  if (f->mid_rate_e9() == 0) f->set_mid_rate_e9((*entry)->mid_rate_e9());
  if (f->rate_sheet_version() == 0) f->set_rate_sheet_version(s.rate_sheet_version());
  if (t->tendered() == 0 && f->foreign_tendered() > 0 &&
      f->foreign_tendered() <= kMaxForeignMinor && f->rate_e9() > 0 && f->rate_e9() <= kMaxRateE9) {
    t->set_tendered(ToHome(f->foreign_tendered(), f->rate_e9()));
  }
  return CheckForeignTender(*t, s, utc_us);
}

Status CheckForeignTender(const v1::Tender& t, const v1::StoreSettings& s, int64_t utc_us) {
  const v1::ForeignCash& f = t.foreign();
  if (t.type() != v1::CASH) return Status::Invalid("foreign notes are a CASH tender");
  SN_ASSIGN_OR_RETURN(const v1::FxRateEntry* e, RateInForce(s, f.currency(), utc_us));
  SN_RETURN_IF_ERROR(CheckSheetVersion(f.rate_sheet_version(), s));
  if (f.rate_e9() != e->buy_rate_e9()) {
    return Status::Invalid(f.currency() + " at rate_e9 " + Num(f.rate_e9()) +
                           ", the sheet buys at " + Num(e->buy_rate_e9()));
  }
  if (f.mid_rate_e9() != 0 && f.mid_rate_e9() != e->mid_rate_e9()) {
    return Status::Invalid(f.currency() + " at mid_rate_e9 " + Num(f.mid_rate_e9()) +
                           ", the sheet's mid is " + Num(e->mid_rate_e9()));
  }
  if (f.foreign_tendered() <= 0 || f.foreign_tendered() > kMaxForeignMinor) {
    return Status::Invalid(f.currency() + " handed over must be 1.." + Num(kMaxForeignMinor) +
                           " minor units");
  }
  int64_t home = ToHome(f.foreign_tendered(), f.rate_e9());
  if (t.tendered() != home) {
    return Status::Invalid("tendered " + Num(t.tendered()) + " is not the notes' home value " +
                           Num(home));
  }
  if (home < t.amount()) {
    return Status::Invalid("foreign notes worth " + Num(home) + " do not cover the amount " +
                           Num(t.amount()));
  }
  return Status::Ok();
}

Status CheckMovementCurrency(const v1::CashMovement& m, const v1::StoreSettings& s) {
  if (m.currency().empty()) return Status::Ok();
  SN_RETURN_IF_ERROR(CheckForeignCurrency(m.currency(), s));
  if (m.type() < v1::OPENING_FLOAT || m.type() > v1::DROP) {
    return Status::Invalid("a foreign drawer takes a float, pay-in, pay-out or drop");
  }
  if (m.amount() > kMaxForeignMinor) {
    return Status::Invalid("cash movement of more than " + Num(kMaxForeignMinor) + " minor units");
  }
  return Status::Ok();
}

namespace {

// Everything of an exchange but its tenders.
Status CheckTerms(const v1::Exchange& e, const v1::StoreSettings& s, int64_t utc_us) {
  if (e.direction() != v1::BUY_FOREIGN && e.direction() != v1::SELL_FOREIGN) {
    return Status::Invalid("exchange direction not set");
  }
  const bool buy = e.direction() == v1::BUY_FOREIGN;
  SN_ASSIGN_OR_RETURN(const v1::FxRateEntry* rate, RateInForce(s, e.currency(), utc_us));
  SN_RETURN_IF_ERROR(CheckSheetVersion(e.rate_sheet_version(), s));
  const int64_t want = buy ? rate->buy_rate_e9() : rate->sell_rate_e9();
  if (e.rate_e9() != want || e.mid_rate_e9() != rate->mid_rate_e9()) {
    return Status::Invalid(e.currency() + " at rate_e9 " + Num(e.rate_e9()) + " mid " +
                           Num(e.mid_rate_e9()) + ", the sheet " + (buy ? "buys" : "sells") +
                           " at " + Num(want) + " mid " + Num(rate->mid_rate_e9()));
  }
  if (e.foreign_amount() <= 0 || e.foreign_amount() > kMaxForeignMinor) {
    return Status::Invalid("foreign amount must be 1.." + Num(kMaxForeignMinor) + " minor units");
  }
  const int64_t home = ToHome(e.foreign_amount(), e.rate_e9());
  const int64_t commission = Commission(home, buy ? s.buy_commission() : s.sell_commission());
  const int64_t total = buy ? home - commission : home + commission;
  if (e.home_amount() != home || e.commission() != commission || e.total() != total) {
    return Status::Invalid("home amount, commission, total " + Num(e.home_amount()) + ", " +
                           Num(e.commission()) + ", " + Num(e.total()) + " are not the sheet's " +
                           Num(home) + ", " + Num(commission) + ", " + Num(total));
  }
  if (home <= 0 || total <= 0) {
    return Status::Invalid("home amount " + Num(home) + " does not cover the commission " +
                           Num(commission));
  }
  if (!e.customer_ref().empty()) {
    SN_RETURN_IF_ERROR(CheckCustomerRef(e.customer_ref()));
  } else if (s.aml_threshold() > 0 && home >= s.aml_threshold()) {
    return Status::Invalid("home amount " + Num(home) + " is at or above the AML threshold " +
                           Num(s.aml_threshold()) + ": a customer reference is required");
  }
  return Status::Ok();
}

Status CheckExchangeTenders(const v1::Exchange& e) {
  const bool buy = e.direction() == v1::BUY_FOREIGN;
  const int64_t total = e.total();
  if (e.tenders().empty()) return Status::Invalid("no tender given");
  int64_t sum = 0;
  for (int i = 0; i < e.tenders_size(); ++i) {
    const v1::Tender& t = e.tenders(i);
    std::string at = "tender " + Num(i + 1) + ": ";
    if (t.type() != v1::CASH && (buy || t.type() != v1::CARD)) {
      return Status::Invalid(at + (buy ? "the store pays out bought notes in CASH"
                                       : "an exchange is paid in CASH or by CARD"));
    }
    if (t.has_foreign() || t.tip() != 0 || t.has_voucher() || t.has_card()) {
      return Status::Invalid(at + "no foreign cash, tip, voucher or card details on an exchange");
    }
    if (t.amount() <= 0 || t.amount() > total) {
      return Status::Invalid(at + "amount must be 1.." + Num(total));
    }
    if (t.type() == v1::CASH && t.tendered() != 0 && (buy || t.tendered() < t.amount())) {
      return Status::Invalid(at + (buy ? "no cash is handed over on a payout"
                                       : "cash handed over is less than the amount"));
    }
    sum += t.amount();
  }
  if (sum != total) {
    return Status::Invalid("tenders add up to " + Num(sum) + ", the exchange total is " +
                           Num(total));
  }
  return Status::Ok();
}

}  // namespace

Status QuoteExchange(v1::Exchange* e, const v1::StoreSettings& s, int64_t utc_us) {
  if (e->direction() != v1::BUY_FOREIGN && e->direction() != v1::SELL_FOREIGN) {
    return Status::Invalid("exchange direction not set");
  }
  SN_ASSIGN_OR_RETURN(const v1::FxRateEntry* rate, RateInForce(s, e->currency(), utc_us));
  const bool buy = e->direction() == v1::BUY_FOREIGN;
  if (e->rate_e9() == 0) e->set_rate_e9(buy ? rate->buy_rate_e9() : rate->sell_rate_e9());
  if (e->mid_rate_e9() == 0) e->set_mid_rate_e9(rate->mid_rate_e9());
  if (e->rate_sheet_version() == 0) e->set_rate_sheet_version(s.rate_sheet_version());
  if (e->foreign_amount() > 0 && e->foreign_amount() <= kMaxForeignMinor && e->rate_e9() > 0 &&
      e->rate_e9() <= kMaxRateE9) {
    e->set_home_amount(ToHome(e->foreign_amount(), e->rate_e9()));
    e->set_commission(Commission(e->home_amount(), buy ? s.buy_commission() : s.sell_commission()));
    e->set_total(buy ? e->home_amount() - e->commission() : e->home_amount() + e->commission());
  }
  return CheckTerms(*e, s, utc_us);
}

Status FillExchange(v1::Exchange* e, const v1::StoreSettings& s, int64_t utc_us) {
  SN_RETURN_IF_ERROR(QuoteExchange(e, s, utc_us));
  return CheckExchangeTenders(*e);
}

Status CheckExchange(const v1::Exchange& e, const v1::StoreSettings& s, int64_t utc_us) {
  SN_RETURN_IF_ERROR(CheckTerms(e, s, utc_us));
  return CheckExchangeTenders(e);
}

Result<int64_t> ParseRate(std::string_view text, int home_decimals, int foreign_decimals) {
  auto bad = [&](const std::string& why) {
    return Status::Invalid("rate '" + std::string(text.substr(0, 32)) + "': " + why);
  };
  auto value = Money::Parse(text, 9);
  if (!value.ok()) return bad("want a decimal like 0.9213, at most 9 decimals");
  if (value->minor() <= 0) return bad("must be positive");
  __int128 v = value->minor();  // home units per foreign unit x 1e9
  for (int d = home_decimals - foreign_decimals; d > 0; --d) v *= 10;
  for (int d = foreign_decimals - home_decimals; d > 0; --d) {
    if (v % 10 != 0) return bad("too many decimals for a rate per foreign minor unit at 1e9");
    v /= 10;
  }
  if (v > kMaxRateE9) return bad("too large");
  return static_cast<int64_t>(v);
}

Result<std::vector<v1::FxRateEntry>> ParseRateSheet(std::string_view csv,
                                                    const v1::StoreSettings& s) {
  if (csv.size() > kMaxSheetBytes) {
    return Status::Invalid("rate sheet of " + Num(static_cast<int64_t>(csv.size())) +
                           " bytes, more than " + Num(kMaxSheetBytes));
  }
  SN_ASSIGN_OR_RETURN(settings::Zone zone, settings::Zone::Find(s.time_zone()));
  std::vector<v1::FxRateEntry> out;
  int line_no = 0;
  bool header = false;
  while (!csv.empty()) {
    size_t nl = csv.find('\n');
    std::string_view line = Trim(csv.substr(0, nl));
    csv = nl == std::string_view::npos ? std::string_view() : csv.substr(nl + 1);
    ++line_no;
    if (line.empty()) continue;
    auto bad = [&](const std::string& why) {
      return Status::Invalid("line " + Num(line_no) + ": " + why);
    };
    std::vector<std::string_view> f;
    for (size_t start = 0;;) {
      size_t comma = line.find(',', start);
      f.push_back(Trim(line.substr(start, comma - start)));
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    if (!header) {
      if (f != std::vector<std::string_view>{"currency", "buy", "sell", "mid", "effective_from"}) {
        return bad("want the header currency,buy,sell,mid,effective_from");
      }
      header = true;
      continue;
    }
    if (f.size() != 5) return bad("want 5 fields, got " + Num(static_cast<int64_t>(f.size())));
    if (static_cast<int>(out.size()) >= kMaxSheetEntries) {
      return bad("more than " + Num(kMaxSheetEntries) + " rates");
    }
    v1::FxRateEntry e;
    e.set_currency(std::string(f[0]));
    if (Status c = CheckForeignCurrency(e.currency(), s); !c.ok()) return bad(c.message());
    const int fd = settings::CurrencyDecimals(e.currency());
    int64_t rate[3] = {};  // buy, sell, mid
    for (int i = 0; i < 3; ++i) {
      auto r = ParseRate(f[1 + i], s.currency_decimals(), fd);
      if (!r.ok()) return bad(r.status().message());
      rate[i] = *r;
    }
    const int64_t buy = rate[0], sell = rate[1], mid = rate[2];
    if (!(buy <= mid && mid <= sell)) return bad("want buy <= mid <= sell");
    e.set_buy_rate_e9(buy);
    e.set_sell_rate_e9(sell);
    e.set_mid_rate_e9(mid);
    auto local = settings::ParseLocalTime(f[4]);
    if (!local.ok()) return bad(local.status().message());
    e.set_effective_from(std::string(f[4]));
    e.set_effective_from_us(zone.FromLocal(*local));
    out.push_back(std::move(e));
  }
  if (!header) return Status::Invalid("empty rate sheet");
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::make_tuple(a.currency(), a.effective_from_us()) <
           std::make_tuple(b.currency(), b.effective_from_us());
  });
  for (size_t i = 1; i < out.size(); ++i) {
    if (out[i].currency() == out[i - 1].currency() &&
        out[i].effective_from_us() == out[i - 1].effective_from_us()) {
      return Status::Invalid("two rates of " + out[i].currency() + " from " +
                             out[i].effective_from());
    }
  }
  return out;
}

}  // namespace storenode::fx
