#include "storenode/common/merkle.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/wrappers.pb.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "storenode/common/crypto.h"

namespace storenode::merkle {
namespace {

namespace fs = std::filesystem;
using crypto::Hash;
using google::protobuf::Struct;
using google::protobuf::Value;

const fs::path kVectors = fs::path(SN_SOURCE_DIR) / "tests/vectors/rfc6962";

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

Struct ParseJson(const fs::path& path) {
  Struct s;
  const auto status = google::protobuf::util::JsonStringToMessage(ReadFile(path), &s);
  INFO(path.string() << ": " << status.ToString());
  REQUIRE(status.ok());
  return s;
}

const Value& Field(const Struct& s, const std::string& key) {
  INFO("missing field " << key);
  REQUIRE(s.fields().contains(key));
  return s.fields().at(key);
}

// A Struct holds JSON numbers as doubles, exact only below 2^53. The one
// larger integer in the Go suite is uint64(0) - 1 (the "sub @1" mutation of
// index 0), which rounds to exactly 2^64: map that back, and refuse any other
// inexact number rather than guess.
uint64_t Uint(const Struct& s, const std::string& key) {
  const Value& v = Field(s, key);
  REQUIRE(v.kind_case() == Value::kNumberValue);
  const double d = v.number_value();
  constexpr double kTwoTo53 = 9007199254740992.0;
  constexpr double kTwoTo64 = 18446744073709551616.0;
  if (d == kTwoTo64) return std::numeric_limits<uint64_t>::max();
  INFO(key << " = " << d << " is not an exact unsigned integer");
  REQUIRE((d >= 0 && d < kTwoTo53 && d == std::floor(d)));
  return static_cast<uint64_t>(d);
}

bool Bool(const Struct& s, const std::string& key) {
  const Value& v = Field(s, key);
  REQUIRE(v.kind_case() == Value::kBoolValue);
  return v.bool_value();
}

// The JSON mapping of google.protobuf.BytesValue is a base64 string, so the
// protobuf parser decodes the vectors' byte strings for us.
std::string Base64(const std::string& text) {
  google::protobuf::BytesValue bytes;
  const auto status = google::protobuf::util::JsonStringToMessage("\"" + text + "\"", &bytes);
  INFO("bad base64 " << text);
  REQUIRE(status.ok());
  return bytes.value();
}

std::string BytesField(const Struct& s, const std::string& key) {
  const Value& v = Field(s, key);
  REQUIRE(v.kind_case() == Value::kStringValue);
  return Base64(v.string_value());
}

// "proof": null stands for an empty proof.
std::vector<std::string> BytesList(const Struct& s, const std::string& key) {
  const Value& v = Field(s, key);
  std::vector<std::string> out;
  if (v.kind_case() == Value::kNullValue) return out;
  REQUIRE(v.kind_case() == Value::kListValue);
  for (const Value& item : v.list_value().values()) {
    REQUIRE(item.kind_case() == Value::kStringValue);
    out.push_back(Base64(item.string_value()));
  }
  return out;
}

std::optional<Hash> ExactHash(const std::string& raw) {
  auto h = crypto::HashFromBytes(raw);
  if (!h.ok()) return std::nullopt;
  return *h;
}

// Roots and proof hashes of the wrong size are placeholders in the Go suite
// ("don't care 1", "" as trailing garbage), compared only byte for byte.
// Hashing them under a tag no tree uses keeps equal ones equal and makes them
// match nothing else, which is all those cases rely on.
Hash Placeholder(const std::string& raw) {
  if (auto h = ExactHash(raw)) return *h;
  return crypto::Sha256Of("storenode merkle_test placeholder\n" + raw);
}

std::vector<Hash> Placeholders(const std::vector<std::string>& raw) {
  std::vector<Hash> out;
  for (const std::string& r : raw) out.push_back(Placeholder(r));
  return out;
}

Hash HashOfHex(const std::string& hex) {
  auto raw = crypto::FromHex(hex);
  REQUIRE(raw.ok());
  auto h = crypto::HashFromBytes(*raw);
  REQUIRE(h.ok());
  return *h;
}

// roots.json: eight leaf inputs and the root of each prefix of them.
struct KnownTree {
  std::vector<Hash> leaves;  // leaf hashes
  std::vector<Hash> roots;   // roots[n]: the tree of the first n leaves
};

const KnownTree& Known() {
  static const KnownTree known = [] {
    const Struct s = ParseJson(kVectors / "roots.json");
    KnownTree k;
    for (const Value& v : Field(s, "leaf_inputs_hex").list_value().values()) {
      auto raw = crypto::FromHex(v.string_value());
      REQUIRE(raw.ok());
      k.leaves.push_back(LeafHash(crypto::AsBytes(*raw)));
    }
    for (const Value& v : Field(s, "root_by_size_hex").list_value().values()) {
      k.roots.push_back(HashOfHex(v.string_value()));
    }
    REQUIRE(k.leaves.size() == 8);
    REQUIRE(k.roots.size() == 9);
    return k;
  }();
  return known;
}

// The leaves of a tree with this size and root, when the vectors let us
// derive them: a prefix of roots.json's leaves, or a lone leaf.
std::optional<std::vector<Hash>> DerivableLeaves(uint64_t size, const Hash& root,
                                                 std::optional<Hash> lone_leaf) {
  const KnownTree& k = Known();
  if (size < k.roots.size() && k.roots[size] == root) {
    return std::vector<Hash>(k.leaves.begin(), k.leaves.begin() + size);
  }
  if (size == 1 && lone_leaf && *lone_leaf == root) return std::vector<Hash>{*lone_leaf};
  return std::nullopt;
}

// Visits every .json file under dir, counting them per directory.
template <typename Fn>
std::map<std::string, int> ForEachVector(const fs::path& dir, Fn fn) {
  REQUIRE(fs::is_directory(dir));
  std::map<std::string, int> per_dir;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".json") continue;
    INFO(entry.path().string());
    fn(entry.path(), ParseJson(entry.path()));
    ++per_dir[fs::relative(entry.path().parent_path(), dir).string()];
  }
  return per_dir;
}

void RequireEachDirChecked(const std::map<std::string, int>& per_dir,
                           const std::vector<std::string>& dirs) {
  for (const std::string& d : dirs) {
    INFO("vector directory " << d);
    CHECK(per_dir.contains(d));
    if (per_dir.contains(d)) CHECK(per_dir.at(d) > 0);
  }
}

int Total(const std::map<std::string, int>& per_dir) {
  int n = 0;
  for (const auto& [dir, count] : per_dir) n += count;
  return n;
}

std::vector<Hash> LeavesNamed(uint64_t n) {
  std::vector<Hash> leaves;
  for (uint64_t i = 0; i < n; ++i)
    leaves.push_back(LeafHash(crypto::AsBytes("leaf-" + std::to_string(i))));
  return leaves;
}

Hash FlipBit(Hash h, int bit) {
  h[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
  return h;
}

// MTH exactly as RFC 6962 2.1 writes it, to check the iterative Root against.
Hash ReferenceRoot(std::span<const Hash> leaves) {
  if (leaves.empty()) return crypto::Sha256Of(std::string_view());
  if (leaves.size() == 1) return leaves[0];
  size_t k = 1;
  while (k * 2 < leaves.size()) k *= 2;
  return NodeHash(ReferenceRoot(leaves.first(k)), ReferenceRoot(leaves.subspan(k)));
}

TEST_CASE("merkle hashes are RFC 6962's", "[merkle]") {
  const std::string data = "abc";
  CHECK(LeafHash(crypto::AsBytes(data)) == crypto::Sha256Of(std::string("\0abc", 4)));
  const Hash l = LeafHash(crypto::AsBytes("l"));
  const Hash r = LeafHash(crypto::AsBytes("r"));
  std::string node("\x01");
  node.append(l.begin(), l.end());
  node.append(r.begin(), r.end());
  CHECK(NodeHash(l, r) == crypto::Sha256Of(node));
  CHECK(crypto::ToHex(Root({})) ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("merkle roots match roots.json", "[merkle]") {
  const KnownTree& k = Known();
  for (size_t n = 0; n <= 8; ++n) {
    INFO("size " << n);
    CHECK(Root(std::span(k.leaves).first(n)) == k.roots[n]);
  }
}

TEST_CASE("merkle Root matches the RFC's recursive definition", "[merkle]") {
  const std::vector<Hash> leaves = LeavesNamed(130);
  for (size_t n = 0; n <= leaves.size(); ++n) {
    INFO("size " << n);
    CHECK(Root(std::span(leaves).first(n)) == ReferenceRoot(std::span(leaves).first(n)));
  }
}

TEST_CASE("merkle CompactRange gives the root of every prefix, and a copy leaves it as it was",
          "[merkle]") {
  const KnownTree& k = Known();
  CompactRange known;
  CHECK(known.Root() == k.roots[0]);
  for (size_t n = 1; n <= 8; ++n) {
    INFO("roots.json size " << n);
    known.Append(k.leaves[n - 1]);
    CHECK(known.size() == n);
    CHECK(known.Root() == k.roots[n]);
  }
  const std::vector<Hash> leaves = LeavesNamed(300);
  CompactRange range;
  for (size_t n = 1; n <= leaves.size(); ++n) {
    INFO("size " << n);
    const CompactRange before = range;
    range.Append(leaves[n - 1]);
    CHECK(range.Root() == ReferenceRoot(std::span(leaves).first(n)));
    CHECK(before.size() == n - 1);
    CHECK(before.Root() == ReferenceRoot(std::span(leaves).first(n - 1)));
  }
}

TEST_CASE("merkle inclusion vectors", "[merkle]") {
  int happy = 0;
  int regenerated = 0;
  const auto per_dir =
      ForEachVector(kVectors / "testdata/inclusion", [&](const fs::path&, const Struct& v) {
        const uint64_t index = Uint(v, "leafIdx");
        const uint64_t size = Uint(v, "treeSize");
        const Hash root = Placeholder(BytesField(v, "root"));
        const std::vector<Hash> proof = Placeholders(BytesList(v, "proof"));
        const bool want_err = Bool(v, "wantErr");
        // A leaf hash must be exactly 32 bytes; the typed API cannot even
        // carry another size, so such a case is rejected before verifying.
        const std::optional<Hash> leaf = ExactHash(BytesField(v, "leafHash"));
        Status status = Status::Invalid("leaf hash is not 32 bytes");
        if (leaf) status = VerifyInclusion(index, size, *leaf, proof, root);
        INFO(status.ToString());
        CHECK(status.ok() == !want_err);
        if (want_err) return;

        ++happy;
        const auto leaves = DerivableLeaves(size, root, leaf);
        CHECK(leaves.has_value());  // every happy path here has known leaves
        if (!leaves) return;
        REQUIRE(leaves->size() == size);
        CHECK((*leaves)[index] == *leaf);
        CHECK(InclusionProof(*leaves, index) == proof);
        ++regenerated;
      });
  RequireEachDirChecked(per_dir, {"0", "1", "2", "3", "4", "single-entry", "additional/0",
                                  "additional/1", "additional/2", "additional/3"});
  CHECK(Total(per_dir) == 98);
  CHECK(happy == 6);
  CHECK(regenerated == happy);
}

TEST_CASE("merkle consistency vectors", "[merkle]") {
  int happy = 0;
  int regenerated = 0;
  const auto per_dir =
      ForEachVector(kVectors / "testdata/consistency", [&](const fs::path& path, const Struct& v) {
        const uint64_t size1 = Uint(v, "size1");
        const uint64_t size2 = Uint(v, "size2");
        const std::string raw_root1 = BytesField(v, "root1");
        const std::string raw_root2 = BytesField(v, "root2");
        const Hash root1 = Placeholder(raw_root1);
        const Hash root2 = Placeholder(raw_root2);
        const std::vector<Hash> proof = Placeholders(BytesList(v, "proof"));
        const bool want_err = Bool(v, "wantErr");
        const Status status = VerifyConsistency(size1, size2, root1, root2, proof);
        INFO(status.ToString());
        CHECK(status.ok() == !want_err);
        if (want_err) return;

        ++happy;
        const auto leaves = DerivableLeaves(size2, root2, std::nullopt);
        if (!leaves) {
          // Only the Go suite's "don't care" roots are unknown trees.
          CHECK(path.parent_path().filename() == "additional");
          CHECK(!ExactHash(raw_root2).has_value());
          return;
        }
        CHECK(Root(std::span(*leaves).first(size1)) == root1);
        CHECK(ConsistencyProof(*leaves, size1) == proof);
        ++regenerated;
      });
  RequireEachDirChecked(per_dir, {"0", "1", "2", "3", "4", "additional"});
  CHECK(Total(per_dir) == 98);
  CHECK(happy == 6);
  CHECK(regenerated == 5);
}

TEST_CASE("merkle proofs for every leaf and prefix of 1..64 leaves verify", "[merkle]") {
  const std::vector<Hash> all = LeavesNamed(64);
  for (uint64_t n = 1; n <= all.size(); ++n) {
    const std::span<const Hash> leaves = std::span(all).first(n);
    const Hash root = Root(leaves);
    for (uint64_t i = 0; i < n; ++i) {
      INFO("inclusion of " << i << " in " << n);
      const std::vector<Hash> proof = InclusionProof(leaves, i);
      REQUIRE(VerifyInclusion(i, n, leaves[i], proof, root).ok());
      const int bit = static_cast<int>((i * 7 + n) % 256);
      CHECK(!VerifyInclusion(i, n, FlipBit(leaves[i], bit), proof, root).ok());
      CHECK(!VerifyInclusion(i, n, leaves[i], proof, FlipBit(root, bit)).ok());
      for (size_t p = 0; p < proof.size(); ++p) {
        std::vector<Hash> bad = proof;
        bad[p] = FlipBit(bad[p], bit);
        CHECK(!VerifyInclusion(i, n, leaves[i], bad, root).ok());
      }
    }
    for (uint64_t m = 1; m <= n; ++m) {
      INFO("consistency of " << m << " with " << n);
      const Hash old_root = Root(leaves.first(m));
      const std::vector<Hash> proof = ConsistencyProof(leaves, m);
      REQUIRE(VerifyConsistency(m, n, old_root, root, proof).ok());
      const int bit = static_cast<int>((m * 5 + n) % 256);
      CHECK(!VerifyConsistency(m, n, FlipBit(old_root, bit), root, proof).ok());
      CHECK(!VerifyConsistency(m, n, old_root, FlipBit(root, bit), proof).ok());
      for (size_t p = 0; p < proof.size(); ++p) {
        std::vector<Hash> bad = proof;
        bad[p] = FlipBit(bad[p], bit);
        CHECK(!VerifyConsistency(m, n, old_root, root, bad).ok());
      }
    }
  }
}

TEST_CASE("merkle verification errors name the problem", "[merkle]") {
  const std::vector<Hash> leaves = LeavesNamed(5);
  const Hash root = Root(leaves);
  const std::vector<Hash> proof = InclusionProof(leaves, 1);
  REQUIRE(proof.size() == 3);

  Status s = VerifyInclusion(7, 5, leaves[1], proof, root);
  CHECK(s.code() == Code::kInvalidArgument);
  CHECK(s.message() == "index 7 out of range for size 5");

  s = VerifyInclusion(1, 5, leaves[1], std::span(proof).first(2), root);
  CHECK(s.code() == Code::kCorruption);
  CHECK(s.message() == "inclusion proof has 2 hashes, want 3");

  s = VerifyInclusion(1, 5, leaves[2], proof, root);
  CHECK(s.code() == Code::kCorruption);
  CHECK(s.message().starts_with("root mismatch"));

  s = VerifyConsistency(0, 5, Root({}), root, {});
  CHECK(s.code() == Code::kInvalidArgument);
  s = VerifyConsistency(5, 3, root, root, {});
  CHECK(s.code() == Code::kInvalidArgument);
  CHECK(s.message() == "size1 5 is greater than size2 3");
  s = VerifyConsistency(3, 5, Root(std::span(leaves).first(3)), root, {});
  CHECK(s.code() == Code::kCorruption);
  CHECK(s.message() == "consistency proof has 0 hashes, want 4");
}

TEST_CASE("merkle generators handle out-of-range arguments", "[merkle]") {
  const std::vector<Hash> leaves = LeavesNamed(4);
  CHECK(InclusionProof(leaves, 4).empty());
  CHECK(InclusionProof({}, 0).empty());
  CHECK(ConsistencyProof(leaves, 0).empty());
  CHECK(ConsistencyProof(leaves, 5).empty());
  CHECK(ConsistencyProof(leaves, 4).empty());
}

TEST_CASE("merkle Root over a million leaves splits as the RFC says", "[merkle]") {
  const size_t n = 1'000'000;
  std::vector<Hash> leaves(n);
  for (size_t i = 0; i < n; ++i) {
    leaves[i].fill(0);
    for (int b = 0; b < 8; ++b) leaves[i][b] = static_cast<uint8_t>(i >> (8 * b));
  }
  const size_t k = 524'288;  // largest power of two below n
  const std::span<const Hash> all(leaves);
  const Hash root = Root(all);
  CHECK(root == NodeHash(Root(all.first(k)), Root(all.subspan(k))));
  CHECK(VerifyInclusion(n - 1, n, leaves.back(), InclusionProof(all, n - 1), root).ok());
  CHECK(VerifyConsistency(k, n, Root(all.first(k)), root, ConsistencyProof(all, k)).ok());
}

}  // namespace
}  // namespace storenode::merkle
