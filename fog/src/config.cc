#include "storenode/common/config.h"

#include "access.h"
#include "console.h"
#include "storenode/common/crypto.h"
#include "storenode/fog/fog.h"

namespace storenode::fog {

Result<Config> LoadConfig(const std::string& path) {
  SN_ASSIGN_OR_RETURN(ConfigReader r, ConfigReader::Open(path));
  Config c;
  c.source = path;
  c.store_id = r.String("store.id");
  c.broker = ReadBrokerLink(r, "broker", c.broker);
  c.data_dir = r.String("data.dir");
  c.expected_tills = r.StringList("tills.expected");
  c.trust_on_first_use = r.Bool("tills.trust_on_first_use", c.trust_on_first_use);
  c.tills_registry = r.String("tills.registry", c.data_dir + "/tills.toml");
  c.log_level = r.String("log.level", c.log_level);
  c.gap_hold_ms = static_cast<int>(r.Int("ingest.gap_hold_ms", c.gap_hold_ms));
  c.max_batch_events = static_cast<int>(r.Int("ingest.max_batch_events", c.max_batch_events));
  c.reassert_ms = static_cast<int>(r.Int("sync.reassert_ms", c.reassert_ms));
  c.catalog_tax_codes = r.StringList("catalog.tax_codes");
  LedgerLink& l = c.ledger;
  if (r.Has("ledger")) {  // optional, but with a uri when present
    l.link = ReadBrokerLink(r, "ledger", {.client_id = c.store_id + "-fog-ledger"});
  }
  l.public_key = r.String("ledger.public_key", "");
  l.retry_min_ms = static_cast<int>(r.Int("ledger.retry_min_ms", l.retry_min_ms));
  l.retry_max_ms = static_cast<int>(r.Int("ledger.retry_max_ms", l.retry_max_ms));
  SN_RETURN_IF_ERROR(ReadConsoleConfig(r, &c.console));
  SN_RETURN_IF_ERROR(ReadAccessConfig(r, &c.roles, &c.requests));
  SN_RETURN_IF_ERROR(r.Finish());
  auto bad = [&](const std::string& key, const std::string& why) {
    return Status::Invalid(path + ": key '" + key + "': " + why);
  };
  if (c.store_id.empty()) return bad("store.id", "must not be empty");
  if (c.store_id.find_first_of("/+#") != std::string::npos) {
    return bad("store.id", "must not contain '/', '+' or '#'");
  }
  SN_RETURN_IF_ERROR(CheckBrokerLink(path, "broker", c.broker));
  if (!l.link.uri.empty()) {
    SN_RETURN_IF_ERROR(CheckBrokerLink(path, "ledger", l.link));
    if (!l.public_key.empty()) {
      auto key = crypto::FromHex(l.public_key);
      if (!key.ok() || key->size() != 32) {
        return bad("ledger.public_key", "want 64 hex digits (an Ed25519 public key)");
      }
    }
    if (l.retry_min_ms < 1) return bad("ledger.retry_min_ms", "must be at least 1");
    if (l.retry_max_ms < l.retry_min_ms) {
      return bad("ledger.retry_max_ms", "must not be below ledger.retry_min_ms");
    }
  }
  if (c.gap_hold_ms < 0) return bad("ingest.gap_hold_ms", "must not be negative");
  if (c.max_batch_events < 1) return bad("ingest.max_batch_events", "must be at least 1");
  if (c.reassert_ms < 100 || c.reassert_ms > 3600000) {
    return bad("sync.reassert_ms", "must be within 100..3600000");
  }
  return c;
}

}  // namespace storenode::fog
