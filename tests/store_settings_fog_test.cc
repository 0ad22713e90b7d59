// Store settings through a real mosquitto and storenode-fogd: a Berlin store
// whose fog issues its settings from fog.toml [store], tills that date and
// price by them at their own (manual) clock, the Z in the store's terms, the
// hourly report of a 25-hour day, and a till whose rates disagree with the
// version it names quarantined with the reason.
#include <catch2/catch.hpp>

#include "storenode/common/clock.h"
#include "storenode/common/files.h"
#include "storenode/common/report_text.h"
#include "storenode/common/store_settings.h"
#include "support/store.h"

using namespace storenode;
using namespace storenode::testing;

namespace {

int64_t Utc(const std::string& text) { return settings::ParseLocalTime(text).value(); }

constexpr const char* kBerlinStore = R"(name = "Musterladen Mitte"
address = "Friedrichstrasse 1, 10117 Berlin"
tax_id = "DE123456789"
time_zone = "Europe/Berlin"
day_start = "04:00"
currency = "EUR"

[store.tax.A]
name = "Standard"
rates = ["2000-01-01T00:00 19%", "2026-07-01T00:00 16%"]

[store.tax.B]
name = "Reduced"
rates = ["2000-01-01T00:00 7%"]
)";

v1::Sale Sale(int64_t price) {
  v1::Sale s;
  auto* l = s.add_lines();
  l->set_sku("SKU-1");
  l->set_qty(1);
  l->set_unit_price(price);
  l->set_tax_code("A");
  auto* t = s.add_tenders();
  t->set_type(v1::CARD);
  t->set_amount(price);
  return s;
}

v1::Report AskReport(Store& store, const std::string& kind, const std::string& day) {
  v1::FogRequest req;
  req.mutable_report()->set_kind(kind);
  req.mutable_report()->set_business_day(day);
  auto r = store.fog->Ask(req);
  REQUIRE(r.ok());
  INFO(r->error());
  REQUIRE(r->ok());
  return r->report();
}

}  // namespace

TEST_CASE(
    "store settings: a Berlin store's fog issues them, tills sell by them offline, the Z "
    "and hours are local",
    "[settings][integration]") {
  Store store(1);
  store.fog->store_config = kBerlinStore;
  REQUIRE(store.fog->Start().ok());
  auto doc = files::Read(store.fog->data_dir() + "/settings.pb");
  REQUIRE(doc.ok());
  auto issued = settings::Open(*doc);
  REQUIRE(issued.ok());
  CHECK(issued->version() == 1);
  CHECK(issued->time_zone() == "Europe/Berlin");
  CHECK(issued->day_start_minutes() == 240);
  // 2026-07-01T00:00 local is 22:00 UTC the day before (CEST).
  REQUIRE(issued->tax_rates_size() == 3);
  CHECK(issued->tax_rates(1).effective_from_us() == Utc("2026-06-30T22:00"));

  // The till is provisioned with the fog's document and its own clock.
  ManualClock clock(Utc("2026-06-30T10:00"));
  store.OpenTillOnFogSettings(0, &clock);
  SimTill& till = store.tills[0];

  // Offline: 23:59 CEST at 19%, 00:00 at 16% (still the 30th: the day
  // starts at 04:00), 03:59 the 30th, 04:00 the 1st.
  struct Want {
    std::string utc, day;
    int32_t rate;
  };
  const std::vector<Want> sales = {{"2026-06-30T21:59", "2026-06-30", 1900},
                                   {"2026-06-30T22:00", "2026-06-30", 1600},
                                   {"2026-07-01T01:59", "2026-06-30", 1600},
                                   {"2026-07-01T02:00", "2026-07-01", 1600}};
  for (const Want& w : sales) {
    clock.Set(Utc(w.utc));
    auto rec = till.journal->RecordSale(Sale(1160));
    REQUIRE(rec.ok());
    CHECK(rec->business_day == w.day);
  }
  // On 25 October the clocks go back: 02:30 CET (01:30 UTC, the second
  // 02:30) is before 04:00, so it belongs to the 24th, a 25-hour day.
  clock.Set(Utc("2026-10-25T01:30"));
  auto autumn = till.journal->RecordSale(Sale(500));
  REQUIRE(autumn.ok());
  CHECK(autumn->business_day == "2026-10-24");

  // Now the till comes on line and syncs.
  till.sync = edge::SyncEngine::Start(till.journal.get(), store.SyncOptionsFor()).value();
  REQUIRE(store.WaitSynced());
  CHECK(store.FogQuarantined() == 0);

  v1::CloseDownResponse closed = store.CloseDay("2026-06-30");
  REQUIRE(closed.closed());
  v1::ZReport z = DecodeZ(closed.z());
  CHECK(z.store_name() == "Musterladen Mitte");
  CHECK(z.store_address() == "Friedrichstrasse 1, 10117 Berlin");
  CHECK(z.store_tax_id() == "DE123456789");
  CHECK(z.currency() == "EUR");
  CHECK(z.time_zone() == "Europe/Berlin");
  CHECK(z.settings_version() == 1);
  // Code A has two lines, because its rate changed during the day.
  REQUIRE(z.totals().taxes_size() == 2);
  CHECK(z.totals().taxes(0).rate_bp() == 1600);
  CHECK(z.totals().taxes(0).gross() == 2320);
  CHECK(z.totals().taxes(0).tax() == 2 * 160);  // 11.60 incl. 16% = 1.60
  CHECK(z.totals().taxes(0).name() == "Standard");
  CHECK(z.totals().taxes(1).rate_bp() == 1900);
  CHECK(z.totals().taxes(1).gross() == 1160);
  CHECK(z.totals().taxes(1).tax() == 185);  // 11.60 * 19/119 = 1.852
  CHECK(z.totals().taxes(1).name() == "Standard");
  const std::string text = FormatZText(z, &closed.z());
  CHECK(text.find("Musterladen Mitte") < text.find("Business day"));
  CHECK(text.find("Tax id DE123456789") != std::string::npos);
  CHECK(text.find("Currency        EUR (amounts in 2 decimals)") != std::string::npos);
  // The period in local time with the offset: from the journal's genesis
  // (12:00 CEST) to the 03:59 sale.
  CHECK(text.find("2026-06-30 12:00 +02:00 .. 2026-07-01 03:59 +02:00") != std::string::npos);
  CHECK(text.find("A Standard") != std::string::npos);

  // The 24th of October has 25 local hours; the sale is in the second 02:00.
  v1::Report hourly = AskReport(store, "hourly", "2026-10-24");
  CHECK(hourly.hours_in_day() == 25);
  REQUIRE(hourly.hours_size() == 25);
  CHECK(hourly.hours(0).label() == "04:00 +02:00");
  CHECK(hourly.hours(22).label() == "02:00 +02:00");
  CHECK(hourly.hours(23).label() == "02:00 +01:00");
  CHECK(hourly.hours(23).receipts() == 1);
  CHECK(hourly.hours(23).sales() == 500);
  CHECK(hourly.hours(22).receipts() == 0);
  const std::string hourly_text = FormatReportText(hourly).value();
  CHECK(hourly_text.find("this day has 25 hours (clock change)") != std::string::npos);
  // An ordinary day has 24.
  CHECK(AskReport(store, "hourly", "2026-06-30").hours_size() == 24);

  // The till got the fog's retained document too (the same version: kept).
  CHECK(till.journal->settings().version() == 1);
}

TEST_CASE("store settings: a sale whose rates disagree with its settings version is quarantined",
          "[settings][integration]") {
  Store store(1);
  REQUIRE(store.fog->Start().ok());
  // A till with a forged "version 1": A at 25%. It signs its own events.
  auto doc = files::Read(store.fog->data_dir() + "/settings.pb");
  REQUIRE(doc.ok());
  v1::StoreSettings forged = settings::Open(*doc).value();
  forged.mutable_tax_rates(0)->set_rate_bp(2500);
  crypto::SigningKey other = crypto::SigningKey::Generate();
  edge::Options o = sim::SimTillOptions(store.dir, store.store_id, "till-1");
  o.settings = settings::Sign(forged, other).SerializeAsString();
  SimTill& till = store.tills[0];
  till.journal = edge::Journal::Open(o).value();
  REQUIRE(till.journal->RecordSale(Sale(1250)).ok());  // seq 2
  till.sync = edge::SyncEngine::Start(till.journal.get(), store.SyncOptionsFor()).value();
  REQUIRE(WaitFor([&] { return store.FogQuarantined("store settings version 1 have") > 0; },
                  std::chrono::seconds(30)));
  CHECK(store.FogQuarantined(
            "seq 2: line 1: tax A 'Standard' at 25.00%, but store settings version 1 have "
            "'Standard' at 20.00% at ") == 1);
  CHECK(store.FogAcked("till-1") == 1);  // genesis only: the sale is not counted
  CHECK(store.FogEventCount("till-1") == 1);
}

TEST_CASE("store settings: New York at 04:00 and Kolkata at +05:30 through a real fog",
          "[settings][integration]") {
  struct Case {
    std::string zone, day_start;
    std::string before_utc, after_utc;  // one minute before and at the day start
    std::string first_label, last_label;
  };
  const Case cases[] = {
      {"America/New_York", "04:00", "2026-07-15T07:59", "2026-07-15T08:00", "04:00 -04:00",
       "03:00 -04:00"},
      {"Asia/Kolkata", "00:00", "2026-07-14T18:29", "2026-07-14T18:30", "00:00 +05:30",
       "23:00 +05:30"},
  };
  for (const Case& c : cases) {
    DYNAMIC_SECTION(c.zone) {
      Store store(1);
      store.fog->store_config = "time_zone = \"" + c.zone + "\"\nday_start = \"" + c.day_start +
                                "\"\ncurrency = \"USD\"\n\n[store.tax.A]\nname = \"Sales tax\"\n"
                                "rates = [\"2000-01-01T00:00 8%\"]\n";
      REQUIRE(store.fog->Start().ok());
      ManualClock clock(Utc(c.before_utc));
      store.OpenTillOnFogSettings(0, &clock);
      SimTill& till = store.tills[0];
      auto before = till.journal->RecordSale(Sale(1080));
      REQUIRE(before.ok());
      CHECK(before->business_day == "2026-07-14");
      clock.Set(Utc(c.after_utc));
      auto after = till.journal->RecordSale(Sale(540));
      REQUIRE(after.ok());
      CHECK(after->business_day == "2026-07-15");
      till.sync = edge::SyncEngine::Start(till.journal.get(), store.SyncOptionsFor()).value();
      REQUIRE(store.WaitSynced());
      CHECK(store.FogQuarantined() == 0);

      v1::CloseDownResponse closed = store.CloseDay("2026-07-14");
      REQUIRE(closed.closed());
      v1::ZReport z = DecodeZ(closed.z());
      CHECK(z.time_zone() == c.zone);
      CHECK(z.currency() == "USD");
      CHECK(z.totals().receipt_count() == 1);
      CHECK(z.totals().gross_sales() == 1080);
      REQUIRE(z.totals().taxes_size() == 1);
      CHECK(z.totals().taxes(0).tax() == 80);  // 10.80 incl. 8%
      CHECK(z.totals().taxes(0).name() == "Sales tax");
      v1::Report hourly = AskReport(store, "hourly", "2026-07-14");
      REQUIRE(hourly.hours_size() == 24);
      CHECK(hourly.hours(0).label() == c.first_label);
      CHECK(hourly.hours(23).label() == c.last_label);
      CHECK(hourly.hours(23).receipts() == 1);  // the sale a minute before the day start
      CHECK(hourly.hours(23).sales() == 1080);
      CHECK(AskReport(store, "hourly", "2026-07-15").hours(0).receipts() == 1);
    }
  }
}
