// SHA-256 through OpenSSL 3 and Ed25519 through libsodium, plus hex helpers.
// Every SHA-256 of storenode's data (journal chain, catalog, Merkle trees,
// fingerprints) is computed here.
//
// SHA-256 is OpenSSL's: it uses the CPU's SHA extensions where there are
// some, about 3x libsodium's portable code on the bench host (65-byte
// Merkle nodes: 0.3 us against 1.5 us), and is the same implementation TLS
// already loads. Ed25519 is deterministic (RFC 8032), so libsodium and OpenSSL produce the
// same signature bytes; libsodium signs about 2.5x and verifies about 2x
// faster, which is most of record()'s CPU time and of the fog's.
//
// All functions are pure and thread-safe. Keys are raw 32-byte Ed25519 keys
// (the private key is the 32-byte seed), the form stored on disk and sent in
// genesis events.
#pragma once

#include <openssl/types.h>

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "storenode/common/status.h"

namespace storenode::crypto {

using Hash = std::array<uint8_t, 32>;
using Signature = std::array<uint8_t, 64>;
using PublicKey = std::array<uint8_t, 32>;

using Bytes = std::span<const uint8_t>;
inline Bytes AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Incremental SHA-256: Update any number of times, then Final once.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  Sha256& Update(Bytes data);
  Sha256& Update(std::string_view data) { return Update(AsBytes(data)); }
  Hash Final();

 private:
  // An OpenSSL digest context, borrowed from the calling thread's spares and
  // given back by the destructor: allocating one costs as much as hashing a
  // Merkle node, and the fog hashes every event it receives.
  EVP_MD_CTX* ctx_;
};

Hash Sha256Of(Bytes data);
inline Hash Sha256Of(std::string_view s) { return Sha256Of(AsBytes(s)); }

// An Ed25519 key pair. Generated from the OS's random source.
class SigningKey {
 public:
  static SigningKey Generate();
  // From a 32-byte seed, as written by seed().
  static Result<SigningKey> FromSeed(Bytes seed);
  // Reads a key file written by Save(); refuses files readable by others.
  static Result<SigningKey> Load(const std::string& path);
  // Writes the seed with 0600 permissions; never overwrites an existing file.
  Status Save(const std::string& path) const;

  Signature Sign(Bytes message) const;
  const PublicKey& public_key() const { return public_key_; }
  const std::array<uint8_t, 32>& seed() const { return seed_; }

 private:
  std::array<uint8_t, 32> seed_{};
  PublicKey public_key_{};
  std::array<uint8_t, 64> secret_{};  // libsodium's expanded form: seed || public key
};

bool Verify(const PublicKey& key, Bytes message, Bytes signature);

void RandomBytes(std::span<uint8_t> out);

std::string ToHex(Bytes data);
template <size_t N>
std::string ToHex(const std::array<uint8_t, N>& a) {
  return ToHex(Bytes(a.data(), a.size()));
}
Result<std::string> FromHex(std::string_view hex);  // raw bytes in a string

// Copies exactly 32 bytes into a Hash; fails on any other size.
Result<Hash> HashFromBytes(std::string_view raw);

// Short human-readable fingerprint of a public key: first 8 bytes of its
// SHA-256, in hex with colons ("3f:1a:...").
std::string Fingerprint(const PublicKey& key);

}  // namespace storenode::crypto
