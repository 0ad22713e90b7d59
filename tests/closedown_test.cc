// The end-of-day close-down through a real broker and fog, checked against
// figures recomputed independently from the tills' journals.
#include <google/protobuf/util/message_differencer.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <thread>

#include "storenode/common/clock.h"
#include "storenode/common/merkle.h"
#include "storenode/common/sqlite.h"
#include "storenode/common/totals.h"
#include "support/store.h"

using namespace storenode;
using namespace storenode::testing;

namespace {

void RequireSigned(const v1::SignedZ& s) {
  crypto::Hash h = crypto::Sha256Of(s.z());
  REQUIRE(s.hash() == std::string(h.begin(), h.end()));
  crypto::PublicKey key{};
  REQUIRE(s.fog_public_key().size() == 32);
  std::memcpy(key.data(), s.fog_public_key().data(), 32);
  REQUIRE(crypto::Verify(key, crypto::AsBytes(s.hash()), crypto::AsBytes(s.signature())));
}

std::vector<std::string> Paths(const Store& s) {
  std::vector<std::string> out;
  for (const auto& t : s.tills) out.push_back(t.journal->options().journal_path);
  return out;
}

}  // namespace

TEST_CASE("a day of 3 tills closes into a Z whose every figure matches the journals",
          "[closedown][integration]") {
  Store store(3);
  REQUIRE(store.fog->Start().ok());
  for (size_t i = 0; i < 3; ++i) store.OpenTill(i);
  for (size_t i = 0; i < 3; ++i) store.Sell(i, 300);
  std::string day = store.tills[0].journal->business_day();
  REQUIRE(store.WaitSynced());

  // Counted cash: till-1 over by 1.25, till-2 short by 2.50, till-3 not counted.
  v1::FogRequest xreq;
  xreq.mutable_report()->set_kind("x");
  xreq.mutable_report()->set_business_day(day);
  auto x = store.fog->Ask(xreq).value().report().x();
  std::map<std::string, int64_t> expected;
  for (const auto& d : x.drawers()) expected[d.device_id()] = d.expected();
  REQUIRE(expected.size() == 3);
  auto first = store.CloseDay(
      day, {{"till-1", expected["till-1"] + 125}, {"till-2", expected["till-2"] - 250}});
  REQUIRE(first.closed());
  v1::ZReport z = DecodeZ(first.z());
  RequireSigned(first.z());
  REQUIRE(z.z_number() == 1);
  REQUIRE(z.kind() == "Z");
  REQUIRE(z.missing_tills_size() == 0);
  REQUIRE(z.prev_z_hash() == std::string(32, '\0'));

  // Every till sealed: the oracle is every event of the day in each journal.
  Oracle o = FromJournals(Paths(store), day);
  RequireSameFigures(z.totals(), o.totals);
  REQUIRE(z.merkle_root() == std::string(o.root.begin(), o.root.end()));
  REQUIRE(z.leaf_count() == o.leaves);
  REQUIRE(z.tills_size() == 3);
  for (const auto& t : z.tills()) {
    INFO(t.device_id());
    REQUIRE(t.sealed());
    REQUIRE(t.receipt_count() == 300);
    REQUIRE(t.first_receipt_no() == 1);
  }
  REQUIRE(z.drawer_counts_size() == 3);
  for (const auto& c : z.drawer_counts()) {
    INFO(c.device_id());
    REQUIRE(c.expected_cash() == expected[c.device_id()]);
    if (c.device_id() == "till-1") REQUIRE(c.over_short() == 125);
    if (c.device_id() == "till-2") REQUIRE(c.over_short() == -250);
    if (c.device_id() == "till-3") REQUIRE_FALSE(c.counted());
  }
  REQUIRE(z.grand_totals().net_sales() == o.totals.net_sales());

  // Asked again: the same Z, byte for byte, and still one Z.
  auto again = store.CloseDay(day);
  REQUIRE(again.z().z() == first.z().z());
  REQUIRE(store.FogQuarantined() == 0);

  // Reports of the closed day agree with each other and with the Z.
  for (const char* kind : {"hourly", "items", "cashiers", "tenders", "z"}) {
    v1::FogRequest req;
    req.mutable_report()->set_kind(kind);
    req.mutable_report()->set_business_day(day);
    auto r = store.fog->Ask(req).value();
    INFO(kind << ": " << r.error());
    REQUIRE(r.ok());
    const v1::Report& rep = r.report();
    uint64_t receipts = 0;
    int64_t sales = 0;
    if (std::string(kind) == "hourly") {
      for (const auto& h : rep.hours()) receipts += h.receipts();
      REQUIRE(receipts == 900);
    } else if (std::string(kind) == "items") {
      for (const auto& i : rep.items()) sales += i.revenue();
      REQUIRE(sales == o.totals.gross_sales() - o.totals.discounts());
    } else if (std::string(kind) == "cashiers") {
      for (const auto& c : rep.cashiers()) receipts += c.receipts();
      REQUIRE(receipts == 900);
    } else if (std::string(kind) == "tenders") {
      REQUIRE(rep.x().tenders_size() == o.totals.tenders_size());
    } else {
      REQUIRE(rep.z_size() == 1);
      REQUIRE(rep.z(0).z() == first.z().z());
    }
  }
  v1::FogRequest nope;
  nope.mutable_report()->set_kind("x");
  nope.mutable_report()->set_business_day("2001-01-01");
  auto r = store.fog->Ask(nope).value();
  REQUIRE_FALSE(r.ok());
  REQUIRE_THAT(r.error(), Catch::Contains("no sales or events recorded for business day"));
}

TEST_CASE("a till offline at the close is missing from the Z and comes back in a supplement",
          "[closedown][integration]") {
  Store store(3);
  REQUIRE(store.fog->Start().ok());
  for (size_t i = 0; i < 3; ++i) store.OpenTill(i);
  for (size_t i = 0; i < 3; ++i) store.Sell(i, 100);
  std::string day = store.tills[0].journal->business_day();
  REQUIRE(store.WaitSynced());
  uint64_t till3_at_close = store.tills[2].journal->head_seq();
  store.tills[2].sync.reset();  // till-3 goes offline and keeps selling
  store.Sell(2, 80);

  auto closed = store.CloseDay(day, {}, /*force=*/true, std::chrono::seconds(3));
  REQUIRE(closed.closed());
  v1::ZReport z = DecodeZ(closed.z());
  REQUIRE(z.missing_tills_size() == 1);
  REQUIRE(z.missing_tills(0) == "till-3");
  REQUIRE(z.forced());
  Oracle at_close = FromJournals(Paths(store), day, {}, {{"till-3", till3_at_close}});
  RequireSameFigures(z.totals(), at_close.totals);
  REQUIRE(z.merkle_root() == std::string(at_close.root.begin(), at_close.root.end()));

  // Back online: it gets the retained seal command, seals, and uploads.
  store.tills[2].sync = std::move(
      edge::SyncEngine::Start(store.tills[2].journal.get(), store.SyncOptionsFor()).value());
  v1::CloseDownResponse after;
  REQUIRE(WaitFor(
      [&] {
        after = store.CloseDay(day, {}, false, std::chrono::seconds(0));
        return after.supplements_size() == 1;
      },
      std::chrono::seconds(30)));
  v1::ZReport sup = DecodeZ(after.supplements(0));
  RequireSigned(after.supplements(0));
  REQUIRE(sup.kind() == "SUPPLEMENT");
  REQUIRE(sup.z_number() == 2);
  REQUIRE(sup.supplements_z_number() == 1);
  REQUIRE(sup.prev_z_hash() == closed.z().hash());
  Oracle late = FromJournals(Paths(store), day, {{"till-3", till3_at_close + 1}},
                             {{"till-1", 0}, {"till-2", 0}});
  RequireSameFigures(sup.totals(), late.totals);
  REQUIRE(sup.merkle_root() == std::string(late.root.begin(), late.root.end()));
  REQUIRE(sup.tills_size() == 1);
  REQUIRE(sup.tills(0).sealed());
  // Z plus supplement is the whole day.
  v1::DayTotals sum = z.totals();
  MergeTotals(sup.totals(), &sum);
  FinishTotals(&sum);
  RequireSameFigures(sum, FromJournals(Paths(store), day).totals);
  REQUIRE(DecodeZ(after.z()).z_number() == 1);  // the Z itself never changed
  REQUIRE(after.z().z() == closed.z().z());
}

TEST_CASE("SIGKILL of the fog during the close-down ends in exactly one Z",
          "[closedown][integration][crash]") {
  for (const char* point :
       {"closedown-after-request", "closedown-before-commit", "closedown-after-commit"}) {
    DYNAMIC_SECTION(point) {
      Store store(2);
      REQUIRE(store.fog->Start().ok());
      for (size_t i = 0; i < 2; ++i) store.OpenTill(i);
      for (size_t i = 0; i < 2; ++i) store.Sell(i, 100);
      std::string day = store.tills[0].journal->business_day();
      for (size_t i = 0; i < 2; ++i) REQUIRE(store.tills[i].journal->SealDay(day, "pos").ok());
      REQUIRE(store.WaitSynced());
      REQUIRE(store.fog->Stop() == 0);

      store.fog->crash_at = point;
      REQUIRE(store.fog->Start().ok());
      v1::FogRequest req;
      req.mutable_closedown()->set_business_day(day);
      FogClientOptions quick = store.fog->client_options();
      quick.timeout = std::chrono::seconds(4);
      (void)AskFog(quick, req);  // the fog dies while answering
      REQUIRE(store.fog->Wait() == -SIGKILL);

      REQUIRE(store.fog->Start().ok());
      auto done = store.CloseDay(day);
      REQUIRE(done.closed());
      v1::ZReport z = DecodeZ(done.z());
      REQUIRE(z.z_number() == 1);
      sql::OpenOptions ro;
      ro.read_only = true;
      auto db = sql::Db::Open(store.fog->db_path(), ro).value();
      REQUIRE(db->QueryInt("SELECT COUNT(*) FROM zreports").value() == 1);
      RequireSameFigures(z.totals(), FromJournals(Paths(store), day).totals);
    }
  }
}

TEST_CASE("Zs of consecutive days are numbered, chained and signed", "[closedown][integration]") {
  Store store(2);
  REQUIRE(store.fog->Start().ok());
  std::vector<std::string> days;
  // Book two days in the past so that three days can be closed today.
  for (size_t i = 0; i < 2; ++i) store.OpenTill(i, true, -2 * 24 * 60);
  std::vector<v1::SignedZ> zs;
  for (int d = 0; d < 3; ++d) {
    for (size_t i = 0; i < 2; ++i) store.Sell(i, 50);
    std::string day = store.tills[0].journal->business_day();
    REQUIRE(day <= DayOf(SystemClock::Default()->NowMicros()));
    auto r = store.CloseDay(day);  // the fog's seal command moves the tills on
    REQUIRE(r.closed());
    zs.push_back(r.z());
    REQUIRE(WaitFor(
        [&] {
          return store.tills[0].journal->business_day() > day &&
                 store.tills[1].journal->business_day() > day;
        },
        std::chrono::seconds(10)));
  }
  int64_t net = 0;
  for (size_t i = 0; i < zs.size(); ++i) {
    RequireSigned(zs[i]);
    v1::ZReport z = DecodeZ(zs[i]);
    REQUIRE(z.z_number() == i + 1);
    REQUIRE(z.prev_z_hash() == (i == 0 ? std::string(32, '\0') : zs[i - 1].hash()));
    net += z.totals().net_sales();
    REQUIRE(z.grand_totals().net_sales() == net);
  }
  // A day in the future is refused.
  v1::FogRequest future;
  future.mutable_closedown()->set_business_day("2999-01-01");
  auto r = store.fog->Ask(future).value();
  REQUIRE_FALSE(r.ok());
  REQUIRE_THAT(r.error(), Catch::Contains("is in the future"));
}
