#include "storenode/common/fault.h"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace storenode {

void CrashPoint(const char* name) {
  // Read at every call, not cached: a test may set it in a forked child.
  const char* target = std::getenv("STORENODE_CRASH_AT");
  if (target != nullptr && std::strcmp(target, name) == 0) kill(getpid(), SIGKILL);
}

}  // namespace storenode
