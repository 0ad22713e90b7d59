// The options every fog-facing storectl command shares (commands.h,
// FogFlags), and the one round trip to the fog they all make.
#include <chrono>
#include <cstdlib>
#include <string>

#include "commands.h"
#include "storenode/common/config.h"
#include "storenode/common/log.h"
#include "storenode/common/topics.h"

namespace storenode::storectl {
namespace {

// The flags with the config file's values filled in where a flag was not
// given; Finish() rejects unknown keys, so a typo does not go unnoticed.
Result<FogFlags> Merged(const FogFlags& flags) {
  FogFlags m = flags;
  if (!flags.config.empty()) {
    SN_ASSIGN_OR_RETURN(ConfigReader r, ConfigReader::Open(flags.config));
    const std::string store = r.String("store.id", "");
    tools::BrokerFlags file;
    file.uri = r.String("broker.uri", "");
    file.insecure = r.Bool("broker.insecure", false);
    file.ca_file = r.Path("broker.ca_file", PathUse::kReadFile, "");
    file.cert_file = r.Path("broker.cert_file", PathUse::kReadFile, "");
    file.key_file = r.Path("broker.key_file", PathUse::kReadFile, "");
    SN_RETURN_IF_ERROR(r.Finish());
    auto fill = [](std::string* flag, const std::string& from_file) {
      if (flag->empty()) *flag = from_file;
    };
    fill(&m.store, store);
    fill(&m.broker.uri, file.uri);
    fill(&m.broker.ca_file, file.ca_file);
    fill(&m.broker.cert_file, file.cert_file);
    fill(&m.broker.key_file, file.key_file);
    m.broker.insecure = flags.broker.insecure || file.insecure;
  }
  if (m.store.empty()) return Status::Invalid("give --store S (or store.id in --config FILE)");
  if (!topics::ValidId(m.store)) {
    return Status::Invalid("--store '" + m.store + "' must not contain '/', '+' or '#'");
  }
  if (m.broker.uri.empty()) {
    return Status::Invalid("give --broker URI (or broker.uri in --config FILE)");
  }
  SN_RETURN_IF_ERROR(tools::CheckBrokerFlags(m.broker));
  // With a certificate the identity is its CN (AskFog refuses a different
  // --manager); only a development broker without certificates takes a name.
  if (m.manager.empty() && m.broker.cert_file.empty()) {
    const char* user = std::getenv("USER");
    m.manager = user != nullptr && *user != '\0' ? user : "storectl";
  }
  return m;
}

}  // namespace

void AddFogOptions(CLI::App* cmd, FogFlags* flags) {
  const std::string group = "Fog";
  cmd->add_option("--config", flags->config,
                  "TOML with store.id and broker.uri/insecure/ca_file/cert_file/key_file; "
                  "flags override it")
      ->type_name("FILE")
      ->group(group);
  cmd->add_option("--store", flags->store, "store id")->type_name("S")->group(group);
  cmd->add_option("--timeout", flags->timeout_s, "seconds to wait for the broker and the fog")
      ->type_name("SECONDS")
      ->check(CLI::PositiveNumber)
      ->capture_default_str()
      ->group(group);
  cmd->add_option("--manager", flags->manager,
                  "who asks, on a development broker without certificates (default: $USER); "
                  "with --cert the certificate's name is who asks, and a different one is an "
                  "error")
      ->type_name("NAME")
      ->group(group);
  tools::AddBrokerOptions(cmd, &flags->broker);
}

int AskFogOrFail(const FogFlags& flags, v1::FogRequest request, v1::FogResponse* response) {
  auto merged = Merged(flags);
  if (!merged.ok()) return Fail(kExitUsage, merged.status().message());
  FogClientOptions options;
  options.broker_uri = merged->broker.uri;
  options.store_id = merged->store;
  options.ca_file = merged->broker.ca_file;
  options.cert_file = merged->broker.cert_file;
  options.key_file = merged->broker.key_file;
  options.timeout = std::chrono::milliseconds(static_cast<int64_t>(merged->timeout_s * 1000));
  options.identity = merged->manager;
  // The MQTT adapter warns about every failed connect; the answer (or the
  // one-line reason there is none) is all a manager should see.
  (void)log::Init("storectl", "off");
  auto answer = AskFog(options, request);
  if (answer.status().code() == Code::kInvalidArgument) {
    return Fail(kExitUsage, answer.status().message());
  }
  if (!answer.ok()) return Fail(kExitFailed, answer.status().message());
  *response = std::move(*answer);
  if (!response->ok()) return Fail(kExitFailed, "the fog refused: " + response->error());
  return kExitOk;
}

}  // namespace storenode::storectl
