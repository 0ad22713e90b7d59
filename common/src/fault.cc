#include "storenode/common/fault.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

namespace storenode {

void CrashPoint(const char* name) {
  // Read at every call, not cached: a test may set it in a forked child.
  const char* target = std::getenv("STORENODE_CRASH_AT");
  if (target != nullptr && std::strcmp(target, name) == 0) kill(getpid(), SIGKILL);
}

void StallPoint(const char* name) {
  const char* target = std::getenv("STORENODE_STALL_AT");
  if (target == nullptr || std::strcmp(target, name) != 0) return;
  const char* file = std::getenv("STORENODE_STALL_WHILE");
  std::error_code ec;
  while (file != nullptr && std::filesystem::exists(file, ec)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace storenode
