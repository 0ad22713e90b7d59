// The MQTT topic layout, in one place for tills, fog and tools:
//   sn/v1/{store}/dev/{device}/{journal|ack|status|cmd|catalog_req|catalog}
//   sn/v1/{store}/catalog/manifest
//   sn/v1/{store}/settings
//   sn/v1/{store}/fog/status
//   sn/v1/{store}/fog/req/{identity}
//   sn/v1/{store}/reply/{identity}/{client}
// where {identity} is the requester's: the CN of its certificate, which the
// store broker's ACL enforces (fog/src/access.h)
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace storenode::topics {

// The largest payload of a message on these topics: the store broker's
// `message_size_limit` (storectl provision, dev-broker.conf) and the fog's
// default [broker] max_message_bytes, so the broker drops what the fog
// would quarantine anyway. Sized from the largest legitimate messages:
//   a journal batch   sync.batch_events <= 1000 (its range) x ~0.5 KB an
//                     event (tools/bench sync; ~50 B more per receipt line)
//                     = 0.5 MB; 1000 receipts of 100 lines ~ 6 MB;
//   a catalog import  the whole CSV in one fog/req: 100,000 items ~ 6 MB;
//   a catalog chunk   catalog::kChunkBytes (240 KiB) plus its fields;
//   a report answer   per SKU ~50 B: 100,000 items ~ 5 MB.
// 16 MiB leaves more than twice the largest of these.
inline constexpr size_t kDefaultMaxMessageBytes = size_t{16} << 20;

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
// Retained: the fog's current store settings (settings.proto, SignedSettings).
std::string Settings(std::string_view store);
// The largest settings document a till takes (a tax table of a few dozen
// entries is ~2 KB).
inline constexpr size_t kMaxSettingsBytes = 64 * 1024;
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
