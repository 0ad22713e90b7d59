#include "storenode/common/config.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "sim/sim.h"
#include "storenode/common/broker_link.h"
#include "storenode/common/log.h"
#include "storenode/fog/fog.h"

namespace storenode {
namespace {

// Every int64: for the tests of what ConfigReader does besides ranges.
constexpr IntRange kAny{std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()};

ConfigReader Parse(std::string_view text) {
  Result<ConfigReader> reader = ConfigReader::FromString(text, "fog.toml");
  if (!reader.ok()) FAIL(reader.status().ToString());
  return std::move(reader).value();
}

// A file in the temp directory, removed at the end of the test.
class TempFile {
 public:
  explicit TempFile(std::string_view text)
      : path_(std::filesystem::temp_directory_path() /
              ("sn_config_test_" + std::to_string(::getpid()) + ".toml")) {
    std::ofstream(path_) << text;
  }
  ~TempFile() { std::filesystem::remove(path_); }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

TEST_CASE("ConfigReader reads a valid file", "[config]") {
  TempFile file(
      "[store]\n"
      "id = \"S001\"\n"
      "decimals = 2\n"
      "\n"
      "[broker]\n"
      "uri = \"tcp://localhost:1883\"\n"
      "topics = [\"sales\", \"closedown\"]\n"
      "tls = true\n"
      "limits = { batch = 100, window = { seconds = 30 } }\n"
      "\n"
      "[tax_rates]\n"
      "A = 2000\n"
      "B = 550\n"
      "C = 0\n"
      "\n"
      "[devices.till1]\n"
      "name = \"Till 1\"\n"
      "[devices.till2]\n"
      "name = \"Till 2\"\n"
      "port = 7001\n");
  Result<ConfigReader> opened = ConfigReader::Open(file.path());
  REQUIRE(opened.ok());
  ConfigReader& config = *opened;
  CHECK(config.source() == file.path());

  CHECK(config.String("store.id") == "S001");
  CHECK(config.Int("store.decimals", kAny) == 2);
  CHECK(config.String("broker.uri") == "tcp://localhost:1883");
  CHECK(config.StringList("broker.topics") == std::vector<std::string>{"sales", "closedown"});
  CHECK(config.Bool("broker.tls", false));
  CHECK(config.Int("broker.limits.batch", kAny) == 100);
  CHECK(config.Int("broker.limits.window.seconds", kAny) == 30);
  CHECK(config.IntTable("tax_rates", kAny) ==
        std::map<std::string, int64_t>{{"A", 2000}, {"B", 550}, {"C", 0}});

  const std::vector<std::string> devices = config.TableKeys("devices");
  REQUIRE(devices == std::vector<std::string>{"till1", "till2"});
  CHECK(config.String("devices.till1.name") == "Till 1");
  CHECK(config.String("devices.till2.name") == "Till 2");
  CHECK(config.Int("devices.till1.port", 7000, kAny) == 7000);
  CHECK(config.Int("devices.till2.port", 7000, kAny) == 7001);

  // Optional keys that are absent give the fallback and no error.
  CHECK(config.String("store.name", "unnamed") == "unnamed");
  CHECK(config.Int("broker.keepalive", 60, kAny) == 60);
  CHECK_FALSE(config.Bool("broker.insecure", false));
  CHECK(config.StringList("broker.extra_topics", {"x"}) == std::vector<std::string>{"x"});
  CHECK(config.IntTable("discounts", kAny).empty());
  CHECK(config.TableKeys("printers").empty());

  CHECK(config.Has("store.id"));
  CHECK(config.Has("devices.till1"));
  CHECK_FALSE(config.Has("store.name"));
  CHECK_FALSE(config.Has("store.id.deeper"));

  const Status status = config.Finish();
  CHECK(status.ok());
  CHECK(status.message().empty());
}

TEST_CASE("ConfigReader reports the first unknown key in file order", "[config]") {
  ConfigReader config = Parse(
      "[store]\n"        // 1
      "id = \"S001\"\n"  // 2
      "typo = 1\n"       // 3
      "[broker]\n"       // 4
      "uri = \"x\"\n"    // 5
      "extra = 2\n");    // 6
  CHECK(config.String("store.id") == "S001");
  CHECK(config.String("broker.uri") == "x");
  // 'broker.extra' sorts first by name, but 'store.typo' comes first in the file.
  const Status status = config.Finish();
  CHECK(status.code() == Code::kInvalidArgument);
  CHECK(status.message() == "fog.toml:3: key 'store.typo': unknown key");
}

TEST_CASE("ConfigReader reports unknown keys inside tables nobody read", "[config]") {
  ConfigReader config = Parse(
      "[store]\n"
      "id = \"S001\"\n"
      "[devices.till1]\n"
      "name = \"Till 1\"\n"
      "colour = \"red\"\n");  // 5
  CHECK(config.String("store.id") == "S001");
  for (const std::string& device : config.TableKeys("devices")) {
    CHECK(config.String("devices." + device + ".name") == "Till 1");
  }
  CHECK(config.Finish().message() == "fog.toml:5: key 'devices.till1.colour': unknown key");
}

TEST_CASE("ConfigReader reports a wrong type with file, line, key and types", "[config]") {
  ConfigReader config = Parse(
      "[store]\n"
      "id = 42\n"           // 2
      "decimals = 2.0\n"    // 3
      "open = \"yes\"\n");  // 4
  CHECK(config.String("store.id") == "");
  CHECK(config.Int("store.decimals", 2, kAny) == 2);
  CHECK(config.Bool("store.open", true));
  // The first error wins.
  CHECK(config.Finish().message() == "fog.toml:2: key 'store.id': expected a string, got integer");

  ConfigReader floats = Parse("[store]\ndecimals = 2.0\n");
  CHECK(floats.Int("store.decimals", {0, 10}) == 0);
  CHECK(floats.Finish().message() ==
        "fog.toml:2: key 'store.decimals': expected an integer, got floating-point");

  ConfigReader booleans = Parse("open = \"yes\"\n");
  CHECK(booleans.Bool("open", false) == false);
  CHECK(booleans.Finish().message() == "fog.toml:1: key 'open': expected a boolean, got string");
}

TEST_CASE("ConfigReader reports a missing required key without a line", "[config]") {
  ConfigReader config = Parse("[broker]\ntls = true\n");
  CHECK(config.Bool("broker.tls", false));
  CHECK(config.String("broker.uri") == "");
  CHECK(config.Int("broker.port", {0, 65535}) == 0);
  const Status status = config.Finish();
  CHECK(status.code() == Code::kInvalidArgument);
  CHECK(status.message() == "fog.toml: key 'broker.uri': required key is missing");
}

TEST_CASE("ConfigReader reports a parent that is not a table", "[config]") {
  ConfigReader config = Parse("store = 5\n");
  CHECK(config.String("store.id") == "");
  CHECK(config.Finish().message() ==
        "fog.toml:1: key 'store.id': expected 'store' to be a table, got integer");

  ConfigReader devices = Parse("devices = [\"till1\"]\n");
  CHECK(devices.TableKeys("devices").empty());
  CHECK(devices.Finish().message() == "fog.toml:1: key 'devices': expected a table, got array");
}

TEST_CASE("ConfigReader reports TOML syntax errors with file, line and column", "[config]") {
  Result<ConfigReader> parsed = ConfigReader::FromString(
      "[store]\n"
      "id = \"S001\"\n"
      "name = \n",  // 3: no value
      "fog.toml");
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.status().code() == Code::kInvalidArgument);
  const std::string& message = parsed.status().message();
  CHECK_THAT(message, Catch::StartsWith("fog.toml:3:"));
  CHECK(message.find('\n') == std::string::npos);

  TempFile file("[store]\nid = \"unterminated\n");
  Result<ConfigReader> opened = ConfigReader::Open(file.path());
  REQUIRE_FALSE(opened.ok());
  CHECK_THAT(opened.status().message(), Catch::StartsWith(file.path() + ":2:"));
}

TEST_CASE("ConfigReader::Open reports a missing file", "[config]") {
  Result<ConfigReader> opened = ConfigReader::Open("/nonexistent/fog.toml");
  REQUIRE_FALSE(opened.ok());
  CHECK(opened.status().code() == Code::kNotFound);
  CHECK_THAT(opened.status().message(), Catch::StartsWith("/nonexistent/fog.toml: cannot open: "));
}

TEST_CASE("ConfigReader::IntTable rejects a non-integer entry", "[config]") {
  ConfigReader config = Parse(
      "[tax_rates]\n"
      "A = 2000\n"
      "B = \"5.5%\"\n");  // 3
  CHECK(config.IntTable("tax_rates", kAny).empty());
  CHECK(config.Finish().message() ==
        "fog.toml:3: key 'tax_rates.B': expected an integer, got string");

  ConfigReader scalar = Parse("tax_rates = 2000\n");
  CHECK(scalar.IntTable("tax_rates", kAny).empty());
  CHECK(scalar.Finish().message() == "fog.toml:1: key 'tax_rates': expected a table, got integer");
}

TEST_CASE("ConfigReader::StringList rejects a non-string element", "[config]") {
  ConfigReader config = Parse(
      "[broker]\n"
      "topics = [\n"
      "  \"sales\",\n"
      "  7,\n"  // 4
      "]\n");
  CHECK(config.StringList("broker.topics", {"fallback"}) == std::vector<std::string>{"fallback"});
  CHECK(config.Finish().message() ==
        "fog.toml:4: key 'broker.topics[1]': expected a string, got integer");

  ConfigReader scalar = Parse("topics = \"sales\"\n");
  CHECK(scalar.StringList("topics").empty());
  CHECK(scalar.Finish().message() ==
        "fog.toml:1: key 'topics': expected an array of strings, got string");
}

TEST_CASE("ConfigReader::Int refuses a value outside its range with file, line, key and range",
          "[config]") {
  ConfigReader config = Parse(
      "[ingest]\n"
      "max_batch_events = 4294967297\n"  // 2: 2^32 + 1, which an int cast makes 1
      "gap_hold_ms = -4294966796\n"      // 3: which an int cast makes 500
      "[console]\n"
      "port = 4295010695\n");  // 5: which an int cast makes 43399
  CHECK(config.Int("ingest.max_batch_events", 20000, {1, 1000000}) == 20000);
  CHECK(config.Int("ingest.gap_hold_ms", 500, {0, 3600000}) == 500);
  CHECK(config.Int("console.port", 8080, {1, 65535}) == 8080);
  // The first error wins; each is also refused on its own.
  CHECK(config.Finish().message() ==
        "fog.toml:2: key 'ingest.max_batch_events': 4294967297 is out of range 1..1000000");
  ConfigReader gap = Parse("[ingest]\ngap_hold_ms = -4294966796\n");
  gap.Int("ingest.gap_hold_ms", 500, {0, 3600000});
  CHECK(gap.Finish().message() ==
        "fog.toml:2: key 'ingest.gap_hold_ms': -4294966796 is out of range 0..3600000");
  ConfigReader port = Parse("\n[console]\nport = 4295010695\n");
  CHECK(port.Int("console.port", {1, 65535}) == 1);  // required: the range's bottom
  CHECK(port.Finish().message() ==
        "fog.toml:3: key 'console.port': 4295010695 is out of range 1..65535");

  // Both ends are allowed; one past either is not.
  ConfigReader edges = Parse("a = 1\nb = 65535\n");
  CHECK(edges.Int("a", {1, 65535}) == 1);
  CHECK(edges.Int("b", {1, 65535}) == 65535);
  CHECK(edges.Finish().ok());
  for (const char* text : {"a = 0\n", "a = 65536\n"}) {
    ConfigReader past = Parse(text);
    past.Int("a", 7, {1, 65535});
    CHECK_THAT(past.Finish().message(), Catch::Contains("is out of range 1..65535"));
  }
  // A fallback is the caller's and is not checked.
  ConfigReader absent = Parse("");
  CHECK(absent.Int("a", 0, {1, 65535}) == 0);
  CHECK(absent.Finish().ok());
}

TEST_CASE("ConfigReader::IntTable refuses an entry outside its range", "[config]") {
  ConfigReader config = Parse(
      "[tax_rates]\n"
      "A = 2000\n"
      "B = 4294967297\n");  // 3
  CHECK(config.IntTable("tax_rates", {0, 10000}).empty());
  CHECK(config.Finish().message() ==
        "fog.toml:3: key 'tax_rates.B': 4294967297 is out of range 0..10000");
}

TEST_CASE("ConfigReader::Path refuses a path it cannot use, naming key, path and reason",
          "[config]") {
  const std::string dir =
      std::filesystem::temp_directory_path() / ("sn_config_paths_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/plain") << "x";
  auto read = [&](const std::string& value, PathUse use) {
    ConfigReader config = Parse("\n[data]\ndir = \"" + value + "\"\n");
    const std::string got = config.Path("data.dir", use);
    CHECK(got == value);
    return config.Finish();
  };
  // A directory that could be made is fine (and not made yet); one under a
  // regular file is refused.
  CHECK(read(dir + "/new/deeper", PathUse::kDirectory).ok());
  CHECK_FALSE(std::filesystem::exists(dir + "/new"));
  CHECK(read(dir + "/plain/data", PathUse::kDirectory).message() ==
        "fog.toml:3: key 'data.dir': cannot create directory " + dir + "/plain/data: " + dir +
            "/plain is not a directory");
  CHECK(read(dir + "/plain", PathUse::kDirectory).message() ==
        "fog.toml:3: key 'data.dir': cannot use directory " + dir + "/plain: not a directory");
  // A file to read must open.
  CHECK(read(dir + "/plain", PathUse::kReadFile).ok());
  CHECK(read(dir + "/missing.crt", PathUse::kReadFile).message() ==
        "fog.toml:3: key 'data.dir': cannot open " + dir +
            "/missing.crt: No such file or directory");
  CHECK(read(dir, PathUse::kReadFile).message() ==
        "fog.toml:3: key 'data.dir': cannot open " + dir + ": it is a directory");
  // A file read when present may be missing, but not under a regular file.
  CHECK(read(dir + "/nodir/tills.toml", PathUse::kFileIfPresent).ok());
  CHECK(read(dir + "/plain/tills.toml", PathUse::kFileIfPresent).message() ==
        "fog.toml:3: key 'data.dir': cannot open " + dir + "/plain/tills.toml: " + dir +
            "/plain is not a directory");
  // A file that may be created needs somewhere to create it.
  CHECK(read(dir + "/new/ledger.key", PathUse::kCreateFile).ok());
  CHECK(read(dir + "/plain/sub/ledger.key", PathUse::kCreateFile).message() ==
        "fog.toml:3: key 'data.dir': cannot create " + dir + "/plain/sub/ledger.key: " + dir +
            "/plain is not a directory");
  // An absent key's fallback is checked too, without a line.
  ConfigReader absent = Parse("");
  CHECK(absent.Path("tills.registry", PathUse::kFileIfPresent, dir + "/plain/tills.toml") ==
        dir + "/plain/tills.toml");
  CHECK(absent.Finish().message() == "fog.toml: key 'tills.registry': cannot open " + dir +
                                         "/plain/tills.toml: " + dir + "/plain is not a directory");
  // Empty is the caller's to judge.
  ConfigReader empty = Parse("f = \"\"\n");
  CHECK(empty.Path("f", PathUse::kReadFile, "").empty());
  CHECK(empty.Finish().ok());
  std::filesystem::remove_all(dir);
}

// [ledger] of `text` (line 1 is "[ledger]") as ReadBrokerLink and
// CheckBrokerLink take it: the first error, or OK with `*link` filled.
Status ReadLedgerLink(const std::string& text, BrokerLink* link = nullptr) {
  ConfigReader r = Parse("[ledger]\n" + text);
  BrokerLink l = ReadBrokerLink(r, "ledger");
  SN_RETURN_IF_ERROR(r.Finish());
  SN_RETURN_IF_ERROR(CheckBrokerLink("fog.toml", "ledger", l));
  if (link != nullptr) *link = l;
  return Status::Ok();
}

TEST_CASE("a chain's fogs spread over the cloud's nodes by store id, keeping the failover order",
          "[config]") {
  const std::vector<std::string> nodes{"tcp://a:1", "tcp://b:2", "tcp://c:3"};
  std::map<std::string, int> first;
  std::map<std::pair<std::string, std::string>, int> then;  // (first, second) node
  for (int i = 1; i <= 3000; ++i) {
    BrokerLink link{.uri = nodes[0], .failover_uris = {nodes[1], nodes[2]}};
    SpreadOverServers(link, "store-" + std::to_string(i));
    std::vector<std::string> servers{link.uri};
    servers.insert(servers.end(), link.failover_uris.begin(), link.failover_uris.end());
    // Every node once, walking the configured cycle forward or backward.
    const size_t at = size_t(std::find(nodes.begin(), nodes.end(), link.uri) - nodes.begin());
    REQUIRE(at < nodes.size());
    const bool forward = servers[1] == nodes[(at + 1) % 3];
    for (size_t k = 0; k < nodes.size(); ++k) {
      CHECK(servers[k] == nodes[forward ? (at + k) % 3 : (at + 3 - k) % 3]);
    }
    ++first[link.uri];
    ++then[{servers[0], servers[1]}];
  }
  // 3,000 stores: each node first for about a third (binomial sd ~26), and
  // when it is lost its stores go half to each survivor (sd ~18 of 500).
  for (const std::string& n : nodes) {
    INFO(n << " first for " << first[n]);
    CHECK(first[n] > 850);
    CHECK(first[n] < 1150);
    for (const std::string& m : nodes) {
      if (m == n) continue;
      const int count = then[std::make_pair(n, m)];
      INFO(n << " then " << m << ": " << count);
      CHECK(count > 400);
      CHECK(count < 600);
    }
  }
  // The same store always starts at the same node; one server stays as it is.
  BrokerLink again{.uri = nodes[0], .failover_uris = {nodes[1], nodes[2]}};
  BrokerLink twice = again;
  SpreadOverServers(again, "store-42");
  SpreadOverServers(twice, "store-42");
  CHECK(again.uri == twice.uri);
  BrokerLink single{.uri = nodes[0]};
  SpreadOverServers(single, "store-42");
  CHECK(single.uri == nodes[0]);
  CHECK(single.failover_uris.empty());
}

TEST_CASE("a [ledger] link names a cluster with uris and speaks mqtt3.1.1 or mqtt5", "[config]") {
  BrokerLink link;
  Status s = ReadLedgerLink(
      "uris = [\"tcp://a:1\", \"tcp://b:2\", \"tcp://c:3\"]\n"
      "protocol = \"mqtt3.1.1\"\ninsecure = true\n",
      &link);
  INFO(s.ToString());
  REQUIRE(s.ok());
  CHECK(link.uri == "tcp://a:1");
  CHECK(link.failover_uris == std::vector<std::string>{"tcp://b:2", "tcp://c:3"});
  CHECK(link.protocol == mqtt::Protocol::kV3_1_1);
  mqtt::Options o = ToMqttOptions(link);
  CHECK(mqtt::Servers(o) == std::vector<std::string>{"tcp://a:1", "tcp://b:2", "tcp://c:3"});
  CHECK(o.protocol == mqtt::Protocol::kV3_1_1);

  // A single uri, as before: mqtt5 and no failover.
  REQUIRE(ReadLedgerLink("uri = \"tcp://a:1\"\ninsecure = true\n", &link).ok());
  CHECK(link.uri == "tcp://a:1");
  CHECK(link.failover_uris.empty());
  CHECK(link.protocol == mqtt::Protocol::kV5);
  REQUIRE(ReadLedgerLink("uris = [\"tcp://a:1\"]\nprotocol = \"mqtt5\"\ninsecure = true\n", &link)
              .ok());
  CHECK(link.uri == "tcp://a:1");
  CHECK(link.failover_uris.empty());
  CHECK(link.protocol == mqtt::Protocol::kV5);

  // Each wrong form, with the file's line and the key.
  CHECK(
      ReadLedgerLink("uri = \"tcp://a:1\"\nuris = [\"tcp://b:2\"]\ninsecure = true\n").message() ==
      "fog.toml:3: key 'ledger.uris': give ledger.uri or ledger.uris, not both");
  CHECK(ReadLedgerLink("insecure = true\nuris = []\n").message() ==
        "fog.toml:3: key 'ledger.uris': must list at least one server");
  std::string seventeen = "uris = [";
  for (int i = 0; i < 17; ++i) seventeen += "\"tcp://n" + std::to_string(i) + ":1\", ";
  seventeen += "]\ninsecure = true\n";
  CHECK(ReadLedgerLink(seventeen).message() ==
        "fog.toml:2: key 'ledger.uris': lists 17 servers, at most 16");
  CHECK(ReadLedgerLink("uris = [\"ssl://a:1\", \"tcp://b:2\"]\nca_file = \"\"\n").message() ==
        "fog.toml:2: key 'ledger.uris': tcp://b:2: plain tcp:// needs ledger.insecure = true");
  CHECK(ReadLedgerLink("uris = [\"http://a:1\"]\ninsecure = true\n").message() ==
        "fog.toml:2: key 'ledger.uris': http://a:1: must start with tcp:// or ssl://");
  CHECK(ReadLedgerLink("uris = [\"tcp://a:1\", \"tcp://a:1\"]\ninsecure = true\n").message() ==
        "fog.toml:2: key 'ledger.uris': tcp://a:1 is listed twice");
  CHECK(ReadLedgerLink("uris = [\"tcp://a:1\", 2]\ninsecure = true\n").message() ==
        "fog.toml:2: key 'ledger.uris[1]': expected a string, got integer");
  CHECK(ReadLedgerLink("uri = \"tcp://a:1\"\ninsecure = true\nprotocol = \"mqtt3\"\n").message() ==
        "fog.toml:4: key 'ledger.protocol': want \"mqtt5\" or \"mqtt3.1.1\"");
  CHECK(ReadLedgerLink("uris = [\"ssl://a:1\", \"ssl://b:2\"]\n").message() ==
        "fog.toml: key 'ledger.ca_file': required with ssl://");
  CHECK(ReadLedgerLink("insecure = true\n").message() ==
        "fog.toml: key 'ledger.uri': required key is missing");
  // A link made in code is checked by CheckBrokerLink alone.
  BrokerLink coded{.uri = "ssl://a:1", .failover_uris = {"tcp://b:2"}, .ca_file = "ca.crt"};
  CHECK(CheckBrokerLink("fog.toml", "ledger", coded).message() ==
        "fog.toml: key 'ledger.uris': tcp://b:2: plain tcp:// needs ledger.insecure = true");
}

TEST_CASE("the fog takes a NATS cluster as its [ledger] and refuses mqtt3.1.1 for the store broker",
          "[config]") {
  const std::string dir =
      std::filesystem::temp_directory_path() / ("sn_config_fog_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto load = [&](const std::string& broker_extra, const std::string& ledger) {
    const std::string path = dir + "/fog.toml";
    std::ofstream(path) << "[store]\nid = \"s\"\n"
                        << sim::SimStoreConfig() << "\n[broker]\nuri = \"tcp://127.0.0.1:1\"\n"
                        << "insecure = true\n"
                        << broker_extra << "[data]\ndir = \"" << dir << "\"\n"
                        << ledger;
    return fog::LoadConfig(path);
  };
  auto c = load("",
                "[ledger]\nuris = [\"ssl://n1:8883\", \"ssl://n2:8883\"]\n"
                "protocol = \"mqtt3.1.1\"\nca_file = \"" +
                    dir + "/fog.toml\"\n");
  INFO(c.status().ToString());
  REQUIRE(c.ok());
  CHECK(c->ledger.link.uri == "ssl://n1:8883");
  CHECK(c->ledger.link.failover_uris == std::vector<std::string>{"ssl://n2:8883"});
  CHECK(c->ledger.link.protocol == mqtt::Protocol::kV3_1_1);
  CHECK(c->ledger.link.client_id == "s-fog-ledger");
  CHECK(c->broker.protocol == mqtt::Protocol::kV5);

  CHECK(load("protocol = \"mqtt5\"\n", "").ok());
  auto refused = load("protocol = \"mqtt3.1.1\"\n", "");
  CHECK_THAT(refused.status().message(),
             Catch::Matches(".*/fog\\.toml:[0-9]+: key 'broker\\.protocol': the store broker "
                            "link needs mqtt5"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("log::Init rejects an unknown level and names the valid ones", "[config]") {
  const Status status = log::Init("sn_tests", "verbose");
  CHECK(status.code() == Code::kInvalidArgument);
  CHECK(status.message() ==
        "unknown log level 'verbose' (expected trace, debug, info, warn, error or off)");

  REQUIRE(log::Init("sn_tests", "warn").ok());
  CHECK(spdlog::default_logger()->level() == spdlog::level::warn);
  CHECK(spdlog::default_logger()->name() == "sn_tests");
  REQUIRE(log::Init("sn_tests", "info").ok());
}

}  // namespace
}  // namespace storenode
