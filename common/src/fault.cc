#include "storenode/common/fault.h"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace storenode {

void CrashPoint(const char* name) {
  static const char* target = std::getenv("STORENODE_CRASH_AT");
  if (target != nullptr && std::strcmp(target, name) == 0) kill(getpid(), SIGKILL);
}

}  // namespace storenode
