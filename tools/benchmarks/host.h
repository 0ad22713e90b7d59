// What the bench reads of the host and prepares for its children. The
// children themselves, ports and the broker are the harness's
// (tests/support/harness/, shared with the integration tests).
//
// The functions are thread-safe.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "harness/broker.h"
#include "harness/process.h"
#include "storenode/common/status.h"

namespace storenode::bench {

using harness::Broker;
using harness::Process;
using harness::ProcUsage;
using harness::ReadProcUsage;

inline Result<ProcUsage> ReadSelfUsage() { return ReadProcUsage(0); }

// The bench's mosquitto: the harness's broker with a queue deep enough for a
// drain (nothing of it is dropped) and no information lines in its log.
Result<std::unique_ptr<Broker>> StartBroker(const std::string& dir);

// CPU time the whole host has spent busy (not idle, not waiting for I/O)
// since boot, over all cores, from /proc/stat: what a run competes with.
Result<double> HostBusySeconds();
// The host's 1-minute load average (/proc/loadavg).
double HostLoad1m();

// The path of the running executable (/proc/self/exe).
Result<std::string> SelfExe();
// storenode-fogd beside the running executable: --fogd's default.
Result<std::string> FogdBesideSelf();

// CLOCK_MONOTONIC in nanoseconds: the same clock in every process of the
// host, so a child's timestamp can be compared with the parent's.
int64_t MonotonicNanos();
inline double SecondsBetween(int64_t from_ns, int64_t to_ns) {
  return static_cast<double>(to_ns - from_ns) / 1e9;
}

// Writes a storenode-fogd config to `path`: store `store`, the broker at
// `broker_uri` over plain TCP, fog.db in `data_dir`, log level warn.
Status WriteFogConfig(const std::string& path, std::string_view store,
                      const std::string& broker_uri, const std::string& data_dir);

}  // namespace storenode::bench
