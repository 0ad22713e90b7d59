// Trust: which tills the fog believes, and under which key.
//
// Promise: a till's key comes from the till registry (config.tills_registry)
// when it holds one; a registered till without a key is pinned from its
// genesis (on the TLS broker only the holder of its certificate can publish
// on its topic); trust on first use (config.trust_on_first_use) covers only
// tills not in the registry; nothing of a revoked till is believed. The
// registry is re-read whenever its file changed (Refresh, before every
// journal message and request), so a revocation takes effect on the next
// message; a registry that cannot be read keeps the last good one in force,
// so a broken edit never lifts a revocation.
//
// Owns no table: the pinned keys themselves are Ingest's (devices). Not
// thread-safe: the fog's worker thread owns it.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "store.h"
#include "storenode/common/crypto.h"
#include "storenode/common/till_registry.h"
#include "storenode/fog/fog.h"

namespace storenode::fog {

class Trust {
 public:
  explicit Trust(const Config& config);
  // Reads the registry; a missing file is an empty registry.
  Status Load();
  // Re-reads the registry if its file changed since the last look.
  void Refresh();

  bool Revoked(const std::string& device_id) const;
  // Registered tills that are not revoked.
  std::vector<std::string> RegisteredTills() const;
  // In the registry (revoked or not), or named in fog.toml's expected_tills.
  bool Known(const std::string& device_id) const;
  // The provisioned key of a till, if the registry holds one.
  const crypto::PublicKey* ProvisionedKey(const std::string& device_id) const;
  // Whether a new till's genesis key may be pinned: how it is trusted
  // ("provisioned", "genesis (trust on first use)", ...), or why not.
  Result<std::string> PinSource(const std::string& device_id, const std::string& genesis_key) const;
  // The tills a close-down waits for: fog.toml's expected tills and the
  // registered ones that are not revoked (`storectl provision till`
  // registers a till without anyone editing fog.toml); when fog.toml names
  // none, every till `seen` too. Sorted.
  std::vector<std::string> ExpectedTills(const std::map<std::string, Device>& seen) const;

 private:
  Status Read();

  const Config& config_;
  std::string path_;
  TillRegistry registry_;
  std::string stamp_;  // inode, size and mtime of the file last read
};

}  // namespace storenode::fog
