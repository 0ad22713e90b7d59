// The figures of vouchers, tips, cards and cashier shifts of a DayTotals
// (xreport.proto fields 40..49 and the drawers' tip payouts) as one flat
// map, "voucher:GIFT:sold" -> amount, so that two totals (the fog's Z, the
// sim's own tally) compare figure by figure and a mismatch names the
// figure. Zero figures are left out: a row missing on one side equals a
// row of zeros on the other. A cashier's drawer id and its expected cash
// are left out (the sim does not tally drawers across shifts, and a Z that
// merges tills keeps one drawer id per cashier).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "storenode/schemas/xreport.pb.h"

namespace storenode::testing {

inline std::map<std::string, int64_t> TenderFigures(const v1::DayTotals& t) {
  std::map<std::string, int64_t> out;
  auto put = [&](const std::string& key, int64_t value) {
    if (value != 0) out[key] += value;
  };
  for (const auto& v : t.vouchers()) {
    const std::string k = "voucher:" + v.voucher_type() + ":" + v.purpose() + ":";
    put(k + "sold_count", static_cast<int64_t>(v.sold_count()));
    put(k + "sold", v.sold());
    put(k + "redeemed_count", static_cast<int64_t>(v.redeemed_count()));
    put(k + "redeemed", v.redeemed());
    put(k + "offline_count", static_cast<int64_t>(v.offline_count()));
    put(k + "offline", v.offline());
  }
  put("voucher_sales", t.voucher_sales());
  put("spv_redeemed_tax", t.spv_redeemed_tax());
  put("tip_count", static_cast<int64_t>(t.tip_count()));
  put("tips", t.tips());
  put("tip_payouts", t.tip_payouts());
  for (const auto& c : t.card_schemes()) {
    const std::string k = "card:" + c.scheme() + ":";
    put(k + "count", static_cast<int64_t>(c.count()));
    put(k + "sales", c.sales());
    put(k + "refunds", c.refunds());
    put(k + "tips", c.tips());
    put(k + "offline_count", static_cast<int64_t>(c.offline_count()));
  }
  put("card_offline_count", static_cast<int64_t>(t.card_offline_count()));
  for (const auto& c : t.cashier_totals()) {
    const std::string k = "cashier:" + c.cashier() + ":";
    put(k + "shifts", static_cast<int64_t>(c.shifts()));
    put(k + "receipts", static_cast<int64_t>(c.receipts()));
    put(k + "sales", c.sales());
    put(k + "refund_count", static_cast<int64_t>(c.refund_count()));
    put(k + "refunds", c.refunds());
    put(k + "tip_count", static_cast<int64_t>(c.tip_count()));
    put(k + "tips", c.tips());
    put(k + "tip_payouts", c.tip_payouts());
  }
  put("shift_count", static_cast<int64_t>(t.shift_count()));
  for (const auto& d : t.drawers())
    put("drawer:" + d.device_id() + ":tip_payouts", d.tip_payouts());
  return out;
}

// "key: got G, want W" for each figure that differs, one per line; "" when
// the two agree (so a failed CHECK names the figures).
inline std::string FigureDiff(const std::map<std::string, int64_t>& got,
                              const std::map<std::string, int64_t>& want) {
  std::map<std::string, std::pair<int64_t, int64_t>> both;
  for (const auto& [k, v] : got) both[k].first = v;
  for (const auto& [k, v] : want) both[k].second = v;
  std::string out;
  for (const auto& [k, gw] : both) {
    if (gw.first == gw.second) continue;
    out += k + ": got " + std::to_string(gw.first) + ", want " + std::to_string(gw.second) + "\n";
  }
  return out;
}

}  // namespace storenode::testing
