// The catalog from the fog to the tills: import and validation at the fog,
// snapshot and delta distribution over a real broker, atomic apply on the
// till (crashed in the middle), effective-dated prices at the till's own
// clock, and sales priced from the replica.
#include "storenode/common/catalog.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>

#include "edge/src/sync_access.h"
#include "storenode/common/clock.h"
#include "support/catalog_payload.h"
#include "support/harness.h"
#include "support/run.h"
#include "support/store.h"
#include "support/till.h"

namespace storenode::testing {
namespace {

constexpr const char* kHeader =
    "sku,barcodes,name,price,tax_code,department,active,effective_from\n";

// Rows for items [from, to) at price base + i, optionally effective later.
std::string Rows(int from, int to, int64_t base, const std::string& effective = "") {
  std::string out;
  for (int i = from; i < to; ++i) {
    out += Sku(i) + "," + Barcode(i) + ",Item " + std::to_string(i) + "," +
           std::to_string(base + i) + "," + "ABC"[i % 3] + ",dept-" + std::to_string(i % 7) +
           ",1," + effective + "\n";
  }
  return out;
}

v1::CatalogImportResponse Import(Store& store, const std::string& csv) {
  v1::FogRequest req;
  req.mutable_catalog_import()->set_csv(csv);
  req.mutable_catalog_import()->set_file_name("test.csv");
  auto r = store.fog->Ask(req);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  INFO(r->error());
  REQUIRE(r->ok());
  REQUIRE(r->catalog_import().applied());
  return r->catalog_import();
}

void StartFog(Store& store) { REQUIRE(store.fog->Start().ok()); }

bool WaitVersion(Store& store, size_t till, uint64_t version,
                 std::chrono::seconds timeout = std::chrono::seconds(60)) {
  return WaitFor([&] { return store.tills[till].journal->catalog().version() == version; },
                 timeout);
}

}  // namespace

TEST_CASE("catalog: CSV validation reports every bad row and keeps the good ones out",
          "[catalog]") {
  std::string csv = std::string(kHeader) + Rows(1, 3, 100) +
                    "SKU-9,111,Neg,-5,A,d,1,\n"      // line 4
                    "SKU-10,112,Tax,5,Z,d,1,\n"      // line 5
                    "SKU-000001,113,Dup,5,A,d,1,\n"  // line 6
                    "SKU-11," +
                    Barcode(2) +
                    ",Dup code,5,A,d,1,\n"                            // line 7
                    "SKU-12,114,Time,5,A,d,1,2026-13-01T00:00:00Z\n"  // line 8
                    "SKU-13,115,\"Quoted, name\",5,A,d,yes,2026-12-01T06:30:00Z\n";
  catalog::CsvOptions options;
  options.tax_codes = {"A", "B", "C"};
  catalog::ParsedCsv p = catalog::ParseCsv(csv, options);
  REQUIRE(p.errors.size() == 5);
  CHECK(p.errors[0].line() == 4);
  CHECK(p.errors[0].reason() == "negative price -5");
  CHECK(p.errors[1].line() == 5);
  CHECK(p.errors[1].reason() == "unknown tax code 'Z'");
  CHECK(p.errors[2].line() == 6);
  CHECK(p.errors[2].reason().rfind("duplicate sku SKU-000001 (also on line 2", 0) == 0);
  CHECK(p.errors[3].line() == 7);
  CHECK(p.errors[3].reason().rfind("duplicate barcode " + Barcode(2), 0) == 0);
  CHECK(p.errors[4].line() == 8);
  CHECK(p.errors[4].reason().rfind("bad time", 0) == 0);
  REQUIRE(p.rows.size() == 3);
  CHECK(p.rows[2].entry.name() == "Quoted, name");
  CHECK(p.rows[2].entry.effective_from_us() == catalog::ParseTime("2026-12-01T06:30:00Z").value());
  CHECK(catalog::ParseTime("2026-12-01T06:30:00Z").value() -
            catalog::ParseTime("2026-12-01").value() ==
        (6 * 3600 + 30 * 60) * int64_t{1'000'000});
}

TEST_CASE("catalog: a malformed CSV is rejected as a whole with line numbers", "[catalog]") {
  Store store(1);
  StartFog(store);
  std::string path = store.dir + "/bad.csv";
  std::ofstream(path) << kHeader << Rows(1, 50, 100) << "SKU-X,,Bad,-1,A,d,1,\n"
                      << "SKU-Y,,Bad,1,Q,d,1,\n"
                      << "SKU-000003,,Again,1,A,d,1,\n"
                      << "SKU-Z,,Bad,1,A,d,1,tomorrow\n";
  Ran r = RunTool(store.dir, "storectl",
                  {"catalog", "import", path, "--broker", store.broker.uri(), "--insecure",
                   "--store", store.store_id});
  INFO(r.err);
  CHECK(r.code == 1);
  CHECK(r.err.find(path + ":51: negative price -1") != std::string::npos);
  CHECK(r.err.find(path + ":52: unknown tax code 'Q'") != std::string::npos);
  CHECK(r.err.find(path + ":53: duplicate sku SKU-000003") != std::string::npos);
  CHECK(r.err.find(path + ":54: bad time 'tomorrow'") != std::string::npos);
  CHECK(r.err.find("4 bad row(s), nothing applied") != std::string::npos);
  // Nothing applied: no version, no item.
  v1::FogRequest versions;
  versions.mutable_catalog_versions();
  auto v = store.fog->Ask(versions);
  REQUIRE(v.ok());
  CHECK(v->catalog_versions().versions_size() == 0);
  CHECK(store.fog->GetStatus().value().catalog_version() == 0);

  // The good part alone goes through, and storectl shows it.
  std::ofstream(path, std::ios::trunc) << kHeader << Rows(1, 50, 100);
  r = RunTool(store.dir, "storectl",
              {"catalog", "import", path, "--broker", store.broker.uri(), "--insecure", "--store",
               store.store_id});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("catalog version 1: 49 rows") != std::string::npos);
  r = RunTool(store.dir, "storectl",
              {"catalog", "show", "--sku", Barcode(7), "--broker", store.broker.uri(), "--insecure",
               "--store", store.store_id});
  REQUIRE(r.code == 0);
  CHECK(r.out.find("SKU-000007") != std::string::npos);
  CHECK(r.out.find("1.07") != std::string::npos);
  r = RunTool(store.dir, "storectl",
              {"catalog", "versions", "--broker", store.broker.uri(), "--insecure", "--store",
               store.store_id});
  REQUIRE(r.code == 0);
  CHECK(Lines(r.out).size() == 2);  // header and version 1
}

TEST_CASE("catalog: 100k items converge on 3 tills and 1000 price changes go as a delta",
          "[catalog]") {
  Store store(3);
  StartFog(store);
  for (size_t i = 0; i < 3; ++i) store.OpenTill(i);
  auto v1 = Import(store, kHeader + Rows(0, 100000, 100));
  CHECK(v1.version() == 1);
  CHECK(v1.item_count() == 100000);
  for (size_t i = 0; i < 3; ++i) {
    REQUIRE(WaitVersion(store, i, 1));
    edge::CatalogReplica& c = store.tills[i].journal->catalog();
    CHECK(c.content_hash() == v1.content_hash());
    CHECK(c.ComputeContentHash().value() == v1.content_hash());
    CHECK(c.item_count() == 100000);
    CHECK(store.tills[i].sync->state().catalog_snapshots == 1);
  }
  // 1,000 price changes: a delta, not a snapshot.
  auto v2 = Import(store, kHeader + Rows(5000, 6000, 700));
  CHECK(v2.version() == 2);
  CHECK(v2.items_changed() == 1000);
  for (size_t i = 0; i < 3; ++i) {
    REQUIRE(WaitVersion(store, i, 2));
    edge::SyncState st = store.tills[i].sync->state();
    CHECK(st.catalog_snapshots == 1);
    CHECK(st.catalog_deltas == 1);
    CHECK(store.tills[i].journal->catalog().ComputeContentHash().value() == v2.content_hash());
    CHECK(store.tills[i].journal->LookupItem(Barcode(5500)).value().price == 700 + 5500);
    CHECK(store.tills[i].journal->LookupItem(Sku(4999)).value().price == 100 + 4999);
  }
  // The fog sees every till's version in its status.
  REQUIRE(WaitFor(
      [&] {
        auto s = store.fog->GetStatus();
        if (!s.ok() || s->catalog_version() != 2) return false;
        int current = 0;
        for (const auto& t : s->tills()) current += t.catalog_version() == 2;
        return current == 3;
      },
      std::chrono::seconds(20)));
}

TEST_CASE("catalog: a till offline across three versions catches up with one delta", "[catalog]") {
  Store store(2);
  StartFog(store);
  store.OpenTill(0);
  store.OpenTill(1);
  Import(store, kHeader + Rows(0, 300, 100));
  REQUIRE(WaitVersion(store, 0, 1));
  REQUIRE(WaitVersion(store, 1, 1));
  store.CloseTill(1);
  Import(store, kHeader + Rows(0, 10, 200));
  Import(store, kHeader + Rows(10, 20, 300));
  auto v4 = Import(store, kHeader + Rows(20, 30, 400) + Rows(300, 305, 500));
  REQUIRE(WaitVersion(store, 0, 4));
  // storectl status names the till that is behind.
  REQUIRE(WaitFor(
      [&] {
        Ran r = RunTool(
            store.dir, "storectl",
            {"status", "--broker", store.broker.uri(), "--insecure", "--store", store.store_id});
        return r.code == 0 && r.out.find("behind: till-2 (v1)") != std::string::npos;
      },
      std::chrono::seconds(20)));
  store.OpenTill(1);
  REQUIRE(WaitVersion(store, 1, 4));
  edge::SyncState st = store.tills[1].sync->state();
  CHECK(st.catalog_deltas == 1);
  CHECK(st.catalog_snapshots == 0);
  edge::CatalogReplica& c = store.tills[1].journal->catalog();
  CHECK(c.content_hash() == v4.content_hash());
  CHECK(c.ComputeContentHash().value() == v4.content_hash());
  CHECK(c.item_count() == 305);
  CHECK(c.Lookup(Sku(15)).value().price == 315);
  CHECK(c.Lookup(Sku(302)).value().price == 802);
}

TEST_CASE("catalog: an effective-dated price switches on time on an offline till", "[catalog]") {
  Store store(1);
  StartFog(store);
  const int64_t t0 = catalog::ParseTime("2026-11-30T12:00:00Z").value();
  const int64_t switch_at = catalog::ParseTime("2026-12-01T06:00:00Z").value();
  ManualClock clock(t0);
  auto journal = edge::Journal::Open(TillOptions(store.dir, "till-1", &clock));
  REQUIRE(journal.ok());
  auto sync = edge::SyncEngine::Start(journal->get(), store.SyncOptionsFor());
  REQUIRE(sync.ok());
  Import(store, kHeader + Rows(0, 10, 100) + "SKU-OLD,777,Old thing,50,A,d,0,\n");
  // Delivered ahead of time: from 06:00 item 3 costs 9.99.
  Import(store, kHeader + Rows(3, 4, 996, "2026-12-01T06:00:00Z"));
  REQUIRE(WaitFor([&] { return (*journal)->catalog().version() == 2; }, std::chrono::seconds(30)));
  sync->reset();  // offline from here on

  CHECK((*journal)->LookupItem(Barcode(3)).value().price == 103);
  clock.Set(switch_at - 1);
  CHECK((*journal)->LookupItem(Barcode(3)).value().price == 103);
  clock.Set(switch_at);
  CHECK((*journal)->LookupItem(Barcode(3)).value().price == 999);
  CHECK((*journal)->LookupItem(Sku(4)).value().price == 104);

  // A sale from barcodes takes the replica's prices and records its version.
  auto sale = (*journal)->SaleFromCatalog({{Barcode(3), 2}, {Sku(5), 1}});
  INFO(sale.status().ToString());
  REQUIRE(sale.ok());
  CHECK(sale->total() == 2 * 999 + 105);
  v1::Tender* cash = sale->add_tenders();
  cash->set_type(v1::CARD);
  cash->set_amount(sale->total());
  auto rec = (*journal)->RecordSale(*sale);
  INFO(rec.status().ToString());
  REQUIRE(rec.ok());
  auto events = (*journal)->ReadEvents(rec->seq, 1);
  REQUIRE(events.ok());
  v1::EventBody body;
  REQUIRE(body.ParseFromString((*events)[0].body()));
  const v1::Sale& stored = body.sale();
  CHECK(stored.catalog_version() == 2);
  REQUIRE(stored.lines_size() == 2);
  CHECK(stored.lines(0).sku() == Sku(3));
  CHECK(stored.lines(0).barcode() == Barcode(3));
  CHECK(stored.lines(0).unit_price() == 999);
  CHECK(stored.lines(0).tax_code() == "A");
  CHECK(stored.lines(0).name() == "Item 3");
  CHECK(stored.lines(1).unit_price() == 105);
  CHECK(stored.lines(1).tax_code() == "C");

  // Unknown and inactive items: a clear error, nothing recorded.
  auto unknown = (*journal)->SaleFromCatalog({{"999999", 1}});
  REQUIRE(!unknown.ok());
  CHECK(unknown.status().code() == Code::kNotFound);
  CHECK(unknown.status().message() == "unknown item '999999'");
  auto inactive = (*journal)->SaleFromCatalog({{"777", 1}});
  REQUIRE(!inactive.ok());
  CHECK(inactive.status().message() == "item '777' (Old thing) is inactive");
  CHECK((*journal)->head_seq() == rec->seq);
}

TEST_CASE("catalog: a till killed during apply holds the old or the new version and never a mix",
          "[catalog]") {
  std::string dir = MakeTempDir("catalog-crash");
  std::string path = dir + "/till-1.db.catalog";
  auto [v1, hash1] = MakePayload(0, 1, 20000, 100);
  auto [v2, hash2] = MakePayload(0, 2, 20000, 900);
  REQUIRE(v2.complete());
  {
    auto replica = edge::CatalogReplica::Open(path);
    REQUIRE(replica.ok());
    REQUIRE(edge::SyncAccess::Apply(**replica, v1).ok());
  }
  for (const char* point : {"catalog-apply-before-commit", "catalog-apply-after-commit"}) {
    INFO(point);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      setenv("STORENODE_CRASH_AT", point, 1);
      auto replica = edge::CatalogReplica::Open(path);
      if (replica.ok()) (void)edge::SyncAccess::Apply(**replica, v2);
      _exit(0);  // not reached when the crash point fires
    }
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGKILL);
    auto replica = edge::CatalogReplica::Open(path);
    REQUIRE(replica.ok());
    edge::CatalogReplica& r = **replica;
    const bool committed = std::string(point) == "catalog-apply-after-commit";
    CHECK(r.version() == (committed ? 2u : 1u));
    CHECK(r.content_hash() == (committed ? hash2 : hash1));
    CHECK(r.ComputeContentHash().value() == r.content_hash());
    CHECK(r.Lookup(Sku(77)).value().price == (committed ? 977 : 177));
  }
  // A corrupted payload is refused before anything is written.
  auto replica = edge::CatalogReplica::Open(path);
  REQUIRE(replica.ok());
  auto [v3, hash3] = MakePayload(2, 3, 10, 5);
  catalog::Assembler bad;
  v1::CatalogPayload p;
  p.set_from_version(2);
  p.set_to_version(3);
  p.set_content_hash(hash3);  // of other items than it carries
  p.set_item_count(10);
  for (const auto& c : catalog::Split(p.SerializeAsString(), 2, 3)) bad.Add(c);
  Status s = edge::SyncAccess::Apply(**replica, bad);
  CHECK(s.code() == Code::kCorruption);
  CHECK((*replica)->version() == 2);
  CHECK((*replica)->ComputeContentHash().value() == hash2);
}

}  // namespace storenode::testing

namespace storenode::testing {

// Regression: a barcode moving to an item that sorts before its old one was
// dropped by the old item's barcode cleanup, at the fog and on the till.
TEST_CASE("catalog: a barcode moved to an earlier item in one import stays found", "[catalog]") {
  Store store(1);
  StartFog(store);
  store.OpenTill(0);
  Import(store, std::string(kHeader) + "A-1,111,One,100,A,d,1,\nB-2,222,Two,200,A,d,1,\n");
  REQUIRE(WaitVersion(store, 0, 1));
  Import(store, std::string(kHeader) + "A-1,222,One,100,A,d,1,\nB-2,333,Two,200,A,d,1,\n");
  REQUIRE(WaitVersion(store, 0, 2));
  CHECK(store.tills[0].journal->LookupItem("222").value().sku == "A-1");
  CHECK(store.tills[0].journal->LookupItem("333").value().sku == "B-2");
  CHECK(!store.tills[0].journal->LookupItem("111").ok());
  v1::FogRequest show;
  show.mutable_catalog_show()->set_sku("222");
  auto r = store.fog->Ask(show);
  REQUIRE(r.ok());
  REQUIRE(r->ok());
  REQUIRE(r->catalog_show().items_size() == 1);
  CHECK(r->catalog_show().items(0).sku() == "A-1");
}

}  // namespace storenode::testing
