// The tiled tree (tools/ledger/tiles.h) against the plain RFC 6962 builders
// (common/merkle.h, which pass the RFC vectors): the same roots and proofs
// for every size across tile boundaries, with the tiles written back and
// read again as the ledger does.
#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "ledger/tiles.h"
#include "storenode/common/merkle.h"

namespace storenode::ledger {
namespace {

crypto::Hash LeafOf(uint64_t i) { return merkle::LeafHash(crypto::AsBytes(std::to_string(i))); }

// A tile store as the ledger's table: whole tiles written after each batch.
struct Store {
  std::map<TileId, std::string> tiles;
  TileLoader Loader() {
    return [this](const TileId& id) -> Result<std::string> {
      auto it = tiles.find(id);
      return it == tiles.end() ? std::string() : it->second;
    };
  }
};

// Appends `n` leaves in batches of `batch`, each through a fresh view.
std::vector<crypto::Hash> Build(Store& store, uint64_t n, uint64_t batch) {
  std::vector<crypto::Hash> leaves;
  uint64_t size = 0;
  while (size < n) {
    TileTree tree(size, store.Loader());
    std::vector<crypto::Hash> add;
    for (uint64_t i = size; i < std::min(n, size + batch); ++i) add.push_back(LeafOf(i));
    REQUIRE(tree.Append(add).ok());
    for (auto& [id, bytes] : tree.Dirty()) store.tiles[id] = bytes;
    leaves.insert(leaves.end(), add.begin(), add.end());
    size = tree.size();
  }
  return leaves;
}

TEST_CASE("tiled tree: every root and proof of sizes 1..600 match RFC 6962", "[ledger][tiles]") {
  Store store;
  const std::vector<crypto::Hash> leaves = Build(store, 600, 37);
  CHECK(store.tiles.size() == 4);  // level 0: 0, 1, 2 (partial); level 1: 0 (2 roots)
  CHECK(store.tiles.at({1, 0}).size() == 2 * 32);
  FullTileCache cache;
  TileTree tree(600, store.Loader(), &cache);
  for (uint64_t size = 1; size <= 600; ++size) {
    std::span<const crypto::Hash> prefix(leaves.data(), size);
    REQUIRE(*tree.Root(size) == merkle::Root(prefix));
    for (uint64_t i : {uint64_t{0}, size / 3, size / 2, size - 1}) {
      REQUIRE(*tree.Inclusion(i, size) == merkle::InclusionProof(prefix, i));
    }
    for (uint64_t from : {uint64_t{1}, size / 2, size - 1, size}) {
      if (from == 0) continue;
      REQUIRE(*tree.Consistency(from, size) == merkle::ConsistencyProof(prefix, from));
    }
  }
  CHECK(!tree.Inclusion(600, 600).ok());
  CHECK(!tree.Consistency(5, 601).ok());
}

TEST_CASE("tiled tree: across the level-2 boundary (65,536 leaves)", "[ledger][tiles]") {
  Store store;
  const uint64_t n = 65536 + 300;
  const std::vector<crypto::Hash> leaves = Build(store, n, 256);
  CHECK(store.tiles.count({2, 0}) == 1);
  CHECK(store.tiles.at({2, 0}).size() == 32);
  CHECK(store.tiles.at({1, 0}).size() == 256 * 32);
  TileTree tree(n, store.Loader());
  for (uint64_t size : {uint64_t{65535}, uint64_t{65536}, uint64_t{65537}, n}) {
    std::span<const crypto::Hash> prefix(leaves.data(), size);
    REQUIRE(*tree.Root(size) == merkle::Root(prefix));
    for (uint64_t i : {uint64_t{0}, uint64_t{255}, uint64_t{256}, size / 2, size - 1}) {
      REQUIRE(*tree.Inclusion(i, size) == merkle::InclusionProof(prefix, i));
    }
    REQUIRE(*tree.Consistency(1000, size) == merkle::ConsistencyProof(prefix, 1000));
  }
}

TEST_CASE("tiled tree: a torn tile is corruption, not a wrong root", "[ledger][tiles]") {
  Store store;
  Build(store, 300, 100);
  store.tiles[{0, 1}].resize(10 * 32);  // 44 hashes lost
  TileTree tree(300, store.Loader());
  auto root = tree.Root(300);
  REQUIRE(!root.ok());
  CHECK(root.status().message().find("tile 0/1 lacks node") != std::string::npos);
}

}  // namespace
}  // namespace storenode::ledger
