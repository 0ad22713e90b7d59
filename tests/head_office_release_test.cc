// Head office's catalog and settings releases, end to end: a cloud broker
// (a real mosquitto) with ledger-sink behind it, two stores (each its
// broker, the real fogd and a till), and `storectl chain release` signing
// and publishing from head office. The prices and tax rates are read from
// real sales on the tills.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "harness/nats.h"
#include "storenode/common/files.h"
#include "storenode/common/head_office.h"
#include "storenode/common/sqlite.h"
#include "storenode/common/store_settings.h"
#include "support/client.h"
#include "support/ledger_sink.h"
#include "support/run.h"
#include "support/store.h"

using namespace storenode;
using namespace storenode::testing;

namespace {

constexpr const char* kHeader =
    "sku,barcodes,name,price,tax_code,department,active,effective_from\n";

// Two items at the given prices.
std::string Csv(int64_t price1, int64_t price2) {
  return std::string(kHeader) + "SKU-1,4000000000011,Coffee," + std::to_string(price1) +
         ",A,food,1,\nSKU-2,4000000000028,Tea," + std::to_string(price2) + ",A,food,1,\n";
}

struct HeadOfficeKey {
  std::string path, hex;
};

// A key made by `storectl chain keygen`, in `dir`.
HeadOfficeKey Keygen(const std::string& dir, const std::string& name) {
  HeadOfficeKey k{dir + "/" + name + ".key", ""};
  Ran r = RunTool(dir, "storectl", {"chain", "keygen", "--out", k.path});
  INFO(r.err);
  REQUIRE(r.code == 0);
  k.hex = Lines(r.out).at(0);
  REQUIRE(k.hex.size() == 64);
  return k;
}

// The fog's side of the chain: the ledger link and the pinned head-office key.
std::string ChainConfig(const std::string& cloud_uri, const std::string& ledger_key,
                        const std::string& head_office_key, const std::string& groups,
                        const std::string& extra) {
  return "\n[ledger]\nuri = \"" + cloud_uri +
         "\"\ninsecure = true\nretry_min_ms = 200\nretry_max_ms = 1000\npublic_key = \"" +
         ledger_key + "\"\n\n[head_office]\npublic_key = \"" + head_office_key + "\"\ngroups = [" +
         groups + "]\n" + extra;
}

void ImportLocally(Store& store, const std::string& csv) {
  v1::FogRequest req;
  req.mutable_catalog_import()->set_csv(csv);
  req.mutable_catalog_import()->set_file_name("local.csv");
  auto r = store.fog->Ask(req);
  REQUIRE(r.ok());
  INFO(r->error());
  REQUIRE(r->ok());
}

bool WaitTillVersion(Store& store, uint64_t version,
                     std::chrono::seconds timeout = std::chrono::seconds(30)) {
  return WaitFor([&] { return store.tills[0].journal->catalog().version() == version; }, timeout);
}

// Sells one `sku` on the store's till from its catalog replica; the line
// of the recorded sale, read back from the journal.
v1::SaleLine SoldLine(Store& store, const std::string& sku) {
  edge::Journal& j = *store.tills[0].journal;
  auto sale = j.SaleFromCatalog({{sku, 1}});
  INFO(sale.status().ToString());
  REQUIRE(sale.ok());
  v1::Tender* t = sale->add_tenders();
  t->set_type(v1::CARD);
  t->set_amount(sale->total());
  auto rec = j.RecordSale(*sale);
  REQUIRE(rec.ok());
  auto events = j.ReadEvents(rec->seq, 1);
  REQUIRE(events.ok());
  v1::EventBody body;
  REQUIRE(body.ParseFromString((*events)[0].body()));
  REQUIRE(body.sale().lines_size() == 1);
  CHECK(body.sale().catalog_version() == j.catalog().version());
  v1::EventHeader header;
  REQUIRE(header.ParseFromString((*events)[0].header()));
  CHECK(header.settings_version() == j.settings().version());
  return body.sale().lines(0);
}

int64_t SoldPrice(Store& store, const std::string& sku) {
  return SoldLine(store, sku).unit_price();
}

// How often `needle` occurs in `text` (a log: once per start, say).
size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// Waits until the fog's log holds `text`.
bool WaitForLog(Store& store, const std::string& text, std::chrono::seconds timeout) {
  return WaitFor([&] { return store.fog->Log().find(text) != std::string::npos; }, timeout);
}

// Restarts the fog to die at `crash` (common/fault.h) once it gets there.
void RestartToCrashAt(Store& store, const std::string& crash) {
  REQUIRE(store.fog->Stop() == 0);
  store.fog->crash_at = crash;
  REQUIRE(store.fog->Start().ok());
  REQUIRE(WaitFor([&] { return store.fog->GetStatus().ok(); }, std::chrono::seconds(20)));
}

std::unique_ptr<sql::Db> ReadOnly(const std::string& path) {
  sql::OpenOptions o;
  o.read_only = true;
  return sql::Db::Open(path, o).value();
}

// (version, manager, file_name) of every catalog version of a fog.
std::vector<std::tuple<int64_t, std::string, std::string>> Versions(Store& store) {
  auto db = ReadOnly(store.fog->db_path());
  auto stmt =
      db->Prepare("SELECT version, manager, file_name FROM catalog_versions ORDER BY version")
          .value();
  std::vector<std::tuple<int64_t, std::string, std::string>> out;
  while (stmt.Step().value()) out.emplace_back(stmt.Int(0), stmt.Text(1), stmt.Text(2));
  return out;
}

std::vector<std::string> Alerts(Store& store) {
  auto db = ReadOnly(store.fog->db_path());
  auto stmt = db->Prepare("SELECT reason FROM head_office_alerts ORDER BY rowid").value();
  std::vector<std::string> out;
  while (stmt.Step().value()) out.push_back(stmt.Text(0));
  return out;
}

// The action journal's entries of `kind`: "manager: detail".
std::vector<std::string> Actions(Store& store, const std::string& kind) {
  auto db = ReadOnly(store.fog->db_path());
  auto stmt =
      db->Prepare("SELECT manager, detail FROM actions WHERE kind = ? ORDER BY seq").value();
  stmt.Bind(1, kind);
  std::vector<std::string> out;
  while (stmt.Step().value()) out.push_back(stmt.Text(0) + ": " + stmt.Text(1));
  return out;
}

// Head office: the cloud broker, ledger-sink, its key and `storectl chain
// release`.
struct Chain {
  std::string dir = MakeTempDir("head-office");
  Broker cloud{dir + "/cloud"};
  // On NATS instead (its MQTT 3.1.1 listeners), with ledger-sink on
  // JetStream: the chain's own cloud.
  std::unique_ptr<harness::NatsCluster> nats;
  std::unique_ptr<LedgerSinkProcess> sink;
  HeadOfficeKey key;

  explicit Chain(bool on_nats = false) {
    if (on_nats) {
      nats = std::make_unique<harness::NatsCluster>(dir + "/nats");
      Status s = nats->Start();
      INFO(s.ToString());
      REQUIRE(s.ok());
      sink = std::make_unique<LedgerSinkProcess>(dir + "/sink", "");
      for (int i = 0; i < nats->nodes(); ++i) sink->nats.push_back(nats->nats_url(i));
    } else {
      REQUIRE(cloud.Start().ok());
      sink = std::make_unique<LedgerSinkProcess>(dir + "/sink", cloud.uri());
    }
    sink->Start();
    key = Keygen(dir, "head-office");
  }
  std::string uri() const { return nats ? nats->mqtt_uri(0) : cloud.uri(); }
  // Starts the store's fog on the chain, in `groups` (TOML strings), and its
  // till: on the simulated settings, or with `fog_settings` on the fog's
  // (provisioned from its settings.pb, then following its retained ones).
  void StartStore(Store& store, const std::string& groups, const std::string& extra = "",
                  bool fog_settings = false) {
    std::string config = ChainConfig(uri(), KeyHex(sink->key_path()), key.hex, groups, extra);
    if (nats) {
      std::string uris;
      for (int i = 0; i < nats->nodes(); ++i) {
        uris += std::string(i ? ", " : "") + "\"" + nats->mqtt_uri(i) + "\"";
      }
      config = std::regex_replace(config, std::regex("uri = \"[^\"]*\""),
                                  "uris = [" + uris + "]\nprotocol = \"mqtt3.1.1\"");
    }
    store.fog->extra_config = config;
    REQUIRE(store.fog->Start().ok());
    if (!fog_settings) {
      store.OpenTill(0);
      return;
    }
    store.OpenTillOnFogSettings(0, SystemClock::Default());
    auto engine = edge::SyncEngine::Start(store.tills[0].journal.get(), store.SyncOptionsFor());
    REQUIRE(engine.ok());
    store.tills[0].sync = std::move(*engine);
  }
  // `storectl chain release catalog` of `csv` with `targets`.
  Ran Release(uint64_t id, const std::string& csv, std::vector<std::string> targets,
              const std::string& key_path = "") {
    return Publish("catalog", id, csv, std::move(targets), key_path);
  }
  // `storectl chain release settings` of a [store] file.
  Ran ReleaseSettings(uint64_t id, const std::string& toml, std::vector<std::string> targets) {
    return Publish("settings", id, toml, std::move(targets), "");
  }
  Ran Publish(const std::string& kind, uint64_t id, const std::string& content,
              std::vector<std::string> targets, const std::string& key_path) {
    const std::string file =
        dir + "/release-" + std::to_string(id) + (kind == "catalog" ? ".csv" : ".toml");
    std::ofstream(file) << content;
    std::vector<std::string> args = {"chain",    "release",
                                     kind,       file,
                                     "--key",    key_path.empty() ? key.path : key_path,
                                     "--id",     std::to_string(id),
                                     "--broker", uri()};
    if (nats) args.insert(args.end(), {"--protocol", "mqtt3.1.1"});
    args.insert(args.end(), targets.begin(), targets.end());
    Ran r = RunTool(dir, "storectl", args);
    INFO(r.err);
    REQUIRE(r.code == 0);
    return r;
  }
};

}  // namespace

TEST_CASE("head-office catalog releases reach the stores they name, and only those",
          "[head-office][integration]") {
  Chain chain;
  Store south(1, "store-1"), north(1, "store-2");
  chain.StartStore(south, "\"south\"");
  chain.StartStore(north, "\"north\", \"outlets\"");
  ImportLocally(south, Csv(100, 200));
  ImportLocally(north, Csv(100, 200));
  REQUIRE(WaitTillVersion(south, 1));
  REQUIRE(WaitTillVersion(north, 1));

  // Release 1, for store-1 alone: coffee at 150 there.
  Ran published = chain.Release(1, Csv(150, 200), {"--stores", "store-1"});
  CHECK_THAT(published.out, Catch::Contains("on sn/v1/chain/release/catalog/store/store-1"));
  REQUIRE(WaitTillVersion(south, 2));
  CHECK(SoldPrice(south, "SKU-1") == 150);

  // Release 2, for the group north: tea at 250 in store-2 only. Store-1 never
  // sees it (not subscribed); store-2 has not moved since release 1.
  chain.Release(2, Csv(100, 250), {"--groups", "north"});
  REQUIRE(WaitTillVersion(north, 2));
  CHECK(SoldPrice(north, "SKU-2") == 250);
  CHECK(SoldPrice(north, "SKU-1") == 100);
  CHECK(SoldPrice(south, "SKU-1") == 150);
  CHECK(SoldPrice(south, "SKU-2") == 200);
  CHECK(south.fog->GetStatus().value().catalog_version() == 2);

  CHECK(Versions(south) ==
        std::vector<std::tuple<int64_t, std::string, std::string>>{
            {1, "test", "local.csv"}, {2, "head-office", "head-office release 1 (release-1.csv)"}});
  CHECK(Versions(north) ==
        std::vector<std::tuple<int64_t, std::string, std::string>>{
            {1, "test", "local.csv"}, {2, "head-office", "head-office release 2 (release-2.csv)"}});
  auto north_actions = Actions(north, "catalog-release");
  REQUIRE(north_actions.size() == 1);
  CHECK_THAT(north_actions[0],
             Catch::StartsWith("head-office: version 2: 2 rows, 2 items changed, 2 items, file "
                               "head-office release 2 (release-2.csv)"));

  SECTION("a release signed with another key is refused and changes nothing") {
    HeadOfficeKey other = Keygen(chain.dir, "other");
    chain.Release(3, Csv(1, 1), {"--all"}, other.path);
    REQUIRE(WaitFor([&] { return Alerts(south).size() == 1 && Alerts(north).size() == 1; },
                    std::chrono::seconds(20)));
    CHECK_THAT(Alerts(south)[0],
               Catch::StartsWith(
                   "unknown key: signed by " +
                   crypto::Fingerprint(crypto::HashFromBytes(*crypto::FromHex(other.hex)).value()) +
                   ", head_office.public_key is "));
    CHECK(Versions(south).size() == 2);
    CHECK(Versions(north).size() == 2);
    CHECK(SoldPrice(south, "SKU-1") == 150);
    CHECK(SoldPrice(north, "SKU-2") == 250);
    CHECK_THAT(south.fog->Log(), Catch::Contains("head-office release 0 on "
                                                 "sn/v1/chain/release/catalog/all refused: "
                                                 "unknown key"));
    // Retained, it comes again after a restart: still refused, one alert.
    REQUIRE(south.fog->Stop() == 0);
    REQUIRE(south.fog->Start().ok());
    REQUIRE(WaitFor([&] { return Count(south.fog->Log(), "refused: unknown key") >= 2; },
                    std::chrono::seconds(20)));
    CHECK(Alerts(south).size() == 1);
    CHECK(Versions(south).size() == 2);
  }

  SECTION("a release moved to another store's topic is refused: not for this store") {
    // Release 2 was for the group north; its bytes, verbatim, on store-1's topic.
    TestClient sniff(chain.cloud.uri(), {"sn/v1/chain/release/catalog/group/north"});
    REQUIRE(
        WaitFor([&] { return !sniff.Received("sn/v1/chain/release/catalog/group/north").empty(); },
                std::chrono::seconds(10)));
    const std::string bytes = sniff.Received("sn/v1/chain/release/catalog/group/north")[0].payload;
    sniff.Publish("sn/v1/chain/release/catalog/store/store-1", bytes, true);
    REQUIRE(WaitFor([&] { return Alerts(south).size() == 1; }, std::chrono::seconds(20)));
    CHECK(Alerts(south)[0] ==
          "not for this store: its target names neither store store-1 nor one of its groups");
    CHECK(Versions(south).size() == 2);
    CHECK(SoldPrice(south, "SKU-2") == 200);
  }

  SECTION("an older release id is ignored, and a restart takes nothing twice") {
    chain.Release(1, Csv(999, 999), {"--stores", "store-1,store-2"});
    REQUIRE(WaitForLog(south,
                       "ignored head-office catalog release 1: release 1 is "
                       "applied already",
                       std::chrono::seconds(20)));
    // store-2 applied release 2: release 1 is older there too.
    REQUIRE(WaitForLog(north,
                       "ignored head-office catalog release 1: release 2 is "
                       "applied already",
                       std::chrono::seconds(20)));
    CHECK(SoldPrice(south, "SKU-1") == 150);
    CHECK(SoldPrice(north, "SKU-1") == 100);
    // The retained releases come again after a restart: old, ignored.
    REQUIRE(south.fog->Stop() == 0);
    REQUIRE(south.fog->Start().ok());
    std::this_thread::sleep_for(std::chrono::seconds(2));
    CHECK(Versions(south).size() == 2);
    CHECK(Alerts(south).empty());
  }

  SECTION("the newest version wins: a local import after a release, a release after that") {
    ImportLocally(south, Csv(170, 200));
    REQUIRE(WaitTillVersion(south, 3));
    CHECK(SoldPrice(south, "SKU-1") == 170);  // the store's own price, after head office's
    // Head office publishes again, for all: it becomes the next version
    // everywhere, over the local import.
    chain.Release(4, Csv(180, 260), {"--all"});
    REQUIRE(WaitTillVersion(south, 4));
    REQUIRE(WaitTillVersion(north, 3));
    CHECK(SoldPrice(south, "SKU-1") == 180);
    CHECK(SoldPrice(north, "SKU-1") == 180);
    CHECK(SoldPrice(north, "SKU-2") == 260);
    CHECK(std::get<1>(Versions(south).at(2)) == "test");
    CHECK(std::get<1>(Versions(south).at(3)) == "head-office");
    // And a local import after that is the next version again.
    ImportLocally(north, Csv(180, 240));
    REQUIRE(WaitTillVersion(north, 4));
    CHECK(SoldPrice(north, "SKU-2") == 240);
  }
}

TEST_CASE("a fog SIGKILLed just before or after it commits a release holds the version once",
          "[head-office][integration]") {
  const std::string crash = GENERATE("release-before-commit", "release-after-commit");
  INFO(crash);
  Chain chain;
  Store store(1, "store-1");
  chain.StartStore(store, "\"south\"");
  ImportLocally(store, Csv(100, 200));
  REQUIRE(WaitTillVersion(store, 1));
  RestartToCrashAt(store, crash);

  chain.Release(7, Csv(130, 200), {"--groups", "south"});
  CHECK(store.fog->Wait() == -SIGKILL);
  const size_t before = Versions(store).size();
  CHECK(before == (crash == std::string("release-before-commit") ? 1u : 2u));

  // Restarted: the retained release comes again; applied now if it was not.
  REQUIRE(store.fog->Start().ok());
  REQUIRE(WaitTillVersion(store, 2));
  std::this_thread::sleep_for(std::chrono::seconds(1));
  auto versions = Versions(store);
  REQUIRE(versions.size() == 2);
  CHECK(std::get<2>(versions[1]) == "head-office release 7 (release-7.csv)");
  CHECK(Actions(store, "catalog-release").size() == 1);
  auto db = ReadOnly(store.fog->db_path());
  CHECK(db->QueryInt("SELECT COUNT(*) FROM head_office_releases").value() == 1);
  CHECK(SoldPrice(store, "SKU-1") == 130);
}

TEST_CASE("head-office releases past the per-minute limit wait and are not applied at once",
          "[head-office][integration]") {
  Chain chain;
  Store store(1, "store-1");
  chain.StartStore(store, "\"south\"", "releases_per_minute = 1\n");
  chain.Release(1, Csv(110, 200), {"--all"});
  REQUIRE(WaitTillVersion(store, 1));
  chain.Release(2, Csv(120, 200), {"--stores", "store-1"});
  REQUIRE(WaitForLog(store,
                     "head-office catalog release 2 waits: 1 applied in the last "
                     "minute (limit 1)",
                     std::chrono::seconds(20)));
  std::this_thread::sleep_for(std::chrono::seconds(2));
  CHECK(Versions(store).size() == 1);
  CHECK(SoldPrice(store, "SKU-1") == 110);
}

TEST_CASE("head_office::Open refuses what head office did not sign as it is", "[head-office]") {
  crypto::SigningKey key = crypto::SigningKey::Generate();
  crypto::SigningKey other = crypto::SigningKey::Generate();
  v1::HeadOfficeRelease r;
  r.set_release_id(5);
  r.set_kind(v1::RELEASE_CATALOG);
  r.mutable_target()->add_groups("north");
  r.mutable_catalog()->set_csv(Csv(1, 2));
  const std::string good = head_office::Sign(r, key).SerializeAsString();
  auto opened = head_office::Open(good, key.public_key());
  REQUIRE(opened.ok());
  CHECK(opened->release_id() == 5);
  CHECK(head_office::Targets(opened->target(), "store-9", {"south", "north"}));
  CHECK_FALSE(head_office::Targets(opened->target(), "store-9", {"south"}));
  CHECK(head_office::ReleaseTopics(r) ==
        std::vector<std::string>{"sn/v1/chain/release/catalog/group/north"});

  CHECK_THAT(head_office::Open(good, other.public_key()).status().message(),
             Catch::StartsWith("unknown key: signed by " + crypto::Fingerprint(key.public_key())));
  v1::SignedHeadOfficeRelease tampered = head_office::Sign(r, key);
  tampered.mutable_release()->back() ^= 1;
  CHECK(head_office::Open(tampered.SerializeAsString(), key.public_key()).status().message() ==
        "bad signature: not head office's signature over the release");
  CHECK(head_office::Open("not a release", key.public_key()).status().message() ==
        "malformed: not a SignedHeadOfficeRelease");
  CHECK_THAT(head_office::Open(std::string(head_office::kMaxCatalogReleaseBytes + 1, 'x'),
                               key.public_key())
                 .status()
                 .message(),
             Catch::StartsWith("too large: 8388609 bytes"));
  r.set_kind(v1::RELEASE_SETTINGS);
  r.mutable_catalog()->set_csv(std::string(70000, 'a'));
  CHECK_THAT(head_office::Open(head_office::Sign(r, key).SerializeAsString(), key.public_key())
                 .status()
                 .message(),
             Catch::StartsWith("too large: settings release of "));
  r.set_release_id(0);
  CHECK(head_office::Open(head_office::Sign(r, key).SerializeAsString(), key.public_key())
            .status()
            .message() == "malformed: release id 0");
}

TEST_CASE("on a NATS cluster over MQTT 3.1.1, a release reaches the store it names and only it",
          "[head-office][nats][integration]") {
  Chain chain(/*on_nats=*/true);
  Store south(1, "store-1"), north(1, "store-2");
  chain.StartStore(south, "\"south\"");
  chain.StartStore(north, "\"north\"");
  ImportLocally(south, Csv(100, 200));
  ImportLocally(north, Csv(100, 200));
  REQUIRE(WaitTillVersion(south, 1));
  REQUIRE(WaitTillVersion(north, 1));
  chain.Release(1, Csv(150, 200), {"--stores", "store-1"});
  REQUIRE(WaitTillVersion(south, 2));
  CHECK(SoldPrice(south, "SKU-1") == 150);
  chain.Release(2, Csv(100, 250), {"--groups", "north"});
  REQUIRE(WaitTillVersion(north, 2));
  CHECK(SoldPrice(north, "SKU-2") == 250);
  CHECK(SoldPrice(north, "SKU-1") == 100);
  CHECK(SoldPrice(south, "SKU-2") == 200);
  CHECK(Versions(south).size() == 2);
  // NATS retains them too: a restarted fog finds release 1 again, and
  // ignores it.
  REQUIRE(south.fog->Stop() == 0);
  REQUIRE(south.fog->Start().ok());
  REQUIRE(WaitForLog(south,
                     "ignored head-office catalog release 1: release 1 is "
                     "applied already",
                     std::chrono::seconds(30)));
  CHECK(Versions(south).size() == 2);
  CHECK(Alerts(south).empty());
}

// ---- Settings releases ----

namespace {

// [store] terms after the id, as the simulated store's (tools/sim) but with
// `a_rates` for tax A ("1970-01-01T00:00 20%" is the simulated store's).
std::string StoreTerms(const std::vector<std::string>& a_rates,
                       const std::string& currency = "EUR") {
  std::string rates;
  for (const std::string& r : a_rates)
    rates += std::string(rates.empty() ? "" : ", ") + "\"" + r + "\"";
  return "time_zone = \"UTC\"\ncurrency = \"" + currency +
         "\"\ncash_rounding = 5\n\n[store.tax.A]\nname = \"Standard\"\nrates = [" + rates +
         "]\n\n[store.tax.B]\nname = \"Reduced\"\nrates = [\"1970-01-01T00:00 5.5%\"]\n\n"
         "[store.tax.C]\nname = \"Zero\"\nrates = [\"1970-01-01T00:00 0%\"]\n";
}
// fog.toml's [store] after the id: the simulated store's name and `a_rates`.
std::string FogStoreTerms(const std::vector<std::string>& a_rates) {
  return "name = \"Simulated store\"\n" + StoreTerms(a_rates);
}
// A release file: [store] without id, name, address or tax id.
std::string ReleaseFile(const std::vector<std::string>& a_rates,
                        const std::string& currency = "EUR") {
  return "[store]\n" + StoreTerms(a_rates, currency);
}

const std::string kA20 = "1970-01-01T00:00 20%";
const std::string kA25 = "2020-01-01T00:00 25%";

bool WaitTillSettings(Store& store, uint64_t version,
                      std::chrono::seconds timeout = std::chrono::seconds(30)) {
  return WaitFor([&] { return store.tills[0].journal->settings().version() == version; }, timeout);
}

// The action journal's settings entries, "actor: detail", in order.
std::vector<std::string> SettingsLog(Store& store) {
  auto db = ReadOnly(store.fog->db_path());
  auto stmt = db->Prepare(
                    "SELECT manager, detail FROM actions WHERE kind IN ('settings', "
                    "'settings-release') ORDER BY seq")
                  .value();
  std::vector<std::string> out;
  while (stmt.Step().value()) out.push_back(stmt.Text(0) + ": " + stmt.Text(1));
  return out;
}

std::string FromFogToml(Store& store, int version) {
  return "fog.toml: store settings version " + std::to_string(version) + " from " +
         store.fog->config_path();
}
std::string FromRelease(int version, int release) {
  return "head-office: store settings version " + std::to_string(version) +
         " from head-office release " + std::to_string(release);
}

int64_t SettingsVersions(Store& store) {
  return ReadOnly(store.fog->db_path())->QueryInt("SELECT COUNT(*) FROM settings_versions").value();
}

// The version the fog's data.dir/settings.pb holds (what a new till gets).
uint64_t ProvisionedVersion(Store& store) {
  auto doc = files::Read(store.fog->data_dir() + "/settings.pb");
  REQUIRE(doc.ok());
  auto s = settings::Open(*doc);
  REQUIRE(s.ok());
  return s->version();
}

}  // namespace

TEST_CASE("a head-office settings release reaches the tills of the stores it names, and only those",
          "[head-office][settings][integration]") {
  Chain chain;
  Store south(1, "store-1"), north(1, "store-2");
  chain.StartStore(south, "\"south\"", "", /*fog_settings=*/true);
  chain.StartStore(north, "\"north\"", "", /*fog_settings=*/true);
  ImportLocally(south, Csv(1000, 200));
  ImportLocally(north, Csv(1000, 200));
  REQUIRE(WaitTillVersion(south, 1));
  REQUIRE(WaitTillVersion(north, 1));
  REQUIRE(south.tills[0].journal->settings().version() == 1);
  CHECK(SoldLine(south, "SKU-1").tax_rate_bp() == 2000);

  // Release 1, for store-1 alone: tax A at 25% since 2020.
  Ran published = chain.ReleaseSettings(1, ReleaseFile({kA20, kA25}), {"--stores", "store-1"});
  CHECK_THAT(
      published.out,
      Catch::Contains(
          "release 1 (settings, 4 tax entries) on sn/v1/chain/release/settings/store/store-1"));
  REQUIRE(WaitTillSettings(south, 2));
  v1::SaleLine line = SoldLine(south, "SKU-1");
  CHECK(line.tax_rate_bp() == 2500);
  CHECK(line.tax_name() == "Standard");
  CHECK(line.unit_price() == 1000);
  // What the release left out is the store's own.
  CHECK(south.tills[0].journal->settings().name() == "Simulated store");
  CHECK(south.tills[0].journal->settings().store_id() == "store-1");
  CHECK(south.fog->GetStatus().value().settings_version() == 2);
  // The status carries the terms in force (the console's session reads them).
  const v1::StoreSettings in_force = south.fog->GetStatus().value().settings();
  CHECK(in_force.version() == 2);
  CHECK(in_force.tax_rates_size() == 4);
  CHECK(in_force.name() == "Simulated store");
  CHECK(ProvisionedVersion(south) == 2);
  CHECK(SettingsLog(south) == std::vector<std::string>{FromFogToml(south, 1), FromRelease(2, 1)});
  {
    auto db = ReadOnly(south.fog->db_path());
    auto rows = db->Prepare("SELECT kind, release_id, version FROM head_office_releases").value();
    REQUIRE(rows.Step().value());
    CHECK(rows.Text(0) == "settings");
    CHECK(rows.Int(1) == 1);
    CHECK(rows.Int(2) == 2);
    CHECK_FALSE(rows.Step().value());
  }
  // The fog checks the 25% sale against version 2: it is stored, not quarantined.
  REQUIRE(south.WaitSynced());
  CHECK(south.FogQuarantined() == 0);

  // Release 2, for the group north: tax A at 22% since 2020 in store-2 only.
  chain.ReleaseSettings(2, ReleaseFile({kA20, "2020-01-01T00:00 22%"}), {"--groups", "north"});
  REQUIRE(WaitTillSettings(north, 2));
  CHECK(SoldLine(north, "SKU-1").tax_rate_bp() == 2200);
  // Store-1 never saw release 2 (not subscribed), store-2 never saw release 1.
  CHECK(SettingsVersions(south) == 2);
  CHECK(SettingsVersions(north) == 2);
  CHECK(SoldLine(south, "SKU-1").tax_rate_bp() == 2500);
  CHECK(SettingsLog(north) == std::vector<std::string>{FromFogToml(north, 1), FromRelease(2, 2)});
  CHECK(Alerts(south).empty());
  CHECK(Alerts(north).empty());

  SECTION("a release that removes a tax entry or changes the currency is refused, naming it") {
    chain.ReleaseSettings(3, ReleaseFile({kA25}), {"--stores", "store-1"});
    chain.ReleaseSettings(4, ReleaseFile({kA20, kA25}, "USD"), {"--stores", "store-1"});
    REQUIRE(WaitFor([&] { return Alerts(south).size() == 2; }, std::chrono::seconds(20)));
    CHECK(Alerts(south) ==
          std::vector<std::string>{
              "settings not applied: tax A from 1970-01-01T00:00 was edited or removed; a rate "
              "change is a new entry with its effective time, never an edit",
              "settings not applied: currency USD is not the store's EUR; a journal keeps one "
              "currency for life"});
    CHECK_THAT(south.fog->Log(),
               Catch::Contains("head-office release 4 on sn/v1/chain/release/settings/store/"
                               "store-1 refused: settings not applied: currency USD"));
    // Nothing else changed: the versions, the journal, the head-office rows, the tills.
    CHECK(SettingsVersions(south) == 2);
    CHECK(SettingsLog(south).size() == 2);
    CHECK(ReadOnly(south.fog->db_path())
              ->QueryInt("SELECT COUNT(*) FROM head_office_releases")
              .value() == 1);
    CHECK(ProvisionedVersion(south) == 2);
    CHECK(south.tills[0].journal->settings().version() == 2);
    CHECK(SoldLine(south, "SKU-1").tax_rate_bp() == 2500);
    CHECK(south.tills[0].journal->settings().currency() == "EUR");

    // Signed by head office for store-1, but naming store-2 inside: storectl
    // would not send it; the fog refuses it the same.
    v1::HeadOfficeRelease r;
    r.set_release_id(5);
    r.set_kind(v1::RELEASE_SETTINGS);
    r.mutable_target()->add_stores("store-1");
    *r.mutable_settings() = sim::SimStoreSettings("store-2");
    r.mutable_settings()->clear_version();
    TestClient(chain.uri())
        .Publish("sn/v1/chain/release/settings/store/store-1",
                 head_office::Sign(r, crypto::SigningKey::Load(chain.key.path).value())
                     .SerializeAsString(),
                 true);
    REQUIRE(WaitFor([&] { return Alerts(south).size() == 3; }, std::chrono::seconds(20)));
    CHECK(Alerts(south)[2] ==
          "settings not applied: store_id 'store-2' is not this store's ('store-1')");
    CHECK(SettingsVersions(south) == 2);
  }

  SECTION("a tax code a release adds is one the store's catalog imports may use") {
    const std::string deposit =
        std::string(kHeader) + "SKU-3,4000000000035,Bottle,100,D,drinks,1,\n";
    v1::FogRequest req;
    req.mutable_catalog_import()->set_csv(deposit);
    auto refused = south.fog->Ask(req);
    REQUIRE(refused.ok());
    CHECK_FALSE(refused->ok());
    CHECK_THAT(refused->error(), Catch::EndsWith("line 2: unknown tax code 'D'"));
    chain.ReleaseSettings(
        3,
        ReleaseFile({kA20, kA25}) +
            "\n[store.tax.D]\nname = \"Deposit\"\nrates = [\"2000-01-01T00:00 10%\"]\n",
        {"--stores", "store-1"});
    REQUIRE(WaitTillSettings(south, 3));
    ImportLocally(south, deposit);
    REQUIRE(WaitTillVersion(south, 2));
    v1::SaleLine bottle = SoldLine(south, "SKU-3");
    CHECK(bottle.tax_rate_bp() == 1000);
    CHECK(bottle.tax_name() == "Deposit");
    CHECK(SoldLine(south, "SKU-1").tax_rate_bp() == 2500);
  }

  SECTION("an older settings release id is ignored, and a restart takes nothing twice") {
    chain.ReleaseSettings(1, ReleaseFile({kA20, "2020-01-01T00:00 30%"}), {"--stores", "store-1"});
    REQUIRE(WaitForLog(south,
                       "ignored head-office settings release 1: release 1 is "
                       "applied already",
                       std::chrono::seconds(20)));
    CHECK(SettingsVersions(south) == 2);
    CHECK(SoldLine(south, "SKU-1").tax_rate_bp() == 2500);
    REQUIRE(south.fog->Stop() == 0);
    REQUIRE(south.fog->Start().ok());
    REQUIRE(WaitFor(
        [&] { return Count(south.fog->Log(), "ignored head-office settings release 1") >= 2; },
        std::chrono::seconds(20)));
    CHECK(SettingsVersions(south) == 2);
    CHECK(SettingsLog(south).size() == 2);
    CHECK(Alerts(south).empty());
  }
}

TEST_CASE(
    "the newest store settings win across restarts: a release after a fog.toml change, "
    "and a fog.toml change after a release",
    "[head-office][settings][integration]") {
  Chain chain;
  Store store(1, "store-1");
  store.fog->store_config = FogStoreTerms({kA20});
  chain.StartStore(store, "\"south\"", "", /*fog_settings=*/true);
  ImportLocally(store, Csv(1000, 200));
  REQUIRE(WaitTillVersion(store, 1));
  CHECK(SoldLine(store, "SKU-1").tax_rate_bp() == 2000);
  auto restart = [&] {
    REQUIRE(store.fog->Stop() == 0);
    REQUIRE(store.fog->Start().ok());
  };

  // fog.toml changes: version 2, 22% since 2019.
  store.fog->store_config = FogStoreTerms({kA20, "2019-01-01T00:00 22%"});
  restart();
  REQUIRE(WaitTillSettings(store, 2));
  CHECK(SoldLine(store, "SKU-1").tax_rate_bp() == 2200);

  // A release after it wins: version 3, 25% since 2020 ...
  chain.ReleaseSettings(1, ReleaseFile({kA20, "2019-01-01T00:00 22%", kA25}),
                        {"--stores", "store-1"});
  REQUIRE(WaitTillSettings(store, 3));
  CHECK(SoldLine(store, "SKU-1").tax_rate_bp() == 2500);
  // ... and stays across a restart: fog.toml has not changed since version 2.
  restart();
  CHECK(store.fog->GetStatus().value().settings_version() == 3);
  CHECK(SettingsVersions(store) == 3);
  CHECK(ProvisionedVersion(store) == 3);
  CHECK(SoldLine(store, "SKU-1").tax_rate_bp() == 2500);

  // A fog.toml change after the release is the next version: 23% since 2021 ...
  store.fog->store_config =
      FogStoreTerms({kA20, "2019-01-01T00:00 22%", kA25, "2021-01-01T00:00 23%"});
  restart();
  REQUIRE(WaitTillSettings(store, 4));
  CHECK(SoldLine(store, "SKU-1").tax_rate_bp() == 2300);
  // ... and a restart without a change issues nothing.
  restart();
  CHECK(SettingsVersions(store) == 4);
  CHECK(store.tills[0].journal->settings().version() == 4);
  CHECK(SettingsLog(store) == std::vector<std::string>{FromFogToml(store, 1), FromFogToml(store, 2),
                                                       FromRelease(3, 1), FromFogToml(store, 4)});

  // A fog.toml that drops head office's entry cannot be the next version:
  // the fog refuses to start, naming it, and issues nothing.
  REQUIRE(store.fog->Stop() == 0);
  store.fog->store_config = FogStoreTerms({kA20, "2019-01-01T00:00 22%", "2021-01-01T00:00 23%"});
  store.fog->crash_at = "not-a-crash-point";  // Start() does not wait for an answer
  REQUIRE(store.fog->Start().ok());
  CHECK(store.fog->Wait() == 2);
  CHECK_THAT(store.fog->Log(),
             Catch::Contains("[store]: tax A from 2020-01-01T00:00 was edited or removed"));
  CHECK(SettingsVersions(store) == 4);
}

TEST_CASE(
    "a fog SIGKILLed just before or after it commits a settings release holds the version once",
    "[head-office][settings][integration]") {
  const std::string crash =
      GENERATE("settings-release-before-commit", "settings-release-after-commit");
  INFO(crash);
  Chain chain;
  Store store(1, "store-1");
  chain.StartStore(store, "\"south\"", "", /*fog_settings=*/true);
  ImportLocally(store, Csv(1000, 200));
  REQUIRE(WaitTillVersion(store, 1));
  RestartToCrashAt(store, crash);

  chain.ReleaseSettings(7, ReleaseFile({kA20, kA25}), {"--groups", "south"});
  CHECK(store.fog->Wait() == -SIGKILL);
  CHECK(SettingsVersions(store) ==
        (crash == std::string("settings-release-before-commit") ? 1 : 2));

  // Restarted: the retained release comes again; applied now if it was not.
  REQUIRE(store.fog->Start().ok());
  REQUIRE(WaitTillSettings(store, 2));
  std::this_thread::sleep_for(std::chrono::seconds(1));
  CHECK(SettingsVersions(store) == 2);
  CHECK(SettingsLog(store) == std::vector<std::string>{FromFogToml(store, 1), FromRelease(2, 7)});
  auto db = ReadOnly(store.fog->db_path());
  CHECK(db->QueryInt("SELECT COUNT(*) FROM head_office_releases WHERE kind = 'settings'").value() ==
        1);
  CHECK(ProvisionedVersion(store) == 2);
  CHECK(SoldLine(store, "SKU-1").tax_rate_bp() == 2500);
}

TEST_CASE(
    "head-office settings releases past the per-minute limit wait and are not applied at once",
    "[head-office][settings][integration]") {
  Chain chain;
  Store store(1, "store-1");
  chain.StartStore(store, "\"south\"", "releases_per_minute = 1\n", /*fog_settings=*/true);
  chain.ReleaseSettings(1, ReleaseFile({kA20, kA25}), {"--all"});
  REQUIRE(WaitTillSettings(store, 2));
  chain.ReleaseSettings(2, ReleaseFile({kA20, kA25, "2021-01-01T00:00 23%"}),
                        {"--stores", "store-1"});
  REQUIRE(WaitForLog(store,
                     "head-office settings release 2 waits: 1 applied in the "
                     "last minute (limit 1)",
                     std::chrono::seconds(20)));
  std::this_thread::sleep_for(std::chrono::seconds(2));
  CHECK(SettingsVersions(store) == 2);
  CHECK(store.tills[0].journal->settings().version() == 2);
}

TEST_CASE(
    "storectl chain release settings reads [store] as the fog does, and refuses what it cannot "
    "send",
    "[head-office][settings][storectl]") {
  const std::string dir = MakeTempDir("release-settings");
  // The same terms from a release file and from a fog.toml's [store].
  const std::string release = dir + "/release.toml";
  std::ofstream(release) << ReleaseFile({kA20, kA25});
  auto terms = fog::LoadStoreTermsFile(release);
  INFO(terms.status().ToString());
  REQUIRE(terms.ok());
  CHECK(terms->store_id().empty());
  CHECK(terms->name().empty());
  CHECK(terms->currency() == "EUR");
  REQUIRE(terms->tax_rates_size() == 4);
  CHECK(terms->tax_rates(1).rate_bp() == 2500);
  CHECK(terms->tax_rates(1).effective_from_us() == 1577836800000000);  // 2020-01-01 UTC

  HeadOfficeKey key = Keygen(dir, "head-office");
  auto run = [&](const std::string& file, std::vector<std::string> targets) {
    std::vector<std::string> args = {"chain",    "release",          "settings", file,
                                     "--key",    key.path,           "--id",     "1",
                                     "--broker", "tcp://127.0.0.1:1"};
    args.insert(args.end(), targets.begin(), targets.end());
    return RunTool(dir, "storectl", args);
  };
  const std::string typo = dir + "/typo.toml";
  std::ofstream(typo) << ReleaseFile({kA20}) << "curency = \"EUR\"\n";
  Ran r = run(typo, {"--all"});
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("curency"));
  const std::string bad_rate = dir + "/bad-rate.toml";
  std::ofstream(bad_rate) << ReleaseFile({"2020-01-01T00:00 twenty"});
  r = run(bad_rate, {"--all"});
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("key 'store.tax.A.rates': rate 'twenty' is not a percentage"));
  const std::string one_store = dir + "/one-store.toml";
  std::ofstream(one_store) << "[store]\nid = \"store-2\"\n" << StoreTerms({kA20});
  r = run(one_store, {"--groups", "north"});
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("store.id 'store-2' names one store: release it with "
                                    "--stores store-2 alone"));
  r = run(release, {});
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("name the release's targets"));
}

TEST_CASE("settings::CheckNext: the same store, the same currency, tax entries only added",
          "[settings]") {
  v1::StoreSettings before = sim::SimStoreSettings("store-1");
  v1::StoreSettings after = before;
  after.set_version(2);
  CHECK(settings::CheckNext(before, after).ok());
  after.set_store_id("store-2");
  CHECK(settings::CheckNext(before, after).message() ==
        "store_id 'store-2' is not this store's ('store-1')");
  after.set_store_id("store-1");
  after.set_currency("USD");
  CHECK(settings::CheckNext(before, after).message() ==
        "currency USD is not the store's EUR; a journal keeps one currency for life");
  after.set_currency("EUR");
  after.mutable_tax_rates()->RemoveLast();
  CHECK(settings::CheckNext(before, after).message() ==
        "tax C from 1970-01-01T00:00 was edited or removed; a rate change is a new entry with its "
        "effective time, never an edit");
}

TEST_CASE(
    "a fog.db from before settings_fog_toml issues nothing at start, and then tracks fog.toml",
    "[settings][integration]") {
  Store store(1);
  REQUIRE(store.fog->Start().ok());
  REQUIRE(store.fog->Stop() == 0);
  auto marker = [&] {
    return ReadOnly(store.fog->db_path())
        ->QueryInt("SELECT version FROM settings_fog_toml")
        .value();
  };
  CHECK(marker() == 1);
  REQUIRE(
      sql::Db::Open(store.fog->db_path(), {}).value()->Exec("DROP TABLE settings_fog_toml").ok());

  // The newest version is fog.toml's, the same terms: nothing is issued,
  // the terms are remembered.
  REQUIRE(store.fog->Start().ok());
  CHECK(SettingsVersions(store) == 1);
  CHECK(marker() == 1);
  REQUIRE(store.fog->Stop() == 0);
  store.fog->store_config = FogStoreTerms({kA20, "2019-01-01T00:00 22%"});
  REQUIRE(store.fog->Start().ok());
  CHECK(SettingsVersions(store) == 2);
  CHECK(marker() == 2);
  CHECK(SettingsLog(store) ==
        std::vector<std::string>{FromFogToml(store, 1), FromFogToml(store, 2)});
}
