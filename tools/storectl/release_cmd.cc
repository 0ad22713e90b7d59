// storectl chain keygen|release: head office's side of its releases to the
// stores (common/head_office.h, docs/FORMATS.md 10.4 and 11.5).
//
//   storectl chain keygen --out FILE
//   storectl chain release catalog FILE.csv --key FILE --id N
//                          (--all | --groups g,h | --stores a,b)...
//                          --broker URI [--protocol mqtt5|mqtt3.1.1]
//                          [--tls-ca F --tls-cert F --tls-key F]
//   storectl chain release settings FILE.toml ... (the same options)
//
// keygen writes a new Ed25519 key (0600, never over an existing file) and
// prints its public key in hex, for each fog.toml's [head_office]
// public_key. release signs the file as release N (ids must grow: a fog
// ignores one not above the last it applied) and publishes it, retained at
// QoS 1, on the topic of each target. A settings file is a [store] section
// in fog.toml's syntax, read by the fog's own reader (fog::LoadStoreTermsFile);
// its store.id, when given, must be the one store of --stores. Exit 2 for
// bad arguments or files, 1 when the broker does not take it. On the
// chain's TLS cluster (ssl://) head office connects with its certificate
// from `storectl provision chain` (head-office/head-office.crt), the only
// user allowed to publish releases (DEPLOY.md 10).
#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <thread>

#include "commands.h"
#include "storenode/common/clock.h"
#include "storenode/common/files.h"
#include "storenode/common/head_office.h"
#include "storenode/common/mqtt.h"
#include "storenode/fog/fog.h"

namespace storenode::storectl {
namespace {

struct ReleaseArgs {
  std::string file, key, broker, protocol = "mqtt5";
  std::string tls_ca, tls_cert, tls_key;
  uint64_t id = 0;
  bool all = false;
  std::vector<std::string> groups, stores;
};

int Keygen(const std::string& out) {
  crypto::SigningKey key = crypto::SigningKey::Generate();
  if (Status s = key.Save(out); !s.ok()) return Fail(kExitUsage, s.message());
  std::cout << crypto::ToHex(key.public_key()) << "\n";
  return kExitOk;
}

// Signs `r` (its id and targets from `a`) and publishes it on every topic
// of its targets; `what` describes the payload on each line printed.
int Publish(const ReleaseArgs& a, v1::HeadOfficeRelease r, const std::string& what) {
  if (!a.all && a.groups.empty() && a.stores.empty()) {
    return Fail(kExitUsage, "name the release's targets: --all, --groups or --stores");
  }
  if (a.broker.starts_with("ssl://") && a.tls_ca.empty()) {
    return Fail(kExitUsage, "ssl:// needs --tls-ca (the chain CA)");
  }
  if (a.tls_cert.empty() != a.tls_key.empty()) {
    return Fail(kExitUsage, "give --tls-cert and --tls-key together");
  }
  auto key = crypto::SigningKey::Load(a.key);
  if (!key.ok()) return Fail(kExitUsage, key.status().message());
  r.set_release_id(a.id);
  r.set_created_us(SystemClock::Default()->NowMicros());
  r.mutable_target()->set_all(a.all);
  for (const std::string& g : a.groups) r.mutable_target()->add_groups(g);
  for (const std::string& s : a.stores) r.mutable_target()->add_stores(s);
  const std::string bytes = head_office::Sign(r, *key).SerializeAsString();
  const size_t limit = r.kind() == v1::RELEASE_SETTINGS ? head_office::kMaxSettingsReleaseBytes
                                                        : head_office::kMaxCatalogReleaseBytes;
  if (bytes.size() > limit) {
    return Fail(kExitUsage, "the release would be " + std::to_string(bytes.size()) +
                                " bytes, more than a fog takes (" + std::to_string(limit) + ")");
  }
  mqtt::Options o;
  o.uri = a.broker;
  o.protocol = a.protocol == "mqtt3.1.1" ? mqtt::Protocol::kV3_1_1 : mqtt::Protocol::kV5;
  o.client_id = mqtt::NewClientId("storectl-release");
  o.ca_file = a.tls_ca;
  o.cert_file = a.tls_cert;
  o.key_file = a.tls_key;
  std::unique_ptr<mqtt::Transport> client = mqtt::PahoConnector()(o);
  client->Start();
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!client->connected() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!client->connected()) {
    client->Stop();
    return Fail(kExitFailed, "cannot reach the broker " + a.broker);
  }
  for (const std::string& topic : head_office::ReleaseTopics(r)) {
    mqtt::Message m{.topic = topic, .payload = bytes, .qos = 1, .retained = true};
    if (Status s = mqtt::PublishAndWait(*client, m, std::chrono::seconds(10)); !s.ok()) {
      client->Stop();
      return Fail(kExitFailed, topic + ": " + s.message());
    }
    std::cout << "release " << a.id << " (" << what << ") on " << topic << "\n";
  }
  client->Stop();
  return kExitOk;
}

int ReleaseCatalog(const ReleaseArgs& a) {
  auto csv = files::Read(a.file);
  if (!csv.ok()) return Fail(kExitUsage, csv.status().message());
  v1::HeadOfficeRelease r;
  r.set_kind(v1::RELEASE_CATALOG);
  r.mutable_catalog()->set_csv(*csv);
  r.mutable_catalog()->set_file_name(std::filesystem::path(a.file).filename().string());
  return Publish(a, std::move(r), "catalog, " + std::to_string(csv->size()) + " bytes of CSV");
}

int ReleaseSettings(const ReleaseArgs& a) {
  auto terms = fog::LoadStoreTermsFile(a.file);
  if (!terms.ok()) return Fail(kExitUsage, terms.status().message());
  if (!terms->store_id().empty() &&
      (a.all || !a.groups.empty() || a.stores != std::vector<std::string>{terms->store_id()})) {
    return Fail(kExitUsage, a.file + ": store.id '" + terms->store_id() +
                                "' names one store: release it with --stores " + terms->store_id() +
                                " alone, or leave store.id out");
  }
  v1::HeadOfficeRelease r;
  r.set_kind(v1::RELEASE_SETTINGS);
  *r.mutable_settings() = *terms;
  return Publish(a, std::move(r),
                 "settings, " + std::to_string(terms->tax_rates_size()) + " tax entries");
}

}  // namespace

void AddChainReleaseCommands(CLI::App* chain, int* exit_code) {
  auto out = std::make_shared<std::string>();
  CLI::App* keygen =
      chain->add_subcommand("keygen", "make head office's release key; prints its public key");
  keygen->add_option("--out", *out, "the key file to write (0600)")->required();
  keygen->callback([out, exit_code] { *exit_code = Keygen(*out); });

  CLI::App* release = chain->add_subcommand(
      "release", "sign and publish a head-office release to the stores on the cloud broker");
  release->require_subcommand(1);
  // One ReleaseArgs per subcommand: CLI11 parses only the one given.
  auto add = [&](const char* kind, const char* about, const char* file_about,
                 int (*run)(const ReleaseArgs&)) {
    auto a = std::make_shared<ReleaseArgs>();
    CLI::App* cmd = release->add_subcommand(kind, about);
    cmd->add_option("file", a->file, file_about)->required();
    cmd->add_option("--key", a->key, "head office's key (storectl chain keygen)")->required();
    cmd->add_option("--id", a->id, "the release id; must grow with every release")
        ->required()
        ->check(CLI::PositiveNumber);
    cmd->add_flag("--all", a->all, "for every store");
    cmd->add_option("--groups", a->groups, "for the stores in these groups")->delimiter(',');
    cmd->add_option("--stores", a->stores, "for these stores")->delimiter(',');
    cmd->add_option("--broker", a->broker, "the chain's cloud broker")->required();
    cmd->add_option("--protocol", a->protocol, "mqtt5 (mosquitto) or mqtt3.1.1 (NATS)")
        ->check(CLI::IsMember({"mqtt5", "mqtt3.1.1"}))
        ->capture_default_str();
    cmd->add_option("--tls-ca", a->tls_ca, "the chain CA, for an ssl:// broker")
        ->check(CLI::ExistingFile);
    cmd->add_option("--tls-cert", a->tls_cert, "head office's client certificate")
        ->check(CLI::ExistingFile);
    cmd->add_option("--tls-key", a->tls_key, "its private key")->check(CLI::ExistingFile);
    cmd->callback([a, exit_code, run] { *exit_code = run(*a); });
  };
  add("catalog", "a catalog CSV, applied as an import", "the catalog CSV (docs/FORMATS.md 10.1)",
      ReleaseCatalog);
  add("settings", "the store settings, applied as the next settings version",
      "a TOML file with a [store] section as in fog.toml (docs/FORMATS.md 11.5)", ReleaseSettings);
}

}  // namespace storenode::storectl
