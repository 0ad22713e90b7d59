// bench: latency benchmarks of storenode, one mode per file (journal_bench.cc,
// ...). A mode parses its own flags, reports progress on stderr and prints
// exactly one JSON object on stdout: a message of schemas/bench.proto written
// by tools::JsonLine (sim/json.h), so that scripts can compare runs.
//
// The helpers here are for the main thread; nothing is shared between modes.
// A mode may start threads and processes of its own (bench sync does).
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "sim/json.h"
#include "storenode/common/status.h"
#include "storenode/edge.h"

namespace storenode::bench {

// Exit codes of every mode.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;  // the run could not complete
inline constexpr int kExitUsage = 2;   // bad mode, flag or value

// A mode: `args` are the arguments after the mode name.
using ModeFn = int (*)(const std::vector<std::string>& args);

int RunJournal(const std::vector<std::string>& args);
int RunClosedown(const std::vector<std::string>& args);
int RunSync(const std::vector<std::string>& args);
// The till process of bench sync (sync_till.cc); not listed in the usage.
int RunSyncTill(const std::vector<std::string>& args);
int RunCatalog(const std::vector<std::string>& args);
// The till process of bench catalog (catalog_bench.cc); not listed.
int RunCatalogTill(const std::vector<std::string>& args);
int RunChain(const std::vector<std::string>& args);
int RunForecast(const std::vector<std::string>& args);
// A store process of bench chain (chain_stores.cc); not listed.
int RunChainStores(const std::vector<std::string>& args);

// One flag of a mode: "--name value" or "--name=value".
struct Flag {
  std::string_view name;  // without the leading "--"
  std::variant<uint32_t*, std::string*> target;
};

// Fills the targets of `flags` from `args`. Fails with a one-line reason on
// an unknown flag, a missing or malformed value or a stray argument.
Status ParseFlags(const std::vector<std::string>& args, std::span<const Flag> flags);

// The shape every mode shares: --help, flags, `check` (validation and
// set-up; a failure is a usage error), `run`, then one JSON line on stdout and
// each missed target on stderr. Exit codes as above.
template <typename ResultMsg>
int RunMode(std::string_view mode, std::string_view usage, const std::vector<std::string>& args,
            std::span<const Flag> flags, const std::function<Status()>& check,
            const std::function<Status(ResultMsg*)>& run) {
  for (const std::string& arg : args) {
    if (arg == "--help" || arg == "-h") {
      std::fprintf(stdout, "%.*s", static_cast<int>(usage.size()), usage.data());
      return kExitOk;
    }
  }
  Status parsed = ParseFlags(args, flags);
  if (parsed.ok()) parsed = check();
  if (!parsed.ok()) {
    std::fprintf(stderr, "bench %.*s: %s\n%.*s", static_cast<int>(mode.size()), mode.data(),
                 parsed.message().c_str(), static_cast<int>(usage.size()), usage.data());
    return kExitUsage;
  }
  ResultMsg result;
  if (Status s = run(&result); !s.ok()) {
    std::fprintf(stderr, "bench %.*s: %s\n", static_cast<int>(mode.size()), mode.data(),
                 s.ToString().c_str());
    return kExitFailed;
  }
  if constexpr (requires { result.missed_targets(); }) {
    for (const std::string& missed : result.missed_targets()) {
      std::fprintf(stderr, "bench %.*s: target missed: %s\n", static_cast<int>(mode.size()),
                   mode.data(), missed.c_str());
    }
  }
  std::printf("%s\n", tools::JsonLine(result).c_str());
  return kExitOk;
}

// Latency figures of a set of samples, in microseconds. Percentiles are
// nearest-rank: p99 of 10,000 samples is the 9,900th smallest.
struct Latency {
  double p50_us = 0;
  double p99_us = 0;
  double max_us = 0;
  double mean_us = 0;
};
Latency Summarize(std::vector<int64_t> samples_ns);

// `value` rounded to `decimals` places, for printing: the JSON printer then
// writes 12.3, not 12.300000000000001.
double Round(double value, int decimals);

// CPU time (user + system) the calling thread has used so far, in
// nanoseconds.
int64_t ThreadCpuNanos();

// A fresh directory /tmp/<prefix>-XXXXXX, removed with its content on
// destruction.
class TempDir {
 public:
  static Result<TempDir> Create(std::string_view prefix);
  TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  TempDir& operator=(TempDir&&) = delete;
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// Records the journals of tills 1..`tills` in `dir` (created), one thread
// per till: every event is a durable commit, so the tills overlap their waits
// for the disk. record(till, recorded) adds what it recorded to *recorded;
// every 10 s "bench <mode>: recorded N/<total> <unit>" goes to stderr. The
// first failure in till order, once every thread has ended.
using RecordFn = std::function<Status(int till, std::atomic<uint64_t>* recorded)>;
Status RecordTills(std::string_view mode, const std::string& dir, uint32_t tills, uint64_t total,
                   std::string_view unit, const RecordFn& record);

// The directory of a run of `mode` with --keep `keep`: `keep` itself when
// given, which must then be absent or empty (it is created), else a fresh
// TempDir storenode-bench-<mode>, held in *temp.
// A simulated till in this process (a till subprocess of the sync and
// catalog benches): its journal in `dir` and a SyncEngine on `broker_uri`
// (plain TCP, as the benches' mosquitto).
struct SimTill {
  std::unique_ptr<edge::Journal> journal;
  std::unique_ptr<edge::SyncEngine> engine;
};
Result<SimTill> StartSimTill(const std::string& dir, const std::string& store,
                             const std::string& device, const std::string& broker_uri);

Result<std::string> PrepareRunDir(std::string_view mode, const std::string& keep,
                                  std::optional<TempDir>* temp);

// Host facts for the result messages.
uint32_t HostCores();
std::string HostKernel();     // "Linux 6.1.0-18-amd64 x86_64"
std::string NowIso();         // "2026-11-26T15:00:00Z"
std::string SqliteVersion();  // of the linked library, "3.40.1"

// The facts every result message but catalog's ends with: the host, SQLite
// and the directory the run worked in.
template <typename ResultMsg>
void SetRunFacts(const std::string& dir, ResultMsg* result) {
  result->set_cores(HostCores());
  result->set_kernel(HostKernel());
  result->set_sqlite_version(SqliteVersion());
  result->set_dir(dir);
}

}  // namespace storenode::bench
