#include "storenode/profile.h"

#include "storenode/common/broker_link.h"
#include "storenode/common/topics.h"

namespace storenode::edge {

Result<Profile> LoadProfile(const std::string& path) {
  SN_ASSIGN_OR_RETURN(ConfigReader r, ConfigReader::Open(path));
  Profile p;
  Options& j = p.journal;
  j.store_id = r.String("store.id");
  j.device_id = r.String("device.id");
  j.journal_path = r.String("journal.path");
  j.key_path = r.String("journal.key_path", "");
  j.catalog_path = r.String("journal.catalog_path", "");
  j.currency = r.String("money.currency", j.currency);
  j.cash_rounding = r.Int("money.cash_rounding", j.cash_rounding);
  for (const auto& [code, bp] : r.IntTable("tax_rates")) {
    j.tax_rates_bp[code] = static_cast<int32_t>(bp);
  }
  j.day_offset_minutes = static_cast<int>(r.Int("day.offset_minutes", j.day_offset_minutes));
  SyncOptions& s = p.sync;
  const BrokerLink link = ReadBrokerLink(r, "broker");
  s.broker_uri = link.uri;
  s.insecure = link.insecure;
  s.client_id = link.client_id;
  s.ca_file = link.ca_file;
  s.cert_file = link.cert_file;
  s.key_file = link.key_file;
  s.batch_events = static_cast<size_t>(r.Int("sync.batch_events", 100));
  s.max_inflight_batches = static_cast<size_t>(r.Int("sync.max_inflight_batches", 8));
  s.window_events = static_cast<size_t>(r.Int("sync.window_events", 4000));
  s.ack_timeout_ms = static_cast<int>(r.Int("sync.ack_timeout_ms", s.ack_timeout_ms));
  s.retention_days = static_cast<int>(r.Int("sync.retention_days", s.retention_days));
  s.catalog_fetch_timeout_ms =
      static_cast<int>(r.Int("sync.catalog_fetch_timeout_ms", s.catalog_fetch_timeout_ms));
  s.status_interval_ms = static_cast<int>(r.Int("sync.status_interval_ms", s.status_interval_ms));
  SN_RETURN_IF_ERROR(r.Finish());

  auto bad = [&](const std::string& key, const std::string& why) {
    return Status::Invalid(path + ": key '" + key + "': " + why);
  };
  if (!topics::ValidId(j.store_id)) return bad("store.id", "must be non-empty without / + #");
  if (!topics::ValidId(j.device_id)) return bad("device.id", "must be non-empty without / + #");
  if (j.journal_path.empty()) return bad("journal.path", "must not be empty");
  if (j.currency.size() != 3) return bad("money.currency", "want an ISO 4217 code like EUR");
  if (j.cash_rounding < 1) return bad("money.cash_rounding", "must be at least 1 (no rounding)");
  for (const auto& [code, bp] : j.tax_rates_bp) {
    if (bp < 0) return bad("tax_rates." + code, "must not be negative");
  }
  SN_RETURN_IF_ERROR(CheckBrokerLink(path, "broker", link));
  for (const auto& [key, v] : {std::pair{"sync.batch_events", int64_t(s.batch_events)},
                               {"sync.max_inflight_batches", int64_t(s.max_inflight_batches)},
                               {"sync.window_events", int64_t(s.window_events)},
                               {"sync.ack_timeout_ms", s.ack_timeout_ms},
                               {"sync.retention_days", s.retention_days},
                               {"sync.catalog_fetch_timeout_ms", s.catalog_fetch_timeout_ms},
                               {"sync.status_interval_ms", s.status_interval_ms}}) {
    if (v < 1) return bad(key, "must be at least 1");
  }
  return p;
}

}  // namespace storenode::edge
