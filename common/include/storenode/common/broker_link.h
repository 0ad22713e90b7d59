// A broker connection as a config file names it: a [broker] or [ledger]
// section with uri (or uris, a cluster's nodes), protocol, client_id,
// insecure and the TLS files. Read, checked and turned into mqtt::Options
// the same way by the fog, ledger-sink and a till profile. Pure functions;
// thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "storenode/common/config.h"
#include "storenode/common/mqtt.h"
#include "storenode/common/status.h"

namespace storenode {

// The most servers a `uris` list may name.
inline constexpr size_t kMaxBrokerUris = 16;

struct BrokerLink {
  // tcp://HOST:PORT or ssl://HOST:PORT: `uri`, or the first of `uris`.
  std::string uri{};
  // The rest of `uris`: the cluster's other nodes, tried in this order
  // after uri (mqtt::Options::failover_uris).
  std::vector<std::string> failover_uris{};
  // `protocol = "mqtt5" | "mqtt3.1.1"`, default mqtt5.
  mqtt::Protocol protocol = mqtt::Protocol::kV5;
  std::string client_id{};  // empty: the client's default
  bool insecure = false;    // plain tcp:// allowed (warns)
  std::string ca_file{}, cert_file{}, key_file{};
};

// Reads `section`.{uri | uris, protocol, client_id, insecure, ca_file,
// cert_file, key_file}. One of uri and uris is required (both is an
// error); uris lists 1 to kMaxBrokerUris distinct servers, each checked as
// CheckBrokerLink checks uri, with the file's line. The rest default to
// `defaults`. The TLS files must open for reading now rather than at the
// first connect (ConfigReader::Path). Errors are recorded in `r`.
BrokerLink ReadBrokerLink(ConfigReader& r, const std::string& section,
                          const BrokerLink& defaults = {});

// Every server ssl:// (then with a CA), or tcp:// only with insecure;
// client cert and key together.
// Errors are one line: "<source>: key '<section>.<key>': <reason>".
Status CheckBrokerLink(const std::string& source, const std::string& section,
                       const BrokerLink& link);

// The link's servers (uri, then failover_uris) in an order `who` picks:
// rotated to start at FNV-1a(who) mod n, then the rest walked forward or
// backward from there by the next bit of the hash. A chain's fogs list the
// same nodes; this spreads their connections evenly over all of them, and
// a lost node's stores evenly over the survivors, instead of piling every
// store on the first node (and then all on the second).
void SpreadOverServers(BrokerLink& link, std::string_view who);

// The connection options of a link; the rest of Options stays default.
mqtt::Options ToMqttOptions(const BrokerLink& link);

}  // namespace storenode
