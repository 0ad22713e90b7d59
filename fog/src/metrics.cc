#include "metrics.h"

#include <fmt/format.h>

#include "access.h"

namespace storenode::fog {

void NoteCloseDown(const NewestCloseDown& newest, MetricsSample* m) {
  v1::ZReport z;
  if (!z.ParseFromString(newest.z)) return;
  m->last_closedown_day = newest.business_day;
  m->last_closedown_s = static_cast<double>(z.created_us() - newest.requested_us) / 1e6;
}

namespace {

std::string Escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    out += c == '\n' ? std::string("\\n") : std::string(1, c);
  }
  return out;
}

// One metric family: HELP, TYPE, then its samples.
class Family {
 public:
  Family(std::string* out, const char* name, const char* type, const char* help)
      : out_(out), name_(name) {
    *out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  }
  void Add(double value) { *out_ += fmt::format("{} {}\n", name_, value); }
  void Add(const std::string& label, const std::string& label_value, double value) {
    *out_ += fmt::format("{}{{{}=\"{}\"}} {}\n", name_, label, Escape(label_value), value);
  }
  void Add(const std::string& label1, const std::string& value1, const std::string& label2,
           const std::string& value2, double value) {
    *out_ += fmt::format("{}{{{}=\"{}\",{}=\"{}\"}} {}\n", name_, label1, Escape(value1), label2,
                         Escape(value2), value);
  }

 private:
  std::string* out_;
  const char* name_;
};

double Seconds(int64_t us) { return static_cast<double>(us) / 1e6; }

}  // namespace

std::string FormatMetrics(const MetricsSample& now, const MetricsSample* prev) {
  std::string out;
  const v1::StoreStatus& s = now.status;
  Family(&out, "storenode_fog_broker_connected", "gauge",
         "1 while the fog is connected to the store broker.")
      .Add(now.broker_connected ? 1 : 0);
  {
    Family f(&out, "storenode_fog_till_online", "gauge", "1 while the till reports online.");
    for (const auto& t : s.tills()) f.Add("device", t.device_id(), t.online() ? 1 : 0);
  }
  {
    Family f(&out, "storenode_fog_till_backlog_events", "gauge",
             "Events the till has not had acked, as it last reported.");
    for (const auto& t : s.tills())
      f.Add("device", t.device_id(), static_cast<double>(t.backlog()));
  }
  {
    Family f(&out, "storenode_fog_till_last_seen_age_seconds", "gauge",
             "Seconds since the fog last heard from the till (absent: never).");
    for (const auto& t : s.tills()) {
      if (t.last_seen_us() > 0)
        f.Add("device", t.device_id(), Seconds(now.now_us - t.last_seen_us()));
    }
  }
  {
    Family f(&out, "storenode_fog_till_oldest_unsynced_age_seconds", "gauge",
             "Age of the till's oldest event not yet acked (absent: none).");
    for (const auto& t : s.tills()) {
      if (t.oldest_unacked_us() > 0 && t.backlog() > 0) {
        f.Add("device", t.device_id(), Seconds(now.now_us - t.oldest_unacked_us()));
      }
    }
  }
  {
    Family f(&out, "storenode_fog_till_quarantined", "gauge",
             "Quarantined batches of the till (bad bytes, chain or signature).");
    for (const auto& t : s.tills()) {
      f.Add("device", t.device_id(), static_cast<double>(t.quarantined()));
    }
  }
  Family(&out, "storenode_fog_quarantine_count", "gauge", "Quarantined batches of all devices.")
      .Add(static_cast<double>(s.quarantine_count()));
  Family(&out, "storenode_fog_events_stored_total", "counter",
         "Journal events stored since the fog started.")
      .Add(static_cast<double>(now.counters.events_stored));
  Family(&out, "storenode_fog_duplicate_events_total", "counter",
         "Journal events received again and ignored since the fog started.")
      .Add(static_cast<double>(now.counters.duplicates));
  if (prev != nullptr && now.now_us > prev->now_us &&
      now.counters.events_stored >= prev->counters.events_stored) {
    Family(&out, "storenode_fog_ingest_events_per_second", "gauge",
           "Events stored per second since the previous scrape.")
        .Add(static_cast<double>(now.counters.events_stored - prev->counters.events_stored) /
             Seconds(now.now_us - prev->now_us));
  }
  if (now.last_closedown_s) {
    Family(&out, "storenode_fog_closedown_duration_seconds", "gauge",
           "The newest close-down: from the first request for its day to its Z.")
        .Add("business_day", now.last_closedown_day, *now.last_closedown_s);
  }
  {
    Family f(&out, "storenode_fog_requests_refused_total", "counter",
             "Requests refused before any work: over the sender's rate, from an unknown or "
             "revoked till, coalesced with an answer just sent, or with a foreign reply topic.");
    auto refused = now.requests_refused;
    for (const char* topic : {kCatalogReq, kFogReq}) refused.try_emplace({topic, "rate"}, 0);
    for (const auto& [key, n] : refused) {
      f.Add("topic", key.first, "reason", key.second, static_cast<double>(n));
    }
  }
  const v1::LedgerStatus& l = s.ledger();
  Family(&out, "storenode_fog_ledger_backlog", "gauge",
         "Close-downs without a verified cloud ledger receipt.")
      .Add(static_cast<double>(l.backlog()));
  Family(&out, "storenode_fog_ledger_connected", "gauge",
         "1 while the fog is connected to the cloud ledger's broker.")
      .Add(l.connected() ? 1 : 0);
  Family(&out, "storenode_fog_ledger_alerts", "gauge",
         "Ledger rejections, bad proofs and history changes on record.")
      .Add(static_cast<double>(l.alerts()));
  return out;
}

}  // namespace storenode::fog
