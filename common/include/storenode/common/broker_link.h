// A broker connection as a config file names it: a [broker] or [ledger]
// section with uri, client_id, insecure and the TLS files. Read, checked
// and turned into mqtt::Options the same way by the fog, ledger-sink and a
// till profile. Pure functions; thread-safe.
#pragma once

#include <string>

#include "storenode/common/config.h"
#include "storenode/common/mqtt.h"
#include "storenode/common/status.h"

namespace storenode {

struct BrokerLink {
  std::string uri{};        // tcp://HOST:PORT or ssl://HOST:PORT
  std::string client_id{};  // empty: the client's default
  bool insecure = false;    // plain tcp:// allowed (warns)
  std::string ca_file{}, cert_file{}, key_file{};
};

// Reads `section`.{uri, client_id, insecure, ca_file, cert_file, key_file};
// uri is required, the rest default to `defaults`. The TLS files must open
// for reading now rather than at the first connect (ConfigReader::Path).
BrokerLink ReadBrokerLink(ConfigReader& r, const std::string& section,
                          const BrokerLink& defaults = {});

// ssl:// with a CA, or tcp:// only with insecure; client cert and key
// together.
// Errors are one line: "<source>: key '<section>.<key>': <reason>".
Status CheckBrokerLink(const std::string& source, const std::string& section,
                       const BrokerLink& link);

// The connection options of a link; the rest of Options stays default.
mqtt::Options ToMqttOptions(const BrokerLink& link);

}  // namespace storenode
