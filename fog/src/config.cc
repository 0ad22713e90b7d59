#include "storenode/common/config.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "storenode/fog/fog.h"

namespace storenode::fog {

Result<Config> LoadConfig(const std::string& path) {
  SN_ASSIGN_OR_RETURN(ConfigReader r, ConfigReader::Open(path));
  Config c;
  c.source = path;
  c.store_id = r.String("store.id");
  c.broker_uri = r.String("broker.uri");
  c.client_id = r.String("broker.client_id", c.client_id);
  c.insecure = r.Bool("broker.insecure", false);
  c.ca_file = r.String("broker.ca_file", "");
  c.cert_file = r.String("broker.cert_file", "");
  c.key_file = r.String("broker.key_file", "");
  c.data_dir = r.String("data.dir");
  c.expected_tills = r.StringList("tills.expected");
  c.trust_on_first_use = r.Bool("tills.trust_on_first_use", c.trust_on_first_use);
  c.tills_registry = r.String("tills.registry", c.data_dir + "/tills.toml");
  c.log_level = r.String("log.level", c.log_level);
  c.gap_hold_ms = static_cast<int>(r.Int("ingest.gap_hold_ms", c.gap_hold_ms));
  c.max_batch_events = static_cast<int>(r.Int("ingest.max_batch_events", c.max_batch_events));
  SN_RETURN_IF_ERROR(r.Finish());
  auto bad = [&](const std::string& key, const std::string& why) {
    return Status::Invalid(path + ": key '" + key + "': " + why);
  };
  if (c.store_id.empty()) return bad("store.id", "must not be empty");
  if (c.store_id.find_first_of("/+#") != std::string::npos) {
    return bad("store.id", "must not contain '/', '+' or '#'");
  }
  bool tls = c.broker_uri.rfind("ssl://", 0) == 0;
  if (!tls && c.broker_uri.rfind("tcp://", 0) != 0) {
    return bad("broker.uri", "must start with tcp:// or ssl://");
  }
  if (!tls && !c.insecure) {
    return bad("broker.uri", "plain tcp:// needs broker.insecure = true");
  }
  if (tls && c.ca_file.empty()) return bad("broker.ca_file", "required with ssl://");
  for (const auto& [key, file] : {std::pair{"broker.ca_file", c.ca_file},
                                  {"broker.cert_file", c.cert_file},
                                  {"broker.key_file", c.key_file}}) {
    if (!file.empty() && access(file.c_str(), R_OK) != 0) {
      return bad(key, "cannot read " + file + ": " + std::strerror(errno));
    }
  }
  if (c.gap_hold_ms < 0) return bad("ingest.gap_hold_ms", "must not be negative");
  if (c.max_batch_events < 1) return bad("ingest.max_batch_events", "must be at least 1");
  return c;
}

}  // namespace storenode::fog
