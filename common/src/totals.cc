#include "storenode/common/totals.h"

#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

#include "storenode/common/fx.h"
#include "storenode/common/lines.h"

namespace storenode {
namespace {

// One row per (code, rate); the name is the first one seen (lines of
// journals from before store settings have none).
v1::TaxTotal* TaxRow(v1::DayTotals* t, const std::string& code, int32_t rate_bp,
                     const std::string& name) {
  v1::TaxTotal* row = nullptr;
  for (auto& r : *t->mutable_taxes()) {
    if (r.tax_code() == code && r.rate_bp() == rate_bp) {
      row = &r;
      break;
    }
  }
  if (row == nullptr) {
    row = t->add_taxes();
    row->set_tax_code(code);
    row->set_rate_bp(rate_bp);
  }
  if (row->name().empty()) row->set_name(name);
  return row;
}

// The row of `rows` whose key (the string `key(row)` points to) is
// `value`, added when there is none.
template <class Row, class Key>
Row* RowOf(google::protobuf::RepeatedPtrField<Row>* rows, const std::string& value, Key key) {
  for (Row& row : *rows) {
    if (*key(row) == value) return &row;
  }
  Row* row = rows->Add();
  *key(*row) = value;
  return row;
}

v1::TenderTotal* TenderRow(v1::DayTotals* t, const std::string& type) {
  return RowOf(t->mutable_tenders(), type, [](auto& r) { return r.mutable_type(); });
}

v1::DrawerTotal* DrawerRow(v1::DayTotals* t, const std::string& device) {
  return RowOf(t->mutable_drawers(), device, [](auto& r) { return r.mutable_device_id(); });
}

// --- Vouchers, tips, cards and cashier shifts (docs/FORMATS.md "Vouchers,
// gift cards and tips", "Card details", "Cashier shifts") ---

bool IsMpvLine(const v1::SaleLine& line) {
  return line.has_voucher() && line.voucher().purpose() == v1::MULTI_PURPOSE;
}

// The drawer an event's cash is in: the shift's cashier drawer, else the
// till's.
const std::string& DrawerOf(const v1::EventHeader& h) {
  return h.drawer_id().empty() ? h.device_id() : h.drawer_id();
}

const char* PurposeName(v1::VoucherPurpose p) {
  return p == v1::SINGLE_PURPOSE ? "SPV" : p == v1::MULTI_PURPOSE ? "MPV" : "";
}

v1::VoucherTotal* VoucherRow(v1::DayTotals* t, const std::string& type,
                             const std::string& purpose) {
  v1::VoucherTotal* row =
      RowOf(t->mutable_vouchers(), type, [](auto& r) { return r.mutable_voucher_type(); });
  if (row->purpose().empty()) row->set_purpose(purpose);
  return row;
}

v1::CardSchemeTotal* SchemeRow(v1::DayTotals* t, const std::string& scheme) {
  return RowOf(t->mutable_card_schemes(), scheme, [](auto& r) { return r.mutable_scheme(); });
}

v1::CashierDayTotal* CashierRow(v1::DayTotals* t, const std::string& cashier) {
  return RowOf(t->mutable_cashier_totals(), cashier, [](auto& r) { return r.mutable_cashier(); });
}

// The voucher lines a sale loads cards with.
void AddVoucherLines(const v1::Sale& s, v1::DayTotals* t) {
  for (const v1::SaleLine& line : s.lines()) {
    if (!line.has_voucher()) continue;
    v1::VoucherTotal* v =
        VoucherRow(t, line.voucher().voucher_type(), PurposeName(line.voucher().purpose()));
    v->set_sold_count(v->sold_count() + 1);
    v->set_sold(v->sold() + line.gross());
    t->set_voucher_sales(t->voucher_sales() + line.gross());
  }
}

// Card details, tips and voucher redemptions of a receipt's tenders.
void AddTenderDetails(const google::protobuf::RepeatedPtrField<v1::Tender>& tenders, bool refund,
                      v1::CashierDayTotal* cashier, v1::DayTotals* t) {
  for (const v1::Tender& tender : tenders) {
    if (tender.type() == v1::CARD) {
      v1::CardSchemeTotal* c = SchemeRow(t, tender.card().scheme());
      c->set_count(c->count() + 1);
      if (refund) {
        c->set_refunds(c->refunds() + tender.amount());
      } else {
        c->set_sales(c->sales() + tender.amount());
      }
      c->set_tips(c->tips() + tender.tip());
      if (tender.card().offline_auth()) {
        c->set_offline_count(c->offline_count() + 1);
        t->set_card_offline_count(t->card_offline_count() + 1);
      }
    }
    if (tender.tip() > 0) {
      t->set_tip_count(t->tip_count() + 1);
      t->set_tips(t->tips() + tender.tip());
      cashier->set_tip_count(cashier->tip_count() + 1);
      cashier->set_tips(cashier->tips() + tender.tip());
    }
    if (tender.type() == v1::VOUCHER && tender.has_voucher() && !refund) {
      const v1::VoucherRedemption& r = tender.voucher();
      v1::VoucherTotal* v = VoucherRow(t, r.voucher_type(), PurposeName(r.purpose()));
      v->set_redeemed_count(v->redeemed_count() + 1);
      v->set_redeemed(v->redeemed() + tender.amount());
      if (r.offline()) {
        v->set_offline_count(v->offline_count() + 1);
        v->set_offline(v->offline() + tender.amount());
      }
      if (r.purpose() == v1::SINGLE_PURPOSE) {
        // Its tax was booked when it was sold: the goods it pays for leave
        // the tax table by its amount and the tax that amount includes.
        v1::TaxTotal* row = TaxRow(t, r.tax_code(), r.tax_rate_bp(), "");
        row->set_gross(row->gross() - tender.amount());
        row->set_tax(row->tax() - r.tax());
        row->set_net(row->gross() - row->tax());
        t->set_spv_redeemed_tax(t->spv_redeemed_tax() + r.tax());
      }
    }
  }
}

// The figures of this section for one event.
void AddTenderArea(const DecodedEvent& e, v1::DayTotals* t) {
  const v1::EventHeader& h = e.header;
  switch (h.kind()) {
    case v1::SALE: {
      const v1::Sale& s = e.body.sale();
      v1::CashierDayTotal* c = CashierRow(t, s.cashier());
      c->set_receipts(c->receipts() + 1);
      c->set_sales(c->sales() + s.total());
      AddVoucherLines(s, t);
      AddTenderDetails(s.tenders(), false, c, t);
      break;
    }
    case v1::REFUND: {
      const v1::Refund& r = e.body.refund();
      v1::CashierDayTotal* c = CashierRow(t, r.cashier());
      c->set_refund_count(c->refund_count() + 1);
      c->set_refunds(c->refunds() + r.total());
      AddTenderDetails(r.tenders(), true, c, t);
      break;
    }
    case v1::CASH_MOVEMENT: {
      const v1::CashMovement& m = e.body.cash_movement();
      if (m.type() != v1::TIP_PAYOUT) break;
      v1::DrawerTotal* d = DrawerRow(t, DrawerOf(h));
      d->set_tip_payouts(d->tip_payouts() + m.amount());
      t->set_tip_payouts(t->tip_payouts() + m.amount());
      v1::CashierDayTotal* c = CashierRow(t, m.cashier());
      c->set_tip_payouts(c->tip_payouts() + m.amount());
      break;
    }
    case v1::SIGN_ON: {
      const v1::CashierShift& shift = e.body.shift();
      v1::CashierDayTotal* c = CashierRow(t, shift.cashier());
      c->set_shifts(c->shifts() + 1);
      if (shift.drawer() == v1::DRAWER_CASHIER) c->set_drawer_id(shift.drawer_id());
      t->set_shift_count(t->shift_count() + 1);
      break;
    }
    default:
      break;
  }
}

// Foreign cash and exchanges (fx.h): one row per currency, one foreign
// drawer per (device, currency).
v1::FxTotal* FxRow(v1::DayTotals* t, const std::string& currency) {
  for (auto& row : *t->mutable_fx()) {
    if (row.currency() == currency) return &row;
  }
  v1::FxTotal* row = t->add_fx();
  row->set_currency(currency);
  return row;
}

v1::ForeignDrawer* ForeignDrawerRow(v1::DayTotals* t, const std::string& device,
                                    const std::string& currency) {
  for (auto& row : *t->mutable_foreign_drawers()) {
    if (row.device_id() == device && row.currency() == currency) return &row;
  }
  v1::ForeignDrawer* row = t->add_foreign_drawers();
  row->set_device_id(device);
  row->set_currency(currency);
  return row;
}

// A sale's foreign-cash tender: the notes go into the foreign drawer, their
// home value `tendered` leaves the home drawer's figure (cash_sales took the
// amount, so the home drawer is down by the change); bought at the buy rate,
// they add their margin against mid.
void AddForeignTender(const v1::Tender& tender, const std::string& device, v1::DayTotals* t) {
  const v1::ForeignCash& f = tender.foreign();
  const int64_t margin = fx::Margin(tender);
  v1::FxTotal* row = FxRow(t, f.currency());
  row->set_tendered_count(row->tendered_count() + 1);
  row->set_tendered_foreign(row->tendered_foreign() + f.foreign_tendered());
  row->set_tendered_home(row->tendered_home() + tender.tendered());
  row->set_margin(row->margin() + margin);
  t->set_fx_margin(t->fx_margin() + margin);
  v1::ForeignDrawer* fd = ForeignDrawerRow(t, device, f.currency());
  fd->set_received(fd->received() + f.foreign_tendered());
  v1::DrawerTotal* d = DrawerRow(t, device);
  d->set_fx_cash(d->fx_cash() - tender.tendered());
}

void AddExchange(const v1::Exchange& e, const std::string& device, v1::DayTotals* t) {
  const bool buy = e.direction() == v1::BUY_FOREIGN;
  const int64_t margin = fx::Margin(e);
  v1::FxTotal* row = FxRow(t, e.currency());
  v1::ForeignDrawer* fd = ForeignDrawerRow(t, device, e.currency());
  if (buy) {
    row->set_bought_count(row->bought_count() + 1);
    row->set_bought_foreign(row->bought_foreign() + e.foreign_amount());
    row->set_bought_home(row->bought_home() + e.home_amount());
    fd->set_received(fd->received() + e.foreign_amount());
  } else {
    row->set_sold_count(row->sold_count() + 1);
    row->set_sold_foreign(row->sold_foreign() + e.foreign_amount());
    row->set_sold_home(row->sold_home() + e.home_amount());
    fd->set_paid(fd->paid() + e.foreign_amount());
  }
  row->set_commission(row->commission() + e.commission());
  row->set_margin(row->margin() + margin);
  if (!e.customer_ref().empty()) row->set_referenced_count(row->referenced_count() + 1);
  t->set_fx_commission(t->fx_commission() + e.commission());
  t->set_fx_margin(t->fx_margin() + margin);
  v1::DrawerTotal* d = DrawerRow(t, device);
  for (const v1::Tender& tender : e.tenders()) {
    if (tender.type() == v1::CASH) d->set_fx_cash(d->fx_cash() + (buy ? -1 : 1) * tender.amount());
  }
}

void AddForeignMovement(const v1::CashMovement& m, const std::string& device, v1::DayTotals* t) {
  v1::ForeignDrawer* fd = ForeignDrawerRow(t, device, m.currency());
  switch (m.type()) {
    case v1::OPENING_FLOAT:
      fd->set_opening_float(fd->opening_float() + m.amount());
      break;
    case v1::PAY_IN:
      fd->set_pay_ins(fd->pay_ins() + m.amount());
      break;
    case v1::PAY_OUT:
      fd->set_pay_outs(fd->pay_outs() + m.amount());
      break;
    case v1::DROP:
      fd->set_drops(fd->drops() + m.amount());
      break;
    default:
      break;
  }
}

void MergeTenderArea(const v1::DayTotals& f, v1::DayTotals* t) {
  for (const auto& x : f.vouchers()) {
    v1::VoucherTotal* v = VoucherRow(t, x.voucher_type(), x.purpose());
    v->set_sold_count(v->sold_count() + x.sold_count());
    v->set_sold(v->sold() + x.sold());
    v->set_redeemed_count(v->redeemed_count() + x.redeemed_count());
    v->set_redeemed(v->redeemed() + x.redeemed());
    v->set_offline_count(v->offline_count() + x.offline_count());
    v->set_offline(v->offline() + x.offline());
  }
  t->set_voucher_sales(t->voucher_sales() + f.voucher_sales());
  t->set_tip_count(t->tip_count() + f.tip_count());
  t->set_tips(t->tips() + f.tips());
  t->set_tip_payouts(t->tip_payouts() + f.tip_payouts());
  for (const auto& x : f.card_schemes()) {
    v1::CardSchemeTotal* c = SchemeRow(t, x.scheme());
    c->set_count(c->count() + x.count());
    c->set_sales(c->sales() + x.sales());
    c->set_refunds(c->refunds() + x.refunds());
    c->set_tips(c->tips() + x.tips());
    c->set_offline_count(c->offline_count() + x.offline_count());
  }
  t->set_card_offline_count(t->card_offline_count() + f.card_offline_count());
  for (const auto& x : f.cashier_totals()) {
    v1::CashierDayTotal* c = CashierRow(t, x.cashier());
    c->set_shifts(c->shifts() + x.shifts());
    c->set_receipts(c->receipts() + x.receipts());
    c->set_sales(c->sales() + x.sales());
    c->set_refund_count(c->refund_count() + x.refund_count());
    c->set_refunds(c->refunds() + x.refunds());
    c->set_tip_count(c->tip_count() + x.tip_count());
    c->set_tips(c->tips() + x.tips());
    c->set_tip_payouts(c->tip_payouts() + x.tip_payouts());
    if (!x.drawer_id().empty()) c->set_drawer_id(x.drawer_id());
  }
  t->set_shift_count(t->shift_count() + f.shift_count());
  t->set_spv_redeemed_tax(t->spv_redeemed_tax() + f.spv_redeemed_tax());
}

void FinishTenderArea(v1::DayTotals* t) {
  for (auto& c : *t->mutable_cashier_totals()) {
    c.set_drawer_expected(0);
    for (const auto& d : t->drawers()) {
      if (!c.drawer_id().empty() && d.device_id() == c.drawer_id()) {
        c.set_drawer_expected(d.expected());
      }
    }
  }
  auto& vouchers = *t->mutable_vouchers();
  std::sort(vouchers.begin(), vouchers.end(),
            [](const auto& a, const auto& b) { return a.voucher_type() < b.voucher_type(); });
  auto& schemes = *t->mutable_card_schemes();
  std::sort(schemes.begin(), schemes.end(),
            [](const auto& a, const auto& b) { return a.scheme() < b.scheme(); });
  auto& cashiers = *t->mutable_cashier_totals();
  std::sort(cashiers.begin(), cashiers.end(),
            [](const auto& a, const auto& b) { return a.cashier() < b.cashier(); });
}

void MergeFx(const v1::DayTotals& f, v1::DayTotals* t) {
  for (const auto& x : f.fx()) {
    v1::FxTotal* row = FxRow(t, x.currency());
    row->set_bought_count(row->bought_count() + x.bought_count());
    row->set_bought_foreign(row->bought_foreign() + x.bought_foreign());
    row->set_bought_home(row->bought_home() + x.bought_home());
    row->set_sold_count(row->sold_count() + x.sold_count());
    row->set_sold_foreign(row->sold_foreign() + x.sold_foreign());
    row->set_sold_home(row->sold_home() + x.sold_home());
    row->set_commission(row->commission() + x.commission());
    row->set_margin(row->margin() + x.margin());
    row->set_tendered_count(row->tendered_count() + x.tendered_count());
    row->set_tendered_foreign(row->tendered_foreign() + x.tendered_foreign());
    row->set_tendered_home(row->tendered_home() + x.tendered_home());
    row->set_referenced_count(row->referenced_count() + x.referenced_count());
  }
  for (const auto& x : f.foreign_drawers()) {
    v1::ForeignDrawer* d = ForeignDrawerRow(t, x.device_id(), x.currency());
    d->set_opening_float(d->opening_float() + x.opening_float());
    d->set_received(d->received() + x.received());
    d->set_paid(d->paid() + x.paid());
    d->set_pay_ins(d->pay_ins() + x.pay_ins());
    d->set_pay_outs(d->pay_outs() + x.pay_outs());
    d->set_drops(d->drops() + x.drops());
  }
  t->set_fx_commission(t->fx_commission() + f.fx_commission());
  t->set_fx_margin(t->fx_margin() + f.fx_margin());
}

void FinishFx(v1::DayTotals* t) {
  for (auto& d : *t->mutable_foreign_drawers()) {
    d.set_expected(d.opening_float() + d.received() - d.paid() + d.pay_ins() - d.pay_outs() -
                   d.drops());
  }
  auto& fx = *t->mutable_fx();
  std::sort(fx.begin(), fx.end(),
            [](const auto& a, const auto& b) { return a.currency() < b.currency(); });
  auto& drawers = *t->mutable_foreign_drawers();
  std::sort(drawers.begin(), drawers.end(), [](const auto& a, const auto& b) {
    return std::tie(a.device_id(), a.currency()) < std::tie(b.device_id(), b.currency());
  });
}

// sign = +1 for sales, -1 for refunds.
void AddLines(const google::protobuf::RepeatedPtrField<v1::SaleLine>& lines, int sign,
              v1::DayTotals* t) {
  for (const v1::SaleLine& line : lines) {
    if (IsMpvLine(line)) continue;  // taxed when redeemed, not when sold
    v1::TaxTotal* row = TaxRow(t, line.tax_code(), line.tax_rate_bp(), line.tax_name());
    row->set_gross(row->gross() + sign * line.gross());
    row->set_tax(row->tax() + sign * line.tax());
    row->set_net(row->gross() - row->tax());
  }
}

void AddTenders(const google::protobuf::RepeatedPtrField<v1::Tender>& tenders, bool refund,
                const std::string& drawer, v1::DayTotals* t) {
  for (const v1::Tender& tender : tenders) {
    v1::TenderTotal* row = TenderRow(t, TenderName(tender.type()));
    row->set_count(row->count() + 1);
    if (refund) {
      row->set_refunds(row->refunds() + tender.amount());
    } else {
      row->set_sales(row->sales() + tender.amount());
    }
    if (tender.has_foreign()) AddForeignTender(tender, drawer, t);
    if (tender.type() == v1::CASH) {
      v1::DrawerTotal* d = DrawerRow(t, drawer);
      if (refund) {
        d->set_cash_refunds(d->cash_refunds() + tender.amount());
      } else {
        d->set_cash_sales(d->cash_sales() + tender.amount());
      }
    }
  }
}

// Promotions (docs/FORMATS.md 10.6): one row per promotion id; the name
// is the first one seen.
v1::PromotionTotal* PromotionRow(v1::DayTotals* t, const std::string& id, const std::string& name) {
  for (auto& row : *t->mutable_promotions()) {
    if (row.promotion_id() == id) return &row;
  }
  v1::PromotionTotal* row = t->add_promotions();
  row->set_promotion_id(id);
  row->set_name(name);
  return row;
}

// A sale's (refund = false) or a refund's promotion shares; a receipt counts
// once per promotion however many of its lines carry it.
void AddPromotions(const google::protobuf::RepeatedPtrField<v1::SaleLine>& lines, bool refund,
                   v1::DayTotals* t) {
  std::vector<std::string> seen;
  for (const v1::SaleLine& line : lines) {
    for (const v1::LineDiscount& d : line.promotions()) {
      v1::PromotionTotal* row = PromotionRow(t, d.promotion_id(), d.name());
      if (refund) {
        row->set_refund_lines(row->refund_lines() + 1);
        row->set_refunded(row->refunded() + d.amount());
      } else {
        row->set_lines(row->lines() + 1);
        row->set_amount(row->amount() + d.amount());
        if (std::find(seen.begin(), seen.end(), d.promotion_id()) == seen.end()) {
          seen.push_back(d.promotion_id());
          row->set_receipts(row->receipts() + 1);
        }
      }
    }
  }
}

void MergePromotions(const v1::DayTotals& f, v1::DayTotals* t) {
  for (const auto& x : f.promotions()) {
    v1::PromotionTotal* row = PromotionRow(t, x.promotion_id(), x.name());
    row->set_lines(row->lines() + x.lines());
    row->set_receipts(row->receipts() + x.receipts());
    row->set_amount(row->amount() + x.amount());
    row->set_refund_lines(row->refund_lines() + x.refund_lines());
    row->set_refunded(row->refunded() + x.refunded());
  }
}

void FinishPromotions(v1::DayTotals* t) {
  auto& rows = *t->mutable_promotions();
  for (auto& row : rows) row.set_net(row.amount() - row.refunded());
  std::sort(rows.begin(), rows.end(),
            [](const auto& a, const auto& b) { return a.promotion_id() < b.promotion_id(); });
}

// --- Corrections and training (docs/FORMATS.md, "Corrections", "Training") ---

void AddCorrections(const DecodedEvent& event, v1::DayTotals* t) {
  if (event.header.kind() == v1::SALE) {
    const v1::Sale& s = event.body.sale();
    for (const v1::SaleLine& line : s.voided_lines()) {
      v1::CorrectionTotals* c = t->mutable_corrections();
      c->set_line_void_count(c->line_void_count() + 1);
      c->set_line_voids(c->line_voids() + line.gross());
    }
    for (const v1::SaleLine& line : s.lines()) {
      if (!line.has_price_override()) continue;
      v1::CorrectionTotals* c = t->mutable_corrections();
      c->set_price_override_count(c->price_override_count() + 1);
      c->set_price_overrides(c->price_overrides() + lines::OverrideDifference(line).minor());
    }
  } else if (event.header.kind() == v1::REFUND && event.body.refund().without_receipt()) {
    v1::CorrectionTotals* c = t->mutable_corrections();
    c->set_no_receipt_refund_count(c->no_receipt_refund_count() + 1);
    c->set_no_receipt_refunds(c->no_receipt_refunds() + event.body.refund().total());
  }
}

// A training event counts here and nowhere else (but event_count and the
// receipt range, which AddToTotals notes for every event).
void AddTraining(const DecodedEvent& event, v1::DayTotals* t) {
  v1::TrainingTotals* x = t->mutable_training();
  x->set_event_count(x->event_count() + 1);
  switch (event.header.kind()) {
    case v1::SALE:
      x->set_receipt_count(x->receipt_count() + 1);
      x->set_sales(x->sales() + event.body.sale().total());
      break;
    case v1::REFUND:
      x->set_refund_count(x->refund_count() + 1);
      x->set_refunds(x->refunds() + event.body.refund().total());
      break;
    case v1::VOID:
      x->set_void_count(x->void_count() + 1);
      x->set_voids(x->voids() + event.body.void_receipt().total());
      break;
    default:
      break;
  }
}

void MergeCorrections(const v1::DayTotals& f, v1::DayTotals* t) {
  if (f.has_corrections()) {
    const v1::CorrectionTotals& a = f.corrections();
    v1::CorrectionTotals* c = t->mutable_corrections();
    c->set_line_void_count(c->line_void_count() + a.line_void_count());
    c->set_line_voids(c->line_voids() + a.line_voids());
    c->set_price_override_count(c->price_override_count() + a.price_override_count());
    c->set_price_overrides(c->price_overrides() + a.price_overrides());
    c->set_no_receipt_refund_count(c->no_receipt_refund_count() + a.no_receipt_refund_count());
    c->set_no_receipt_refunds(c->no_receipt_refunds() + a.no_receipt_refunds());
  }
  if (f.has_training()) {
    const v1::TrainingTotals& a = f.training();
    v1::TrainingTotals* x = t->mutable_training();
    x->set_event_count(x->event_count() + a.event_count());
    x->set_receipt_count(x->receipt_count() + a.receipt_count());
    x->set_sales(x->sales() + a.sales());
    x->set_refund_count(x->refund_count() + a.refund_count());
    x->set_refunds(x->refunds() + a.refunds());
    x->set_void_count(x->void_count() + a.void_count());
    x->set_voids(x->voids() + a.voids());
  }
}

void NoteReceipt(uint64_t receipt_no, v1::DayTotals* t) {
  if (receipt_no == 0) return;
  if (t->first_receipt_no() == 0 || receipt_no < t->first_receipt_no()) {
    t->set_first_receipt_no(receipt_no);
  }
  t->set_last_receipt_no(std::max(t->last_receipt_no(), receipt_no));
}

}  // namespace

const char* TenderName(v1::TenderType type) {
  switch (type) {
    case v1::CASH:
      return "CASH";
    case v1::CARD:
      return "CARD";
    case v1::VOUCHER:
      return "VOUCHER";
    default:
      return "OTHER";
  }
}

void AddToTotals(const DecodedEvent& event, v1::DayTotals* t) {
  const v1::EventHeader& h = event.header;
  const std::string& drawer = DrawerOf(h);
  t->set_event_count(t->event_count() + 1);
  if (t->first_event_time_us() == 0 || h.wall_time_us() < t->first_event_time_us()) {
    t->set_first_event_time_us(h.wall_time_us());
  }
  t->set_last_event_time_us(std::max(t->last_event_time_us(), h.wall_time_us()));
  NoteReceipt(h.receipt_no(), t);
  if (h.training()) return AddTraining(event, t);
  AddCorrections(event, t);
  switch (h.kind()) {
    case v1::SALE: {
      const v1::Sale& s = event.body.sale();
      t->set_receipt_count(t->receipt_count() + 1);
      for (const v1::SaleLine& line : s.lines()) {
        if (line.has_voucher()) continue;  // a liability: voucher_sales
        t->set_gross_sales(t->gross_sales() + lines::Extended(line).minor());
        if (lines::IsMeasured(line)) {
          t->set_measured_line_count(t->measured_line_count() + 1);
          t->set_measured_gross(t->measured_gross() + line.gross());
        }
        t->set_discounts(t->discounts() + line.discount());
      }
      t->set_rounding(t->rounding() + s.rounding());
      AddLines(s.lines(), +1, t);
      AddTenders(s.tenders(), false, drawer, t);
      AddPromotions(s.lines(), false, t);
      break;
    }
    case v1::REFUND: {
      const v1::Refund& r = event.body.refund();
      t->set_refund_count(t->refund_count() + 1);
      t->set_refunds(t->refunds() + r.total());
      AddLines(r.lines(), -1, t);
      AddTenders(r.tenders(), true, drawer, t);
      AddPromotions(r.lines(), true, t);
      break;
    }
    case v1::VOID:
      t->set_void_count(t->void_count() + 1);
      t->set_voids(t->voids() + event.body.void_receipt().total());
      break;
    case v1::CASH_MOVEMENT: {
      const v1::CashMovement& m = event.body.cash_movement();
      if (!m.currency().empty()) {
        AddForeignMovement(m, drawer, t);
        break;
      }
      v1::DrawerTotal* d = DrawerRow(t, drawer);
      switch (m.type()) {
        case v1::OPENING_FLOAT:
          d->set_opening_float(d->opening_float() + m.amount());
          break;
        case v1::PAY_IN:
          d->set_pay_ins(d->pay_ins() + m.amount());
          break;
        case v1::PAY_OUT:
          d->set_pay_outs(d->pay_outs() + m.amount());
          break;
        case v1::DROP:
          d->set_drops(d->drops() + m.amount());
          break;
        default:
          break;
      }
      break;
    }
    case v1::NO_SALE:
      t->set_no_sale_count(t->no_sale_count() + 1);
      break;
    case v1::EXCHANGE:
      AddExchange(event.body.exchange(), drawer, t);
      break;
    case v1::DAY_SEALED:
      t->set_sealed(true);
      break;
    default:
      break;
  }
  AddTenderArea(event, t);
}

void MergeTotals(const v1::DayTotals& f, v1::DayTotals* t) {
  t->set_receipt_count(t->receipt_count() + f.receipt_count());
  if (f.first_receipt_no() != 0) NoteReceipt(f.first_receipt_no(), t);
  if (f.last_receipt_no() != 0) NoteReceipt(f.last_receipt_no(), t);
  t->set_gross_sales(t->gross_sales() + f.gross_sales());
  t->set_discounts(t->discounts() + f.discounts());
  t->set_refund_count(t->refund_count() + f.refund_count());
  t->set_refunds(t->refunds() + f.refunds());
  t->set_void_count(t->void_count() + f.void_count());
  t->set_voids(t->voids() + f.voids());
  t->set_rounding(t->rounding() + f.rounding());
  t->set_no_sale_count(t->no_sale_count() + f.no_sale_count());
  t->set_sealed(t->sealed() || f.sealed());
  t->set_event_count(t->event_count() + f.event_count());
  if (f.first_event_time_us() != 0 &&
      (t->first_event_time_us() == 0 || f.first_event_time_us() < t->first_event_time_us())) {
    t->set_first_event_time_us(f.first_event_time_us());
  }
  t->set_last_event_time_us(std::max(t->last_event_time_us(), f.last_event_time_us()));
  MergeCorrections(f, t);
  t->set_measured_line_count(t->measured_line_count() + f.measured_line_count());
  t->set_measured_gross(t->measured_gross() + f.measured_gross());
  for (const auto& x : f.taxes()) {
    v1::TaxTotal* row = TaxRow(t, x.tax_code(), x.rate_bp(), x.name());
    row->set_gross(row->gross() + x.gross());
    row->set_tax(row->tax() + x.tax());
    row->set_net(row->gross() - row->tax());
  }
  for (const auto& x : f.tenders()) {
    v1::TenderTotal* row = TenderRow(t, x.type());
    row->set_count(row->count() + x.count());
    row->set_sales(row->sales() + x.sales());
    row->set_refunds(row->refunds() + x.refunds());
  }
  for (const auto& x : f.drawers()) {
    v1::DrawerTotal* d = DrawerRow(t, x.device_id());
    d->set_opening_float(d->opening_float() + x.opening_float());
    d->set_cash_sales(d->cash_sales() + x.cash_sales());
    d->set_cash_refunds(d->cash_refunds() + x.cash_refunds());
    d->set_pay_ins(d->pay_ins() + x.pay_ins());
    d->set_pay_outs(d->pay_outs() + x.pay_outs());
    d->set_drops(d->drops() + x.drops());
    d->set_tip_payouts(d->tip_payouts() + x.tip_payouts());
    d->set_fx_cash(d->fx_cash() + x.fx_cash());
  }
  MergePromotions(f, t);
  MergeTenderArea(f, t);
  MergeFx(f, t);
}

void FinishTotals(v1::DayTotals* t) {
  t->set_net_sales(t->gross_sales() - t->discounts() - t->refunds());
  for (auto& d : *t->mutable_drawers()) {
    d.set_expected(d.opening_float() + d.cash_sales() - d.cash_refunds() + d.pay_ins() -
                   d.pay_outs() - d.drops() - d.tip_payouts() + d.fx_cash());
  }
  FinishTenderArea(t);
  FinishFx(t);
  auto& taxes = *t->mutable_taxes();
  std::sort(taxes.begin(), taxes.end(), [](const auto& a, const auto& b) {
    return std::make_tuple(a.tax_code(), a.rate_bp()) < std::make_tuple(b.tax_code(), b.rate_bp());
  });
  auto& tenders = *t->mutable_tenders();
  std::sort(tenders.begin(), tenders.end(),
            [](const auto& a, const auto& b) { return a.type() < b.type(); });
  auto& drawers = *t->mutable_drawers();
  std::sort(drawers.begin(), drawers.end(),
            [](const auto& a, const auto& b) { return a.device_id() < b.device_id(); });
  FinishPromotions(t);
}

}  // namespace storenode
