// Weighed goods, corrections and training end to end: simulated tills sell
// the full mix through a real mosquitto into a real fog, and the fog's X and
// the signed Z carry exactly the figures pos-sim counted as it generated.
#include <fmt/format.h>

#include <catch2/catch.hpp>

#include "sim/sim.h"
#include "storenode/common/report_text.h"
#include "support/store.h"

using namespace storenode;
using namespace storenode::testing;

namespace {

// The tills' own tallies of `day`, added up.
v1::DayTotals TallyOf(const Store& store, const std::string& day) {
  v1::DayTotals sum;
  for (const SimTill& t : store.tills) {
    auto it = t.sim->Tally().find(day);
    if (it == t.sim->Tally().end()) continue;
    const v1::DayTotals& x = it->second;
    sum.set_measured_line_count(sum.measured_line_count() + x.measured_line_count());
    sum.set_measured_gross(sum.measured_gross() + x.measured_gross());
    v1::CorrectionTotals& c = *sum.mutable_corrections();
    c.set_line_void_count(c.line_void_count() + x.corrections().line_void_count());
    c.set_line_voids(c.line_voids() + x.corrections().line_voids());
    c.set_price_override_count(c.price_override_count() + x.corrections().price_override_count());
    c.set_price_overrides(c.price_overrides() + x.corrections().price_overrides());
    c.set_no_receipt_refund_count(c.no_receipt_refund_count() +
                                  x.corrections().no_receipt_refund_count());
    c.set_no_receipt_refunds(c.no_receipt_refunds() + x.corrections().no_receipt_refunds());
    v1::TrainingTotals& r = *sum.mutable_training();
    r.set_event_count(r.event_count() + x.training().event_count());
    r.set_receipt_count(r.receipt_count() + x.training().receipt_count());
    r.set_sales(r.sales() + x.training().sales());
    r.set_refund_count(r.refund_count() + x.training().refund_count());
    r.set_refunds(r.refunds() + x.training().refunds());
    r.set_void_count(r.void_count() + x.training().void_count());
    r.set_voids(r.voids() + x.training().voids());
  }
  return sum;
}

void RequireTally(const v1::DayTotals& t, const v1::DayTotals& want) {
  CHECK(t.measured_line_count() == want.measured_line_count());
  CHECK(t.measured_gross() == want.measured_gross());
  CHECK(t.corrections().DebugString() == want.corrections().DebugString());
  CHECK(t.training().DebugString() == want.training().DebugString());
}

}  // namespace

TEST_CASE("the fog's X and Z carry pos-sim's weighed, correction and training figures exactly",
          "[weighed][corrections][training][e2e][integration]") {
  Store store(2);
  REQUIRE(store.fog->Start().ok());
  for (size_t i = 0; i < 2; ++i) store.OpenTill(i);
  for (size_t i = 0; i < 2; ++i) store.Sell(i, 600);
  const std::string day = store.tills[0].journal->business_day();
  REQUIRE(store.WaitSynced());
  const v1::DayTotals want = TallyOf(store, day);
  // The mix has every figure of the area, so each comparison below bites.
  REQUIRE(want.measured_line_count() > 0);
  REQUIRE(want.corrections().line_void_count() > 0);
  REQUIRE(want.corrections().price_override_count() > 0);
  REQUIRE(want.corrections().no_receipt_refund_count() > 0);
  REQUIRE(want.training().receipt_count() > 0);

  v1::FogRequest xreq;
  xreq.mutable_report()->set_kind("x");
  xreq.mutable_report()->set_business_day(day);
  auto x = store.fog->Ask(xreq).value();
  INFO(x.error());
  REQUIRE(x.ok());
  RequireTally(x.report().x(), want);

  auto closed = store.CloseDay(day);
  REQUIRE(closed.closed());
  v1::ZReport z = DecodeZ(closed.z());
  RequireTally(z.totals(), want);
  // Receipts: training ones are in the gapless numbering, not in the count.
  uint64_t receipts = 0;
  for (const auto& t : z.tills()) receipts += t.receipt_count();
  CHECK(receipts == 1200);
  CHECK(z.totals().receipt_count() == 1200);
  // And every other figure is what the journals say (AddToTotals), with
  // nothing quarantined: the fog's own checks (FORMATS 3.9) passed.
  std::vector<std::string> paths;
  for (const auto& t : store.tills) paths.push_back(t.journal->options().journal_path);
  RequireSameFigures(z.totals(), FromJournals(paths, day).totals);
  CHECK(store.FogQuarantined() == 0);

  const std::string text = FormatZText(z, &closed.z());
  CHECK_THAT(text, Catch::Contains("CORRECTIONS"));
  CHECK_THAT(text, Catch::Contains("TRAINING (not in any total)"));
  CHECK_THAT(text, Catch::Contains(fmt::format("Sold by measure ({} lines, in gross)",
                                               want.measured_line_count())));

  // The item report leaves training out: its revenue is the Z's.
  v1::FogRequest items;
  items.mutable_report()->set_kind("items");
  items.mutable_report()->set_business_day(day);
  auto r = store.fog->Ask(items).value();
  REQUIRE(r.ok());
  int64_t revenue = 0;
  for (const auto& i : r.report().items()) revenue += i.revenue();
  CHECK(revenue == z.totals().gross_sales() - z.totals().discounts());
  // Apples loose are sold by the kg: their quantity is in grams.
  bool apples = false;
  for (const auto& i : r.report().items()) {
    if (i.sku() != "2800001") continue;
    apples = true;
    CHECK(i.unit() == "kg");
    CHECK(i.qty() == 0);
    CHECK(i.qty_milli() > 0);
  }
  CHECK(apples);
  CHECK_THAT(FormatReportText(r.report()).value(), Catch::Contains(" kg "));
}
