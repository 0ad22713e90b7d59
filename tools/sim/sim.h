// storenode::sim: deterministic simulated tills, for pos-sim, bench and tests.
//
// A TillSim records a realistic mix of events into one till journal: an
// opening float per business day, then mostly sales (1-6 lines from a fixed
// catalog, three tax rates, some discounts; cash, card, split and voucher
// tenders), some refunds of its own earlier receipts, voids, pay-ins,
// pay-outs, drops and no-sale drawer opens. Issue 17's kinds come on top,
// each behind its switch of Mix (all on by default; `pos-sim --mix classic`
// turns them all off, and then the generator draws exactly the round-1
// stream): weighed goods (lines sold by the kg or litre, mostly read from
// scale labels, refunded in thousandths), corrections (lines voided before
// the total, price overrides, returns without a receipt) and rare training
// sessions.
//
// Determinism: every choice comes from a std::mt19937_64 seeded from (seed,
// till index, journal head when the simulation starts) and is reduced with
// integer math only, so the same seed on a fresh journal records the same
// event bodies on every platform. Only headers (journal id, wall time) and,
// across midnight, the business day differ between runs.
//
// Mix switches turn on the kinds of issue 17 per area. With a switch off,
// the generator draws nothing for it from the rng, so `--mix classic` (all
// off) records the round-1 stream.
//
// fx: when the journal's store settings carry a rate sheet, a foreign float
// per currency of the sheet at each day's start, about 15% of cash sales
// tendered in foreign notes, and about 6% of the events currency exchanges
// both ways, across the commission's minimum and maximum and the AML
// threshold. Without a sheet it draws nothing. Its own tally (FxTally)
// computes every figure of the area as it generates, by its own integer
// arithmetic, as the oracle of the fog's X and Z.
//
// A TillSim is not thread-safe; run one per thread. Several TillSims may
// share nothing but the process.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "storenode/common/status.h"
#include "storenode/edge.h"
#include "storenode/schemas/tools.pb.h"

namespace storenode::sim {

struct CatalogItem {
  std::string_view sku;
  std::string_view name;
  int64_t price;  // minor units, tax inclusive (per unit of measure)
  std::string_view tax_code;
  v1::UnitOfMeasure unit = v1::UNIT_PIECE;
};

// The simulator's fixed catalog (60 items, 0.19 .. 49.99).
const std::vector<CatalogItem>& Catalog();
// The department of a sim catalog item: "aisle-K" for items 10(K-1) .. 10K-1.
std::string SimDepartment(std::string_view sku);

// The sim store's promotions, one or more of every type: mix and match,
// buy 2 get 1 half price, 20% off the bakery from 11:00 to 14:00 local (the
// one with a window: a seed records the same bodies at the same clock
// times), 1.00 off an aisle, 5% from 50.00, 10.00 from 100.00.
const std::vector<v1::Promotion>& SimPromotions();
// Its items sold by measure (Mix::weighed): skus 2800001.. are the item
// codes of the store's weight labels, layout "28 5 measure 5".
const std::vector<CatalogItem>& MeasuredCatalog();

// The simulated store's terms: EUR with cash rounded to 0.05 (so that the
// rounding figure is exercised), the day starting at midnight in `zone`, and
// the catalog's tax codes A = 20% "Standard", B = 5.5% "Reduced", C = 0%
// "Zero", all in force since 2000-01-01. As a fog.toml [store] body (after
// its id), and as the settings document a fog so configured issues as its
// version 1, signed here by a fixed key: what a till uses without a fog.
// `cash_rounding` 1 turns the rounding off (tests that tender exact amounts).
std::string SimStoreConfig(const std::string& zone = "UTC");
v1::StoreSettings SimStoreSettings(const std::string& store, const std::string& zone = "UTC",
                                   int64_t cash_rounding = 5);
std::string SimSettings(const std::string& store, const std::string& zone = "UTC",
                        int64_t cash_rounding = 5);

// The simulated store's rate sheet (USD, GBP, JPY, CHF, all in force since
// 2000-01-01) as `storectl rates import` takes it, and SimStoreSettings with
// it as rate sheet 1: what a till sells foreign currency by without a fog.
std::string SimRateSheetCsv();
v1::StoreSettings SimFxStoreSettings(const std::string& store, const std::string& zone = "UTC");
std::string SimFxSettings(const std::string& store, const std::string& zone = "UTC");

// "till-K" for till index K (from 1).
std::string SimDeviceId(int till_index);

// Journal options of a simulated till: DIR/DEVICE.db with SimSettings().
edge::Options SimTillOptions(const std::string& dir, const std::string& store,
                             const std::string& device);

// Which of issue 17's kinds the mix generates. With a switch off the
// generator draws nothing for it from the rng, so with all off (Classic())
// a seed records round 1's stream.
struct Mix {
  bool weighed = true;      // lines sold by measure, scale labels (issue 17, A)
  bool corrections = true;  // line voids, price overrides, returns without a receipt (A)
  bool training = true;     // rare training sessions (A)
  // Foreign cash tenders and currency exchanges, where the settings have a
  // rate sheet (SimFxSettings).
  bool fx = true;
  // Gift cards (MPV "GIFT") and book tokens (SPV "BOOK", tax C) sold on
  // sales, redeemed (offline) by later sales of the same till.
  bool vouchers = true;
  // Tips on card tenders; tips paid out from the drawer (TIP_PAYOUT).
  bool tips = true;
  // Card details on card tenders: scheme, terminal, auth code, masked PAN,
  // some offline authorisations.
  bool cards = true;
  // Cashier shifts: a few per day per till, every other one with the
  // cashier's own drawer (its own float).
  bool shifts = true;
  // Every sale priced with SimPromotions() (Journal::ApplyPromotions, the
  // path SaleFromCatalog takes); a refund gives the shares back. Draws
  // nothing from the rng either way: only the discounts differ.
  bool promotions = true;
  static Mix Classic() { return {false, false, false, false, false, false, false, false, false}; }
  // Every switch but vouchers, tips, cards and shifts, whose gift card lines,
  // cashier drawers and tips change round 1's gross, drawer rows and tenders:
  // the mix of the tests that hold those to round 1's arithmetic.
  static Mix WithoutTenderExtras() {
    Mix m;
    m.vouchers = m.tips = m.cards = m.shifts = false;
    return m;
  }
};
// "classic": every switch off; "all": every switch on (pos-sim's default).
Result<Mix> ParseMix(std::string_view name);

class TillSim {
 public:
  // `journal` must outlive the TillSim. till_index is the K of "till-K".
  TillSim(edge::Journal* journal, uint64_t seed, int till_index, Mix mix = {});

  // Records the next event of the mix. The first call reads the end of the
  // journal (so a rerun continues where the last one stopped: open receipts
  // for refunds, drawer cash) and records the day's opening float if the
  // business day has none yet.
  Status Step();
  // Steps until `count` more sales have been recorded.
  Status RunSales(uint64_t count);
  // Signs the cashier off if this mix has shifts and one is open (the run
  // ends); records nothing otherwise.
  Status EndShift();

  uint64_t sales() const { return sales_; }    // sale receipts recorded
  uint64_t events() const { return events_; }  // events recorded, sales included
  v1::EventKind last_kind() const { return last_kind_; }
  // device, journal path, head, sales and events of this run; days empty;
  // tally: Tally().
  v1::SimTill Summary() const;

  // The simulator's own tally of issue 17's figures per business day,
  // counted as it records (not by AddToTotals, not from the journal): the
  // independent oracle tests hold the fog's X and Z against. Weighed goods,
  // corrections and training (DayTotals 23..26), vouchers, tips, cards and
  // shifts (40..49 and the drawers' tip payouts), promotions (30), foreign
  // cash and exchanges
  // (50..53, the drawer's fx_cash; FxTally). It covers the events this
  // TillSim recorded (not those of an earlier run on the journal).
  const std::map<std::string, v1::DayTotals>& Tally() const { return tally_; }

  // The fx figures of business day `day` this run generated, from the
  // sim's own arithmetic: fx, foreign_drawers, fx_commission, fx_margin and
  // one drawer row with its fx_cash (the rest of the DayTotals is empty).
  v1::DayTotals FxTally(const std::string& day) const;

 private:
  struct SoldLine {
    std::string sku;
    std::string name;
    v1::UnitOfMeasure unit = v1::UNIT_PIECE;
    int64_t qty = 0;  // in its counting unit: thousandths when measured
    int64_t unit_price = 0;
    int64_t discount = 0;
    int64_t refunded = 0;
    std::vector<v1::LineDiscount> promotions;  // the line's shares
  };
  struct Card {
    std::string card_id, type;
    bool spv = false;
    int64_t balance = 0;
  };
  struct SoldReceipt {
    uint64_t receipt_no = 0;
    v1::TenderType refund_to = v1::CARD;
    std::vector<SoldLine> lines;
  };

  Status Resume();
  Status StartDayIfNeeded(bool* recorded);
  uint64_t Pick(uint64_t n) { return rng_() % n; }
  const std::string& Cashier() const { return cashier_; }
  std::vector<v1::SaleLine> PickLines(int count, bool with_discounts);
  void NoteSale(uint64_t receipt_no, const v1::Sale& sale);
  void NoteRefund(const v1::Refund& refund);
  void NoteCash(int64_t delta) { DrawerCash() += delta; }
  // The tally's promotions (DayTotals.promotions): a recorded sale's or
  // refund line's shares.
  void TallyPromotions(const std::string& day, const v1::Sale& sale);
  void TallyPromotionRefund(const std::string& day, const v1::SaleLine& line);
  v1::PromotionTotal& PromotionTallyRow(const std::string& day, const v1::LineDiscount& d);

  Status Sale();
  Status Refund(bool* done);
  Status VoidReceipt();
  Status Movement(v1::CashMovementType type, bool* done);
  Status NoSale();
  // fx (the Mix switch): the rate sheet in force, foreign floats, foreign
  // notes for a cash sale, exchanges; each keeps the tally.
  const v1::FxRateEntry* FxRate(const std::string& currency) const;
  Status StartFxDay();
  // Pays `cash` in foreign notes at the buy rate; returns the notes' home
  // value at mid (the tender's margin is that minus tendered), 0 when it
  // paid in home notes for want of a rate.
  int64_t ForeignTender(int64_t total, v1::Tender* cash);
  Status Exchange(bool* done);
  v1::DayTotals& DayTally() { return tally_[journal_->business_day()]; }
  Status Recorded(v1::EventKind kind, const Result<edge::Recorded>& rec);
  // Issue 17 (Mix).
  v1::SaleLine MeasuredLine();
  void Correct(v1::Sale* sale);
  Status NoReceiptRefund(bool* done);
  Status TrainingSession();

  // Issue 17, vouchers, tips, cards, shifts (each only when its switch is on).
  void AddCardDetails(v1::Tender* t);
  void MaybeTip(v1::Tender* t);
  void MaybeSellVoucher(v1::Sale* sale);
  // Redeems a card this till sold; the amount, 0 when none fits `sale`.
  int64_t RedeemVoucher(v1::Sale* sale, int64_t total);
  Status TipPayout(bool* done);
  Status ShiftChangeIfDue(bool* recorded);
  void TallySale(const std::string& day, const v1::Sale& sale);
  void TallyTenders(v1::DayTotals& d, v1::CashierDayTotal* c,
                    const google::protobuf::RepeatedPtrField<v1::Tender>& tenders, bool refund);
  v1::CashierDayTotal* TallyCashier(const std::string& day, const std::string& cashier);
  // A recorded refund's cashier and tender figures (with or without receipt).
  void TallyRefund(const std::string& day, const v1::Refund& refund, int64_t total);
  int64_t& DrawerCash() { return drawer_cash_[drawer_]; }

  std::map<std::string, v1::DayTotals> tally_;
  std::vector<Card> cards_;        // cards this run sold with a balance left
  int64_t tips_unpaid_ = 0;        // tips taken since the last payout
  uint64_t shift_sales_left_ = 0;  // sales until the next shift change
  uint64_t shifts_ = 0;            // shifts this run signed on
  std::string drawer_;             // the drawer in use: "" = the till's

  edge::Journal* journal_;
  uint64_t seed_;
  int till_index_;
  Mix mix_;
  bool training_ = false;                     // inside TrainingSession
  std::string fx_day_;                        // the day fx_* below refer to
  v1::StoreSettings fx_settings_;             // the journal's, read at the day's start
  std::vector<std::string> fx_currencies_;    // of its rate sheet; empty: fx draws nothing
  std::map<std::string, int64_t> fx_drawer_;  // foreign drawer balances on fx_day_
  std::string cashier_;
  std::mt19937_64 rng_;
  bool resumed_ = false;
  std::string day_;  // business day drawer_cash_ refers to
  // Expected cash on day_ per drawer ("" = the till's, else a cashier's).
  std::map<std::string, int64_t> drawer_cash_;
  std::deque<SoldReceipt> recent_;  // refund candidates, newest last
  uint64_t sales_ = 0;
  uint64_t events_ = 0;
  v1::EventKind last_kind_ = v1::EVENT_KIND_UNSPECIFIED;
};

// The oracle: each till's exact totals per business day, computed from its
// journal file by edge::TotalsFromFile. `tills` come from TillSim::Summary().
Result<v1::SimReport> Report(const std::string& store_id, std::vector<v1::SimTill> tills,
                             double seconds);

}  // namespace storenode::sim
