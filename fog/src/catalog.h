// The catalog master: the store's items, prices and barcodes in fog.db,
// versioned, and their distribution to the tills.
//
// NOTES ON THE DESIGN
//  1. An import (of items, or of promotions: request.promotions) is validated whole
//  (common/catalog.h, plus barcodes already
//     held by other items) before anything is written; then, in one
//     transaction, every item it names is rewritten with the new version,
//     the version row with the content hash is added and the import is
//     appended to the fog's signed action journal. Nothing of a bad file is
//     applied.
//  2. catalog_items holds the current state only; each item row carries the
//     version that last wrote it. A delta from version h is the items with
//     version > h, whole. Versions only grow.
//  3. The retained manifest always names a committed version: it is
//     published after COMMIT (and on every reconnect).
//  4. A till asks with CatalogFetch (its version and content hash). It gets
//     a delta when the fog recorded that exact version and hash, else a
//     snapshot. Answers are cut into chunks (common/catalog.h), built once
//     per (from, to) and cached until the next import.
//  5. Fetches are coalesced per till: the answer from a version goes to a
//     till at most once per config.requests.catalog_answer_interval_ms and
//     per current version, so a till that repeats its fetch gets one answer
//     per interval; a new version (an import clears the table) is answered
//     at once. Only tills the fog serves reach OnFetch (access.h), so the
//     table holds at most (tills x versions they ask from) entries.
//
// Worker thread only, like everything that touches fog.db.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "action_journal.h"
#include "settings.h"
#include "storenode/common/clock.h"
#include "storenode/common/crypto.h"
#include "storenode/common/journal_format.h"
#include "storenode/common/mqtt.h"
#include "storenode/common/sqlite.h"
#include "storenode/fog/fog.h"
#include "storenode/schemas/catalog.pb.h"
#include "storenode/schemas/fog.pb.h"

namespace storenode::fog {

// Tables:
//   catalog_versions  one row per import: who, when, what, the content hash.
//   catalog_items     the current items (serialized CatalogItem, verbatim,
//                     and its SHA-256), with the version that last wrote it.
//   catalog_barcodes  barcode -> sku, unique across the catalog.
//   catalog_promotions the current promotions (serialized Promotion,
//                     verbatim, and its promotions::Digest), with the version
//                     that last wrote each: versioned, hashed and sent like
//                     items (docs/FORMATS.md 10.6).
inline constexpr const char* kCatalogSchema = R"sql(
CREATE TABLE IF NOT EXISTS catalog_versions(
  version INTEGER PRIMARY KEY,
  created_us INTEGER NOT NULL,
  manager TEXT NOT NULL,
  file_name TEXT NOT NULL,
  rows INTEGER NOT NULL,
  items_changed INTEGER NOT NULL,
  item_count INTEGER NOT NULL,
  content_hash BLOB NOT NULL,
  file_sha256 BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS catalog_items(
  sku TEXT PRIMARY KEY,
  version INTEGER NOT NULL,
  digest BLOB NOT NULL,
  item BLOB NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS catalog_items_by_version ON catalog_items(version);
CREATE TABLE IF NOT EXISTS catalog_barcodes(
  barcode TEXT PRIMARY KEY,
  sku TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS catalog_promotions(
  id TEXT PRIMARY KEY,
  version INTEGER NOT NULL,
  digest BLOB NOT NULL,
  promotion BLOB NOT NULL) WITHOUT ROWID;
)sql";

// Typed readers of the catalog tables, on any connection (the reorder job
// reads on its own, reorder.h).
// The item of `sku` (not a barcode); nullopt if the catalog has none.
Result<std::optional<v1::CatalogItem>> CatalogItemOf(sql::Db& db, const std::string& sku);
// Up to `limit` items with sku > `after`, by sku.
Result<std::vector<v1::CatalogItem>> CatalogItemsAfter(sql::Db& db, const std::string& after,
                                                       size_t limit);

class Catalog {
 public:
  // Imports are recorded in `actions`, in their transaction, and checked
  // against the store settings in force (currency, zone, tax codes).
  Catalog(sql::Db& db, const Config& config, const Clock& clock, ActionJournal& actions,
          const SettingsIssuer& settings);
  Status Load();

  // Validates and applies an import. `r.ok` false with the reason (and the
  // rows' errors in r.catalog_import) when nothing was applied.
  v1::FogResponse Import(const v1::CatalogImportRequest& request, const std::string& manager);
  // A head-office release (head_office.h): applied as an import by `actor`,
  // journaled as `action`, with `in_transaction(version)` run inside the
  // import's transaction before it commits. Never taken for a resend of the
  // last import: each release is a version of its own.
  Result<v1::CatalogImportResponse> ApplyRelease(
      const v1::CatalogImportRequest& request, const std::string& actor, const std::string& action,
      const std::function<Status(uint64_t version)>& in_transaction);
  v1::FogResponse Show(const v1::CatalogShowRequest& request);
  v1::FogResponse Versions();

  // The retained manifest; nullopt while there is no catalog.
  std::optional<mqtt::Message> Manifest() const;
  // The chunks that answer a till's fetch: none when it is current, or
  // when the same answer went to it less than the interval ago (coalesced).
  struct FetchAnswer {
    std::vector<mqtt::Message> chunks;
    bool coalesced = false;
  };
  FetchAnswer OnFetch(const std::string& device, const std::string& payload);

  uint64_t version() const { return version_; }
  // An event's promotions (docs/FORMATS.md 10.6), as the till checked
  // them: every line's shares (promotions::CheckShares) and, on a sale
  // priced from a catalog version, ids this catalog has. "" when fine, else
  // the reason the event is refused.
  std::string CheckEvent(const DecodedEvent& event) const;
  // sku -> the department of its entry in force now (or of its first entry
  // when none is yet), for the department report; items without one map
  // to "".
  Result<std::map<std::string, std::string>> Departments();

 private:
  Result<v1::CatalogImportResponse> Apply(
      const v1::CatalogImportRequest& request, const std::string& manager,
      const std::string& action = "catalog-import",
      const std::function<Status(uint64_t)>* in_transaction = nullptr);
  // A promotions file: validated whole (its skus and departments must be
  // the catalog's), then written like items.
  Result<v1::CatalogImportResponse> ApplyPromotions(
      const v1::CatalogImportRequest& request, const crypto::Hash& file_sha,
      const std::string& manager, const std::string& action,
      const std::function<Status(uint64_t)>* in_transaction);
  // The end of every import, inside its open transaction: the content hash
  // over items and promotions, the version row, the action journal entry,
  // COMMIT and the new state.
  struct Change {
    uint64_t rows = 0, items_changed = 0, promotions_changed = 0;
  };
  Result<v1::CatalogImportResponse> CommitVersion(
      sql::Transaction& txn, uint64_t version, const v1::CatalogImportRequest& request,
      const crypto::Hash& file_sha, const Change& change, const std::string& manager,
      const std::string& action, const std::function<Status(uint64_t)>* in_transaction);
  v1::FogResponse ShowPromotions(const v1::CatalogShowRequest& request);
  Result<std::vector<std::string>> BuildChunks(uint64_t from_version);

  sql::Db& db_;
  const Config& config_;
  const Clock& clock_;
  ActionJournal& actions_;
  const SettingsIssuer& settings_;
  uint64_t version_ = 0;
  std::string content_hash_;
  uint64_t item_count_ = 0;
  uint64_t promotion_count_ = 0;
  std::set<std::string> promotion_ids_;  // every promotion ever imported
  int64_t created_us_ = 0;
  // (from version) -> serialized chunks of the answer to the current version.
  std::map<uint64_t, std::vector<std::string>> chunk_cache_;
  // (till, from version) -> when it got that answer to version_ (invariant 5).
  std::map<std::pair<std::string, uint64_t>, int64_t> answered_us_;
};

}  // namespace storenode::fog
