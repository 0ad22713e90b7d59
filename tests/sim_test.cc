// The till simulator: deterministic, a realistic mix, and an oracle whose
// totals match figures recomputed here from the decoded events.
#include "sim/sim.h"

#include <google/protobuf/util/message_differencer.h>

#include <catch2/catch.hpp>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "storenode/common/clock.h"
#include "storenode/common/journal_format.h"
#include "storenode/edge.h"
#include "support/harness.h"

using namespace storenode;
using google::protobuf::util::MessageDifferencer;

namespace {

// 2026-03-02T09:00:00Z: a fixed clock makes whole journals, not only the
// bodies, comparable between runs.
constexpr int64_t kStartUs = 1772442000LL * 1'000'000;
constexpr int64_t kDayUs = 86'400LL * 1'000'000;

struct SimJournal {
  std::string path;
  v1::SimTill summary;
};

// Runs `rounds` of `sales` sales each on till-1 in `dir`, reopening the
// journal (a new pos-sim run) between rounds; `between` runs between rounds.
SimJournal Simulate(const std::string& dir, uint64_t seed, std::vector<uint64_t> rounds,
                    ManualClock* clock, const std::function<void()>& between = {}) {
  edge::Options options = sim::SimTillOptions(dir, "store-1", sim::SimDeviceId(1));
  options.clock = clock;
  SimJournal out{options.journal_path, {}};
  for (size_t i = 0; i < rounds.size(); ++i) {
    if (i > 0 && between) between();
    auto journal = edge::Journal::Open(options);
    INFO(journal.status().ToString());
    REQUIRE(journal.ok());
    // Round 1's arithmetic; tender_sim_test.cc checks vouchers, tips, cards
    // and shifts.
    sim::TillSim till((*journal).get(), seed, 1, sim::Mix::WithoutTenderExtras());
    for (uint64_t n = 0; n < rounds[i]; ++n) {
      clock->Advance(20'000'000);  // a sale every 20 s or so
      Status s = till.RunSales(1);
      INFO(s.ToString());
      REQUIRE(s.ok());
    }
    CHECK(till.sales() == rounds[i]);
    out.summary = till.Summary();
  }
  return out;
}

std::vector<v1::JournalEvent> Events(const std::string& path) {
  auto events = edge::ReadJournalFile(path);
  REQUIRE(events.ok());
  return *events;
}

std::vector<DecodedEvent> Decoded(const std::string& path) {
  std::vector<DecodedEvent> out;
  for (const v1::JournalEvent& ev : Events(path)) {
    DecodedEvent d;
    REQUIRE(DecodeEvent(ev, &d).ok());
    out.push_back(d);
  }
  return out;
}

// Bodies after genesis (whose body carries the journal's fresh public key).
std::vector<std::string> Bodies(const std::string& path) {
  std::vector<std::string> out;
  for (const v1::JournalEvent& ev : Events(path)) out.push_back(ev.body());
  out.erase(out.begin());
  return out;
}

std::vector<v1::DayTotals> Totals(const std::string& path) {
  auto totals = edge::TotalsFromFile(path);
  REQUIRE(totals.ok());
  return *totals;
}

bool SameTotals(const std::vector<v1::DayTotals>& a, const std::vector<v1::DayTotals>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!MessageDifferencer::Equals(a[i], b[i])) return false;
  }
  return true;
}

// The figures of one day, recomputed from the events without the library's
// totals code. Training events count in none of them (FORMATS 3.10).
struct Recomputed {
  uint64_t sales = 0, refunds = 0, voids = 0, no_sales = 0;
  int64_t gross = 0, discounts = 0, refunded = 0, rounding = 0;
  int64_t tendered_on_sales = 0, paid_back = 0;
  std::map<std::string, int64_t> tax_gross, tax;
  int64_t float_ = 0, cash_in = 0, cash_out = 0, pay_ins = 0, pay_outs = 0, drops = 0;
};

std::map<std::string, Recomputed> Recompute(const std::vector<DecodedEvent>& events) {
  std::map<std::string, Recomputed> days;
  for (const DecodedEvent& e : events) {
    if (e.header.training()) continue;
    Recomputed& r = days[e.header.business_day()];
    switch (e.header.kind()) {
      case v1::SALE: {
        ++r.sales;
        const v1::Sale& s = e.body.sale();
        int64_t lines = 0;
        for (const v1::SaleLine& l : s.lines()) {
          // A measured line: thousandths x price / 1000, halves up (all >= 0).
          r.gross += l.unit() == v1::UNIT_PIECE
                         ? l.qty() * l.unit_price()
                         : (l.qty_milli() * l.unit_price() * 2 + 1000) / 2000;
          r.discounts += l.discount();
          r.tax_gross[l.tax_code()] += l.gross();
          r.tax[l.tax_code()] += l.tax();
          lines += l.gross();
        }
        CHECK(s.total() == lines + s.rounding());
        r.rounding += s.rounding();
        for (const v1::Tender& t : s.tenders()) {
          r.tendered_on_sales += t.amount();
          if (t.type() == v1::CASH) r.cash_in += t.amount();
        }
        break;
      }
      case v1::REFUND: {
        ++r.refunds;
        const v1::Refund& f = e.body.refund();
        r.refunded += f.total();
        for (const v1::SaleLine& l : f.lines()) {
          r.tax_gross[l.tax_code()] -= l.gross();
          r.tax[l.tax_code()] -= l.tax();
        }
        for (const v1::Tender& t : f.tenders()) {
          r.paid_back += t.amount();
          if (t.type() == v1::CASH) r.cash_out += t.amount();
        }
        break;
      }
      case v1::VOID:
        ++r.voids;
        break;
      case v1::NO_SALE:
        ++r.no_sales;
        break;
      case v1::CASH_MOVEMENT: {
        const v1::CashMovement& m = e.body.cash_movement();
        if (m.type() == v1::OPENING_FLOAT) r.float_ += m.amount();
        if (m.type() == v1::PAY_IN) r.pay_ins += m.amount();
        if (m.type() == v1::PAY_OUT) r.pay_outs += m.amount();
        if (m.type() == v1::DROP) r.drops += m.amount();
        break;
      }
      default:
        break;
    }
  }
  return days;
}

}  // namespace

TEST_CASE("same seed records the same bodies and totals, another seed does not", "[sim]") {
  ManualClock clock_a(kStartUs), clock_b(kStartUs), clock_c(kStartUs);
  const auto a = Simulate(testing::MakeTempDir("sim_a"), 42, {300}, &clock_a);
  const auto b = Simulate(testing::MakeTempDir("sim_b"), 42, {300}, &clock_b);
  const auto c = Simulate(testing::MakeTempDir("sim_c"), 43, {300}, &clock_c);

  CHECK(Bodies(a.path) == Bodies(b.path));
  CHECK(SameTotals(Totals(a.path), Totals(b.path)));
  CHECK(a.summary.events() == b.summary.events());

  CHECK(Bodies(a.path) != Bodies(c.path));
  CHECK_FALSE(SameTotals(Totals(a.path), Totals(c.path)));
}

TEST_CASE("a continued journal stays deterministic and valid", "[sim]") {
  ManualClock clock_a(kStartUs), clock_b(kStartUs);
  const auto a = Simulate(testing::MakeTempDir("sim_a"), 7, {120, 80}, &clock_a);
  const auto b = Simulate(testing::MakeTempDir("sim_b"), 7, {120, 80}, &clock_b);
  CHECK(Bodies(a.path) == Bodies(b.path));
  CHECK(edge::VerifyJournalFile(a.path).ok);

  uint64_t sales = 0, floats = 0;
  for (const DecodedEvent& e : Decoded(a.path)) {
    sales += e.header.kind() == v1::SALE && !e.header.training();
    floats +=
        e.header.kind() == v1::CASH_MOVEMENT && e.body.cash_movement().type() == v1::OPENING_FLOAT;
  }
  CHECK(sales == 200);
  CHECK(floats == 1);  // the second run found the day's float
}

TEST_CASE("the mix has every kind of event, tender and tax rate", "[sim]") {
  ManualClock clock(kStartUs);
  const auto run = Simulate(testing::MakeTempDir("sim_mix"), 1, {500}, &clock);
  std::map<v1::EventKind, int> kinds;
  std::map<v1::CashMovementType, int> movements;
  std::set<v1::TenderType> tenders;
  std::set<std::string> tax_codes;
  int split = 0, discounted = 0, change_given = 0;
  for (const DecodedEvent& e : Decoded(run.path)) {
    if (e.header.training()) continue;  // counted apart (weighed_test.cc)
    ++kinds[e.header.kind()];
    if (e.header.kind() == v1::CASH_MOVEMENT) ++movements[e.body.cash_movement().type()];
    if (e.header.kind() != v1::SALE) continue;
    const v1::Sale& s = e.body.sale();
    CHECK(s.lines_size() >= 1);
    CHECK(s.lines_size() <= 7);  // up to 6 pieces and one line sold by measure
    split += s.tenders_size() > 1;
    for (const v1::Tender& t : s.tenders()) {
      tenders.insert(t.type());
      change_given += t.type() == v1::CASH && t.tendered() > t.amount();
    }
    for (const v1::SaleLine& l : s.lines()) {
      tax_codes.insert(l.tax_code());
      discounted += l.discount() > 0;
      // The catalog's price, also of a line whose price was overridden.
      const int64_t price =
          l.has_price_override() ? l.price_override().catalog_price() : l.unit_price();
      CHECK(price >= 19);
      CHECK(price <= 4999);
    }
  }
  CHECK(kinds[v1::SALE] == 500);
  CHECK(kinds[v1::REFUND] > 0);
  CHECK(kinds[v1::VOID] > 0);
  CHECK(kinds[v1::NO_SALE] > 0);
  CHECK(movements[v1::OPENING_FLOAT] == 1);
  CHECK(movements[v1::PAY_IN] > 0);
  CHECK(movements[v1::PAY_OUT] > 0);
  CHECK(movements[v1::DROP] > 0);
  CHECK(tenders == std::set<v1::TenderType>{v1::CASH, v1::CARD, v1::VOUCHER});
  CHECK(tax_codes == std::set<std::string>{"A", "B", "C"});
  CHECK(split > 0);
  CHECK(discounted > 0);
  CHECK(change_given > 0);
  // Sales dominate: refunds about 3%, voids about 2% of the events.
  CHECK(kinds[v1::REFUND] < 40);
  CHECK(kinds[v1::VOID] < 30);
}

TEST_CASE("the oracle's totals match figures recomputed from the events", "[sim]") {
  ManualClock clock(kStartUs);
  const std::string dir = testing::MakeTempDir("sim_oracle");
  // Two business days: the clock moves to the next morning between runs.
  const auto run = Simulate(dir, 99, {250, 150}, &clock, [&] { clock.Advance(kDayUs); });
  auto report = sim::Report("store-1", {run.summary}, 2.0);
  INFO(report.status().ToString());
  REQUIRE(report.ok());
  REQUIRE(report->tills_size() == 1);
  const v1::SimTill& till = report->tills(0);
  CHECK(till.device_id() == "till-1");
  CHECK(till.sales() == 150);  // the last run's sales
  CHECK(report->events() == till.events());
  CHECK(report->events_per_s() == Approx(till.events() / 2.0));

  const std::vector<DecodedEvent> events = Decoded(run.path);
  CHECK(till.head_seq() == events.back().header.seq());
  // Receipt numbers are gapless over sales, refunds and voids.
  uint64_t receipt = 0;
  for (const DecodedEvent& e : events) {
    if (e.header.receipt_no() != 0) CHECK(e.header.receipt_no() == ++receipt);
  }

  const auto recomputed = Recompute(events);
  REQUIRE(till.days_size() == 2);
  REQUIRE(recomputed.size() == 2);
  for (const v1::DayTotals& t : till.days()) {
    INFO(t.business_day());
    const Recomputed& r = recomputed.at(t.business_day());
    CHECK(t.receipt_count() == r.sales);
    CHECK(t.refund_count() == r.refunds);
    CHECK(t.void_count() == r.voids);
    CHECK(t.no_sale_count() == r.no_sales);
    CHECK(t.gross_sales() == r.gross);
    CHECK(t.discounts() == r.discounts);
    CHECK(t.refunds() == r.refunded);
    CHECK(t.rounding() == r.rounding);
    CHECK(t.net_sales() == r.gross - r.discounts - r.refunded);
    // Money taken minus money paid back is net sales plus cash rounding.
    CHECK(r.tendered_on_sales - r.paid_back == t.net_sales() + t.rounding());
    int64_t tender_net = 0;
    for (const v1::TenderTotal& x : t.tenders()) tender_net += x.sales() - x.refunds();
    CHECK(tender_net == t.net_sales() + t.rounding());
    int64_t tax_gross = 0;
    for (const v1::TaxTotal& x : t.taxes()) {
      CHECK(x.gross() == r.tax_gross.at(x.tax_code()));
      CHECK(x.tax() == r.tax.at(x.tax_code()));
      CHECK(x.net() == x.gross() - x.tax());
      tax_gross += x.gross();
    }
    CHECK(tax_gross == t.net_sales());

    REQUIRE(t.drawers_size() == 1);
    const v1::DrawerTotal& d = t.drawers(0);
    CHECK(d.opening_float() == r.float_);
    CHECK(r.float_ > 0);  // each day opens with a float
    CHECK(d.cash_sales() == r.cash_in);
    CHECK(d.cash_refunds() == r.cash_out);
    CHECK(d.pay_ins() == r.pay_ins);
    CHECK(d.pay_outs() == r.pay_outs);
    CHECK(d.drops() == r.drops);
    CHECK(d.expected() == r.float_ + r.cash_in - r.cash_out + r.pay_ins - r.pay_outs - r.drops);
    CHECK(d.expected() >= 0);  // the simulator never pays out cash it does not have
  }
}
