// Crash points for tests: CrashPoint("name") kills the process with SIGKILL
// when the environment variable STORENODE_CRASH_AT equals "name". Tests use
// it to stop a daemon at the exact moment a promise is most fragile (just
// before a commit, just after it) and check what a restart makes of it.
// Costs one getenv per call when unset.
#pragma once

namespace storenode {

void CrashPoint(const char* name);

// StallPoint("name") blocks the calling thread while the file named by the
// environment variable STORENODE_STALL_WHILE exists, when STORENODE_STALL_AT
// equals "name": a test wedges a thread by creating the file and frees it
// by removing it. Costs one getenv per call when unset.
void StallPoint(const char* name);

}  // namespace storenode
