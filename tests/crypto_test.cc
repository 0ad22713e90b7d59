#include "storenode/common/crypto.h"

#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>

using namespace storenode;
using namespace storenode::crypto;

namespace {

std::string Unhex(std::string_view h) { return FromHex(h).value(); }

}  // namespace

TEST_CASE("SHA-256 matches the FIPS 180-2 vectors", "[crypto]") {
  REQUIRE(ToHex(Sha256Of("abc")) ==
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  REQUIRE(ToHex(Sha256Of("")) ==
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Sha256 h;
  h.Update("a").Update("bc");
  REQUIRE(ToHex(h.Final()) == ToHex(Sha256Of("abc")));
}

TEST_CASE("SHA-256 matches the long FIPS 180-2 vectors, fed in any pieces", "[crypto]") {
  const std::string two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  REQUIRE(ToHex(Sha256Of(two_blocks)) ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // A million 'a's, in pieces of 1000 that straddle the 64-byte blocks.
  Sha256 million;
  const std::string piece(1000, 'a');
  for (int i = 0; i < 1000; ++i) million.Update(piece);
  REQUIRE(ToHex(million.Final()) ==
          "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("SHA-256 hashes alive at once on one thread do not mix", "[crypto]") {
  // Each Sha256 borrows a digest context from its thread's spares: two live
  // ones must hold two contexts, and a finished one must give its context back clean.
  Sha256 a;
  Sha256 b;
  a.Update("a");
  b.Update("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq");
  a.Update("bc");
  REQUIRE(ToHex(a.Final()) == ToHex(Sha256Of("abc")));
  REQUIRE(ToHex(b.Final()) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  for (int i = 0; i < 20; ++i) {
    Sha256 c;
    c.Update("abc");
    REQUIRE(ToHex(c.Final()) == ToHex(Sha256Of("abc")));
  }
  {
    Sha256 unfinished;  // given back without Final: the next hash starts afresh
    unfinished.Update("garbage");
  }
  REQUIRE(ToHex(Sha256Of("")) ==
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("Ed25519 signs as RFC 8032 says and OpenSSL agrees", "[crypto]") {
  // RFC 8032 section 7.1, TEST 2.
  std::string seed = Unhex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb");
  SigningKey key = SigningKey::FromSeed(AsBytes(seed)).value();
  REQUIRE(ToHex(key.public_key()) ==
          "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c");
  std::string msg = Unhex("72");
  Signature sig = key.Sign(AsBytes(msg));
  REQUIRE(ToHex(sig) ==
          "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
          "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00");
  REQUIRE(Verify(key.public_key(), AsBytes(msg), Bytes(sig.data(), sig.size())));

  // An independent verifier (OpenSSL) accepts the same signature.
  EVP_PKEY* pk =
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, key.public_key().data(), 32);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  REQUIRE(EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, pk) == 1);
  REQUIRE(EVP_DigestVerify(ctx, sig.data(), sig.size(),
                           reinterpret_cast<const uint8_t*>(msg.data()), msg.size()) == 1);
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(pk);

  sig[10] ^= 1;
  REQUIRE_FALSE(Verify(key.public_key(), AsBytes(msg), Bytes(sig.data(), sig.size())));
  REQUIRE_FALSE(Verify(key.public_key(), AsBytes("other"), Bytes(sig.data(), 64)));
  REQUIRE_FALSE(Verify(key.public_key(), AsBytes(msg), Bytes(sig.data(), 63)));
}

TEST_CASE("key files are written 0600, never overwritten, and refused when readable", "[crypto]") {
  std::string path = "/tmp/sn_crypto_test_" + std::to_string(::getpid()) + ".key";
  std::remove(path.c_str());
  SigningKey key = SigningKey::Generate();
  REQUIRE(key.Save(path).ok());
  REQUIRE(key.Save(path).code() == Code::kIoError);
  SigningKey loaded = SigningKey::Load(path).value();
  REQUIRE(loaded.public_key() == key.public_key());
  ::chmod(path.c_str(), 0640);
  REQUIRE(SigningKey::Load(path).status().code() == Code::kFailedPrecondition);
  std::remove(path.c_str());
}
