// The ledger's RFC 6962 tree kept in tiles of 256 hashes, as Tessera keeps a
// log (transparency-dev/tessera, "tlog-tiles"): the ledger never holds all
// leaf hashes in memory, and a proof reads a few tiles.
//
// Tile (level L, index i) holds the hashes of the nodes at height 8L with
// indices i*256 .. i*256+255: level 0 the leaf hashes, level 1 the roots of
// full 256-leaf subtrees, and so on. Only full nodes are stored; a tile is
// partial (fewer than 256 hashes) while the tree's right edge runs through it,
// and grows by appends only: its first k hashes never change. Any other node
// (a height between tile levels, or a partial subtree at the right edge) is
// computed from the tiles below it, so one store of tiles serves every tree
// size up to the current one.
//
// A TileTree is one view of the tree for one operation (an integration batch
// or a set of proofs), used by one thread; it caches the tiles and the full
// nodes it computed. Tiles come from a loader; FullTileCache shares the full
// tiles (immutable) between views and threads.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "storenode/common/crypto.h"
#include "storenode/common/status.h"

namespace storenode::ledger {

inline constexpr int kTileHeight = 8;
inline constexpr uint64_t kTileWidth = 256;

struct TileId {
  uint32_t level = 0;
  uint64_t index = 0;
  auto operator<=>(const TileId&) const = default;
};

// The tile's stored bytes: 32 bytes per hash, at most 256 hashes; empty when
// the tile was never written.
using TileLoader = std::function<Result<std::string>(const TileId&)>;

// Full tiles, shared by the views of one process; bounded (cleared whole
// when over `max_tiles`: they are cheap to read again).
class FullTileCache {
 public:
  explicit FullTileCache(size_t max_tiles = 4096) : max_(max_tiles) {}
  bool Get(const TileId& id, std::string* out);
  void Put(const TileId& id, const std::string& bytes);

 private:
  std::mutex mu_;
  std::map<TileId, std::string> tiles_;  // guarded by mu_
  const size_t max_;
};

class TileTree {
 public:
  // The tree of the first `size` leaves whose tiles `load` reads.
  TileTree(uint64_t size, TileLoader load, FullTileCache* cache = nullptr);

  uint64_t size() const { return size_; }
  // Appends leaf hashes: the tiles they change are dirty() until written.
  Status Append(const std::vector<crypto::Hash>& leaf_hashes);
  // The tiles changed by Append, with their whole new bytes.
  std::map<TileId, std::string> Dirty() const;

  // MTH of the first `size` leaves (size <= size()).
  Result<crypto::Hash> Root(uint64_t size);
  // PATH(index, D[size]) of RFC 6962 2.1.1, leaf level first.
  Result<std::vector<crypto::Hash>> Inclusion(uint64_t index, uint64_t size);
  // PROOF(from, D[to]) of RFC 6962 2.1.2; empty when from == to.
  Result<std::vector<crypto::Hash>> Consistency(uint64_t from, uint64_t to);
  // The hash of the node at `height` and `index` in the tree of `size`
  // leaves: the subtree over leaves [index << height, min(size, (index+1) << height)).
  Result<crypto::Hash> Node(int height, uint64_t index, uint64_t size);

 private:
  Result<const std::string*> Tile(const TileId& id);
  Status Path(uint64_t m, uint64_t lo, uint64_t hi, uint64_t size, std::vector<crypto::Hash>* out);
  Status SubProof(uint64_t m, uint64_t lo, uint64_t hi, bool b, uint64_t size,
                  std::vector<crypto::Hash>* out);
  // MTH of leaves [lo, hi), an aligned range of the tree of `size` leaves.
  Result<crypto::Hash> Range(uint64_t lo, uint64_t hi, uint64_t size);

  uint64_t size_;
  TileLoader load_;
  FullTileCache* cache_;
  std::map<TileId, std::string> tiles_;
  std::map<TileId, bool> dirty_;
  struct Key {
    int height;
    uint64_t index;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const { return std::hash<uint64_t>()(k.index * 64 + k.height); }
  };
  std::unordered_map<Key, crypto::Hash, KeyHash> full_;  // full nodes computed
};

}  // namespace storenode::ledger
