// Child processes, ports and /proc figures, for the integration tests and the
// benches (tests/support/harness/, library sn_harness). It knows nothing of
// Catch2: failures come back as a Status, and the tests' REQUIRE wrappers
// live in tests/support/harness.h.
//
// Promise: a Process never outlives its object. The destructor (and a move
// onto a live one) SIGKILLs the child if it still runs and reaps it, so no
// test or bench leaves a daemon behind, whatever path it returns by.
//
// Not thread-safe: a Process belongs to the thread that uses it. The free
// functions are thread-safe.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storenode/common/status.h"

namespace storenode::harness {

// A spawned child.
class Process {
 public:
  // How a reaped child ended and what it used over its whole life.
  struct Exit {
    int code = -1;           // the exit code, or -signal if a signal ended it
    double cpu_seconds = 0;  // user + system
    double peak_rss_mb = 0;  // ru_maxrss
  };

  // argv[0] is a path (no PATH lookup). stdout and stderr are appended to the
  // given files, one file for both when the paths are equal; an empty path
  // leaves that stream inherited.
  static Result<Process> Spawn(std::vector<std::string> argv, std::string stdout_path = "",
                               std::string stderr_path = "");

  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process();

  // Sends sig; a no-op once the child has been reaped.
  void Kill(int sig = SIGKILL);
  // Reaps the child if it has exited, without blocking; its Exit then.
  std::optional<Exit> Poll();
  // False once the child has exited (and reaps it).
  bool Running() { return pid_ > 0 && !Poll(); }
  // Blocks until the child exits; code -1 if there is none.
  Exit Wait();
  pid_t pid() const { return pid_; }

 private:
  explicit Process(pid_t pid) : pid_(pid) {}
  std::optional<Exit> Reap(bool block);
  void Reset();

  pid_t pid_ = -1;
  std::optional<Exit> exit_;  // once reaped
};

// Peak resident set (VmHWM) and CPU time so far of a running process; pid 0
// is this process.
struct ProcUsage {
  double peak_rss_mb = 0;
  double cpu_seconds = 0;  // user + system
};
Result<ProcUsage> ReadProcUsage(pid_t pid);

// A fresh directory /tmp/<prefix>XXXXXX, left in place for a look afterwards.
Result<std::string> MakeTempDir(std::string_view prefix);

// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0).
int FreePort();
// True once a TCP connect to 127.0.0.1:port succeeds.
bool PortAccepts(int port);

// Polls cond every few milliseconds; true as soon as it holds, false on timeout.
bool WaitFor(const std::function<bool()>& cond, std::chrono::milliseconds timeout);

}  // namespace storenode::harness
