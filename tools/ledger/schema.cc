#include "ledger/schema.h"

#include <string>
#include <vector>

#include "ledger/tiles.h"

namespace storenode::ledger {
namespace {

// Written once for both: @B is a byte string, @I a 64-bit integer, @S an
// auto-numbered 64-bit key.
constexpr std::string_view kVersion1 = R"sql(
CREATE TABLE IF NOT EXISTS meta(
  key TEXT PRIMARY KEY,
  value @B NOT NULL);
CREATE TABLE IF NOT EXISTS leaves(
  idx @I PRIMARY KEY,
  store_id TEXT NOT NULL,
  z_number @I NOT NULL,
  z @B NOT NULL,
  z_hash @B NOT NULL,
  signature @B NOT NULL,
  fog_public_key @B NOT NULL,
  leaf_hash @B NOT NULL,
  appended_us @I NOT NULL,
  UNIQUE(store_id, z_number));
CREATE TABLE IF NOT EXISTS stores(
  store_id TEXT PRIMARY KEY,
  fog_public_key @B NOT NULL,
  pinned_by TEXT NOT NULL CHECK(pinned_by IN ('first record', 'config')),
  last_z_number @I NOT NULL,
  last_z_hash @B NOT NULL);
CREATE TABLE IF NOT EXISTS tree_heads(
  tree_size @I PRIMARY KEY,
  head @B NOT NULL,
  signature @B NOT NULL,
  ledger_public_key @B NOT NULL);
)sql";

constexpr std::string_view kVersion2 = R"sql(
CREATE TABLE IF NOT EXISTS pending(
  id @S,
  store_id TEXT NOT NULL,
  z_number @I NOT NULL,
  part @I NOT NULL,
  z @B NOT NULL,
  z_hash @B NOT NULL,
  signature @B NOT NULL,
  fog_public_key @B NOT NULL,
  leaf_hash @B NOT NULL,
  received_us @I NOT NULL,
  request_id @I NOT NULL,
  known_tree_size @I NOT NULL,
  UNIQUE(store_id, z_number));
CREATE TABLE IF NOT EXISTS tree_state(
  id @I PRIMARY KEY CHECK(id = 1),
  tree_size @I NOT NULL,
  head @B NOT NULL,
  signature @B NOT NULL,
  ledger_public_key @B NOT NULL);
CREATE TABLE IF NOT EXISTS tiles(
  level @I NOT NULL,
  idx @I NOT NULL,
  hashes @B NOT NULL,
  PRIMARY KEY(level, idx));
)sql";
// The size of the head a leaf was integrated under (NULL in a version-1
// file: there, leaf i's head is of size i + 1).
constexpr std::string_view kHeadSizeSqlite = "ALTER TABLE leaves ADD COLUMN head_size INTEGER";
constexpr std::string_view kHeadSizePg =
    "ALTER TABLE leaves ADD COLUMN IF NOT EXISTS head_size BIGINT";

constexpr int kVersion = 2;

std::string Dialect(std::string_view ddl, SqlDialect d) {
  const bool pg = d == SqlDialect::kPostgres;
  std::string out(ddl);
  auto replace = [&](std::string_view from, std::string_view to) {
    for (size_t at = out.find(from); at != std::string::npos; at = out.find(from, at + to.size())) {
      out.replace(at, from.size(), to);
    }
  };
  replace("@B", pg ? "BYTEA" : "BLOB");
  replace("@I", pg ? "BIGINT" : "INTEGER");
  replace("@S", pg ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT");
  return out;
}

}  // namespace

Status MigrateLedger(SqlConn& db) {
  SqlTxn txn(db);
  SN_RETURN_IF_ERROR(txn.begin_status());
  const SqlDialect d = db.dialect();
  if (d == SqlDialect::kPostgres) {
    SN_RETURN_IF_ERROR(db.Script("SELECT pg_advisory_xact_lock(6962)"));
    SN_RETURN_IF_ERROR(db.Script(Dialect(kVersion1, d)));
    SN_RETURN_IF_ERROR(db.Script(Dialect(kVersion2, d)));
    SN_RETURN_IF_ERROR(db.Script(kHeadSizePg));
  } else {
    SN_ASSIGN_OR_RETURN(int64_t version, db.QueryInt("PRAGMA user_version", {}));
    if (version > kVersion) {
      return Status::Precondition(db.name() + " has schema version " + std::to_string(version) +
                                  ", newer than this ledger-sink's " + std::to_string(kVersion));
    }
    if (version < 1) SN_RETURN_IF_ERROR(db.Script(Dialect(kVersion1, d)));
    if (version < 2) {
      SN_RETURN_IF_ERROR(db.Script(Dialect(kVersion2, d)));
      SN_RETURN_IF_ERROR(db.Script(kHeadSizeSqlite));
    }
    SN_RETURN_IF_ERROR(db.Script("PRAGMA user_version = " + std::to_string(kVersion)));
  }
  SN_RETURN_IF_ERROR(AdoptLeaves(db));
  return txn.Commit();
}

Status AdoptLeaves(SqlConn& db) {
  SN_ASSIGN_OR_RETURN(int64_t rows, db.QueryInt("SELECT COUNT(*) FROM tree_state", {}));
  if (rows > 0) return Status::Ok();
  std::vector<crypto::Hash> hashes;
  Status bad;
  SN_RETURN_IF_ERROR(
      db.Run("SELECT idx, leaf_hash FROM leaves ORDER BY idx", {}, [&](const SqlRow& r) {
        auto h = crypto::HashFromBytes(r.Str(1));
        if (bad.ok() && (r.Int(0) != static_cast<int64_t>(hashes.size()) || !h.ok())) {
          bad = Status::Corruption("leaf " + std::to_string(hashes.size()) +
                                   ": missing or without a leaf hash (run storectl verify ledger)");
        }
        if (h.ok()) hashes.push_back(*h);
      }));
  SN_RETURN_IF_ERROR(bad);
  TileTree tree(0, [](const TileId&) -> Result<std::string> { return std::string(); });
  SN_RETURN_IF_ERROR(tree.Append(hashes));
  for (const auto& [id, bytes] : tree.Dirty()) {
    SN_RETURN_IF_ERROR(db.Run("INSERT INTO tiles(level, idx, hashes) VALUES (?, ?, ?)",
                              std::vector<SqlValue>{Int(id.level), Int(id.index), Blob(bytes)}));
  }
  std::vector<SqlValue> head{std::string(), std::string(), std::string()};
  SN_RETURN_IF_ERROR(
      db.Run("SELECT head, signature, ledger_public_key FROM tree_heads WHERE "
             "tree_size = ?",
             std::vector<SqlValue>{Int(hashes.size())}, [&](const SqlRow& r) {
               head = {Blob(r.Str(0)), Blob(r.Str(1)), Blob(r.Str(2))};
             }));
  if (!hashes.empty() && std::holds_alternative<std::string>(head[0])) {
    return Status::Corruption("tree head of size " + std::to_string(hashes.size()) +
                              ": missing (run storectl verify ledger)");
  }
  if (hashes.empty()) head = {Blob(""), Blob(""), Blob("")};
  return db.Run(
      "INSERT INTO tree_state(id, tree_size, head, signature, ledger_public_key) VALUES (1, ?, ?, "
      "?, ?)",
      std::vector<SqlValue>{Int(hashes.size()), head[0], head[1], head[2]});
}

}  // namespace storenode::ledger
