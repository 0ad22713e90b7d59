// Hostile input of issue 17's kinds at the fog: a till whose software is
// wrong (or was tampered with) signs, with its own key, events that break
// the rules of weighed lines, promotions, vouchers, tips, card details,
// foreign cash, exchanges and corrections. The fog quarantines each with its
// one-line reason and changes nothing outside the quarantine; a flood of
// 1,000 such events keeps its RSS bounded and its log to a burst and then a
// line a second; the honest journal then syncs whole.
#include <catch2/catch.hpp>
#include <thread>

#include "storenode/common/crypto.h"
#include "storenode/common/journal_format.h"
#include "storenode/common/topics.h"
#include "storenode/schemas/sync.pb.h"
#include "support/client.h"
#include "support/harness.h"
#include "support/store.h"

using namespace storenode;
using namespace storenode::testing;

namespace {

// Till 1 records 20 honest sales without syncing; Forge() makes the event
// after its head from a body, signed with the till's key.
struct Forger {
  Store store{1};
  std::unique_ptr<TestClient> client;
  std::vector<v1::JournalEvent> events;
  v1::EventHeader head;
  v1::Sale sale;  // the last honest sale's body, the base of forged ones
  uint64_t receipt_no = 0;
  crypto::SigningKey key = crypto::SigningKey::Generate();

  Forger() {
    REQUIRE(store.fog->Start().ok());
    store.OpenTill(0, /*sync=*/false);
    store.Sell(0, 20);
    events = store.tills[0].journal->ReadEvents(1, 100'000).value();
    key = crypto::SigningKey::Load(store.tills[0].journal->options().key_path).value();
    for (const v1::JournalEvent& ev : events) {
      DecodedEvent e;
      REQUIRE(DecodeEvent(ev, &e).ok());
      receipt_no = std::max(receipt_no, e.header.receipt_no());
      if (e.body.has_sale() && !e.header.training()) sale = e.body.sale();
      head = e.header;
    }
    REQUIRE(sale.lines_size() > 0);
    client = std::make_unique<TestClient>(store.broker.uri());
    // The honest journal first, so the forged events extend a known chain.
    Publish({events.begin(), events.end()});
    REQUIRE(WaitFor([&] { return store.FogAcked("till-1") == events.size(); },
                    std::chrono::seconds(10)));
  }

  v1::JournalEvent Forge(v1::EventKind kind, const v1::EventBody& body) const {
    v1::EventHeader h = head;
    h.set_seq(head.seq() + 1);
    h.set_kind(kind);
    h.set_receipt_no(receipt_no + 1);
    h.set_wall_time_us(head.wall_time_us() + 1'000'000);
    return SealEvent(h, body, crypto::HashFromBytes(events.back().hash()).value(), key);
  }
  v1::JournalEvent ForgeSale(const std::function<void(v1::Sale&)>& change) const {
    v1::EventBody body;
    *body.mutable_sale() = sale;
    change(*body.mutable_sale());
    return Forge(v1::SALE, body);
  }
  void Publish(std::vector<v1::JournalEvent> batch) {
    v1::JournalBatch b;
    b.set_schema_version(kSchemaVersion);
    for (v1::JournalEvent& e : batch) *b.add_events() = std::move(e);
    client->Publish(topics::Journal("store-1", "till-1"), b.SerializeAsString());
  }
};

// The sale's first CASH tender, made a CARD tender with `card` details.
void PayByCard(v1::Sale& s, const v1::CardDetails& card) {
  v1::Tender& t = *s.mutable_tenders(0);
  t.set_type(v1::CARD);
  t.set_tendered(0);
  *t.mutable_card() = card;
}

struct Kind {
  std::string what;
  std::function<v1::JournalEvent(const Forger&)> forge;
  std::string reason;  // a fragment of the quarantine reason, after "seq N: "
};

std::vector<Kind> Kinds() {
  std::vector<Kind> out;
  out.push_back({"a line whose gross is not its extended price less discount",
                 [](const Forger& f) {
                   return f.ForgeSale(
                       [](v1::Sale& s) { s.mutable_lines(0)->set_gross(s.lines(0).gross() + 1); });
                 },
                 "is not extended price less discount"});
  out.push_back({"a measured line of a zero weight",
                 [](const Forger& f) {
                   return f.ForgeSale([](v1::Sale& s) {
                     v1::SaleLine& l = *s.mutable_lines(0);
                     l.set_unit(v1::UNIT_KG);
                     l.set_qty(0);
                     l.set_qty_milli(0);
                   });
                 },
                 "line 1: measured quantity 0.000 kg outside 0.001..1000 kg"});
  out.push_back({"promotion shares over the line's discount",
                 [](const Forger& f) {
                   return f.ForgeSale([](v1::Sale& s) {
                     v1::LineDiscount& d = *s.mutable_lines(0)->add_promotions();
                     d.set_promotion_id("p1");
                     d.set_name("P");
                     d.set_amount(s.lines(0).discount() + 1);
                   });
                 },
                 "line 1: promotions add up to more than the line discount"});
  out.push_back({"a price override without a supervisor",
                 [](const Forger& f) {
                   return f.ForgeSale([](v1::Sale& s) {
                     s.mutable_lines(0)->mutable_price_override()->set_reason_code("damaged");
                   });
                 },
                 "line 1: a price override without reason code or supervisor"});
  out.push_back({"a full PAN on a card tender",
                 [](const Forger& f) {
                   return f.ForgeSale([](v1::Sale& s) {
                     v1::CardDetails card;
                     card.set_scheme("VISA");
                     card.set_masked_pan("4111111111111111");
                     PayByCard(s, card);
                   });
                 },
                 "tender 1: masked PAN shows digit 7: at most the first 6 and"});
  out.push_back({"a tip on a cash tender",
                 [](const Forger& f) {
                   return f.ForgeSale([](v1::Sale& s) { s.mutable_tenders(0)->set_tip(100); });
                 },
                 "tender 1: a tip is taken on a card tender"});
  out.push_back({"a voucher line of a type the settings lack",
                 [](const Forger& f) {
                   return f.ForgeSale([](v1::Sale& s) {
                     v1::SaleLine& l = *s.mutable_lines(0);
                     l.mutable_voucher()->set_voucher_type("no-such-type");
                     l.mutable_voucher()->set_purpose(v1::MULTI_PURPOSE);
                   });
                 },
                 "voucher type 'no-such-type'"});
  out.push_back({"foreign cash where the settings have no rate sheet",
                 [](const Forger& f) {
                   return f.ForgeSale([](v1::Sale& s) {
                     v1::ForeignCash& fc = *s.mutable_tenders(0)->mutable_foreign();
                     fc.set_currency("USD");
                     fc.set_foreign_tendered(s.tenders(0).amount());
                     fc.set_rate_e9(1'000'000'000);
                     fc.set_rate_sheet_version(1);
                   });
                 },
                 "tender 1: no rate sheet in store settings version 1"});
  out.push_back({"an exchange where the settings have no rate sheet",
                 [](const Forger& f) {
                   v1::EventBody body;
                   v1::Exchange& x = *body.mutable_exchange();
                   x.set_direction(v1::SELL_FOREIGN);
                   x.set_currency("USD");
                   x.set_foreign_amount(10'000);
                   x.set_rate_e9(970'000'000);
                   x.set_mid_rate_e9(930'000'000);
                   x.set_rate_sheet_version(1);
                   x.set_home_amount(9'700);
                   x.set_total(9'700);
                   v1::Tender& t = *x.add_tenders();
                   t.set_type(v1::CASH);
                   t.set_amount(9'700);
                   t.set_tendered(9'700);
                   return f.Forge(v1::EXCHANGE, body);
                 },
                 "no rate sheet in store settings version 1"});
  return out;
}

}  // namespace

TEST_CASE("every new kind a till signs wrong is quarantined with its reason and changes nothing",
          "[hardening-kinds][integration][reject]") {
  Forger f;
  int64_t quarantined = 0;
  for (const Kind& k : Kinds()) {
    INFO(k.what);
    f.store.WaitSignaturesChecked();
    const std::string before = FogStateOutsideQuarantine(f.store.fog->db_path());
    const int64_t with_reason = f.store.FogQuarantined(k.reason);
    f.Publish({k.forge(f)});
    REQUIRE(WaitFor([&] { return f.store.FogQuarantined() == quarantined + 1; },
                    std::chrono::seconds(10)));
    ++quarantined;
    const std::string seq = "seq " + std::to_string(f.head.seq() + 1) + ": ";
    CHECK(f.store.FogQuarantined(seq) == quarantined);  // each reason names the seq
    CHECK(f.store.FogQuarantined(k.reason) == with_reason + 1);
    CHECK(FogStateOutsideQuarantine(f.store.fog->db_path()) == before);
  }
  CHECK(f.store.FogAcked("till-1") == f.events.size());
}

TEST_CASE(
    "1000 wrongly signed events of the new kinds are all quarantined with RSS and log bounded",
    "[hardening-kinds][integration][reject]") {
  Forger f;
  const pid_t pid = f.store.fog->pid();
  REQUIRE(pid > 0);
  const int64_t idle = PeakRss(pid);
  const std::vector<Kind> kinds = Kinds();
  constexpr int kFlood = 1000;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kFlood; ++i) f.Publish({kinds[i % kinds.size()].forge(f)});
  REQUIRE(WaitFor([&] { return f.store.FogQuarantined() == kFlood; }, std::chrono::seconds(60)));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const int64_t peak = PeakRss(pid);
  WARN("fogd VmHWM: idle " << idle / 1000 << " kB, after " << kFlood << " forged events "
                           << peak / 1000 << " kB; " << seconds << " s");
  CHECK(peak - idle < 50'000'000);
  // Every kind is on record with its reason, and nothing was stored.
  for (const Kind& k : kinds) CHECK(f.store.FogQuarantined(k.reason) > 0);
  CHECK(f.store.FogEventCount("till-1") == f.events.size());
  // The log: a burst of 10 lines, then about 1 a second, and a line saying
  // how many were left out.
  const std::string log = f.store.fog->Log();
  size_t lines = 0;
  for (size_t at = 0; (at = log.find("quarantined from device 'till-1'", at)) != std::string::npos;
       ++at) {
    ++lines;
  }
  CHECK(lines >= 10);
  CHECK(lines <= 10 + static_cast<size_t>(seconds) + 2);
  CHECK_THAT(log, Catch::Contains("quarantine log lines: rate limit for till-1"));

  // The honest till syncs on top: its sales are whole, once.
  f.store.tills[0].sync = std::move(
      edge::SyncEngine::Start(f.store.tills[0].journal.get(), f.store.SyncOptionsFor()).value());
  f.store.Sell(0, 5);
  REQUIRE(f.store.WaitSynced());
  RequireFogMatchesJournals(f.store.fog->db_path(),
                            {f.store.tills[0].journal->options().journal_path});
  CHECK(f.store.FogQuarantined() == kFlood);
}
