// ledger-sink's config file (firmware-configs/ledger-sink.toml documents
// every key).
#include "storenode/common/config.h"

#include "ledger-sink/sink.h"
#include "ledger/sql_conn.h"
#include "storenode/common/topics.h"

namespace storenode::ledger {

Result<SinkConfig> LoadSinkConfig(const std::string& path) {
  SN_ASSIGN_OR_RETURN(ConfigReader r, ConfigReader::Open(path));
  SinkConfig c;
  c.source = path;
  c.ledger_id = r.String("ledger.id");
  NatsLink& n = c.nats;
  n.servers = r.StringList("nats.servers");
  if (n.servers.empty()) c.broker = ReadBrokerLink(r, "broker", c.broker);
  n.stream = r.String("nats.stream", n.stream);
  n.durable = r.String("nats.durable", n.durable);
  n.replicas = static_cast<int>(r.Int("nats.replicas", n.replicas, {1, 5}));
  n.keep_days = static_cast<int>(r.Int("nats.keep_days", n.keep_days, {1, 3650}));
  n.ca_file = r.Path("nats.ca_file", PathUse::kReadFile, "");
  n.cert_file = r.Path("nats.cert_file", PathUse::kReadFile, "");
  n.key_file = r.Path("nats.key_file", PathUse::kReadFile, "");
  c.postgres = r.String("storage.postgres", "");
  c.ledger_key_file = r.Path("ledger.key_file", PathUse::kCreateFile);
  c.data_dir = r.Path("data.dir", PathUse::kDirectory);
  c.accept_unknown = r.Bool("stores.accept_unknown", c.accept_unknown);
  std::map<std::string, std::string> pinned_hex;
  for (const std::string& store : r.TableKeys("stores.pinned")) {
    // A store id with a dot would read as a nested table: ConfigReader keys
    // are dotted paths. Topic ids allow dots, so such a store cannot be
    // pinned here.
    pinned_hex[store] = r.String("stores.pinned." + store);
  }
  c.log_level = r.String("log.level", c.log_level);
  SN_RETURN_IF_ERROR(r.Finish());

  auto bad = [&](const std::string& key, const std::string& why) {
    return Status::Invalid(path + ": key '" + key + "': " + why);
  };
  if (c.ledger_id.empty()) return bad("ledger.id", "must not be empty");
  if (c.ledger_key_file.empty()) return bad("ledger.key_file", "must not be empty");
  if (c.data_dir.empty()) return bad("data.dir", "must not be empty");
  if (n.servers.empty()) {
    SN_RETURN_IF_ERROR(CheckBrokerLink(path, "broker", c.broker));
  } else if (r.Has("broker.uri")) {
    return bad("broker.uri", "give [broker] (MQTT) or nats.servers (JetStream), not both");
  }
  if (n.servers.size() > 16) return bad("nats.servers", "at most 16 servers");
  bool tls = false;
  for (const std::string& s : n.servers) {
    if (!s.starts_with("nats://") && !s.starts_with("tls://")) {
      return bad("nats.servers", "'" + s + "' must start with nats:// or tls://");
    }
    tls = tls || s.starts_with("tls://");
  }
  if (tls && n.ca_file.empty()) return bad("nats.ca_file", "tls:// needs the chain CA");
  if (n.cert_file.empty() != n.key_file.empty()) {
    return bad(n.cert_file.empty() ? "nats.cert_file" : "nats.key_file",
               "give the worker's certificate and key together");
  }
  if (!tls && !n.ca_file.empty()) {
    return bad("nats.ca_file", "set, but no server is tls://");
  }
  if (!c.postgres.empty() && !IsPostgres(c.postgres)) {
    return bad("storage.postgres",
               "want a libpq conninfo (host=... dbname=...) or postgresql:// URI");
  }
  for (const auto& [store, hex] : pinned_hex) {
    const std::string key = "stores.pinned." + store;
    if (!topics::ValidId(store)) return bad(key, "not a store id");
    auto raw = crypto::FromHex(hex);
    auto pub = raw.ok() ? crypto::HashFromBytes(*raw) : Result<crypto::Hash>(raw.status());
    if (!pub.ok()) return bad(key, "want the fog's public key as 64 hex digits");
    c.pinned[store] = *pub;
  }
  if (!c.accept_unknown && c.pinned.empty()) {
    return bad("stores.accept_unknown", "false with no [stores.pinned] key refuses every store");
  }
  return c;
}

}  // namespace storenode::ledger
