#include "storenode/common/store_settings.h"

#include <date/tz.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>

#include "storenode/common/clock.h"
#include "storenode/common/fx.h"
#include "storenode/common/money.h"

namespace storenode::settings {
namespace {

constexpr int64_t kMinuteUs = 60'000'000;
constexpr int64_t kHourUs = 60 * kMinuteUs;
constexpr std::string_view kSignedPrefix = "storenode settings v1\n";

// Splits micros into whole seconds (floored) and the micros left over.
std::pair<int64_t, int64_t> SplitSeconds(int64_t us) {
  int64_t s = us / 1'000'000, rest = us % 1'000'000;
  if (rest < 0) {
    --s;
    rest += 1'000'000;
  }
  return {s, rest};
}

date::sys_seconds SysSeconds(int64_t s) { return date::sys_seconds{std::chrono::seconds{s}}; }

std::string Offset(int minutes) {
  char buf[16];
  int m = minutes < 0 ? -minutes : minutes;
  std::snprintf(buf, sizeof buf, "%c%02d:%02d", minutes < 0 ? '-' : '+', m / 60, m % 60);
  return buf;
}

bool Digits(std::string_view s, size_t at, size_t n, int max, int* out) {
  if (at + n > s.size()) return false;
  int v = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return v <= max;
}

std::string SignedMessage(std::string_view settings) {
  std::string m(kSignedPrefix);
  m.append(settings);
  return m;
}

}  // namespace

const std::map<std::string_view, int>& CurrencyDecimalsTable() {
  static const std::map<std::string_view, int> kDecimals = {
      {"AED", 2}, {"AUD", 2}, {"BGN", 2}, {"BHD", 3}, {"BRL", 2}, {"CAD", 2}, {"CHF", 2},
      {"CLP", 0}, {"CNY", 2}, {"CZK", 2}, {"DKK", 2}, {"EGP", 2}, {"EUR", 2}, {"GBP", 2},
      {"HKD", 2}, {"HUF", 2}, {"IDR", 2}, {"ILS", 2}, {"INR", 2}, {"IQD", 3}, {"ISK", 0},
      {"JOD", 3}, {"JPY", 0}, {"KRW", 0}, {"KWD", 3}, {"LYD", 3}, {"MAD", 2}, {"MXN", 2},
      {"MYR", 2}, {"NOK", 2}, {"NZD", 2}, {"OMR", 3}, {"PHP", 2}, {"PLN", 2}, {"QAR", 2},
      {"RON", 2}, {"RSD", 2}, {"SAR", 2}, {"SEK", 2}, {"SGD", 2}, {"THB", 2}, {"TND", 3},
      {"TRY", 2}, {"TWD", 2}, {"UAH", 2}, {"USD", 2}, {"VND", 0}, {"XAF", 0}, {"XOF", 0},
      {"ZAR", 2}};
  return kDecimals;
}

int CurrencyDecimals(std::string_view currency) {
  const auto& table = CurrencyDecimalsTable();
  auto it = table.find(currency);
  return it == table.end() ? -1 : it->second;
}

std::string FormatMoney(int64_t minor, int decimals, std::string_view currency) {
  return Money(minor).ToString(decimals) + " " + std::string(currency);
}

std::string FormatMoney(int64_t minor, const v1::StoreSettings& s) {
  return FormatMoney(minor, s.currency_decimals(), s.currency());
}

Result<Zone> Zone::Find(const std::string& name) {
  try {
    return Zone(date::locate_zone(name), name);
  } catch (const std::exception&) {
    return Status::NotFound("unknown time zone '" + name + "' (not in this system's tzdata)");
  }
}

Zone Zone::Utc() { return Zone(nullptr, "UTC"); }

int Zone::OffsetMinutes(int64_t utc_us) const {
  if (tz_ == nullptr) return 0;
  // The fog asks this for every event, mostly within one offset period:
  // the last period looked up, per thread, spares date's search and the
  // string it makes for the abbreviation.
  thread_local struct {
    const date::time_zone* tz = nullptr;
    int64_t begin = 0, end = 0;  // seconds, [begin, end)
    int minutes = 0;
  } last;
  const int64_t s = SplitSeconds(utc_us).first;
  if (last.tz == tz_ && s >= last.begin && s < last.end) return last.minutes;
  auto info = tz_->get_info(SysSeconds(s));
  last.tz = tz_;
  last.begin = info.begin.time_since_epoch().count();
  last.end = info.end.time_since_epoch().count();
  last.minutes = static_cast<int>(info.offset.count() / 60);
  return last.minutes;
}

int64_t Zone::ToLocal(int64_t utc_us) const {
  return utc_us + int64_t{OffsetMinutes(utc_us)} * kMinuteUs;
}

int64_t Zone::FromLocal(int64_t local_us) const {
  if (tz_ == nullptr) return local_us;
  auto [s, rest] = SplitSeconds(local_us);
  auto info = tz_->get_info(date::local_seconds{std::chrono::seconds{s}});
  if (info.result == date::local_info::nonexistent) {
    // Rule 2: the instant the clocks jump.
    return std::chrono::duration_cast<std::chrono::microseconds>(info.first.end.time_since_epoch())
        .count();
  }
  // Unique, or the first of two occurrences.
  return local_us - info.first.offset.count() * 1'000'000;
}

std::string Zone::Format(int64_t utc_us) const {
  int64_t local = ToLocal(utc_us);
  return DayOf(local) + " " + FormatTime(utc_us);
}

std::string Zone::FormatTime(int64_t utc_us) const {
  int64_t local = ToLocal(utc_us);
  int64_t in_day = local - DayStartMicros(DayOf(local));
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02d:%02d", static_cast<int>(in_day / kHourUs),
                static_cast<int>(in_day % kHourUs / kMinuteUs));
  return std::string(buf) + " " + Offset(OffsetMinutes(utc_us));
}

Result<int> ParseClockTime(std::string_view text) {
  int h = 0, m = 0;
  if (text.size() != 5 || text[2] != ':' || !Digits(text, 0, 2, 23, &h) ||
      !Digits(text, 3, 2, 59, &m)) {
    return Status::Invalid("bad time of day '" + std::string(text) +
                           "' (want HH:MM, 00:00..23:59)");
  }
  return h * 60 + m;
}

Result<int64_t> ParseLocalTime(std::string_view text) {
  auto bad = Status::Invalid("bad local time '" + std::string(text) +
                             "' (want YYYY-MM-DDTHH:MM[:SS] or YYYY-MM-DD)");
  if (text.size() < 10) return bad;
  int64_t day = DayStartMicros(std::string(text.substr(0, 10)));
  if (day < 0) return bad;
  if (text.size() == 10) return day;
  int h = 0, m = 0, s = 0;
  bool seconds = text.size() == 19;
  if ((text.size() != 16 && !seconds) || (text[10] != 'T' && text[10] != ' ') || text[13] != ':' ||
      !Digits(text, 11, 2, 23, &h) || !Digits(text, 14, 2, 59, &m) ||
      (seconds && (text[16] != ':' || !Digits(text, 17, 2, 59, &s)))) {
    return bad;
  }
  return day + ((int64_t{h} * 60 + m) * 60 + s) * 1'000'000;
}

Result<Calendar> Calendar::Of(const v1::StoreSettings& s) {
  SN_ASSIGN_OR_RETURN(Zone zone, Zone::Find(s.time_zone()));
  return Calendar(std::move(zone), s.day_start_minutes());
}

std::string Calendar::BusinessDay(int64_t utc_us) const {
  return DayOf(zone_.ToLocal(utc_us) - int64_t{start_} * kMinuteUs);
}

int64_t Calendar::DayStart(const std::string& day) const {
  return zone_.FromLocal(DayStartMicros(day) + int64_t{start_} * kMinuteUs);
}

int Calendar::HoursIn(const std::string& day) const {
  return static_cast<int>((DayStart(NextDay(day)) - DayStart(day)) / kHourUs);
}

Calendar::Days Calendar::WeekToDate(int64_t utc_us) const {
  const std::string today = BusinessDay(utc_us);
  return {WeekStartOf(today), today};
}

Calendar::Days Calendar::MonthToDate(int64_t utc_us) const {
  const std::string today = BusinessDay(utc_us);
  return {MonthStartOf(today), today};
}

const v1::TaxRateEntry* RateAt(const v1::StoreSettings& s, std::string_view code, int64_t utc_us) {
  const v1::TaxRateEntry* best = nullptr;
  for (const v1::TaxRateEntry& e : s.tax_rates()) {
    if (e.code() != code || e.effective_from_us() > utc_us) continue;
    if (best == nullptr || e.effective_from_us() > best->effective_from_us()) best = &e;
  }
  return best;
}

bool RateKnownBy(const v1::StoreSettings& s, std::string_view code, int32_t rate_bp,
                 int64_t utc_us) {
  for (const v1::TaxRateEntry& e : s.tax_rates()) {
    if (e.code() == code && e.rate_bp() == rate_bp && e.effective_from_us() <= utc_us) return true;
  }
  return false;
}

// Voucher types (settings.proto VoucherType): a short unique id, a name, a
// purpose; an SPV names a tax code of the table, an MPV none; limits in
// range.
Status CheckVoucherTypes(const v1::StoreSettings& s) {
  if (s.voucher_types_size() > kMaxVoucherTypes) {
    return Status::Invalid("store settings: " + std::to_string(s.voucher_types_size()) +
                           " voucher types, at most " + std::to_string(kMaxVoucherTypes));
  }
  for (int i = 0; i < s.voucher_types_size(); ++i) {
    const v1::VoucherType& v = s.voucher_types(i);
    auto bad = [&](const std::string& why) {
      return Status::Invalid("store settings: voucher type '" + v.id() + "': " + why);
    };
    if (v.id().empty() || v.id().size() > 16) return bad("id must be 1..16 characters");
    for (int j = 0; j < i; ++j) {
      if (s.voucher_types(j).id() == v.id()) return bad("listed twice");
    }
    if (v.name().empty() || v.name().size() > 64) return bad("name must be 1..64 characters");
    if (v.purpose() == v1::SINGLE_PURPOSE) {
      bool known = std::any_of(s.tax_rates().begin(), s.tax_rates().end(),
                               [&](const v1::TaxRateEntry& e) { return e.code() == v.tax_code(); });
      if (!known) return bad("a single-purpose voucher needs a tax code of the tax table");
    } else if (v.purpose() == v1::MULTI_PURPOSE) {
      if (!v.tax_code().empty())
        return bad("a multi-purpose voucher is taxed when redeemed: no tax code");
    } else {
      return bad("purpose must be single or multi");
    }
    if (v.offline_limit() < 0 || v.offline_limit() > kMaxVoucherAmount) {
      return bad("offline limit outside 0.." + std::to_string(kMaxVoucherAmount));
    }
    if (v.max_load() <= 0 || v.max_load() > kMaxVoucherAmount) {
      return bad("max load outside 1.." + std::to_string(kMaxVoucherAmount));
    }
  }
  return Status::Ok();
}

const v1::VoucherType* FindVoucherType(const v1::StoreSettings& s, std::string_view id) {
  for (const v1::VoucherType& v : s.voucher_types()) {
    if (v.id() == id) return &v;
  }
  return nullptr;
}

Status Check(const v1::StoreSettings& s) {
  auto bad = [](const std::string& why) { return Status::Invalid("store settings: " + why); };
  if (s.store_id().empty()) return bad("no store id");
  if (s.version() == 0) return bad("version 0");
  SN_RETURN_IF_ERROR(Zone::Find(s.time_zone()).status());
  if (s.day_start_minutes() < 0 || s.day_start_minutes() >= 24 * 60) {
    return bad("day start " + std::to_string(s.day_start_minutes()) +
               " minutes is not 00:00..23:59");
  }
  int decimals = CurrencyDecimals(s.currency());
  if (decimals < 0) return bad("unknown currency '" + s.currency() + "' (want ISO 4217)");
  if (decimals != s.currency_decimals()) {
    return bad(s.currency() + " has " + std::to_string(decimals) + " decimals, the document says " +
               std::to_string(s.currency_decimals()));
  }
  if (s.cash_rounding() < 1 || s.cash_rounding() > 1'000'000) {
    return bad("cash rounding " + std::to_string(s.cash_rounding()) + " outside 1..1000000");
  }
  for (int i = 0; i < s.tax_rates_size(); ++i) {
    const v1::TaxRateEntry& e = s.tax_rates(i);
    std::string at = "tax " + e.code() + " from " + e.effective_from() + ": ";
    if (e.code().empty()) return bad("a tax entry without a code");
    if (e.name().empty()) return bad(at + "no name");
    if (e.rate_bp() < 0 || e.rate_bp() > 10000) return bad(at + "rate outside 0..100%");
    if (i > 0) {
      const v1::TaxRateEntry& p = s.tax_rates(i - 1);
      if (p.code() > e.code() ||
          (p.code() == e.code() && p.effective_from_us() >= e.effective_from_us())) {
        return bad(at + "entries must be ordered by code, then by time, without repeats");
      }
    }
  }
  SN_RETURN_IF_ERROR(CheckVoucherTypes(s));
  SN_RETURN_IF_ERROR(CheckCorrectionTerms(s));
  return fx::CheckSheet(s);
}

std::vector<scale::Layout> ScaleLayouts(const v1::StoreSettings& s) {
  std::vector<scale::Layout> out;
  for (const v1::ScaleLabelLayout& l : s.scale_labels()) {
    scale::Layout& o = out.emplace_back();
    o.prefix = l.prefix();
    o.item_digits = static_cast<int>(l.item_digits());
    o.price_check = l.price_check();
    o.value_digits = static_cast<int>(l.value_digits());
    o.embedded = l.embeds_price() ? scale::Embedded::kPrice : scale::Embedded::kMeasure;
  }
  return out;
}

Status CheckCorrectionTerms(const v1::StoreSettings& s) {
  auto bad = [](const std::string& why) { return Status::Invalid("store settings: " + why); };
  if (s.scale_labels_size() > kMaxScaleLabels) {
    return bad("more than " + std::to_string(kMaxScaleLabels) + " scale label layouts");
  }
  const std::vector<scale::Layout> layouts = ScaleLayouts(s);
  for (size_t i = 0; i < layouts.size(); ++i) {
    Status c = scale::CheckLayout(layouts[i]);
    if (!c.ok()) return bad("scale label " + std::to_string(i + 1) + ": " + c.message());
  }
  if (s.no_receipt_refund_limit() < 0 || s.no_receipt_supervisor_above() < 0) {
    return bad("a limit for returns without a receipt is negative");
  }
  if (s.price_override_reasons_size() > kMaxOverrideReasons) {
    return bad("more than " + std::to_string(kMaxOverrideReasons) + " price override reasons");
  }
  for (const std::string& r : s.price_override_reasons()) {
    if (r.empty() || r.size() > 64) return bad("a price override reason of 1..64 characters");
  }
  return Status::Ok();
}

Status CheckOnlyAdds(const v1::StoreSettings& before, const v1::StoreSettings& after) {
  for (const v1::TaxRateEntry& old : before.tax_rates()) {
    bool kept = false;
    for (const v1::TaxRateEntry& e : after.tax_rates()) {
      if (e.code() == old.code() && e.effective_from() == old.effective_from()) {
        kept = e.name() == old.name() && e.rate_bp() == old.rate_bp() &&
               e.effective_from_us() == old.effective_from_us();
        break;
      }
    }
    if (!kept) {
      return Status::Invalid("tax " + old.code() + " from " + old.effective_from() +
                             " was edited or removed; a rate change is a new entry with its "
                             "effective time, never an edit");
    }
  }
  return Status::Ok();
}

Status CheckNext(const v1::StoreSettings& before, const v1::StoreSettings& after) {
  if (after.store_id() != before.store_id()) {
    return Status::Invalid("store_id '" + after.store_id() + "' is not this store's ('" +
                           before.store_id() + "')");
  }
  if (after.currency() != before.currency()) {
    return Status::Invalid("currency " + after.currency() + " is not the store's " +
                           before.currency() + "; a journal keeps one currency for life");
  }
  SN_RETURN_IF_ERROR(fx::CheckSheetNext(before, after));
  return CheckOnlyAdds(before, after);
}

v1::SignedSettings Sign(const v1::StoreSettings& s, const crypto::SigningKey& key) {
  v1::SignedSettings out;
  out.set_settings(s.SerializeAsString());
  std::string message = SignedMessage(out.settings());
  crypto::Signature sig =
      key.Sign(crypto::Bytes(reinterpret_cast<const uint8_t*>(message.data()), message.size()));
  out.set_public_key(key.public_key().data(), key.public_key().size());
  out.set_signature(sig.data(), sig.size());
  return out;
}

Result<v1::StoreSettings> Open(const v1::SignedSettings& signed_settings,
                               const crypto::PublicKey* pinned) {
  const std::string& key = signed_settings.public_key();
  if (key.size() != 32) return Status::Invalid("store settings: no issuer key");
  crypto::PublicKey issuer;
  std::copy(key.begin(), key.end(), issuer.begin());
  if (pinned != nullptr && issuer != *pinned) {
    return Status::Corruption("store settings signed by " + crypto::Fingerprint(issuer) +
                              ", not by the pinned fog key " + crypto::Fingerprint(*pinned));
  }
  std::string message = SignedMessage(signed_settings.settings());
  const std::string& sig = signed_settings.signature();
  if (!crypto::Verify(
          issuer, crypto::Bytes(reinterpret_cast<const uint8_t*>(message.data()), message.size()),
          crypto::Bytes(reinterpret_cast<const uint8_t*>(sig.data()), sig.size()))) {
    return Status::Corruption("store settings: bad signature");
  }
  v1::StoreSettings s;
  if (!s.ParseFromString(signed_settings.settings())) {
    return Status::Invalid("store settings: the document does not parse");
  }
  SN_RETURN_IF_ERROR(Check(s));
  return s;
}

Result<v1::StoreSettings> Open(std::string_view signed_bytes, const crypto::PublicKey* pinned) {
  v1::SignedSettings signed_settings;
  if (!signed_settings.ParseFromArray(signed_bytes.data(), static_cast<int>(signed_bytes.size()))) {
    return Status::Invalid("store settings: the signed document does not parse");
  }
  return Open(signed_settings, pinned);
}

}  // namespace storenode::settings
