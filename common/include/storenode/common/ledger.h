// The cloud ledger's proofs, checked the same way by the fog (before it marks
// a close-down delivered), by storectl verify (offline) and by the reference
// ledger (tools/ledger): signed tree heads, receipts and consistency proofs.
// See schemas/ledger.proto for the messages and docs/ARCHITECTURE.md "Cloud ledger".
//
// All functions are pure and thread-safe; a ResendBackoff belongs to one
// thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "storenode/common/crypto.h"
#include "storenode/common/status.h"
#include "storenode/schemas/ledger.pb.h"

namespace storenode::ledger {

// Topics on the cloud broker: sn/v1/ledger/{store}/{submit|answer}.
std::string SubmitTopic(std::string_view store);
std::string AnswerTopic(std::string_view store);
// The ledger's subscription: every store's submit topic.
std::string AllSubmitsTopic();
// The store of a submit topic; empty if `topic` is not one.
std::string StoreOfSubmit(std::string_view topic);

// How a fog resends a close-down the ledger has not answered with a valid
// receipt (fog/src/forwarder.h invariant 4; `[ledger] retry_min_ms` and
// `retry_max_ms`): the base wait starts at retry_min_ms and doubles up to
// retry_max_ms; each wait is the base plus a random part of up to half of it.
// The defaults are sized for 10,000 stores closing at midnight: a receipt
// under load takes seconds (the 10,000-store burst drains in about 15 s), so
// a first resend sooner than that only multiplies the submits of Zs already
// stored, and the jitter keeps fogs that closed together from resending
// together. The bench's simulated stores (tools/bench chain) use this too.
inline constexpr int kRetryMinMs = 5000;
inline constexpr int kRetryMaxMs = 300000;

class ResendBackoff {
 public:
  // `seed` spreads the waits of different fogs (a store id's hash, the time).
  ResendBackoff(int64_t min_ms, int64_t max_ms, uint64_t seed)
      : min_ms_(min_ms), max_ms_(max_ms), base_ms_(min_ms), state_(seed) {}
  // The wait before the next send, in [base, 1.5 * base); the base doubles.
  int64_t NextMs();
  // After an answer: the next wait is from retry_min_ms again.
  void Reset() { base_ms_ = min_ms_; }

 private:
  int64_t min_ms_, max_ms_, base_ms_;
  uint64_t state_;
};

// The leaf hash of a Z in the log: SHA-256(0x00 || z bytes).
crypto::Hash ZLeafHash(std::string_view z_bytes);

// Serializes and signs `head` with the ledger's key.
v1::SignedTreeHead SignTreeHead(const crypto::SigningKey& key, const v1::TreeHead& head);

// Checks the signature of `sth` with `ledger_key` (the key the caller trusts,
// not the one the message carries) and returns the decoded head.
Result<v1::TreeHead> VerifyTreeHead(const v1::SignedTreeHead& sth,
                                    const crypto::PublicKey& ledger_key);

// Checks a receipt for the Z whose verbatim bytes are `z_bytes`: the Z hash,
// the tree head's signature, and the inclusion of the Z's leaf in that tree.
// Returns the verified head. The Status says which check failed.
Result<v1::TreeHead> VerifyReceipt(const v1::LedgerReceipt& receipt, std::string_view z_bytes,
                                   const crypto::PublicKey& ledger_key);
// VerifyReceipt's two halves, for a verifier that reports them apart:
// the Z hash and the inclusion of its leaf in the tree the receipt names...
Status VerifyZInclusion(const v1::LedgerReceipt& receipt, std::string_view z_bytes);
// ...and that tree's head: signed by `ledger_key`, same size and root.
Result<v1::TreeHead> VerifyReceiptHead(const v1::LedgerReceipt& receipt,
                                       const crypto::PublicKey& ledger_key);

// Checks that `proof` leads from `old_head` (already trusted) to its signed
// to_head, and returns that newer head. A proof to the same size needs the
// same root: a ledger that changed its history fails here.
Result<v1::TreeHead> VerifyConsistency(const v1::TreeHead& old_head,
                                       const v1::ConsistencyProof& proof,
                                       const crypto::PublicKey& ledger_key);

// Proof hashes as they travel (repeated bytes) and as merkle.h takes them.
Result<std::vector<crypto::Hash>> ProofFromWire(
    const google::protobuf::RepeatedPtrField<std::string>& wire);
void ProofToWire(const std::vector<crypto::Hash>& proof,
                 google::protobuf::RepeatedPtrField<std::string>* wire);

}  // namespace storenode::ledger
