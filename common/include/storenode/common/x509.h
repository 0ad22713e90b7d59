// X.509 for storenode's small PKIs: a store CA, TLS certificates for the
// broker, the fog, the tills and the managers, and the CA's revocation list;
// and the chain CA's certificates for the cloud's nodes, stores and workers.
// OpenSSL 3 underneath; PEM in and out. storectl provisions with it, and the
// fog client reads a manager's identity (the certificate's CN) from it.
//
// Plain functions and value types; safe to use from several threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "storenode/common/status.h"

namespace storenode::x509 {

enum class KeyType { kEcP256, kEd25519 };

// "ec" (EC P-256) or "ed25519".
Result<KeyType> ParseKeyType(const std::string& name);
const char* KeyTypeName(KeyType type);

// A private key and its certificate, PEM.
struct Issued {
  std::string key_pem;
  std::string cert_pem;
  std::string serial_hex;  // lower-case hex, as the CRL lists it
};

struct CertRequest {
  std::string common_name;
  // Subject alternative names, for server certificates: host names and IP
  // addresses the clients connect to (TLS checks the host against these).
  std::vector<std::string> hosts;
  bool server = false;  // extended key usage serverAuth, else clientAuth
  int days = 1825;
  KeyType key_type = KeyType::kEcP256;
  // A server that also connects to its peers as a client (a NATS node's
  // cluster routes): both usages.
  bool client_too = false;
};

struct RevokedCert {
  std::string serial_hex;
  int64_t revoked_at_s = 0;  // Unix time
};

// A certificate authority: its key and self-signed certificate.
class Authority {
 public:
  // A new CA named `common_name`, valid for `days`.
  static Result<Authority> Create(const std::string& common_name, KeyType type, int days);
  static Result<Authority> FromPem(const std::string& cert_pem, const std::string& key_pem);
  Authority(Authority&&) noexcept;
  Authority& operator=(Authority&&) noexcept;
  ~Authority();

  // A new key pair and a certificate for it, signed by this CA.
  Result<Issued> Issue(const CertRequest& request) const;
  // A CRL signed by this CA listing `revoked`, numbered `number` (the
  // number must grow with each new list), valid until the CA expires: an
  // expired CRL would make the broker refuse every client.
  Result<std::string> RevocationList(const std::vector<RevokedCert>& revoked,
                                     uint64_t number) const;

  const std::string& cert_pem() const { return cert_pem_; }
  const std::string& key_pem() const { return key_pem_; }

 private:
  struct Handles;
  Authority(std::unique_ptr<Handles> h, std::string cert_pem, std::string key_pem);
  std::unique_ptr<Handles> h_;
  std::string cert_pem_, key_pem_;
};

// The subject's Common Name of a PEM certificate file.
Result<std::string> CommonNameOfFile(const std::string& cert_path);
// The notAfter of a PEM certificate file (its first certificate, for a CA
// bundle), in Unix seconds.
Result<int64_t> NotAfterOfFile(const std::string& cert_path);
// The serial number of a PEM certificate, lower-case hex.
Result<std::string> SerialOf(const std::string& cert_pem);

}  // namespace storenode::x509
