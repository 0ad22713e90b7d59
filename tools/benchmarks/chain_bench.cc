// bench chain: the chain's cloud (issue 15) under simulated stores, against
// the raw limits of the same PostgreSQL and NATS cluster.
//
//   1. start   three nats-server nodes (JetStream R3, MQTT 3.1.1), a
//              throwaway PostgreSQL and --workers ledger-sink processes on
//              them (the chain test's setup, tests/chain_workers_test.cc).
//   2. stores  --stores MQTT connections, --per-process of them in each
//              `bench chain-stores` process (chain_stores.cc): every
//              connection is a store with its own fog key that makes real
//              chained Zs and follows the fog's protocol, receipts verified.
//              The phases, paced through files (chain_bench.h):
//                rate   --rate-s seconds at --rate Z/s, open loop;
//                max    --max-s seconds closed loop: each store's next Z as
//                       soon as the last one's receipt verified;
//                burst  one Z from each of --burst-stores stores, carried 5
//                       store ids per connection (10,000 over 2,000).
//              Latency is first submit .. verified receipt; a phase ends
//              when every Z it issued is receipted (or --drain-s later:
//              the rest is lost).
//   3. audit   the workers stop; ledger::VerifyLedgerDb on PostgreSQL must
//              pass with one record per Z submitted.
//   4. raw     single-row durable commits through libpq in a loop (one
//              connection) and JsPublish with its PubAck on an R3 stream of
//              the same cluster, after the run so that nothing competes.
//
// Targets (from the issue, 2 cores): >= 1,000 Z/s sustained, p99 <= 2 s at
// 500/s, the 10,000-store burst drained in <= 20 s, 2,000 connections held,
// nothing lost. Missed targets are printed; the bench does not fail on them.
#include "chain_bench.h"

#include <google/protobuf/util/json_util.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "bench.h"
#include "harness/nats.h"
#include "harness/postgres.h"
#include "host.h"
#include "jetstream.h"
#include "ledger/ledger.h"
#include "ledger/sql_conn.h"
#include "storenode/common/crypto.h"
#include "storenode/common/ledger.h"
#include "storenode/common/log.h"
#include "storenode/schemas/bench.pb.h"

namespace storenode::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kUsage =
    "usage: bench chain [--quick] [--stores N] [--per-process K] [--workers W] [--rate R]\n"
    "                   [--rate-s S] [--max-s S] [--burst-stores N] [--resend-ms MS]\n"
    "                   [--keep DIR]\n"
    "  --quick            a smoke run: 200 stores, 5 s phases, a 1,000-store burst\n"
    "  --stores N         stores, one MQTT connection each (default 2000)\n"
    "  --per-process K    connections per store process, at least 200 unless --stores is\n"
    "                     smaller (default 400)\n"
    "  --workers W        ledger-sink worker processes (default 2)\n"
    "  --rate R           Z/s of the open-loop phase (default 500)\n"
    "  --rate-s S         length of the open-loop phase (default 20)\n"
    "  --max-s S          length of the closed-loop phase (default 30)\n"
    "  --burst-stores N   stores of the burst, a multiple of --stores (default 10000)\n"
    "  --resend-ms MS     a store resends an unanswered Z after MS, doubling, with the\n"
    "                     fog's jitter (default: the fog's retry_min_ms default)\n"
    "  --keep DIR         work in DIR and keep it (logs, configs, the stores' reports)\n";

constexpr double kTargetZsPerSecond = 1000;
constexpr double kTargetP99At500 = 2;
constexpr double kTargetBurstSeconds = 20;
constexpr uint32_t kTargetConnections = 2000;
constexpr uint32_t kMinPerProcess = 200;

// A phase ends when its Zs are receipted, or this long after its end.
constexpr uint32_t kDrainSeconds = 120;
// zs_per_s counts receipts after the closed-loop phase's first seconds.
constexpr int64_t kMaxWarmupNs = 2'000'000'000;
constexpr auto kRawSeconds = std::chrono::seconds(3);
constexpr uint32_t kRawJsPublishers = 8;

struct Config {
  bool quick = false;
  uint32_t stores = 2000;
  uint32_t per_process = 400;
  uint32_t workers = 2;
  uint32_t rate = 500;
  uint32_t rate_s = 20;
  uint32_t max_s = 30;
  uint32_t burst_stores = 10000;
  uint32_t resend_ms = ledger::kRetryMinMs;
  std::string keep;
};

std::string Text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6g", v);
  return buf;
}

Status WaitForFile(const std::string& path, std::vector<Process>& children,
                   std::chrono::seconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!std::filesystem::exists(path)) {
    for (Process& child : children) {
      // One that ended well wrote its last file first: the others' are awaited.
      if (std::optional<Process::Exit> e = child.Poll(); e && e->code != 0) {
        return Status::Unavailable("a store process failed (code " + std::to_string(e->code) + ")");
      }
    }
    if (Clock::now() > deadline) return Status::Unavailable("no " + path + " in time");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Status::Ok();
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A ledger-sink worker on the cluster and PostgreSQL, as tests/support/
// ledger_sink.cc configures one.
struct Worker {
  std::string dir;
  std::optional<Process> process;
  std::string log() const { return dir + "/sink.log"; }
};

Status StartWorker(Worker& w, const std::string& sink, const std::string& key_path,
                   const harness::NatsCluster& nats, const std::string& conninfo) {
  std::filesystem::create_directories(w.dir);
  const std::string config_path = w.dir + "/ledger-sink.toml";
  std::ofstream config(config_path, std::ios::trunc);
  config << "[ledger]\nid = \"bench-chain\"\nkey_file = \"" << key_path
         << "\"\n\n[nats]\nservers = [";
  for (int i = 0; i < nats.nodes(); ++i) config << (i ? ", \"" : "\"") << nats.nats_url(i) << "\"";
  config << "]\n\n[storage]\npostgres = \"" << conninfo << "\"\n\n[data]\ndir = \"" << w.dir
         << "/data\"\n\n[log]\nlevel = \"info\"\n";
  config.close();
  if (!config) return Status::Io("cannot write " + config_path);
  SN_ASSIGN_OR_RETURN(Process p, Process::Spawn({sink, "--config", config_path}, w.log(), w.log()));
  w.process.emplace(std::move(p));
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (ReadText(w.log()).find("ledger-sink ready") == std::string::npos) {
    if (std::optional<Process::Exit> e = w.process->Poll()) {
      return Status::Unavailable("ledger-sink exited (code " + std::to_string(e->code) + "; see " +
                                 w.log() + ")");
    }
    if (Clock::now() > deadline)
      return Status::Unavailable("ledger-sink not ready; see " + w.log());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return Status::Ok();
}

// Single-row durable commits through libpq, one connection, autocommit.
Result<double> RawPgCommitsPerSecond(const std::string& conninfo, size_t row_bytes) {
  SN_ASSIGN_OR_RETURN(std::unique_ptr<ledger::SqlConn> conn, ledger::OpenPostgres(conninfo));
  SN_RETURN_IF_ERROR(
      conn->Script("DROP TABLE IF EXISTS bench_raw; CREATE TABLE bench_raw (id BIGINT PRIMARY KEY, "
                   "body BYTEA)"));
  const std::string body(row_bytes, 'z');
  const auto start = Clock::now();
  int64_t rows = 0;
  while (Clock::now() - start < kRawSeconds) {
    const ledger::SqlValue args[] = {ledger::Int(static_cast<uint64_t>(rows)), ledger::Blob(body)};
    SN_RETURN_IF_ERROR(conn->Run("INSERT INTO bench_raw (id, body) VALUES (?, ?)", args));
    ++rows;
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  SN_RETURN_IF_ERROR(conn->Script("DROP TABLE bench_raw"));
  return static_cast<double>(rows) / seconds;
}

// JsPublish (waits for the PubAck) on an R3 stream of its own, from
// kRawJsPublishers threads on one connection.
Result<double> RawJsPublishPerSecond(const harness::NatsCluster& nats, size_t message_bytes) {
  ledger::JetStreamOptions o;
  for (int i = 0; i < nats.nodes(); ++i) o.servers.push_back(nats.nats_url(i));
  o.stream = "SN_BENCH_RAW";
  o.subjects = {"sn.bench.raw"};
  o.durable = "bench-raw";
  o.name = "storenode-bench-raw";
  SN_ASSIGN_OR_RETURN(std::unique_ptr<ledger::JetStream> js, ledger::JetStream::Connect(o));
  const std::string payload(message_bytes, 'z');
  std::atomic<uint64_t> published{0};
  std::atomic<bool> failed{false};
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (uint32_t t = 0; t < kRawJsPublishers; ++t) {
    threads.emplace_back([&] {
      while (Clock::now() - start < kRawSeconds) {
        if (!js->JsPublish("sn.bench.raw", payload).ok()) {
          failed = true;
          return;
        }
        ++published;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (failed) return Status::Unavailable("a raw JetStream publish failed");
  return static_cast<double>(published) / seconds;
}

// The latencies (s) of the receipted samples, and how many have none.
struct PhaseFigures {
  std::vector<int64_t> latencies_ns;
  uint64_t issued = 0;
  uint64_t lost = 0;
  int64_t first_submit_ns = INT64_MAX;
  int64_t last_receipt_ns = 0;
  uint64_t resends = 0;
  uint32_t connected = 0;
  uint64_t receipts_in_window = 0;
};

PhaseFigures Collect(const std::vector<v1::ChainStoresReport>& reports, size_t phase,
                     int64_t window_from_ns, int64_t window_to_ns) {
  PhaseFigures f;
  for (const v1::ChainStoresReport& r : reports) {
    const v1::ChainStoresPhase& p = r.phases(static_cast<int>(phase));
    f.resends += p.resends();
    f.connected += p.connected();
    for (int i = 0; i < p.submit_ns_size(); ++i) {
      ++f.issued;
      f.first_submit_ns = std::min(f.first_submit_ns, p.submit_ns(i));
      if (p.receipt_ns(i) == 0) {
        ++f.lost;
        continue;
      }
      f.latencies_ns.push_back(p.receipt_ns(i) - p.submit_ns(i));
      f.last_receipt_ns = std::max(f.last_receipt_ns, p.receipt_ns(i));
      if (p.receipt_ns(i) >= window_from_ns && p.receipt_ns(i) < window_to_ns) {
        ++f.receipts_in_window;
      }
    }
  }
  return f;
}

struct CpuSample {
  double workers = 0, nats = 0, stores = 0, host = 0;
};

Result<CpuSample> SampleCpu(const std::vector<Worker>& workers, const harness::NatsCluster& nats,
                            const std::vector<Process>& stores) {
  CpuSample s;
  for (const Worker& w : workers) {
    SN_ASSIGN_OR_RETURN(ProcUsage u, ReadProcUsage(w.process->pid()));
    s.workers += u.cpu_seconds;
  }
  for (int i = 0; i < nats.nodes(); ++i) {
    SN_ASSIGN_OR_RETURN(ProcUsage u, ReadProcUsage(nats.pid(i)));
    s.nats += u.cpu_seconds;
  }
  for (const Process& p : stores) {
    SN_ASSIGN_OR_RETURN(ProcUsage u, ReadProcUsage(p.pid()));
    s.stores += u.cpu_seconds;
  }
  SN_ASSIGN_OR_RETURN(s.host, HostBusySeconds());
  return s;
}

void CheckTargets(const Config& config, v1::ChainBenchResult* r) {
  auto miss = [&](const std::string& what) { r->add_missed_targets(what); };
  if (r->zs_per_s() < kTargetZsPerSecond) {
    miss("zs_per_s " + Text(r->zs_per_s()) + " below " + Text(kTargetZsPerSecond));
  }
  if (r->p99_receipt_s_at_500() > kTargetP99At500) {
    miss("p99_receipt_s_at_500 " + Text(r->p99_receipt_s_at_500()) + " above " +
         Text(kTargetP99At500));
  }
  if (r->burst_10k_s() > kTargetBurstSeconds || r->burst_stores() < 10000) {
    miss("burst_10k_s " + Text(r->burst_10k_s()) + " for " + std::to_string(r->burst_stores()) +
         " stores; target <= " + Text(kTargetBurstSeconds) + " for 10000");
  }
  if (r->connections() < kTargetConnections) {
    miss("connections " + std::to_string(r->connections()) + " below " +
         std::to_string(kTargetConnections));
  }
  if (r->lost() != 0) miss("lost " + std::to_string(r->lost()) + " Zs");
  if (r->verify_errors() != 0) miss(std::to_string(r->verify_errors()) + " verify errors");
  if (!r->audit_ok()) miss("the ledger audit failed: " + r->audit_error());
  (void)config;
  r->set_target_met(r->missed_targets_size() == 0);
}

Status Run(const Config& config, v1::ChainBenchResult* result) {
  result->set_date(NowIso());
  std::optional<TempDir> temp;
  SN_ASSIGN_OR_RETURN(const std::string dir, PrepareRunDir("chain", config.keep, &temp));
  SN_ASSIGN_OR_RETURN(const std::string self, SelfExe());
  const std::string sink = (std::filesystem::path(self).parent_path() / "ledger-sink").string();

  // Declared after `temp`: every server is stopped before the directory goes.
  harness::NatsCluster nats(dir + "/nats");
  SN_RETURN_IF_ERROR(nats.Start());
  harness::PgCluster pg(dir + "/pg");
  SN_RETURN_IF_ERROR(pg.Start());
  std::fprintf(stderr, "bench chain: NATS at %s, %s, %s; PostgreSQL on port %d\n",
               nats.mqtt_uri(0).c_str(), nats.mqtt_uri(1).c_str(), nats.mqtt_uri(2).c_str(),
               pg.port());

  std::vector<Worker> workers(config.workers);
  const std::string key_path = dir + "/ledger.key";
  for (uint32_t i = 0; i < config.workers; ++i) {
    workers[i].dir = dir + "/worker-" + std::to_string(i + 1);
    SN_RETURN_IF_ERROR(StartWorker(workers[i], sink, key_path, nats, pg.conninfo()));
  }
  SN_ASSIGN_OR_RETURN(crypto::SigningKey ledger_key, crypto::SigningKey::Load(key_path));
  const std::string key_hex = crypto::ToHex(ledger_key.public_key());

  // The stores' processes.
  std::string mqtt;
  for (int i = 0; i < nats.nodes(); ++i) mqtt += (i ? "," : "") + nats.mqtt_uri(i);
  const uint32_t per_connection = config.burst_stores / config.stores;
  std::vector<Process> children;
  std::vector<uint32_t> firsts;
  for (uint32_t first = 0; first < config.stores; first += config.per_process) {
    const uint32_t n = std::min(config.per_process, config.stores - first);
    const std::string log = dir + "/stores-" + std::to_string(first);
    SN_ASSIGN_OR_RETURN(Process child, Process::Spawn({self,
                                                       "chain-stores",
                                                       "--dir",
                                                       dir,
                                                       "--first",
                                                       std::to_string(first),
                                                       "--connections",
                                                       std::to_string(n),
                                                       "--total-connections",
                                                       std::to_string(config.stores),
                                                       "--per-connection",
                                                       std::to_string(per_connection),
                                                       "--mqtt",
                                                       mqtt,
                                                       "--ledger-key",
                                                       key_hex,
                                                       "--rate",
                                                       std::to_string(config.rate),
                                                       "--rate-s",
                                                       std::to_string(config.rate_s),
                                                       "--max-s",
                                                       std::to_string(config.max_s),
                                                       "--resend-ms",
                                                       std::to_string(config.resend_ms),
                                                       "--drain-s",
                                                       std::to_string(kDrainSeconds)},
                                                      log + ".json", log + ".log"));
    children.push_back(std::move(child));
    firsts.push_back(first);
  }
  std::fprintf(stderr, "bench chain: %u workers up; %zu store processes connecting %u stores\n",
               config.workers, children.size(), config.stores);
  for (uint32_t first : firsts) {
    SN_RETURN_IF_ERROR(WaitForFile(ChainSignalPath(dir, "ready-" + std::to_string(first)), children,
                                   std::chrono::seconds(240)));
  }
  result->set_host_load_1m(Round(HostLoad1m(), 2));

  std::vector<int64_t> starts;
  CpuSample cpu_before, cpu_after;
  for (std::string_view phase : kChainPhases) {
    const int64_t start_ns = MonotonicNanos() + 200'000'000;
    starts.push_back(start_ns);
    {
      const std::string path = ChainSignalPath(dir, "go-" + std::string(phase));
      std::ofstream(path + ".tmp") << start_ns << "\n";
      std::filesystem::rename(path + ".tmp", path);
    }
    std::fprintf(stderr, "bench chain: phase %.*s\n", static_cast<int>(phase.size()), phase.data());
    if (phase == "max") {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      SN_ASSIGN_OR_RETURN(cpu_before, SampleCpu(workers, nats, children));
    }
    for (uint32_t first : firsts) {
      SN_RETURN_IF_ERROR(WaitForFile(
          ChainSignalPath(dir, "done-" + std::string(phase) + "-" + std::to_string(first)),
          children, std::chrono::seconds(config.rate_s + config.max_s + kDrainSeconds + 60)));
      if (phase == "max" && first == firsts.front()) {
        SN_ASSIGN_OR_RETURN(cpu_after, SampleCpu(workers, nats, children));
      }
    }
  }

  std::vector<v1::ChainStoresReport> reports;
  for (size_t i = 0; i < children.size(); ++i) {
    const std::string log = dir + "/stores-" + std::to_string(firsts[i]);
    Process::Exit e = children[i].Wait();
    if (e.code != 0) {
      return Status::Unavailable("store process " + std::to_string(firsts[i]) + " failed (code " +
                                 std::to_string(e.code) + "; see " + log + ".log)");
    }
    v1::ChainStoresReport report;
    if (!google::protobuf::util::JsonStringToMessage(ReadText(log + ".json"), &report).ok() ||
        static_cast<size_t>(report.phases_size()) != std::size(kChainPhases)) {
      return Status::Io("cannot read the store report " + log + ".json");
    }
    reports.push_back(std::move(report));
  }

  // Peak RSS before the workers stop.
  double worker_peak = 0;
  for (const Worker& w : workers) {
    SN_ASSIGN_OR_RETURN(ProcUsage u, ReadProcUsage(w.process->pid()));
    result->add_worker_rss_mb(Round(u.peak_rss_mb, 1));
    worker_peak = std::max(worker_peak, u.peak_rss_mb);
  }
  for (int i = 0; i < nats.nodes(); ++i) {
    SN_ASSIGN_OR_RETURN(ProcUsage u, ReadProcUsage(nats.pid(i)));
    result->add_nats_rss_mb(Round(u.peak_rss_mb, 1));
  }
  for (Worker& w : workers) {
    w.process->Kill(SIGTERM);
    const Process::Exit e = w.process->Wait();
    result->add_worker_exit_codes(e.code);
    if (e.code != 0) {
      std::fprintf(stderr, "bench chain: a worker exited with code %d on SIGTERM (see %s)\n",
                   e.code, w.log().c_str());
    }
  }

  // Figures.
  const PhaseFigures rate = Collect(reports, 0, 0, INT64_MAX);
  const int64_t max_end = starts[1] + int64_t{config.max_s} * 1'000'000'000;
  const PhaseFigures max = Collect(reports, 1, starts[1] + kMaxWarmupNs, max_end);
  const PhaseFigures burst = Collect(reports, 2, 0, INT64_MAX);
  uint32_t connections = std::min({rate.connected, max.connected, burst.connected});
  uint64_t verify_errors = 0;
  for (const v1::ChainStoresReport& r : reports) {
    verify_errors += r.verify_errors();
    for (const std::string& e : r.errors()) std::fprintf(stderr, "bench chain: %s\n", e.c_str());
    result->add_store_process_rss_mb(r.peak_rss_mb());
  }
  const uint64_t submitted = rate.issued + max.issued + burst.issued;
  const uint64_t lost = rate.lost + max.lost + burst.lost;

  auto audit = ledger::VerifyLedgerDb(pg.conninfo());
  result->set_audit_ok(audit.ok() && audit->records() == submitted && audit->stored() == 0);
  if (audit.ok()) {
    result->set_audit_records(audit->records());
    if (!result->audit_ok()) {
      result->set_audit_error(std::to_string(audit->records()) + " records and " +
                              std::to_string(audit->stored()) + " not integrated; " +
                              std::to_string(submitted) + " Zs submitted");
    }
  } else {
    result->set_audit_error(audit.status().ToString());
  }

  ChainFog sample_fog("bench-s000001");
  const v1::SignedZ sample_z = sample_fog.Next();
  v1::LedgerRequest sample_request;
  *sample_request.mutable_submit()->mutable_z() = sample_z;
  std::fprintf(stderr, "bench chain: raw PostgreSQL commits and JetStream publishes\n");
  SN_ASSIGN_OR_RETURN(double pg_commits, RawPgCommitsPerSecond(pg.conninfo(), sample_z.z().size()));
  SN_ASSIGN_OR_RETURN(double js_publishes,
                      RawJsPublishPerSecond(nats, sample_request.ByteSizeLong()));

  auto seconds = [](double ns) { return Round(ns / 1e9, 3); };
  result->set_stores(config.stores);
  result->set_connections(connections);
  result->set_store_processes(static_cast<uint32_t>(children.size()));
  result->set_workers(config.workers);
  result->set_z_bytes(static_cast<uint32_t>(sample_z.z().size()));
  result->set_rate_target(config.rate);
  result->set_rate_achieved(Round(static_cast<double>(rate.issued) / config.rate_s, 1));
  const Latency at_rate = Summarize(rate.latencies_ns);
  result->set_p50_receipt_s_at_500(seconds(at_rate.p50_us * 1000));
  result->set_p99_receipt_s_at_500(seconds(at_rate.p99_us * 1000));
  result->set_max_phase_s(config.max_s);
  result->set_zs_per_s(Round(static_cast<double>(max.receipts_in_window) /
                                 (static_cast<double>(max_end - starts[1] - kMaxWarmupNs) / 1e9),
                             0));
  const Latency at_max = Summarize(max.latencies_ns);
  result->set_p50_receipt_s_at_max(seconds(at_max.p50_us * 1000));
  result->set_p99_receipt_s_at_max(seconds(at_max.p99_us * 1000));
  result->set_burst_stores(per_connection * config.stores);
  result->set_burst_note(std::to_string(per_connection * config.stores) + " stores over " +
                         std::to_string(config.stores) + " connections, " +
                         std::to_string(per_connection) +
                         " store ids each; one Z from each, all issued at once");
  result->set_burst_10k_s(burst.latencies_ns.empty()
                              ? 0
                              : seconds(double(burst.last_receipt_ns - burst.first_submit_ns)));
  result->set_p99_receipt_s_burst(seconds(Summarize(burst.latencies_ns).p99_us * 1000));
  result->set_zs_submitted(submitted);
  result->set_resends(rate.resends + max.resends + burst.resends);
  result->set_lost(lost);
  result->set_verify_errors(verify_errors);
  result->set_raw_pg_commits_per_s(Round(pg_commits, 0));
  result->set_raw_js_publish_per_s(Round(js_publishes, 0));
  result->set_raw_js_publishers(kRawJsPublishers);
  result->set_worker_peak_rss_mb(Round(worker_peak, 1));
  SN_ASSIGN_OR_RETURN(ProcUsage self_usage, ReadSelfUsage());
  result->set_bench_rss_mb(Round(self_usage.peak_rss_mb, 1));
  result->set_workers_cpu_s(Round(cpu_after.workers - cpu_before.workers, 2));
  result->set_nats_cpu_s(Round(cpu_after.nats - cpu_before.nats, 2));
  result->set_stores_cpu_s(Round(cpu_after.stores - cpu_before.stores, 2));
  result->set_other_cpu_s(Round(
      std::max(0.0, cpu_after.host - cpu_before.host - (cpu_after.workers - cpu_before.workers) -
                        (cpu_after.nats - cpu_before.nats) -
                        (cpu_after.stores - cpu_before.stores)),
      2));
  result->set_cores(HostCores());
  result->set_kernel(HostKernel());
  result->set_dir(dir);
  CheckTargets(config, result);
  return Status::Ok();
}

}  // namespace

int RunChain(const std::vector<std::string>& all_args) {
  Config config;
  std::vector<std::string> args;
  for (const std::string& arg : all_args) {
    if (arg == "--quick") {
      config.quick = true;
      config.stores = 200;
      config.rate = 100;
      config.rate_s = 5;
      config.max_s = 5;
      config.burst_stores = 1000;
    } else {
      args.push_back(arg);
    }
  }
  const Flag flags[] = {{"stores", &config.stores},
                        {"per-process", &config.per_process},
                        {"workers", &config.workers},
                        {"rate", &config.rate},
                        {"rate-s", &config.rate_s},
                        {"max-s", &config.max_s},
                        {"burst-stores", &config.burst_stores},
                        {"resend-ms", &config.resend_ms},
                        {"keep", &config.keep}};
  return RunMode<v1::ChainBenchResult>(
      "chain", kUsage, args, flags,
      [&]() -> Status {
        if (config.stores == 0 || config.workers == 0 || config.rate == 0 || config.rate_s == 0 ||
            config.max_s < 3) {
          return Status::Invalid("--stores, --workers, --rate, --rate-s >= 1, --max-s >= 3");
        }
        if (config.per_process < std::min(kMinPerProcess, config.stores)) {
          return Status::Invalid("--per-process must be at least 200");
        }
        if (config.burst_stores < config.stores || config.burst_stores % config.stores != 0) {
          return Status::Invalid("--burst-stores must be a multiple of --stores");
        }
        // The JetStream client logs through spdlog: to stderr, so that
        // stdout holds the JSON alone.
        return log::Init("bench", "warn");
      },
      [&](v1::ChainBenchResult* r) { return Run(config, r); });
}

}  // namespace storenode::bench
