#include "metrics.h"

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "access.h"

namespace storenode::fog {

ProcessFigures ReadProcessFigures() {
  ProcessFigures p;
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  {
    std::ifstream statm("/proc/self/statm");
    double size = 0, resident = 0;
    if (statm >> size >> resident) p.resident_bytes = resident * page;
  }
  {
    // Fields after the command (which may hold spaces, in parentheses):
    // 3 state ... 14 utime 15 stime ... 22 starttime, in clock ticks.
    std::ifstream stat("/proc/self/stat");
    std::string line;
    std::getline(stat, line);
    const size_t close = line.rfind(')');
    if (close != std::string::npos) {
      std::istringstream fields(line.substr(close + 2));
      std::vector<std::string> f{std::istream_iterator<std::string>(fields), {}};
      if (f.size() > 19) {
        p.cpu_seconds = (std::stod(f[11]) + std::stod(f[12])) / tick;
        std::ifstream boot("/proc/stat");
        for (std::string key; boot >> key;) {
          if (key == "btime") {
            double btime = 0;
            boot >> btime;
            p.start_time_seconds = btime + std::stod(f[19]) / tick;
            break;
          }
        }
      }
    }
  }
  std::error_code ec;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    ++p.open_fds;
  }
  return p;
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

using Labels = std::vector<std::pair<std::string, std::string>>;

// One metric family: HELP, TYPE, then its samples.
class Family {
 public:
  Family(std::string* out, const char* name, const char* type, const char* help)
      : out_(out), name_(name) {
    *out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  }
  void Add(double value) { Line(name_, {}, value); }
  void Add(const Labels& labels, double value) { Line(name_, labels, value); }
  void Add(const std::string& label, const std::string& label_value, double value) {
    Line(name_, {{label, label_value}}, value);
  }
  // The _bucket, _sum and _count samples of a histogram family.
  void Add(const Histogram::Figures& h) {
    for (size_t i = 0; i < h.cumulative.size(); ++i) {
      const std::string le = i < h.bounds.size() ? fmt::format("{}", h.bounds[i]) : "+Inf";
      Line(name_ + "_bucket", {{"le", le}}, static_cast<double>(h.cumulative[i]));
    }
    Line(name_ + "_sum", {}, h.sum);
    Line(name_ + "_count", {}, static_cast<double>(h.count()));
  }

 private:
  void Line(const std::string& name, const Labels& labels, double value) {
    std::string l;
    for (const auto& [k, v] : labels)
      l += fmt::format("{}{}=\"{}\"", l.empty() ? "" : ",", k, Escape(v));
    *out_ += l.empty() ? fmt::format("{} {}\n", name, value)
                       : fmt::format("{}{{{}}} {}\n", name, l, value);
  }
  std::string* out_;
  std::string name_;
};

double Seconds(int64_t us) { return static_cast<double>(us) / 1e6; }

// A histogram with no observation yet has empty figures: its buckets are
// still all there, at zero, so the series exist from the first scrape.
Histogram::Figures OrEmpty(const Histogram::Figures& h, const std::vector<double>& bounds) {
  return h.cumulative.empty() ? Histogram(bounds).Read() : h;
}

}  // namespace

std::string FormatMetrics(const MetricsSample& now) {
  std::string out;
  const v1::StoreStatus& s = now.status;
  Family(&out, "storenode_build_info", "gauge", "1, labelled with the fog's version.")
      .Add("version", now.version, 1);
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
    Family f(&out, "storenode_fog_till_quarantined_batches", "gauge",
             "Quarantined batches of the till on record (bad bytes, chain or signature).");
    for (const auto& t : s.tills()) {
      f.Add("device", t.device_id(), static_cast<double>(t.quarantined()));
    }
  }
  Family(&out, "storenode_fog_quarantined_batches", "gauge",
         "Quarantined batches of all devices on record.")
      .Add(static_cast<double>(s.quarantine_count()));
  Family(&out, "storenode_fog_events_stored_total", "counter",
         "Journal events stored since the fog started.")
      .Add(static_cast<double>(now.counters.events_stored));
  Family(&out, "storenode_fog_duplicate_events_total", "counter",
         "Journal events received again and ignored since the fog started.")
      .Add(static_cast<double>(now.counters.duplicates));
  Family(&out, "storenode_fog_ingest_commit_duration_seconds", "histogram",
         "Commits of ingest batches (journal events and their read models) since the fog started.")
      .Add(OrEmpty(now.ingest_commit_seconds, kCommitBounds));
  Family(&out, "storenode_fog_closedown_duration_seconds", "histogram",
         "Close-downs since the fog started, from the first request for the day to its Z.")
      .Add(OrEmpty(now.closedown_seconds, kCloseDownBounds));
  {
    Family f(&out, "storenode_fog_requests_refused_total", "counter",
             "Requests refused before any work: over the sender's rate, from an unknown or "
             "revoked till, coalesced with an answer just sent, or with a foreign reply topic.");
    auto refused = now.requests_refused;
    for (const char* topic : {kCatalogReq, kFogReq}) refused.try_emplace({topic, "rate"}, 0);
    for (const auto& [key, n] : refused) {
      f.Add({{"topic", key.first}, {"reason", key.second}}, static_cast<double>(n));
    }
  }
  const v1::LedgerStatus& l = s.ledger();
  Family(&out, "storenode_fog_ledger_backlog", "gauge",
         "Close-downs without a verified cloud ledger receipt.")
      .Add(static_cast<double>(l.backlog()));
  Family(&out, "storenode_fog_ledger_connected", "gauge",
         "1 while the fog is connected to the cloud ledger's broker.")
      .Add(l.connected() ? 1 : 0);
  Family(&out, "storenode_fog_ledger_alerts_total", "counter",
         "Ledger rejections, bad proofs and history changes on record in fog.db.")
      .Add(static_cast<double>(l.alerts()));
  Family(&out, "storenode_fog_database_size_bytes", "gauge",
         "Bytes of fog.db and its write-ahead log.")
      .Add(static_cast<double>(now.database_bytes));
  Family(&out, "storenode_fog_disk_free_bytes", "gauge",
         "Bytes free to the fog on the file system of data.dir.")
      .Add(static_cast<double>(now.disk_free_bytes));
  {
    Family f(
        &out, "storenode_fog_certificate_expiry_seconds", "gauge",
        "Seconds until the notAfter of each TLS certificate the fog uses (negative: expired).");
    for (const CertificateExpiry& c : now.certificates) {
      f.Add({{"key", c.key}, {"file", c.file}},
            static_cast<double>(c.not_after_s) - Seconds(now.now_us));
    }
  }
  const ProcessFigures& p = now.process;
  Family(&out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.")
      .Add(p.resident_bytes);
  Family(&out, "process_cpu_seconds_total", "counter", "User and system CPU time in seconds.")
      .Add(p.cpu_seconds);
  Family(&out, "process_open_fds", "gauge", "Open file descriptors.").Add(p.open_fds);
  Family(&out, "process_start_time_seconds", "gauge",
         "Start time of the process since the Unix epoch in seconds.")
      .Add(p.start_time_seconds);
  return out;
}

}  // namespace storenode::fog
