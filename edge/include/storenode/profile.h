// A till's profile: the one TOML file (firmware-configs/till.toml, written
// by `storectl provision till`) that sets up a till's journal and sync, so a
// POS integration needs no config code of its own:
//
//   auto profile = storenode::edge::LoadProfile("/etc/storenode/till.toml");
//   if (!profile.ok()) { log(profile.status().message()); return; }
//   auto journal = storenode::edge::Journal::Open(profile->journal);
//   auto sync = storenode::edge::SyncEngine::Start(journal->get(), profile->sync);
//
// LoadProfile is a pure function of the file; call it from any thread.
#pragma once

#include <string>

#include "storenode/common/status.h"
#include "storenode/edge.h"

namespace storenode::edge {

struct Profile {
  Options journal;
  SyncOptions sync;
};

// Reads and checks a till profile. Unknown keys, a missing required key,
// plain tcp:// without `broker.insecure = true`, or a TLS file that cannot
// be read are errors; the Status is one line naming the file and the key.
Result<Profile> LoadProfile(const std::string& path);

}  // namespace storenode::edge
