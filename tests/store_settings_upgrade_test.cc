// Upgrading a store to store settings, as docs/DEPLOY.md ("Upgrading to
// store settings") describes it, with the files of a store from before
// (tests/fixtures/v0: a fog.db with a closed day, a till journal whose
// profile carried the tax rates): the old profile is refused naming the
// section, the fog issues version 1 from its new [store] section, the old
// journal takes it from the fog's retained message and sells by it, and
// the next Z continues the chain with the right figures and no quarantine.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "storenode/common/clock.h"
#include "storenode/common/sqlite.h"
#include "storenode/common/store_settings.h"
#include "storenode/profile.h"
#include "support/fog.h"
#include "support/run.h"
#include "support/store.h"
#include "support/till.h"

using namespace storenode;
using namespace storenode::testing;

namespace {

std::string Profile(const std::string& dir, const std::string& broker, const std::string& terms) {
  return "[store]\nid = \"store-1\"\n[device]\nid = \"till-1\"\n[journal]\npath = \"" + dir +
         "/till-1.db\"\n" + terms + "[broker]\nuri = \"" + broker + "\"\ninsecure = true\n";
}

}  // namespace

TEST_CASE("a store from before store settings upgrades as DEPLOY.md says, nothing lost",
          "[settings][upgrade][integration]") {
  const std::string dir = MakeTempDir("settings-upgrade");
  Broker broker(dir + "/broker");
  REQUIRE(broker.Start().ok());
  FogProcess fog(dir + "/fog", "store-1", broker.uri(), {"till-1"});
  CopyV0Fixtures(fog.data_dir(), {"fog.db", "fog.key", "fog.pub"});
  const std::string tills = dir + "/tills";
  CopyV0Fixtures(tills, {"till-1.db", "till-1.db.key", "till-1.db.catalog"});

  // The till's profile of that time: its own rates, rounding and day.
  const std::string old_path = dir + "/till-old.toml";
  std::ofstream(old_path) << Profile(tills, broker.uri(),
                                     "[money]\ncash_rounding = 5\n[tax_rates]\nA = 2000\n"
                                     "B = 550\nC = 0\n");
  auto old_profile = edge::LoadProfile(old_path);
  REQUIRE_FALSE(old_profile.ok());
  CHECK(old_profile.status().message() ==
        old_path +
            ": section [money] moved to the store settings the fog issues (fog.toml [store]); "
            "see docs/DEPLOY.md, \"Upgrading to store settings\"");

  // Step 1: fog.toml gets [store] with the rates the tills had (the fog's
  // default here, sim::SimStoreConfig: A 20%, B 5.5%, C 0% since 1970).
  REQUIRE(fog.Start().ok());
  auto status = fog.GetStatus();
  REQUIRE(status.ok());
  CHECK(status->settings_version() == 1);
  CHECK(QueryInt(fog.db_path(),
                 "SELECT COUNT(*) FROM actions WHERE kind = 'settings' AND "
                 "manager = 'fog.toml'") == 1);
  CHECK(QueryInt(fog.db_path(), "SELECT COUNT(*) FROM zreports") == 1);
  // The closed day's hours were re-keyed to hour starts (fog migration 4):
  // the hourly report of that day still adds up to its Z.
  {
    v1::FogRequest req;
    req.mutable_report()->set_kind("hourly");
    req.mutable_report()->set_business_day("2026-12-01");
    auto r = fog.Ask(req);
    REQUIRE(r.ok());
    REQUIRE(r->ok());
    uint64_t receipts = 0;
    int64_t sales = 0;
    for (const auto& h : r->report().hours()) {
      receipts += h.receipts();
      sales += h.sales();
    }
    auto db = sql::Db::Open(fog.db_path(), sql::OpenOptions{.create = false, .read_only = true});
    REQUIRE(db.ok());
    auto row = (*db)->Prepare("SELECT z FROM zreports WHERE z_number = 1").value();
    REQUIRE(row.Step().value());
    v1::ZReport z1;  // the column holds the Z's signed bytes
    REQUIRE(z1.ParseFromString(row.Blob(0)));
    const v1::DayTotals& day = z1.totals();
    CHECK(r->report().hours_size() == 24);
    CHECK(receipts == day.receipt_count());
    CHECK(sales == day.gross_sales() - day.discounts());
    CHECK(receipts > 0);
  }

  // Step 2: the till's profile loses [money] and [tax_rates] and pins the
  // fog's key; the POS opens the same journal with it.
  const std::string new_path = dir + "/till.toml";
  std::ofstream(new_path) << Profile(
      tills, broker.uri(),
      "[settings]\nfog_key = \"" + Lines(ReadFile(fog.data_dir() + "/fog.pub"))[0] + "\"\n");
  auto profile = edge::LoadProfile(new_path);
  INFO(profile.status().ToString());
  REQUIRE(profile.ok());
  ManualClock clock(settings::ParseLocalTime("2026-12-02T10:00").value());
  profile->journal.clock = &clock;
  auto journal = edge::Journal::Open(profile->journal);
  INFO(journal.status().ToString());
  REQUIRE(journal.ok());
  CHECK((*journal)->head_seq() == 44);
  auto before = (*journal)->RecordSale(SimpleSale("SKU-0001", 1, 106));
  REQUIRE_FALSE(before.ok());
  CHECK_THAT(before.status().message(), Catch::Contains("no store settings"));

  profile->sync.ack_timeout_ms = 1500;
  profile->sync.status_interval_ms = 500;
  auto sync = edge::SyncEngine::Start(journal->get(), profile->sync);
  REQUIRE(sync.ok());
  REQUIRE(WaitFor([&] { return (*journal)->settings().version() == 1; }, std::chrono::seconds(20)));

  // Step 3: it sells by them; the fog takes old and new events alike.
  const int64_t prices[] = {106, 250, 999, 1234, 5};
  for (int64_t p : prices) {
    auto sale = (*journal)->RecordSale(SimpleSale("SKU-0001", 2, p, "A", v1::CARD));
    INFO(sale.status().ToString());
    REQUIRE(sale.ok());
    CHECK(sale->business_day == "2026-12-02");
  }
  REQUIRE(WaitFor(
      [&] {
        auto s = fog.GetStatus();
        if (!s.ok()) return false;
        for (const auto& t : s->tills()) {
          if (t.device_id() == "till-1") return t.acked_seq() == 49 && t.settings_version() == 1;
        }
        return false;
      },
      std::chrono::seconds(30)));
  Ran shown = RunTool(dir, "storectl",
                      {"status", "--broker", broker.uri(), "--insecure", "--store", "store-1"});
  CHECK_THAT(shown.out, Catch::Contains("Settings: version 1 at the fog, 1 of 2 tills current; "
                                        "behind: till-2 (v0)."));

  v1::FogRequest close;
  close.mutable_closedown()->set_business_day("2026-12-02");
  v1::CloseDownResponse closed;
  REQUIRE(WaitFor(
      [&] {
        auto r = fog.Ask(close);
        if (!r.ok() || !r->ok()) return false;
        closed = r->closedown();
        return closed.closed();
      },
      std::chrono::seconds(30)));
  v1::ZReport z = DecodeZ(closed.z());
  CHECK(z.z_number() == 2);
  CHECK(z.settings_version() == 1);
  CHECK(z.currency() == "EUR");
  Oracle want = FromJournals({tills + "/till-1.db"}, "2026-12-02");
  RequireSameFigures(z.totals(), want.totals);
  CHECK(z.totals().receipt_count() == 5);
  CHECK(z.totals().gross_sales() == 2 * (106 + 250 + 999 + 1234 + 5));
  REQUIRE(z.totals().taxes_size() == 1);
  CHECK(z.totals().taxes(0).rate_bp() == 2000);
  CHECK(z.totals().taxes(0).name() == "Standard");
  CHECK(QueryInt(fog.db_path(), "SELECT COUNT(*) FROM quarantine") == 0);
  CHECK(QueryInt(fog.db_path(), "SELECT COUNT(*) FROM zreports") == 2);
  sync->reset();
  journal->reset();
  // The journal file verifies whole: its 44 old events and the new ones.
  Ran verify = RunTool(dir, "storectl", {"journal", "verify", "--db", tills + "/till-1.db"});
  CHECK(verify.code == 0);
  CHECK_THAT(verify.out, Catch::StartsWith("ok: "));
}
