// Store settings: business days and report hours in the store's zone, the
// DST rule for local times, tax rates by effective time, and a till that
// dates and prices by them offline (common/store_settings.h, edge.h).
#include "storenode/common/store_settings.h"

#include <catch2/catch.hpp>

#include "sim/sim.h"
#include "storenode/common/clock.h"
#include "storenode/common/journal_format.h"
#include "storenode/edge.h"
#include "support/harness.h"
#include "support/till.h"

namespace storenode {
namespace {

using settings::Calendar;
using settings::Zone;

int64_t Utc(const std::string& text) {  // "YYYY-MM-DDTHH:MM" UTC
  return settings::ParseLocalTime(text).value();
}

Calendar CalendarOf(const std::string& zone, int day_start_minutes) {
  return Calendar(Zone::Find(zone).value(), day_start_minutes);
}

// A settings document signed by `key`: zone, day start and the tax entries
// (code, name, rate, local time), resolved in the zone.
struct Entry {
  std::string code, name;
  int32_t rate_bp;
  std::string from;
};
v1::StoreSettings Terms(const std::string& zone, int day_start, const std::vector<Entry>& taxes,
                        uint64_t version = 1) {
  v1::StoreSettings s;
  s.set_store_id("store-1");
  s.set_version(version);
  s.set_name("Test store");
  s.set_time_zone(zone);
  s.set_day_start_minutes(day_start);
  s.set_currency("EUR");
  s.set_currency_decimals(2);
  s.set_cash_rounding(1);
  Zone z = Zone::Find(zone).value();
  for (const Entry& e : taxes) {
    v1::TaxRateEntry* t = s.add_tax_rates();
    t->set_code(e.code);
    t->set_name(e.name);
    t->set_rate_bp(e.rate_bp);
    t->set_effective_from(e.from);
    t->set_effective_from_us(z.FromLocal(settings::ParseLocalTime(e.from).value()));
  }
  return s;
}

const crypto::SigningKey& FogKey() {
  static const crypto::SigningKey key = crypto::SigningKey::Generate();
  return key;
}

std::string Signed(const v1::StoreSettings& s) {
  return settings::Sign(s, FogKey()).SerializeAsString();
}

}  // namespace

TEST_CASE("store settings: Berlin across both 2026 transitions") {
  Calendar berlin = CalendarOf("Europe/Berlin", 0);
  // 29 March 2026: 02:00 CET -> 03:00 CEST. 25 October: 03:00 CEST -> 02:00 CET.
  CHECK(berlin.HoursIn("2026-03-28") == 24);
  CHECK(berlin.HoursIn("2026-03-29") == 23);
  CHECK(berlin.HoursIn("2026-10-25") == 25);
  CHECK(berlin.DayStart("2026-03-29") == Utc("2026-03-28T23:00"));
  CHECK(berlin.DayStart("2026-03-30") == Utc("2026-03-29T22:00"));
  CHECK(berlin.DayStart("2026-10-26") == Utc("2026-10-25T23:00"));
  // 00:30 local in summer is 22:30 UTC the day before: the local day counts.
  CHECK(berlin.BusinessDay(Utc("2026-07-14T22:30")) == "2026-07-15");
  CHECK(berlin.zone().Format(Utc("2026-07-14T22:30")) == "2026-07-15 00:30 +02:00");
  CHECK(berlin.zone().Format(Utc("2026-12-01T23:30")) == "2026-12-02 00:30 +01:00");
  // Rule 2: 02:30 does not exist on 29 March: it is the jump, 03:00 CEST.
  const Zone& z = berlin.zone();
  CHECK(z.FromLocal(Utc("2026-03-29T02:30")) == Utc("2026-03-29T01:00"));
  // 02:30 happens twice on 25 October: the first one, still CEST.
  CHECK(z.FromLocal(Utc("2026-10-25T02:30")) == Utc("2026-10-25T00:30"));
  CHECK(z.Format(Utc("2026-10-25T00:30")) == "2026-10-25 02:30 +02:00");
  CHECK(z.Format(Utc("2026-10-25T01:30")) == "2026-10-25 02:30 +01:00");
}

TEST_CASE("store settings: New York with a 04:00 day start, 03:59 and 04:00 local") {
  Calendar ny = CalendarOf("America/New_York", 4 * 60);
  // 15 July 2026 is EDT (-04:00): 03:59 local = 07:59 UTC.
  CHECK(ny.BusinessDay(Utc("2026-07-15T07:59")) == "2026-07-14");
  CHECK(ny.BusinessDay(Utc("2026-07-15T08:00")) == "2026-07-15");
  // The case: 00:30 EDT on 07-15 belongs to 07-14 with the 04:00 start.
  CHECK(ny.BusinessDay(Utc("2026-07-15T04:30")) == "2026-07-14");
  CHECK(ny.DayStart("2026-07-15") == Utc("2026-07-15T08:00"));
  // In winter (EST, -05:00) the same local cut-off is an hour later in UTC.
  CHECK(ny.BusinessDay(Utc("2026-12-15T08:59")) == "2026-12-14");
  CHECK(ny.BusinessDay(Utc("2026-12-15T09:00")) == "2026-12-15");
  // 8 March 2026 (02:00 -> 03:00): the day that starts at 04:00 EDT on the
  // 8th began at 04:00 EST on the 7th, 23 hours earlier.
  CHECK(ny.HoursIn("2026-03-07") == 23);
  CHECK(ny.HoursIn("2026-11-01") == 24);  // 04:00 Nov 1 is after the 02:00 change
  CHECK(ny.HoursIn("2026-10-31") == 25);
}

TEST_CASE("store settings: Asia/Kolkata, half-hour offset") {
  Calendar kolkata = CalendarOf("Asia/Kolkata", 0);
  CHECK(kolkata.zone().OffsetMinutes(Utc("2026-07-15T00:00")) == 330);
  CHECK(kolkata.BusinessDay(Utc("2026-07-14T18:29")) == "2026-07-14");
  CHECK(kolkata.BusinessDay(Utc("2026-07-14T18:30")) == "2026-07-15");
  CHECK(kolkata.DayStart("2026-07-15") == Utc("2026-07-14T18:30"));
  CHECK(kolkata.HoursIn("2026-07-15") == 24);
  CHECK(kolkata.zone().Format(Utc("2026-07-15T04:47")) == "2026-07-15 10:17 +05:30");
  CHECK(Zone::Find("Mars/Olympus").status().message() ==
        "unknown time zone 'Mars/Olympus' (not in this system's tzdata)");
}

TEST_CASE(
    "store settings: week and month to date follow the business day, so Sunday 02:00 in Berlin "
    "with a 04:00 day start is still Saturday's week") {
  Calendar berlin = CalendarOf("Europe/Berlin", 4 * 60);
  // Sunday 2026-12-06 02:00 CET (01:00 UTC): business day Saturday the 5th,
  // in the ISO week that began on Monday 30 November.
  Calendar::Days week = berlin.WeekToDate(Utc("2026-12-06T01:00"));
  CHECK(week.from == "2026-11-30");
  CHECK(week.to == "2026-12-05");
  // Monday 03:59 local is still Sunday's business day: the old week.
  week = berlin.WeekToDate(Utc("2026-12-07T02:59"));
  CHECK(week.from == "2026-11-30");
  CHECK(week.to == "2026-12-06");
  // Monday 04:00 local starts the new week.
  week = berlin.WeekToDate(Utc("2026-12-07T03:00"));
  CHECK(week.from == "2026-12-07");
  CHECK(week.to == "2026-12-07");
  // Tuesday 1 December 03:00 local is still 30 November: November to date.
  Calendar::Days month = berlin.MonthToDate(Utc("2026-12-01T02:00"));
  CHECK(month.from == "2026-11-01");
  CHECK(month.to == "2026-11-30");
  month = berlin.MonthToDate(Utc("2026-12-01T03:00"));
  CHECK(month.from == "2026-12-01");
  CHECK(month.to == "2026-12-01");
  // A week across a year: Thursday 2026-01-01 belongs to the week of Monday
  // 29 December 2025.
  CHECK(WeekStartOf("2026-01-01") == "2025-12-29");
  CHECK(WeekStartOf("2026-11-30") == "2026-11-30");
  CHECK(AddDays("2026-02-28", 1) == "2026-03-01");
  CHECK(AddDays("2024-03-01", -1) == "2024-02-29");
  CHECK(DaysBetween("2025-01-01", "2026-01-01") == 365);
  CHECK(DaysBetween("2026-12-03", "2026-12-01") == -2);
}

TEST_CASE("store settings: rates by effective time, money by minor units, only additions") {
  v1::StoreSettings s = Terms("Europe/Berlin", 0,
                              {{"A", "Standard", 1900, "2007-01-01T00:00"},
                               {"A", "Standard", 1600, "2026-07-01T00:00"},
                               {"B", "Reduced", 700, "2007-01-01T00:00"}});
  REQUIRE(settings::Check(s).ok());
  // Midnight local on 1 July is 22:00 UTC on 30 June.
  CHECK(settings::RateAt(s, "A", Utc("2026-06-30T21:59"))->rate_bp() == 1900);
  CHECK(settings::RateAt(s, "A", Utc("2026-06-30T22:00"))->rate_bp() == 1600);
  CHECK(settings::RateAt(s, "B", Utc("2026-06-30T22:00"))->rate_bp() == 700);
  CHECK(settings::RateAt(s, "C", Utc("2026-06-30T22:00")) == nullptr);
  CHECK(settings::RateAt(s, "A", Utc("2006-12-31T22:59")) == nullptr);
  CHECK(settings::RateKnownBy(s, "A", 1900, Utc("2026-08-01T00:00")));
  CHECK_FALSE(settings::RateKnownBy(s, "A", 1600, Utc("2026-06-01T00:00")));

  CHECK(settings::CurrencyDecimals("JPY") == 0);
  CHECK(settings::CurrencyDecimals("KWD") == 3);
  CHECK(settings::FormatMoney(123456, 2, "EUR") == "1234.56 EUR");
  CHECK(settings::FormatMoney(1250, 3, "KWD") == "1.250 KWD");
  CHECK(settings::FormatMoney(-5, 0, "JPY") == "-5 JPY");

  v1::StoreSettings edited = s;
  edited.mutable_tax_rates(1)->set_rate_bp(1500);
  edited.set_version(2);
  CHECK(settings::CheckOnlyAdds(s, edited).message() ==
        "tax A from 2026-07-01T00:00 was edited or removed; a rate change is a new entry with "
        "its effective time, never an edit");
  v1::StoreSettings added = Terms("Europe/Berlin", 0,
                                  {{"A", "Standard", 1900, "2007-01-01T00:00"},
                                   {"A", "Standard", 1600, "2026-07-01T00:00"},
                                   {"A", "Standard", 1900, "2027-01-01T00:00"},
                                   {"B", "Reduced", 700, "2007-01-01T00:00"}},
                                  2);
  CHECK(settings::CheckOnlyAdds(s, added).ok());

  // Signed: a changed byte or another issuer is refused.
  v1::SignedSettings sig = settings::Sign(s, FogKey());
  CHECK(settings::Open(sig, &FogKey().public_key()).ok());
  crypto::SigningKey other = crypto::SigningKey::Generate();
  CHECK_FALSE(settings::Open(sig, &other.public_key()).ok());
  sig.mutable_settings()->back() ^= 1;
  CHECK(settings::Open(sig).status().message() == "store settings: bad signature");
}

TEST_CASE("store settings: a till refuses to sell without them, then dates and prices by them") {
  const std::string dir = testing::MakeTempDir("settings");
  ManualClock clock(Utc("2026-07-14T12:00"));  // genesis: booked on the 14th
  edge::Options o = testing::TillOptions(dir, "till-1", &clock);
  o.settings.clear();
  auto journal = edge::Journal::Open(o);
  REQUIRE(journal.ok());
  auto refused = (*journal)->RecordSale(testing::SimpleSale("SKU-1", 1, 250));
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().message().starts_with("no store settings: this till has neither"));
  CHECK((*journal)->head_seq() == 1);  // genesis only

  // New York, day from 04:00; A 20% until local midnight of 16 July, then 10%.
  v1::StoreSettings ny = Terms(
      "America/New_York", 4 * 60,
      {{"A", "Standard", 2000, "2000-01-01T00:00"}, {"A", "Standard", 1000, "2026-07-16T00:00"}});
  REQUIRE((*journal)->ApplySettings(Signed(ny)).ok());
  // 03:59 EDT: still the 14th, at 20%.
  clock.Set(Utc("2026-07-15T07:59"));
  auto a = (*journal)->RecordSale(testing::SimpleSale("SKU-1", 1, 1200));
  REQUIRE(a.ok());
  CHECK(a->business_day == "2026-07-14");
  // 04:00 EDT: the 15th.
  clock.Set(Utc("2026-07-15T08:00"));
  auto b = (*journal)->RecordSale(testing::SimpleSale("SKU-1", 1, 1200));
  REQUIRE(b.ok());
  CHECK(b->business_day == "2026-07-15");
  // The till is offline: the rate changes at local midnight by its clock.
  clock.Set(Utc("2026-07-16T03:59"));  // 23:59 EDT
  auto before = (*journal)->RecordSale(testing::SimpleSale("SKU-1", 1, 1200));
  clock.Set(Utc("2026-07-16T04:00"));  // 00:00 EDT on the 16th, still day 15
  auto after = (*journal)->RecordSale(testing::SimpleSale("SKU-1", 1, 1200));
  REQUIRE(before.ok());
  REQUIRE(after.ok());
  CHECK(after->business_day == "2026-07-15");
  auto events = (*journal)->ReadEvents(before->seq, 2).value();
  REQUIRE(events.size() == 2);
  auto line_of = [](const v1::JournalEvent& ev) {
    DecodedEvent d;
    REQUIRE(DecodeEvent(ev, &d).ok());
    CHECK(d.header.settings_version() == 1);
    return d.body.sale().lines(0);
  };
  v1::SaleLine l1 = line_of(events[0]), l2 = line_of(events[1]);
  CHECK(l1.tax_rate_bp() == 2000);
  CHECK(l1.tax() == 200);  // 12.00 incl. 20%
  CHECK(l1.tax_name() == "Standard");
  CHECK(l2.tax_rate_bp() == 1000);
  CHECK(l2.tax() == 109);  // 12.00 incl. 10%: 1.0909...
  // The day's X shows A twice, once per rate.
  v1::DayTotals x = (*journal)->XReport("2026-07-15").value();
  REQUIRE(x.taxes_size() == 2);
  CHECK(x.taxes(0).rate_bp() == 1000);
  CHECK(x.taxes(0).gross() == 1200);
  CHECK(x.taxes(1).rate_bp() == 2000);
  CHECK(x.taxes(1).gross() == 2400);

  // A refund of the 20% sale after the change is taxed at the sale's rate.
  v1::Refund refund;
  refund.set_original_receipt_no(before->receipt_no);
  auto* rl = refund.add_lines();
  rl->set_sku("SKU-1");
  rl->set_qty(1);
  auto* t = refund.add_tenders();
  t->set_type(v1::CASH);
  t->set_amount(1200);
  auto r = (*journal)->RecordRefund(refund);
  REQUIRE(r.ok());
  auto rev = (*journal)->ReadEvents(r->seq, 1).value();
  DecodedEvent rd;
  REQUIRE(DecodeEvent(rev[0], &rd).ok());
  CHECK(rd.body.refund().lines(0).tax_rate_bp() == 2000);
  CHECK(rd.body.refund().lines(0).tax() == 200);

  // An older version, or one from another issuer, changes nothing.
  CHECK((*journal)->ApplySettings(Signed(ny)).ok());
  v1::StoreSettings v2 = ny;
  v2.set_version(2);
  crypto::SigningKey stranger = crypto::SigningKey::Generate();
  Status s = (*journal)->ApplySettings(settings::Sign(v2, stranger).SerializeAsString());
  CHECK(s.message().find("not by the pinned fog key") != std::string::npos);
  CHECK((*journal)->settings().version() == 1);
}

}  // namespace storenode
