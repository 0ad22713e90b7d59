#include "support/ledger_zs.h"

#include <catch2/catch.hpp>

#include "storenode/common/ledger.h"

namespace storenode::testing {
namespace {

std::string Bytes(const crypto::Hash& h) { return std::string(h.begin(), h.end()); }

}  // namespace

v1::SignedZ SignZ(const crypto::SigningKey& key, const std::string& z_bytes) {
  v1::SignedZ s;
  s.set_z(z_bytes);
  s.set_hash(Bytes(crypto::Sha256Of(z_bytes)));
  const crypto::Signature sig = key.Sign(crypto::AsBytes(s.hash()));
  s.set_signature(sig.data(), sig.size());
  s.set_fog_public_key(key.public_key().data(), key.public_key().size());
  return s;
}

v1::ZReport FakeFog::MakeZ(uint64_t number, const std::string& prev, int64_t net_sales) const {
  v1::ZReport z;
  z.set_store_id(store);
  z.set_business_day("2026-11-" + std::to_string(10 + number));
  z.set_z_number(number);
  z.set_kind("Z");
  z.set_created_us(1'800'000'000'000'000 + static_cast<int64_t>(number));
  z.mutable_grand_totals()->set_net_sales(net_sales);
  z.mutable_grand_totals()->set_gross_sales(net_sales + 150);
  z.mutable_grand_totals()->set_receipts(number * 7);
  z.set_prev_z_hash(prev);
  return z;
}

v1::SignedZ FakeFog::Next(int64_t net_sales) {
  v1::SignedZ s = SignZ(key, MakeZ(next, prev_hash, net_sales).SerializeAsString());
  ++next;
  prev_hash = s.hash();
  return s;
}

v1::LedgerRequest SubmitOf(const v1::SignedZ& z, uint64_t known_tree_size, uint64_t id) {
  v1::LedgerRequest r;
  r.set_request_id(id);
  *r.mutable_submit()->mutable_z() = z;
  r.mutable_submit()->set_known_tree_size(known_tree_size);
  return r;
}

v1::LedgerReceipt CheckAccepted(const v1::LedgerAnswer& a, const v1::SignedZ& z,
                                const crypto::PublicKey& ledger_key) {
  INFO((a.has_rejected() ? a.rejected().code() + ": " + a.rejected().reason() : ""));
  REQUIRE(a.has_accepted());
  const v1::LedgerReceipt& r = a.accepted().receipt();
  auto head = ledger::VerifyReceipt(r, z.z(), ledger_key);
  INFO(head.status().ToString());
  REQUIRE(head.ok());
  CHECK(r.z_hash() == z.hash());
  return r;
}

}  // namespace storenode::testing
