// bench sync-till: one till of `bench sync`, in a process of its own so that
// its resident set is its own. Not listed in the usage: only `bench sync`
// starts it.
//
// It opens a journal recorded earlier, starts an edge::SyncEngine with the
// default options and waits until the fog has acked its head. Then it writes
// a SyncTillReport (JSON) to --report, stops the engine and exits 0; 1 on a
// failure or when the backlog is not drained within --timeout-s.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

#include "bench.h"
#include "host.h"
#include "sim/json.h"
#include "sim/sim.h"
#include "storenode/edge.h"
#include "storenode/schemas/bench.pb.h"

namespace storenode::bench {
namespace {

constexpr std::string_view kUsage =
    "usage: bench sync-till --dir DIR --store S --device D --broker URI --report FILE\n"
    "                       [--timeout-s N]\n"
    "  (started by bench sync) syncs DIR/D.db to the fog over plain tcp:// and writes\n"
    "  a JSON report to FILE once the fog has acked its head\n";

// How often the engine's state is polled: the drain's end is known to
// within this much.
constexpr auto kPollInterval = std::chrono::milliseconds(2);

struct TillConfig {
  std::string dir, store, device, broker, report;
  uint32_t timeout_s = 600;
};

Status Run(const TillConfig& config) {
  SN_ASSIGN_OR_RETURN(SimTill till,
                      StartSimTill(config.dir, config.store, config.device, config.broker));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(config.timeout_s);
  edge::SyncState state = till.engine->state();
  while (state.backlog > 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      return Status::Unavailable(config.device + ": fog acked " + std::to_string(state.acked_seq) +
                                 " of " + std::to_string(state.head_seq) + " events in " +
                                 std::to_string(config.timeout_s) + " s");
    }
    std::this_thread::sleep_for(kPollInterval);
    state = till.engine->state();
  }
  v1::SyncTillReport report;
  report.set_drained_monotonic_ns(MonotonicNanos());
  SN_ASSIGN_OR_RETURN(ProcUsage usage, ReadSelfUsage());
  report.set_device_id(config.device);
  report.set_head_seq(state.head_seq);
  report.set_acked_seq(state.acked_seq);
  report.set_peak_rss_mb(usage.peak_rss_mb);
  report.set_cpu_s(usage.cpu_seconds);
  till.engine->Stop();
  std::ofstream out(config.report, std::ios::trunc);
  out << tools::JsonLine(report) << "\n";
  out.close();
  if (!out) return Status::Io("cannot write " + config.report);
  return Status::Ok();
}

}  // namespace

int RunSyncTill(const std::vector<std::string>& args) {
  TillConfig config;
  const Flag flags[] = {{"dir", &config.dir},       {"store", &config.store},
                        {"device", &config.device}, {"broker", &config.broker},
                        {"report", &config.report}, {"timeout-s", &config.timeout_s}};
  Status parsed = ParseFlags(args, flags);
  if (parsed.ok() && (config.dir.empty() || config.store.empty() || config.device.empty() ||
                      config.broker.empty() || config.report.empty())) {
    parsed = Status::Invalid("--dir, --store, --device, --broker and --report are required");
  }
  if (!parsed.ok()) {
    std::fprintf(stderr, "bench sync-till: %s\n%.*s", parsed.message().c_str(),
                 static_cast<int>(kUsage.size()), kUsage.data());
    return kExitUsage;
  }
  Status run = Run(config);
  if (!run.ok()) {
    std::fprintf(stderr, "bench sync-till: %s\n", run.ToString().c_str());
    return kExitFailed;
  }
  return kExitOk;
}

}  // namespace storenode::bench
