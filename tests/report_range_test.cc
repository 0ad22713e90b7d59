// The department report and reports over a range of business days, through
// a real mosquitto and storenode-fogd: a Berlin store (day start 04:00)
// whose till sells on three days at its own (manual) clock, a catalog that
// names the departments, and the figures of each department, of each day and
// of the range recomputed by hand; the ranges the fog refuses, with their
// reasons; week to date in the store's calendar; z over a range.
#include <catch2/catch.hpp>

#include "storenode/common/clock.h"
#include "storenode/common/files.h"
#include "storenode/common/report_text.h"
#include "storenode/common/store_settings.h"
#include "support/run.h"
#include "support/store.h"

using namespace storenode;
using namespace storenode::testing;

namespace {

int64_t Utc(const std::string& text) { return settings::ParseLocalTime(text).value(); }

// GIFT is sold but not in the catalog; SOAP has no department: both are
// "(none)". Catalog prices do not matter here: the sales name theirs.
constexpr const char* kCatalog =
    "sku,barcodes,name,price,tax_code,department,active,effective_from\n"
    "BREAD,,Bread,1,B,Bakery,1,\n"
    "ROLL,,Roll,1,B,Bakery,1,\n"
    "MILK,,Milk,1,B,Dairy,1,\n"
    "SOAP,,Soap,1,A,,1,\n";

struct Line {
  std::string sku;
  int64_t qty, price;
  std::string tax_code;
};

v1::Sale SaleOf(const std::vector<Line>& lines) {
  v1::Sale s;
  int64_t total = 0;
  for (const Line& l : lines) {
    auto* x = s.add_lines();
    x->set_sku(l.sku);
    x->set_name(l.sku);
    x->set_qty(l.qty);
    x->set_unit_price(l.price);
    x->set_tax_code(l.tax_code);
    total += l.qty * l.price;
  }
  s.set_cashier("ana");
  auto* t = s.add_tenders();
  t->set_type(v1::CARD);
  t->set_amount(total);
  return s;
}

v1::FogResponse AskReport(Store& store, v1::ReportRequest ask) {
  v1::FogRequest req;
  *req.mutable_report() = std::move(ask);
  auto r = store.fog->Ask(req);
  REQUIRE(r.ok());
  return *r;
}

v1::ReportRequest Range(const std::string& kind, const std::string& from, const std::string& to) {
  v1::ReportRequest ask;
  ask.set_kind(kind);
  ask.set_from_day(from);
  ask.set_to_day(to);
  return ask;
}

v1::Report Report(Store& store, const std::string& kind, const std::string& from,
                  const std::string& to) {
  v1::FogResponse r = AskReport(store, Range(kind, from, to));
  INFO(kind << " " << from << ".." << to << ": " << r.error());
  REQUIRE(r.ok());
  return r.report();
}

const v1::DepartmentTotal& Department(const v1::Report& r, const std::string& name) {
  for (const v1::DepartmentTotal& d : r.departments()) {
    if (d.department() == name) return d;
  }
  FAIL("no department " << name);
  static v1::DepartmentTotal none;
  return none;
}

// The department of each sku, as the catalog above has it.
std::string DepartmentOf(const std::string& sku) {
  if (sku == "BREAD" || sku == "ROLL") return "Bakery";
  if (sku == "MILK") return "Dairy";
  return "(none)";
}

int64_t TaxOf(const v1::DayTotals& t) {
  int64_t tax = 0;
  for (const v1::TaxTotal& x : t.taxes()) tax += x.tax();
  return tax;
}

// Department totals equal the sums of their items, and all departments the
// store's totals.
void RequireDepartmentsAddUp(Store& store, const std::string& from, const std::string& to) {
  const v1::Report deps = Report(store, "departments", from, to);
  const v1::Report items = Report(store, "items", from, to);
  std::map<std::string, v1::DepartmentTotal> want;
  for (const v1::ItemTotal& i : items.items()) {
    v1::DepartmentTotal& d = want[DepartmentOf(i.sku())];
    d.set_items(d.items() + 1);
    d.set_qty(d.qty() + i.qty());
    d.set_lines(d.lines() + i.lines());
    d.set_gross(d.gross() + i.revenue());
    d.set_refunds(d.refunds() + i.refund_amount());
    d.set_tax(d.tax() + i.tax() - i.refund_tax());
  }
  REQUIRE(static_cast<size_t>(deps.departments_size()) == want.size());
  int64_t gross = 0, refunds = 0, tax = 0;
  for (const v1::DepartmentTotal& d : deps.departments()) {
    INFO(from << ".." << to << " " << d.department());
    const v1::DepartmentTotal& w = want[d.department()];
    CHECK(d.items() == w.items());
    CHECK(d.qty() == w.qty());
    CHECK(d.lines() == w.lines());
    CHECK(d.gross() == w.gross());
    CHECK(d.refunds() == w.refunds());
    CHECK(d.net() == w.gross() - w.refunds());
    CHECK(d.tax() == w.tax());
    gross += d.gross();
    refunds += d.refunds();
    tax += d.tax();
  }
  // No discounts here: line gross adds up to the gross sales.
  CHECK(gross == deps.x().gross_sales());
  CHECK(refunds == deps.x().refunds());
  CHECK(gross - refunds == deps.x().net_sales());
  CHECK(tax == TaxOf(deps.x()));
}

std::vector<std::string> FogArgs(const Store& store, std::vector<std::string> args) {
  args.insert(args.end(),
              {"--broker", store.broker.uri(), "--insecure", "--store", store.store_id});
  return args;
}

}  // namespace

TEST_CASE(
    "reports: departments add up to their items and the store, a 3-day range is the sum of its "
    "days, bad ranges are refused with the reason",
    "[reports][integration]") {
  Store store(1);
  store.fog->store_config = BerlinStoreConfig("Musterladen Mitte", "04:00");
  REQUIRE(store.fog->Start().ok());
  {
    v1::FogRequest req;
    req.mutable_catalog_import()->set_csv(kCatalog);
    req.mutable_catalog_import()->set_file_name("departments.csv");
    auto r = store.fog->Ask(req);
    REQUIRE(r.ok());
    INFO(r->error());
    REQUIRE(r->ok());
  }

  // Monday 1 June to Wednesday 3 June 2026, CEST (+02:00): 10:00 local is
  // 08:00 UTC; 03:30 on Tuesday is still Monday's business day.
  ManualClock clock(Utc("2026-06-01T07:00"));
  store.OpenTillOnFogSettings(0, &clock);
  SimTill& till = store.tills[0];
  auto sell = [&](const std::string& utc, const std::vector<Line>& lines, const std::string& day) {
    clock.Set(Utc(utc));
    auto rec = till.journal->RecordSale(SaleOf(lines));
    REQUIRE(rec.ok());
    CHECK(rec->business_day == day);
    return rec->receipt_no;
  };
  // Tax is included: 107 at 7% holds 7, 119 at 19% holds 19.
  sell("2026-06-01T08:00", {{"BREAD", 2, 107, "B"}, {"MILK", 1, 321, "B"}}, "2026-06-01");
  sell("2026-06-02T01:30", {{"SOAP", 1, 119, "A"}, {"GIFT", 1, 238, "A"}}, "2026-06-01");
  const uint64_t rolls =
      sell("2026-06-02T08:00", {{"ROLL", 1, 214, "B"}, {"BREAD", 1, 107, "B"}}, "2026-06-02");
  {
    clock.Set(Utc("2026-06-02T10:00"));
    v1::Refund refund;
    refund.set_original_device_id("till-1");
    refund.set_original_receipt_no(rolls);
    auto* l = refund.add_lines();
    l->set_sku("ROLL");
    l->set_qty(1);
    refund.set_cashier("ana");
    auto* t = refund.add_tenders();
    t->set_type(v1::CARD);
    t->set_amount(214);
    auto rec = till.journal->RecordRefund(refund);
    REQUIRE(rec.ok());
    CHECK(rec->business_day == "2026-06-02");
  }
  sell("2026-06-03T08:00", {{"MILK", 3, 321, "B"}, {"SOAP", 2, 119, "A"}}, "2026-06-03");
  till.sync = edge::SyncEngine::Start(till.journal.get(), store.SyncOptionsFor()).value();
  REQUIRE(store.WaitSynced());
  REQUIRE(store.FogQuarantined() == 0);

  SECTION("departments: exact figures of a day and of the range, equal to their items") {
    const v1::Report monday = Report(store, "departments", "2026-06-01", "2026-06-01");
    CHECK(monday.business_day() == "2026-06-01");
    REQUIRE(monday.departments_size() == 3);
    // By name, "(none)" last.
    CHECK(monday.departments(0).department() == "Bakery");
    CHECK(monday.departments(1).department() == "Dairy");
    CHECK(monday.departments(2).department() == "(none)");
    const v1::DepartmentTotal& none = Department(monday, "(none)");
    CHECK(none.items() == 2);  // SOAP (no department) and GIFT (not in the catalog)
    CHECK(none.qty() == 2);
    CHECK(none.lines() == 2);
    CHECK(none.gross() == 357);
    CHECK(none.tax() == 19 + 38);
    CHECK(Department(monday, "Bakery").gross() == 214);
    CHECK(Department(monday, "Bakery").tax() == 14);

    const v1::Report tuesday = Report(store, "departments", "2026-06-02", "2026-06-02");
    REQUIRE(tuesday.departments_size() == 1);
    const v1::DepartmentTotal& bakery = tuesday.departments(0);
    CHECK(bakery.qty() == 2);
    CHECK(bakery.lines() == 2);
    CHECK(bakery.gross() == 321);
    CHECK(bakery.refund_qty() == 1);
    CHECK(bakery.refunds() == 214);
    CHECK(bakery.net() == 107);
    CHECK(bakery.tax() == 21 - 14);

    const v1::Report range = Report(store, "departments", "2026-06-01", "2026-06-03");
    CHECK(range.business_day().empty());
    CHECK(range.from_day() == "2026-06-01");
    CHECK(range.to_day() == "2026-06-03");
    CHECK(Department(range, "Bakery").items() == 2);
    CHECK(Department(range, "Bakery").qty() == 4);
    CHECK(Department(range, "Bakery").lines() == 3);
    CHECK(Department(range, "Bakery").gross() == 535);
    CHECK(Department(range, "Bakery").net() == 321);
    CHECK(Department(range, "Bakery").tax() == 21);
    CHECK(Department(range, "Dairy").qty() == 4);
    CHECK(Department(range, "Dairy").gross() == 1284);
    CHECK(Department(range, "Dairy").tax() == 84);
    CHECK(Department(range, "(none)").qty() == 4);
    CHECK(Department(range, "(none)").gross() == 595);
    CHECK(Department(range, "(none)").tax() == 95);
    CHECK(range.x().net_sales() == 2200);
    CHECK(TaxOf(range.x()) == 200);

    for (const auto& [from, to] :
         std::vector<std::pair<std::string, std::string>>{{"2026-06-01", "2026-06-01"},
                                                          {"2026-06-02", "2026-06-02"},
                                                          {"2026-06-03", "2026-06-03"},
                                                          {"2026-06-01", "2026-06-03"}}) {
      RequireDepartmentsAddUp(store, from, to);
    }

    const std::string csv = FormatReportCsv(range).value();
    CHECK(csv.starts_with(
        "department,items,qty,lines,gross_EUR,refund_qty,refunds_EUR,net_EUR,tax_EUR\n"
        "Bakery,2,4,3,5.35,1,2.14,3.21,0.21\n"));
    const std::string text = FormatReportText(range).value();
    CHECK(text.find("Business days   2026-06-01 .. 2026-06-03 (3 days)") != std::string::npos);
    CHECK(text.find("DEPARTMENTS") != std::string::npos);
  }

  SECTION("a 3-day range of every kind is the sum of its three days") {
    const std::vector<std::string> days = {"2026-06-01", "2026-06-02", "2026-06-03"};
    const v1::Report x = Report(store, "x", days.front(), days.back());
    int64_t gross = 0, refunds = 0, net = 0;
    uint64_t receipts = 0;
    for (const std::string& d : days) {
      const v1::Report one = Report(store, "x", d, d);
      gross += one.x().gross_sales();
      refunds += one.x().refunds();
      net += one.x().net_sales();
      receipts += one.x().receipt_count();
    }
    CHECK(x.x().gross_sales() == gross);
    CHECK(x.x().refunds() == refunds);
    CHECK(x.x().net_sales() == net);
    CHECK(x.x().receipt_count() == receipts);
    CHECK(gross == 892 + 321 + 1201);
    CHECK(refunds == 214);
    CHECK(net == 2200);
    CHECK(receipts == 4);
    CHECK(x.x().business_day() == "2026-06-01 .. 2026-06-03");

    const v1::Report tenders = Report(store, "tenders", days.front(), days.back());
    REQUIRE(tenders.x().tenders_size() == 1);
    CHECK(tenders.x().tenders(0).sales() == 2414);
    CHECK(tenders.x().tenders(0).refunds() == 214);

    const v1::Report cashiers = Report(store, "cashiers", days.front(), days.back());
    REQUIRE(cashiers.cashiers_size() == 1);
    CHECK(cashiers.cashiers(0).cashier() == "ana");
    CHECK(cashiers.cashiers(0).receipts() == 4);
    CHECK(cashiers.cashiers(0).sales() == 2414);
    CHECK(cashiers.cashiers(0).refund_count() == 1);
    CHECK(cashiers.cashiers(0).refunds() == 214);

    // Items: BREAD sold on two days (2 + 1), MILK on two (1 + 3).
    const v1::Report items = Report(store, "items", days.front(), days.back());
    std::map<std::string, v1::ItemTotal> by_sku;
    for (const v1::ItemTotal& i : items.items()) by_sku[i.sku()] = i;
    CHECK(by_sku["BREAD"].qty() == 3);
    CHECK(by_sku["BREAD"].revenue() == 321);
    CHECK(by_sku["BREAD"].lines() == 2);
    CHECK(by_sku["MILK"].qty() == 4);
    CHECK(by_sku["MILK"].revenue() == 1284);
    CHECK(by_sku["ROLL"].refund_qty() == 1);
    CHECK(by_sku["ROLL"].refund_amount() == 214);
    CHECK(items.items(0).sku() == "MILK");  // by revenue

    // Hourly: 24 rows by local hour from the day start, summed over days.
    const v1::Report hourly = Report(store, "hourly", days.front(), days.back());
    REQUIRE(hourly.hours_size() == 24);
    CHECK(hourly.hours(0).label() == "04:00");
    CHECK(hourly.hours(6).label() == "10:00");
    CHECK(hourly.hours(6).receipts() == 3);
    CHECK(hourly.hours(6).sales() == 535 + 321 + 1201);
    CHECK(hourly.hours(8).label() == "12:00");
    CHECK(hourly.hours(8).refunds() == 214);
    CHECK(hourly.hours(23).label() == "03:00");
    CHECK(hourly.hours(23).receipts() == 1);
    CHECK(hourly.hours(23).sales() == 357);
    uint64_t hour_receipts = 0;
    for (const v1::HourTotal& h : hourly.hours()) hour_receipts += h.receipts();
    CHECK(hour_receipts == 4);
    CHECK(FormatReportText(hourly).value().find("each summed over the days") != std::string::npos);
  }

  SECTION("ranges of 367 days, from after to, and two ways of naming days are refused") {
    auto refused = [&](v1::ReportRequest ask) {
      v1::FogResponse r = AskReport(store, std::move(ask));
      CHECK(!r.ok());
      CHECK(!r.has_report());
      return r.error();
    };
    CHECK(refused(Range("x", "2025-06-01", "2026-06-02")) ==
          "a report covers at most 366 days; 2025-06-01 .. 2026-06-02 is 367");
    // 366 days are fine: the year up to 2 June holds Monday's 2 receipts and Tuesday's 1.
    CHECK(Report(store, "x", "2025-06-02", "2026-06-02").x().receipt_count() == 3);
    CHECK(refused(Range("items", "2026-06-03", "2026-06-01")) ==
          "from_day 2026-06-03 is after to_day 2026-06-01");
    CHECK(refused(Range("items", "2026-06-01", "")) == "a range needs both from_day and to_day");
    CHECK(refused(Range("items", "2026-06-01", "2026-13-01")) ==
          "'2026-13-01' is not a business day (want YYYY-MM-DD)");
    v1::ReportRequest both = Range("x", "2026-06-01", "2026-06-02");
    both.set_business_day("2026-06-01");
    CHECK(refused(both) ==
          "name the days once: business_day, from_day and to_day, or period (week_to_date, "
          "month_to_date)");
    v1::ReportRequest yearly;
    yearly.set_kind("x");
    yearly.set_period("year_to_date");
    CHECK(refused(yearly) == "unknown period 'year_to_date' (week_to_date or month_to_date)");
  }

  SECTION("week to date is the store's: its Monday to its business day now") {
    const settings::Calendar cal(settings::Zone::Find("Europe/Berlin").value(), 240);
    const int64_t now = SystemClock::Default()->NowMicros();
    const settings::Calendar::Days want = cal.WeekToDate(now);
    v1::ReportRequest ask;
    ask.set_kind("x");
    ask.set_period("week_to_date");
    v1::FogResponse r = AskReport(store, ask);
    // This week has no sales in this store: the reason names its days.
    CHECK(!r.ok());
    CHECK(r.error() == (want.from == want.to
                            ? "no sales or events recorded for business day " + want.from
                            : "no sales or events recorded from " + want.from + " to " + want.to));
    auto status = store.fog->GetStatus();
    REQUIRE(status.ok());
    CHECK(status->business_day() == cal.BusinessDay(SystemClock::Default()->NowMicros()));
  }

  SECTION("storectl report: --from/--to, --week-to-date, and the days named once") {
    Ran csv = RunTool(store.dir, "storectl",
                      FogArgs(store, {"report", "departments", "--from", "2026-06-01", "--to",
                                      "2026-06-03", "--format", "csv"}));
    INFO(csv.err);
    REQUIRE(csv.code == 0);
    CHECK(csv.out ==
          "department,items,qty,lines,gross_EUR,refund_qty,refunds_EUR,net_EUR,tax_EUR\n"
          "Bakery,2,4,3,5.35,1,2.14,3.21,0.21\n"
          "Dairy,1,4,2,12.84,0,0.00,12.84,0.84\n"
          "(none),2,4,3,5.95,0,0.00,5.95,0.95\n");
    Ran text =
        RunTool(store.dir, "storectl",
                FogArgs(store, {"report", "x", "--from", "2026-06-01", "--to", "2026-06-03"}));
    REQUIRE(text.code == 0);
    CHECK(text.out.find("2026-06-01 .. 2026-06-03") != std::string::npos);
    // The fog's reason, as it says it.
    Ran week = RunTool(store.dir, "storectl", FogArgs(store, {"report", "x", "--week-to-date"}));
    CHECK(week.code != 0);
    CHECK(week.err.find("no sales or events recorded") != std::string::npos);
    Ran both = RunTool(store.dir, "storectl",
                       FogArgs(store, {"report", "x", "--day", "2026-06-01", "--month-to-date"}));
    CHECK(both.code == 2);
    CHECK(both.err.find("name the days once: --day D, --from D --to D, --week-to-date or "
                        "--month-to-date") != std::string::npos);
    Ran half =
        RunTool(store.dir, "storectl", FogArgs(store, {"report", "x", "--from", "2026-06-01"}));
    CHECK(half.code == 2);
    CHECK(half.err.find("--from and --to go together") != std::string::npos);
  }

  SECTION("z over a range lists the Zs of the closed days and names the open one") {
    REQUIRE(store.CloseDay("2026-06-01").closed());
    REQUIRE(store.CloseDay("2026-06-02").closed());
    const v1::Report z = Report(store, "z", "2026-06-01", "2026-06-03");
    REQUIRE(z.z_decoded_size() == 2);
    CHECK(z.z_decoded(0).business_day() == "2026-06-01");
    CHECK(z.z_decoded(1).business_day() == "2026-06-02");
    CHECK(z.z_decoded(0).totals().net_sales() + z.z_decoded(1).totals().net_sales() == 892 + 107);
    REQUIRE(z.open_days_size() == 1);
    CHECK(z.open_days(0) == "2026-06-03");
    const std::string text = FormatReportText(z).value();
    CHECK(text.find("Z-REPORTS OF THE DAYS") < text.find("Z-REPORT 1"));
    CHECK(text.find("Not closed      2026-06-03") != std::string::npos);
    CHECK(text.find("Total of the Zs") != std::string::npos);
    CHECK(text.find("9.99") != std::string::npos);  // 8.92 + 1.07 net
    v1::FogResponse open = AskReport(store, Range("z", "2026-06-03", "2026-06-03"));
    CHECK(open.error() ==
          "business day 2026-06-03 is not closed yet (see storectl closedown, or report x)");
  }
}
