// The daemons' side of systemd (Type=notify units, WatchdogSec): READY once
// a daemon can do its work, STOPPING when it begins to stop, a one-line
// STATUS, and the watchdog fed from the thread that does the work, so a
// wedged worker is restarted rather than reported alive. Outside systemd
// (no NOTIFY_SOCKET) every call does nothing. Library sn_service (it links
// libsystemd; the till library does not).
//
// Thread-safe.
#pragma once

#include <chrono>
#include <string>

namespace storenode::service {

void NotifyReady(const std::string& status);
void NotifyStopping();
void NotifyStatus(const std::string& status);

// Feeds the watchdog when the unit has one (WATCHDOG_USEC for this pid),
// at most every half interval however often it is called: call it from
// the work loop on every turn.
void FeedWatchdog();

}  // namespace storenode::service
