#include "storenode/common/broker_link.h"

#include <algorithm>
#include <utility>

namespace storenode {
namespace {

// Why `uri` cannot be a server of the link in `section`; empty when it can.
std::string UriProblem(const std::string& uri, const std::string& section, bool insecure) {
  const bool tls = uri.starts_with("ssl://");
  if (!tls && !uri.starts_with("tcp://")) return "must start with tcp:// or ssl://";
  if (!tls && !insecure) return "plain tcp:// needs " + section + ".insecure = true";
  return {};
}

std::vector<std::string> ReadUris(ConfigReader& r, const std::string& section, bool insecure) {
  const std::string key = section + ".uris";
  std::vector<std::string> uris = r.StringList(key);
  if (r.Has(section + ".uri")) {
    (void)r.String(section + ".uri", "");  // known, so that this error is the one reported
    r.Reject(key, "give " + section + ".uri or " + section + ".uris, not both");
  }
  if (uris.empty()) r.Reject(key, "must list at least one server");
  if (uris.size() > kMaxBrokerUris) {
    r.Reject(key, "lists " + std::to_string(uris.size()) + " servers, at most " +
                      std::to_string(kMaxBrokerUris));
  }
  for (size_t i = 0; i < uris.size(); ++i) {
    if (std::string why = UriProblem(uris[i], section, insecure); !why.empty()) {
      r.Reject(key, uris[i] + ": " + why);
    }
    if (std::find(uris.begin(), uris.begin() + i, uris[i]) != uris.begin() + i) {
      r.Reject(key, uris[i] + " is listed twice");
    }
  }
  return uris;
}

}  // namespace

BrokerLink ReadBrokerLink(ConfigReader& r, const std::string& section, const BrokerLink& defaults) {
  BrokerLink l;
  if (r.Has(section + ".uris")) {
    std::vector<std::string> uris =
        ReadUris(r, section, r.Bool(section + ".insecure", defaults.insecure));
    if (!uris.empty()) {
      l.uri = uris.front();
      l.failover_uris.assign(uris.begin() + 1, uris.end());
    }
  } else {
    l.uri = r.String(section + ".uri");
  }
  l.client_id = r.String(section + ".client_id", defaults.client_id);
  l.insecure = r.Bool(section + ".insecure", defaults.insecure);
  const std::string protocol =
      r.String(section + ".protocol", mqtt::ProtocolName(defaults.protocol));
  if (protocol == mqtt::ProtocolName(mqtt::Protocol::kV5)) {
    l.protocol = mqtt::Protocol::kV5;
  } else if (protocol == mqtt::ProtocolName(mqtt::Protocol::kV3_1_1)) {
    l.protocol = mqtt::Protocol::kV3_1_1;
  } else {
    r.Reject(section + ".protocol", "want \"mqtt5\" or \"mqtt3.1.1\"");
  }
  l.ca_file = r.Path(section + ".ca_file", PathUse::kReadFile, defaults.ca_file);
  l.cert_file = r.Path(section + ".cert_file", PathUse::kReadFile, defaults.cert_file);
  l.key_file = r.Path(section + ".key_file", PathUse::kReadFile, defaults.key_file);
  return l;
}

void SpreadOverServers(BrokerLink& link, std::string_view who) {
  if (link.failover_uris.empty()) return;
  uint64_t h = 14695981039346656037ull;  // FNV-1a, 64 bits
  for (unsigned char c : who) h = (h ^ c) * 1099511628211ull;
  std::vector<std::string> servers{link.uri};
  servers.insert(servers.end(), link.failover_uris.begin(), link.failover_uris.end());
  const size_t n = servers.size();
  std::rotate(servers.begin(), servers.begin() + static_cast<ptrdiff_t>(h % n), servers.end());
  if ((h / n) % 2 == 1) std::reverse(servers.begin() + 1, servers.end());
  link.uri = servers.front();
  link.failover_uris.assign(servers.begin() + 1, servers.end());
}

Status CheckBrokerLink(const std::string& source, const std::string& section,
                       const BrokerLink& link) {
  auto bad = [&](const std::string& key, const std::string& why) {
    return Status::Invalid(source + ": key '" + section + "." + key + "': " + why);
  };
  bool tls = false;
  if (link.failover_uris.empty()) {
    if (std::string why = UriProblem(link.uri, section, link.insecure); !why.empty()) {
      return bad("uri", why);
    }
    tls = link.uri.starts_with("ssl://");
  } else {
    if (link.failover_uris.size() + 1 > kMaxBrokerUris) {
      return bad("uris", "at most " + std::to_string(kMaxBrokerUris) + " servers");
    }
    for (const std::string& uri : mqtt::Servers(ToMqttOptions(link))) {
      if (std::string why = UriProblem(uri, section, link.insecure); !why.empty()) {
        return bad("uris", uri + ": " + why);
      }
      tls = tls || uri.starts_with("ssl://");
    }
  }
  if (tls && link.ca_file.empty()) return bad("ca_file", "required with ssl://");
  if (link.cert_file.empty() != link.key_file.empty()) {
    return bad("cert_file", section + ".cert_file and " + section + ".key_file go together");
  }
  return Status::Ok();
}

mqtt::Options ToMqttOptions(const BrokerLink& link) {
  mqtt::Options o;
  o.uri = link.uri;
  o.failover_uris = link.failover_uris;
  o.protocol = link.protocol;
  o.client_id = link.client_id;
  o.ca_file = link.ca_file;
  o.cert_file = link.cert_file;
  o.key_file = link.key_file;
  return o;
}

}  // namespace storenode
