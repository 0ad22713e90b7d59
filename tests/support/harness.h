// The harness (tests/support/harness/: processes, ports, mosquitto) as the
// tests use it: its names in storenode::testing, and wrappers that fail the
// test case with REQUIRE where the harness returns a Status.
//
// Promise: a set-up that did not happen fails the test case there, with the
// harness's reason, instead of handing the test an empty path or a -1.
// Only for the thread that runs the test case (REQUIRE).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "harness/broker.h"
#include "harness/process.h"

namespace storenode::testing {

using harness::Broker;
using harness::FreePort;
using harness::PortAccepts;
using harness::Process;
using harness::WaitFor;

// A fresh directory /tmp/<prefix>XXXXXX; REQUIREs that it was made.
std::string MakeTempDir(std::string_view prefix);

// The peak resident set (VmHWM) of a running process, in bytes; REQUIREs
// that /proc tells it.
int64_t PeakRss(pid_t pid);

}  // namespace storenode::testing
