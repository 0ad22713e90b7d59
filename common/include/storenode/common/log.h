// Logging set-up: one call at program start, then plain spdlog calls.
//
// After Init(), code logs with spdlog::info(...), spdlog::warn(...) and so on;
// lines go to stderr as "2026-11-26T15:00:00.123Z fogd info: message" (UTC).
// When stderr is the systemd journal (StderrIsJournal) they go as
// "<6>fogd info: message" instead: journald reads the priority (7 debug and
// trace, 6 info, 4 warn, 3 error, 2 critical), so `journalctl -p warning`
// works, and stamps the time itself, so it is not written twice.
// Init() replaces the default spdlog logger and is not meant to race with
// logging from other threads; call it before starting any.
#pragma once

#include <string_view>

#include "storenode/common/status.h"

namespace storenode::log {

// `level` is one of trace, debug, info, warn, error, off; anything else is
// kInvalidArgument (naming the valid levels) and leaves logging untouched.
Status Init(std::string_view program, std::string_view level);

// JOURNAL_STREAM (set by systemd for a unit's stdout and stderr) names the
// device and inode of this process's stderr.
bool StderrIsJournal();

}  // namespace storenode::log
