// storectl provision: the store's PKI, its broker configs and its registry
// of tills and managers.
//
//   storectl provision store   --store S --out DIR [--host H]... [--port 8883] [--bind ADDR]
//                              [--data-dir DIR] [--key-type ec|ed25519] [--days N] [--force]
//   storectl provision till    --store S --device D [--ca DIR] --out OUT
//                              [--journal-key FILE | --public-key HEX] [--install-dir DIR]
//                              [--force]
//   storectl provision manager --store S --name N [--ca DIR] --out OUT [--force]
//   storectl provision revoke  (--device D | --manager N) [--ca DIR]
//   storectl provision chain   --out DIR [--node HOST]... [--store S]... [--worker W]...
//                              [--mqtt-port 8883] [--ledger-key HEX]
//                              [--key-type ec|ed25519] [--days N] [--force]
//
// The store directory (`store --out`, `--ca` of the others, default
// /etc/storenode):
//   store.toml                  what the later commands need (store id, key type,
//                               validity, broker host and port, CRL number)
//   ca/ca.crt, ca/ca.key        the store CA; the key can live offline between runs
//   ca/crl.pem                  revoked certificates (the broker's crlfile)
//   tls/broker.crt, .key        the broker's server certificate (every --host)
//   tls/fog.crt, .key           the fog's client certificate, CN "fog"
//   mosquitto/store-broker.conf TLS-only broker config (firmware-configs template)
//   mosquitto/store-acl.conf    one block per identity, from tills.toml
//   tills.toml                  the registry (common/till_registry.h), read by the fog
//
// The chain directory (`chain --out`), head office's side (DEPLOY.md 10):
//   chain.toml                    key type and validity, for later runs
//   ca/ca.crt, ca/ca.key          the chain CA, apart from every store CA
//   nodes/HOST.crt, .key          a NATS node's certificate (SAN HOST), for its
//                                 client, MQTT and cluster listeners and routes
//   stores/S.crt, .key            a store's fog on the [ledger] link, CN S
//   stores/S.fog.toml             its fog.toml [ledger] section: every node's
//                                 MQTT listener, the TLS files as installed
//                                 in /etc/storenode/ledger/, the ledger key
//   workers/W.crt, .key           a ledger worker on NATS, CN W
//   head-office/head-office.crt   storectl chain release, CN head-office
//   nats/authorization.conf       every node's users and permissions, from
//                                 the certificates in stores/ and workers/
// Run it again with more --store/--node/--worker to add them: existing
// identities keep their keys (--force issues them again), and
// authorization.conf is rewritten from every certificate there is.
//
// Every command that changes the registry rewrites the ACL and the CRL from
// it, so the three always agree; the broker applies them on SIGHUP
// (systemctl reload storenode-mosquitto), the fog re-reads the registry by
// itself. Keys are written 0600 and never replaced without --force; a
// replaced certificate is revoked. Files are written atomically, and only
// after every check passed, so a refused command changes nothing.
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "commands.h"
#include "storenode/common/config.h"
#include "storenode/common/crypto.h"
#include "storenode/common/files.h"
#include "storenode/common/store_settings.h"
#include "storenode/common/till_registry.h"
#include "storenode/common/topics.h"
#include "storenode/common/x509.h"

namespace storenode::storectl {

// The templates of firmware-configs/, compiled in (tools/CMakeLists.txt).
const std::map<std::string, std::string>& ProvisionTemplates();

namespace {

namespace fs = std::filesystem;

constexpr char kFogIdentity[] = "fog";
constexpr int kCaDays = 7300;  // 20 years: replacing the CA means visiting every till
// Validity of the certificates it issues (--days, store.toml pki.cert_days).
constexpr IntRange kCertDays{1, 36500};

// --- Templates ----------------------------------------------------------------

// The template `name` with every @KEY@ replaced; an @NAME@ left over is a
// template that needs a value this code does not give, so it is an error.
Result<std::string> Fill(const std::string& name, const std::map<std::string, std::string>& vars) {
  auto it = ProvisionTemplates().find(name);
  if (it == ProvisionTemplates().end()) return Status::NotFound("no template " + name);
  std::string text = it->second;
  for (const auto& [key, value] : vars) {
    const std::string mark = "@" + key + "@";
    for (size_t at = text.find(mark); at != std::string::npos; at = text.find(mark, at)) {
      text.replace(at, mark.size(), value);
      at += value.size();
    }
  }
  std::smatch left;
  if (std::regex_search(text, left, std::regex("@[A-Z_]+@"))) {
    return Status::Invalid("template " + name + ": no value for " + left.str());
  }
  return text;
}

// --- Files --------------------------------------------------------------------

struct Output {
  std::string path;
  std::string contents;
  bool secret = false;  // a private key: 0600, never replaced without --force
};

// Refuses (before writing anything) when a secret exists and !force, then
// writes all of them.
Status WriteAll(const std::vector<Output>& outputs, bool force) {
  for (const Output& o : outputs) {
    if (o.secret && !force && files::Exists(o.path)) {
      return Status::Precondition(o.path + " exists; refusing to replace a key without --force");
    }
  }
  for (const Output& o : outputs) {
    std::error_code ec;
    fs::create_directories(fs::path(o.path).parent_path(), ec);
    if (ec) return Status::Io("cannot create the directory of " + o.path + ": " + ec.message());
    SN_RETURN_IF_ERROR(files::WriteAtomic(o.path, o.contents, o.secret ? 0600 : 0644));
  }
  return Status::Ok();
}

// --- The store directory ------------------------------------------------------

struct StoreDir {
  std::string dir;  // absolute
  std::string store_id;
  x509::KeyType key_type = x509::KeyType::kEcP256;
  int days = 1825;
  std::string host;  // the first broker host: what tills connect to
  int port = 8883;
  uint64_t crl_number = 0;

  std::string File(const std::string& rel) const { return dir + "/" + rel; }
  std::string registry() const { return File("tills.toml"); }

  static Result<StoreDir> Load(const std::string& dir, const std::string& store) {
    StoreDir d;
    d.dir = fs::absolute(dir).lexically_normal().string();
    auto r = ConfigReader::Open(d.File("store.toml"));
    if (!r.ok()) {
      return Status::Invalid(r.status().message() +
                             " (is --ca the directory of `storectl provision store`?)");
    }
    d.store_id = r->String("store.id");
    SN_ASSIGN_OR_RETURN(d.key_type, x509::ParseKeyType(r->String("pki.key_type", "ec")));
    d.days = static_cast<int>(r->Int("pki.cert_days", d.days, kCertDays));
    d.crl_number = static_cast<uint64_t>(
        r->Int("pki.crl_number", 0, {0, std::numeric_limits<int64_t>::max()}));
    d.host = r->String("broker.host");
    d.port = static_cast<int>(r->Int("broker.port", d.port, {1, 65535}));
    SN_RETURN_IF_ERROR(r->Finish());
    if (!store.empty() && store != d.store_id) {
      return Status::Invalid(d.dir + " provisions store '" + d.store_id + "', not '" + store + "'");
    }
    return d;
  }

  Output Meta() const {
    std::ostringstream out;
    out << "# Written by `storectl provision`; read by its later commands.\n"
        << "[store]\nid = \"" << store_id << "\"\n\n"
        << "[pki]\n# Key type of every certificate of this store: ec (P-256) or ed25519.\n"
        << "key_type = \"" << x509::KeyTypeName(key_type) << "\"\n"
        << "# Validity of the certificates issued to the broker, fog, tills and managers.\n"
        << "cert_days = " << days << "\n"
        << "# Number of the last CRL written to ca/crl.pem; grows with each one.\n"
        << "crl_number = " << crl_number << "\n\n"
        << "[broker]\n# Where tills connect: ssl://host:port in their profiles.\n"
        << "host = \"" << host << "\"\nport = " << port << "\n";
    return {File("store.toml"), out.str()};
  }

  Result<x509::Authority> Authority() const {
    auto cert = files::Read(File("ca/ca.crt"));
    auto key = files::Read(File("ca/ca.key"));
    if (!cert.ok() || !key.ok()) {
      return Status::Invalid("the store CA (" + File("ca/ca.key") +
                             ") is not there: bring it back from where it is kept offline");
    }
    return x509::Authority::FromPem(*cert, *key);
  }

  Result<TillRegistry> Registry() const {
    auto reg = TillRegistry::Load(registry());
    if (reg.status().code() == Code::kNotFound) {
      TillRegistry empty;
      empty.store_id = store_id;
      return empty;
    }
    return reg;
  }
};

// The broker's ACL and CRL as the registry says, and the registry itself;
// the CRL number goes up, so `meta` is rewritten too.
Result<std::vector<Output>> RegistryOutputs(StoreDir& d, const TillRegistry& reg,
                                            const x509::Authority& ca) {
  std::map<std::string, std::string> vars{{"STORE", d.store_id}};
  SN_ASSIGN_OR_RETURN(std::string acl, Fill("mosquitto/store-acl.conf", vars));
  auto add_blocks = [&](const std::map<std::string, RegisteredIdentity>& ids,
                        const std::string& tmpl, const std::string& var,
                        const std::string& kind) -> Status {
    for (const auto& [id, e] : ids) {
      if (e.revoked) {
        acl += "\n# " + kind + " " + id + ": revoked, no access.\n";
        continue;
      }
      vars[var] = id;
      SN_ASSIGN_OR_RETURN(std::string block, Fill(tmpl, vars));
      acl += block;
    }
    return Status::Ok();
  };
  SN_RETURN_IF_ERROR(add_blocks(reg.tills, "mosquitto/store-acl-till.conf", "DEVICE", "till"));
  SN_RETURN_IF_ERROR(
      add_blocks(reg.managers, "mosquitto/store-acl-manager.conf", "MANAGER", "manager"));

  std::vector<x509::RevokedCert> revoked;
  for (const auto& [serial, at] : reg.revoked_certs) revoked.push_back({serial, at});
  SN_ASSIGN_OR_RETURN(std::string crl, ca.RevocationList(revoked, ++d.crl_number));
  return std::vector<Output>{
      {d.File("mosquitto/store-acl.conf"), acl}, {d.File("ca/crl.pem"), crl}, d.Meta()};
}

// Writes `outputs`, then the registry and what follows from it. The
// registry goes last: the fog acts on it, so it must not get ahead of the
// key files it refers to.
Status Commit(StoreDir& d, const TillRegistry& reg, const x509::Authority& ca,
              std::vector<Output> outputs, bool force) {
  SN_ASSIGN_OR_RETURN(std::vector<Output> derived, RegistryOutputs(d, reg, ca));
  outputs.insert(outputs.end(), derived.begin(), derived.end());
  SN_RETURN_IF_ERROR(WriteAll(outputs, force));
  return reg.Save(d.registry());
}

Status CheckIdentity(const std::string& what, const std::string& id) {
  if (!ValidIdentity(id)) {
    return Status::Invalid(what + " '" + id + "' must be 1-64 of A-Z a-z 0-9 - _");
  }
  if (id == kFogIdentity) return Status::Invalid(what + " '" + id + "' is the fog's identity");
  return Status::Ok();
}

// The identity's current certificate is replaced: revoke it, so the old one
// (a lost till, a leaked key) cannot connect any more.
void Supersede(TillRegistry& reg, RegisteredIdentity& e) {
  if (!e.cert_serial.empty()) reg.revoked_certs[e.cert_serial] = std::time(nullptr);
}

std::string Absolute(const std::string& dir) {
  return fs::absolute(dir).lexically_normal().string();
}

void PrintWritten(const std::vector<std::string>& paths, const std::string& next) {
  for (const std::string& p : paths) std::cout << "wrote " << p << "\n";
  std::cout << next;
}

// --- Commands -----------------------------------------------------------------

struct Args {
  std::string store, out, ca = "/etc/storenode", device, manager, name;
  std::vector<std::string> hosts, nodes, stores, workers;
  int port = 8883;
  std::string bind, data_dir = "/var/lib/storenode-broker", key_type = "ec";
  int days = 1825;
  std::string journal_key, public_key, install_dir, settings, ledger_key;
  int mqtt_port = 8883;
  bool force = false;
};

int ProvisionStore(const Args& a) {
  if (!topics::ValidId(a.store)) return Fail(kExitUsage, "--store '" + a.store + "' is not valid");
  auto key_type = x509::ParseKeyType(a.key_type);
  if (!key_type.ok()) return Fail(kExitUsage, key_type.status().message());
  StoreDir d;
  d.dir = Absolute(a.out);
  d.store_id = a.store;
  d.key_type = *key_type;
  d.days = a.days;
  d.port = a.port;
  std::vector<std::string> hosts = a.hosts;
  if (hosts.empty()) {
    char name[256] = {};
    if (gethostname(name, sizeof name - 1) == 0 && name[0] != '\0') hosts.push_back(name);
    hosts.insert(hosts.end(), {"localhost", "127.0.0.1"});
  }
  d.host = hosts.front();
  if (files::Exists(d.File("ca/ca.key")) && !a.force) {
    return Fail(kExitFailed, d.File("ca/ca.key") +
                                 " exists; refusing to replace the store CA without --force "
                                 "(every till would need a new certificate)");
  }

  auto ca = x509::Authority::Create("storenode store CA " + a.store, d.key_type, kCaDays);
  if (!ca.ok()) return Fail(kExitFailed, ca.status().message());
  x509::CertRequest broker{hosts.front(), hosts, /*server=*/true, d.days, d.key_type};
  x509::CertRequest fog{kFogIdentity, {}, /*server=*/false, d.days, d.key_type};
  auto broker_cert = ca->Issue(broker);
  auto fog_cert = ca->Issue(fog);
  if (!broker_cert.ok() || !fog_cert.ok()) {
    return Fail(kExitFailed,
                (broker_cert.ok() ? fog_cert.status() : broker_cert.status()).message());
  }
  auto conf = Fill("mosquitto/store-broker.conf",
                   {{"LISTENER", std::to_string(a.port) + (a.bind.empty() ? "" : " " + a.bind)},
                    {"CA_FILE", d.File("ca/ca.crt")},
                    {"CERT_FILE", d.File("tls/broker.crt")},
                    {"KEY_FILE", d.File("tls/broker.key")},
                    {"CRL_FILE", d.File("ca/crl.pem")},
                    {"ACL_FILE", d.File("mosquitto/store-acl.conf")},
                    {"DATA_DIR", Absolute(a.data_dir)},
                    {"MESSAGE_SIZE_LIMIT", std::to_string(topics::kDefaultMaxMessageBytes)}});
  if (!conf.ok()) return Fail(kExitFailed, conf.status().message());

  std::vector<Output> outputs{{d.File("ca/ca.key"), ca->key_pem(), true},
                              {d.File("ca/ca.crt"), ca->cert_pem()},
                              {d.File("tls/broker.key"), broker_cert->key_pem, true},
                              {d.File("tls/broker.crt"), broker_cert->cert_pem},
                              {d.File("tls/fog.key"), fog_cert->key_pem, true},
                              {d.File("tls/fog.crt"), fog_cert->cert_pem},
                              {d.File("mosquitto/store-broker.conf"), *conf}};
  // A new CA makes every earlier registration meaningless: start empty.
  TillRegistry reg;
  reg.store_id = a.store;
  Status s = Commit(d, reg, *ca, outputs, a.force);
  if (!s.ok()) return Fail(kExitFailed, s.message());
  std::vector<std::string> paths;
  for (const Output& o : outputs) paths.push_back(o.path);
  paths.insert(paths.end(), {d.File("mosquitto/store-acl.conf"), d.File("ca/crl.pem"),
                             d.File("store.toml"), d.registry()});
  PrintWritten(paths, "store " + a.store + ": broker ssl://" + d.host + ":" +
                          std::to_string(d.port) + "\nnext: storectl provision till|manager --ca " +
                          d.dir + " ...; keep " + d.File("ca/ca.key") + " offline between runs\n");
  return kExitOk;
}

// The journal signing key's public key, when the command line gives one.
Result<std::optional<crypto::PublicKey>> JournalKey(const Args& a) {
  if (!a.journal_key.empty() && !a.public_key.empty()) {
    return Status::Invalid("give --journal-key or --public-key, not both");
  }
  if (!a.journal_key.empty()) {
    SN_ASSIGN_OR_RETURN(crypto::SigningKey key, crypto::SigningKey::Load(a.journal_key));
    return std::optional(key.public_key());
  }
  if (!a.public_key.empty()) {
    auto raw = crypto::FromHex(a.public_key);
    if (!raw.ok() || raw->size() != 32) {
      return Status::Invalid("--public-key wants 64 hex digits (an Ed25519 public key)");
    }
    crypto::PublicKey k{};
    std::copy(raw->begin(), raw->end(), k.begin());
    return std::optional(k);
  }
  return std::optional<crypto::PublicKey>();
}

// Shared by `till` and `manager`: checks, issues the certificate, registers
// the identity and writes everything; a till also gets its profile.
int ProvisionIdentity(const Args& a, bool till) {
  const std::string& id = till ? a.device : a.name;
  const std::string what = till ? "--device" : "--name";
  if (Status s = CheckIdentity(what, id); !s.ok()) return Fail(kExitUsage, s.message());
  auto d = StoreDir::Load(a.ca, a.store);
  if (!d.ok()) return Fail(kExitUsage, d.status().message());
  auto reg = d->Registry();
  if (!reg.ok()) return Fail(kExitFailed, reg.status().message());
  auto& mine = till ? reg->tills : reg->managers;
  auto& theirs = till ? reg->managers : reg->tills;
  if (theirs.count(id)) {
    return Fail(kExitFailed, "'" + id + "' is already a " + (till ? "manager" : "till") +
                                 "; one name cannot be both (the broker ACL is per name)");
  }
  RegisteredIdentity& e = mine[id];
  if (!e.cert_serial.empty() && !a.force) {
    return Fail(kExitFailed, std::string(till ? "till " : "manager ") + id +
                                 " is already provisioned" + (e.revoked ? " and revoked" : "") +
                                 "; --force issues a new certificate and revokes the old one");
  }
  if (till) {
    auto key = JournalKey(a);
    if (!key.ok()) return Fail(kExitUsage, key.status().message());
    if (*key) e.public_key = **key;
  }
  auto ca = d->Authority();
  if (!ca.ok()) return Fail(kExitFailed, ca.status().message());
  const std::string base = till ? "till" : "manager";
  const std::string out = Absolute(a.out);
  // Checked before anything is issued, so a refusal leaves the registry alone.
  if (!a.force && files::Exists(out + "/" + base + ".key")) {
    return Fail(kExitFailed,
                out + "/" + base + ".key exists; refusing to replace a key without --force");
  }
  auto issued = ca->Issue({id, {}, /*server=*/false, d->days, d->key_type});
  if (!issued.ok()) return Fail(kExitFailed, issued.status().message());
  Supersede(*reg, e);
  e.cert_serial = issued->serial_hex;
  e.revoked = false;
  e.revoked_at_s = 0;

  std::vector<Output> outputs{{out + "/" + base + ".key", issued->key_pem, true},
                              {out + "/" + base + ".crt", issued->cert_pem},
                              {out + "/ca.crt", ca->cert_pem()}};
  std::string settings_keys = "# (provisioned without settings: the till waits for the fog's)";
  if (till && !a.settings.empty()) {
    // The fog's current settings (data.dir/settings.pb), as the till's own.
    auto doc = files::Read(a.settings);
    if (!doc.ok()) return Fail(kExitUsage, doc.status().message());
    auto opened = settings::Open(*doc);
    if (!opened.ok()) return Fail(kExitFailed, a.settings + ": " + opened.status().message());
    if (opened->store_id() != d->store_id) {
      return Fail(kExitFailed, a.settings + " is for store '" + opened->store_id() + "'");
    }
    v1::SignedSettings signed_settings;
    signed_settings.ParseFromString(*doc);
    outputs.push_back({out + "/settings.pb", *doc});
    settings_keys = "file = \"" + (a.install_dir.empty() ? out : a.install_dir) +
                    "/settings.pb\"\nfog_key = \"" +
                    crypto::ToHex(crypto::AsBytes(signed_settings.public_key())) + "\"";
  }
  if (till) {
    auto profile = Fill("till.toml", {{"STORE", d->store_id},
                                      {"SETTINGS_KEYS", settings_keys},
                                      {"DEVICE", id},
                                      {"HOST", d->host},
                                      {"PORT", std::to_string(d->port)},
                                      {"TLS_DIR", a.install_dir.empty() ? out : a.install_dir}});
    if (!profile.ok()) return Fail(kExitFailed, profile.status().message());
    outputs.push_back({out + "/till.toml", *profile});
  }
  Status s = Commit(*d, *reg, *ca, outputs, a.force);
  if (!s.ok()) return Fail(kExitFailed, s.message());
  std::vector<std::string> paths;
  for (const Output& o : outputs) paths.push_back(o.path);
  std::string key_note;
  if (till) {
    key_note = e.public_key ? "journal key " + crypto::Fingerprint(*e.public_key) + " registered\n"
                            : "no journal key yet: the fog pins the key of its genesis event\n";
  }
  PrintWritten(paths, base + " " + id + ": certificate " + e.cert_serial + "\n" + key_note +
                          "registered in " + d->registry() +
                          "\nnext: reload the broker (systemctl reload storenode-mosquitto) to "
                          "apply its new ACL\n");
  return kExitOk;
}

int Revoke(const Args& a) {
  if (a.device.empty() == a.manager.empty()) {
    return Fail(kExitUsage, "give --device D or --manager N");
  }
  const bool till = !a.device.empty();
  const std::string& id = till ? a.device : a.manager;
  auto d = StoreDir::Load(a.ca, a.store);
  if (!d.ok()) return Fail(kExitUsage, d.status().message());
  auto reg = d->Registry();
  if (!reg.ok()) return Fail(kExitFailed, reg.status().message());
  auto& ids = till ? reg->tills : reg->managers;
  auto it = ids.find(id);
  // Revoking a till that was never provisioned (one the fog pinned by trust
  // on first use) still works: the fog quarantines it from now on.
  if (it == ids.end() && !till) return Fail(kExitFailed, "no manager '" + id + "' is provisioned");
  if (Status s = CheckIdentity(till ? "--device" : "--manager", id); !s.ok()) {
    return Fail(kExitUsage, s.message());
  }
  RegisteredIdentity& e = ids[id];
  if (e.revoked) {
    std::cout << id << " was already revoked\n";
    return kExitOk;
  }
  auto ca = d->Authority();
  if (!ca.ok()) return Fail(kExitFailed, ca.status().message());
  e.revoked = true;
  e.revoked_at_s = std::time(nullptr);
  Supersede(*reg, e);
  Status s = Commit(*d, *reg, *ca, {}, /*force=*/false);
  if (!s.ok()) return Fail(kExitFailed, s.message());
  std::cout << (till ? "till " : "manager ") << id << " revoked"
            << (e.cert_serial.empty() ? "" : " (certificate " + e.cert_serial + " in the CRL)")
            << "\nthe fog quarantines its events from now on; reload the broker "
               "(systemctl reload storenode-mosquitto) to refuse its connections\n";
  return kExitOk;
}

// --- The chain ------------------------------------------------------------------

constexpr char kHeadOffice[] = "head-office";

// The NATS users of the chain: each store may publish only its own submit
// subject and read only its own answers and the releases meant for all,
// a group or itself; head office may publish releases; a worker may use
// JetStream and answer any store. A user is its certificate's subject, as
// nats-server's verify_and_map names it ("CN=store-1").
std::string ChainAuthorization(const std::vector<std::string>& stores,
                               const std::vector<std::string>& workers) {
  std::string out =
      "# Written by `storectl provision chain` from the certificates in stores/ and\n"
      "# workers/: do not edit; run it again to add stores. Each NATS node's\n"
      "# config includes it (include \"authorization.conf\").\n"
      "authorization {\n  users = [\n";
  for (const std::string& s : stores) {
    out += "    { user: \"CN=" + s + "\", allowed_connection_types: [\"MQTT\"],\n" +
           "      permissions: { publish: [\"sn.v1.ledger." + s + ".submit\"],\n" +
           "                     subscribe: [\"sn.v1.ledger." + s +
           ".answer\", \"sn.v1.chain.release.*.all\",\n" +
           "                                 \"sn.v1.chain.release.*.group.*\", "
           "\"sn.v1.chain.release.*.store." +
           s + "\"] } }\n";
  }
  out += std::string("    { user: \"CN=") + kHeadOffice +
         "\", allowed_connection_types: [\"MQTT\"],\n"
         "      permissions: { publish: [\"sn.v1.chain.release.>\"], subscribe: [] } }\n";
  for (const std::string& w : workers) {
    out += "    { user: \"CN=" + w + "\", allowed_connection_types: [\"STANDARD\"],\n" +
           "      permissions: { publish: [\"sn.v1.ledger.*.answer\", \"$JS.API.>\", "
           "\"$JS.ACK.>\"],\n" +
           "                     subscribe: [\"_INBOX.>\"] } }\n";
  }
  return out + "  ]\n}\n";
}

// A store's fog.toml [ledger] section, to append to its fog.toml: the
// fogs spread over the nodes by store id (common/broker_link.h).
std::string FogLedgerSection(const std::string& store, const std::vector<std::string>& nodes,
                             int mqtt_port, const std::string& ledger_key) {
  std::string uris;
  for (const std::string& n : nodes) {
    uris += (uris.empty() ? "" : ", ") + ("\"ssl://" + n + ":" + std::to_string(mqtt_port) + "\"");
  }
  return "\n# Written by `storectl provision chain` for " + store +
         ": the chain's cloud ledger.\n"
         "[ledger]\nuris = [" +
         uris +
         "]\nprotocol = \"mqtt3.1.1\"\n"
         "ca_file = \"/etc/storenode/ledger/chain-ca.crt\"\n"
         "cert_file = \"/etc/storenode/ledger/store.crt\"\n"
         "key_file = \"/etc/storenode/ledger/store.key\"\n" +
         (ledger_key.empty() ? "# public_key = \"...\"  # the ledger's key, from head office\n"
                             : "public_key = \"" + ledger_key + "\"\n");
}

// The identities with a certificate in `dir` (NAME.crt), sorted.
std::vector<std::string> Identities(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".crt") out.push_back(e.path().stem().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

int ProvisionChain(const Args& a) {
  const std::string dir = Absolute(a.out);
  auto file = [&](const std::string& rel) { return dir + "/" + rel; };
  for (const std::string& id : a.stores) {
    if (!topics::ValidId(id)) return Fail(kExitUsage, "--store '" + id + "' is not valid");
  }
  for (const std::string& id : a.workers) {
    if (!topics::ValidId(id)) return Fail(kExitUsage, "--worker '" + id + "' is not valid");
  }
  for (const std::string& h : a.nodes) {
    // It goes into certificates, authorization.conf and fog.toml: a host
    // name or an IPv4/IPv6 address, nothing that could break out of them.
    if (h.empty() || h.size() > 253 ||
        h.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:") !=
            std::string::npos) {
      return Fail(kExitUsage, "--node '" + h + "' is not a host name or address");
    }
  }
  if (!a.ledger_key.empty() && (a.ledger_key.size() != 64 || !crypto::FromHex(a.ledger_key).ok())) {
    return Fail(kExitUsage, "--ledger-key wants the ledger's public key as 64 hex digits");
  }
  std::vector<Output> outputs;
  auto type = x509::ParseKeyType(a.key_type);
  if (!type.ok()) return Fail(kExitUsage, type.status().message());
  int days = a.days;
  std::optional<x509::Authority> ca;
  if (files::Exists(file("ca/ca.key"))) {
    // Issue alike: the key type and validity chosen when the CA was made.
    auto r = ConfigReader::Open(file("chain.toml"));
    if (!r.ok()) return Fail(kExitUsage, r.status().message());
    auto kept = x509::ParseKeyType(r->String("pki.key_type", "ec"));
    days = static_cast<int>(r->Int("pki.cert_days", days, kCertDays));
    if (Status s = r->Finish(); !s.ok()) return Fail(kExitUsage, s.message());
    if (!kept.ok()) return Fail(kExitUsage, kept.status().message());
    type = kept;
    auto cert = files::Read(file("ca/ca.crt"));
    auto key = files::Read(file("ca/ca.key"));
    if (!cert.ok() || !key.ok()) {
      return Fail(kExitFailed, (cert.ok() ? key : cert).status().message());
    }
    auto loaded = x509::Authority::FromPem(*cert, *key);
    if (!loaded.ok()) return Fail(kExitFailed, loaded.status().message());
    ca.emplace(std::move(*loaded));
  } else {
    auto made = x509::Authority::Create("storenode chain CA", *type, kCaDays);
    if (!made.ok()) return Fail(kExitFailed, made.status().message());
    ca.emplace(std::move(*made));
    outputs.push_back({file("ca/ca.key"), ca->key_pem(), true});
    outputs.push_back({file("ca/ca.crt"), ca->cert_pem()});
    outputs.push_back({file("chain.toml"), "[pki]\nkey_type = \"" +
                                               std::string(x509::KeyTypeName(*type)) +
                                               "\"\ncert_days = " + std::to_string(days) + "\n"});
  }
  // One certificate per identity; an existing one is kept unless --force.
  std::vector<std::string> kept;
  auto issue = [&](const std::string& rel, x509::CertRequest req) -> Status {
    if (files::Exists(file(rel + ".crt")) && !a.force) {
      kept.push_back(file(rel + ".crt"));
      return Status::Ok();
    }
    req.days = days;
    req.key_type = *type;
    SN_ASSIGN_OR_RETURN(x509::Issued got, ca->Issue(req));
    outputs.push_back({file(rel + ".key"), got.key_pem, true});
    outputs.push_back({file(rel + ".crt"), got.cert_pem});
    return Status::Ok();
  };
  auto client = [](const std::string& cn) {
    x509::CertRequest r;
    r.common_name = cn;
    return r;
  };
  Status s = issue(std::string("head-office/") + kHeadOffice, client(kHeadOffice));
  for (const std::string& h : a.nodes) {
    x509::CertRequest node = client(h);
    node.hosts = {h};
    node.server = node.client_too = true;
    if (s.ok()) s = issue("nodes/" + h, node);
  }
  for (const std::string& id : a.stores) {
    if (s.ok()) s = issue("stores/" + id, client(id));
  }
  for (const std::string& id : a.workers) {
    if (s.ok()) s = issue("workers/" + id, client(id));
  }
  if (!s.ok()) return Fail(kExitFailed, s.message());
  // Every store and worker there will be: those on disk and those just made.
  auto all = [&](const std::string& sub, const std::vector<std::string>& added) {
    std::vector<std::string> ids = Identities(file(sub));
    ids.insert(ids.end(), added.begin(), added.end());
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    return ids;
  };
  const std::vector<std::string> stores = all("stores", a.stores);
  const std::vector<std::string> nodes = all("nodes", a.nodes);
  for (const std::string& id : stores) {
    outputs.push_back({file("stores/" + id + ".fog.toml"),
                       FogLedgerSection(id, nodes, a.mqtt_port, a.ledger_key)});
  }
  outputs.push_back(
      {file("nats/authorization.conf"), ChainAuthorization(stores, all("workers", a.workers))});
  // Kept identities keep their keys: WriteAll never sees them.
  if (Status w = WriteAll(outputs, a.force); !w.ok()) return Fail(kExitFailed, w.message());
  std::vector<std::string> paths;
  for (const Output& o : outputs) paths.push_back(o.path);
  for (const std::string& k : kept) std::cout << "kept " << k << "\n";
  PrintWritten(paths, "chain CA " + file("ca/ca.crt") + ": " + std::to_string(stores.size()) +
                          " stores in nats/authorization.conf\n");
  return kExitOk;
}

}  // namespace

void AddProvisionCommands(CLI::App& app, int* exit_code) {
  auto a = std::make_shared<Args>();
  CLI::App* p = app.add_subcommand(
      "provision", "create the store CA, TLS certificates, broker configs and the till registry");
  p->require_subcommand(1);
  auto ca_dir = [&](CLI::App* c) {
    c->add_option("--ca", a->ca, "the store directory of `provision store`")
        ->type_name("DIR")
        ->capture_default_str();
  };
  auto force = [&](CLI::App* c) {
    c->add_flag("--force", a->force, "replace existing keys (the old certificate is revoked)");
  };

  CLI::App* store = p->add_subcommand(
      "store", "create the store CA, the broker's and the fog's certificates, broker configs");
  store->add_option("--store", a->store, "store id")->type_name("S")->required();
  store->add_option("--out", a->out, "the store directory to create")->type_name("DIR")->required();
  store
      ->add_option("--host", a->hosts,
                   "a name or IP address tills use to reach the broker (repeat; default: "
                   "this host's name, localhost, 127.0.0.1); the first goes in till profiles")
      ->type_name("H");
  store->add_option("--port", a->port, "the broker's TLS port")->capture_default_str();
  store->add_option("--bind", a->bind, "listen on this address only (default: all)")
      ->type_name("ADDR");
  store->add_option("--data-dir", a->data_dir, "the broker's persistence directory")
      ->type_name("DIR")
      ->capture_default_str();
  store->add_option("--key-type", a->key_type, "ec (P-256) or ed25519")->capture_default_str();
  store->add_option("--days", a->days, "validity of issued certificates")
      ->check(CLI::Range(kCertDays.min, kCertDays.max))
      ->capture_default_str();
  force(store);
  store->callback([a, exit_code] { *exit_code = ProvisionStore(*a); });

  CLI::App* till = p->add_subcommand(
      "till", "issue a till's TLS certificate and profile, and register it at the fog");
  till->add_option("--store", a->store, "store id (checked against --ca)")->type_name("S");
  till->add_option("--device", a->device, "till id, the certificate's CN")
      ->type_name("D")
      ->required();
  ca_dir(till);
  till->add_option("--out", a->out, "where to write till.key, till.crt, ca.crt, till.toml")
      ->type_name("DIR")
      ->required();
  till->add_option("--journal-key", a->journal_key,
                   "the till's journal signing key file: its public key is registered")
      ->type_name("FILE");
  till->add_option("--public-key", a->public_key, "the journal's Ed25519 public key, hex")
      ->type_name("HEX");
  till->add_option("--install-dir", a->install_dir,
                   "where the TLS files will be on the till, for its profile (default: --out)")
      ->type_name("DIR");
  till->add_option("--settings", a->settings,
                   "the fog's current store settings (its data dir's settings.pb), copied for "
                   "the till; without it the till refuses to sell until the fog sends them")
      ->type_name("FILE");
  force(till);
  till->callback([a, exit_code] { *exit_code = ProvisionIdentity(*a, /*till=*/true); });

  CLI::App* manager = p->add_subcommand(
      "manager", "issue a manager's TLS certificate for storectl (fog requests only)");
  manager->add_option("--store", a->store, "store id (checked against --ca)")->type_name("S");
  manager->add_option("--name", a->name, "the manager's name, the certificate's CN")
      ->type_name("N")
      ->required();
  ca_dir(manager);
  manager->add_option("--out", a->out, "where to write manager.key, manager.crt, ca.crt")
      ->type_name("DIR")
      ->required();
  force(manager);
  manager->callback([a, exit_code] { *exit_code = ProvisionIdentity(*a, /*till=*/false); });

  CLI::App* chain = p->add_subcommand(
      "chain",
      "head office: the chain CA, certificates for NATS nodes, stores and workers, "
      "and the NATS users and permissions");
  chain->add_option("--out", a->out, "the chain directory (created, or added to)")
      ->type_name("DIR")
      ->required();
  chain->add_option("--node", a->nodes, "a NATS node's host name or address (repeat)")
      ->type_name("HOST");
  chain->add_option("--store", a->stores, "a store id (repeat)")->type_name("S");
  chain->add_option("--worker", a->workers, "a ledger worker's name (repeat)")->type_name("W");
  chain->add_option("--mqtt-port", a->mqtt_port, "the nodes' MQTT TLS port, for stores/S.fog.toml")
      ->check(CLI::Range(1, 65535))
      ->capture_default_str();
  chain
      ->add_option("--ledger-key", a->ledger_key,
                   "the ledger's public key (hex), pinned in stores/S.fog.toml")
      ->type_name("HEX");
  chain->add_option("--key-type", a->key_type, "ec (P-256) or ed25519, for a new chain CA")
      ->capture_default_str();
  chain->add_option("--days", a->days, "validity of issued certificates, for a new chain CA")
      ->check(CLI::Range(kCertDays.min, kCertDays.max))
      ->capture_default_str();
  force(chain);
  chain->callback([a, exit_code] { *exit_code = ProvisionChain(*a); });

  CLI::App* revoke = p->add_subcommand(
      "revoke", "revoke a till or manager: CRL, broker ACL and the fog's registry");
  revoke->add_option("--store", a->store, "store id (checked against --ca)")->type_name("S");
  revoke->add_option("--device", a->device, "the till to revoke")->type_name("D");
  revoke->add_option("--manager", a->manager, "the manager to revoke")->type_name("N");
  ca_dir(revoke);
  revoke->callback([a, exit_code] { *exit_code = Revoke(*a); });
}

}  // namespace storenode::storectl
