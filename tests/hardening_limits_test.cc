// Limits (issue 12, items 4 and 6): config integers that would wrap and
// paths that cannot be used stop fogd, ledger-sink and storectl with exit 2
// and one line naming file, line, key and the allowed range or the reason;
// a message over the fog's size limit is quarantined by its size, SHA-256
// and a bounded prefix before anything parses it, and however large a
// message is, the fog stays under 200 MB RSS. Real mosquitto, real fogd,
// real SQLite files.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>

#include "sim/sim.h"
#include "storenode/common/crypto.h"
#include "storenode/common/mqtt.h"
#include "storenode/common/sqlite.h"
#include "storenode/common/topics.h"
#include "storenode/fog/fog.h"
#include "support/client.h"
#include "support/fog.h"
#include "support/harness.h"
#include "support/run.h"
#include "support/store.h"

using namespace storenode;
using namespace storenode::testing;
namespace fs = std::filesystem;

namespace {

constexpr int64_t kMiB = 1024 * 1024;

// A fog.toml that gets as far as its checks without a broker, with `extra`
// spliced in at the end of the section it names ("[ingest]\n...").
std::string WriteFogConfig(const std::string& dir, const std::string& data_dir,
                           const std::string& extra = "") {
  const std::string path = dir + "/fog.toml";
  std::ofstream(path, std::ios::trunc)
      << "[store]\nid = \"store-1\"\n\n"
      << sim::SimStoreConfig() << "\n[broker]\nuri = \"tcp://127.0.0.1:9\"\ninsecure = true\n\n"
      << "[data]\ndir = \"" << data_dir << "\"\n\n"
      << extra;
  return path;
}

// The line of `path` (1-based) that starts with `prefix`; 0 if none does.
int LineOf(const std::string& path, const std::string& prefix) {
  std::ifstream in(path);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.starts_with(prefix)) return n;
  }
  return 0;
}

std::string Garbage(size_t n, uint32_t seed) {
  std::string out(n, '\0');
  std::mt19937 rng(seed);
  for (char& c : out) c = static_cast<char>(rng());
  return out;
}

struct QuarantineRow {
  std::string reason, payload, sha256;
  int64_t size = -1;
};

std::vector<QuarantineRow> Quarantine(const std::string& db_path) {
  sql::OpenOptions ro;
  ro.read_only = true;
  auto db = sql::Db::Open(db_path, ro).value();
  auto rows =
      db->Prepare(
            "SELECT reason, payload, payload_size, payload_sha256 FROM quarantine ORDER BY id")
          .value();
  std::vector<QuarantineRow> out;
  while (rows.Step().value()) {
    out.push_back({rows.Text(0), rows.Blob(1), rows.Blob(3), rows.Int(2)});
  }
  return out;
}

std::string Sha256Bytes(const std::string& data) {
  const crypto::Hash h = crypto::Sha256Of(data);
  return std::string(reinterpret_cast<const char*>(h.data()), h.size());
}

}  // namespace

TEST_CASE("config integers that would wrap stop fogd with exit 2 naming file, line, key and range",
          "[hardening-limits][integration]") {
  const std::string dir = MakeTempDir("limits-int");
  struct Case {
    std::string section, key, value, range;
  };
  // 2^32 + 1 ran as 1, -2^32 + 500 as 500, 2^32 + 43399 listened on 43399.
  for (const Case& c : std::vector<Case>{
           {"ingest", "max_batch_events", "4294967297", "1..1000000"},
           {"ingest", "gap_hold_ms", "-4294966796", "0..3600000"},
           {"console", "port", "4295010695", "1..65535"},
           {"broker", "max_message_bytes", "4294967297", "16384..33554432"},
       }) {
    INFO(c.key);
    std::string path;
    if (c.section == "broker") {
      // Into the [broker] section the helper already wrote.
      path = WriteFogConfig(dir, dir + "/data");
      std::string text = ReadFile(path);
      text.replace(text.find("insecure = true\n"), 16,
                   "insecure = true\n" + c.key + " = " + c.value + "\n");
      std::ofstream(path, std::ios::trunc) << text;
    } else {
      path = WriteFogConfig(dir, dir + "/data",
                            "[" + c.section + "]\n" + c.key + " = " + c.value + "\n");
    }
    const int line = LineOf(path, c.key + " = ");
    REQUIRE(line > 0);
    Ran r = RunTool(dir, "storenode-fogd", {"--config", path});
    CHECK(r.code == 2);
    CHECK(r.err == "storenode-fogd: bad config: " + path + ":" + std::to_string(line) + ": key '" +
                       c.section + "." + c.key + "': " + c.value + " is out of range " + c.range +
                       "\n");
  }
  // Nothing started, so nothing was made.
  CHECK_FALSE(fs::exists(dir + "/data/fog.db"));
}

TEST_CASE("a fog config path that cannot be used stops fogd with exit 2 naming the path",
          "[hardening-limits][integration]") {
  const std::string dir = MakeTempDir("limits-path");
  std::ofstream(dir + "/plain") << "a regular file\n";
  {
    const std::string path = WriteFogConfig(dir, dir + "/plain/data");
    Ran r = RunTool(dir, "storenode-fogd", {"--config", path});
    CHECK(r.code == 2);
    CHECK(r.err == "storenode-fogd: bad config: " + path + ":" +
                       std::to_string(LineOf(path, "dir = ")) +
                       ": key 'data.dir': " + "cannot create directory " + dir +
                       "/plain/data: " + dir + "/plain is not a directory\n");
  }
  {
    const std::string path = WriteFogConfig(dir, dir + "/data");
    std::string text = ReadFile(path);
    text.replace(text.find("uri = \"tcp://127.0.0.1:9\"\ninsecure = true\n"), 41,
                 "uri = \"ssl://127.0.0.1:9\"\nca_file = \"" + dir + "/missing-ca.crt\"\n");
    std::ofstream(path, std::ios::trunc) << text;
    Ran r = RunTool(dir, "storenode-fogd", {"--config", path});
    CHECK(r.code == 2);
    CHECK(r.err == "storenode-fogd: bad config: " + path + ":" +
                       std::to_string(LineOf(path, "ca_file = ")) + ": key 'broker.ca_file': " +
                       "cannot open " + dir + "/missing-ca.crt: No such file or directory\n");
  }
  {
    const std::string path = WriteFogConfig(
        dir, dir + "/data", "[tills]\nregistry = \"" + dir + "/plain/tills.toml\"\n");
    Ran r = RunTool(dir, "storenode-fogd", {"--config", path});
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains(":" + std::to_string(LineOf(path, "registry = ")) +
                                      ": key 'tills.registry': cannot open " + dir +
                                      "/plain/tills.toml: " + dir + "/plain is not a directory"));
  }
}

TEST_CASE("a ledger-sink or storectl config path that cannot be used is exit 2 naming the path",
          "[hardening-limits][integration]") {
  // ledger-sink reads no integer key; its paths are its data dir, its key
  // file and the broker's TLS files.
  const std::string dir = MakeTempDir("limits-sink");
  std::ofstream(dir + "/plain") << "a regular file\n";
  auto sink_config = [&](const std::string& key_file, const std::string& data_dir) {
    const std::string path = dir + "/ledger-sink.toml";
    std::ofstream(path, std::ios::trunc)
        << "[ledger]\nid = \"l\"\nkey_file = \"" << key_file << "\"\n\n[broker]\n"
        << "uri = \"tcp://127.0.0.1:9\"\ninsecure = true\n\n[data]\ndir = \"" << data_dir
        << "\"\n\n[stores]\naccept_unknown = true\n";
    return path;
  };
  {
    const std::string path = sink_config(dir + "/ledger.key", dir + "/plain/ledger");
    Ran r = RunTool(dir, "ledger-sink", {"--config", path});
    CHECK(r.code == 2);
    CHECK(r.err == "ledger-sink: bad config: " + path + ":" +
                       std::to_string(LineOf(path, "dir = ")) +
                       ": key 'data.dir': cannot create directory " + dir +
                       "/plain/ledger: " + dir + "/plain is not a directory\n");
  }
  {
    const std::string path = sink_config(dir + "/plain/ledger.key", dir + "/ledger");
    Ran r = RunTool(dir, "ledger-sink", {"--config", path});
    CHECK(r.code == 2);
    CHECK(r.err == "ledger-sink: bad config: " + path + ":" +
                       std::to_string(LineOf(path, "key_file = ")) +
                       ": key 'ledger.key_file': cannot create " + dir +
                       "/plain/ledger.key: " + dir + "/plain is not a directory\n");
    CHECK_FALSE(fs::exists(dir + "/ledger"));
  }
  {
    // storectl's --config: a missing client key.
    const std::string path = dir + "/storectl.toml";
    std::ofstream(path) << "[store]\nid = \"store-1\"\n\n"
                        << sim::SimStoreConfig() << "\n[broker]\nuri = \"ssl://127.0.0.1:9\"\n"
                        << "ca_file = \"" << dir << "/plain\"\ncert_file = \"" << dir
                        << "/plain\"\nkey_file = \"" << dir << "/manager.key\"\n";
    Ran r = RunTool(dir, "storectl", {"status", "--config", path});
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains(path + ":" + std::to_string(LineOf(path, "key_file = ")) +
                                      ": key 'broker.key_file': cannot open " + dir +
                                      "/manager.key: No such file or directory"));
  }
}

TEST_CASE("storectl refuses a provisioned store.toml whose integer would wrap",
          "[hardening-limits][integration]") {
  const std::string dir = MakeTempDir("limits-provision");
  const std::string pki = dir + "/pki";
  Ran store = RunTool(dir, "storectl", {"provision", "store", "--store", "store-1", "--out", pki});
  INFO(store.err);
  REQUIRE(store.code == 0);
  std::string meta = ReadFile(pki + "/store.toml");
  const size_t at = meta.find("cert_days = 1825");
  REQUIRE(at != std::string::npos);
  meta.replace(at, 16, "cert_days = 4294967297");
  std::ofstream(pki + "/store.toml", std::ios::trunc) << meta;
  Ran till = RunTool(dir, "storectl",
                     {"provision", "till", "--ca", pki, "--device", "till-1", "--out", dir + "/t"});
  CHECK(till.code == 2);
  CHECK_THAT(till.err,
             Catch::Contains(pki + "/store.toml:" +
                             std::to_string(LineOf(pki + "/store.toml", "cert_days = ")) +
                             ": key 'pki.cert_days': 4294967297 is out of range 1..36500"));
  CHECK_FALSE(fs::exists(dir + "/t"));
}

TEST_CASE("a message over the fog's max_message_bytes is quarantined by size, SHA-256 and prefix",
          "[hardening-limits][integration]") {
  Store store(1);
  store.fog->broker_config = "max_message_bytes = " + std::to_string(kMiB) + "\n";
  REQUIRE(store.fog->Start().ok());
  store.OpenTill(0);
  store.Sell(0, 20);
  REQUIRE(store.WaitSynced());
  store.WaitSignaturesChecked();
  const std::string db = store.fog->db_path();
  const std::string before = FogStateOutsideQuarantine(db);
  TestClient client(store.broker.uri());
  const std::string topic = topics::Journal("store-1", "till-1");

  // Exactly at the limit: received whole, and refused as the garbage it is.
  const std::string at_limit = Garbage(static_cast<size_t>(kMiB), 1);
  client.Publish(topic, at_limit);
  REQUIRE(WaitFor([&] { return store.FogQuarantined() == 1; }, std::chrono::seconds(10)));
  // A bit over it: only its size, hash and first bytes.
  const std::string over = Garbage(static_cast<size_t>(kMiB) + 1000, 2);
  client.Publish(topic, over);
  REQUIRE(WaitFor([&] { return store.FogQuarantined() == 2; }, std::chrono::seconds(10)));

  const std::vector<QuarantineRow> rows = Quarantine(db);
  REQUIRE(rows.size() == 2);
  CHECK_THAT(rows[0].reason, Catch::Contains("does not parse"));
  CHECK(rows[0].size == kMiB);
  CHECK(rows[0].payload == at_limit);
  CHECK(rows[0].sha256 == Sha256Bytes(at_limit));
  CHECK(rows[1].reason ==
        "message of 1049576 bytes is over broker.max_message_bytes (1048576): "
        "only its first 256 bytes are kept");
  CHECK(rows[1].size == static_cast<int64_t>(over.size()));
  CHECK(rows[1].sha256 == Sha256Bytes(over));
  CHECK(rows[1].payload.size() == mqtt::kOversizedPrefixBytes);
  CHECK(rows[1].payload == over.substr(0, mqtt::kOversizedPrefixBytes));
  // Nothing else changed, and the fog goes on ingesting.
  CHECK(FogStateOutsideQuarantine(db) == before);
  REQUIRE(store.fog->Running());
  store.Sell(0, 10);
  REQUIRE(store.WaitSynced());
  CHECK(store.FogEventCount("till-1") > 20);
  RequireFogMatchesJournals(db, {store.tills[0].journal->options().journal_path});
}

TEST_CASE("a 64 MB payload on a broker without a size limit keeps the fog under 200 MB RSS",
          "[hardening-limits][integration]") {
  // The test broker has no message_size_limit: the fog's own limit (its
  // default, 16 MiB) and its Maximum Packet Size (48 MiB) are all that stand
  // in the way. mosquitto_pub publishes: Paho's own publisher needs many
  // seconds for a message this size.
  Store store(1);
  REQUIRE(store.fog->Start().ok());
  const pid_t pid = store.fog->pid();
  REQUIRE(pid > 0);
  const int64_t idle = PeakRss(pid);
  const std::string topic = topics::Journal("store-1", "till-1");
  auto publish = [&](const std::string& payload) {
    const std::string file = store.dir + "/payload.bin";
    std::ofstream(file, std::ios::binary | std::ios::trunc) << payload;
    Ran r = RunArgv(store.dir, {"/usr/bin/mosquitto_pub", "-h", "127.0.0.1", "-p",
                                std::to_string(store.broker.port()), "-V", "mqttv5", "-q", "1",
                                "-t", topic, "-f", file});
    INFO(r.err);
    REQUIRE(r.code == 0);
  };
  {
    // Over the fog's limit, under its packet size: seen, and only its
    // size, hash and first bytes are kept.
    const std::string large = Garbage(40'000'000, 3);
    publish(large);
    REQUIRE(WaitFor([&] { return store.FogQuarantined() == 1; }, std::chrono::seconds(30)));
    const std::vector<QuarantineRow> rows = Quarantine(store.fog->db_path());
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].size == 40'000'000);
    CHECK(rows[0].sha256 == Sha256Bytes(large));
    CHECK(rows[0].payload == large.substr(0, mqtt::kOversizedPrefixBytes));
    CHECK(rows[0].reason == "message of 40000000 bytes is over broker.max_message_bytes (" +
                                std::to_string(topics::kDefaultMaxMessageBytes) +
                                "): only its first 256 bytes are kept");
  }
  const int64_t after_40mb = PeakRss(pid);
  // Over the fog's packet size: the broker never sends it to the fog, which
  // sees the small message published after it and nothing of this one.
  publish(Garbage(64'000'000, 4));
  publish("marker");
  REQUIRE(WaitFor([&] { return store.FogQuarantined("does not parse") == 1; },
                  std::chrono::seconds(30)));
  CHECK(store.FogQuarantined() == 2);
  const int64_t after_64mb = PeakRss(pid);
  WARN("fogd VmHWM: idle " << idle / 1000 << " kB, after a 40 MB payload " << after_40mb / 1000
                           << " kB, after a 64 MB one " << after_64mb / 1000 << " kB");
  CHECK(after_40mb <= 200'000'000);
  CHECK(after_64mb <= 200'000'000);
  REQUIRE(store.fog->Running());
  // Nothing of either was stored beyond the prefix.
  REQUIRE(store.fog->Stop() == 0);
  int64_t stored = 0;
  for (const char* f : {"fog.db", "fog.db-wal"}) {
    const std::string p = store.fog->data_dir() + "/" + f;
    if (fs::exists(p)) stored += static_cast<int64_t>(fs::file_size(p));
  }
  CHECK(stored < 4 * kMiB);
}

TEST_CASE("the broker configs limit messages to the fog's default max_message_bytes",
          "[hardening-limits][provision]") {
  const std::string dir = MakeTempDir("limits-broker");
  Ran r =
      RunTool(dir, "storectl", {"provision", "store", "--store", "store-1", "--out", dir + "/p"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  const std::string line =
      "\nmessage_size_limit " + std::to_string(topics::kDefaultMaxMessageBytes) + "\n";
  CHECK_THAT(ReadFile(dir + "/p/mosquitto/store-broker.conf"), Catch::Contains(line));
  CHECK_THAT(ReadFile(std::string(SN_SOURCE_DIR) + "/firmware-configs/mosquitto/dev-broker.conf"),
             Catch::Contains(line));
  CHECK_THAT(ReadFile(std::string(SN_SOURCE_DIR) + "/tools/demo_lib.sh"), Catch::Contains(line));
  // The fog's default is that limit.
  const std::string path = WriteFogConfig(dir, dir + "/data");
  auto config = fog::LoadConfig(path);
  REQUIRE(config.ok());
  CHECK(config->max_message_bytes == topics::kDefaultMaxMessageBytes);
}
