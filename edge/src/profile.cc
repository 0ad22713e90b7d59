#include "storenode/profile.h"

#include "storenode/common/broker_link.h"
#include "storenode/common/files.h"
#include "storenode/common/topics.h"

namespace storenode::edge {

Result<Profile> LoadProfile(const std::string& path) {
  SN_ASSIGN_OR_RETURN(ConfigReader r, ConfigReader::Open(path));
  Profile p;
  Options& j = p.journal;
  j.store_id = r.String("store.id");
  j.device_id = r.String("device.id");
  // The journal's files are the POS process's to create (edge::Journal::Open
  // names them when it cannot); a profile is often read on another machine.
  j.journal_path = r.String("journal.path");
  j.key_path = r.String("journal.key_path", "");
  j.catalog_path = r.String("journal.catalog_path", "");
  // The store settings a till is provisioned with (storectl provision till
  // writes settings.pb and the fog's key); the fog sends newer ones.
  std::string settings_file = r.Path("settings.file", PathUse::kReadFile, "");
  std::string fog_key = r.String("settings.fog_key", "");
  for (const char* moved : {"money", "tax_rates", "day"}) {
    if (r.Has(moved)) {
      return Status::Invalid(path + ": section [" + std::string(moved) +
                             "] moved to the store settings the fog issues (fog.toml [store]); "
                             "see docs/DEPLOY.md, \"Upgrading to store settings\"");
    }
  }
  SyncOptions& s = p.sync;
  s.broker = ReadBrokerLink(r, "broker");
  // sync.batch_events' top is what topics::kDefaultMaxMessageBytes is sized from.
  constexpr int64_t kHourMs = 3600 * 1000;
  s.batch_events = static_cast<size_t>(r.Int("sync.batch_events", 100, {1, 1000}));
  s.max_inflight_batches = static_cast<size_t>(r.Int("sync.max_inflight_batches", 8, {1, 1000}));
  s.window_events = static_cast<size_t>(r.Int("sync.window_events", 4000, {1, 1000000}));
  s.ack_timeout_ms = static_cast<int>(r.Int("sync.ack_timeout_ms", s.ack_timeout_ms, {1, kHourMs}));
  s.retention_days =
      static_cast<int>(r.Int("sync.retention_days", s.retention_days, {1, 100 * 366}));
  s.catalog_fetch_timeout_ms = static_cast<int>(
      r.Int("sync.catalog_fetch_timeout_ms", s.catalog_fetch_timeout_ms, {1, kHourMs}));
  s.status_interval_ms =
      static_cast<int>(r.Int("sync.status_interval_ms", s.status_interval_ms, {1, kHourMs}));
  SN_RETURN_IF_ERROR(r.Finish());

  auto bad = [&](const std::string& key, const std::string& why) {
    return Status::Invalid(path + ": key '" + key + "': " + why);
  };
  if (!topics::ValidId(j.store_id)) return bad("store.id", "must be non-empty without / + #");
  if (!topics::ValidId(j.device_id)) return bad("device.id", "must be non-empty without / + #");
  if (j.journal_path.empty()) return bad("journal.path", "must not be empty");
  if (!settings_file.empty()) {
    SN_ASSIGN_OR_RETURN(j.settings, files::Read(settings_file));
  }
  if (!fog_key.empty()) {
    auto key = crypto::FromHex(fog_key);
    if (!key.ok() || key->size() != 32) return bad("settings.fog_key", "want 64 hex digits");
    j.settings_issuer = *key;
  }
  SN_RETURN_IF_ERROR(CheckBrokerLink(path, "broker", s.broker));
  return p;
}

}  // namespace storenode::edge
