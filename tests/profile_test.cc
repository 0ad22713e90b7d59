// edge::LoadProfile: the till profile that `storectl provision till` writes
// from firmware-configs/till.toml, read key for key, and refused with a
// one-line reason when it is broken.
#include "storenode/profile.h"

#include <catch2/catch.hpp>
#include <cstring>
#include <fstream>
#include <regex>

#include "support/fog.h"
#include "support/harness.h"

using namespace storenode;
using namespace storenode::testing;

namespace {

// The shipped profile with its placeholders filled and TLS files that exist.
std::string ShippedProfile(const std::string& dir) {
  for (const char* f : {"ca.crt", "till.crt", "till.key"}) std::ofstream(dir + "/" + f) << "pem\n";
  std::string text = ReadFile(std::string(SN_SOURCE_DIR) + "/firmware-configs/till.toml");
  for (const auto& [from, to] : {std::pair{"@STORE@", "store-042"},
                                 {"@DEVICE@", "till-7"},
                                 {"@HOST@", "fog.store-042.lan"},
                                 {"@PORT@", "8883"},
                                 {"@TLS_DIR@", dir.c_str()}}) {
    text = std::regex_replace(text, std::regex(from), to);
  }
  // What `storectl provision till --settings` writes: the fog's document.
  std::ofstream(dir + "/settings.pb") << sim::SimSettings("store-042");
  const std::string keys =
      "file = \"" + dir + "/settings.pb\"\nfog_key = \"" + std::string(64, 'a') + "\"";
  text.replace(text.find("@SETTINGS_KEYS@"), std::strlen("@SETTINGS_KEYS@"), keys);
  return text;
}

std::string Write(const std::string& dir, const std::string& text) {
  const std::string path = dir + "/till.toml";
  std::ofstream(path, std::ios::trunc) << text;
  return path;
}

}  // namespace

TEST_CASE("the shipped till profile loads into the journal and sync options", "[profile]") {
  const std::string dir = MakeTempDir("profile");
  auto p = edge::LoadProfile(Write(dir, ShippedProfile(dir)));
  INFO(p.status().ToString());
  REQUIRE(p.ok());
  CHECK(p->journal.store_id == "store-042");
  CHECK(p->journal.device_id == "till-7");
  CHECK(p->journal.journal_path == "/var/lib/storenode/till/journal.db");
  CHECK(p->journal.key_path == "/var/lib/storenode/till/journal.db.key");
  CHECK(p->journal.catalog_path == "/var/lib/storenode/till/journal.db.catalog");
  CHECK(p->journal.settings == sim::SimSettings("store-042"));
  CHECK(p->journal.settings_issuer == std::string(32, '\xaa'));
  CHECK(p->sync.broker.uri == "ssl://fog.store-042.lan:8883");
  CHECK_FALSE(p->sync.broker.insecure);
  CHECK(p->sync.broker.ca_file == dir + "/ca.crt");
  CHECK(p->sync.broker.cert_file == dir + "/till.crt");
  CHECK(p->sync.broker.key_file == dir + "/till.key");
  CHECK(p->sync.batch_events == 100);
  CHECK(p->sync.window_events == 4000);
  CHECK(p->sync.ack_timeout_ms == 3000);
  CHECK(p->sync.retention_days == 14);
  CHECK(p->sync.status_interval_ms == 5000);
  CHECK(p->sync.catalog_fetch_timeout_ms == 10000);
}

TEST_CASE("a broken till profile is refused with the key and the reason", "[profile]") {
  const std::string dir = MakeTempDir("profile");
  const std::string good = ShippedProfile(dir);
  struct Case {
    std::string from, to, message;
  };
  for (const Case& c : std::vector<Case>{
           {"uri = \"ssl://fog.store-042.lan:8883\"", "uri = \"tcp://fog:1883\"",
            "key 'broker.uri': plain tcp:// needs broker.insecure = true"},
           {"ca_file = \"" + dir + "/ca.crt\"", "ca_file = \"" + dir + "/missing.crt\"",
            "key 'broker.ca_file': cannot open " + dir + "/missing.crt: No such file"},
           {"batch_events = 100", "batch_events = 0",
            "key 'sync.batch_events': 0 is out of range 1..1000"},
           {"batch_events = 100", "batch_events = 4294967297",
            "key 'sync.batch_events': 4294967297 is out of range 1..1000"},
           {"id = \"till-7\"", "id = \"till/7\"", "key 'device.id'"},
           // A profile from before store settings says where they went.
           {"[settings]", "[tax_rates]\nA = 2000\n\n[settings]",
            "section [tax_rates] moved to the store settings the fog issues"},
           {"fog_key = \"aaaa", "fog_key = \"zzzz", "key 'settings.fog_key': want 64 hex digits"},
           {dir + "/settings.pb\"", dir + "/missing.pb\"", "key 'settings.file': cannot open"},
       }) {
    INFO(c.to);
    std::string text = good;
    const size_t at = text.find(c.from);
    REQUIRE(at != std::string::npos);
    text.replace(at, c.from.size(), c.to);
    auto p = edge::LoadProfile(Write(dir, text));
    REQUIRE_FALSE(p.ok());
    CHECK_THAT(p.status().message(), Catch::Contains(c.message));
    CHECK(p.status().message().find('\n') == std::string::npos);
  }
  auto missing = edge::LoadProfile(dir + "/nope.toml");
  CHECK(missing.status().code() == Code::kNotFound);
}
