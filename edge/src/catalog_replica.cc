// The till's catalog replica: NOTES ON THE DESIGN
//
// Promise: the replica holds exactly one version the fog published, whole,
// whatever happens during an apply (crash, bad bytes, power cut).
//
// Invariants:
//  1. Apply() writes a version in one transaction on the writer connection:
//     the items, their barcodes and the meta row (version, content hash).
//  2. Before anything is written the payload's SHA-256 is checked
//     (catalog::Assembler::Read); before COMMIT the content hash of what the
//     replica then holds must equal the fog's, else ROLLBACK. The hash is
//     additive (catalog::ContentHasher): meta keeps the running sum, and an
//     apply takes out the digest of each item it replaces (read from its
//     row) and adds the new one, so a delta costs what it changes.
//  3. A delta applies only on top of the version it was built from.
//  4. Lookups run on a second connection: WAL gives them the last committed
//     version while an apply is writing, so selling never waits on an apply.
//
// Tables (catalog file, not the journal):
//   items(sku, digest, item)   serialized CatalogItem, verbatim as sent, and
//                              its SHA-256 (the content hash input)
//   barcodes(barcode, sku)
//   meta(key, value)           version, content_hash, content_sum, item_count,
//                              promotion_count
//   promotions(id, digest, promotion)  serialized Promotion, verbatim, and its
//                              promotions::Digest (in the content hash too)
// The item keeps its whole price schedule; a lookup picks the entry in force
// at the till's clock (catalog::EntryAt), so effective-dated prices switch
// on time with no network and no write.
#include <mutex>

#include "storenode/common/catalog.h"
#include "storenode/common/fault.h"
#include "storenode/common/promotions.h"
#include "storenode/common/sqlite.h"
#include "storenode/edge.h"

namespace storenode::edge {

namespace {

constexpr const char* kReplicaSchema = R"sql(
CREATE TABLE IF NOT EXISTS items(
  sku TEXT PRIMARY KEY,
  digest BLOB NOT NULL,
  item BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS barcodes(
  barcode TEXT PRIMARY KEY,
  sku TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta(
  key TEXT PRIMARY KEY,
  value BLOB NOT NULL);
)sql";
// Its schema versions, oldest first (sqlite.h, "Schema versions"): version
// 1 is the schema above, which also adopts files made before versions
// existed. A change is one more entry, e.g. {2, "ALTER TABLE ..."}.
// Version 2: the catalog's promotions (docs/FORMATS.md 10.6).
constexpr const char* kReplicaPromotions = R"sql(
CREATE TABLE IF NOT EXISTS promotions(
  id TEXT PRIMARY KEY,
  digest BLOB NOT NULL,
  promotion BLOB NOT NULL) WITHOUT ROWID;
)sql";
constexpr sql::Migration kReplicaMigrations[] = {{1, kReplicaSchema}, {2, kReplicaPromotions}};

Result<std::string> ContentHashOf(sql::Db& db, uint64_t* count) {
  catalog::ContentHasher hasher;
  SN_ASSIGN_OR_RETURN(sql::Stmt stmt, db.Prepare("SELECT digest FROM items UNION ALL "
                                                 "SELECT digest FROM promotions"));
  *count = 0;
  while (true) {
    SN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    SN_ASSIGN_OR_RETURN(crypto::Hash d, crypto::HashFromBytes(stmt.BlobView(0)));
    hasher.Add(d);
    ++*count;
  }
  crypto::Hash h = hasher.Final();
  return std::string(h.begin(), h.end());
}

}  // namespace

class CatalogReplica::Impl {
 public:
  const Clock* clock = nullptr;
  std::unique_ptr<sql::Db> writer, reader;
  mutable std::mutex write_mu, read_mu, state_mu;
  uint64_t version = 0;
  std::string content_hash;
  uint64_t item_count = 0;
  uint64_t promotion_count = 0;
  uint64_t snapshots_applied = 0, deltas_applied = 0;  // since Open

  Status LoadMeta();
  Result<Item> LookupLocked(std::string_view code) const;
};

Status CatalogReplica::Impl::LoadMeta() {
  SN_ASSIGN_OR_RETURN(sql::Stmt stmt, writer->Prepare("SELECT key, value FROM meta"));
  std::lock_guard lock(state_mu);
  while (true) {
    SN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    std::string key = stmt.Text(0);
    if (key == "version") version = static_cast<uint64_t>(stmt.Int(1));
    if (key == "content_hash") content_hash = stmt.Blob(1);
    if (key == "item_count") item_count = static_cast<uint64_t>(stmt.Int(1));
    if (key == "promotion_count") promotion_count = static_cast<uint64_t>(stmt.Int(1));
  }
  return Status::Ok();
}

Result<std::unique_ptr<CatalogReplica>> CatalogReplica::Open(const std::string& path,
                                                             const Clock* clock) {
  auto impl = std::make_unique<Impl>();
  impl->clock = clock ? clock : SystemClock::Default();
  // NORMAL is enough: WAL keeps each apply atomic, and a version lost to a
  // power cut is fetched again from the fog.
  sql::OpenOptions o;
  o.sync = sql::Sync::kNormal;
  SN_ASSIGN_OR_RETURN(impl->writer, sql::Db::Open(path, o));
  SN_RETURN_IF_ERROR(sql::Migrate(*impl->writer, "catalog replica", kReplicaMigrations).status());
  SN_ASSIGN_OR_RETURN(impl->reader, sql::Db::Open(path, o));
  SN_RETURN_IF_ERROR(impl->LoadMeta());
  return std::unique_ptr<CatalogReplica>(new CatalogReplica(std::move(impl)));
}

CatalogReplica::CatalogReplica(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CatalogReplica::~CatalogReplica() = default;

uint64_t CatalogReplica::version() const {
  std::lock_guard lock(impl_->state_mu);
  return impl_->version;
}

std::string CatalogReplica::content_hash() const {
  std::lock_guard lock(impl_->state_mu);
  return impl_->content_hash;
}

uint64_t CatalogReplica::item_count() const {
  std::lock_guard lock(impl_->state_mu);
  return impl_->item_count;
}

uint64_t CatalogReplica::promotion_count() const {
  std::lock_guard lock(impl_->state_mu);
  return impl_->promotion_count;
}

CatalogReplica::Applied CatalogReplica::applied() const {
  std::lock_guard lock(impl_->state_mu);
  return {impl_->snapshots_applied, impl_->deltas_applied};
}

Result<std::string> CatalogReplica::ComputeContentHash() const {
  std::lock_guard lock(impl_->read_mu);
  uint64_t count = 0;
  return ContentHashOf(*impl_->reader, &count);
}

Result<Item> CatalogReplica::Impl::LookupLocked(std::string_view code) const {
  SN_ASSIGN_OR_RETURN(sql::Stmt stmt,
                      reader->Prepare("SELECT item FROM items WHERE sku = ?1 UNION ALL "
                                      "SELECT i.item FROM barcodes b JOIN items i ON "
                                      "i.sku = b.sku WHERE b.barcode = ?1 LIMIT 1"));
  stmt.Bind(1, code);
  SN_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return Status::NotFound("unknown item '" + std::string(code) + "'");
  v1::CatalogItem item;
  if (!item.ParseFromString(stmt.Blob(0))) {
    return Status::Corruption("catalog item '" + std::string(code) + "' does not parse");
  }
  const v1::CatalogEntry* e = catalog::EntryAt(item, clock->NowMicros());
  if (!e) return Status::NotFound("item '" + std::string(code) + "' has no price yet");
  if (!e->active()) {
    return Status::Precondition("item '" + std::string(code) + "' (" + e->name() + ") is inactive");
  }
  Item out;
  out.sku = item.sku();
  out.name = e->name();
  out.price = e->price();
  out.tax_code = e->tax_code();
  out.department = e->department();
  out.unit = e->unit();
  return out;
}

Result<Item> CatalogReplica::Lookup(std::string_view code) const {
  SN_ASSIGN_OR_RETURN(std::vector<Item> items, LookupAll({std::string(code)}));
  return std::move(items[0]);
}

Result<std::vector<Item>> CatalogReplica::LookupAll(const std::vector<std::string>& codes,
                                                    std::vector<v1::Promotion>* promotions) const {
  Impl& r = *impl_;
  std::lock_guard lock(r.read_mu);
  // One read transaction: every item, the promotions and the version come
  // from one commit.
  SN_RETURN_IF_ERROR(r.reader->Exec("BEGIN"));
  auto done = [&](auto result) {
    (void)r.reader->Exec("COMMIT");
    return result;
  };
  std::vector<Item> out;
  for (const std::string& code : codes) {
    auto item = r.LookupLocked(code);
    if (!item.ok()) return done(Result<std::vector<Item>>(item.status()));
    out.push_back(std::move(*item));
  }
  if (promotions != nullptr) {
    promotions->clear();
    auto stmt = r.reader->Prepare("SELECT promotion FROM promotions");
    if (!stmt.ok()) return done(Result<std::vector<Item>>(stmt.status()));
    while (true) {
      auto row = stmt->Step();
      if (!row.ok()) return done(Result<std::vector<Item>>(row.status()));
      if (!*row) break;
      if (!promotions->emplace_back().ParseFromString(stmt->Blob(0))) {
        return done(Result<std::vector<Item>>(Status::Corruption("a promotion does not parse")));
      }
    }
  }
  auto version = r.reader->QueryInt("SELECT value FROM meta WHERE key = 'version'", 0);
  if (!version.ok()) return done(Result<std::vector<Item>>(version.status()));
  for (Item& item : out) item.catalog_version = static_cast<uint64_t>(*version);
  return done(Result<std::vector<Item>>(std::move(out)));
}

Result<std::vector<std::string>> CatalogReplica::UnknownPromotions(
    const std::vector<std::string>& ids) const {
  std::lock_guard lock(impl_->read_mu);
  SN_ASSIGN_OR_RETURN(sql::Stmt stmt, impl_->reader->Prepare("SELECT 1 FROM promotions WHERE "
                                                             "id = ?"));
  std::vector<std::string> out;
  for (const std::string& id : ids) {
    stmt.Bind(1, id);
    SN_ASSIGN_OR_RETURN(bool known, stmt.Step());
    stmt.Reset();
    if (!known) out.push_back(id);
  }
  return out;
}

Status CatalogReplica::Apply(const catalog::Assembler& payload) {
  Impl& r = *impl_;
  std::lock_guard lock(r.write_mu);
  const bool snapshot = payload.from_version() == 0;
  if (!snapshot && payload.from_version() != version()) {
    return Status::Precondition("catalog delta from version " +
                                std::to_string(payload.from_version()) + ", replica is at " +
                                std::to_string(version()));
  }
  sql::Db& db = *r.writer;
  sql::Transaction txn(db);
  SN_RETURN_IF_ERROR(txn.begin_status());
  if (snapshot) {
    SN_RETURN_IF_ERROR(db.Exec("DELETE FROM items; DELETE FROM barcodes; DELETE FROM promotions;"));
  }
  SN_ASSIGN_OR_RETURN(sql::Stmt old_item,
                      db.Prepare("SELECT digest, item FROM items WHERE sku = ?"));
  catalog::ContentHasher hasher;
  uint64_t count = 0, promotion_count = 0;
  if (!snapshot) {
    SN_ASSIGN_OR_RETURN(sql::Stmt sum, db.Prepare("SELECT value FROM meta WHERE key = "
                                                  "'content_sum'"));
    SN_ASSIGN_OR_RETURN(bool has_sum, sum.Step());
    if (has_sum) hasher = catalog::ContentHasher::FromSum(sum.BlobView(0));
    count = item_count();
    promotion_count = this->promotion_count();
  }
  SN_ASSIGN_OR_RETURN(sql::Stmt old_promotion,
                      db.Prepare("SELECT digest FROM promotions WHERE id = ?"));
  SN_ASSIGN_OR_RETURN(sql::Stmt put_promotion, db.Prepare("INSERT OR REPLACE INTO promotions(id, "
                                                          "digest, promotion) VALUES(?,?,?)"));
  v1::Promotion promotion;
  auto on_promotion = [&](std::string_view bytes) -> Status {
    if (!promotion.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) ||
        promotion.id().empty()) {
      return Status::Corruption("a catalog promotion does not parse");
    }
    old_promotion.Bind(1, promotion.id());
    SN_ASSIGN_OR_RETURN(bool had, old_promotion.Step());
    if (had) {
      SN_ASSIGN_OR_RETURN(crypto::Hash old_digest,
                          crypto::HashFromBytes(old_promotion.BlobView(0)));
      hasher.Remove(old_digest);
      --promotion_count;
    }
    old_promotion.Reset();
    crypto::Hash digest = promotions::Digest(bytes);
    hasher.Add(digest);
    ++promotion_count;
    put_promotion.Bind(1, promotion.id()).BindBlob(2, digest.data(), digest.size());
    put_promotion.BindBlob(3, bytes);
    return put_promotion.Run();
  };
  SN_ASSIGN_OR_RETURN(sql::Stmt drop_code,
                      db.Prepare("DELETE FROM barcodes WHERE barcode = ? AND sku = ?"));
  SN_ASSIGN_OR_RETURN(sql::Stmt put_item, db.Prepare("INSERT OR REPLACE INTO items(sku, digest, "
                                                     "item) VALUES(?,?,?)"));
  SN_ASSIGN_OR_RETURN(sql::Stmt put_code, db.Prepare("INSERT OR REPLACE INTO barcodes(barcode, "
                                                     "sku) VALUES(?,?)"));
  v1::CatalogItem item, old;
  v1::CatalogPayload header;
  SN_RETURN_IF_ERROR(payload.Read(
      &header,
      [&](std::string_view bytes) -> Status {
        if (!item.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) ||
            item.sku().empty()) {
          return Status::Corruption("a catalog item does not parse");
        }
        if (!snapshot) {
          // The item's old barcodes go; the new ones come with it.
          old_item.Bind(1, item.sku());
          SN_ASSIGN_OR_RETURN(bool had, old_item.Step());
          if (had) {
            SN_ASSIGN_OR_RETURN(crypto::Hash old_digest,
                                crypto::HashFromBytes(old_item.BlobView(0)));
            hasher.Remove(old_digest);
            --count;
            if (old.ParseFromString(old_item.Blob(1))) {
              for (const std::string& code : old.barcodes()) {
                // Only if still its: an item earlier in this payload may have taken it.
                drop_code.Bind(1, code).Bind(2, item.sku());
                SN_RETURN_IF_ERROR(drop_code.Run());
              }
            }
          }
          old_item.Reset();
        }
        crypto::Hash digest = catalog::ItemDigest(bytes);
        hasher.Add(digest);
        ++count;
        put_item.Bind(1, item.sku()).BindBlob(2, digest.data(), digest.size()).BindBlob(3, bytes);
        SN_RETURN_IF_ERROR(put_item.Run());
        for (const std::string& code : item.barcodes()) {
          put_code.Bind(1, code).Bind(2, item.sku());
          SN_RETURN_IF_ERROR(put_code.Run());
        }
        return Status::Ok();
      },
      on_promotion));
  if (header.to_version() != payload.to_version() ||
      header.from_version() != payload.from_version()) {
    return Status::Corruption("catalog payload and chunks name different versions");
  }
  crypto::Hash final_hash = hasher.Final();
  const std::string hash(final_hash.begin(), final_hash.end());
  if (hash != header.content_hash() || count != header.item_count() ||
      promotion_count != header.promotion_count()) {
    return Status::Corruption("catalog version " + std::to_string(header.to_version()) +
                              " applied gives another content than the fog's (" +
                              std::to_string(count) + " items, fog " +
                              std::to_string(header.item_count()) + "); rolled back");
  }
  SN_ASSIGN_OR_RETURN(sql::Stmt meta,
                      db.Prepare("INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)"));
  meta.Bind(1, std::string_view("version")).Bind(2, static_cast<int64_t>(header.to_version()));
  SN_RETURN_IF_ERROR(meta.Run());
  meta.Bind(1, std::string_view("content_hash")).BindBlob(2, hash);
  SN_RETURN_IF_ERROR(meta.Run());
  meta.Bind(1, std::string_view("item_count")).Bind(2, static_cast<int64_t>(count));
  SN_RETURN_IF_ERROR(meta.Run());
  meta.Bind(1, std::string_view("content_sum")).BindBlob(2, hasher.sum());
  SN_RETURN_IF_ERROR(meta.Run());
  meta.Bind(1, std::string_view("promotion_count")).Bind(2, static_cast<int64_t>(promotion_count));
  SN_RETURN_IF_ERROR(meta.Run());
  CrashPoint("catalog-apply-before-commit");
  SN_RETURN_IF_ERROR(txn.Commit());
  CrashPoint("catalog-apply-after-commit");
  std::lock_guard state(r.state_mu);
  r.version = header.to_version();
  r.content_hash = hash;
  r.item_count = count;
  r.promotion_count = promotion_count;
  // Counted with the version it made visible: whoever sees the version sees
  // the count.
  ++(snapshot ? r.snapshots_applied : r.deltas_applied);
  return Status::Ok();
}

}  // namespace storenode::edge
