// Password hashes for the console's managers: only the salted hash is
// stored in fog.toml, never the PIN or password. New hashes are Argon2id
// (libsodium's crypto_pwhash_str, "$argon2id$..."): memory-hard, so a
// stolen fog.toml does not give up six-digit PINs to a GPU in minutes as
// PBKDF2 does. "pbkdf2-sha256$..." hashes made before still verify.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sodium.h>

#include <array>
#include <charconv>
#include <stdexcept>
#include <vector>

#include "storenode/common/crypto.h"
#include "storenode/fog/console.h"

namespace storenode::fog {
namespace {

constexpr char kScheme[] = "pbkdf2-sha256";
constexpr char kArgon2Prefix[] = "$argon2id$";
// libsodium's "interactive" limits: 64 MiB and ~0.1 s per login. The console
// verifies one login at a time, so logins never cost the fog more than this.
constexpr unsigned long long kArgon2OpsLimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
constexpr size_t kArgon2MemLimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;
constexpr size_t kSaltBytes = 16;
constexpr size_t kHashBytes = 32;

struct Parsed {
  int iterations = 0;
  std::string salt, hash;  // raw bytes
};

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out(1);
  for (char c : s) {
    if (c == sep) {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

Result<Parsed> Parse(const std::string& text) {
  const std::vector<std::string> parts = Split(text, '$');
  if (parts.size() != 4 || parts[0] != kScheme) {
    return Status::Invalid(
        "want pbkdf2-sha256$ITERATIONS$SALT_HEX$HASH_HEX (storectl console hash-password)");
  }
  Parsed p;
  auto [end, ec] =
      std::from_chars(parts[1].data(), parts[1].data() + parts[1].size(), p.iterations);
  if (ec != std::errc() || end != parts[1].data() + parts[1].size() || p.iterations < 1000) {
    return Status::Invalid("iterations must be a number of at least 1000");
  }
  auto salt = crypto::FromHex(parts[2]);
  auto hash = crypto::FromHex(parts[3]);
  if (!salt.ok() || salt->size() < 8) return Status::Invalid("salt must be at least 8 hex bytes");
  if (!hash.ok() || hash->size() != kHashBytes) {
    return Status::Invalid("hash must be 32 bytes in hex");
  }
  p.salt.assign(salt->begin(), salt->end());
  p.hash.assign(hash->begin(), hash->end());
  return p;
}

std::string Derive(const std::string& password, const std::string& salt, int iterations) {
  std::array<unsigned char, kHashBytes> out{};
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                    reinterpret_cast<const unsigned char*>(salt.data()),
                    static_cast<int>(salt.size()), iterations, EVP_sha256(), out.size(),
                    out.data());
  return std::string(out.begin(), out.end());
}

}  // namespace

std::string HashPassword(const std::string& password) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialize");
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), kArgon2OpsLimit, kArgon2MemLimit) !=
      0) {
    // Only when the memory limit cannot be allocated: nothing to store.
    throw std::runtime_error("crypto_pwhash_str: out of memory");
  }
  return out;
}

std::string HashPasswordPbkdf2(const std::string& password, int iterations) {
  std::array<uint8_t, kSaltBytes> salt{};
  crypto::RandomBytes(salt);
  const std::string salt_bytes(salt.begin(), salt.end());
  const std::string hash = Derive(password, salt_bytes, iterations);
  return std::string(kScheme) + "$" + std::to_string(iterations) + "$" +
         crypto::ToHex(crypto::AsBytes(salt_bytes)) + "$" + crypto::ToHex(crypto::AsBytes(hash));
}

Status CheckPasswordHash(const std::string& hash) {
  if (hash.starts_with(kArgon2Prefix)) {
    // Well-formed and within the limits this fog will spend on a login.
    if (hash.size() >= crypto_pwhash_STRBYTES ||
        crypto_pwhash_str_needs_rehash(hash.c_str(), kArgon2OpsLimit, kArgon2MemLimit) < 0) {
      return Status::Invalid("not an Argon2id hash (storectl console hash-password)");
    }
    return Status::Ok();
  }
  return Parse(hash).status();
}

bool VerifyPassword(const std::string& password, const std::string& hash) {
  if (hash.starts_with(kArgon2Prefix)) {
    if (sodium_init() < 0) return false;  // idempotent and thread-safe
    return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
  }
  auto p = Parse(hash);
  if (!p.ok()) return false;
  const std::string got = Derive(password, p->salt, p->iterations);
  return CRYPTO_memcmp(got.data(), p->hash.data(), kHashBytes) == 0;
}

}  // namespace storenode::fog
