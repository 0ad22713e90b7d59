#include "storenode/common/catalog.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/wire_format_lite.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <map>
#include <memory>

#include "storenode/common/clock.h"

namespace storenode::catalog {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// Splits one CSV line (RFC 4180 quoting, no line breaks inside fields).
Result<std::vector<std::string>> SplitLine(std::string_view line) {
  std::vector<std::string> out;
  size_t i = 0;
  while (true) {
    std::string field;
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i < line.size() && line[i] == '"') {
      ++i;
      while (true) {
        if (i >= line.size()) return Status::Invalid("unterminated quoted field");
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field += line[i++];
      }
      while (i < line.size() && line[i] != ',') {
        if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r') {
          return Status::Invalid("text after a quoted field");
        }
        ++i;
      }
    } else {
      size_t end = line.find(',', i);
      if (end == std::string_view::npos) end = line.size();
      field = std::string(Trim(line.substr(i, end - i)));
      i = end;
    }
    out.push_back(std::move(field));
    if (i >= line.size()) break;
    ++i;  // the comma
  }
  return out;
}

bool ParseInt(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool ParseBool(std::string_view s, bool* out) {
  std::string v(s);
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
  if (v.empty() || v == "1" || v == "true" || v == "yes") {
    *out = true;
  } else if (v == "0" || v == "false" || v == "no") {
    *out = false;
  } else {
    return false;
  }
  return true;
}

bool PlainCode(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return c > ' ' && c != ',' && c != ';' && c != '"' && c < 0x7f;
  });
}

enum Column { kSku, kBarcodes, kName, kPrice, kTaxCode, kDepartment, kActive, kEffective, kCount };
constexpr const char* kColumnNames[kCount] = {"sku",      "barcodes",   "name",   "price",
                                              "tax_code", "department", "active", "effective_from"};

}  // namespace

Result<int64_t> ParseTime(std::string_view text) {
  std::string t(Trim(text));
  auto bad = Status::Invalid("bad time '" + t + "' (want YYYY-MM-DDTHH:MM:SSZ)");
  if (t.size() < 10) return bad;
  int64_t day = DayStartMicros(t.substr(0, 10));
  if (day < 0) return bad;
  if (t.size() == 10) return day;
  // "YYYY-MM-DDTHH:MM:SSZ"
  if (t.size() != 20 || t[10] != 'T' || t[13] != ':' || t[16] != ':' || t[19] != 'Z') return bad;
  int64_t h = 0, m = 0, s = 0;
  if (!ParseInt(std::string_view(t).substr(11, 2), &h) ||
      !ParseInt(std::string_view(t).substr(14, 2), &m) ||
      !ParseInt(std::string_view(t).substr(17, 2), &s) || h > 23 || m > 59 || s > 59 || h < 0 ||
      m < 0 || s < 0) {
    return bad;
  }
  return day + ((h * 60 + m) * 60 + s) * 1'000'000;
}

ParsedCsv ParseCsv(std::string_view csv, const std::set<std::string>& tax_codes) {
  ParsedCsv out;
  auto error = [&](uint32_t line, std::string reason) {
    v1::CatalogRowError& e = out.errors.emplace_back();
    e.set_line(line);
    e.set_reason(std::move(reason));
  };
  int index[kCount];
  std::fill(std::begin(index), std::end(index), -1);
  size_t columns = 0;
  bool header = false;
  // (sku, effective_from) -> line; barcode -> (sku, line)
  std::map<std::pair<std::string, int64_t>, uint32_t> skus;
  std::map<std::string, std::pair<std::string, uint32_t>> barcodes;
  uint32_t line_no = 0;
  size_t pos = 0;
  if (csv.substr(0, 3) == "\xEF\xBB\xBF") pos = 3;  // a spreadsheet's byte order mark
  while (pos < csv.size()) {
    size_t end = csv.find('\n', pos);
    if (end == std::string_view::npos) end = csv.size();
    std::string_view line = csv.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (Trim(line).empty()) continue;
    auto fields = SplitLine(line);
    if (!fields.ok()) {
      error(line_no, fields.status().message());
      continue;
    }
    if (!header) {
      header = true;
      columns = fields->size();
      for (size_t i = 0; i < fields->size(); ++i) {
        std::string name = (*fields)[i];
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return std::tolower(c); });
        if (name == "barcode") name = "barcodes";
        if (name == "tax") name = "tax_code";
        auto known = std::find(std::begin(kColumnNames), std::end(kColumnNames), name);
        if (known == std::end(kColumnNames)) {
          error(line_no, "unknown column '" + (*fields)[i] + "'");
          continue;
        }
        index[known - std::begin(kColumnNames)] = static_cast<int>(i);
      }
      for (int c = 0; c < kEffective; ++c) {
        if (index[c] < 0) error(line_no, std::string("missing column '") + kColumnNames[c] + "'");
      }
      if (!out.errors.empty()) return out;
      continue;
    }
    if (fields->size() != columns) {
      error(line_no, "has " + std::to_string(fields->size()) + " fields, the header " +
                         std::to_string(columns));
      continue;
    }
    auto field = [&](Column c) -> const std::string& {
      static const std::string kEmpty;
      return index[c] < 0 ? kEmpty : (*fields)[index[c]];
    };
    size_t errors_before = out.errors.size();
    Row row;
    row.line = line_no;
    row.sku = field(kSku);
    if (!PlainCode(row.sku)) error(line_no, "sku '" + row.sku + "' is empty or has blanks");
    v1::CatalogEntry& e = row.entry;
    int64_t price = 0;
    if (!ParseInt(field(kPrice), &price)) {
      error(line_no, "price '" + field(kPrice) + "' is not a whole number of minor units");
    } else if (price < 0) {
      error(line_no, "negative price " + field(kPrice));
    }
    e.set_price(price);
    e.set_name(field(kName));
    if (e.name().empty()) error(line_no, "name is empty");
    e.set_tax_code(field(kTaxCode));
    if (!tax_codes.count(e.tax_code())) {
      error(line_no, "unknown tax code '" + e.tax_code() + "'");
    }
    e.set_department(field(kDepartment));
    bool active = true;
    if (!ParseBool(field(kActive), &active)) {
      error(line_no, "active '" + field(kActive) + "' is not 1/0/true/false/yes/no");
    }
    e.set_active(active);
    if (!field(kEffective).empty()) {
      auto t = ParseTime(field(kEffective));
      if (t.ok()) {
        e.set_effective_from_us(*t);
      } else {
        error(line_no, t.status().message());
      }
    }
    std::string_view codes = field(kBarcodes);
    while (!codes.empty()) {
      size_t semi = codes.find(';');
      std::string_view code = Trim(codes.substr(0, semi));
      codes = semi == std::string_view::npos ? std::string_view() : codes.substr(semi + 1);
      if (code.empty()) continue;
      if (!PlainCode(code)) {
        error(line_no, "barcode '" + std::string(code) + "' has blanks or separators");
        continue;
      }
      row.barcodes.emplace_back(code);
    }
    if (out.errors.size() > errors_before) continue;
    auto [it, fresh] = skus.emplace(std::make_pair(row.sku, e.effective_from_us()), line_no);
    if (!fresh) {
      error(line_no, "duplicate sku " + row.sku + " (also on line " + std::to_string(it->second) +
                         (e.effective_from_us() ? " with the same effective_from)" : ")"));
      continue;
    }
    bool dup = false;
    for (const std::string& code : row.barcodes) {
      auto [b, added] = barcodes.emplace(code, std::make_pair(row.sku, line_no));
      if (!added && b->second.first != row.sku) {
        error(line_no, "duplicate barcode " + code + " (also on line " +
                           std::to_string(b->second.second) + ", sku " + b->second.first + ")");
        dup = true;
      }
    }
    if (!dup) out.rows.push_back(std::move(row));
  }
  if (!header) error(1, "the file is empty (want a header line: sku,barcodes,name,...)");
  return out;
}

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
  item->set_sku(sorted.front()->sku);
  *item->mutable_entries() = std::move(kept);
  if (!codes.empty()) {
    std::sort(codes.begin(), codes.end());
    item->clear_barcodes();
    for (std::string& c : codes) item->add_barcodes(std::move(c));
  }
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

Status Assembler::Read(v1::CatalogPayload* header,
                       const std::function<Status(std::string_view item)>& on_item) const {
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
    } else if (wire == 2) {
      uint32_t len = 0;
      if (!in.ReadVarint32(&len) || !in.ReadString(&bytes, static_cast<int>(len))) {
        return Status::Corruption("catalog payload truncated");
      }
      if (field == 4) header->set_content_hash(bytes);
      if (field == 6) SN_RETURN_IF_ERROR(on_item(bytes));
    } else if (!google::protobuf::internal::WireFormatLite::SkipField(&in, tag)) {
      return Status::Corruption("catalog payload does not parse");
    }
  }
  if (!in.ConsumedEntireMessage()) return Status::Corruption("catalog payload does not parse");
  return Status::Ok();
}

}  // namespace storenode::catalog
