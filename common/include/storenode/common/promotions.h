// The promotions engine: which of the catalog's promotions a basket gets and
// each line's share of each, as a pure, deterministic function of the
// priced lines and the promotions in force (same input, same shares, at
// every till, offline). The rules, numbered as docs/FORMATS.md 10.6 states
// them, are kept in promotions.cc. Also the promotion record's own rules and
// the promotions import file. All functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "storenode/common/catalog.h"
#include "storenode/common/status.h"
#include "storenode/schemas/catalog.pb.h"
#include "storenode/schemas/journal.pb.h"

namespace storenode::promotions {

// Caps of a promotion record and of a catalog.
inline constexpr size_t kMaxIdBytes = 32;
inline constexpr size_t kMaxNameBytes = 64;
inline constexpr size_t kMaxMembers = 1000;       // skus + departments of one promotion
inline constexpr uint32_t kMaxGroupQty = 100;     // buy_qty, get_qty
inline constexpr size_t kMaxPromotions = 10'000;  // in a catalog
inline constexpr size_t kMaxLinePromotions = 16;  // LineDiscounts on one line

// One line of a basket as the engine sees it.
struct PricedLine {
  std::string sku;
  std::string department;
  int64_t qty = 0;              // whole units; 0: a measured line (no item promotion)
  int64_t unit_price = 0;       // minor units
  int64_t amount = 0;           // the line before any discount (qty * unit_price)
  int64_t manual_discount = 0;  // the cashier's; such a line takes no item promotion
};

// The shares of one line, in the order the promotions were applied.
using LineShares = std::vector<v1::LineDiscount>;

// Rule 1: is `p` in force at local wall time `local_us` (settings::Zone::ToLocal)?
bool InForce(const v1::Promotion& p, int64_t local_us);

// Rules 2-8: the shares of every line (same size and order as `lines`) from
// the promotions of `in_force` (any order; each is applied at most once).
// Every share is > 0, and a line's shares add up to at most its amount less
// its manual discount.
std::vector<LineShares> Apply(const std::vector<PricedLine>& lines,
                              const std::vector<v1::Promotion>& in_force);

// The record's own rules (FORMATS 10.6): id, name, type and the fields its
// type uses, its window. "" when valid, else the one-line reason.
std::string Check(const v1::Promotion& p);

// A recorded line's shares (till and fog): at most kMaxLinePromotions, each
// with an id of 1..kMaxIdBytes, a name of at most kMaxNameBytes and an
// amount > 0, together at most the line's discount (the rest is manual).
// "" when they are, else the one-line reason.
std::string CheckShares(const v1::SaleLine& line);

// SHA-256 of a promotion's serialized bytes under its own domain, the
// content hash input (catalog::ContentHasher) beside the items' digests.
crypto::Hash Digest(std::string_view promotion_bytes);

// A promotions import file (FORMATS 10.6): every valid row as a Promotion
// (version unset) and every bad row's reason by line. Nothing is applied
// unless `errors` is empty.
struct ParsedFile {
  std::vector<v1::Promotion> promotions;
  std::vector<uint32_t> lines;  // the line each promotion's row starts on
  std::vector<v1::CatalogRowError> errors;
};
ParsedFile ParseCsv(std::string_view csv, char delimiter, const std::string& currency);

}  // namespace storenode::promotions
