#include "storenode/common/config.h"

#include "access.h"
#include "console.h"
#include "storenode/common/crypto.h"
#include "storenode/fog/fog.h"

namespace storenode::fog {
namespace {

constexpr int64_t kHourMs = 3600 * 1000;

}  // namespace

Result<Config> LoadConfig(const std::string& path) {
  SN_ASSIGN_OR_RETURN(ConfigReader r, ConfigReader::Open(path));
  Config c;
  c.source = path;
  c.store_id = r.String("store.id");
  c.broker = ReadBrokerLink(r, "broker", c.broker);
  c.data_dir = r.Path("data.dir", PathUse::kDirectory);
  c.expected_tills = r.StringList("tills.expected");
  c.trust_on_first_use = r.Bool("tills.trust_on_first_use", c.trust_on_first_use);
  c.tills_registry = r.Path("tills.registry", PathUse::kFileIfPresent, c.data_dir + "/tills.toml");
  c.log_level = r.String("log.level", c.log_level);
  c.max_message_bytes =
      static_cast<size_t>(r.Int("broker.max_message_bytes",
                                static_cast<int64_t>(c.max_message_bytes), kMaxMessageBytesRange));
  c.gap_hold_ms = static_cast<int>(r.Int("ingest.gap_hold_ms", c.gap_hold_ms, {0, kHourMs}));
  c.max_batch_events =
      static_cast<int>(r.Int("ingest.max_batch_events", c.max_batch_events, {1, 1000000}));
  c.reassert_ms = static_cast<int>(r.Int("sync.reassert_ms", c.reassert_ms, {100, kHourMs}));
  c.catalog_tax_codes = r.StringList("catalog.tax_codes");
  LedgerLink& l = c.ledger;
  if (r.Has("ledger")) {  // optional, but with a uri when present
    l.link = ReadBrokerLink(r, "ledger", {.client_id = c.store_id + "-fog-ledger"});
  }
  l.public_key = r.String("ledger.public_key", "");
  l.retry_min_ms = static_cast<int>(r.Int("ledger.retry_min_ms", l.retry_min_ms, {1, kHourMs}));
  l.retry_max_ms =
      static_cast<int>(r.Int("ledger.retry_max_ms", l.retry_max_ms, {1, 24 * kHourMs}));
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
    if (l.retry_max_ms < l.retry_min_ms) {
      return bad("ledger.retry_max_ms", "must not be below ledger.retry_min_ms");
    }
  }
  return c;
}

}  // namespace storenode::fog
