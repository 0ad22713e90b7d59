#include "storenode/common/tender_rules.h"

#include <algorithm>
#include <cctype>

#include "storenode/common/money.h"

namespace storenode {

bool IsPlainCode(std::string_view s, size_t max) {
  return !s.empty() && s.size() <= max && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

std::string MaskedPanProblem(std::string_view pan) {
  if (pan.empty()) return "";
  if (pan.size() < 12 || pan.size() > 19) {
    return "masked PAN has " + std::to_string(pan.size()) + " characters, want 12..19";
  }
  for (size_t i = 0; i < pan.size(); ++i) {
    const char c = pan[i];
    if (c != '*' && !(c >= '0' && c <= '9')) {
      return "masked PAN holds '" + std::string(1, c) + "': only digits and '*'";
    }
    if (c != '*' && i >= 6 && i + 4 < pan.size()) {
      return "masked PAN shows digit " + std::to_string(i + 1) +
             ": at most the first 6 and the last 4 digits may show, the rest must be '*'";
    }
  }
  return "";
}

std::string TenderDetailsProblem(const v1::Tender& t, bool refund) {
  if (t.has_card()) {
    const v1::CardDetails& c = t.card();
    if (t.type() != v1::CARD) return "card details on a tender that is no card";
    if (!c.scheme().empty() && !IsPlainCode(c.scheme(), 16)) {
      return "card scheme must be 1..16 of [A-Za-z0-9._-]";
    }
    if (c.terminal_id().size() > 32 || c.auth_code().size() > 16) {
      return "terminal id over 32 or auth code over 16 characters";
    }
    if (std::string why = MaskedPanProblem(c.masked_pan()); !why.empty()) return why;
  }
  if (t.tip() < 0) return "negative tip";
  if (t.tip() == 0) return "";
  if (refund) return "a refund pays back no tip";
  if (t.type() != v1::CARD) return "a tip is taken on a card tender (cash tips go to the tip jar)";
  if (t.tip() > t.amount()) {
    return "tip " + Money(t.tip()).ToString() + " is more than the amount " +
           Money(t.amount()).ToString();
  }
  return "";
}

}  // namespace storenode
