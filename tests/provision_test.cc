// storectl provision without a broker: what it writes, with which
// permissions, what it refuses, and that OpenSSL accepts the result.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <regex>

#include "storenode/common/till_registry.h"
#include "storenode/common/x509.h"
#include "support/fog.h"
#include "support/harness.h"
#include "support/run.h"

using namespace storenode;
using namespace storenode::testing;

namespace {

int Mode(const std::string& path) {
  struct stat st {};
  REQUIRE(stat(path.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

Ran Openssl(const std::string& dir, std::vector<std::string> args) {
  args.insert(args.begin(), "/usr/bin/openssl");
  return RunArgv(dir, args);
}

// A template placeholder left in a generated file.
bool Unfilled(const std::string& text) { return std::regex_search(text, std::regex("@[A-Z_]+@")); }

}  // namespace

TEST_CASE("provision writes 0600 keys, a verifiable chain, and refuses to replace keys",
          "[tls][provision]") {
  const std::string key_type = GENERATE(std::string("ec"), std::string("ed25519"));
  INFO(key_type);
  const std::string dir = MakeTempDir("provision");
  const std::string pki = dir + "/pki";
  auto storectl = [&](std::vector<std::string> args) { return RunTool(dir, "storectl", args); };
  Ran r = storectl({"provision", "store", "--store", "store-9", "--out", pki, "--host",
                    "fog.store-9.lan", "--host", "10.0.0.5", "--key-type", key_type});
  INFO(r.err);
  REQUIRE(r.code == 0);
  for (const char* key : {"/ca/ca.key", "/tls/broker.key", "/tls/fog.key"}) {
    REQUIRE(Mode(pki + key) == 0600);
  }
  REQUIRE(Mode(pki + "/ca/ca.crt") == 0644);
  Ran verify = Openssl(dir, {"verify", "-CAfile", pki + "/ca/ca.crt", "-crl_check", "-CRLfile",
                             pki + "/ca/crl.pem", pki + "/tls/broker.crt", pki + "/tls/fog.crt"});
  INFO(verify.out << verify.err);
  REQUIRE(verify.code == 0);
  Ran text = Openssl(dir, {"x509", "-noout", "-text", "-in", pki + "/tls/broker.crt"});
  REQUIRE_THAT(text.out, Catch::Contains("DNS:fog.store-9.lan") &&
                             Catch::Contains("IP Address:10.0.0.5") &&
                             Catch::Contains("TLS Web Server Authentication"));
  REQUIRE(x509::CommonNameOfFile(pki + "/tls/fog.crt").value() == "fog");
  const std::string conf = ReadFile(pki + "/mosquitto/store-broker.conf");
  REQUIRE_THAT(conf, Catch::Contains("listener 8883\n") &&
                         Catch::Contains("require_certificate true") &&
                         Catch::Contains("use_identity_as_username true") &&
                         Catch::Contains("crlfile " + pki + "/ca/crl.pem"));
  REQUIRE_FALSE(Unfilled(conf));

  // A second run refuses: the CA key exists.
  const std::string ca_key = ReadFile(pki + "/ca/ca.key");
  REQUIRE(storectl({"provision", "store", "--store", "store-9", "--out", pki}).code == 1);
  REQUIRE(ReadFile(pki + "/ca/ca.key") == ca_key);

  REQUIRE(storectl({"provision", "till", "--store", "store-9", "--device", "till-1", "--ca", pki,
                    "--out", dir + "/till-1"})
              .code == 0);
  REQUIRE(Mode(dir + "/till-1/till.key") == 0600);
  REQUIRE(x509::CommonNameOfFile(dir + "/till-1/till.crt").value() == "till-1");
  const std::string profile = ReadFile(dir + "/till-1/till.toml");
  REQUIRE_THAT(profile, Catch::Contains("uri = \"ssl://fog.store-9.lan:8883\"") &&
                            Catch::Contains("id = \"till-1\""));
  REQUIRE_FALSE(Unfilled(profile));
  REQUIRE_THAT(ReadFile(pki + "/mosquitto/store-acl.conf"),
               Catch::Contains("user till-1\ntopic write sn/v1/store-9/dev/till-1/journal"));
  // The wrong store, a reserved or malformed name: refused, nothing written.
  REQUIRE(storectl({"provision", "till", "--store", "store-8", "--device", "till-2", "--ca", pki,
                    "--out", dir + "/till-2"})
              .code == 2);
  REQUIRE(
      storectl({"provision", "till", "--device", "fog", "--ca", pki, "--out", dir + "/x"}).code ==
      2);
  REQUIRE(storectl({"provision", "till", "--device", "till/1", "--ca", pki, "--out", dir + "/x"})
              .code == 2);

  // Again without --force: refused, the key stays.
  const std::string till_key = ReadFile(dir + "/till-1/till.key");
  REQUIRE(
      storectl({"provision", "till", "--device", "till-1", "--ca", pki, "--out", dir + "/till-1"})
          .code == 1);
  REQUIRE(ReadFile(dir + "/till-1/till.key") == till_key);
  const std::string old_serial =
      TillRegistry::Load(pki + "/tills.toml")->tills["till-1"].cert_serial;

  // With --force: a new key and certificate; the old certificate is revoked.
  REQUIRE(storectl({"provision", "till", "--device", "till-1", "--ca", pki, "--out",
                    dir + "/till-1", "--force", "--public-key", std::string(64, '0')})
              .code == 0);
  REQUIRE(ReadFile(dir + "/till-1/till.key") != till_key);
  auto reg = TillRegistry::Load(pki + "/tills.toml");
  REQUIRE(reg.ok());
  REQUIRE(reg->tills["till-1"].cert_serial != old_serial);
  REQUIRE(reg->tills["till-1"].public_key.has_value());
  REQUIRE(reg->revoked_certs.count(old_serial) == 1);
  Ran crl = Openssl(dir, {"crl", "-noout", "-text", "-in", pki + "/ca/crl.pem"});
  std::string upper = old_serial;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  REQUIRE_THAT(crl.out, Catch::Contains(upper));
  REQUIRE(Openssl(dir, {"verify", "-CAfile", pki + "/ca/ca.crt", "-crl_check", "-CRLfile",
                        pki + "/ca/crl.pem", dir + "/till-1/till.crt"})
              .code == 0);

  // Revoked: out of the ACL, its certificate fails the CRL check.
  REQUIRE(storectl({"provision", "revoke", "--device", "till-1", "--ca", pki}).code == 0);
  REQUIRE(TillRegistry::Load(pki + "/tills.toml")->tills["till-1"].revoked);
  REQUIRE_THAT(ReadFile(pki + "/mosquitto/store-acl.conf"), !Catch::Contains("user till-1"));
  REQUIRE(Openssl(dir, {"verify", "-CAfile", pki + "/ca/ca.crt", "-crl_check", "-CRLfile",
                        pki + "/ca/crl.pem", dir + "/till-1/till.crt"})
              .code != 0);
}
