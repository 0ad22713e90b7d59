// Logging set-up: one call at program start, then plain spdlog calls.
//
// After Init(), code logs with spdlog::info(...), spdlog::warn(...) and so on;
// lines go to stderr as "2026-11-26T15:00:00.123Z fogd info: message" (UTC).
// Init() replaces the default spdlog logger and is not meant to race with
// logging from other threads; call it before starting any.
#pragma once

#include <string_view>

#include "storenode/common/status.h"

namespace storenode::log {

// `level` is one of trace, debug, info, warn, error, off; anything else is
// kInvalidArgument (naming the valid levels) and leaves logging untouched.
Status Init(std::string_view program, std::string_view level);

}  // namespace storenode::log
