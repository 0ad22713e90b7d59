// Vouchers: the store's balance of every voucher and gift card, kept by the
// fog from the tills' journals (docs/FORMATS.md "Vouchers, gift cards and
// tips").
//
// NOTES ON THE DESIGN
// Promise: a card's balance is the sum of its loads (sale lines with a
// voucher) minus the sum of its redemptions (VOUCHER tenders with a
// voucher), each counted once, whatever the tills resend.
//
// Invariants:
//  1. Every load and redemption is one voucher_moves row keyed by (device,
//     journal, seq, index in the event); a row already there changes
//     nothing, so a redelivered event is not counted twice.
//  2. voucher_cards.balance moves only with a new voucher_moves row, in the
//     same ingest transaction (VoucherMoves is booked by the read models,
//     like stock.h's SaleMoves), so it never counts an event that was not
//     stored.
//  3. A balance below zero is never silent: the redemption that took it
//     there writes a voucher_alerts row (card, the move, the balance after
//     it); the store status counts and lists them, the console shows them.
//     Tills may redeem offline (within the settings' limit per card and
//     till), so an overdraft is a fact the fog reports, not a move it can
//     refuse.
//
// Not thread-safe: the ingest worker owns a VoucherMoves; the readers take
// the caller's connection.
#pragma once

#include <string>
#include <vector>

#include "storenode/common/journal_format.h"
#include "storenode/common/sqlite.h"
#include "storenode/schemas/fog.pb.h"

namespace storenode::fog {

class VoucherMoves {
 public:
  void Add(const DecodedEvent& event);
  // Inside the ingest transaction.
  Status Flush(sql::Db& db);
  void Clear() { staged_.clear(); }

 private:
  struct Staged {
    std::string device, journal;
    uint64_t seq = 0;
    int index = 0;
    std::string card_id, voucher_type, day;
    int64_t at_us = 0;
    int64_t amount = 0;  // + load, - redemption
  };
  std::vector<Staged> staged_;
};

// The cards (one when `card_id` is given; at most `limit` otherwise, by
// card id) and every overdraft alert, newest first.
Result<v1::VoucherShowResponse> ShowVouchers(sql::Db& db, const std::string& card_id,
                                             uint32_t limit);
// How many overdraft alerts there are, and the newest `max` of them.
Result<std::vector<v1::VoucherAlert>> VoucherAlerts(sql::Db& db, uint32_t max, uint64_t* count);

}  // namespace storenode::fog
