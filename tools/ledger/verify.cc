// VerifyLedgerDb (ledger.h): the offline audit of a stored ledger, on either
// backend, reading only what is stored, never trusting a derived column.
#include <map>
#include <set>
#include <vector>

#include "ledger/ledger.h"
#include "ledger/sql_conn.h"
#include "ledger/tiles.h"
#include "storenode/common/ledger.h"
#include "storenode/common/merkle.h"
#include "storenode/schemas/closedown.pb.h"

namespace storenode::ledger {
namespace {

constexpr int64_t kPage = 1000;  // leaves read per query: memory stays bounded

std::string_view View(const crypto::Hash& h) {
  return {reinterpret_cast<const char*>(h.data()), h.size()};
}

struct StoreRow {
  std::string key;
  std::string pinned_by;
  uint64_t last_z_number = 0;
  std::string last_z_hash;
};

// Per store, what the next record must be, as the records so far say.
struct Chain {
  uint64_t last = 0;
  std::string last_hash = std::string(32, '\0');
};

// One stored record, leaf or pending, checked against its store's chain.
Status CheckRecord(const std::string& what, const std::string& store, uint64_t number,
                   const std::string& z_bytes, const std::string& z_hash,
                   const std::string& signature, const std::string& fog_key,
                   const std::map<std::string, StoreRow>& stores, Chain& chain) {
  auto bad = [&](const std::string& why) { return Status::Corruption(what + ": " + why); };
  if (z_hash != View(crypto::Sha256Of(z_bytes))) return bad("z_hash is not SHA-256(z)");
  v1::ZReport z;
  if (!z.ParseFromString(z_bytes)) return bad("z does not parse as a ZReport");
  if (z.store_id() != store || z.z_number() != number) {
    return bad("z is Z " + std::to_string(z.z_number()) + " of store '" + z.store_id() +
               "', the row says Z " + std::to_string(number) + " of '" + store + "'");
  }
  const auto pinned = stores.find(store);
  if (pinned == stores.end()) return bad("store " + store + " has no row in stores");
  auto key = crypto::HashFromBytes(pinned->second.key);
  if (!key.ok()) return bad("store " + store + ": its fog key is not 32 bytes");
  const crypto::PublicKey pub(*key);
  if (fog_key != pinned->second.key) {
    return bad("signed by another fog key than store " + store + "'s " + crypto::Fingerprint(pub));
  }
  if (!crypto::Verify(pub, crypto::AsBytes(z_hash), crypto::AsBytes(signature))) {
    return bad("the fog signature does not verify");
  }
  if (number != chain.last + 1) {
    return bad("store " + store + " Z " + std::to_string(number) + " follows Z " +
               std::to_string(chain.last));
  }
  if (z.prev_z_hash() != chain.last_hash) {
    return bad("store " + store + " Z " + std::to_string(number) +
               ": prev_z_hash is not the hash of the store's previous Z");
  }
  chain.last = number;
  chain.last_hash = z_hash;
  return Status::Ok();
}

}  // namespace

Result<v1::LedgerAudit> VerifyLedgerDb(const std::string& target) {
  std::unique_ptr<SqlConn> db;
  if (IsPostgres(target)) {
    SN_ASSIGN_OR_RETURN(db, OpenPostgres(target));
  } else {
    SN_ASSIGN_OR_RETURN(db, OpenSqlite(target, {.read_only = true}));
  }
  std::map<std::string, std::string> meta;
  auto meta_read = db->Run("SELECT key, value FROM meta", {},
                           [&](const SqlRow& r) { meta[r.Str(0)] = r.Str(1); });
  auto ledger_key = crypto::HashFromBytes(meta["ledger_public_key"]);
  if (!meta_read.ok() || meta["ledger_id"].empty() || !ledger_key.ok()) {
    return Status::Invalid(target + " has no ledger id or ledger key: not a ledger");
  }
  const crypto::PublicKey key(*ledger_key);
  const std::string& key_bytes = meta["ledger_public_key"];
  const std::string& ledger_id = meta["ledger_id"];
  // A version-1 SQLite file (before issue 15) has no tiles, pending or state.
  bool v2 = true;
  if (db->dialect() == SqlDialect::kSqlite) {
    SN_ASSIGN_OR_RETURN(int64_t version, db->QueryInt("PRAGMA user_version", {}));
    v2 = version >= 2;
  }

  std::map<std::string, StoreRow> stores;
  SN_RETURN_IF_ERROR(
      db->Run("SELECT store_id, fog_public_key, pinned_by, last_z_number, last_z_hash FROM stores",
              {}, [&](const SqlRow& r) {
                stores[r.Str(0)] = {r.Str(1), r.Str(2), static_cast<uint64_t>(r.Int(3)), r.Str(4)};
              }));

  // The heads, to compute the roots of their sizes only.
  std::set<uint64_t> head_sizes;
  SN_RETURN_IF_ERROR(db->Run("SELECT tree_size FROM tree_heads", {}, [&](const SqlRow& r) {
    head_sizes.insert(static_cast<uint64_t>(r.Int(0)));
  }));
  std::map<uint64_t, crypto::Hash> roots;  // head size -> root of its first leaves
  std::map<std::string, Chain> chains;
  merkle::CompactRange frontier;
  std::vector<crypto::Hash> tile_leaves;  // of the level-0 tile in progress
  TileTree tiles(0, [](const TileId&) -> Result<std::string> { return std::string(); });
  uint64_t n = 0;
  Status bad;
  const std::string leaf_sql = std::string(
                                   "SELECT idx, store_id, z_number, z, z_hash, signature, "
                                   "fog_public_key, leaf_hash, ") +
                               (v2 ? "head_size" : "idx + 1") +
                               " FROM leaves WHERE idx >= ? ORDER BY idx LIMIT ?";
  while (bad.ok()) {
    int64_t rows = 0;
    SN_RETURN_IF_ERROR(
        db->Run(leaf_sql, std::vector<SqlValue>{Int(n), kPage}, [&](const SqlRow& r) {
          ++rows;
          if (!bad.ok()) return;
          const std::string what = "leaf " + std::to_string(n);
          if (r.Int(0) != static_cast<int64_t>(n)) {
            bad = Status::Corruption(what + ": missing (the next stored leaf is " +
                                     std::to_string(r.Int(0)) + ")");
            return;
          }
          const crypto::Hash leaf = ZLeafHash(r.Str(3));
          if (r.Str(7) != View(leaf)) {
            bad = Status::Corruption(what + ": leaf_hash is not SHA-256(0x00 || z)");
            return;
          }
          const std::string store = r.Str(1);
          bad = CheckRecord(what, store, static_cast<uint64_t>(r.Int(2)), r.Str(3), r.Str(4),
                            r.Str(5), r.Str(6), stores, chains[store]);
          if (!bad.ok()) return;
          // Every receipt of this leaf named the head it was integrated under.
          const uint64_t head_size = r.IsNull(8) ? n + 1 : static_cast<uint64_t>(r.Int(8));
          if (head_size <= n || !head_sizes.contains(head_size)) {
            bad = Status::Corruption("tree head of size " + std::to_string(head_size) +
                                     ": missing (leaf " + std::to_string(n) +
                                     " was appended under it)");
            return;
          }
          frontier.Append(leaf);
          if (v2) bad = tiles.Append({leaf});
          ++n;
          if (head_sizes.contains(n)) roots[n] = frontier.Root();
        }));
    if (rows < kPage) break;
  }
  SN_RETURN_IF_ERROR(bad);

  uint64_t pending = 0, tile_count = 0;
  if (v2) {
    // Stored submits continue their store's chain after its leaves.
    SN_RETURN_IF_ERROR(db->Run(
        "SELECT id, store_id, z_number, z, z_hash, signature, fog_public_key, leaf_hash FROM "
        "pending ORDER BY store_id, z_number",
        {}, [&](const SqlRow& r) {
          if (!bad.ok()) return;
          const std::string store = r.Str(1);
          const std::string what = "stored Z " + std::to_string(r.Int(2)) + " of store " + store;
          if (r.Str(7) != View(ZLeafHash(r.Str(3)))) {
            bad = Status::Corruption(what + ": leaf_hash is not SHA-256(0x00 || z)");
            return;
          }
          bad = CheckRecord(what, store, static_cast<uint64_t>(r.Int(2)), r.Str(3), r.Str(4),
                            r.Str(5), r.Str(6), stores, chains[store]);
          ++pending;
        }));
    SN_RETURN_IF_ERROR(bad);
  }
  for (const auto& [store, row] : stores) {
    const Chain& chain = chains[store];
    if (chain.last == 0) return Status::Corruption("store " + store + ": a row without records");
    if (row.last_z_number != chain.last || row.last_z_hash != chain.last_hash) {
      return Status::Corruption("store " + store + ": its row says last Z " +
                                std::to_string(row.last_z_number) + ", the records end at Z " +
                                std::to_string(chain.last) + " (or its hash differs)");
    }
    if (row.pinned_by != "first record" && row.pinned_by != "config") {
      return Status::Corruption("store " + store + ": pinned_by '" + row.pinned_by + "'");
    }
  }

  auto check_head = [&](const v1::SignedTreeHead& sth, uint64_t size,
                        const std::string& what) -> Status {
    auto bad = [&](const std::string& why) { return Status::Corruption(what + ": " + why); };
    if (size > n) return bad("the log has only " + std::to_string(n));
    if (sth.ledger_public_key() != key_bytes) return bad("carries another ledger key");
    auto th = VerifyTreeHead(sth, key);
    if (!th.ok()) return bad(th.status().message());
    if (th->tree_size() != size || th->ledger_id() != ledger_id) {
      return bad("signed for size " + std::to_string(th->tree_size()) + " of ledger '" +
                 th->ledger_id() + "'");
    }
    auto root = roots.find(size);
    const crypto::Hash expected = root != roots.end() ? root->second : frontier.Root();
    if (th->root() != View(expected)) return bad("root is not the root of its leaves");
    return Status::Ok();
  };
  uint64_t heads = 0;
  SN_RETURN_IF_ERROR(db->Run(
      "SELECT tree_size, head, signature, ledger_public_key FROM tree_heads ORDER BY tree_size", {},
      [&](const SqlRow& r) {
        if (!bad.ok()) return;
        v1::SignedTreeHead sth;
        sth.set_head(r.Str(1));
        sth.set_signature(r.Str(2));
        sth.set_ledger_public_key(r.Str(3));
        const uint64_t size = static_cast<uint64_t>(r.Int(0));
        bad = check_head(sth, size, "tree head of size " + std::to_string(size));
        ++heads;
      }));
  SN_RETURN_IF_ERROR(bad);
  if (n > 0 && !head_sizes.contains(n)) {
    return Status::Corruption("tree head of size " + std::to_string(n) + ": missing");
  }

  if (v2) {
    uint64_t state_size = 0;
    v1::SignedTreeHead state;
    SN_RETURN_IF_ERROR(
        db->Run("SELECT tree_size, head, signature, ledger_public_key FROM tree_state WHERE id = 1",
                {}, [&](const SqlRow& r) {
                  state_size = static_cast<uint64_t>(r.Int(0));
                  state.set_head(r.Str(1));
                  state.set_signature(r.Str(2));
                  state.set_ledger_public_key(r.Str(3));
                }));
    if (state_size != n) {
      return Status::Corruption("tree state: size " + std::to_string(state_size) +
                                ", the log has " + std::to_string(n) + " leaves");
    }
    if (n > 0) SN_RETURN_IF_ERROR(check_head(state, n, "tree state"));
    // The tiles are the leaves' tree: each as rebuilt, byte for byte.
    const std::map<TileId, std::string> rebuilt = tiles.Dirty();
    uint64_t stored = 0;
    SN_RETURN_IF_ERROR(db->Run("SELECT level, idx, hashes FROM tiles", {}, [&](const SqlRow& r) {
      if (!bad.ok()) return;
      ++stored;
      const TileId id{static_cast<uint32_t>(r.Int(0)), static_cast<uint64_t>(r.Int(1))};
      auto it = rebuilt.find(id);
      if (it == rebuilt.end() || it->second != r.Str(2)) {
        bad = Status::Corruption("tile " + std::to_string(id.level) + "/" +
                                 std::to_string(id.index) + " is not the tree of the leaves");
      }
    }));
    SN_RETURN_IF_ERROR(bad);
    tile_count = stored;
    if (stored != rebuilt.size()) {
      return Status::Corruption("tiles: " + std::to_string(stored) + " stored, the leaves make " +
                                std::to_string(rebuilt.size()));
    }
  }

  v1::LedgerAudit audit;
  audit.set_ledger_id(ledger_id);
  audit.set_ledger_public_key(crypto::ToHex(key));
  audit.set_ledger_key_fingerprint(crypto::Fingerprint(key));
  audit.set_records(n);
  audit.set_stores(stores.size());
  audit.set_tree_heads(heads);
  audit.set_tree_size(n);
  audit.set_root(crypto::ToHex(frontier.Root()));
  audit.set_stored(pending);
  audit.set_tiles(tile_count);
  return audit;
}

}  // namespace storenode::ledger
