// The store broker flags that every tool which talks MQTT takes, with one
// meaning and one check: --broker URI, --insecure (needed for plain
// tcp://) and --ca/--cert/--key for ssl://.
//
// It lives beside the simulator because sn_sim is the one library every tool
// links (pos-sim syncs its tills, storectl asks the fog). Plain functions.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "storenode/common/status.h"

namespace storenode::tools {

struct BrokerFlags {
  std::string uri;
  bool insecure = false;
  std::string ca_file, cert_file, key_file;
};

// Adds --broker, --insecure, --ca, --cert and --key to `app`, under a
// "Broker" heading in --help.
void AddBrokerOptions(CLI::App* app, BrokerFlags* flags);

// InvalidArgument (one line, naming the flag) unless the URI is tcp:// with
// insecure set, or ssl:// with a CA file and either both or neither of the
// client certificate and key.
Status CheckBrokerFlags(const BrokerFlags& flags);

}  // namespace storenode::tools
