// Tender rules: what a tender's card details and tip may hold
// (docs/FORMATS.md section 16.4), kept here once so that the till's journal
// refuses and the fog's event check quarantines the same tenders for the
// same one-line reason. Pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "storenode/schemas/journal.pb.h"

namespace storenode {

// 1..max characters of [A-Za-z0-9._-]: card ids, schemes, drawer ids.
bool IsPlainCode(std::string_view s, size_t max);

// "" when `pan` may be journaled: empty, or 12..19 of digits and '*' with
// no digit outside the first 6 and the last 4.
std::string MaskedPanProblem(std::string_view pan);

// Why tender `t` of a sale (of a refund with `refund`) may not be
// journaled for its card details or its tip; "" when it may.
std::string TenderDetailsProblem(const v1::Tender& t, bool refund);

}  // namespace storenode
