// The store's registry of provisioned identities: every till (with the
// public key of its journal signing key when known, and whether it is
// revoked) and every manager. `storectl provision` writes it; the fog reads
// it at start and again whenever the file changes, to pin provisioned keys
// and to quarantine revoked tills. storectl also derives the broker's ACL
// and CRL from it, so the three never disagree.
//
// The file is TOML:
//
//   [store]
//   id = "store-042"
//
//   [tills.till-1]
//   public_key = "9f0c...e1"   # Ed25519, 64 hex digits; absent until known
//   cert_serial = "4a1f...07"   # of its TLS certificate, for the CRL
//   revoked = false
//   revoked_at = 0              # Unix time, when revoked
//
//   [managers.anna]
//   cert_serial = "..."
//   revoked = false
//   revoked_at = 0
//
//   [revoked_certs]             # every certificate ever revoked or replaced:
//   4a1f...07 = 1767225600      # serial = Unix time (the broker's CRL)
//
// Identities (device ids, manager names) are 1-64 of [A-Za-z0-9_-]: they are
// TOML keys, MQTT topic levels and certificate CNs at once.
//
// Value types; no shared state.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "storenode/common/crypto.h"
#include "storenode/common/status.h"

namespace storenode {

struct RegisteredIdentity {
  std::optional<crypto::PublicKey> public_key;  // tills only
  std::string cert_serial;                      // lower-case hex
  bool revoked = false;
  int64_t revoked_at_s = 0;
};

struct TillRegistry {
  std::string store_id;
  std::map<std::string, RegisteredIdentity> tills;
  std::map<std::string, RegisteredIdentity> managers;
  // Serial (hex) -> Unix time; kept when an identity is provisioned again,
  // so that a replaced certificate stays revoked.
  std::map<std::string, int64_t> revoked_certs;

  // NotFound when the file does not exist; InvalidArgument (file, key,
  // reason) when it is malformed.
  static Result<TillRegistry> Load(const std::string& path);
  // Atomically (files::WriteAtomic), mode 0644: it holds no secret.
  Status Save(const std::string& path) const;

  // The till's entry, or null.
  const RegisteredIdentity* Till(const std::string& device_id) const;
};

// True when `id` is usable as a device id or manager name (see above).
bool ValidIdentity(const std::string& id);

}  // namespace storenode
