// RFC 6962 Merkle trees: the tree of the cloud ledger and of each Z-report's
// events (see docs/ARCHITECTURE.md, "Cloud ledger"), with inclusion and
// consistency proofs and their verifiers.
//
// Hashes (RFC 6962 section 2.1):
//   leaf  = SHA-256(0x00 || data)
//   node  = SHA-256(0x01 || left || right)
//   MTH({}) = SHA-256("")
// A tree of n > 1 leaves splits at k, the largest power of two below n: its
// left subtree holds the first k leaves and is perfect.
//
// The builders take the leaf hashes (LeafHash of each entry), not the entries.
// Verification follows RFC 9162 sections 2.1.3.2 and 2.1.4.2 as
// transparency-dev/merkle's proof/verify.go does, and passes its vectors
// (tests/vectors/rfc6962). One guard is stricter than verify.go: a
// consistency proof from size 0 is always rejected, even to size 0.
//
// All functions are pure and thread-safe. A CompactRange is a value: safe to
// use from one thread at a time, and to copy.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "storenode/common/crypto.h"
#include "storenode/common/status.h"

namespace storenode::merkle {

// SHA-256(0x00 || data).
crypto::Hash LeafHash(crypto::Bytes data);
// SHA-256(0x01 || l || r).
crypto::Hash NodeHash(const crypto::Hash& l, const crypto::Hash& r);

// The compact range [0, n) of a tree, as transparency-dev/merkle's
// compact.Range starting at 0: the roots of the perfect subtrees that make up
// the first n leaves, largest first, one per set bit of n. Leaf i completes
// as many subtrees as i has trailing one bits, so Append costs O(1) hashes
// amortised (at most log2 n) and Root O(log n), where Root(span) over all
// leaves is O(n): the ledger takes the root after every append, and its
// audit the root of every size. It holds no allocation; copy it to compute
// the root after an append that may not commit.
class CompactRange {
 public:
  // Adds the next leaf, given as its leaf hash (LeafHash of the entry).
  void Append(const crypto::Hash& leaf_hash);
  // The Merkle tree hash of all leaves appended so far; SHA-256("") when none.
  crypto::Hash Root() const;
  uint64_t size() const { return size_; }

 private:
  // RFC 6962 splits a tree at the largest power of two below its size, so
  // its root is the right fold of these subtrees.
  std::array<crypto::Hash, 64> subtrees_{};
  size_t depth_ = 0;  // subtrees_ in use: the popcount of size_
  uint64_t size_ = 0;
};

// The Merkle tree hash of a list of leaf hashes; SHA-256("") when empty.
// A CompactRange over the list: O(n) hashes, no allocation; fit for millions
// of leaves.
crypto::Hash Root(std::span<const crypto::Hash> leaf_hashes);

// The audit path PATH(index, D[n]) of RFC 6962 2.1.1, leaf level first, for
// the tree of all `leaf_hashes`. An index out of range gets an empty proof,
// which VerifyInclusion rejects for that index.
std::vector<crypto::Hash> InclusionProof(std::span<const crypto::Hash> leaf_hashes, uint64_t index);

// PROOF(old_size, D[n]) of RFC 6962 2.1.2 (SUBPROOF with b = true), proving
// that the tree of the first `old_size` leaves is a prefix of the tree of all
// `leaf_hashes`. Empty when old_size == n; also empty when old_size is 0 or
// greater than n, sizes VerifyConsistency rejects.
std::vector<crypto::Hash> ConsistencyProof(std::span<const crypto::Hash> leaf_hashes,
                                           uint64_t old_size);

// Checks that `leaf_hash` is leaf `index` of the tree of `tree_size` leaves
// whose root is `root`. Invalid when index >= tree_size; Corruption when the
// proof has the wrong length or does not lead to `root`.
Status VerifyInclusion(uint64_t index, uint64_t tree_size, const crypto::Hash& leaf_hash,
                       std::span<const crypto::Hash> proof, const crypto::Hash& root);

// Checks that the tree of `size1` leaves with root `root1` is a prefix of the
// tree of `size2` leaves with root `root2`. Invalid when size1 is 0 (nothing
// to prove) or greater than size2; Corruption when the proof has the wrong
// length or does not lead to both roots. Equal sizes need an empty proof and
// equal roots.
Status VerifyConsistency(uint64_t size1, uint64_t size2, const crypto::Hash& root1,
                         const crypto::Hash& root2, std::span<const crypto::Hash> proof);

}  // namespace storenode::merkle
