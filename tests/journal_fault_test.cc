// The till journal's promise under a failing disk (edge/src/journal.cc):
// a Record*() call that returns OK survives a power cut; one that fails has
// written nothing, and the next call takes the same seq. The disk is
// tests/support/fault_vfs.h: SIGKILL keeps the page cache, a power cut does
// not.
#include <catch2/catch.hpp>
#include <filesystem>

#include "storenode/common/sqlite.h"
#include "storenode/edge.h"
#include "support/fault_vfs.h"
#include "support/harness.h"
#include "support/till.h"

using namespace storenode;
using storenode::testing::FaultVfs;
using storenode::testing::SimpleSale;
using storenode::testing::TillOptions;

namespace {

constexpr int64_t kT0 = 1795701600LL * 1000000;  // 2026-11-26T10:00:00Z
constexpr int kSalesBefore = 20;

// A journal with kSalesBefore sales on a healthy disk, then reopened through
// the fault VFS.
struct FaultyTill {
  std::string dir = storenode::testing::MakeTempDir("journal-fault");
  ManualClock clock{kT0};
  edge::Options options = TillOptions(dir, "till-1", &clock);
  std::unique_ptr<edge::Journal> journal;

  FaultyTill() {
    {
      auto healthy = edge::Journal::Open(options).value();
      for (int i = 0; i < kSalesBefore; ++i) {
        REQUIRE(healthy->RecordSale(SimpleSale("apple", 1, 100 + i)).ok());
      }
    }
    FaultVfs::Get().Reset();
    options.sqlite_vfs = FaultVfs::kName;
    journal = std::move(edge::Journal::Open(options).value());
  }
  ~FaultyTill() {
    journal.reset();
    FaultVfs::Get().Reset();
  }

  // After the power comes back: the file as a rebooted till opens it.
  struct Reopened {
    edge::VerifyReport verify;
    uint64_t head_seq = 0;
    int64_t sales = 0;
    int64_t total = 0;
  };
  Reopened Reboot() {
    journal.reset();
    FaultVfs::Get().Reset();
    Reopened r;
    r.verify = edge::VerifyJournalFile(options.journal_path);
    auto db = sql::Db::Open(options.journal_path).value();
    r.head_seq = static_cast<uint64_t>(db->QueryInt("SELECT seq FROM head WHERE id = 1").value());
    r.sales = db->QueryInt("SELECT count(*) FROM events WHERE kind = 2").value();
    for (const auto& day : edge::TotalsFromFile(options.journal_path).value()) {
      r.total += day.gross_sales();
    }
    return r;
  }
};

// 20 sales of 100..119 = 2190; the sale under test is 500.
constexpr int64_t kTotalBefore = 2190;

// How many writes and syncs one RecordSale makes on this disk (at least the
// WAL frames and the commit's sync).
struct Io {
  int writes = 0;
  int syncs = 0;
};
Io IoOfOneRecord() {
  FaultyTill t;
  Io before{FaultVfs::Get().writes(), FaultVfs::Get().syncs()};
  REQUIRE(t.journal->RecordSale(SimpleSale("pear", 1, 500)).ok());
  return {FaultVfs::Get().writes() - before.writes, FaultVfs::Get().syncs() - before.syncs};
}

}  // namespace

TEST_CASE("a sale whose RecordSale returned survives a power cut at every sync point",
          "[journal][fault]") {
  const int syncs = IoOfOneRecord().syncs;
  REQUIRE(syncs >= 1);
  // k = 1..syncs: the power goes at the k-th sync, before it is done, and
  // right after it is done; k = syncs + 1: after the call returned.
  for (int k = 1; k <= syncs + 1; ++k) {
    for (bool after : {false, true}) {
      if (k == syncs + 1 && !after) continue;
      DYNAMIC_SECTION("power cut " << (after ? "after" : "at") << " sync " << k << " of "
                                   << syncs) {
        FaultyTill t;
        if (k == syncs + 1) {
          // Nothing armed: the cut comes after the call.
        } else if (after) {
          FaultVfs::Get().PowerCutAfterSync(k);
        } else {
          FaultVfs::Get().PowerCutAtSync(k);
        }
        auto rec = t.journal->RecordSale(SimpleSale("pear", 1, 500));
        if (k == syncs + 1) FaultVfs::Get().PowerCut();
        auto r = t.Reboot();
        INFO("RecordSale: " << (rec.ok() ? "ok" : rec.status().ToString()));
        CHECK(r.verify.ok);
        CHECK(r.verify.reason.empty());
        // Every sync of the call is needed: losing one fails the call, and
        // the call has not returned before its last sync.
        if (!after) CHECK_FALSE(rec.ok());
        if (after && k >= syncs) CHECK(rec.ok());
        if (rec.ok()) {
          // Returned OK: on disk after the cut, with its seq and figures.
          CHECK(rec->seq == kSalesBefore + 2);
          CHECK(r.head_seq == kSalesBefore + 2);
          CHECK(r.sales == kSalesBefore + 1);
          CHECK(r.total == kTotalBefore + 500);
        } else {
          // Failed: nothing of it is on disk.
          CHECK(r.head_seq == kSalesBefore + 1);
          CHECK(r.sales == kSalesBefore);
          CHECK(r.total == kTotalBefore);
        }
      }
    }
  }
}

TEST_CASE("a failed journal commit re-reads the head and the next record takes the same seq",
          "[journal][fault]") {
  const Io io = IoOfOneRecord();
  REQUIRE(io.writes >= 1);
  for (bool fail_write : {false, true}) {
    for (int k = 1; k <= (fail_write ? io.writes : io.syncs); ++k) {
      DYNAMIC_SECTION((fail_write ? "write" : "sync") << " " << k << " fails") {
        FaultyTill t;
        if (fail_write) {
          FaultVfs::Get().FailNthWrite(k);
        } else {
          FaultVfs::Get().FailNthSync(k);
        }
        auto failed = t.journal->RecordSale(SimpleSale("pear", 1, 500));
        REQUIRE_FALSE(failed.ok());
        CHECK(t.journal->head_seq() == kSalesBefore + 1);
        // The disk works again: the next sale takes the seq and receipt
        // number the failed one would have had.
        auto next = t.journal->RecordSale(SimpleSale("plum", 1, 700));
        REQUIRE(next.ok());
        CHECK(next->seq == kSalesBefore + 2);
        CHECK(next->receipt_no == kSalesBefore + 1);
        auto r = t.Reboot();
        CHECK(r.verify.ok);
        CHECK(r.head_seq == kSalesBefore + 2);
        CHECK(r.sales == kSalesBefore + 1);
        CHECK(r.total == kTotalBefore + 700);
      }
    }
  }
}
