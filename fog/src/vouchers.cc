#include "vouchers.h"

#include <spdlog/spdlog.h>

namespace storenode::fog {

void VoucherMoves::Add(const DecodedEvent& event) {
  const v1::EventHeader& h = event.header;
  if (h.kind() != v1::SALE || h.training()) return;
  const v1::Sale& s = event.body.sale();
  auto stage = [&](int index, const std::string& card, const std::string& type, int64_t amount) {
    staged_.push_back({h.device_id(), h.journal_id(), h.seq(), index, card, type, h.business_day(),
                       h.wall_time_us(), amount});
  };
  int index = 0;
  for (const v1::SaleLine& l : s.lines()) {
    if (l.has_voucher()) stage(index, l.voucher().card_id(), l.voucher().voucher_type(), l.gross());
    ++index;
  }
  for (const v1::Tender& t : s.tenders()) {
    if (t.type() == v1::VOUCHER && t.has_voucher()) {
      stage(index, t.voucher().card_id(), t.voucher().voucher_type(), -t.amount());
    }
    ++index;
  }
}

Status VoucherMoves::Flush(sql::Db& db) {
  if (staged_.empty()) return Status::Ok();
  SN_ASSIGN_OR_RETURN(sql::Stmt move,
                      db.Prepare("INSERT OR IGNORE INTO voucher_moves(device_id, journal_id, seq, "
                                 "idx, card_id, business_day, at_us, amount) "
                                 "VALUES(?,?,?,?,?,?,?,?)"));
  SN_ASSIGN_OR_RETURN(
      sql::Stmt card,
      db.Prepare("INSERT INTO voucher_cards(card_id, voucher_type, loaded, redeemed, balance, "
                 "last_us) VALUES(?1, ?2, MAX(?3, 0), MAX(-?3, 0), ?3, ?4) "
                 "ON CONFLICT(card_id) DO UPDATE SET loaded = loaded + MAX(?3, 0), "
                 "redeemed = redeemed + MAX(-?3, 0), balance = balance + ?3, last_us = ?4"));
  SN_ASSIGN_OR_RETURN(sql::Stmt balance_of,
                      db.Prepare("SELECT balance FROM voucher_cards WHERE card_id = ?"));
  SN_ASSIGN_OR_RETURN(sql::Stmt alert,
                      db.Prepare("INSERT INTO voucher_alerts(card_id, device_id, seq, "
                                 "business_day, at_us, amount, balance) VALUES(?,?,?,?,?,?,?)"));
  for (const Staged& s : staged_) {
    move.Bind(1, s.device).BindBlob(2, s.journal).Bind(3, static_cast<int64_t>(s.seq));
    move.Bind(4, int64_t{s.index}).Bind(5, s.card_id).Bind(6, s.day).Bind(7, s.at_us);
    move.Bind(8, s.amount);
    SN_RETURN_IF_ERROR(move.Run());
    if (db.Changes() == 0) continue;  // invariant 1: counted already
    card.Bind(1, s.card_id).Bind(2, s.voucher_type).Bind(3, s.amount).Bind(4, s.at_us);
    SN_RETURN_IF_ERROR(card.Run());
    balance_of.Bind(1, s.card_id);
    SN_ASSIGN_OR_RETURN(bool row, balance_of.Step());
    const int64_t balance = row ? balance_of.Int(0) : 0;
    balance_of.Reset();
    if (s.amount >= 0 || balance >= 0) continue;
    // Invariant 3.
    spdlog::warn("voucher card {} overdrawn to {} by {} seq {}", s.card_id, balance, s.device,
                 s.seq);
    alert.Bind(1, s.card_id).Bind(2, s.device).Bind(3, static_cast<int64_t>(s.seq));
    alert.Bind(4, s.day).Bind(5, s.at_us).Bind(6, -s.amount).Bind(7, balance);
    SN_RETURN_IF_ERROR(alert.Run());
  }
  staged_.clear();
  return Status::Ok();
}

Result<std::vector<v1::VoucherAlert>> VoucherAlerts(sql::Db& db, uint32_t max, uint64_t* count) {
  SN_ASSIGN_OR_RETURN(int64_t n, db.QueryInt("SELECT COUNT(*) FROM voucher_alerts", 0));
  *count = static_cast<uint64_t>(n);
  SN_ASSIGN_OR_RETURN(sql::Stmt q,
                      db.Prepare("SELECT card_id, device_id, seq, business_day, at_us, amount, "
                                 "balance FROM voucher_alerts ORDER BY id DESC LIMIT ?"));
  q.Bind(1, int64_t{max});
  std::vector<v1::VoucherAlert> out;
  while (true) {
    SN_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    v1::VoucherAlert& a = out.emplace_back();
    a.set_card_id(q.Text(0));
    a.set_device_id(q.Text(1));
    a.set_seq(static_cast<uint64_t>(q.Int(2)));
    a.set_business_day(q.Text(3));
    a.set_at_us(q.Int(4));
    a.set_amount(q.Int(5));
    a.set_balance(q.Int(6));
  }
  return out;
}

Result<v1::VoucherShowResponse> ShowVouchers(sql::Db& db, const std::string& card_id,
                                             uint32_t limit) {
  v1::VoucherShowResponse out;
  SN_ASSIGN_OR_RETURN(
      sql::Stmt q,
      db.Prepare(card_id.empty() ? "SELECT card_id, voucher_type, loaded, redeemed, balance, "
                                   "last_us FROM voucher_cards ORDER BY card_id LIMIT ?2"
                                 : "SELECT card_id, voucher_type, loaded, redeemed, balance, "
                                   "last_us FROM voucher_cards WHERE card_id = ?1"));
  if (card_id.empty()) {
    q.Bind(2, int64_t{limit == 0 ? 1000 : limit});
  } else {
    q.Bind(1, card_id);
  }
  while (true) {
    SN_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    v1::VoucherCard& c = *out.add_cards();
    c.set_card_id(q.Text(0));
    c.set_voucher_type(q.Text(1));
    c.set_loaded(q.Int(2));
    c.set_redeemed(q.Int(3));
    c.set_balance(q.Int(4));
    c.set_last_us(q.Int(5));
  }
  uint64_t count = 0;
  SN_ASSIGN_OR_RETURN(auto alerts, VoucherAlerts(db, 100, &count));
  for (auto& a : alerts) *out.add_alerts() = std::move(a);
  out.set_alert_count(count);
  return out;
}

}  // namespace storenode::fog
