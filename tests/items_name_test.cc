// The items report (item_totals) through a real mosquitto, a real fogd and
// real pos-sim runs, checked against figures recomputed from the journals.
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "storenode/common/journal_format.h"
#include "storenode/edge.h"
#include "storenode/schemas/fog.pb.h"
#include "support/harness.h"
#include "support/run.h"
#include "support/store.h"

using namespace storenode;
using namespace storenode::testing;
using google::protobuf::util::JsonStringToMessage;

namespace {

struct ItemFigures {
  std::string name;  // the name the till printed (on its lines, sales or refunds)
  int64_t qty = 0, revenue = 0, refund_qty = 0, refund_amount = 0;
  bool sold_before_refund = false;  // the day's first line of this sku was a sale
  bool seen = false;
};

// Per sku, the day's figures from the journal files alone, in event order
// (measured lines count in qty_milli, not here: they add 0 to qty).
std::map<std::string, ItemFigures> ItemsFromJournals(const std::vector<std::string>& paths,
                                                     const std::string& day) {
  std::map<std::string, ItemFigures> out;
  for (const std::string& path : paths) {
    auto events = edge::ReadJournalFile(path);
    REQUIRE(events.ok());
    for (const v1::JournalEvent& ev : *events) {
      DecodedEvent d;
      REQUIRE(DecodeEvent(ev, &d).ok());
      // Training events are in no report (FORMATS 3.10).
      if (d.header.business_day() != day || d.header.training()) continue;
      const bool sale = d.header.kind() == v1::SALE;
      if (!sale && d.header.kind() != v1::REFUND) continue;
      for (const v1::SaleLine& l : sale ? d.body.sale().lines() : d.body.refund().lines()) {
        if (l.has_voucher()) continue;  // a gift card sold is no item (FORMATS.md section 16)
        ItemFigures& f = out[l.sku()];
        if (!f.seen) f.sold_before_refund = sale;
        f.seen = true;
        if (f.name.empty()) f.name = l.name();
        if (sale) {
          f.qty += l.qty();
          f.revenue += l.gross();
        } else {
          f.refund_qty += l.qty();
          f.refund_amount += l.gross();
        }
      }
    }
  }
  return out;
}

std::vector<std::string> FogArgs(const Store& store, std::vector<std::string> args) {
  args.insert(args.end(),
              {"--broker", store.broker.uri(), "--insecure", "--store", store.store_id});
  return args;
}

// `storectl report items --day D --format json`, parsed.
v1::Report ItemsReport(const Store& store, const std::string& day) {
  Ran r = RunTool(store.dir, "storectl",
                  FogArgs(store, {"report", "items", "--day", day, "--format", "json"}));
  INFO(r.err);
  REQUIRE(r.code == 0);
  v1::Report report;
  REQUIRE(JsonStringToMessage(r.out, &report).ok());
  return report;
}

void RequireItemsMatch(const Store& store, const std::vector<std::string>& journals,
                       const std::string& day) {
  std::map<std::string, ItemFigures> want = ItemsFromJournals(journals, day);
  v1::Report report = ItemsReport(store, day);
  REQUIRE(report.items_size() == static_cast<int>(want.size()));
  for (const v1::ItemTotal& item : report.items()) {
    INFO(day << " " << item.ShortDebugString());
    REQUIRE(want.count(item.sku()) == 1);
    const ItemFigures& f = want[item.sku()];
    REQUIRE_FALSE(f.name.empty());
    CHECK(item.name() == f.name);
    CHECK(item.qty() == f.qty);
    CHECK(item.revenue() == f.revenue);
    CHECK(item.refund_qty() == f.refund_qty);
    CHECK(item.refund_amount() == f.refund_amount);
  }
  // The text report names them too: no row starts with a bare sku.
  Ran text = RunTool(store.dir, "storectl", FogArgs(store, {"report", "items", "--day", day}));
  REQUIRE(text.code == 0);
  for (const auto& [sku, f] : want) CHECK(text.out.find(f.name) != std::string::npos);
}

Ran PosSim(const Store& store, int seed, int sales) {
  return RunTool(
      store.dir, "pos-sim",
      FogArgs(store, {"--tills", "2", "--sales", std::to_string(sales), "--seed",
                      std::to_string(seed), "--data", store.dir, "--wait-synced", "60"}));
}

}  // namespace

TEST_CASE(
    "an item whose first line of the day is a refund has an empty name in item_totals and storectl "
    "report items",
    "[formats][integration]") {
  Store store(2);
  REQUIRE(store.fog->Start().ok());
  INFO(store.fog->Log());
  const std::vector<std::string> journals = {store.dir + "/till-1.db", store.dir + "/till-2.db"};

  // Day D: seed 5, lingering so that the tills obey the close-down's seal
  // command. Everything the second run books then lands on D+1, and its
  // refunds of D's receipts can come before any sale of those items on D+1.
  const std::string log = store.dir + "/pos-sim-5";
  auto lingering =
      Process::Spawn({std::string(SN_BIN_DIR) + "/pos-sim", "--broker", store.broker.uri(),
                      "--insecure", "--store", store.store_id, "--tills", "2", "--sales", "150",
                      "--seed", "5", "--data", store.dir, "--wait-synced", "60", "--linger", "120"},
                     log + ".out", log + ".err");
  REQUIRE(lingering.ok());
  REQUIRE(WaitFor([&] { return ReadFile(log + ".err").find("lingering") != std::string::npos; },
                  std::chrono::seconds(60)));
  auto events = edge::ReadJournalFile(journals[0]);
  REQUIRE(events.ok());
  v1::EventHeader h;
  REQUIRE(h.ParseFromString(events->back().header()));
  const std::string day = h.business_day();
  auto closed = store.CloseDay(day);
  REQUIRE(closed.closed());
  lingering->Kill(SIGTERM);
  INFO(ReadFile(log + ".err"));
  REQUIRE(lingering->Wait().code == 0);

  // D+1 on till-1, through the real journal and sync engine: a refund of a
  // D receipt is the first line of its item on D+1 (an item only refunded,
  // so far), and a refund whose POS left the line's name empty comes before
  // a sale of that item that names it.
  auto d_events = edge::ReadJournalFile(journals[0]);
  REQUIRE(d_events.ok());
  std::set<uint64_t> refunded_receipts;
  std::vector<std::pair<uint64_t, v1::SaleLine>> plain;  // (receipt, line) without discount
  for (const v1::JournalEvent& ev : *d_events) {
    DecodedEvent d;
    REQUIRE(DecodeEvent(ev, &d).ok());
    if (d.header.kind() == v1::REFUND)
      refunded_receipts.insert(d.body.refund().original_receipt_no());
    if (d.header.kind() != v1::SALE) continue;
    for (const v1::SaleLine& l : d.body.sale().lines()) {
      if (l.discount() == 0) plain.emplace_back(d.header.receipt_no(), l);
    }
  }
  std::erase_if(plain, [&](const auto& p) { return refunded_receipts.count(p.first) > 0; });
  REQUIRE(plain.size() >= 2);
  const auto& [only_receipt, only_line] = plain[0];
  auto other = std::find_if(plain.begin(), plain.end(),
                            [&](const auto& p) { return p.second.sku() != only_line.sku(); });
  REQUIRE(other != plain.end());
  const auto& [later_receipt, later_line] = *other;

  store.OpenTill(0);
  edge::Journal& till1 = *store.tills[0].journal;
  auto refund = [&](uint64_t receipt, const v1::SaleLine& line, const std::string& name) {
    v1::Refund r;
    r.set_original_device_id("till-1");
    r.set_original_receipt_no(receipt);
    v1::SaleLine* back = r.add_lines();
    back->set_sku(line.sku());
    back->set_name(name);
    back->set_qty(1);
    v1::Tender* t = r.add_tenders();
    t->set_type(v1::CARD);
    t->set_amount(line.unit_price());
    r.set_cashier("test");
    r.set_reason("faulty");
    auto rec = till1.RecordRefund(r);
    INFO(rec.status().ToString());
    REQUIRE(rec.ok());
    REQUIRE(store.WaitSynced());  // each in a batch of its own
  };
  refund(only_receipt, only_line, only_line.name());
  refund(later_receipt, later_line, "");
  v1::Sale sale;
  v1::SaleLine* line = sale.add_lines();
  line->set_sku(later_line.sku());
  line->set_name(later_line.name());
  line->set_qty(1);
  line->set_unit_price(later_line.unit_price());
  line->set_tax_code(later_line.tax_code());
  v1::Tender* t = sale.add_tenders();
  t->set_type(v1::CARD);
  t->set_amount(later_line.unit_price());
  sale.set_cashier("test");
  auto sold = till1.RecordSale(sale);
  INFO(sold.status().ToString());
  REQUIRE(sold.ok());
  REQUIRE(store.WaitSynced());
  const std::string next = till1.business_day();
  REQUIRE(next > day);
  store.CloseTill(0);

  // More of D+1 from pos-sim, seed 1005: its refunds of D's receipts too.
  Ran second = PosSim(store, 1005, 150);
  INFO(second.err);
  REQUIRE(second.code == 0);

  // The second day has items whose first line of the day is a refund: the
  // case that left item_totals.name empty.
  std::map<std::string, ItemFigures> later = ItemsFromJournals(journals, next);
  int refunded_first = 0;
  for (const auto& [sku, f] : later) refunded_first += f.sold_before_refund ? 0 : 1;
  INFO("items refunded before they sold on " << next << ": " << refunded_first);
  REQUIRE(refunded_first >= 2);

  RequireItemsMatch(store, journals, day);
  RequireItemsMatch(store, journals, next);
  REQUIRE(store.FogQuarantined() == 0);
}
