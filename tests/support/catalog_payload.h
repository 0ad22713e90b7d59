// Catalog payloads the way the fog builds them, for tests of a till's
// replica without a fog: items SKU-000000.. with barcodes 4000000000000..
#pragma once

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "storenode/common/catalog.h"
#include "storenode/common/promotions.h"
#include "storenode/schemas/catalog.pb.h"

namespace storenode::testing {

inline std::string Sku(int i) {
  char b[32];
  std::snprintf(b, sizeof b, "SKU-%06d", i);
  return b;
}

inline std::string Barcode(int i) {
  char b[32];
  std::snprintf(b, sizeof b, "400%010d", i);
  return b;
}

// Version `to` built on `from` (a snapshot when from is 0) of `items` and
// `promotions`, and its content hash.
inline std::pair<catalog::Assembler, std::string> MakePayloadOf(
    uint64_t from, uint64_t to, const std::vector<v1::CatalogItem>& items,
    const std::vector<v1::Promotion>& promotions = {}) {
  v1::CatalogPayload p;
  p.set_from_version(from);
  p.set_to_version(to);
  p.set_snapshot(from == 0);
  catalog::ContentHasher hasher;
  for (v1::CatalogItem item : items) {
    item.set_version(to);
    std::string bytes = item.SerializeAsString();
    hasher.Add(catalog::ItemDigest(bytes));
    p.add_items(bytes);
  }
  for (v1::Promotion promotion : promotions) {
    promotion.set_version(to);
    std::string bytes = promotion.SerializeAsString();
    hasher.Add(promotions::Digest(bytes));
    p.add_promotions(bytes);
  }
  p.set_promotion_count(promotions.size());
  crypto::Hash h = hasher.Final();
  std::string hash(h.begin(), h.end());
  p.set_content_hash(hash);
  p.set_item_count(items.size());
  catalog::Assembler a;
  for (const auto& c : catalog::Split(p.SerializeAsString(), from, to, 64 * 1024)) a.Add(c);
  return {std::move(a), hash};
}

// `items` items, item i at price base + i, tax A, and `promotions`.
inline std::pair<catalog::Assembler, std::string> MakePayload(
    uint64_t from, uint64_t to, int items, int64_t base,
    const std::vector<v1::Promotion>& promotions = {}) {
  std::vector<v1::CatalogItem> all;
  for (int i = 0; i < items; ++i) {
    v1::CatalogItem& item = all.emplace_back();
    item.set_sku(Sku(i));
    item.add_barcodes(Barcode(i));
    v1::CatalogEntry* e = item.add_entries();
    e->set_price(base + i);
    e->set_name("Item");
    e->set_tax_code("A");
    e->set_active(true);
  }
  return MakePayloadOf(from, to, all, promotions);
}

}  // namespace storenode::testing
