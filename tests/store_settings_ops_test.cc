// Store settings under the standards every path that stores them meets:
// a power cut and an I/O error while a till applies a new version, a fog
// killed (SIGKILL) while it issues one, and hostile documents on the
// settings topic of a real mosquitto (oversized, malformed, forged, for
// another store, changing the currency, repeated), after which the till
// still sells by the version it had and still takes the fog's next one.
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>

#include "sim/sim.h"
#include "storenode/common/files.h"
#include "storenode/common/sqlite.h"
#include "storenode/common/store_settings.h"
#include "storenode/common/topics.h"
#include "support/client.h"
#include "support/fault_vfs.h"
#include "support/run.h"
#include "support/store.h"
#include "support/till.h"

using namespace storenode;
using namespace storenode::testing;

namespace {

constexpr int64_t kT0 = 1795701600LL * 1000000;  // 2026-11-26T10:00:00Z
constexpr int64_t kHour = 3600LL * 1000000;

// The simulated store's settings as version 2, with code A at 21% from
// kT0 + 1 h, signed by `key` (the simulated issuer's by default).
std::string SimVersion2(const std::string& store, const crypto::SigningKey* key = nullptr) {
  v1::StoreSettings s = sim::SimStoreSettings(store, "UTC", 1);
  s.set_version(2);
  v1::TaxRateEntry* e = s.add_tax_rates();
  e->set_code("A");
  e->set_name("Standard");
  e->set_rate_bp(2100);
  e->set_effective_from("2026-11-26T11:00");
  e->set_effective_from_us(kT0 + kHour);
  // Entries are ordered by code, then time (settings::Check).
  std::stable_sort(s.mutable_tax_rates()->begin(), s.mutable_tax_rates()->end(),
                   [](const auto& a, const auto& b) { return a.code() < b.code(); });
  if (key != nullptr) return settings::Sign(s, *key).SerializeAsString();
  const std::array<uint8_t, 32> seed{'s', 'i', 'm'};
  return settings::Sign(s, crypto::SigningKey::FromSeed(seed).value()).SerializeAsString();
}

int64_t LastRateBp(const std::string& journal_path) {
  auto db = sql::Db::Open(journal_path, sql::OpenOptions{.create = false, .read_only = true});
  REQUIRE(db.ok());
  return (*db)
      ->QueryInt(
          "SELECT tax_rate_bp FROM receipt_lines ORDER BY receipt_no DESC, line_no DESC LIMIT 1")
      .value();
}

// A till journal with settings version 1 and one sale, reopened through
// the fault VFS.
struct FaultyTill {
  std::string dir = MakeTempDir("settings-fault");
  ManualClock clock{kT0};
  edge::Options options = TillOptions(dir, "till-1", &clock);
  std::unique_ptr<edge::Journal> journal;

  FaultyTill() {
    REQUIRE(edge::Journal::Open(options).value()->RecordSale(SimpleSale("a", 1, 100)).ok());
    FaultVfs::Get().Reset();
    options.sqlite_vfs = FaultVfs::kName;
    journal = edge::Journal::Open(options).value();
    clock.Set(kT0 + 2 * kHour);  // version 2's 21% is in force from kT0 + 1 h
  }
  ~FaultyTill() {
    journal.reset();
    FaultVfs::Get().Reset();
  }
  // The settings version a rebooted till opens with.
  uint64_t Reboot() {
    journal.reset();
    FaultVfs::Get().Reset();
    options.sqlite_vfs.clear();
    journal = edge::Journal::Open(options).value();
    CHECK(journal->Verify().ok);
    return journal->settings().version();
  }
};

int SyncsOfOneApply() {
  FaultyTill t;
  int before = FaultVfs::Get().syncs();
  REQUIRE(t.journal->ApplySettings(SimVersion2("store-1")).ok());
  return FaultVfs::Get().syncs() - before;
}

}  // namespace

TEST_CASE("store settings a till applied survive a power cut at every sync point",
          "[settings][fault]") {
  const int syncs = SyncsOfOneApply();
  REQUIRE(syncs >= 1);
  for (int k = 1; k <= syncs; ++k) {
    for (bool after : {false, true}) {
      DYNAMIC_SECTION("power cut " << (after ? "after" : "at") << " sync " << k << " of "
                                   << syncs) {
        FaultyTill t;
        if (after) {
          FaultVfs::Get().PowerCutAfterSync(k);
        } else {
          FaultVfs::Get().PowerCutAtSync(k);
        }
        Status applied = t.journal->ApplySettings(SimVersion2("store-1"));
        INFO("ApplySettings: " << applied.ToString());
        if (!after) CHECK_FALSE(applied.ok());
        // Returned OK: version 2 after the reboot; failed: still version 1.
        const uint64_t version = t.Reboot();
        CHECK(version == (applied.ok() ? 2u : 1u));
        // The next sale is priced by what the till reopened with.
        REQUIRE(t.journal->RecordSale(SimpleSale("b", 1, 1210)).ok());
        CHECK(LastRateBp(t.options.journal_path) == (version == 2 ? 2100 : 2000));
      }
    }
  }
}

TEST_CASE("a failed apply of store settings keeps the version in force, and a retry applies",
          "[settings][fault]") {
  FaultyTill t;
  FaultVfs::Get().FailNthWrite(1);
  Status failed = t.journal->ApplySettings(SimVersion2("store-1"));
  CHECK_FALSE(failed.ok());
  CHECK(t.journal->settings().version() == 1);
  REQUIRE(t.journal->RecordSale(SimpleSale("b", 1, 1200)).ok());
  CHECK(LastRateBp(t.options.journal_path) == 2000);
  FaultVfs::Get().Reset();
  REQUIRE(t.journal->ApplySettings(SimVersion2("store-1")).ok());
  CHECK(t.journal->settings().version() == 2);
  REQUIRE(t.journal->RecordSale(SimpleSale("c", 1, 1210)).ok());
  CHECK(LastRateBp(t.options.journal_path) == 2100);
  CHECK(t.Reboot() == 2);
}

TEST_CASE("a fog killed while it issues store settings issues each version once",
          "[settings][crash][integration]") {
  Store store(1);
  const std::string base = store.fog->store_config;
  for (const char* point : {"settings-before-commit", "settings-after-commit"}) {
    INFO(point);
    const bool first = std::string(point) == "settings-before-commit";
    // The first start issues version 1; the second start, with one more
    // rate in [store], issues version 2. Each dies at `point` first.
    if (!first) {
      store.fog->store_config =
          base + "\n[store.tax.D]\nname = \"Special\"\nrates = [\"2026-01-01T00:00 10%\"]\n";
    }
    store.fog->crash_at = point;
    REQUIRE(store.fog->Start().ok());
    REQUIRE(store.fog->Wait() == -SIGKILL);
    const uint64_t want = first ? 1 : 2;
    CHECK(QueryInt(store.fog->db_path(), "SELECT COUNT(*) FROM settings_versions") ==
          (first ? 0 : 2));
    REQUIRE(store.fog->Start().ok());
    REQUIRE(store.fog->Stop() == 0);
    CHECK(QueryInt(store.fog->db_path(), "SELECT MAX(version) FROM settings_versions") ==
          static_cast<int64_t>(want));
    CHECK(QueryInt(store.fog->db_path(), "SELECT COUNT(*) FROM settings_versions") ==
          static_cast<int64_t>(want));
    CHECK(QueryInt(store.fog->db_path(), "SELECT COUNT(*) FROM actions WHERE kind = 'settings'") ==
          static_cast<int64_t>(want));
    // settings.pb is the newest version, as stored.
    auto pb = files::Read(store.fog->data_dir() + "/settings.pb");
    REQUIRE(pb.ok());
    CHECK(settings::Open(*pb).value().version() == want);
  }
}

TEST_CASE("hostile store settings on the settings topic change nothing at a till",
          "[settings][hostile][integration]") {
  Store store(1);
  REQUIRE(store.fog->Start().ok());
  auto fog_key = crypto::SigningKey::Load(store.fog->data_dir() + "/fog.key");
  REQUIRE(fog_key.ok());
  // Provisioned the way a [settings] fog_key profile is: no document, the
  // fog's key pinned; the first one comes from the fog's retained message.
  edge::Options o = sim::SimTillOptions(store.dir, store.store_id, "till-1");
  o.settings.clear();
  const crypto::PublicKey pub = fog_key->public_key();
  o.settings_issuer.assign(pub.begin(), pub.end());
  SimTill& till = store.tills[0];
  till.journal = edge::Journal::Open(o).value();
  auto refused = till.journal->RecordSale(SimpleSale("a", 1, 100));
  REQUIRE_FALSE(refused.ok());
  CHECK_THAT(refused.status().message(), Catch::Contains("no store settings"));

  auto ring = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(2000);
  spdlog::default_logger()->sinks().push_back(ring);
  auto lines = [&](const std::string& fragment) {
    int n = 0;
    for (const std::string& l : ring->last_formatted()) n += l.find(fragment) != std::string::npos;
    return n;
  };
  till.sync = edge::SyncEngine::Start(till.journal.get(), store.SyncOptionsFor()).value();
  REQUIRE(
      WaitFor([&] { return till.journal->settings().version() == 1; }, std::chrono::seconds(20)));
  REQUIRE(till.journal->RecordSale(SimpleSale("a", 1, 100)).ok());
  REQUIRE(store.WaitSynced());
  const int64_t stored_versions = QueryInt(o.journal_path, "SELECT COUNT(*) FROM settings");

  TestClient attacker(store.broker.uri());
  const std::string topic = topics::Settings(store.store_id);
  v1::StoreSettings genuine = till.journal->settings();
  auto signed_by = [](v1::StoreSettings s, const crypto::SigningKey& k) {
    return settings::Sign(s, k).SerializeAsString();
  };
  v1::StoreSettings other_store = genuine;
  other_store.set_version(7);
  other_store.set_store_id("store-2");
  v1::StoreSettings dollars = genuine;
  dollars.set_version(8);
  dollars.set_currency("USD");
  v1::StoreSettings next = genuine;
  next.set_version(9);
  const struct {
    std::string payload, reason;
  } hostile[] = {
      {std::string(topics::kMaxSettingsBytes + 1, 'x'),
       "a document of 65537 bytes (at most 65536)"},
      {"not a document", "the document does not parse"},
      {signed_by(next, crypto::SigningKey::Generate()), ", not by the pinned fog key"},
      {signed_by(other_store, *fog_key), "are for store 'store-2', this till is in 'store-1'"},
      {signed_by(dollars, *fog_key), "changes the currency from EUR to USD"},
  };
  for (const auto& h : hostile) {
    attacker.Publish(topic, h.payload);
    REQUIRE(WaitFor([&] { return lines(h.reason) == 1; }, std::chrono::seconds(10)));
  }
  // One document repeated 300 times: refused every time, logged once.
  for (int i = 0; i < 300; ++i) attacker.Publish(topic, "not a document");
  REQUIRE(
      WaitFor([&] { return lines("the document does not parse") == 2; }, std::chrono::seconds(10)));
  attacker.Publish(topic, std::string(topics::kMaxSettingsBytes + 1, 'x'));
  REQUIRE(
      WaitFor([&] { return lines("a document of 65537 bytes") == 2; }, std::chrono::seconds(10)));
  CHECK(lines("the document does not parse") == 2);
  CHECK(lines("not applied") == 7);
  // An old version again (the fog's own, replayed): kept quietly.
  attacker.Publish(topic, testing::ReadFile(store.fog->data_dir() + "/settings.pb"));

  CHECK(till.journal->settings().version() == 1);
  CHECK(till.journal->settings().currency() == "EUR");
  CHECK(stored_versions == 1);
  CHECK(QueryInt(o.journal_path, "SELECT COUNT(*) FROM settings") == 1);
  CHECK(QueryInt(o.journal_path, "SELECT COUNT(*) FROM events") == 2);
  REQUIRE(till.journal->RecordSale(SimpleSale("b", 1, 1200)).ok());
  CHECK(LastRateBp(o.journal_path) == 2000);
  REQUIRE(store.WaitSynced());
  CHECK(store.FogQuarantined() == 0);
  CHECK(store.FogEventCount("till-1") == 3);

  // The fog's next version still reaches the till.
  REQUIRE(store.fog->Stop() == 0);
  store.fog->store_config +=
      "\n[store.tax.D]\nname = \"Special\"\nrates = [\"2026-01-01T00:00 10%\"]\n";
  REQUIRE(store.fog->Start().ok());
  CHECK(WaitFor([&] { return till.journal->settings().version() == 2; }, std::chrono::seconds(20)));
  till.sync.reset();
  auto& sinks = spdlog::default_logger()->sinks();
  sinks.erase(std::remove(sinks.begin(), sinks.end(), ring), sinks.end());
}

TEST_CASE("a fog refuses to issue store settings no till would take", "[settings][integration]") {
  Store store(1);
  std::string many = store.fog->store_config;
  for (int i = 0; i < 1500; ++i) {
    many += "\n[store.tax.T" + std::to_string(10000 + i) + "]\nname = \"Tax " + std::to_string(i) +
            "\"\nrates = [\"2026-01-01T00:00 1%\"]\n";
  }
  store.fog->store_config = many;
  // A crash point that is never reached: Start() returns without waiting
  // for an answer that will not come.
  store.fog->crash_at = "not-a-crash-point";
  REQUIRE(store.fog->Start().ok());
  CHECK(store.fog->Wait() == 2);
  CHECK_THAT(store.fog->Log(), Catch::Contains("[store]: the settings document would be "));
  CHECK_THAT(store.fog->Log(), Catch::Contains(" bytes, more than a till takes (65536)"));
}

TEST_CASE("a fog refuses to start with a rate edited in place, and issues nothing",
          "[settings][integration]") {
  Store store(1);
  REQUIRE(store.fog->Start().ok());
  REQUIRE(store.fog->Stop() == 0);
  const std::string base = store.fog->store_config;
  const size_t at = base.find("20%");
  REQUIRE(at != std::string::npos);
  store.fog->store_config = base.substr(0, at) + "21%" + base.substr(at + 3);
  store.fog->crash_at = "not-a-crash-point";  // Start() does not wait for an answer
  REQUIRE(store.fog->Start().ok());
  CHECK(store.fog->Wait() == 2);
  CHECK_THAT(store.fog->Log(), Catch::Contains("was edited or removed; a rate change is a new "
                                               "entry"));
  CHECK(QueryInt(store.fog->db_path(), "SELECT COUNT(*) FROM settings_versions") == 1);
  CHECK(QueryInt(store.fog->db_path(), "SELECT COUNT(*) FROM actions WHERE kind = 'settings'") ==
        1);
}
