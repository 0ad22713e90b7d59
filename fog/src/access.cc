#include "access.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "storenode/common/till_registry.h"

namespace storenode::fog {

const char* RoleName(Role role) {
  switch (role) {
    case Role::kSupervisor:
      return "supervisor";
    case Role::kManager:
      return "manager";
    case Role::kNone:
      break;
  }
  return "none";
}

namespace {

std::optional<Role> ParseRole(const std::string& name) {
  for (Role r : {Role::kNone, Role::kManager, Role::kSupervisor}) {
    if (name == RoleName(r)) return r;
  }
  return std::nullopt;
}

bool Listed(const std::vector<std::string>& names, const std::string& id) {
  return std::find(names.begin(), names.end(), id) != names.end();
}

}  // namespace

Role RoleOf(const RolesConfig& roles, const std::string& identity) {
  if (Listed(roles.supervisors, identity)) return Role::kSupervisor;
  if (Listed(roles.managers, identity)) return Role::kManager;
  return ParseRole(roles.default_role).value_or(Role::kNone);
}

Role NeededFor(const v1::FogRequest& request) {
  switch (request.request_case()) {
    case v1::FogRequest::kCatalogImport:
    case v1::FogRequest::kDeviceAccept:
    case v1::FogRequest::kRatesImport:
      return Role::kSupervisor;
    default:
      return Role::kManager;
  }
}

const char* ActionOf(const v1::FogRequest& request) {
  switch (request.request_case()) {
    case v1::FogRequest::kStatus:
      return "read the store status";
    case v1::FogRequest::kDeviceAccept:
      return "accept a replacement journal";
    case v1::FogRequest::kClosedown:
      return "close down a business day";
    case v1::FogRequest::kReport:
      return "read a report";
    case v1::FogRequest::kCatalogImport:
      return "import a catalog";
    case v1::FogRequest::kCatalogShow:
      return "show the catalog";
    case v1::FogRequest::kCatalogVersions:
      return "list the catalog versions";
    case v1::FogRequest::kStockReceive:
      return "receive stock";
    case v1::FogRequest::kStockCount:
      return "record a stock count";
    case v1::FogRequest::kStockAdjust:
      return "adjust stock";
    case v1::FogRequest::kStockOrder:
      return "put stock on order";
    case v1::FogRequest::kStockShow:
      return "show stock";
    case v1::FogRequest::kReorder:
      return "read the reorder suggestions";
    case v1::FogRequest::kVoucherShow:
      return "show voucher balances";
    case v1::FogRequest::kRatesImport:
      return "import a rate sheet";
    case v1::FogRequest::REQUEST_NOT_SET:
      break;
  }
  return "make an unknown request";
}

std::string Refusal(const RolesConfig& roles, const std::string& actor,
                    const v1::FogRequest& request) {
  const Role role = RoleOf(roles, actor);
  const Role needed = NeededFor(request);
  if (role >= needed) return "";
  return actor + " (role " + RoleName(role) + ") may not " + ActionOf(request) +
         ": that needs the " + RoleName(needed) + " role ([roles] in fog.toml)";
}

Status ReadAccessConfig(ConfigReader& r, RolesConfig* roles, RequestLimits* limits) {
  auto bad = [&](const std::string& key, const std::string& why) {
    return Status::Invalid(r.source() + ": key '" + key + "': " + why);
  };
  roles->supervisors = r.StringList("roles.supervisor", roles->supervisors);
  roles->managers = r.StringList("roles.manager", roles->managers);
  roles->default_role = r.String("roles.default", roles->default_role);
  if (!ParseRole(roles->default_role)) {
    return bad("roles.default", "want \"supervisor\", \"manager\" or \"none\"");
  }
  for (const auto* list : {&roles->supervisors, &roles->managers}) {
    const char* key = list == &roles->supervisors ? "roles.supervisor" : "roles.manager";
    for (const std::string& id : *list) {
      if (!ValidIdentity(id)) return bad(key, "'" + id + "' is not a manager name");
      if (list == &roles->managers && Listed(roles->supervisors, id)) {
        return bad(key, id + " is listed as supervisor too");
      }
    }
  }
  auto read = [&](const char* key, int* value, IntRange range) {
    *value = static_cast<int>(r.Int(key, *value, range));
  };
  read("requests.catalog_per_minute", &limits->catalog_per_minute, {1, 60000});
  read("requests.catalog_burst", &limits->catalog_burst, {1, 10000});
  read("requests.catalog_answer_interval_ms", &limits->catalog_answer_interval_ms, {0, 3600000});
  read("requests.fog_req_per_minute", &limits->fog_req_per_minute, {1, 60000});
  read("requests.fog_req_burst", &limits->fog_req_burst, {1, 10000});
  // The reader keeps the first out-of-range value's error.
  SN_RETURN_IF_ERROR(r.status());
  return Status::Ok();
}

namespace {

constexpr int64_t kLogIntervalUs = 60'000'000;

RateLimiter::Limits PerMinute(int per_minute, int burst) {
  RateLimiter::Limits l;
  l.log_interval_us = kLogIntervalUs;
  l.per_second = per_minute / 60.0;
  l.burst = burst;
  return l;
}

}  // namespace

RequestGate::RequestGate(const RequestLimits& limits)
    // Log lines name the topics as /metrics labels them.
    : catalog_(kCatalogReq, PerMinute(limits.catalog_per_minute, limits.catalog_burst)),
      fog_req_(kFogReq, PerMinute(limits.fog_req_per_minute, limits.fog_req_burst)) {}

void RequestGate::Refuse(const std::string& topic, const std::string& reason,
                         const std::string& sender, int64_t now_us) {
  Count(topic, reason);
  Logged& l = logged_[{topic, reason}];
  ++l.since;
  if (l.at_us != INT64_MIN && now_us - l.at_us < kLogIntervalUs) return;
  spdlog::warn("{}: refused {} request(s) ({}) since the last line, the last from {}", topic,
               l.since, reason, sender);
  l.at_us = now_us;
  l.since = 0;
}

bool RequestGate::Admit(const std::string& topic, const std::string& sender, int64_t now_us) {
  RateLimiter& limiter = topic == kCatalogReq ? catalog_ : fog_req_;
  if (limiter.Allow(sender, now_us)) return true;
  Count(topic, "rate");
  return false;
}

}  // namespace storenode::fog
