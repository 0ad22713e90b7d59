#include "ledger/tiles.h"

#include <bit>
#include <cstring>

#include "storenode/common/merkle.h"

namespace storenode::ledger {
namespace {

constexpr size_t kHashSize = 32;

uint64_t Width(const std::string& tile) { return tile.size() / kHashSize; }

crypto::Hash HashAt(const std::string& tile, uint64_t i) {
  crypto::Hash h;
  std::memcpy(h.data(), tile.data() + i * kHashSize, kHashSize);
  return h;
}

// The smallest h with 2^h >= n (n >= 1).
int CeilLog2(uint64_t n) { return n <= 1 ? 0 : 64 - std::countl_zero(n - 1); }

// The largest power of two below n (n >= 2).
uint64_t SplitOf(uint64_t n) { return std::bit_floor(n - 1); }

}  // namespace

bool FullTileCache::Get(const TileId& id, std::string* out) {
  std::lock_guard lock(mu_);
  auto it = tiles_.find(id);
  if (it == tiles_.end()) return false;
  *out = it->second;
  return true;
}

void FullTileCache::Put(const TileId& id, const std::string& bytes) {
  std::lock_guard lock(mu_);
  if (tiles_.size() >= max_) tiles_.clear();
  tiles_.emplace(id, bytes);
}

TileTree::TileTree(uint64_t size, TileLoader load, FullTileCache* cache)
    : size_(size), load_(std::move(load)), cache_(cache) {}

Result<const std::string*> TileTree::Tile(const TileId& id) {
  auto it = tiles_.find(id);
  if (it != tiles_.end()) return &it->second;
  std::string bytes;
  if (!cache_ || !cache_->Get(id, &bytes)) {
    SN_ASSIGN_OR_RETURN(bytes, load_(id));
    if (bytes.size() % kHashSize != 0 || Width(bytes) > kTileWidth) {
      return Status::Corruption("tile " + std::to_string(id.level) + "/" +
                                std::to_string(id.index) + " is " + std::to_string(bytes.size()) +
                                " bytes");
    }
    if (cache_ && Width(bytes) == kTileWidth) cache_->Put(id, bytes);
  }
  return &tiles_.emplace(id, std::move(bytes)).first->second;
}

Status TileTree::Append(const std::vector<crypto::Hash>& leaf_hashes) {
  for (const crypto::Hash& leaf : leaf_hashes) {
    // Leaf size_ goes into level 0; each tile it completes puts its root one
    // level up, as a carry.
    crypto::Hash h = leaf;
    uint64_t index = size_;  // of the node at this level
    for (uint32_t level = 0;; ++level) {
      const TileId id{level, index / kTileWidth};
      SN_ASSIGN_OR_RETURN(const std::string* tile, Tile(id));
      std::string& bytes = tiles_[id];
      (void)tile;
      const uint64_t at = index % kTileWidth;
      if (Width(bytes) < at) {
        return Status::Corruption("tile " + std::to_string(level) + "/" + std::to_string(id.index) +
                                  " has " + std::to_string(Width(bytes)) +
                                  " hashes, the tree needs " + std::to_string(at));
      }
      bytes.resize(at * kHashSize);  // a tile never holds more than the tree
      bytes.append(reinterpret_cast<const char*>(h.data()), kHashSize);
      dirty_[id] = true;
      full_[{static_cast<int>(level) * kTileHeight, index}] = h;
      if (at + 1 < kTileWidth) break;
      std::vector<crypto::Hash> hashes(kTileWidth);
      for (uint64_t i = 0; i < kTileWidth; ++i) hashes[i] = HashAt(bytes, i);
      h = merkle::Root(hashes);
      index = id.index;
    }
    ++size_;
  }
  return Status::Ok();
}

std::map<TileId, std::string> TileTree::Dirty() const {
  std::map<TileId, std::string> out;
  for (const auto& [id, d] : dirty_) out.emplace(id, tiles_.at(id));
  return out;
}

Result<crypto::Hash> TileTree::Node(int height, uint64_t index, uint64_t size) {
  const uint64_t lo = index << height;
  if (size > size_ || lo >= size) {
    return Status::Invalid("node " + std::to_string(height) + "/" + std::to_string(index) +
                           " is not in the tree of " + std::to_string(size) + " leaves");
  }
  const uint64_t span = uint64_t{1} << height;
  const bool full = size - lo >= span;
  if (full) {
    if (auto it = full_.find({height, index}); it != full_.end()) return it->second;
    crypto::Hash h;
    if (height % kTileHeight == 0) {
      const TileId id{static_cast<uint32_t>(height / kTileHeight), index / kTileWidth};
      SN_ASSIGN_OR_RETURN(const std::string* tile, Tile(id));
      if (Width(*tile) <= index % kTileWidth) {
        return Status::Corruption("tile " + std::to_string(id.level) + "/" +
                                  std::to_string(id.index) + " lacks node " +
                                  std::to_string(index) + " of height " + std::to_string(height));
      }
      h = HashAt(*tile, index % kTileWidth);
    } else {
      SN_ASSIGN_OR_RETURN(crypto::Hash l, Node(height - 1, 2 * index, size));
      SN_ASSIGN_OR_RETURN(crypto::Hash r, Node(height - 1, 2 * index + 1, size));
      h = merkle::NodeHash(l, r);
    }
    full_[{height, index}] = h;
    return h;
  }
  // The right edge: the left child is full; the right one holds the rest, if any.
  SN_ASSIGN_OR_RETURN(crypto::Hash l, Node(height - 1, 2 * index, size));
  if (size - lo <= span / 2) return l;
  SN_ASSIGN_OR_RETURN(crypto::Hash r, Node(height - 1, 2 * index + 1, size));
  return merkle::NodeHash(l, r);
}

Result<crypto::Hash> TileTree::Range(uint64_t lo, uint64_t hi, uint64_t size) {
  const int h = CeilLog2(hi - lo);
  // RFC 6962's splits only make aligned ranges; a partial one ends the tree.
  if (lo % (uint64_t{1} << h) != 0 || (hi - lo != (uint64_t{1} << h) && hi != size)) {
    return Status::Invalid("unaligned range");
  }
  return Node(h, lo >> h, size);
}

Result<crypto::Hash> TileTree::Root(uint64_t size) {
  if (size == 0) return crypto::Sha256Of(std::string_view());
  return Node(CeilLog2(size), 0, size);
}

Status TileTree::Path(uint64_t m, uint64_t lo, uint64_t hi, uint64_t size,
                      std::vector<crypto::Hash>* out) {
  if (hi - lo <= 1) return Status::Ok();
  const uint64_t k = SplitOf(hi - lo);
  if (m < k) {
    SN_RETURN_IF_ERROR(Path(m, lo, lo + k, size, out));
    SN_ASSIGN_OR_RETURN(crypto::Hash h, Range(lo + k, hi, size));
    out->push_back(h);
  } else {
    SN_RETURN_IF_ERROR(Path(m - k, lo + k, hi, size, out));
    SN_ASSIGN_OR_RETURN(crypto::Hash h, Range(lo, lo + k, size));
    out->push_back(h);
  }
  return Status::Ok();
}

Result<std::vector<crypto::Hash>> TileTree::Inclusion(uint64_t index, uint64_t size) {
  if (size > size_ || index >= size) {
    return Status::Invalid("no leaf " + std::to_string(index) + " in a tree of " +
                           std::to_string(size));
  }
  std::vector<crypto::Hash> out;
  SN_RETURN_IF_ERROR(Path(index, 0, size, size, &out));
  return out;
}

Status TileTree::SubProof(uint64_t m, uint64_t lo, uint64_t hi, bool b, uint64_t size,
                          std::vector<crypto::Hash>* out) {
  const uint64_t n = hi - lo;
  if (m == n) {
    if (b) return Status::Ok();
    SN_ASSIGN_OR_RETURN(crypto::Hash h, Range(lo, hi, size));
    out->push_back(h);
    return Status::Ok();
  }
  const uint64_t k = SplitOf(n);
  if (m <= k) {
    SN_RETURN_IF_ERROR(SubProof(m, lo, lo + k, b, size, out));
    SN_ASSIGN_OR_RETURN(crypto::Hash h, Range(lo + k, hi, size));
    out->push_back(h);
  } else {
    SN_RETURN_IF_ERROR(SubProof(m - k, lo + k, hi, false, size, out));
    SN_ASSIGN_OR_RETURN(crypto::Hash h, Range(lo, lo + k, size));
    out->push_back(h);
  }
  return Status::Ok();
}

Result<std::vector<crypto::Hash>> TileTree::Consistency(uint64_t from, uint64_t to) {
  if (to > size_ || from > to) {
    return Status::Invalid("no consistency proof from size " + std::to_string(from) + " to " +
                           std::to_string(to));
  }
  std::vector<crypto::Hash> out;
  if (from == 0 || from == to) return out;
  SN_RETURN_IF_ERROR(SubProof(from, 0, to, true, to, &out));
  return out;
}

}  // namespace storenode::ledger
