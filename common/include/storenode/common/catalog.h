// The catalog rules shared by the fog (master) and the tills (replicas):
// the import file format and its validation, how an import changes an item,
// which entry of an item is in force at a moment, the item and content
// hashes, and cutting a payload into chunks and reading it back.
//
// Both sides must agree on these bytes exactly, which is why they live here
// once. All functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "storenode/common/crypto.h"
#include "storenode/common/status.h"
#include "storenode/common/store_settings.h"
#include "storenode/schemas/catalog.pb.h"

namespace storenode::catalog {

// Chunk payload bytes: with the chunk's own fields the message stays well
// under 256 KiB (mosquitto and Paho defaults are far above).
inline constexpr size_t kChunkBytes = 240 * 1024;

// The defaults of an item's ReorderTerms, and the largest values taken.
inline constexpr uint32_t kDefaultLeadTimeDays = 7;
inline constexpr uint32_t kDefaultPackSize = 1;
inline constexpr uint32_t kDefaultMinOrder = 0;
inline constexpr uint32_t kMaxLeadTimeDays = 365;
inline constexpr uint32_t kMaxPackSize = 1'000'000;
inline constexpr uint32_t kMaxMinOrder = 1'000'000;
inline constexpr size_t kMaxSupplierBytes = 64;

// One valid row of an import file.
struct Row {
  uint32_t line = 0;
  std::string sku;
  std::vector<std::string> barcodes;  // empty: keep the item's barcodes
  v1::CatalogEntry entry;
  // The reorder columns given in this row (a field set only when its cell
  // is not empty); unset fields keep the item's.
  v1::ReorderTerms reorder;
  bool has_supplier = false;
};

// An item's reorder terms with every default filled in.
struct ItemReorderTerms {
  std::string supplier;  // "" : none
  uint32_t lead_time_days = kDefaultLeadTimeDays;
  uint32_t pack_size = kDefaultPackSize;
  uint32_t min_order = kDefaultMinOrder;
};
ItemReorderTerms TermsOf(const v1::CatalogItem& item);
// How a supplier is shown: "(none)" for "".
std::string SupplierName(const std::string& supplier);

struct ParsedCsv {
  std::vector<Row> rows;
  std::vector<v1::CatalogRowError> errors;  // every bad row, by line
};

// How to read an import file: the store's terms and the file's dialect.
struct CsvOptions {
  std::set<std::string> tax_codes;              // the codes of the store's tax table
  char delimiter = '\0';                        // ',' or ';'; '\0': the one the header line uses
  std::string currency;                         // ISO 4217; empty: prices with decimals are refused
  settings::Zone zone = settings::Zone::Utc();  // of an effective_from without offset
};

// Parses and checks a whole import file (docs/FORMATS.md 10.1). A leading
// byte order mark is skipped; fields are separated by `delimiter`, quoted
// fields may hold it, doubled quotes and line breaks, and every error names
// the physical line its record starts on. The header names the columns, in
// any order: sku, barcodes, name, price (or price_<currency>), tax_code,
// department, active and optionally effective_from, supplier,
// lead_time_days, pack_size, min_order (empty cells keep the item's
// value; the defaults are kDefault* above) and unit (pc, kg, l or m: how
// the item is sold and what its price is per; empty or missing: pc).
//
// Each row is checked on its own:
//  - price: in a `price` column a whole number is minor units ("249") and a
//    number with one decimal separator, '.' or ',', is major units
//    ("2,49"); in a `price_EUR` column every number is major units ("2" is
//    2.00). No more decimals than the currency has, no thousands
//    separator, not negative, and in a `price` column not a whole number
//    (but 0) beside decimal ones: "2" next to "2,49" would be a guess.
//  - tax code in `tax_codes`; active 1/0/true/false/yes/no or empty (true);
//  - effective_from empty, or as ParseTime reads it in `zone`;
//  - barcodes separated by ';' in a ','-file and by ',' in a ';'-file.
// and across the file: a sku twice with the same effective_from, a barcode
// on two skus. Blank records (a spreadsheet's ";;;;;;") are skipped.
ParsedCsv ParseCsv(std::string_view csv, const CsvOptions& options);

// One record of a ','- or ';'-separated file, as ParseCsv reads records
// (RFC 4180 quoting, unquoted fields trimmed), with the physical line it
// starts on; `error` says why it is malformed ("" when it is not).
struct CsvRecord {
  uint32_t line = 0;
  std::vector<std::string> fields;
  std::string error;
};
// Every record of `csv` but blank ones, a leading byte order mark skipped;
// `delimiter` '\0': the one the header line uses. For other files in the
// catalog's dialect (stock delivery notes and counts, fog/src/stock.h).
std::vector<CsvRecord> ReadCsvRecords(std::string_view csv, char delimiter);
// An amount of money as a `price` cell reads it: a whole number is minor
// units, one with a decimal separator major units of `currency`; >= 0.
Result<int64_t> ParseAmount(std::string_view text, const std::string& currency);

// The delimiter of a file: whichever of ';' and ',' its header line has
// more of outside quotes (a spreadsheet quotes a header cell that holds one).
char DetectDelimiter(std::string_view csv);
// An `active` cell: 1/0/true/false/yes/no (any case) or empty (true);
// false when it is none of these.
bool ParseBool(std::string_view cell, bool* out);

// The delimiter of a request: "" (detect), "," or ";".
Result<char> DelimiterOf(std::string_view text);

// An effective_from as UTC micros. With Z or an offset it is that instant:
// "2026-12-01T06:00:00Z", "2026-12-01T07:00+01:00". Without, it is local
// time in `zone`: "2026-12-01 06:00", "2026-12-01T06:00:00", and a bare
// date "2026-12-01" is the start of that local day. A local time that does
// not exist or exists twice at a DST change is resolved by
// settings::Zone::FromLocal (common/store_settings.h rule 2).
Result<int64_t> ParseTime(std::string_view text,
                          const settings::Zone& zone = settings::Zone::Utc());

// Applies the rows of one sku (any order) to `item`: the file's schedule
// replaces the item's entries from the earliest effective_from in the file
// on; earlier entries stay. Non-empty barcodes replace the item's barcodes.
void MergeRows(const std::vector<const Row*>& rows, v1::CatalogItem* item);

// The entry in force at `now_us`: the one with the greatest
// effective_from_us <= now_us; nullptr if none is yet.
const v1::CatalogEntry* EntryAt(const v1::CatalogItem& item, int64_t now_us);

// SHA-256 of an item's serialized bytes, exactly as stored and sent.
inline crypto::Hash ItemDigest(std::string_view item_bytes) { return crypto::Sha256Of(item_bytes); }

// The content hash of a catalog: SHA-256 of the sum of its item digests
// and its promotions' digests (promotions::Digest),
// each read as four little-endian 64-bit lanes added mod 2^64 (an additive
// set hash). Order does not matter, and an item that changes is taken out
// and put back in O(1): a till applies a 1,000-item delta to a
// 100,000-item replica without reading the rest, yet ends up with a hash of
// everything it holds. It detects divergence (a lost, doubled or altered
// item), not a forger: the bytes on the wire are covered by the payload's
// SHA-256, and who may publish them by the broker's ACL.
class ContentHasher {
 public:
  ContentHasher() = default;
  // From a sum saved by sum().
  static ContentHasher FromSum(std::string_view sum);
  void Add(const crypto::Hash& item_digest);
  void Remove(const crypto::Hash& item_digest);
  std::string sum() const;  // 32 bytes, to resume later
  crypto::Hash Final() const;

 private:
  uint64_t lanes_[4] = {0, 0, 0, 0};
};

// Cuts a serialized CatalogPayload into chunks of at most kChunkBytes.
std::vector<v1::CatalogChunk> Split(const std::string& payload, uint64_t from_version,
                                    uint64_t to_version, size_t chunk_bytes = kChunkBytes);

// Collects the chunks of one payload (any order, duplicates ignored).
class Assembler {
 public:
  // Starts over when the chunk belongs to another payload than the one
  // being collected.
  void Add(const v1::CatalogChunk& chunk);
  bool complete() const { return count_ > 0 && have_ == count_; }
  uint64_t from_version() const { return from_; }
  uint64_t to_version() const { return to_; }
  void Clear();
  // Once complete: checks the SHA-256 of the whole payload, then streams it.
  // `header` gets every field but the items; `on_item` sees each item's
  // bytes in order without the payload being copied or parsed whole (a
  // 100,000-item snapshot is ~6 MB of chunks on the till, nothing more).
  // `on_promotion` likewise sees each promotion's bytes (field 7), if given.
  Status Read(v1::CatalogPayload* header,
              const std::function<Status(std::string_view item)>& on_item,
              const std::function<Status(std::string_view promotion)>& on_promotion = {}) const;

 private:
  uint64_t from_ = 0, to_ = 0;
  std::string sha_;
  uint32_t count_ = 0, have_ = 0;
  std::vector<std::string> data_;
};

}  // namespace storenode::catalog
