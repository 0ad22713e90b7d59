// Store settings: the rules the fog and every till apply to the store's
// settings document (schemas/settings.proto), kept here once so that both
// sides derive the same business day, the same tax rate and the same local
// times from the same bytes.
//
// The rules:
//  1. The business day of instant t is the calendar date, in the store's
//     zone, of (t's local wall time - day_start). With day_start 04:00 a sale
//     at 03:59 local belongs to the previous day, one at 04:00 to this one.
//     The journal keeps t itself in UTC microseconds; only the day is local.
//  2. A local time that does not exist (the hour the clocks skip in spring)
//     is the instant the clocks jump: 02:30 on 2026-03-29 in Europe/Berlin is
//     03:00 CEST (01:00 UTC). A local time that exists twice (the hour they
//     repeat in autumn) is its first occurrence: 02:30 on 2026-10-25 in
//     Berlin is 02:30 CEST (00:30 UTC). This applies to day starts, tax
//     entries and catalog effective_from times without an offset.
//  3. The tax rate of code c at instant t is the entry of c with the greatest
//     effective_from_us <= t. The fog resolves each entry's local time to
//     that instant once, when it issues the document, so every till switches
//     at the same instant whatever its own tzdata says.
//  4. A business day runs from its start instant to the next day's; its
//     report hours step one hour from the start, so a day has 23, 24 or 25
//     of them (zones whose DST shift is not a whole hour are not supported).
//  5. Amounts are printed with the currency's minor units (ISO 4217: JPY 0,
//     EUR 2, KWD 3) and its code: "12.34 EUR".
//
// All functions are pure and thread-safe (the tz database is loaded once).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "storenode/common/crypto.h"
#include "storenode/common/scale_label.h"
#include "storenode/common/status.h"
#include "storenode/schemas/settings.pb.h"

namespace date {
class time_zone;
}

namespace storenode::settings {

// The ISO 4217 minor units of the currencies a store is likely to keep, by
// code: the one table of them (the console sends it to its pages).
const std::map<std::string_view, int>& CurrencyDecimalsTable();
// CurrencyDecimalsTable()'s entry for `currency`, -1 for a code it lacks.
int CurrencyDecimals(std::string_view currency);

// "12.34 EUR", "-5 JPY", "1.250 KWD" (rule 5).
std::string FormatMoney(int64_t minor, const v1::StoreSettings& s);
std::string FormatMoney(int64_t minor, int decimals, std::string_view currency);

// An IANA zone of the system's tzdata.
class Zone {
 public:
  // NotFound naming the zone when this machine's tzdata lacks it.
  static Result<Zone> Find(const std::string& name);
  static Zone Utc();
  const std::string& name() const { return name_; }
  // The offset from UTC at instant `utc_us`, in minutes (+120 in CEST).
  int OffsetMinutes(int64_t utc_us) const;
  // The local wall time at `utc_us`, as microseconds on a UTC-like scale.
  int64_t ToLocal(int64_t utc_us) const;
  // The instant of a local wall time (same scale), by rule 2.
  int64_t FromLocal(int64_t local_us) const;
  // "2026-07-15 00:30 +02:00"
  std::string Format(int64_t utc_us) const;
  // "00:30 +02:00"
  std::string FormatTime(int64_t utc_us) const;

 private:
  Zone(const date::time_zone* tz, std::string name) : tz_(tz), name_(std::move(name)) {}
  const date::time_zone* tz_;
  std::string name_;
};

// "YYYY-MM-DDTHH:MM[:SS]", the same with a space for the T, or
// "YYYY-MM-DD" (midnight): a local wall time on the UTC-like scale.
Result<int64_t> ParseLocalTime(std::string_view text);
// "04:00" -> 240; "HH:MM" from 00:00 to 23:59.
Result<int> ParseClockTime(std::string_view text);

// The store's days in its zone (rules 1 and 4).
class Calendar {
 public:
  Calendar(Zone zone, int day_start_minutes) : zone_(std::move(zone)), start_(day_start_minutes) {}
  static Result<Calendar> Of(const v1::StoreSettings& s);
  // UTC with the day starting at midnight: what a till without settings
  // and the fog's tests of old journals use.
  static Calendar Utc() { return Calendar(Zone::Utc(), 0); }
  const Zone& zone() const { return zone_; }
  int day_start_minutes() const { return start_; }
  std::string BusinessDay(int64_t utc_us) const;
  // The instant business day `day` ("YYYY-MM-DD") starts.
  int64_t DayStart(const std::string& day) const;
  // How many report hours `day` has: 23, 24 or 25.
  int HoursIn(const std::string& day) const;
  // The business days up to and including the one of `utc_us` (rule 1)
  // since the Monday of its ISO week, or since the 1st of its month: on a
  // Sunday at 02:00 with day_start 04:00 it is still Saturday's week.
  struct Days {
    std::string from, to;
  };
  Days WeekToDate(int64_t utc_us) const;
  Days MonthToDate(int64_t utc_us) const;

 private:
  Zone zone_;
  int start_ = 0;
};

// The entry in force for `code` at `utc_us` (rule 3); nullptr if none is.
const v1::TaxRateEntry* RateAt(const v1::StoreSettings& s, std::string_view code, int64_t utc_us);
// Whether `rate_bp` is some entry of `code` in force at or before `utc_us`:
// what a refund may carry (the rate of the sale it refunds).
bool RateKnownBy(const v1::StoreSettings& s, std::string_view code, int32_t rate_bp,
                 int64_t utc_us);

// Voucher types: at most this many, amounts (offline limit, max load) at
// most this many minor units.
inline constexpr int kMaxVoucherTypes = 32;
inline constexpr int64_t kMaxVoucherAmount = 100'000'000;
// The voucher type `id` of the settings; nullptr if none.
const v1::VoucherType* FindVoucherType(const v1::StoreSettings& s, std::string_view id);

// Checks a document on its own: ids, a known zone and currency with its
// decimals, day start and cash rounding in range, tax entries named, in
// range, ordered by code then time, and their instants resolved by rule 2;
// voucher types unique, named, an SPV with a tax code of the table, an MPV
// without, limits in range.
Status Check(const v1::StoreSettings& s);
// A later version may only add tax entries: every entry of `before` must be
// in `after` unchanged. The reason names the first entry that was edited or
// removed.
Status CheckOnlyAdds(const v1::StoreSettings& before, const v1::StoreSettings& after);
// What makes `after` a valid next version of `before`, whoever issues it
// (fog.toml or head office): the same store, the same currency (a journal
// keeps one currency for life), and CheckOnlyAdds. The reason names the
// field or the entry.
Status CheckNext(const v1::StoreSettings& before, const v1::StoreSettings& after);

// The scale label layouts of the settings (scale_labels), in order.
std::vector<scale::Layout> ScaleLayouts(const v1::StoreSettings& s);
// Checks the weighed-goods and corrections terms (part of Check): every
// scale label layout (scale::CheckLayout), limits >= 0, at most
// kMaxOverrideReasons price override reason codes of 1..64 characters.
Status CheckCorrectionTerms(const v1::StoreSettings& s);
inline constexpr int kMaxOverrideReasons = 50;
inline constexpr int kMaxScaleLabels = 10;

// The issuer signs the serialized document (schemas/settings.proto).
v1::SignedSettings Sign(const v1::StoreSettings& s, const crypto::SigningKey& key);
// The document of a signed one: the signature must verify with the key it
// carries, and that key must be `pinned` when one is given. Check() too.
Result<v1::StoreSettings> Open(const v1::SignedSettings& signed_settings,
                               const crypto::PublicKey* pinned = nullptr);
Result<v1::StoreSettings> Open(std::string_view signed_bytes,
                               const crypto::PublicKey* pinned = nullptr);

}  // namespace storenode::settings
