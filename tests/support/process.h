// Child processes and scratch resources for integration tests.
//
// Not thread-safe: a Process belongs to the thread that uses it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "storenode/common/status.h"

namespace storenode::testing {

// A spawned child. The destructor SIGKILLs and reaps it if still running.
class Process {
 public:
  // argv[0] is a path (no PATH lookup). Output goes to the given files
  // (appended), or is inherited when a path is empty.
  static Result<Process> Spawn(std::vector<std::string> argv, std::string stdout_path = "",
                               std::string stderr_path = "");

  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process();

  // Sends sig; a no-op once the child has been reaped.
  void Kill(int sig = SIGKILL);
  // Blocks until exit; the exit code, or -signal if killed by one.
  int Wait();
  // False once the child has exited (and reaps it).
  bool Running();
  pid_t pid() const { return pid_; }

 private:
  explicit Process(pid_t pid) : pid_(pid) {}
  void Reset();

  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;  // Wait()'s result once reaped_
};

// A fresh directory /tmp/<prefix>XXXXXX. Throws std::runtime_error on failure.
std::string MakeTempDir(std::string_view prefix);

// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0).
int FreePort();

// The peak resident set (VmHWM of /proc/PID/status) of a process, in bytes;
// -1 if it cannot be read.
int64_t PeakRss(pid_t pid);

// True once a TCP connect to 127.0.0.1:port succeeds.
bool PortAccepts(int port);

// Polls cond every few milliseconds; true as soon as it holds, false on timeout.
bool WaitFor(std::function<bool()> cond, std::chrono::milliseconds timeout);

}  // namespace storenode::testing
