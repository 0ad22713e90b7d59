// Hardening of the fog's request topics (issue 12): requests cannot be
// amplified (item 5), and the actor of an action is always the authenticated
// identity, within its role (item 8). Real mosquitto (with TLS and client
// certificates for item 8), real fogd, real SQLite files.
#include <google/protobuf/util/json_util.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <thread>

#include "fog/src/access.h"
#include "sim/sim.h"
#include "storenode/common/clock.h"
#include "storenode/common/config.h"
#include "storenode/common/mqtt.h"
#include "storenode/common/sqlite.h"
#include "storenode/common/till_registry.h"
#include "storenode/common/topics.h"
#include "storenode/fog/client.h"
#include "storenode/fog/fog.h"
#include "storenode/schemas/catalog.pb.h"
#include "support/client.h"
#include "support/console.h"
#include "support/run.h"
#include "support/store.h"
#include "support/tls_store.h"

using namespace storenode;
using namespace storenode::testing;

namespace {

constexpr int64_t kMaxRssKb = 200 * 1024;

// A catalog file of `n` items priced base + i.
std::string CatalogCsv(int n, int64_t base) {
  std::string csv = "sku,barcodes,name,price,tax_code,department,active,effective_from\n";
  for (int i = 0; i < n; ++i) {
    char sku[32], code[32];
    std::snprintf(sku, sizeof sku, "SKU-%06d", i);
    std::snprintf(code, sizeof code, "400%010d", i);
    csv += std::string(sku) + "," + code + ",Item number " + std::to_string(i) + "," +
           std::to_string(base + i) + "," + "ABC"[i % 3] + ",dept-" + std::to_string(i % 7) +
           ",1,\n";
  }
  return csv;
}

v1::FogRequest ImportRequest(const std::string& csv) {
  v1::FogRequest r;
  r.mutable_catalog_import()->set_csv(csv);
  r.mutable_catalog_import()->set_file_name("items.csv");
  return r;
}

v1::CatalogImportResponse Import(FogProcess& fog, const std::string& csv) {
  auto r = fog.Ask(ImportRequest(csv));
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  INFO(r->error());
  REQUIRE(r->ok());
  return r->catalog_import();
}

// One sample of /metrics, e.g. Metric(cs, "storenode_fog_requests_refused_total"
// "{topic=\"catalog_req\",reason=\"rate\"}"); -1 when absent.
double Metric(const ConsoleStore& cs, const std::string& series) {
  auto r = cs.Client()->Get("/metrics");
  if (!r || r->status != 200) return -1;
  for (const std::string& line : Lines(r->body)) {
    if (line.starts_with(series + " ")) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

std::string Refused(const std::string& topic, const std::string& reason) {
  return "storenode_fog_requests_refused_total{topic=\"" + topic + "\",reason=\"" + reason + "\"}";
}

// After `sent` requests on `topic` from `sender` since `started`, with a
// burst of 5 and 60 per minute: the burst and one a second after it are
// answered (`answered()` counts them), every other one is counted as
// refused for its rate, and the refusal is logged.
void RequireRateLimited(const ConsoleStore& cs, const std::string& topic, const std::string& sender,
                        int sent, std::chrono::steady_clock::time_point started,
                        const std::function<double()>& answered) {
  REQUIRE(WaitFor([&] { return Metric(cs, Refused(topic, "rate")) + answered() >= sent; },
                  std::chrono::seconds(60)));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  INFO("answered " << answered() << " in " << seconds << " s");
  CHECK(answered() >= 5);
  CHECK(answered() <= 5 + seconds + 1);
  CHECK(Metric(cs, Refused(topic, "rate")) == sent - answered());
  CHECK_THAT(cs.store.fog->Log(), Catch::Contains(topic + ": rate limit for " + sender));
}

// A fetch as a till without a catalog sends it: three bytes.
std::string EmptyFetch() {
  v1::CatalogFetch f;
  f.set_device_id("x");
  return f.SerializeAsString();
}

// Every row of the tables an action can change, as text.
std::string ActionState(const std::string& db_path) {
  sql::OpenOptions ro;
  ro.read_only = true;
  auto db = sql::Db::Open(db_path, ro).value();
  std::string out;
  for (const char* q : {"SELECT seq || '|' || manager || '|' || kind || '|' || detail FROM actions",
                        "SELECT version || '|' || manager FROM catalog_versions",
                        "SELECT sku || '|' || version || '|' || hex(digest) FROM catalog_items",
                        "SELECT barcode || '|' || sku FROM catalog_barcodes"}) {
    auto stmt = db->Prepare(std::string(q) + " ORDER BY 1").value();
    while (stmt.Step().value()) out += stmt.Text(0) + "\n";
    out += "--\n";
  }
  return out;
}

// Chunks received on a till's catalog topic, by (from, to) of their answer;
// each answer counts once (its chunk 0).
std::map<std::pair<uint64_t, uint64_t>, int> Answers(TestClient& spy, const std::string& topic) {
  std::map<std::pair<uint64_t, uint64_t>, int> out;
  for (const mqtt::Message& m : spy.Received(topic)) {
    v1::CatalogChunk c;
    REQUIRE(c.ParseFromString(m.payload));
    if (c.index() == 0) ++out[{c.from_version(), c.to_version()}];
  }
  return out;
}

}  // namespace

TEST_CASE("requests can be amplified: 5,000 catalog fetches of an unknown device get no answer",
          "[hardening-requests][integration]") {
  ConsoleStore cs(1);
  Import(*cs.store.fog, CatalogCsv(5000, 100));
  const std::string ghost_answers = topics::Device(cs.store.store_id, "ghost", "catalog");
  TestClient spy(cs.store.broker.uri(), {ghost_answers});
  TestClient flood(cs.store.broker.uri());
  const std::string fetch = EmptyFetch();
  REQUIRE(fetch.size() == 3);
  for (int i = 0; i < 5000; ++i) {
    flood.Publish(topics::Device(cs.store.store_id, "ghost", "catalog_req"), fetch);
  }
  REQUIRE(WaitFor([&] { return Metric(cs, Refused("catalog_req", "unknown_device")) >= 5000; },
                  std::chrono::seconds(60)));
  CHECK(Metric(cs, Refused("catalog_req", "unknown_device")) == 5000);
  // Nothing built for it, nothing sent: the rate limit never came into it.
  CHECK(Metric(cs, Refused("catalog_req", "rate")) == 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  CHECK(spy.Received(ghost_answers).empty());
  // One line for the lot, not one per fetch.
  const std::string log = cs.store.fog->Log();
  CHECK_THAT(log, Catch::Contains("catalog_req: refused 1 request(s) (unknown_device) since the "
                                  "last line, the last from ghost"));
  size_t lines = 0;
  for (const std::string& line : Lines(log)) lines += line.find("(unknown_device)") != line.npos;
  CHECK(lines <= 2);  // the test takes less than two minutes
  const int64_t rss = PeakRss(cs.store.fog->pid()) / 1024;
  INFO("fog peak RSS " << rss << " KiB");
  REQUIRE(rss > 0);
  REQUIRE(rss <= kMaxRssKb);
  // A till the fog knows still gets the catalog.
  cs.store.OpenTill(0);
  REQUIRE(WaitFor([&] { return cs.store.tills[0].journal->catalog().version() == 1; },
                  std::chrono::seconds(30)));
}

TEST_CASE("requests can be amplified: a revoked till's catalog fetches get no answer",
          "[hardening-requests][integration]") {
  ConsoleStore cs(1);
  TillRegistry registry;
  registry.store_id = cs.store.store_id;
  registry.tills["till-1"] = RegisteredIdentity{};
  registry.tills["till-9"].revoked = true;
  registry.tills["till-9"].revoked_at_s = 1767225600;
  REQUIRE(registry.Save(cs.store.fog->data_dir() + "/tills.toml").ok());
  Import(*cs.store.fog, CatalogCsv(100, 100));
  const std::string answers = topics::Device(cs.store.store_id, "till-9", "catalog");
  TestClient spy(cs.store.broker.uri(), {answers});
  TestClient flood(cs.store.broker.uri());
  for (int i = 0; i < 200; ++i) {
    flood.Publish(topics::Device(cs.store.store_id, "till-9", "catalog_req"), EmptyFetch());
  }
  REQUIRE(WaitFor([&] { return Metric(cs, Refused("catalog_req", "revoked")) >= 200; },
                  std::chrono::seconds(30)));
  CHECK(Metric(cs, Refused("catalog_req", "revoked")) == 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  CHECK(spy.Received(answers).empty());
}

TEST_CASE(
    "requests can be amplified: 1,000 fetches of a known till get one answer per version and "
    "interval, and the till applies the catalog",
    "[hardening-requests][integration]") {
  // An interval longer than the test, and no rate limit to speak of: every
  // repeat is coalesced, none refused for its rate.
  ConsoleStore cs(1, "",
                  "\n[requests]\ncatalog_answer_interval_ms = 600000\n"
                  "catalog_per_minute = 60000\ncatalog_burst = 10000\n");
  const std::string answers = topics::Device(cs.store.store_id, "till-1", "catalog");
  const std::string fetches = topics::Device(cs.store.store_id, "till-1", "catalog_req");
  TestClient spy(cs.store.broker.uri(), {answers});
  TestClient flood(cs.store.broker.uri());
  Import(*cs.store.fog, CatalogCsv(2000, 100));
  cs.store.OpenTill(0);
  edge::Journal& till = *cs.store.tills[0].journal;
  REQUIRE(WaitFor([&] { return till.catalog().version() == 1; }, std::chrono::seconds(30)));

  // 1,000 fetches "I have nothing": the till's own one was that, answered.
  for (int i = 0; i < 1000; ++i) flood.Publish(fetches, EmptyFetch());
  auto refused = [&] { return Metric(cs, Refused("catalog_req", "coalesced")); };
  REQUIRE(WaitFor([&] { return refused() >= 1000; }, std::chrono::seconds(30)));
  CHECK(refused() == 1000);

  // A new version is answered at once: the till's delta from 1, then one
  // snapshot for the next 1,000 fetches from 0.
  const v1::CatalogImportResponse v2 = Import(*cs.store.fog, CatalogCsv(10, 500));
  REQUIRE(v2.version() == 2);
  REQUIRE(WaitFor([&] { return till.catalog().version() == 2; }, std::chrono::seconds(30)));
  for (int i = 0; i < 1000; ++i) flood.Publish(fetches, EmptyFetch());
  REQUIRE(WaitFor([&] { return refused() >= 1999; }, std::chrono::seconds(30)));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  CHECK(refused() == 1999);
  CHECK(Metric(cs, Refused("catalog_req", "rate")) == 0);
  const std::map<std::pair<uint64_t, uint64_t>, int> expected{
      {{0, 1}, 1}, {{1, 2}, 1}, {{0, 2}, 1}};
  const auto got = Answers(spy, answers);
  for (const auto& [key, n] : got) UNSCOPED_INFO(key.first << "->" << key.second << ": " << n);
  CHECK(got == expected);
  // Applied correctly: the fog's content, the new prices.
  CHECK(till.catalog().ComputeContentHash().value() == v2.content_hash());
  CHECK(till.catalog().item_count() == 2000);
  const int64_t rss = PeakRss(cs.store.fog->pid()) / 1024;
  INFO("fog peak RSS " << rss << " KiB");
  REQUIRE(rss <= kMaxRssKb);
}

TEST_CASE("requests can be amplified: a known till's fetches beyond its rate are refused",
          "[hardening-requests][integration]") {
  // No coalescing: only the rate limit stands between the flood and the
  // snapshots.
  ConsoleStore cs(1, "",
                  "\n[requests]\ncatalog_answer_interval_ms = 0\n"
                  "catalog_per_minute = 60\ncatalog_burst = 5\n");
  const std::string answers = topics::Device(cs.store.store_id, "till-1", "catalog");
  TestClient spy(cs.store.broker.uri(), {answers});
  TestClient flood(cs.store.broker.uri());
  Import(*cs.store.fog, CatalogCsv(500, 100));
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 300; ++i) {
    flood.Publish(topics::Device(cs.store.store_id, "till-1", "catalog_req"), EmptyFetch());
  }
  RequireRateLimited(cs, "catalog_req", "till-1", 300, started, [&] {
    return static_cast<double>(Answers(spy, answers)[{0, 1}]);
  });
}

TEST_CASE(
    "requests can be amplified: a fog/req flood is limited per sender, counted, and another "
    "sender is still answered",
    "[hardening-requests][integration]") {
  ConsoleStore cs(1, "", "\n[requests]\nfog_req_per_minute = 60\nfog_req_burst = 5\n");
  const std::string replies = topics::Reply(cs.store.store_id, "flooder", "x");
  TestClient flooder(cs.store.broker.uri(), {replies});
  v1::FogRequest status;
  status.mutable_status();
  mqtt::Message m;
  m.topic = topics::FogRequest(cs.store.store_id, "flooder");
  m.payload = status.SerializeAsString();
  m.response_topic = replies;
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 2000; ++i) {
    m.correlation_data = std::to_string(i);
    flooder.Publish(m);
  }
  RequireRateLimited(cs, "fog_req", "flooder", 2000, started,
                     [&] { return static_cast<double>(flooder.Received(replies).size()); });
  // Somebody else is answered at once.
  auto other = cs.store.fog->GetStatus();
  INFO(other.status().ToString());
  REQUIRE(other.ok());
  const int64_t rss = PeakRss(cs.store.fog->pid()) / 1024;
  INFO("fog peak RSS " << rss << " KiB");
  REQUIRE(rss <= kMaxRssKb);
}

namespace {

// anna is a supervisor, bob a manager; nobody else may ask anything.
constexpr char kTlsRoles[] = "supervisor = [\"anna\"]\nmanager = [\"bob\"]\ndefault = \"none\"\n";

struct RolesStore {
  TlsStore s;
  std::string csv_path = s.dir + "/items.csv";
  RolesStore() {
    Storectl(s.dir,
             {"provision", "manager", "--name", "bob", "--ca", s.pki, "--out", s.dir + "/bob"});
    std::ofstream(csv_path) << CatalogCsv(50, 100);
    s.StartBroker();
    s.StartFog(kTlsRoles);
  }
  FogClientOptions As(const std::string& manager) const {
    FogClientOptions o = s.fog->client_options();
    o.cert_file = s.dir + "/" + manager + "/manager.crt";
    o.key_file = s.dir + "/" + manager + "/manager.key";
    return o;
  }
  Ran StorectlAs(const std::string& manager, std::vector<std::string> args) const {
    args.insert(args.end(), {"--store", kTlsStoreId, "--broker", s.broker.tls_uri(), "--ca",
                             s.pki + "/ca/ca.crt", "--cert", s.dir + "/" + manager + "/manager.crt",
                             "--key", s.dir + "/" + manager + "/manager.key", "--timeout", "15"});
    return RunTool(s.dir, "storectl", args);
  }
  int64_t Actions(const std::string& where) const {
    return QueryInt(s.fog->db_path(), "SELECT COUNT(*) FROM actions WHERE " + where);
  }
};

}  // namespace

TEST_CASE("the actor of an action can be claimed: the journal names the certificate's identity",
          "[hardening-requests][integration][tls]") {
  RolesStore r;
  // storectl with anna's certificate will not ask as bob.
  Ran claimed = r.StorectlAs("anna", {"catalog", "import", r.csv_path, "--manager", "bob"});
  INFO(claimed.out << claimed.err);
  REQUIRE(claimed.code == 2);
  REQUIRE_THAT(claimed.err, Catch::Contains("is anna's, not bob's"));
  REQUIRE(QueryInt(r.s.fog->db_path(), "SELECT COUNT(*) FROM catalog_versions") == 0);

  // A request that names bob inside, sent with anna's certificate, is anna's.
  v1::FogRequest request = ImportRequest(CatalogCsv(50, 100));
  request.set_manager("bob");
  auto answer = AskFog(r.As("anna"), request);
  REQUIRE(answer.ok());
  INFO(answer->error());
  REQUIRE(answer->ok());
  REQUIRE(answer->catalog_import().version() == 1);

  // Nor can anna's certificate publish on bob's request topic: the broker
  // refuses it and the fog never sees it.
  mqtt::Options o;
  o.uri = r.s.broker.tls_uri();
  o.ca_file = r.s.pki + "/ca/ca.crt";
  o.cert_file = r.s.dir + "/anna/manager.crt";
  o.key_file = r.s.dir + "/anna/manager.key";
  auto impostor = mqtt::Client::Create(o);
  impostor->Start();
  REQUIRE(WaitFor([&] { return impostor->connected(); }, std::chrono::seconds(10)));
  mqtt::Message m;
  m.topic = topics::FogRequest(kTlsStoreId, "bob");
  m.payload = ImportRequest(CatalogCsv(60, 100)).SerializeAsString();
  m.response_topic = topics::Reply(kTlsStoreId, "anna", "x");
  Status denied = mqtt::PublishAndWait(*impostor, m, std::chrono::seconds(5));
  REQUIRE_THAT(denied.message(), Catch::Contains("Not authorized"));
  impostor->Stop();

  // storectl with anna's certificate and no --manager: anna imports.
  std::ofstream(r.csv_path) << CatalogCsv(70, 100);
  Ran imported = r.StorectlAs("anna", {"catalog", "import", r.csv_path});
  INFO(imported.out << imported.err);
  REQUIRE(imported.code == 0);
  REQUIRE(r.Actions("kind = 'catalog-import' AND manager = 'anna'") == 2);
  REQUIRE(r.Actions("manager <> 'anna' AND kind <> 'settings'") == 0);
  REQUIRE(QueryInt(r.s.fog->db_path(),
                   "SELECT COUNT(*) FROM catalog_versions WHERE manager = 'anna'") == 2);
  REQUIRE(QueryInt(r.s.fog->db_path(), "SELECT COUNT(*) FROM catalog_versions") == 2);
}

TEST_CASE(
    "the actor of an action can be claimed: a manager-role identity cannot import a catalog nor "
    "accept a device, and nothing changes",
    "[hardening-requests][integration][tls]") {
  RolesStore r;
  REQUIRE(AskFog(r.As("anna"), ImportRequest(CatalogCsv(50, 100))).value().ok());
  const std::string before = ActionState(r.s.fog->db_path());

  auto refused = AskFog(r.As("bob"), ImportRequest(CatalogCsv(80, 300)));
  REQUIRE(refused.ok());
  REQUIRE_FALSE(refused->ok());
  REQUIRE(refused->error() ==
          "bob (role manager) may not import a catalog: that needs the supervisor role ([roles] "
          "in fog.toml)");
  v1::FogRequest accept;
  accept.mutable_device_accept()->set_device_id("till-1");
  auto not_accepted = AskFog(r.As("bob"), accept);
  REQUIRE(not_accepted.ok());
  REQUIRE(not_accepted->error() ==
          "bob (role manager) may not accept a replacement journal: that needs the supervisor "
          "role ([roles] in fog.toml)");
  REQUIRE(ActionState(r.s.fog->db_path()) == before);
  const std::string log = r.s.fog->Log();
  REQUIRE_THAT(log, Catch::Contains("request of bob refused: bob (role manager) may not import a "
                                    "catalog"));
  REQUIRE_THAT(log, Catch::Contains("request of bob refused: bob (role manager) may not accept a "
                                    "replacement journal"));

  // What a manager may do, bob does, in his own name.
  v1::FogRequest close;
  close.mutable_closedown()->set_business_day(DayOf(SystemClock::Default()->NowMicros()));
  close.set_manager("anna");
  auto closed = AskFog(r.As("bob"), close);
  REQUIRE(closed.ok());
  INFO(closed->error());
  REQUIRE(closed->ok());
  REQUIRE(r.Actions("kind = 'closedown-request' AND manager = 'bob'") == 1);
  REQUIRE(r.Actions("kind = 'closedown-request' AND manager <> 'bob'") == 0);
  v1::FogRequest versions;
  versions.mutable_catalog_versions();
  auto listed = AskFog(r.As("bob"), versions);
  REQUIRE(listed.ok());
  REQUIRE(listed->ok());
  REQUIRE(listed->catalog_versions().versions_size() == 1);
  REQUIRE(listed->catalog_versions().versions(0).manager() == "anna");
}

namespace {

std::pair<int, v1::FogResponse> ConsoleAsk(httplib::Client& c, const ConsoleSession& s,
                                           const std::string& json) {
  auto r = c.Post("/api/request", s.Headers(), json, "application/json");
  REQUIRE(r);
  v1::FogResponse response;
  INFO(r->body);
  REQUIRE(google::protobuf::util::JsonStringToMessage(r->body, &response).ok());
  return {r->status, response};
}

std::string ConsoleJson(v1::FogRequest request, const std::string& claimed_manager) {
  request.set_manager(claimed_manager);
  std::string out;
  REQUIRE(google::protobuf::util::MessageToJsonString(request, &out).ok());
  REQUIRE_THAT(out, Catch::Contains("\"manager\":\"" + claimed_manager + "\""));
  return out;
}

}  // namespace

TEST_CASE(
    "the actor of an action can be claimed: the console records its session's manager, within "
    "that manager's role",
    "[hardening-requests][integration]") {
  // The harness itself asks as "test"; the console's manager is alice.
  ConsoleStore cs(1);
  FogProcess& fog = *cs.store.fog;
  auto restart_with_roles = [&](const std::string& roles) {
    REQUIRE(fog.Stop() == 0);
    fog.roles_config = roles;
    Status s = fog.Start();
    INFO(s.ToString() << fog.Log());
    REQUIRE(s.ok());
  };
  restart_with_roles("supervisor = [\"test\", \"alice\"]\ndefault = \"none\"\n");
  auto c = cs.Client();
  {
    ConsoleSession session = ConsoleLogin(*c);
    auto [code, imported] =
        ConsoleAsk(*c, session, ConsoleJson(ImportRequest(CatalogCsv(20, 1)), "mallory"));
    REQUIRE(code == 200);
    REQUIRE(imported.catalog_import().version() == 1);
  }
  const int64_t by_alice =
      QueryInt(fog.db_path(),
               "SELECT COUNT(*) FROM actions WHERE manager = 'alice' AND kind = "
               "'catalog-import'");
  REQUIRE(by_alice == 1);
  REQUIRE(QueryInt(
              fog.db_path(),
              "SELECT COUNT(*) FROM actions WHERE manager <> 'alice' AND kind <> 'settings'") == 0);

  // alice as a manager: the console refuses her import with the reason.
  restart_with_roles("supervisor = [\"test\"]\nmanager = [\"alice\"]\ndefault = \"none\"\n");
  ConsoleSession session = ConsoleLogin(*c);
  const std::string before = ActionState(fog.db_path());
  auto [code, refused] =
      ConsoleAsk(*c, session, ConsoleJson(ImportRequest(CatalogCsv(30, 2)), "test"));
  REQUIRE(code == 422);
  REQUIRE(refused.error() ==
          "alice (role manager) may not import a catalog: that needs the supervisor role "
          "([roles] in fog.toml)");
  REQUIRE(ActionState(fog.db_path()) == before);
  v1::FogRequest close;
  close.mutable_closedown()->set_business_day(DayOf(SystemClock::Default()->NowMicros()));
  auto [close_code, closed] = ConsoleAsk(*c, session, ConsoleJson(close, "mallory"));
  INFO(closed.error());
  REQUIRE(close_code == 200);
  REQUIRE(QueryInt(fog.db_path(),
                   "SELECT COUNT(*) FROM actions WHERE kind = 'closedown-request' "
                   "AND manager = 'alice'") == 1);
  REQUIRE(QueryInt(fog.db_path(), "SELECT COUNT(*) FROM actions WHERE manager = 'mallory'") == 0);
}

TEST_CASE("the actor of an action can be claimed: each role may do exactly its actions",
          "[hardening-requests]") {
  fog::RolesConfig roles;
  roles.supervisors = {"anna"};
  roles.managers = {"bob"};
  roles.default_role = "none";
  auto request = [](auto set) {
    v1::FogRequest r;
    set(r);
    return r;
  };
  const std::vector<std::pair<v1::FogRequest, bool>> kinds{
      // (request, needs a supervisor)
      {request([](auto& r) { r.mutable_status(); }), false},
      {request([](auto& r) { r.mutable_report(); }), false},
      {request([](auto& r) { r.mutable_closedown(); }), false},
      {request([](auto& r) { r.mutable_catalog_show(); }), false},
      {request([](auto& r) { r.mutable_catalog_versions(); }), false},
      {request([](auto& r) { r.mutable_catalog_import(); }), true},
      {request([](auto& r) { r.mutable_device_accept(); }), true},
      {request([](auto& r) { r.mutable_stock_receive(); }), false},
      {request([](auto& r) { r.mutable_stock_count(); }), false},
      {request([](auto& r) { r.mutable_stock_adjust(); }), false},
      {request([](auto& r) { r.mutable_stock_order(); }), false},
      {request([](auto& r) { r.mutable_stock_show(); }), false},
      {request([](auto& r) { r.mutable_reorder(); }), false},
  };
  for (const auto& [r, supervisor_only] : kinds) {
    INFO(r.ShortDebugString());
    CHECK(fog::Refusal(roles, "anna", r).empty());
    CHECK(fog::Refusal(roles, "bob", r).empty() == !supervisor_only);
    CHECK_THAT(fog::Refusal(roles, "zoe", r), Catch::StartsWith("zoe (role none) may not "));
  }
}

TEST_CASE("roles and request limits are read from fog.toml, a wrong value stops the fog",
          "[hardening-requests][config]") {
  // The shipped configs' sections (the whole file names /etc paths).
  auto read = [](const std::string& file, fog::RolesConfig* roles, fog::RequestLimits* limits) {
    auto r = ConfigReader::Open(std::string(SN_SOURCE_DIR) + "/firmware-configs/" + file);
    REQUIRE(r.ok());
    Status s = fog::ReadAccessConfig(*r, roles, limits);
    INFO(s.ToString());
    REQUIRE(s.ok());
  };
  fog::RolesConfig roles, dev_roles;
  fog::RequestLimits limits, dev_limits;
  read("fog.toml", &roles, &limits);
  CHECK(fog::RoleOf(roles, "anna") == fog::Role::kSupervisor);
  CHECK(fog::RoleOf(roles, "bob") == fog::Role::kManager);
  CHECK(fog::RoleOf(roles, "someone") == fog::Role::kManager);
  CHECK(limits.catalog_per_minute == 60);
  CHECK(limits.catalog_answer_interval_ms == 5000);
  CHECK(limits.fog_req_burst == 50);
  read("fog-dev.toml", &dev_roles, &dev_limits);
  CHECK(fog::RoleOf(dev_roles, "whoever") == fog::Role::kSupervisor);

  const std::string dir = MakeTempDir("roles");
  auto load = [&](const std::string& extra) {
    const std::string path = dir + "/fog.toml";
    std::ofstream(path) << "[store]\nid = \"s\"\n"
                        << sim::SimStoreConfig() << "\n[broker]\nuri = \"tcp://127.0.0.1:1\"\n"
                        << "insecure = true\n[data]\ndir = \"" << dir << "\"\n"
                        << extra;
    return fog::LoadConfig(path).status().message();
  };
  CHECK(load("") == "");
  CHECK_THAT(load("[roles]\ndefault = \"boss\"\n"),
             Catch::EndsWith("key 'roles.default': want \"supervisor\", \"manager\" or \"none\""));
  CHECK_THAT(load("[roles]\nsupervisor = [\"anna\"]\nmanager = [\"anna\"]\n"),
             Catch::EndsWith("key 'roles.manager': anna is listed as supervisor too"));
  CHECK_THAT(load("[requests]\ncatalog_burst = 0\n"),
             Catch::EndsWith("key 'requests.catalog_burst': 0 is out of range 1..10000"));
  CHECK_THAT(
      load("[requests]\nfog_req_per_minute = 4294967297\n"),
      Catch::EndsWith("key 'requests.fog_req_per_minute': 4294967297 is out of range 1..60000"));
}
