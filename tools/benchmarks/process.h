// Child processes of the bench and what the kernel says about them: the
// broker, the fog daemon and the bench re-executed as a till.
//
// Not thread-safe: a Child belongs to the thread that spawned it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storenode/common/status.h"

namespace storenode::bench {

// A spawned process. The destructor SIGKILLs and reaps it if still running.
class Child {
 public:
  // How a reaped child ended and what it used over its whole life.
  struct Exit {
    int code = -1;           // the exit code, or -signal if a signal ended it
    double cpu_seconds = 0;  // user + system
    double peak_rss_mb = 0;  // ru_maxrss
  };

  // argv[0] is a path (no PATH lookup). stdout and stderr are appended to
  // `log_path`.
  static Result<Child> Spawn(const std::vector<std::string>& argv, const std::string& log_path);

  Child(Child&& other) noexcept;
  Child& operator=(Child&&) = delete;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child();

  // A no-op once the child has been reaped.
  void Signal(int sig);
  // Reaps the child if it has exited, without blocking; its Exit then.
  std::optional<Exit> Poll();
  // Blocks until the child exits.
  Exit Wait();
  pid_t pid() const { return pid_; }

 private:
  explicit Child(pid_t pid) : pid_(pid) {}
  std::optional<Exit> Reap(bool block);

  pid_t pid_ = -1;
  std::optional<Exit> exit_;
};

// Peak resident set (VmHWM) and CPU time so far of a running process.
struct ProcUsage {
  double peak_rss_mb = 0;
  double cpu_seconds = 0;  // user + system
};
Result<ProcUsage> ReadProcUsage(pid_t pid);
inline Result<ProcUsage> ReadSelfUsage() { return ReadProcUsage(0); }  // 0: this process

// CPU time the whole host has spent busy (not idle, not waiting for I/O)
// since boot, over all cores, from /proc/stat: what a run competes with.
Result<double> HostBusySeconds();
// The host's 1-minute load average (/proc/loadavg).
double HostLoad1m();

// The path of the running executable (/proc/self/exe).
Result<std::string> SelfExe();

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreePort();
// True once a TCP connect to 127.0.0.1:port succeeds.
bool PortAccepts(int port);

// CLOCK_MONOTONIC in nanoseconds: the same clock in every process of the
// host, so a child's timestamp can be compared with the parent's.
int64_t MonotonicNanos();

// Writes a storenode-fogd config to `path`: store `store`, the broker at
// `broker_uri` over plain TCP, fog.db in `data_dir`, log level warn.
Status WriteFogConfig(const std::string& path, std::string_view store,
                      const std::string& broker_uri, const std::string& data_dir);

// A mosquitto on a free 127.0.0.1 port, configured for bursts: nothing of a
// drain is dropped (max_queued_messages) and no disk is involved
// (persistence false). The destructor kills it.
class Broker {
 public:
  // dir receives mosquitto.conf and mosquitto.log.
  static Result<std::unique_ptr<Broker>> Start(const std::string& dir);
  ~Broker();
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  std::string uri() const;  // "tcp://127.0.0.1:PORT"
  pid_t pid() const { return child_.pid(); }

 private:
  Broker(Child child, int port) : child_(std::move(child)), port_(port) {}
  Child child_;
  int port_;
};

}  // namespace storenode::bench
