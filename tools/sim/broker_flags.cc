#include "sim/broker_flags.h"

namespace storenode::tools {

void AddBrokerOptions(CLI::App* app, BrokerFlags* flags) {
  const std::string group = "Broker";
  app->add_option("--broker", flags->uri,
                  "store broker: tcp://HOST:PORT (with --insecure) or ssl://HOST:PORT")
      ->type_name("URI")
      ->group(group);
  app->add_flag("--insecure", flags->insecure, "allow plain, unencrypted tcp:// to the broker")
      ->group(group);
  app->add_option("--ca", flags->ca_file, "CA certificate that signed the broker's (ssl://)")
      ->type_name("FILE")
      ->group(group);
  app->add_option("--cert", flags->cert_file, "client certificate (ssl://)")
      ->type_name("FILE")
      ->group(group);
  app->add_option("--key", flags->key_file, "client private key (ssl://)")
      ->type_name("FILE")
      ->group(group);
}

Status CheckBrokerFlags(const BrokerFlags& flags) {
  if (flags.uri.starts_with("tcp://")) {
    if (!flags.insecure) {
      return Status::Invalid("--broker " + flags.uri +
                             " is plain TCP: add --insecure to allow it unencrypted");
    }
    return Status::Ok();
  }
  if (!flags.uri.starts_with("ssl://")) {
    return Status::Invalid("--broker '" + flags.uri + "' must start with tcp:// or ssl://");
  }
  if (flags.ca_file.empty()) return Status::Invalid("--broker ssl:// needs --ca FILE");
  if (flags.cert_file.empty() != flags.key_file.empty()) {
    return Status::Invalid("--cert and --key go together");
  }
  return Status::Ok();
}

}  // namespace storenode::tools
