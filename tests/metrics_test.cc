// /metrics and the health checks of a real fog (fog/src/metrics.h,
// fog/src/console.h "Health"): promtool passes the text, the series say
// what the store did, and /healthz and /readyz answer 503 with their reason
// for a broker outage (unready only), a full disk, a failed write and a
// wedged worker.
#include "fog/src/metrics.h"

#include <sys/statvfs.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "fog/src/console.h"
#include "storenode/common/clock.h"
#include "storenode/common/config.h"
#include "storenode/common/topics.h"
#include "storenode/common/x509.h"
#include "storenode/fog/fog.h"
#include "support/console.h"
#include "support/fault_vfs.h"
#include "support/run.h"

using namespace storenode;
using namespace storenode::testing;

namespace {

// promtool's verdict on `text`: its exit code and what it printed.
Ran Promtool(const std::string& dir, const std::string& text) {
  const std::string path = dir + "/metrics.txt";
  std::ofstream(path, std::ios::trunc) << text;
  return RunArgv(dir, {"/bin/sh", "-c", "promtool check metrics < '" + path + "'"});
}

// The value of the one sample `series` (name and labels, as printed) of a
// /metrics text; fails the test if it is not there.
double Value(const std::string& text, const std::string& series) {
  for (const std::string& line : Lines(text)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  FAIL("no sample " << series << " in\n" << text);
  return 0;
}

std::string Metrics(const ConsoleStore& cs) {
  auto r = cs.Client()->Get("/metrics");
  REQUIRE(r);
  REQUIRE(r->status == 200);
  return r->body;
}

// User and system CPU seconds of process `pid`, from /proc/PID/stat as
// metrics.cc reads its own (fields 14 and 15, in clock ticks).
double CpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), {});
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::vector<std::string> f{std::istream_iterator<std::string>(fields), {}};
  REQUIRE(f.size() > 12);
  return (std::stod(f[11]) + std::stod(f[12])) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

uint64_t FreeMib(const std::string& dir) {
  struct statvfs fs;
  REQUIRE(statvfs(dir.c_str(), &fs) == 0);
  return uint64_t{fs.f_bavail} * fs.f_frsize / (1024 * 1024);
}

constexpr char kHealthy[] = "write: ok\ndisk: ok\nworker: ok\n";

}  // namespace

TEST_CASE("metrics: a real fog's /metrics passes promtool and counts what the tills synced",
          "[console][metrics]") {
  ConsoleStore cs(2);
  cs.store.OpenTill(0);
  cs.store.Sell(0, 12);
  REQUIRE(cs.store.WaitSynced());
  const uint64_t stored = cs.store.FogEventCount("till-1");
  REQUIRE(stored >= 13);  // the genesis and 12 sales at least
  REQUIRE(stored == cs.store.FogAcked("till-1"));

  const pid_t fog_pid = cs.store.fog->pid();
  REQUIRE(fog_pid > 0);
  const double cpu_before = CpuSeconds(fog_pid);
  std::string text = Metrics(cs);
  const double cpu_after = CpuSeconds(fog_pid);
  Ran lint = Promtool(cs.store.dir, text);
  INFO(text << "\n" << lint.out << lint.err);
  REQUIRE(lint.code == 0);
  REQUIRE(lint.out + lint.err == "");

  REQUIRE(Value(text, "storenode_build_info{version=\"" STORENODE_VERSION "\"}") == 1);
  REQUIRE(Value(text, "storenode_fog_events_stored_total") == stored);
  REQUIRE(Value(text, "storenode_fog_quarantined_batches") == 0);
  REQUIRE(Value(text, "storenode_fog_till_quarantined_batches{device=\"till-1\"}") == 0);
  REQUIRE(Value(text, "storenode_fog_ledger_alerts_total") == 0);
  REQUIRE(text.find("business_day") == std::string::npos);
  REQUIRE(text.find("storenode_fog_ingest_events_per_second") == std::string::npos);
  REQUIRE(text.find("storenode_fog_quarantine_count") == std::string::npos);
  // Every batch stored was one commit, each in the +Inf bucket and the count.
  const double commits = Value(text, "storenode_fog_ingest_commit_duration_seconds_count");
  REQUIRE(commits >= 1);
  REQUIRE(commits <= stored);
  REQUIRE(Value(text, "storenode_fog_ingest_commit_duration_seconds_bucket{le=\"+Inf\"}") ==
          commits);
  REQUIRE(Value(text, "storenode_fog_ingest_commit_duration_seconds_sum") > 0);
  REQUIRE(Value(text, "storenode_fog_closedown_duration_seconds_count") == 0);

  // The process, from /proc: the fog's own pid, started within the hour.
  const double now_s = static_cast<double>(SystemClock::Default()->NowMicros()) / 1e6;
  const double started = Value(text, "process_start_time_seconds");
  REQUIRE(started <= now_s + 1);
  REQUIRE(started >= now_s - 3600);
  REQUIRE(Value(text, "process_resident_memory_bytes") > 1024 * 1024);
  REQUIRE(Value(text, "process_open_fds") >= 3);
  // The fog's own CPU time as the kernel counts it between the two reads
  // around the scrape (a fog that has run under 10 ms may still read 0).
  REQUIRE(Value(text, "process_cpu_seconds_total") >= cpu_before);
  REQUIRE(Value(text, "process_cpu_seconds_total") <= cpu_after);
  // fog.db is at least its pages; the disk's free space is statvfs' (within
  // what the tests running beside this one may write meanwhile).
  const double db = Value(text, "storenode_fog_database_size_bytes");
  REQUIRE(db >= static_cast<double>(std::filesystem::file_size(cs.store.fog->db_path())));
  const double free_mib = Value(text, "storenode_fog_disk_free_bytes") / (1024 * 1024);
  REQUIRE(std::abs(free_mib - static_cast<double>(FreeMib(cs.store.fog->data_dir()))) < 256);

  // More sales: the counter and the commit histogram grow.
  cs.store.Sell(0, 5);
  REQUIRE(cs.store.WaitSynced());
  text = Metrics(cs);
  REQUIRE(Value(text, "storenode_fog_events_stored_total") >= stored + 5);
  REQUIRE(Value(text, "storenode_fog_events_stored_total") == cs.store.FogEventCount("till-1"));
  REQUIRE(Value(text, "storenode_fog_ingest_commit_duration_seconds_count") > commits);

  // A close-down: one observation, within a day.
  auto z = cs.store.CloseDay(DayOf(SystemClock::Default()->NowMicros()), {}, true,
                             std::chrono::seconds(5));
  REQUIRE(z.closed());
  text = Metrics(cs);
  lint = Promtool(cs.store.dir, text);
  INFO(text << "\n" << lint.out << lint.err);
  REQUIRE(lint.code == 0);
  REQUIRE(Value(text, "storenode_fog_closedown_duration_seconds_count") == 1);
  REQUIRE(Value(text, "storenode_fog_closedown_duration_seconds_bucket{le=\"+Inf\"}") == 1);
  REQUIRE(Value(text, "storenode_fog_closedown_duration_seconds_bucket{le=\"86400\"}") == 1);
}

TEST_CASE("metrics: certificate expiry is the seconds to each certificate's notAfter",
          "[metrics]") {
  const std::string dir = MakeTempDir("metrics-certs");
  auto ca = x509::Authority::Create("store CA", x509::KeyType::kEcP256, 30);
  REQUIRE(ca.ok());
  std::ofstream(dir + "/ca.pem") << ca->cert_pem();
  auto not_after = x509::NotAfterOfFile(dir + "/ca.pem");
  REQUIRE(not_after.ok());
  const int64_t now_s = SystemClock::Default()->NowMicros() / 1'000'000;
  REQUIRE(std::abs(*not_after - (now_s + 30 * 86400)) < 120);
  REQUIRE(!x509::NotAfterOfFile(dir + "/missing.pem").ok());

  fog::MetricsSample sample;
  sample.now_us = now_s * 1'000'000;
  sample.certificates.push_back({"broker.ca_file", dir + "/ca.pem", *not_after});
  sample.certificates.push_back({"ledger.cert_file", "/etc/old.pem", now_s - 10});
  const std::string text = fog::FormatMetrics(sample);
  REQUIRE(Value(text, "storenode_fog_certificate_expiry_seconds{key=\"broker.ca_file\",file=\"" +
                          dir + "/ca.pem\"}") == *not_after - now_s);
  REQUIRE(Value(text,
                "storenode_fog_certificate_expiry_seconds{key=\"ledger.cert_file\",file=\"/etc/"
                "old.pem\"}") == -10);
  // Empty histograms still print every bucket, and promtool takes the lot.
  REQUIRE(Value(text, "storenode_fog_closedown_duration_seconds_bucket{le=\"+Inf\"}") == 0);
  Ran lint = Promtool(dir, text);
  INFO(text << "\n" << lint.out << lint.err);
  REQUIRE(lint.code == 0);
}

TEST_CASE("health: a broker outage makes the fog unready, not unhealthy", "[console][health]") {
  ConsoleStore cs(1);
  auto c = cs.Client();
  REQUIRE(c->Get("/healthz")->body == kHealthy);
  REQUIRE(c->Get("/readyz")->status == 200);
  cs.store.broker.Kill();
  REQUIRE(WaitFor([&] { return c->Get("/readyz")->status == 503; }, std::chrono::seconds(10)));
  REQUIRE(c->Get("/readyz")->body == std::string(kHealthy) + "broker: disconnected\n");
  auto live = c->Get("/healthz");
  REQUIRE(live->status == 200);
  REQUIRE(live->body == kHealthy);
  REQUIRE(cs.store.broker.Restart().ok());
  REQUIRE(WaitFor([&] { return c->Get("/readyz")->status == 200; }, std::chrono::seconds(30)));
  REQUIRE(c->Get("/readyz")->body == std::string(kHealthy) + "broker: ok\n");
}

TEST_CASE("health: a disk under health.min_free_mib makes /healthz 503 with its free space",
          "[console][health]") {
  // More than any disk has: the disk is "full" to the fog.
  ConsoleStore cs(1, "", "[health]\nmin_free_mib = 1099511627776\n");
  auto c = cs.Client();
  auto r = c->Get("/healthz");
  REQUIRE(r->status == 503);
  INFO(r->body);
  const std::vector<std::string> lines = Lines(r->body);
  REQUIRE(lines.size() == 3);
  REQUIRE(lines[0] == "write: ok");
  REQUIRE(lines[2] == "worker: ok");
  const std::string tail =
      " MiB free in " + cs.store.fog->data_dir() + ", under health.min_free_mib = 1099511627776";
  REQUIRE(lines[1].rfind("disk: ", 0) == 0);
  REQUIRE(lines[1].ends_with(tail));
  const double free_mib = std::stod(lines[1].substr(6));
  REQUIRE(std::abs(free_mib - static_cast<double>(FreeMib(cs.store.fog->data_dir()))) < 256);
  REQUIRE(c->Get("/readyz")->status == 503);
}

TEST_CASE("health: a worker wedged past health.worker_stall_s makes /healthz 503 until it turns",
          "[console][health]") {
  const std::string stall = MakeTempDir("stall") + "/wedged";
  ConsoleStore cs(1, "", "[health]\nworker_stall_s = 1\n",
                  {{"STORENODE_STALL_AT", "worker-turn"}, {"STORENODE_STALL_WHILE", stall}});
  auto c = cs.Client();
  REQUIRE(c->Get("/healthz")->body == kHealthy);
  std::ofstream(stall) << "";
  std::string body;
  REQUIRE(WaitFor(
      [&] {
        auto r = c->Get("/healthz");
        body = r->body;
        return r->status == 503;
      },
      std::chrono::seconds(20)));
  INFO(body);
  const std::vector<std::string> lines = Lines(body);
  REQUIRE(lines.size() == 3);
  REQUIRE(lines[1] == "disk: ok");
  REQUIRE(lines[2].rfind("worker: no turn of its loop for ", 0) == 0);
  REQUIRE(lines[2].ends_with(" s (health.worker_stall_s = 1)"));
  REQUIRE(std::stoi(lines[2].substr(32)) >= 1);
  std::filesystem::remove(stall);
  REQUIRE(WaitFor([&] { return c->Get("/healthz")->status == 200; }, std::chrono::seconds(20)));
  REQUIRE(c->Get("/healthz")->body == kHealthy);
}

TEST_CASE("health: a write that fails makes /healthz 503 with SQLite's reason",
          "[console][health]") {
  const std::string dir = MakeTempDir("health-write");
  Broker broker{dir + "/broker"};
  REQUIRE(broker.Start().ok());
  fog::Config config;
  config.store_id = "store-1";
  config.store = SimStoreTerms();
  config.broker.uri = broker.uri();
  config.broker.insecure = true;
  config.data_dir = dir + "/fog";
  config.console.enabled = true;
  config.console.port = FreePort();
  config.console.managers[kConsoleManager] = fog::HashPassword(kConsolePassword);
  FaultVfs& vfs = FaultVfs::Get();
  vfs.Reset();
  auto opened = fog::Fog::Open(config, fog::Env{.clock = nullptr, .sqlite_vfs = FaultVfs::kName});
  REQUIRE(opened.ok());
  std::unique_ptr<fog::Fog> fog = std::move(*opened);
  REQUIRE(fog->Start().ok());
  httplib::Client c("127.0.0.1", config.console.port);
  c.set_read_timeout(20, 0);

  // The check is a real commit: a write and an fsync through the VFS.
  REQUIRE(WaitFor([&] { return c.Get("/healthz")->status == 200; }, std::chrono::seconds(10)));
  vfs.Reset();
  REQUIRE(WaitFor(
      [&] {
        (void)c.Get("/healthz");
        return vfs.syncs() > 0;
      },
      std::chrono::seconds(10)));
  REQUIRE(vfs.writes() > 0);

  vfs.FailNthWrite(1);
  std::string body;
  REQUIRE(WaitFor(
      [&] {
        auto r = c.Get("/healthz");
        body = r->body;
        return r->status == 503;
      },
      std::chrono::seconds(10)));
  INFO(body);
  const std::vector<std::string> lines = Lines(body);
  REQUIRE(lines.size() == 3);
  REQUIRE(lines[0].rfind("write: ", 0) == 0);
  REQUIRE(lines[0].find("disk I/O error") != std::string::npos);
  REQUIRE(lines[1] == "disk: ok");
  REQUIRE(lines[2] == "worker: ok");
  // The fault was one write: the next check passes again.
  REQUIRE(WaitFor([&] { return c.Get("/healthz")->status == 200; }, std::chrono::seconds(10)));
  fog->Stop();
  fog.reset();
  vfs.Reset();
}

TEST_CASE("health: the health keys are read from fog.toml and a value out of range names its key",
          "[health][config]") {
  auto shipped = ConfigReader::Open(std::string(SN_SOURCE_DIR) + "/firmware-configs/fog.toml");
  REQUIRE(shipped.ok());
  fog::HealthConfig health;
  health.min_free_mib = health.worker_stall_s = 1;
  REQUIRE(fog::ReadHealthConfig(*shipped, &health).ok());
  // The shipped file states the defaults.
  REQUIRE(health.min_free_mib == fog::HealthConfig{}.min_free_mib);
  REQUIRE(health.min_free_mib == 256);
  REQUIRE(health.worker_stall_s == fog::HealthConfig{}.worker_stall_s);
  REQUIRE(health.worker_stall_s == 30);

  auto wrong = ConfigReader::FromString("[health]\nworker_stall_s = 0\n", "fog.toml");
  REQUIRE(wrong.ok());
  Status s = fog::ReadHealthConfig(*wrong, &health);
  REQUIRE(!s.ok());
  REQUIRE(s.message().find("fog.toml:2: key 'health.worker_stall_s'") != std::string::npos);
}
