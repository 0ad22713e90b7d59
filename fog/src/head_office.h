// Head office's releases: catalog versions and store settings that head
// office publishes for all stores, a group or some stores on the chain's
// cloud broker (common/head_office.h), taken over the [ledger] link and
// applied as this store's next version. NOTES ON THE DESIGN
//
// Promise: a release is applied at most once, only when head office signed
// it with the key pinned in fog.toml, names this store and is newer than
// the last one of its kind applied here; anything else changes nothing but
// a row in head_office_alerts (or, for an old release, a counter).
//
// Invariants:
//  1. A release is applied in the transaction of the version it makes: a
//     catalog's import (catalog.h, invariant 1), a settings release's issue
//     (settings.h, invariant 1). That transaction also writes its
//     head_office_releases row and the action-journal entry of actor
//     "head-office" naming the release id. A crash before the commit leaves
//     nothing; after it, the retained release comes again on reconnect and
//     is an old release (invariant 2): the version exists exactly once.
//  2. Release ids only grow per kind: one at or below MAX(release_id) of its
//     kind in head_office_releases is ignored with a reason and counted
//     (`ignored`), which is what every reconnect's retained copies are.
//  3. Refused (unknown key, bad signature, too large, malformed, not for
//     this store, a catalog that does not validate, settings that
//     settings::Check or settings::CheckNext refuse: another store's id,
//     another currency, an entry edited or removed): a head_office_alerts
//     row with a one-line reason (once per distinct message and topic: a
//     retained one comes again on every reconnect); nothing else changes.
//  4. Which wins, the store or head office: the newest version, whoever
//     made it. Catalogs: both are imports, and a version rewrites the items
//     it names, so each item is as the last version that named it
//     (docs/FORMATS.md 10.4). Settings: a version holds all the terms; a
//     release's store_id, name, address and tax_id left empty are the
//     store's own, and fog.toml issues again only when its [store] changes
//     (settings.h, invariant 2).
//  5. At most config.head_office.releases_per_minute releases of a kind are
//     applied in any 60 s; a newer one past that waits (the newest only, in
//     memory: the retained copy comes again after a restart) and Poll()
//     applies it when the minute allows.
//
// Worker thread only, like everything that touches fog.db.
#pragma once

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "catalog.h"
#include "settings.h"
#include "storenode/common/clock.h"
#include "storenode/common/crypto.h"
#include "storenode/common/mqtt.h"
#include "storenode/common/sqlite.h"
#include "storenode/fog/fog.h"
#include "storenode/schemas/chain_release.pb.h"

namespace storenode::fog {

inline constexpr const char* kHeadOfficeSchema = R"sql(
CREATE TABLE IF NOT EXISTS head_office_releases(
  kind TEXT NOT NULL,
  release_id INTEGER NOT NULL,
  applied_us INTEGER NOT NULL,
  version INTEGER NOT NULL,
  PRIMARY KEY(kind, release_id));
CREATE TABLE IF NOT EXISTS head_office_alerts(
  at_us INTEGER NOT NULL,
  topic TEXT NOT NULL,
  release_id INTEGER NOT NULL,
  reason TEXT NOT NULL,
  sha256 BLOB NOT NULL);
)sql";

class HeadOffice {
 public:
  HeadOffice(sql::Db& db, const Config& config, const Clock& clock, Catalog& catalog,
             SettingsIssuer& settings);
  Status Load();

  // True for a message on a release topic (from the ledger link).
  static bool IsRelease(const mqtt::Message& m);
  void OnRelease(const mqtt::Message& m);
  // Applies a release that waited for the rate limit (invariant 5).
  void Poll();

  uint64_t ignored() const { return ignored_; }
  // The catalog manifest or the store settings after an applied release.
  std::vector<mqtt::Message> TakeOutgoing() { return std::exchange(outgoing_, {}); }

 private:
  void Refuse(const std::string& topic, uint64_t release_id, const std::string& payload,
              const std::string& reason);
  void Apply(const std::string& topic, const v1::HeadOfficeRelease& release,
             const std::string& payload);
  // Each true when applied; false after Refuse.
  bool ApplyCatalog(const std::string& topic, const v1::HeadOfficeRelease& release,
                    const std::string& payload);
  bool ApplySettings(const std::string& topic, const v1::HeadOfficeRelease& release,
                     const std::string& payload);
  // The head_office_releases row, inside the applying transaction.
  Status Record(v1::ReleaseKind kind, uint64_t release_id, uint64_t version);
  Result<uint64_t> LastApplied(v1::ReleaseKind kind);

  sql::Db& db_;
  const Config& config_;
  const Clock& clock_;
  Catalog& catalog_;
  SettingsIssuer& settings_;
  std::optional<crypto::PublicKey> key_;  // none: releases are ignored
  uint64_t ignored_ = 0;
  std::map<v1::ReleaseKind, std::deque<int64_t>> applied_us_;  // in the last minute
  struct Waiting {
    std::string topic, payload;
    v1::HeadOfficeRelease release;
  };
  std::map<v1::ReleaseKind, Waiting> waiting_;
  std::vector<mqtt::Message> outgoing_;
};

}  // namespace storenode::fog
