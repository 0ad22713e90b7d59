#include "storenode/common/broker_link.h"

#include <utility>

namespace storenode {

BrokerLink ReadBrokerLink(ConfigReader& r, const std::string& section, const BrokerLink& defaults) {
  BrokerLink l;
  l.uri = r.String(section + ".uri");
  l.client_id = r.String(section + ".client_id", defaults.client_id);
  l.insecure = r.Bool(section + ".insecure", defaults.insecure);
  l.ca_file = r.Path(section + ".ca_file", PathUse::kReadFile, defaults.ca_file);
  l.cert_file = r.Path(section + ".cert_file", PathUse::kReadFile, defaults.cert_file);
  l.key_file = r.Path(section + ".key_file", PathUse::kReadFile, defaults.key_file);
  return l;
}

Status CheckBrokerLink(const std::string& source, const std::string& section,
                       const BrokerLink& link) {
  auto bad = [&](const std::string& key, const std::string& why) {
    return Status::Invalid(source + ": key '" + section + "." + key + "': " + why);
  };
  const bool tls = link.uri.starts_with("ssl://");
  if (!tls && !link.uri.starts_with("tcp://")) {
    return bad("uri", "must start with tcp:// or ssl://");
  }
  if (!tls && !link.insecure) {
    return bad("uri", "plain tcp:// needs " + section + ".insecure = true");
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
  o.client_id = link.client_id;
  o.ca_file = link.ca_file;
  o.cert_file = link.cert_file;
  o.key_file = link.key_file;
  return o;
}

}  // namespace storenode
