#include "catalog.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "storenode/common/catalog.h"
#include "storenode/common/promotions.h"
#include "storenode/common/store_settings.h"
#include "storenode/common/topics.h"

namespace storenode::fog {

namespace {

std::string HashString(const crypto::Hash& h) { return std::string(h.begin(), h.end()); }

// A delta bigger than this share of the catalog goes as a snapshot: fewer
// bytes to check than rows to look up, and the same apply cost on the till.
constexpr uint64_t kDeltaMaxShare = 2;

}  // namespace

Catalog::Catalog(sql::Db& db, const Config& config, const Clock& clock, ActionJournal& actions,
                 const SettingsIssuer& settings)
    : db_(db), config_(config), clock_(clock), actions_(actions), settings_(settings) {}

Status Catalog::Load() {
  SN_RETURN_IF_ERROR(db_.Exec(kCatalogSchema));
  SN_ASSIGN_OR_RETURN(sql::Stmt last,
                      db_.Prepare("SELECT version, content_hash, item_count, created_us FROM "
                                  "catalog_versions ORDER BY version DESC LIMIT 1"));
  SN_ASSIGN_OR_RETURN(bool any, last.Step());
  if (any) {
    version_ = static_cast<uint64_t>(last.Int(0));
    content_hash_ = last.Blob(1);
    item_count_ = static_cast<uint64_t>(last.Int(2));
    created_us_ = last.Int(3);
  }
  SN_ASSIGN_OR_RETURN(sql::Stmt ids, db_.Prepare("SELECT id FROM catalog_promotions"));
  while (true) {
    SN_ASSIGN_OR_RETURN(bool row, ids.Step());
    if (!row) break;
    promotion_ids_.insert(ids.Text(0));
  }
  promotion_count_ = promotion_ids_.size();
  return Status::Ok();
}

std::string Catalog::CheckEvent(const DecodedEvent& event) const {
  const google::protobuf::RepeatedPtrField<v1::SaleLine>* lines = nullptr;
  const v1::EventHeader& h = event.header;
  if (h.kind() == v1::SALE) lines = &event.body.sale().lines();
  if (h.kind() == v1::REFUND) lines = &event.body.refund().lines();
  if (h.kind() == v1::VOID) lines = &event.body.void_receipt().lines();
  if (lines == nullptr) return "";
  const bool priced = h.kind() == v1::SALE && event.body.sale().catalog_version() != 0;
  for (int i = 0; i < lines->size(); ++i) {
    const v1::SaleLine& l = (*lines)[i];
    const std::string at = "seq " + std::to_string(h.seq()) + ": line " + std::to_string(i + 1);
    if (std::string why = promotions::CheckShares(l); !why.empty()) return at + ": " + why;
    for (const v1::LineDiscount& d : l.promotions()) {
      if (priced && !promotion_ids_.count(d.promotion_id())) {
        return at + ": promotion " + d.promotion_id() + " is not in the fog's catalog";
      }
    }
  }
  return "";
}

std::optional<mqtt::Message> Catalog::Manifest() const {
  if (version_ == 0) return std::nullopt;
  v1::CatalogManifest m;
  m.set_version(version_);
  m.set_content_hash(content_hash_);
  m.set_item_count(item_count_);
  m.set_created_us(created_us_);
  m.set_promotion_count(promotion_count_);
  mqtt::Message msg;
  msg.topic = topics::CatalogManifest(config_.store_id);
  msg.payload = m.SerializeAsString();
  msg.retained = true;
  return msg;
}

Result<std::optional<v1::CatalogItem>> CatalogItemOf(sql::Db& db, const std::string& sku) {
  SN_ASSIGN_OR_RETURN(sql::Stmt get, db.Prepare("SELECT item FROM catalog_items WHERE sku = ?"));
  get.Bind(1, sku);
  SN_ASSIGN_OR_RETURN(bool row, get.Step());
  if (!row) return std::optional<v1::CatalogItem>();
  v1::CatalogItem item;
  if (!item.ParseFromString(get.Blob(0))) {
    return Status::Corruption("catalog item " + sku + " in fog.db does not parse");
  }
  return std::optional<v1::CatalogItem>(std::move(item));
}

Result<std::vector<v1::CatalogItem>> CatalogItemsAfter(sql::Db& db, const std::string& after,
                                                       size_t limit) {
  SN_ASSIGN_OR_RETURN(sql::Stmt get, db.Prepare("SELECT item FROM catalog_items WHERE sku > ? "
                                                "ORDER BY sku LIMIT ?"));
  get.Bind(1, after).Bind(2, static_cast<int64_t>(limit));
  std::vector<v1::CatalogItem> out;
  while (true) {
    SN_ASSIGN_OR_RETURN(bool row, get.Step());
    if (!row) break;
    if (!out.emplace_back().ParseFromString(get.Blob(0))) {
      return Status::Corruption("a catalog item in fog.db does not parse");
    }
  }
  return out;
}

v1::FogResponse Catalog::Import(const v1::CatalogImportRequest& request,
                                const std::string& manager) {
  v1::FogResponse r;
  auto applied = Apply(request, manager);
  if (!applied.ok()) {
    r.set_error(applied.status().message());
    return r;
  }
  *r.mutable_catalog_import() = std::move(*applied);
  if (!r.catalog_import().applied()) {
    const auto& errors = r.catalog_import().errors();
    r.set_error(std::to_string(errors.size()) + " bad row(s), nothing applied; first: line " +
                std::to_string(errors[0].line()) + ": " + errors[0].reason());
    return r;
  }
  r.set_ok(true);
  return r;
}

Result<v1::CatalogImportResponse> Catalog::ApplyRelease(
    const v1::CatalogImportRequest& request, const std::string& actor, const std::string& action,
    const std::function<Status(uint64_t version)>& in_transaction) {
  return Apply(request, actor, action, &in_transaction);
}

Result<v1::CatalogImportResponse> Catalog::Apply(
    const v1::CatalogImportRequest& request, const std::string& manager, const std::string& action,
    const std::function<Status(uint64_t)>* in_transaction) {
  // storectl resends a request every second until answered, and a large
  // import takes longer than that: the same file again right after it was
  // applied is that resend, answered with the version it made (whatever
  // delimiter it names: those bytes are what the catalog holds).
  const crypto::Hash file_sha = crypto::Sha256Of(request.csv());
  if (version_ > 0 && in_transaction == nullptr) {
    SN_ASSIGN_OR_RETURN(sql::Stmt last, db_.Prepare("SELECT file_sha256, rows, items_changed "
                                                    "FROM catalog_versions WHERE version = ?"));
    last.Bind(1, static_cast<int64_t>(version_));
    SN_ASSIGN_OR_RETURN(bool row, last.Step());
    if (row && last.Blob(0) == HashString(file_sha)) {
      v1::CatalogImportResponse again;
      again.set_applied(true);
      again.set_version(version_);
      again.set_rows(static_cast<uint64_t>(last.Int(1)));
      again.set_items_changed(static_cast<uint64_t>(last.Int(2)));
      again.set_item_count(item_count_);
      again.set_promotion_count(promotion_count_);
      again.set_content_hash(content_hash_);
      return again;
    }
  }
  if (request.promotions()) {
    return ApplyPromotions(request, file_sha, manager, action, in_transaction);
  }
  SN_ASSIGN_OR_RETURN(char delimiter, catalog::DelimiterOf(request.delimiter()));
  const v1::StoreSettings& terms = settings_.current();
  catalog::CsvOptions options;
  options.delimiter = delimiter;
  options.currency = terms.currency();
  options.zone = settings_.calendar().zone();
  for (const v1::TaxRateEntry& e : terms.tax_rates()) options.tax_codes.insert(e.code());
  catalog::ParsedCsv parsed = catalog::ParseCsv(request.csv(), options);
  v1::CatalogImportResponse out;
  std::map<std::string, std::vector<const catalog::Row*>> by_sku;
  for (const catalog::Row& row : parsed.rows) by_sku[row.sku].push_back(&row);
  // Barcodes that another item holds and keeps.
  SN_ASSIGN_OR_RETURN(sql::Stmt holder,
                      db_.Prepare("SELECT sku FROM catalog_barcodes WHERE barcode = ?"));
  for (const catalog::Row& row : parsed.rows) {
    for (const std::string& code : row.barcodes) {
      holder.Bind(1, code);
      SN_ASSIGN_OR_RETURN(bool held, holder.Step());
      std::string other = held ? holder.Text(0) : "";
      holder.Reset();
      if (!held || other == row.sku) continue;
      auto it = by_sku.find(other);
      bool releases = it != by_sku.end() &&
                      std::any_of(it->second.begin(), it->second.end(),
                                  [](const catalog::Row* r) { return !r->barcodes.empty(); });
      if (!releases) {
        v1::CatalogRowError& e = parsed.errors.emplace_back();
        e.set_line(row.line);
        e.set_reason("duplicate barcode " + code + " (sku " + other + " in the catalog has it)");
      }
    }
  }
  if (!parsed.errors.empty()) {
    std::sort(parsed.errors.begin(), parsed.errors.end(),
              [](const auto& a, const auto& b) { return a.line() < b.line(); });
    for (auto& e : parsed.errors) *out.add_errors() = std::move(e);
    return out;
  }
  if (parsed.rows.empty()) return Status::Invalid("the file has no rows");

  const uint64_t version = version_ + 1;
  sql::Transaction txn(db_);
  SN_RETURN_IF_ERROR(txn.begin_status());
  SN_ASSIGN_OR_RETURN(sql::Stmt get, db_.Prepare("SELECT item FROM catalog_items WHERE sku = ?"));
  SN_ASSIGN_OR_RETURN(sql::Stmt put, db_.Prepare("INSERT OR REPLACE INTO catalog_items(sku, "
                                                 "version, digest, item) VALUES(?,?,?,?)"));
  SN_ASSIGN_OR_RETURN(sql::Stmt drop_code,
                      db_.Prepare("DELETE FROM catalog_barcodes WHERE barcode = ? AND sku = ?"));
  SN_ASSIGN_OR_RETURN(sql::Stmt put_code, db_.Prepare("INSERT OR REPLACE INTO "
                                                      "catalog_barcodes(barcode, sku) "
                                                      "VALUES(?,?)"));
  std::string bytes;
  for (const auto& [sku, rows] : by_sku) {
    v1::CatalogItem item;
    get.Bind(1, sku);
    SN_ASSIGN_OR_RETURN(bool exists, get.Step());
    if (exists && !item.ParseFromString(get.Blob(0))) {
      return Status::Corruption("catalog item " + sku + " in fog.db does not parse");
    }
    get.Reset();
    // By key, from the old item: catalog_barcodes has no index on sku.
    const std::vector<std::string> old_codes(item.barcodes().begin(), item.barcodes().end());
    catalog::MergeRows(rows, &item);
    item.set_version(version);
    item.SerializeToString(&bytes);
    crypto::Hash digest = catalog::ItemDigest(bytes);
    put.Bind(1, sku).Bind(2, static_cast<int64_t>(version));
    put.BindBlob(3, digest.data(), digest.size()).BindBlob(4, bytes);
    SN_RETURN_IF_ERROR(put.Run());
    bool new_codes = std::any_of(rows.begin(), rows.end(),
                                 [](const catalog::Row* r) { return !r->barcodes.empty(); });
    if (new_codes) {
      for (const std::string& code : old_codes) {
        // Only if still ours: an item earlier in this import may have taken it.
        drop_code.Bind(1, code).Bind(2, sku);
        SN_RETURN_IF_ERROR(drop_code.Run());
      }
      for (const std::string& code : item.barcodes()) {
        put_code.Bind(1, code).Bind(2, sku);
        SN_RETURN_IF_ERROR(put_code.Run());
      }
    }
  }
  Change change;
  change.rows = parsed.rows.size();
  change.items_changed = by_sku.size();
  return CommitVersion(txn, version, request, file_sha, change, manager, action, in_transaction);
}

Result<v1::CatalogImportResponse> Catalog::ApplyPromotions(
    const v1::CatalogImportRequest& request, const crypto::Hash& file_sha,
    const std::string& manager, const std::string& action,
    const std::function<Status(uint64_t)>* in_transaction) {
  SN_ASSIGN_OR_RETURN(char delimiter, catalog::DelimiterOf(request.delimiter()));
  promotions::ParsedFile parsed =
      promotions::ParseCsv(request.csv(), delimiter, settings_.current().currency());
  v1::CatalogImportResponse out;
  // Every sku and department a promotion names must be the catalog's: a
  // typo would otherwise be a promotion that never applies.
  {
    SN_ASSIGN_OR_RETURN(auto departments, Departments());
    std::set<std::string> known_departments;
    for (const auto& [sku, d] : departments) known_departments.insert(d);
    for (size_t i = 0; i < parsed.promotions.size(); ++i) {
      const v1::Promotion& p = parsed.promotions[i];
      std::string why;
      for (const std::string& sku : p.skus()) {
        if (why.empty() && !departments.count(sku)) why = "sku " + sku + " is not in the catalog";
      }
      for (const std::string& d : p.departments()) {
        if (why.empty() && !known_departments.count(d)) {
          why = "department " + d + " has no item in the catalog";
        }
      }
      if (why.empty()) continue;
      v1::CatalogRowError& e = parsed.errors.emplace_back();
      e.set_line(parsed.lines[i]);
      e.set_reason(why + " (promotion " + p.id() + ")");
    }
  }
  if (!parsed.errors.empty()) {
    std::stable_sort(parsed.errors.begin(), parsed.errors.end(),
                     [](const auto& a, const auto& b) { return a.line() < b.line(); });
    for (auto& e : parsed.errors) *out.add_errors() = std::move(e);
    return out;
  }
  const uint64_t version = version_ + 1;
  sql::Transaction txn(db_);
  SN_RETURN_IF_ERROR(txn.begin_status());
  SN_ASSIGN_OR_RETURN(sql::Stmt put, db_.Prepare("INSERT OR REPLACE INTO catalog_promotions(id, "
                                                 "version, digest, promotion) VALUES(?,?,?,?)"));
  std::string bytes;
  for (v1::Promotion& p : parsed.promotions) {
    p.set_version(version);
    p.SerializeToString(&bytes);
    crypto::Hash digest = promotions::Digest(bytes);
    put.Bind(1, p.id()).Bind(2, static_cast<int64_t>(version));
    put.BindBlob(3, digest.data(), digest.size()).BindBlob(4, bytes);
    SN_RETURN_IF_ERROR(put.Run());
  }
  Change change;
  change.rows = parsed.promotions.size();
  change.promotions_changed = parsed.promotions.size();
  auto out_or =
      CommitVersion(txn, version, request, file_sha, change, manager, action, in_transaction);
  if (out_or.ok()) {
    for (const v1::Promotion& p : parsed.promotions) promotion_ids_.insert(p.id());
  }
  return out_or;
}

Result<v1::CatalogImportResponse> Catalog::CommitVersion(
    sql::Transaction& txn, uint64_t version, const v1::CatalogImportRequest& request,
    const crypto::Hash& file_sha, const Change& change, const std::string& manager,
    const std::string& action, const std::function<Status(uint64_t)>* in_transaction) {
  v1::CatalogImportResponse out;
  catalog::ContentHasher hasher;
  uint64_t count = 0, promotion_count = 0;
  const std::pair<const char*, uint64_t*> tables[] = {{"catalog_items", &count},
                                                      {"catalog_promotions", &promotion_count}};
  for (const auto& [table, counter] : tables) {
    SN_ASSIGN_OR_RETURN(sql::Stmt digests, db_.Prepare(std::string("SELECT digest FROM ") + table));
    while (true) {
      SN_ASSIGN_OR_RETURN(bool row, digests.Step());
      if (!row) break;
      SN_ASSIGN_OR_RETURN(crypto::Hash d, crypto::HashFromBytes(digests.BlobView(0)));
      hasher.Add(d);
      ++*counter;
    }
  }
  const std::string content_hash = HashString(hasher.Final());
  const int64_t now = clock_.NowMicros();
  SN_ASSIGN_OR_RETURN(sql::Stmt ins,
                      db_.Prepare("INSERT INTO catalog_versions(version, created_us, manager, "
                                  "file_name, rows, items_changed, item_count, content_hash, "
                                  "file_sha256) VALUES(?,?,?,?,?,?,?,?,?)"));
  ins.Bind(1, static_cast<int64_t>(version)).Bind(2, now).Bind(3, manager);
  ins.Bind(4, request.file_name()).Bind(5, static_cast<int64_t>(change.rows));
  ins.Bind(6, static_cast<int64_t>(change.items_changed)).Bind(7, static_cast<int64_t>(count));
  ins.BindBlob(8, content_hash).BindBlob(9, file_sha.data(), file_sha.size());
  SN_RETURN_IF_ERROR(ins.Run());
  const std::string what =
      request.promotions() ? std::to_string(change.promotions_changed) + " promotions changed, " +
                                 std::to_string(promotion_count) + " promotions"
                           : std::to_string(change.items_changed) + " items changed, " +
                                 std::to_string(count) + " items";
  SN_RETURN_IF_ERROR(actions_.Append(
      manager, action,
      "version " + std::to_string(version) + ": " + std::to_string(change.rows) + " rows, " + what +
          ", file " + request.file_name() + " sha256 " + crypto::ToHex(crypto::Bytes(file_sha)) +
          ", content " + crypto::ToHex(crypto::AsBytes(content_hash))));
  if (in_transaction != nullptr) SN_RETURN_IF_ERROR((*in_transaction)(version));
  SN_RETURN_IF_ERROR(txn.Commit());
  version_ = version;
  content_hash_ = content_hash;
  item_count_ = count;
  promotion_count_ = promotion_count;
  created_us_ = now;
  chunk_cache_.clear();
  answered_us_.clear();  // answers to the old version: the new one is due at once
  out.set_applied(true);
  out.set_version(version);
  out.set_rows(change.rows);
  out.set_items_changed(change.items_changed);
  out.set_item_count(count);
  out.set_promotions_changed(change.promotions_changed);
  out.set_promotion_count(promotion_count);
  out.set_content_hash(content_hash);
  return out;
}

namespace {

// Appends each row's column 0, a serialized message, to `out`.
template <typename Message>
Status ParseRows(sql::Stmt& stmt, google::protobuf::RepeatedPtrField<Message>* out,
                 const std::string& what) {
  while (true) {
    SN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return Status::Ok();
    if (!out->Add()->ParseFromString(stmt.Blob(0))) {
      return Status::Corruption(what + " in fog.db does not parse");
    }
  }
}

}  // namespace

v1::FogResponse Catalog::ShowPromotions(const v1::CatalogShowRequest& request) {
  v1::FogResponse r;
  v1::CatalogShowResponse* show = r.mutable_catalog_show();
  show->set_version(version_);
  auto stmt = db_.Prepare(
      "SELECT promotion FROM catalog_promotions WHERE ?1 = '' OR id = ?1 "
      "ORDER BY id");
  if (!stmt.ok()) {
    r.set_error(stmt.status().message());
    return r;
  }
  stmt->Bind(1, request.sku());
  if (Status s = ParseRows(*stmt, show->mutable_promotions(), "a promotion"); !s.ok()) {
    r.set_error(s.message());
    return r;
  }
  if (!request.sku().empty() && show->promotions_size() == 0) {
    r.set_error("no promotion " + request.sku());
    return r;
  }
  r.set_ok(true);
  return r;
}

v1::FogResponse Catalog::Show(const v1::CatalogShowRequest& request) {
  if (request.promotions()) return ShowPromotions(request);
  v1::FogResponse r;
  v1::CatalogShowResponse* show = r.mutable_catalog_show();
  show->set_version(version_);
  auto stmt = request.sku().empty() ? db_.Prepare("SELECT item FROM catalog_items ORDER BY sku")
                                    : db_.Prepare(
                                          "SELECT item FROM catalog_items WHERE sku = ?1 OR sku = "
                                          "(SELECT sku FROM catalog_barcodes WHERE barcode = ?1)");
  if (!stmt.ok()) {
    r.set_error(stmt.status().message());
    return r;
  }
  if (!request.sku().empty()) stmt->Bind(1, request.sku());
  if (Status s = ParseRows(*stmt, show->mutable_items(), "a catalog item"); !s.ok()) {
    r.set_error(s.message());
    return r;
  }
  if (!request.sku().empty() && show->items_size() == 0) {
    r.set_error("no item with sku or barcode " + request.sku());
    return r;
  }
  r.set_ok(true);
  return r;
}

Result<std::map<std::string, std::string>> Catalog::Departments() {
  SN_ASSIGN_OR_RETURN(sql::Stmt stmt, db_.Prepare("SELECT sku, item FROM catalog_items"));
  const int64_t now = clock_.NowMicros();
  std::map<std::string, std::string> out;
  while (true) {
    SN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    v1::CatalogItem item;
    if (!item.ParseFromString(stmt.Blob(1))) {
      return Status::Corruption("catalog item " + stmt.Text(0) + " in fog.db does not parse");
    }
    const v1::CatalogEntry* entry = catalog::EntryAt(item, now);
    if (entry == nullptr && item.entries_size() > 0) entry = &item.entries(0);
    out[item.sku()] = entry == nullptr ? "" : entry->department();
  }
  return out;
}

v1::FogResponse Catalog::Versions() {
  v1::FogResponse r;
  auto stmt = db_.Prepare(
      "SELECT version, created_us, manager, file_name, rows, items_changed, item_count, "
      "content_hash FROM catalog_versions ORDER BY version");
  if (!stmt.ok()) {
    r.set_error(stmt.status().message());
    return r;
  }
  v1::CatalogVersionsResponse* out = r.mutable_catalog_versions();
  while (true) {
    auto row = stmt->Step();
    if (!row.ok() || !*row) break;
    v1::CatalogVersion* v = out->add_versions();
    v->set_version(static_cast<uint64_t>(stmt->Int(0)));
    v->set_created_us(stmt->Int(1));
    v->set_manager(stmt->Text(2));
    v->set_file_name(stmt->Text(3));
    v->set_rows(static_cast<uint64_t>(stmt->Int(4)));
    v->set_items_changed(static_cast<uint64_t>(stmt->Int(5)));
    v->set_item_count(static_cast<uint64_t>(stmt->Int(6)));
    v->set_content_hash(stmt->Blob(7));
  }
  r.set_ok(true);
  return r;
}

Result<std::vector<std::string>> Catalog::BuildChunks(uint64_t from_version) {
  if (auto it = chunk_cache_.find(from_version); it != chunk_cache_.end()) return it->second;
  v1::CatalogPayload payload;
  payload.set_from_version(from_version);
  payload.set_to_version(version_);
  payload.set_snapshot(from_version == 0);
  payload.set_content_hash(content_hash_);
  payload.set_item_count(item_count_);
  SN_ASSIGN_OR_RETURN(sql::Stmt items,
                      db_.Prepare("SELECT item FROM catalog_items WHERE version > ?"));
  items.Bind(1, static_cast<int64_t>(from_version));
  while (true) {
    SN_ASSIGN_OR_RETURN(bool row, items.Step());
    if (!row) break;
    payload.add_items(std::string(items.BlobView(0)));
  }
  payload.set_promotion_count(promotion_count_);
  SN_ASSIGN_OR_RETURN(sql::Stmt promos,
                      db_.Prepare("SELECT promotion FROM catalog_promotions WHERE version > ?"));
  promos.Bind(1, static_cast<int64_t>(from_version));
  while (true) {
    SN_ASSIGN_OR_RETURN(bool row, promos.Step());
    if (!row) break;
    payload.add_promotions(std::string(promos.BlobView(0)));
  }
  std::vector<std::string> out;
  for (const v1::CatalogChunk& c :
       catalog::Split(payload.SerializeAsString(), from_version, version_)) {
    out.push_back(c.SerializeAsString());
  }
  // Bounded: a few versions behind is the common case.
  if (chunk_cache_.size() >= 8) chunk_cache_.erase(chunk_cache_.begin());
  chunk_cache_[from_version] = out;
  return out;
}

Catalog::FetchAnswer Catalog::OnFetch(const std::string& device, const std::string& payload) {
  v1::CatalogFetch fetch;
  if (!fetch.ParseFromString(payload)) {
    spdlog::warn("catalog: ignored a fetch from {} that does not parse", device);
    return {};
  }
  if (version_ == 0) return {};
  uint64_t from = fetch.have_version();
  if (from == version_ && fetch.have_content_hash() == content_hash_) return {};
  if (from != 0) {
    // A delta only from a version this fog recorded, with the same content.
    auto known = db_.Prepare("SELECT content_hash FROM catalog_versions WHERE version = ?");
    bool same = false;
    if (known.ok()) {
      known->Bind(1, static_cast<int64_t>(from));
      auto row = known->Step();
      same = row.ok() && *row && known->Blob(0) == fetch.have_content_hash();
    }
    if (!same || from > version_) from = 0;
  }
  if (from != 0) {
    auto changed = db_.Prepare("SELECT COUNT(*) FROM catalog_items WHERE version > ?");
    if (changed.ok()) {
      changed->Bind(1, static_cast<int64_t>(from));
      auto row = changed->Step();
      if (row.ok() && *row && static_cast<uint64_t>(changed->Int(0)) * kDeltaMaxShare > item_count_)
        from = 0;
    }
  }
  const int64_t now = clock_.NowMicros();
  const int64_t interval_us = int64_t{config_.requests.catalog_answer_interval_ms} * 1000;
  if (auto it = answered_us_.find({device, from});
      it != answered_us_.end() && now - it->second < interval_us) {
    return {.chunks = {}, .coalesced = true};
  }
  auto chunks = BuildChunks(from);
  if (!chunks.ok()) {
    spdlog::error("catalog: cannot build the answer for {}: {}", device,
                  chunks.status().ToString());
    return {};
  }
  answered_us_[{device, from}] = now;
  spdlog::info("catalog: {} {} -> {} to {} in {} chunks", from == 0 ? "snapshot" : "delta", from,
               version_, device, chunks->size());
  FetchAnswer out;
  for (const std::string& c : *chunks) {
    mqtt::Message m;
    m.topic = topics::Device(config_.store_id, device, "catalog");
    m.payload = c;
    out.chunks.push_back(std::move(m));
  }
  return out;
}

}  // namespace storenode::fog
