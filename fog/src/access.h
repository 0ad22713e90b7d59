// Access: who may ask the fog what, and how often.
//
// NOTES ON THE DESIGN
// Promise: the fog acts only in the name of an authenticated identity and
// only within that identity's role; every request topic is limited per
// sender before the fog does any work for it. Nothing a client writes into
// a request names its actor.
//
// Invariants:
//  1. The actor of a fog/req request is the last level of its topic,
//     sn/v1/{store}/fog/req/{identity}. On the store broker the ACL lets
//     each certificate write only under its own CN (use_identity_as_username,
//     one block per identity written by `storectl provision`), so the topic
//     is as good as the certificate. The console's actor is the manager of
//     the session, whose password it checked. FogRequest.manager is ignored.
//  2. A request runs only if the actor's role ([roles] in fog.toml) is at
//     least the one its kind needs (NeededFor): manager for status, reports,
//     catalog show/versions and close-down; supervisor also for catalog
//     import and device accept. A refusal is answered with one line naming
//     identity, role and action, and logged the same; nothing is changed.
//  3. Every request topic has a RateLimiter per sender (rate_limit.h): the
//     till for catalog fetches, the identity for fog/req. Over its limit a
//     message is dropped unanswered: answering would be the amplification.
//  4. Every refusal is counted by (topic, reason) for /metrics
//     (storenode_fog_requests_refused_total) and logged at most once per
//     sender and minute (rates) or per reason and minute (unknown and
//     revoked senders, whose names the sender chooses: no table of them).
//
// Not thread-safe: the worker owns the RequestGate; the role functions are pure.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "rate_limit.h"
#include "storenode/common/config.h"
#include "storenode/fog/fog.h"
#include "storenode/schemas/fog.pb.h"

namespace storenode::fog {

enum class Role { kNone = 0, kManager = 1, kSupervisor = 2 };

const char* RoleName(Role role);
// The role of `identity` under `roles`.
Role RoleOf(const RolesConfig& roles, const std::string& identity);
// The least role that may make `request`.
Role NeededFor(const v1::FogRequest& request);
// What `request` asks, for refusals and logs ("import a catalog").
const char* ActionOf(const v1::FogRequest& request);
// Empty when `actor` may make `request`, else the one-line refusal.
std::string Refusal(const RolesConfig& roles, const std::string& actor,
                    const v1::FogRequest& request);

// Reads [roles] and [requests]; a one-line reason naming the key if a value
// is wrong.
Status ReadAccessConfig(ConfigReader& r, RolesConfig* roles, RequestLimits* limits);

// The request topics the gate counts, as /metrics labels them.
inline constexpr char kCatalogReq[] = "catalog_req";
inline constexpr char kFogReq[] = "fog_req";

class RequestGate {
 public:
  explicit RequestGate(const RequestLimits& limits);
  // True if `sender` may be served on `topic` (kCatalogReq or kFogReq)
  // now; false when it is over its rate, counted as reason "rate".
  bool Admit(const std::string& topic, const std::string& sender, int64_t now_us);
  // Counts a refusal for another reason ("coalesced", "reply_topic").
  void Count(const std::string& topic, const std::string& reason) { ++refused_[{topic, reason}]; }
  // Counts a refusal of `sender` ("unknown_device", "revoked") and logs it,
  // one line per (topic, reason) and minute whatever the number of senders.
  void Refuse(const std::string& topic, const std::string& reason, const std::string& sender,
              int64_t now_us);
  // (topic, reason) -> refused since the fog started.
  const std::map<std::pair<std::string, std::string>, uint64_t>& refused() const {
    return refused_;
  }

 private:
  RateLimiter catalog_, fog_req_;
  std::map<std::pair<std::string, std::string>, uint64_t> refused_;
  struct Logged {
    int64_t at_us = INT64_MIN;
    uint64_t since = 0;  // refused since that line
  };
  std::map<std::pair<std::string, std::string>, Logged> logged_;
};

}  // namespace storenode::fog
