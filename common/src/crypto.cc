#include "storenode/common/crypto.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <vector>

namespace storenode::crypto {
namespace {

// libsodium picks its fastest code paths in sodium_init(); thread-safe and
// idempotent.
void EnsureSodium() {
  static const bool ready = sodium_init() >= 0;
  if (!ready) throw std::runtime_error("libsodium failed to initialize");
}

}  // namespace

namespace {

// Fetched explicitly once: with an implicit fetch OpenSSL 3 looks the
// algorithm up again on every init, which costs as much as hashing a node.
// Never freed, so no static destructor can run after OpenSSL's atexit cleanup.
const EVP_MD* Sha256Md() {
  static const EVP_MD* const md = [] {
    EVP_MD* m = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (m == nullptr) throw std::runtime_error("OpenSSL SHA-256 unavailable");
    return m;
  }();
  return md;
}

// The digest contexts of finished hashes, for the next ones on this thread.
// A thread's spares are freed when it ends (the main thread's before any
// atexit handler, OpenSSL's cleanup included). Contexts are not tied to a
// thread: a Sha256 finished elsewhere gives its context to that thread.
class SpareContexts {
 public:
  ~SpareContexts() {
    for (EVP_MD_CTX* c : spares_) EVP_MD_CTX_free(c);
  }
  EVP_MD_CTX* Take() {
    if (spares_.empty()) {
      EVP_MD_CTX* c = EVP_MD_CTX_new();
      if (c == nullptr) throw std::runtime_error("OpenSSL digest context allocation failed");
      return c;
    }
    EVP_MD_CTX* c = spares_.back();
    spares_.pop_back();
    return c;
  }
  void Give(EVP_MD_CTX* c) {
    // A few live hashes at once are the most any caller has.
    if (spares_.size() >= 8) return EVP_MD_CTX_free(c);
    spares_.push_back(c);
  }

 private:
  std::vector<EVP_MD_CTX*> spares_;
};

SpareContexts& ThreadSpares() {
  thread_local SpareContexts spares;
  return spares;
}

void Check(int rc) {
  if (rc != 1) throw std::runtime_error("OpenSSL SHA-256 failed");
}

}  // namespace

Sha256::Sha256() : ctx_(ThreadSpares().Take()) {
  Check(EVP_DigestInit_ex2(ctx_, Sha256Md(), nullptr));
}

Sha256::~Sha256() { ThreadSpares().Give(ctx_); }

Sha256& Sha256::Update(Bytes data) {
  Check(EVP_DigestUpdate(ctx_, data.data(), data.size()));
  return *this;
}

Hash Sha256::Final() {
  Hash out{};
  unsigned int len = 0;
  Check(EVP_DigestFinal_ex(ctx_, out.data(), &len));
  if (len != out.size()) throw std::runtime_error("OpenSSL SHA-256 gave the wrong length");
  return out;
}

Hash Sha256Of(Bytes data) { return Sha256().Update(data).Final(); }

SigningKey SigningKey::Generate() {
  std::array<uint8_t, 32> seed{};
  RandomBytes(seed);
  return std::move(FromSeed(seed).value());
}

Result<SigningKey> SigningKey::FromSeed(Bytes seed) {
  if (seed.size() != 32) return Status::Invalid("Ed25519 seed must be 32 bytes");
  EnsureSodium();
  SigningKey key;
  std::memcpy(key.seed_.data(), seed.data(), 32);
  if (crypto_sign_seed_keypair(key.public_key_.data(), key.secret_.data(), key.seed_.data()) != 0) {
    return Status::Invalid("libsodium rejected the Ed25519 seed");
  }
  return key;
}

Result<SigningKey> SigningKey::Load(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return Status::NotFound("key file " + path + " missing");
  if ((st.st_mode & 077) != 0) {
    return Status::Precondition("key file " + path + " is readable by others (want mode 0600)");
  }
  std::ifstream in(path, std::ios::binary);
  std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (raw.size() != 32) {
    return Status::Corruption("key file " + path + " holds " + std::to_string(raw.size()) +
                              " bytes, want 32");
  }
  return FromSeed(AsBytes(raw));
}

Status SigningKey::Save(const std::string& path) const {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Io("cannot create key file " + path + ": " + std::strerror(errno));
  bool ok =
      write(fd, seed_.data(), seed_.size()) == static_cast<ssize_t>(seed_.size()) && fsync(fd) == 0;
  close(fd);
  if (!ok) return Status::Io("cannot write key file " + path);
  return Status::Ok();
}

Signature SigningKey::Sign(Bytes message) const {
  Signature sig{};
  crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(), secret_.data());
  return sig;
}

bool Verify(const PublicKey& key, Bytes message, Bytes signature) {
  if (signature.size() != 64) return false;
  EnsureSodium();
  return crypto_sign_verify_detached(signature.data(), message.data(), message.size(),
                                     key.data()) == 0;
}

void RandomBytes(std::span<uint8_t> out) {
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
    throw std::runtime_error("OpenSSL RAND_bytes failed");
  }
}

std::string ToHex(Bytes data) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(data.size() * 2);
  for (uint8_t b : data) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

Result<std::string> FromHex(std::string_view hex) {
  if (hex.size() % 2 != 0) return Status::Invalid("hex string has odd length");
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return Status::Invalid("not a hex string");
    out[i] = static_cast<char>(hi << 4 | lo);
  }
  return out;
}

Result<Hash> HashFromBytes(std::string_view raw) {
  if (raw.size() != 32) {
    return Status::Invalid("hash must be 32 bytes, got " + std::to_string(raw.size()));
  }
  Hash h{};
  std::memcpy(h.data(), raw.data(), 32);
  return h;
}

std::string Fingerprint(const PublicKey& key) {
  Hash h = Sha256Of(Bytes(key.data(), key.size()));
  std::string out;
  for (int i = 0; i < 8; ++i) {
    if (i) out += ':';
    out += ToHex(Bytes(&h[i], 1));
  }
  return out;
}

}  // namespace storenode::crypto
