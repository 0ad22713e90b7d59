#include "storenode/common/journal_format.h"

#include <cstring>

namespace storenode {

void PutLengthPrefixed(crypto::Sha256& h, std::string_view s) {
  uint8_t len[4] = {static_cast<uint8_t>(s.size() >> 24), static_cast<uint8_t>(s.size() >> 16),
                    static_cast<uint8_t>(s.size() >> 8), static_cast<uint8_t>(s.size())};
  h.Update(crypto::Bytes(len, 4)).Update(s);
}

namespace {

// The body member that each kind must carry.
v1::EventBody::BodyCase BodyCaseFor(v1::EventKind kind) {
  switch (kind) {
    case v1::GENESIS:
      return v1::EventBody::kGenesis;
    case v1::SALE:
      return v1::EventBody::kSale;
    case v1::REFUND:
      return v1::EventBody::kRefund;
    case v1::VOID:
      return v1::EventBody::kVoidReceipt;
    case v1::CASH_MOVEMENT:
      return v1::EventBody::kCashMovement;
    case v1::NO_SALE:
      return v1::EventBody::kNoSale;
    case v1::DAY_SEALED:
      return v1::EventBody::kDaySealed;
    case v1::EXCHANGE:
      return v1::EventBody::kExchange;
    case v1::SIGN_ON:
    case v1::SIGN_OFF:
      return v1::EventBody::kShift;
    default:
      return v1::EventBody::BODY_NOT_SET;
  }
}

std::string SeqPrefix(uint64_t seq) { return "seq " + std::to_string(seq) + ": "; }

}  // namespace

crypto::Hash GenesisPrevHash(const std::string& store_id, const std::string& device_id,
                             const std::string& journal_id) {
  crypto::Sha256 h;
  h.Update("storenode-genesis-v1");
  PutLengthPrefixed(h, store_id);
  PutLengthPrefixed(h, device_id);
  PutLengthPrefixed(h, journal_id);
  return h.Final();
}

crypto::Hash EventHash(const crypto::Hash& prev_hash, std::string_view header,
                       std::string_view body) {
  crypto::Sha256 h;
  h.Update(crypto::Bytes(prev_hash.data(), prev_hash.size()));
  PutLengthPrefixed(h, header);
  h.Update(body);
  return h.Final();
}

v1::JournalEvent SealEvent(const v1::EventHeader& header, const v1::EventBody& body,
                           const crypto::Hash& prev_hash, const crypto::SigningKey& key) {
  v1::JournalEvent ev;
  header.SerializeToString(ev.mutable_header());
  body.SerializeToString(ev.mutable_body());
  crypto::Hash hash = EventHash(prev_hash, ev.header(), ev.body());
  crypto::Signature sig = key.Sign(crypto::Bytes(hash.data(), hash.size()));
  ev.set_prev_hash(prev_hash.data(), prev_hash.size());
  ev.set_hash(hash.data(), hash.size());
  ev.set_signature(sig.data(), sig.size());
  return ev;
}

Status DecodeEvent(const v1::JournalEvent& event, DecodedEvent* out) {
  if (!out->header.ParseFromString(event.header())) {
    return Status::Corruption("event header does not parse");
  }
  const v1::EventHeader& h = out->header;
  std::string at = SeqPrefix(h.seq());
  if (h.schema_version() == 0 || h.schema_version() > kSchemaVersion) {
    return Status::Invalid(at + "schema version " + std::to_string(h.schema_version()) +
                           " is not supported (this build knows 1.." +
                           std::to_string(kSchemaVersion) + ")");
  }
  if (event.prev_hash().size() != 32 || event.hash().size() != 32 ||
      event.signature().size() != 64) {
    return Status::Corruption(at + "prev_hash, hash or signature has the wrong size");
  }
  crypto::Hash prev = crypto::HashFromBytes(event.prev_hash()).value();
  out->hash = EventHash(prev, event.header(), event.body());
  if (std::memcmp(out->hash.data(), event.hash().data(), 32) != 0) {
    return Status::Corruption(at + "hash does not match the stored bytes");
  }
  if (!out->body.ParseFromString(event.body())) {
    return Status::Corruption(at + "event body does not parse");
  }
  v1::EventBody::BodyCase want = BodyCaseFor(h.kind());
  if (want == v1::EventBody::BODY_NOT_SET) {
    return Status::Invalid(at + "unknown event kind " + std::to_string(h.kind()));
  }
  if (out->body.body_case() != want) {
    return Status::Corruption(at + "body does not match kind " + KindName(h.kind()));
  }
  if (h.schema_version() < 2 && h.kind() > v1::DAY_SEALED) {
    return Status::Invalid(at + "kind " + KindName(h.kind()) +
                           " needs schema version 2, the event has " +
                           std::to_string(h.schema_version()));
  }
  return Status::Ok();
}

Status ChainVerifier::Next(const v1::JournalEvent& event, DecodedEvent* out) {
  SN_RETURN_IF_ERROR(DecodeEvent(event, out));
  const v1::EventHeader& h = out->header;
  std::string at = SeqPrefix(h.seq());
  if (h.seq() != next_seq_) {
    return Status::Corruption("seq " + std::to_string(next_seq_) + ": missing (found seq " +
                              std::to_string(h.seq()) + " instead)");
  }
  crypto::PublicKey key = key_;
  crypto::Hash expected_prev = prev_hash_;
  if (h.seq() == 1) {
    if (h.kind() != v1::GENESIS) return Status::Corruption(at + "first event is not genesis");
    const std::string& pk = out->body.genesis().public_key();
    if (pk.size() != 32) return Status::Corruption(at + "genesis public key is not 32 bytes");
    std::memcpy(key.data(), pk.data(), 32);
    expected_prev = GenesisPrevHash(h.store_id(), h.device_id(), h.journal_id());
  } else {
    if (!have_key_) return Status::Precondition(at + "no key known for this chain");
    if (h.kind() == v1::GENESIS) return Status::Corruption(at + "genesis event after seq 1");
    if (h.journal_id() != journal_id_ && !journal_id_.empty()) {
      return Status::Corruption(at + "journal id differs from the chain's");
    }
  }
  if (std::memcmp(expected_prev.data(), event.prev_hash().data(), 32) != 0) {
    return Status::Corruption(at + "prev_hash does not link to the previous event");
  }
  if (!crypto::Verify(key, crypto::AsBytes(event.hash()), crypto::AsBytes(event.signature()))) {
    return Status::Corruption(at + "bad signature");
  }
  key_ = key;
  have_key_ = true;
  journal_id_ = h.journal_id();
  prev_hash_ = out->hash;
  ++next_seq_;
  return Status::Ok();
}

const char* KindName(v1::EventKind kind) {
  switch (kind) {
    case v1::GENESIS:
      return "GENESIS";
    case v1::SALE:
      return "SALE";
    case v1::REFUND:
      return "REFUND";
    case v1::VOID:
      return "VOID";
    case v1::CASH_MOVEMENT:
      return "CASH_MOVEMENT";
    case v1::NO_SALE:
      return "NO_SALE";
    case v1::DAY_SEALED:
      return "DAY_SEALED";
    case v1::EXCHANGE:
      return "EXCHANGE";
    case v1::SIGN_ON:
      return "SIGN_ON";
    case v1::SIGN_OFF:
      return "SIGN_OFF";
    default:
      return "UNKNOWN";
  }
}

}  // namespace storenode
