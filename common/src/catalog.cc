#include "storenode/common/catalog.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/wire_format_lite.h>

#include <algorithm>
#include <limits>
#include <memory>

namespace storenode::catalog {

void MergeRows(const std::vector<const Row*>& rows, v1::CatalogItem* item) {
  if (rows.empty()) return;
  std::vector<const Row*> sorted = rows;
  std::sort(sorted.begin(), sorted.end(), [](const Row* a, const Row* b) {
    return a->entry.effective_from_us() < b->entry.effective_from_us();
  });
  int64_t from = sorted.front()->entry.effective_from_us();
  google::protobuf::RepeatedPtrField<v1::CatalogEntry> kept;
  for (const v1::CatalogEntry& e : item->entries()) {
    if (e.effective_from_us() < from) *kept.Add() = e;
  }
  std::vector<std::string> codes;
  for (const Row* r : sorted) {
    *kept.Add() = r->entry;
    for (const std::string& c : r->barcodes) {
      if (std::find(codes.begin(), codes.end(), c) == codes.end()) codes.push_back(c);
    }
  }
  for (const Row* r : sorted) {
    v1::ReorderTerms* t = item->mutable_reorder();
    if (r->has_supplier) t->set_supplier(r->reorder.supplier());
    if (r->reorder.has_lead_time_days()) t->set_lead_time_days(r->reorder.lead_time_days());
    if (r->reorder.has_pack_size()) t->set_pack_size(r->reorder.pack_size());
    if (r->reorder.has_min_order()) t->set_min_order(r->reorder.min_order());
  }
  // An item without reorder columns stays byte-identical to before they
  // existed (its digest and the content hash do not move).
  if (item->reorder().ByteSizeLong() == 0) item->clear_reorder();
  item->set_sku(sorted.front()->sku);
  *item->mutable_entries() = std::move(kept);
  if (!codes.empty()) {
    std::sort(codes.begin(), codes.end());
    item->clear_barcodes();
    for (std::string& c : codes) item->add_barcodes(std::move(c));
  }
}

ItemReorderTerms TermsOf(const v1::CatalogItem& item) {
  const v1::ReorderTerms& t = item.reorder();
  ItemReorderTerms out;
  out.supplier = t.supplier();
  if (t.has_lead_time_days()) out.lead_time_days = t.lead_time_days();
  if (t.has_pack_size()) out.pack_size = t.pack_size();
  if (t.has_min_order()) out.min_order = t.min_order();
  return out;
}

std::string SupplierName(const std::string& supplier) {
  return supplier.empty() ? "(none)" : supplier;
}

const v1::CatalogEntry* EntryAt(const v1::CatalogItem& item, int64_t now_us) {
  const v1::CatalogEntry* best = nullptr;
  for (const v1::CatalogEntry& e : item.entries()) {
    if (e.effective_from_us() <= now_us &&
        (!best || e.effective_from_us() >= best->effective_from_us())) {
      best = &e;
    }
  }
  return best;
}

namespace {

uint64_t Lane(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

ContentHasher ContentHasher::FromSum(std::string_view sum) {
  ContentHasher h;
  if (sum.size() == 32) {
    for (int i = 0; i < 4; ++i)
      h.lanes_[i] = Lane(reinterpret_cast<const uint8_t*>(sum.data()) + 8 * i);
  }
  return h;
}

void ContentHasher::Add(const crypto::Hash& d) {
  for (int i = 0; i < 4; ++i) lanes_[i] += Lane(d.data() + 8 * i);
}

void ContentHasher::Remove(const crypto::Hash& d) {
  for (int i = 0; i < 4; ++i) lanes_[i] -= Lane(d.data() + 8 * i);
}

std::string ContentHasher::sum() const {
  std::string out(32, '\0');
  for (int i = 0; i < 4; ++i) {
    for (int b = 0; b < 8; ++b) out[8 * i + b] = static_cast<char>(lanes_[i] >> (8 * b));
  }
  return out;
}

crypto::Hash ContentHasher::Final() const { return crypto::Sha256Of(sum()); }

std::vector<v1::CatalogChunk> Split(const std::string& payload, uint64_t from_version,
                                    uint64_t to_version, size_t chunk_bytes) {
  crypto::Hash sha = crypto::Sha256Of(payload);
  uint32_t count =
      static_cast<uint32_t>(std::max<size_t>(1, (payload.size() + chunk_bytes - 1) / chunk_bytes));
  std::vector<v1::CatalogChunk> out(count);
  for (uint32_t i = 0; i < count; ++i) {
    v1::CatalogChunk& c = out[i];
    c.set_from_version(from_version);
    c.set_to_version(to_version);
    c.set_index(i);
    c.set_count(count);
    c.set_payload_sha256(sha.data(), sha.size());
    size_t at = size_t{i} * chunk_bytes;
    if (at < payload.size()) c.set_data(payload.substr(at, chunk_bytes));
  }
  return out;
}

void Assembler::Clear() {
  from_ = to_ = 0;
  sha_.clear();
  count_ = have_ = 0;
  data_.clear();
}

void Assembler::Add(const v1::CatalogChunk& c) {
  if (c.count() == 0 || c.index() >= c.count()) return;
  if (c.from_version() != from_ || c.to_version() != to_ || c.payload_sha256() != sha_ ||
      c.count() != count_) {
    Clear();
    from_ = c.from_version();
    to_ = c.to_version();
    sha_ = c.payload_sha256();
    count_ = c.count();
    data_.assign(count_, std::string());
  }
  if (!data_[c.index()].empty() || (c.data().empty() && count_ > 1)) return;
  data_[c.index()] = c.data();
  ++have_;
}

Status Assembler::Read(
    v1::CatalogPayload* header, const std::function<Status(std::string_view item)>& on_item,
    const std::function<Status(std::string_view promotion)>& on_promotion) const {
  if (!complete()) return Status::Precondition("catalog payload incomplete");
  crypto::Sha256 sha;
  for (const std::string& d : data_) sha.Update(d);
  crypto::Hash got = sha.Final();
  if (std::string(got.begin(), got.end()) != sha_) {
    return Status::Corruption("catalog payload hash mismatch");
  }
  namespace io = google::protobuf::io;
  std::vector<std::unique_ptr<io::ArrayInputStream>> parts;
  std::vector<io::ZeroCopyInputStream*> raw;
  for (const std::string& d : data_) {
    parts.push_back(std::make_unique<io::ArrayInputStream>(d.data(), static_cast<int>(d.size())));
    raw.push_back(parts.back().get());
  }
  io::ConcatenatingInputStream all(raw.data(), static_cast<int>(raw.size()));
  io::CodedInputStream in(&all);
  in.SetTotalBytesLimit(std::numeric_limits<int>::max());
  header->Clear();
  std::string bytes;
  while (uint32_t tag = in.ReadTag()) {
    const int field = static_cast<int>(tag >> 3);
    const auto wire = tag & 7;
    uint64_t v = 0;
    if (wire == 0) {
      if (!in.ReadVarint64(&v)) return Status::Corruption("catalog payload truncated");
      if (field == 1) header->set_from_version(v);
      if (field == 2) header->set_to_version(v);
      if (field == 3) header->set_snapshot(v != 0);
      if (field == 5) header->set_item_count(v);
      if (field == 8) header->set_promotion_count(v);
    } else if (wire == 2) {
      uint32_t len = 0;
      if (!in.ReadVarint32(&len) || !in.ReadString(&bytes, static_cast<int>(len))) {
        return Status::Corruption("catalog payload truncated");
      }
      if (field == 4) header->set_content_hash(bytes);
      if (field == 6) SN_RETURN_IF_ERROR(on_item(bytes));
      if (field == 7 && on_promotion) SN_RETURN_IF_ERROR(on_promotion(bytes));
    } else if (!google::protobuf::internal::WireFormatLite::SkipField(&in, tag)) {
      return Status::Corruption("catalog payload does not parse");
    }
  }
  if (!in.ConsumedEntireMessage()) return Status::Corruption("catalog payload does not parse");
  return Status::Ok();
}

}  // namespace storenode::catalog
