// Helpers shared by the bench modes: flags, latency figures, the temporary
// directory and host facts.
#include <sqlite3.h>
#include <sys/utsname.h>
#include <time.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <thread>
#include <vector>

#include "bench.h"
#include "harness/process.h"
#include "sim/sim.h"
#include "storenode/common/clock.h"

namespace storenode::bench {

namespace {

Status SetFlag(const Flag& flag, const std::string& value) {
  std::string name = "--" + std::string(flag.name);
  if (auto* text = std::get_if<std::string*>(&flag.target)) {
    if (value.empty()) return Status::Invalid(name + " needs a non-empty value");
    **text = value;
    return Status::Ok();
  }
  uint32_t* count = std::get<uint32_t*>(flag.target);
  const char* end = value.data() + value.size();
  auto [ptr, ec] = std::from_chars(value.data(), end, *count);
  if (ec != std::errc() || ptr != end || value.empty()) {
    return Status::Invalid(name + " wants a whole number, got '" + value + "'");
  }
  return Status::Ok();
}

}  // namespace

Status ParseFlags(const std::vector<std::string>& args, std::span<const Flag> flags) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (!arg.starts_with("--")) return Status::Invalid("unexpected argument '" + arg + "'");
    size_t eq = arg.find('=');
    std::string_view name = std::string_view(arg).substr(2, eq == std::string::npos ? eq : eq - 2);
    auto flag =
        std::find_if(flags.begin(), flags.end(), [&](const Flag& f) { return f.name == name; });
    if (flag == flags.end()) return Status::Invalid("unknown option '" + arg + "'");
    std::string value;
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return Status::Invalid("option '" + arg + "' needs a value");
    }
    SN_RETURN_IF_ERROR(SetFlag(*flag, value));
  }
  return Status::Ok();
}

Latency Summarize(std::vector<int64_t> samples_ns) {
  Latency out;
  if (samples_ns.empty()) return out;
  std::sort(samples_ns.begin(), samples_ns.end());
  auto rank = [&](double p) {
    // Nearest rank: the smallest sample with at least p% of samples <= it.
    size_t n = samples_ns.size();
    size_t r = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(n)));
    return samples_ns[std::clamp<size_t>(r, 1, n) - 1] / 1000.0;
  };
  out.p50_us = rank(50);
  out.p99_us = rank(99);
  out.max_us = samples_ns.back() / 1000.0;
  out.mean_us = std::accumulate(samples_ns.begin(), samples_ns.end(), 0.0) / 1000.0 /
                static_cast<double>(samples_ns.size());
  return out;
}

double Round(double value, int decimals) {
  double scale = std::pow(10.0, decimals);
  return std::round(value * scale) / scale;
}

int64_t ThreadCpuNanos() {
  timespec t{};
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t) != 0) return 0;
  return t.tv_sec * 1'000'000'000LL + t.tv_nsec;
}

Result<TempDir> TempDir::Create(std::string_view prefix) {
  SN_ASSIGN_OR_RETURN(std::string path, harness::MakeTempDir(std::string(prefix) + "-"));
  return TempDir(std::move(path));
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
  if (ec)
    std::fprintf(stderr, "bench: cannot remove %s: %s\n", path_.c_str(), ec.message().c_str());
}

Status RecordTills(std::string_view mode, const std::string& dir, uint32_t tills, uint64_t total,
                   std::string_view unit, const RecordFn& record) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::Io("cannot create " + dir + ": " + ec.message());
  std::atomic<uint64_t> recorded{0};
  std::vector<Status> results(tills);
  std::vector<std::thread> threads;
  for (uint32_t i = 0; i < tills; ++i) {
    threads.emplace_back([&, i] { results[i] = record(static_cast<int>(i) + 1, &recorded); });
  }
  std::atomic<bool> done{false};
  std::thread progress([&] {
    auto next = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (std::chrono::steady_clock::now() < next) continue;
      next += std::chrono::seconds(10);
      std::fprintf(stderr, "bench %.*s: recorded %llu/%llu %.*s\n", static_cast<int>(mode.size()),
                   mode.data(), static_cast<unsigned long long>(recorded.load()),
                   static_cast<unsigned long long>(total), static_cast<int>(unit.size()),
                   unit.data());
    }
  });
  for (std::thread& t : threads) t.join();
  done = true;
  progress.join();
  for (const Status& s : results) SN_RETURN_IF_ERROR(s);
  return Status::Ok();
}

Result<SimTill> StartSimTill(const std::string& dir, const std::string& store,
                             const std::string& device, const std::string& broker_uri) {
  SimTill till;
  SN_ASSIGN_OR_RETURN(till.journal, edge::Journal::Open(sim::SimTillOptions(dir, store, device)));
  edge::SyncOptions options;
  options.broker.uri = broker_uri;
  options.broker.insecure = true;
  SN_ASSIGN_OR_RETURN(till.engine, edge::SyncEngine::Start(till.journal.get(), options));
  return till;
}

Result<std::string> PrepareRunDir(std::string_view mode, const std::string& keep,
                                  std::optional<TempDir>* temp) {
  if (keep.empty()) {
    SN_ASSIGN_OR_RETURN(TempDir created, TempDir::Create("storenode-bench-" + std::string(mode)));
    temp->emplace(std::move(created));
    return (*temp)->path();
  }
  std::error_code ec;
  if (std::filesystem::exists(keep, ec) && !std::filesystem::is_empty(keep, ec)) {
    return Status::Precondition(keep + " is not empty; bench " + std::string(mode) +
                                " wants a fresh directory (remove it or pick another --keep)");
  }
  std::filesystem::create_directories(keep, ec);
  if (ec) return Status::Io("cannot create " + keep + ": " + ec.message());
  return keep;
}

uint32_t HostCores() { return std::thread::hardware_concurrency(); }

std::string HostKernel() {
  utsname u{};
  if (uname(&u) != 0) return "";
  return std::string(u.sysname) + " " + u.release + " " + u.machine;
}

std::string SqliteVersion() { return sqlite3_libversion(); }

std::string NowIso() { return IsoTime(SystemClock::Default()->NowMicros()); }

}  // namespace storenode::bench
