#include "storenode/common/topics.h"

namespace storenode::topics {
namespace {

std::string Prefix(std::string_view store) { return "sn/v1/" + std::string(store) + "/"; }

}  // namespace

std::string Device(std::string_view store, std::string_view device, std::string_view leaf) {
  return Prefix(store) + "dev/" + std::string(device) + "/" + std::string(leaf);
}

std::string FogStatus(std::string_view store) { return Prefix(store) + "fog/status"; }
std::string CatalogManifest(std::string_view store) { return Prefix(store) + "catalog/manifest"; }
std::string Settings(std::string_view store) { return Prefix(store) + "settings"; }
std::string FogRequest(std::string_view store, std::string_view identity) {
  return Prefix(store) + "fog/req/" + std::string(identity);
}
std::optional<std::string> ParseFogRequest(std::string_view store, std::string_view topic) {
  const std::string prefix = FogRequest(store, "");
  if (!topic.starts_with(prefix)) return std::nullopt;
  topic.remove_prefix(prefix.size());
  if (!ValidId(topic)) return std::nullopt;
  return std::string(topic);
}
std::string Reply(std::string_view store, std::string_view identity, std::string_view client) {
  return Prefix(store) + "reply/" + std::string(identity) + "/" + std::string(client);
}

std::optional<DeviceTopic> ParseDevice(std::string_view store, std::string_view topic) {
  std::string prefix = Prefix(store) + "dev/";
  if (topic.substr(0, prefix.size()) != prefix) return std::nullopt;
  topic.remove_prefix(prefix.size());
  size_t slash = topic.find('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  DeviceTopic out{std::string(topic.substr(0, slash)), std::string(topic.substr(slash + 1))};
  if (out.leaf.empty() || out.leaf.find('/') != std::string::npos) return std::nullopt;
  return out;
}

bool ValidId(std::string_view id) {
  return !id.empty() && id.find_first_of("/+#") == std::string_view::npos;
}

}  // namespace storenode::topics
