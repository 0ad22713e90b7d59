#include "storenode/common/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <memory>
#include <string>
#include <utility>

namespace storenode::log {
namespace {

constexpr std::array<std::pair<std::string_view, spdlog::level::level_enum>, 6> kLevels = {{
    {"trace", spdlog::level::trace},
    {"debug", spdlog::level::debug},
    {"info", spdlog::level::info},
    {"warn", spdlog::level::warn},
    {"error", spdlog::level::err},
    {"off", spdlog::level::off},
}};

}  // namespace

Status Init(std::string_view program, std::string_view level) {
  const auto* found = std::find_if(kLevels.begin(), kLevels.end(),
                                   [&](const auto& entry) { return entry.first == level; });
  if (found == kLevels.end()) {
    return Status::Invalid("unknown log level '" + std::string(level) +
                           "' (expected trace, debug, info, warn, error or off)");
  }
  auto logger = std::make_shared<spdlog::logger>(std::string(program),
                                                 std::make_shared<spdlog::sinks::stderr_sink_mt>());
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %n %l: %v", spdlog::pattern_time_type::utc);
  logger->set_level(found->second);
  spdlog::set_default_logger(std::move(logger));
  return Status::Ok();
}

}  // namespace storenode::log
