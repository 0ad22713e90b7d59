// The MQTT topic layout, in one place for tills, fog and tools:
//   sn/v1/{store}/dev/{device}/{journal|ack|status|cmd|catalog_req|catalog}
//   sn/v1/{store}/catalog/manifest
//   sn/v1/{store}/fog/status
//   sn/v1/{store}/fog/req/{identity}
//   sn/v1/{store}/reply/{identity}/{client}
// where {identity} is the requester's: the CN of its certificate, which the
// store broker's ACL enforces (fog/src/access.h)
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace storenode::topics {

std::string Device(std::string_view store, std::string_view device, std::string_view leaf);
inline std::string Journal(std::string_view s, std::string_view d) {
  return Device(s, d, "journal");
}
inline std::string Ack(std::string_view s, std::string_view d) { return Device(s, d, "ack"); }
inline std::string Status(std::string_view s, std::string_view d) { return Device(s, d, "status"); }
inline std::string Cmd(std::string_view s, std::string_view d) { return Device(s, d, "cmd"); }
// All devices' topics with this leaf ("+" wildcard).
inline std::string AllDevices(std::string_view s, std::string_view leaf) {
  return Device(s, "+", leaf);
}
std::string FogStatus(std::string_view store);
// Retained: the fog's current catalog version (catalog.proto).
std::string CatalogManifest(std::string_view store);
// Requests of `identity` to the fog, and all of them ("+" wildcard).
std::string FogRequest(std::string_view store, std::string_view identity);
inline std::string AllFogRequests(std::string_view store) { return FogRequest(store, "+"); }
// The identity of a request topic of `store`; nullopt if it is not one.
std::optional<std::string> ParseFogRequest(std::string_view store, std::string_view topic);
// Where `identity` reads answers: reply/{identity}/{client}; with an empty
// client, the prefix every such topic starts with (ending in '/').
std::string Reply(std::string_view store, std::string_view identity, std::string_view client);

struct DeviceTopic {
  std::string device;
  std::string leaf;
};
// Splits a device topic of `store`; nullopt if it is not one.
std::optional<DeviceTopic> ParseDevice(std::string_view store, std::string_view topic);

// True when `id` is usable as one topic level (no '/', '+', '#', not empty).
bool ValidId(std::string_view id);

}  // namespace storenode::topics
