#include "storenode/common/ledger.h"

#include <algorithm>

#include "storenode/common/merkle.h"

namespace storenode::ledger {
namespace {

constexpr std::string_view kPrefix = "sn/v1/ledger/";

// VerifyTreeHead has checked that the root is 32 bytes.
crypto::Hash RootOf(const v1::TreeHead& head) { return crypto::HashFromBytes(head.root()).value(); }

}  // namespace

std::string SubmitTopic(std::string_view store) {
  return std::string(kPrefix) + std::string(store) + "/submit";
}
std::string AnswerTopic(std::string_view store) {
  return std::string(kPrefix) + std::string(store) + "/answer";
}
int64_t ResendBackoff::NextMs() {
  // splitmix64: well spread from any seed, also consecutive ones.
  state_ += 0x9e3779b97f4a7c15;
  uint64_t z = state_;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  z ^= z >> 31;
  const int64_t base = base_ms_;
  base_ms_ = std::min(base_ms_ * 2, max_ms_);
  const uint64_t half = static_cast<uint64_t>(base / 2);
  return base + (half == 0 ? 0 : static_cast<int64_t>(z % half));
}

std::string AllSubmitsTopic() { return std::string(kPrefix) + "+/submit"; }

std::string StoreOfSubmit(std::string_view topic) {
  constexpr std::string_view kSuffix = "/submit";
  if (topic.size() <= kPrefix.size() + kSuffix.size() || !topic.starts_with(kPrefix) ||
      !topic.ends_with(kSuffix)) {
    return "";
  }
  std::string_view store =
      topic.substr(kPrefix.size(), topic.size() - kPrefix.size() - kSuffix.size());
  if (store.find('/') != std::string_view::npos) return "";
  return std::string(store);
}

crypto::Hash ZLeafHash(std::string_view z_bytes) {
  return merkle::LeafHash(crypto::AsBytes(z_bytes));
}

v1::SignedTreeHead SignTreeHead(const crypto::SigningKey& key, const v1::TreeHead& head) {
  v1::SignedTreeHead sth;
  head.SerializeToString(sth.mutable_head());
  crypto::Signature sig = key.Sign(crypto::AsBytes(sth.head()));
  sth.set_signature(sig.data(), sig.size());
  sth.set_ledger_public_key(key.public_key().data(), key.public_key().size());
  return sth;
}

Result<v1::TreeHead> VerifyTreeHead(const v1::SignedTreeHead& sth,
                                    const crypto::PublicKey& ledger_key) {
  if (!crypto::Verify(ledger_key, crypto::AsBytes(sth.head()), crypto::AsBytes(sth.signature()))) {
    return Status::Corruption("tree head signature does not verify with ledger key " +
                              crypto::Fingerprint(ledger_key));
  }
  v1::TreeHead head;
  if (!head.ParseFromString(sth.head()) || head.root().size() != 32) {
    return Status::Corruption("signed tree head does not parse");
  }
  return head;
}

Status VerifyZInclusion(const v1::LedgerReceipt& receipt, std::string_view z_bytes) {
  crypto::Hash z_hash = crypto::Sha256Of(z_bytes);
  if (receipt.z_hash() != std::string_view(reinterpret_cast<const char*>(z_hash.data()), 32)) {
    return Status::Corruption("receipt is for another Z (z_hash differs)");
  }
  SN_ASSIGN_OR_RETURN(crypto::Hash root, crypto::HashFromBytes(receipt.root()));
  SN_ASSIGN_OR_RETURN(std::vector<crypto::Hash> proof, ProofFromWire(receipt.inclusion_proof()));
  Status s = merkle::VerifyInclusion(receipt.leaf_index(), receipt.tree_size(), ZLeafHash(z_bytes),
                                     proof, root);
  if (!s.ok()) {
    return Status::Corruption("inclusion proof of leaf " + std::to_string(receipt.leaf_index()) +
                              " in tree of " + std::to_string(receipt.tree_size()) +
                              " does not verify: " + s.message());
  }
  return Status::Ok();
}

Result<v1::TreeHead> VerifyReceiptHead(const v1::LedgerReceipt& receipt,
                                       const crypto::PublicKey& ledger_key) {
  SN_ASSIGN_OR_RETURN(v1::TreeHead head, VerifyTreeHead(receipt.tree_head(), ledger_key));
  if (head.tree_size() != receipt.tree_size() || head.root() != receipt.root()) {
    return Status::Corruption("receipt's tree size or root differs from its signed tree head");
  }
  return head;
}

Result<v1::TreeHead> VerifyReceipt(const v1::LedgerReceipt& receipt, std::string_view z_bytes,
                                   const crypto::PublicKey& ledger_key) {
  SN_RETURN_IF_ERROR(VerifyZInclusion(receipt, z_bytes));
  return VerifyReceiptHead(receipt, ledger_key);
}

Result<v1::TreeHead> VerifyConsistency(const v1::TreeHead& old_head,
                                       const v1::ConsistencyProof& proof,
                                       const crypto::PublicKey& ledger_key) {
  SN_ASSIGN_OR_RETURN(v1::TreeHead head, VerifyTreeHead(proof.to_head(), ledger_key));
  if (proof.from_size() != old_head.tree_size() || proof.to_size() != head.tree_size()) {
    return Status::Corruption(
        "consistency proof is for sizes " + std::to_string(proof.from_size()) + ".." +
        std::to_string(proof.to_size()) + ", want " + std::to_string(old_head.tree_size()) + ".." +
        std::to_string(head.tree_size()));
  }
  if (head.tree_size() < old_head.tree_size()) {
    return Status::Corruption("ledger tree shrank from " + std::to_string(old_head.tree_size()) +
                              " to " + std::to_string(head.tree_size()) + " leaves");
  }
  if (old_head.tree_size() == 0) return head;  // nothing was trusted yet
  if (old_head.root().size() != 32) return Status::Corruption("trusted tree head has no root");
  SN_ASSIGN_OR_RETURN(std::vector<crypto::Hash> hashes, ProofFromWire(proof.proof()));
  Status s = merkle::VerifyConsistency(old_head.tree_size(), head.tree_size(), RootOf(old_head),
                                       RootOf(head), hashes);
  if (!s.ok()) {
    return Status::Corruption(
        "ledger history changed: tree of " + std::to_string(old_head.tree_size()) +
        " is not a prefix of tree of " + std::to_string(head.tree_size()) + ": " + s.message());
  }
  return head;
}

Result<std::vector<crypto::Hash>> ProofFromWire(
    const google::protobuf::RepeatedPtrField<std::string>& wire) {
  std::vector<crypto::Hash> out;
  out.reserve(wire.size());
  for (const std::string& h : wire) {
    SN_ASSIGN_OR_RETURN(crypto::Hash hash, crypto::HashFromBytes(h));
    out.push_back(hash);
  }
  return out;
}

void ProofToWire(const std::vector<crypto::Hash>& proof,
                 google::protobuf::RepeatedPtrField<std::string>* wire) {
  wire->Clear();
  for (const crypto::Hash& h : proof) wire->Add()->assign(h.begin(), h.end());
}

}  // namespace storenode::ledger
