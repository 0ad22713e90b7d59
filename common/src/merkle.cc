#include "storenode/common/merkle.h"

#include <algorithm>
#include <array>
#include <bit>
#include <string>

namespace storenode::merkle {
namespace {

using crypto::Bytes;
using crypto::Hash;

constexpr uint8_t kLeafPrefix = 0x00;
constexpr uint8_t kNodePrefix = 0x01;

// RFC 6962's domain separation: a leaf and a node never hash alike.
Hash Digest(uint8_t prefix, Bytes a, Bytes b) {
  return crypto::Sha256().Update(Bytes(&prefix, 1)).Update(a).Update(b).Final();
}

Hash Node(const Hash& l, const Hash& r) { return Digest(kNodePrefix, l, r); }

// The size of the left subtree of a tree of n >= 2 leaves.
uint64_t SplitPoint(uint64_t n) { return std::bit_floor(n - 1); }

// The proof for leaf `index` of a tree of `size` leaves (RFC 9162 2.1.3.2,
// split as transparency-dev/merkle does): the first `inner` hashes are the
// siblings below the level where the path to `index` parts from the path to
// the last leaf; the `border` hashes above are left siblings on the right
// border, where the tree is not perfect and a level may have no sibling.
struct ProofShape {
  uint64_t inner;
  uint64_t border;
};

ProofShape Shape(uint64_t index, uint64_t size) {
  const uint64_t inner = std::bit_width(index ^ (size - 1));
  const uint64_t border = inner >= 64 ? 0 : std::popcount(index >> inner);
  return {inner, border};
}

// Bit i of `index` says whether the sibling at level i is on the left.
Hash ChainInner(Hash seed, std::span<const Hash> proof, uint64_t index) {
  for (size_t i = 0; i < proof.size(); ++i) {
    seed = ((index >> i) & 1) == 0 ? Node(seed, proof[i]) : Node(proof[i], seed);
  }
  return seed;
}

// As ChainInner, but only the left siblings: the right ones lie beyond the
// old tree when recomputing its root from a consistency proof.
Hash ChainInnerRight(Hash seed, std::span<const Hash> proof, uint64_t index) {
  for (size_t i = 0; i < proof.size(); ++i) {
    if (((index >> i) & 1) != 0) seed = Node(proof[i], seed);
  }
  return seed;
}

Hash ChainBorderRight(Hash seed, std::span<const Hash> proof) {
  for (const Hash& h : proof) seed = Node(h, seed);
  return seed;
}

std::string Short(const Hash& h) { return crypto::ToHex(Bytes(h.data(), 8)); }

Status Match(const Hash& computed, const Hash& want, const char* what) {
  if (computed == want) return Status::Ok();
  return Status::Corruption(std::string(what) + " mismatch: proof gives " + Short(computed) +
                            "..., want " + Short(want) + "...");
}

Status WrongLength(const char* what, size_t got, uint64_t want) {
  return Status::Corruption(std::string(what) + " proof has " + std::to_string(got) +
                            " hashes, want " + std::to_string(want));
}

}  // namespace

Hash LeafHash(Bytes data) { return Digest(kLeafPrefix, data, {}); }

Hash NodeHash(const Hash& l, const Hash& r) { return Node(l, r); }

void CompactRange::Append(const Hash& leaf_hash) {
  Hash h = leaf_hash;
  for (uint64_t done = size_; (done & 1) != 0; done >>= 1) h = Node(subtrees_[--depth_], h);
  subtrees_[depth_++] = h;
  ++size_;
}

Hash CompactRange::Root() const {
  if (depth_ == 0) return crypto::Sha256Of(Bytes{});
  size_t i = depth_ - 1;
  Hash root = subtrees_[i];
  while (i > 0) root = Node(subtrees_[--i], root);
  return root;
}

Hash Root(std::span<const Hash> leaf_hashes) {
  CompactRange range;
  for (const Hash& h : leaf_hashes) range.Append(h);
  return range.Root();
}

std::vector<Hash> InclusionProof(std::span<const Hash> leaf_hashes, uint64_t index) {
  std::vector<Hash> proof;
  if (index >= leaf_hashes.size()) return proof;
  // Walk down from the root to the leaf, taking the other subtree's root at
  // each split; each level costs the size of the subtree left behind, O(n) in all.
  std::span<const Hash> tree = leaf_hashes;
  while (tree.size() > 1) {
    const uint64_t k = SplitPoint(tree.size());
    if (index < k) {
      proof.push_back(Root(tree.subspan(k)));
      tree = tree.first(k);
    } else {
      proof.push_back(Root(tree.first(k)));
      tree = tree.subspan(k);
      index -= k;
    }
  }
  std::reverse(proof.begin(), proof.end());  // the RFC lists the leaf level first
  return proof;
}

std::vector<Hash> ConsistencyProof(std::span<const Hash> leaf_hashes, uint64_t old_size) {
  std::vector<Hash> proof;
  if (old_size == 0 || old_size > leaf_hashes.size()) return proof;
  // SUBPROOF(m, D[n], b), unrolled from the root down; `whole_old_tree` is b:
  // it stays true while the subtree holding the old tree's right edge starts
  // at leaf 0, where the verifier knows that subtree's root as root1.
  std::span<const Hash> tree = leaf_hashes;
  uint64_t m = old_size;
  bool whole_old_tree = true;
  while (m != tree.size()) {
    const uint64_t k = SplitPoint(tree.size());
    if (m <= k) {
      proof.push_back(Root(tree.subspan(k)));
      tree = tree.first(k);
    } else {
      proof.push_back(Root(tree.first(k)));
      tree = tree.subspan(k);
      m -= k;
      whole_old_tree = false;
    }
  }
  if (!whole_old_tree) proof.push_back(Root(tree));
  std::reverse(proof.begin(), proof.end());
  return proof;
}

Status VerifyInclusion(uint64_t index, uint64_t tree_size, const Hash& leaf_hash,
                       std::span<const Hash> proof, const Hash& root) {
  if (index >= tree_size) {
    return Status::Invalid("index " + std::to_string(index) + " out of range for size " +
                           std::to_string(tree_size));
  }
  const ProofShape shape = Shape(index, tree_size);
  if (proof.size() != shape.inner + shape.border) {
    return WrongLength("inclusion", proof.size(), shape.inner + shape.border);
  }
  Hash computed = ChainInner(leaf_hash, proof.first(shape.inner), index);
  computed = ChainBorderRight(computed, proof.subspan(shape.inner));
  return Match(computed, root, "root");
}

Status VerifyConsistency(uint64_t size1, uint64_t size2, const Hash& root1, const Hash& root2,
                         std::span<const Hash> proof) {
  if (size2 < size1) {
    return Status::Invalid("size1 " + std::to_string(size1) + " is greater than size2 " +
                           std::to_string(size2));
  }
  if (size1 == 0) return Status::Invalid("consistency from an empty tree proves nothing");
  if (size1 == size2) {
    if (!proof.empty()) return WrongLength("consistency", proof.size(), 0);
    if (root1 != root2) {
      return Status::Corruption("sizes are equal (" + std::to_string(size1) + ") but roots differ");
    }
    return Status::Ok();
  }

  // The proof is the tail of the inclusion proof of leaf size1 - 1 in the new
  // tree, from level `shift` up: below it, the old tree's last perfect
  // subtree (2^shift leaves) is whole in both trees. Its root, the seed, is
  // root1 when the old tree is that subtree, and the proof's first hash
  // otherwise. shift < inner because size1 < size2.
  ProofShape shape = Shape(size1 - 1, size2);
  const int shift = std::countr_zero(size1);
  shape.inner -= shift;
  const bool seed_is_root1 = size1 == (uint64_t{1} << shift);
  const size_t start = seed_is_root1 ? 0 : 1;
  if (proof.size() != start + shape.inner + shape.border) {
    return WrongLength("consistency", proof.size(), start + shape.inner + shape.border);
  }
  const Hash& seed = seed_is_root1 ? root1 : proof[0];
  const std::span<const Hash> inner = proof.subspan(start, shape.inner);
  const std::span<const Hash> border = proof.subspan(start + shape.inner);
  const uint64_t mask = (size1 - 1) >> shift;

  Hash old_root = ChainInnerRight(seed, inner, mask);
  old_root = ChainBorderRight(old_root, border);
  SN_RETURN_IF_ERROR(Match(old_root, root1, "root1"));
  Hash new_root = ChainInner(seed, inner, mask);
  new_root = ChainBorderRight(new_root, border);
  return Match(new_root, root2, "root2");
}

}  // namespace storenode::merkle
