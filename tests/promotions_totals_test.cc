// Promotions in the day totals (AddToTotals / MergeTotals / FinishTotals)
// on hand-made events, and pos-sim's promotions: the classic mix has none,
// the full mix's own tally equals what the journal's totals say.
#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "sim/sim.h"
#include "storenode/common/clock.h"
#include "storenode/common/totals.h"
#include "storenode/edge.h"
#include "support/harness.h"

using namespace storenode;

namespace {

v1::SaleLine Line(std::vector<std::pair<std::string, int64_t>> shares) {
  v1::SaleLine l;
  l.set_sku("S");
  l.set_qty(1);
  l.set_unit_price(1000);
  for (const auto& [id, amount] : shares) {
    v1::LineDiscount* d = l.add_promotions();
    d->set_promotion_id(id);
    d->set_amount(amount);
    d->set_name("name of " + id);
    l.set_discount(l.discount() + amount);
  }
  return l;
}

DecodedEvent Sale(std::vector<v1::SaleLine> lines) {
  DecodedEvent e;
  e.header.set_kind(v1::SALE);
  for (auto& l : lines) *e.body.mutable_sale()->add_lines() = l;
  return e;
}

DecodedEvent Refund(std::vector<v1::SaleLine> lines) {
  DecodedEvent e;
  e.header.set_kind(v1::REFUND);
  for (auto& l : lines) *e.body.mutable_refund()->add_lines() = l;
  return e;
}

std::vector<std::string> Rows(const v1::DayTotals& t) {
  std::vector<std::string> out;
  for (const v1::PromotionTotal& p : t.promotions()) {
    out.push_back(p.promotion_id() + " " + p.name() + " " + std::to_string(p.lines()) + "/" +
                  std::to_string(p.receipts()) + " " + std::to_string(p.amount()) + " " +
                  std::to_string(p.refund_lines()) + " " + std::to_string(p.refunded()) + " " +
                  std::to_string(p.net()));
  }
  return out;
}

}  // namespace

TEST_CASE("Day totals count promotion lines, receipts once each, amounts and refunds",
          "[promotions][totals]") {
  struct {
    const char* what;
    std::vector<DecodedEvent> events;
    std::vector<std::string> want;
  } cases[] = {
      {"two lines of one promotion on one receipt: 2 lines, 1 receipt",
       {Sale({Line({{"m3", 57}}), Line({{"m3", 143}})})},
       {"m3 name of m3 2/1 200 0 0 200"}},
      {"a line with two promotions counts for both; rows sorted by id",
       {Sale({Line({{"z", 10}, {"a", 20}})}), Sale({Line({{"a", 5}})})},
       {"a name of a 2/2 25 0 0 25", "z name of z 1/1 10 0 0 10"}},
      {"refunds give back, net = amount - refunded",
       {Sale({Line({{"m3", 143}})}), Refund({Line({{"m3", 72}})}), Refund({Line({{"m3", 71}})})},
       {"m3 name of m3 1/1 143 2 143 0"}},
      {"lines without promotions add no row", {Sale({Line({})})}, {}},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    v1::DayTotals t;
    for (const DecodedEvent& e : c.events) AddToTotals(e, &t);
    FinishTotals(&t);
    CHECK(Rows(t) == c.want);
    // Split across two devices and merged: the same figures.
    v1::DayTotals a, b, merged;
    for (size_t i = 0; i < c.events.size(); ++i) AddToTotals(c.events[i], i % 2 ? &b : &a);
    MergeTotals(a, &merged);
    MergeTotals(b, &merged);
    FinishTotals(&merged);
    CHECK(Rows(merged) == c.want);
  }
}

TEST_CASE("pos-sim: the classic mix records no promotion, the full mix's tally is the journal's",
          "[promotions][sim]") {
  std::map<std::string, std::vector<std::string>> by_mix;
  for (bool full : {false, true}) {
    INFO((full ? "full" : "classic"));
    const std::string dir = testing::MakeTempDir(full ? "promo-sim-full" : "promo-sim-classic");
    ManualClock clock(1772442000LL * 1'000'000);
    edge::Options options = sim::SimTillOptions(dir, "store-1", sim::SimDeviceId(1));
    options.clock = &clock;
    auto journal = edge::Journal::Open(options);
    REQUIRE(journal.ok());
    sim::TillSim till(journal->get(), 3, 1, full ? sim::Mix{} : sim::ParseMix("classic").value());
    for (int i = 0; i < 800; ++i) {
      clock.Advance(20'000'000);
      Status s = till.RunSales(1);
      INFO(s.ToString());
      REQUIRE(s.ok());
    }
    auto days = edge::TotalsFromFile(options.journal_path);
    REQUIRE(days.ok());
    REQUIRE(days->size() == 1);
    const v1::SimTill summary = till.Summary();
    if (!full) {
      CHECK((*days)[0].promotions_size() == 0);
      for (const v1::DayTotals& d : summary.tally()) CHECK(d.promotions_size() == 0);
      continue;
    }
    REQUIRE(summary.tally_size() == 1);
    CHECK(summary.tally(0).business_day() == (*days)[0].business_day());
    v1::DayTotals tally = summary.tally(0);
    CHECK(Rows(tally) == Rows((*days)[0]));
    CHECK(tally.promotions_size() == static_cast<int>(sim::SimPromotions().size()));

    // The sales run 09:00 to 13:26 UTC (the sim store's zone): bakery-20 is
    // given from 11:00 only, and bakery lines before then got nothing.
    const std::set<std::string> bakery = {"2000000010014", "2000000010083", "2000000010090"};
    int before = 0, within = 0;
    for (const v1::JournalEvent& ev : (*journal)->ReadEvents(1, 100'000).value()) {
      DecodedEvent e;
      REQUIRE(DecodeEvent(ev, &e).ok());
      if (!e.body.has_sale() || e.header.training()) continue;
      const int64_t minute = e.header.wall_time_us() / 60'000'000 % (24 * 60);
      for (const v1::SaleLine& l : e.body.sale().lines()) {
        int64_t manual = l.discount();  // a line with a manual discount takes no item promotion
        for (const v1::LineDiscount& d : l.promotions()) manual -= d.amount();
        if (bakery.count(l.sku()) == 0 || manual > 0) continue;
        const bool given =
            std::any_of(l.promotions().begin(), l.promotions().end(),
                        [](const v1::LineDiscount& d) { return d.promotion_id() == "bakery-20"; });
        INFO("seq " << e.header.seq() << " minute " << minute);
        CHECK(given == (minute >= 11 * 60));
        ++(minute < 11 * 60 ? before : within);
      }
    }
    CHECK(before > 10);
    CHECK(within > 10);
  }
}
