// The journal's chain rules, shared by everyone who writes or checks one: the
// till that records, the fog that ingests, storectl that verifies.
//
// Invariants (see docs/FORMATS.md for the bytes):
//  1. hash = SHA-256(prev_hash || be32(len(header)) || header || body), over
//     the exact stored bytes; nothing is ever re-serialized before hashing.
//  2. prev_hash of seq 1 (genesis) is GenesisPrevHash(store, device, journal);
//     prev_hash of seq n+1 is the hash of seq n.
//  3. signature = Ed25519(device key, hash); the key is the one in the
//     genesis event.
//  4. header.seq increases by exactly one; header.kind matches the body.
#pragma once

#include <cstdint>
#include <string>

#include "storenode/common/crypto.h"
#include "storenode/common/status.h"
#include "storenode/schemas/journal.pb.h"

namespace storenode {

// The highest schema version this build understands.
inline constexpr uint32_t kSchemaVersion = 2;  // schemas/journal.proto "Schema versions"

crypto::Hash GenesisPrevHash(const std::string& store_id, const std::string& device_id,
                             const std::string& journal_id);

crypto::Hash EventHash(const crypto::Hash& prev_hash, std::string_view header,
                       std::string_view body);

// The framing every storenode hash uses for a variable-length field:
// be32(len(s)) || s. Also the fog's action journal (fog/src/closedown.cc).
void PutLengthPrefixed(crypto::Sha256& h, std::string_view s);

// Builds a signed event from header and body.
v1::JournalEvent SealEvent(const v1::EventHeader& header, const v1::EventBody& body,
                           const crypto::Hash& prev_hash, const crypto::SigningKey& key);

// An event with its header and body parsed.
struct DecodedEvent {
  v1::EventHeader header;
  v1::EventBody body;
  crypto::Hash hash{};
};

// Parses header and body and checks what can be checked without the chain:
// schema version, sizes, the hash over the stored bytes, kind vs body.
Status DecodeEvent(const v1::JournalEvent& event, DecodedEvent* out);

// Follows one journal's chain. Feed events in seq order; each must extend the
// chain and carry a valid signature. Not thread-safe.
class ChainVerifier {
 public:
  // A fresh chain that must start with the genesis event (seq 1).
  ChainVerifier() = default;
  // A chain that continues after `seq` whose hash is `hash`, signed by `key`
  // (after pruning, or where the fog left off).
  ChainVerifier(uint64_t seq, const crypto::Hash& hash, const crypto::PublicKey& key)
      : next_seq_(seq + 1), prev_hash_(hash), key_(key), have_key_(true) {}

  // Checks `event` and advances. On failure nothing changes and the Status
  // names the seq and the reason.
  Status Next(const v1::JournalEvent& event, DecodedEvent* out);

  uint64_t next_seq() const { return next_seq_; }
  const crypto::Hash& head_hash() const { return prev_hash_; }
  bool has_key() const { return have_key_; }
  const crypto::PublicKey& key() const { return key_; }
  const std::string& journal_id() const { return journal_id_; }

 private:
  uint64_t next_seq_ = 1;
  crypto::Hash prev_hash_{};
  crypto::PublicKey key_{};
  bool have_key_ = false;
  std::string journal_id_;
};

const char* KindName(v1::EventKind kind);

}  // namespace storenode
