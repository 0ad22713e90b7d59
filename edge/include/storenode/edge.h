// storenode edge: the till runtime a POS links.
//
// A Journal is the till's durable, append-only, hash-chained and signed record
// of everything that happens at the till: sales, refunds, voids, cash
// movements, no-sale drawer opens and day seals. Each Record*() call validates
// its input, assigns the next seq (and receipt number, for receipts), signs
// the event and returns only after it is committed to disk (SQLite WAL,
// synchronous=FULL): a power cut after the return loses nothing. A rejected
// call writes nothing.
//
// A Journal is safe for concurrent use by multiple threads; calls are
// serialized internally. Open one Journal per file per process.
//
// Typical use:
//
//   storenode::edge::Options options;
//   options.journal_path = "/var/lib/pos/journal.db";
//   options.store_id = "store-042";
//   options.device_id = "till-1";
//   options.settings = ReadFile("/etc/storenode/till/settings.pb");  // provisioned
//   auto journal = storenode::edge::Journal::Open(options);
//   if (!journal.ok()) { /* journal.status().ToString() says why */ }
//
//   storenode::v1::Sale sale;
//   auto* line = sale.add_lines();
//   line->set_sku("4006381333931"); line->set_qty(2);
//   line->set_unit_price(250); line->set_tax_code("A");
//   auto* cash = sale.add_tenders();
//   cash->set_type(storenode::v1::CASH); cash->set_amount(500); cash->set_tendered(1000);
//   auto rec = (*journal)->RecordSale(sale);   // rec->receipt_no, rec->seq
//
// With the store's catalog replica (kept up to date by the SyncEngine), the
// POS only scans:
//
//   auto sale = (*journal)->SaleFromCatalog({{"4006381333931", 2}, {"SKU-17", 1}});
//   // sale->total() is due; add the tenders, then:
//   auto rec = (*journal)->RecordSale(*sale);  // records the catalog version used
//
// The catalog's promotions in force at the till's local time are applied
// there (docs/FORMATS.md 10.6): with "3 for 5.00" on SKU-17, scanning it 3
// times at 2.00 gives a line with discount 100 and
// promotions {promotion_id "m3", amount 100, name "3 for 5.00"}; a refund
// of one of them gives back its share (33 or 34, cumulatively exact).
//
// A gift card sold and one redeemed, a card tender with its terminal's
// details and a tip (docs/FORMATS.md "Vouchers, gift cards and tips"):
//
//   auto* gift = sale.add_lines();               // a liability, not revenue
//   gift->set_sku("GIFTCARD"); gift->set_qty(1); gift->set_unit_price(2500);
//   gift->mutable_voucher()->set_card_id("6001-0042");
//   gift->mutable_voucher()->set_voucher_type("GIFT");  // a type of the settings
//   auto* card = sale.add_tenders();
//   card->set_type(storenode::v1::CARD); card->set_amount(3000); card->set_tip(200);
//   card->mutable_card()->set_scheme("VISA");
//   card->mutable_card()->set_masked_pan("411111******1111");  // never the full PAN
//   auto* redeem = other_sale.add_tenders();
//   redeem->set_type(storenode::v1::VOUCHER); redeem->set_amount(1000);
//   redeem->mutable_voucher()->set_card_id("6001-0042");
//   redeem->mutable_voucher()->set_voucher_type("GIFT");
//   redeem->mutable_voucher()->set_offline(true);  // within the type's offline limit
//
// Weighed goods: an item sold by the kg takes its weight in thousandths, or
// comes from a scale label (a 13-digit code with a prefix of the store
// settings' scale_labels, which embeds the weight or the price):
//
//   edge::ScannedLine apples{"SKU-APPLES"};
//   apples.qty_milli = 1234;  // 1.234 kg from the scale: gross 1.234 x 2.99 = 3.69
//   auto sale = (*journal)->SaleFromCatalog({apples, {"2112345012348"}});
//
// Corrections: a line taken off before the total goes to sale.voided_lines;
// a keyed price sets line.price_override (catalog price, reason code,
// supervisor); a return without a receipt sets refund.without_receipt and a
// reason (within the settings' limit). Training: SetTraining(true) flags
// every event until SetTraining(false); they are kept and signed but counted
// apart, never in a total.
//
// Money is always int64 minor units (cents), prices tax inclusive. Tax is
// computed per line: tax = round_half_away(gross * rate / (1 + rate)), with
// the rate of the line's tax code in force at the sale's time in the store
// settings; the business day is derived from the settings' time zone and day
// start (common/store_settings.h). Every event records the settings version.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "storenode/common/broker_link.h"
#include "storenode/common/clock.h"
#include "storenode/common/crypto.h"
#include "storenode/common/status.h"
#include "storenode/schemas/catalog.pb.h"
#include "storenode/schemas/journal.pb.h"
#include "storenode/schemas/settings.pb.h"
#include "storenode/schemas/xreport.pb.h"

namespace storenode::catalog {
class Assembler;  // a catalog payload from the fog (common/catalog.h)
}  // namespace storenode::catalog

namespace storenode::edge {

// The sync engine's way to the journal's and the replica's sync-only calls
// (acked watermark, pruning, anchors, applying catalog payloads):
// edge/src/sync_access.h, internal. A POS never needs them.
class SyncAccess;

struct Options {
  std::string journal_path;  // SQLite file, created with its genesis event on first use
  std::string key_path;      // Ed25519 device key; default journal_path + ".key" (mode 0600)
  std::string store_id;
  std::string device_id;
  // The store's settings (schemas/settings.proto, common/store_settings.h):
  // time zone and day start, currency and cash rounding, the tax table. A
  // signed document (SignedSettings bytes) as `storectl provision till`
  // writes it; the journal keeps the newest version it has been given, here
  // or by the fog later (ApplySettings), in its own file. A journal that has
  // none refuses to record, saying why. Empty: what the journal holds.
  std::string settings;
  // The fog's Ed25519 key (32 raw bytes) every settings document must be
  // signed with. Empty: the key of the first document the journal accepted
  // is pinned (it came with the provisioning).
  std::string settings_issuer;
  // Default: the system clock. Journal::Open resolves it, so options().clock
  // of an open journal is never null.
  const Clock* clock = nullptr;
  // The catalog replica's SQLite file; default journal_path + ".catalog".
  std::string catalog_path;
  // The SQLite VFS the journal is opened through; empty = SQLite's default.
  // Only tests set it (fault injection: failed writes and syncs, power cuts).
  std::string sqlite_vfs;
};

// An item of the catalog replica as it is at the till's clock.
struct Item {
  std::string sku;
  std::string name;
  int64_t price = 0;  // minor units, tax inclusive
  std::string tax_code;
  std::string department;
  uint64_t catalog_version = 0;             // the replica version it came from
  v1::UnitOfMeasure unit = v1::UNIT_PIECE;  // price per piece, or per kg, l, m
};

// One scanned line: a sku, a barcode or a scale label, and a quantity. An
// item sold by measure takes its weight from qty_milli (thousandths of its
// unit, as the scale or the cashier gave it; qty is then ignored), unless
// the code is a scale label of the store settings that embeds it.
struct ScannedLine {
  std::string code;
  int64_t qty = 1;
  int64_t discount = 0;  // minor units off the line
  int64_t qty_milli = 0;
  int64_t tare_milli = 0;     // already taken off qty_milli
  bool keyed_weight = false;  // typed in, not read from a scale
};

// The till's replica of the store catalog: its own SQLite file next to the
// journal, so that applying a 100,000-item snapshot never holds the
// journal's write lock (sales keep recording meanwhile). A version is
// applied in one transaction, checked against the fog's content hash before
// COMMIT: after a crash the replica holds the old version or the new one.
// Lookups use their own connection and see committed versions only.
// Thread-safe.
class CatalogReplica {
 public:
  static Result<std::unique_ptr<CatalogReplica>> Open(const std::string& path,
                                                      const Clock* clock = nullptr);
  ~CatalogReplica();
  // By sku or barcode, priced at the clock's now. NotFound for an unknown
  // code or an item without a price yet; FailedPrecondition for an inactive one.
  Result<Item> Lookup(std::string_view code) const;
  // Several codes, all from the same version (one read transaction); with
  // `promotions`, also every promotion of that version (any state).
  Result<std::vector<Item>> LookupAll(const std::vector<std::string>& codes,
                                      std::vector<v1::Promotion>* promotions = nullptr) const;
  // The ids of `ids` the replica holds no promotion of.
  Result<std::vector<std::string>> UnknownPromotions(const std::vector<std::string>& ids) const;
  uint64_t promotion_count() const;
  uint64_t version() const;
  std::string content_hash() const;  // 32 raw bytes, empty before the first version
  uint64_t item_count() const;
  // Payloads applied since Open, counted together with the version each
  // made visible (so a reader that sees version N sees N's count too).
  struct Applied {
    uint64_t snapshots = 0;
    uint64_t deltas = 0;
  };
  Applied applied() const;
  // Recomputes the content hash from the stored items (audits and tests).
  Result<std::string> ComputeContentHash() const;

 private:
  friend class SyncAccess;
  class Impl;
  explicit CatalogReplica(std::unique_ptr<Impl> impl);
  // Applies a complete payload. A delta must start at version().
  Status Apply(const catalog::Assembler& payload);
  std::unique_ptr<Impl> impl_;
};

// What a successful Record*() call returns.
struct Recorded {
  uint64_t seq = 0;
  uint64_t receipt_no = 0;  // 0 for events that are not receipts
  std::string business_day;
  int64_t total = 0;  // receipt total in minor units (0 if not a receipt)
  crypto::Hash hash{};
};

// The outcome of checking a journal's chain.
struct VerifyReport {
  bool ok = false;
  uint64_t events_checked = 0;
  uint64_t first_seq = 0;  // oldest kept event (1 unless pruned)
  uint64_t head_seq = 0;
  uint64_t first_bad_seq = 0;  // 0 when ok
  std::string reason;          // one line, empty when ok
};

class Journal {
 public:
  static Result<std::unique_ptr<Journal>> Open(const Options& options);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // A sale. Per line the POS sets sku, qty (> 0), unit_price, optional
  // discount and tax_code; the journal fills gross, tax and tax_rate_bp, the
  // total and the cash rounding. The tenders must add up to the total.
  Result<Recorded> RecordSale(const v1::Sale& sale);
  // A refund of an earlier receipt of this till: lines name sku and qty; the
  // prices, tax codes and a pro-rata share of the line discount are taken
  // from the original receipt. A refund of another till's receipt must carry
  // unit_price and tax_code itself (this till cannot check it). The tenders
  // are the money paid back and must add up to the refund total.
  Result<Recorded> RecordRefund(const v1::Refund& refund);
  // An abandoned receipt: consumes a receipt number, moves no money.
  Result<Recorded> RecordVoid(const v1::Void& void_receipt);
  Result<Recorded> RecordCashMovement(const v1::CashMovement& movement);
  Result<Recorded> RecordNoSale(const v1::NoSale& no_sale);
  // A cashier starts a shift at this till, with the till's drawer or their
  // own (DRAWER_CASHIER and its drawer_id): until SignOff() every event's
  // header carries the SIGN_ON's seq (shift_seq) and that drawer, and every
  // receipt, cash movement and no-sale is the cashier's (an empty cashier
  // is filled in, another refused). One shift at a time.
  //   auto on = journal->SignOn("anna", v1::DRAWER_CASHIER, "drawer-anna");
  //   ... sales ...
  //   auto x = journal->ShiftXReport();  // the shift's own X
  //   journal->SignOff();
  Result<Recorded> SignOn(const std::string& cashier, v1::DrawerOwner drawer = v1::DRAWER_TILL,
                          const std::string& drawer_id = "");
  Result<Recorded> SignOff();
  // The open shift's SIGN_ON seq, 0 when none is open.
  uint64_t open_shift_seq() const;
  // The X of one shift (default: the open one): the totals of its events.
  Result<v1::DayTotals> ShiftXReport(uint64_t shift_seq = 0) const;
  // A currency exchange (common/fx.h, docs/FORMATS.md "Foreign cash and
  // exchanges"): its own receipt. The POS sets direction, currency,
  // foreign_amount, the tenders of the home side and, at or above the
  // store's AML threshold, customer_ref; the journal fills the rates of the
  // sheet in force, home_amount, commission and total:
  //
  //   storenode::v1::Exchange ex;
  //   ex.set_direction(storenode::v1::SELL_FOREIGN);  // the customer buys USD
  //   ex.set_currency("USD"); ex.set_foreign_amount(20000);  // 200.00 USD
  //   auto* quote = (*journal)->QuoteExchange(ex);           // quote->total() is due
  //   auto* cash = ex.add_tenders();
  //   cash->set_type(storenode::v1::CASH); cash->set_amount(quote->total());
  //   auto rec = (*journal)->RecordExchange(ex);             // rec->receipt_no, rec->total
  //
  // A sale tendered in foreign notes: a CASH tender with `foreign` (currency
  // and foreign_tendered); the journal fills the sheet's buy and mid rates,
  // its version and `tendered` (the notes' home value); change is in home
  // money.
  Result<Recorded> RecordExchange(const v1::Exchange& exchange);
  // The exchange as RecordExchange would fill it (tenders not checked).
  Result<v1::Exchange> QuoteExchange(const v1::Exchange& exchange) const;
  // Closes business day `day` on this till: appends a DAY_SEALED event and
  // books every later event on a later day. Sealing a day twice returns the
  // first seal.
  Result<Recorded> SealDay(const std::string& day, const std::string& requested_by);
  // Seals every day up to and including `day` that has events and is not
  // sealed yet, oldest first, then `day` itself: what a till does when the
  // fog closes `day` (a till that missed a close-down catches up).
  Result<std::vector<Recorded>> SealDaysUpTo(const std::string& day,
                                             const std::string& requested_by);
  // Moves the business day forward explicitly (never backwards).
  Status OpenDay(const std::string& day);
  // Training mode: while on, every event but a day seal is recorded with
  // header.training and counted apart (DayTotals.training), never in a
  // sales, tax, tender or drawer figure; receipts still take the next
  // receipt number (the numbering stays gapless) and print "TRAINING". A
  // training sale cannot be refunded for real; a training refund consumes
  // nothing. Off when the journal opens.
  void SetTraining(bool on);
  bool training() const;

  // A sale from scanned codes: name, unit price and tax code of each line
  // come from the catalog replica at the till's clock, and the sale records
  // the replica version (all lines from that one version). Figures and
  // total are filled as PriceSale does; the POS adds the tenders and calls
  // RecordSale. An unknown or inactive item fails the whole sale, naming it.
  // A scale label (settings' scale_labels) is looked up by its item code
  // (sku or barcode): a weight label sells its weight of a measured item, a
  // price label sells one piece at the printed price (so the line's gross
  // is that price exactly); a wrong check digit fails, naming the digit.
  Result<v1::Sale> SaleFromCatalog(const std::vector<ScannedLine>& lines) const;
  // Applies those of `promotions` in force at the till's local time to the
  // lines of `sale`, as SaleFromCatalog does with the catalog's: each line's
  // discount grows by its shares, which its `promotions` list
  // (docs/FORMATS.md 10.6). `departments[i]` is line i's department. For a
  // POS that prices itself (and pos-sim); call it before PriceSale.
  Status ApplyPromotions(v1::Sale* sale, const std::vector<std::string>& departments,
                         const std::vector<v1::Promotion>& promotions) const;
  // Looks one item up in the replica (see CatalogReplica::Lookup).
  Result<Item> LookupItem(std::string_view code) const;
  CatalogReplica& catalog() const;

  // Fills line figures, total and rounding of `sale` as RecordSale would,
  // so the POS can show the amount due before taking payment.
  Status PriceSale(v1::Sale* sale) const;

  // The till's X-report: totals of `day` so far (default: current day).
  Result<v1::DayTotals> XReport(const std::string& day = "") const;
  // The same for the till's printer (storenode/common/report_text.h).
  Result<std::string> XReportText(const std::string& day = "") const;

  // Receipt `receipt_no` of this till as it prints (FormatReceiptText: lines,
  // tax per rate, tenders, hash and signature) under the settings it was
  // recorded with, `width` columns; and its QR code payload
  // (ReceiptQrPayload), and that code as an SVG image (libqrencode, error
  // correction M, 4 modules of quiet zone). NotFound for a number not issued
  // yet or pruned.
  Result<std::string> ReceiptText(uint64_t receipt_no, int width = 42) const;
  Result<std::string> ReceiptQr(uint64_t receipt_no) const;
  Result<std::string> ReceiptQrSvg(uint64_t receipt_no) const;

  // Events with seq >= from, ascending, at most max_events.
  Result<std::vector<v1::JournalEvent>> ReadEvents(uint64_t from, size_t max_events) const;

  // Recomputes every hash and signature from the oldest kept event.
  VerifyReport Verify() const;

  // The fog's acknowledged watermark, as last recorded by the sync engine.
  uint64_t acked_seq() const;

  // Takes a newer store settings document (SignedSettings bytes), signed by
  // the pinned issuer, for this store and in the journal's currency; it
  // applies from the next event on. An older or the same version changes
  // nothing and is OK.
  Status ApplySettings(std::string_view signed_settings);
  // The settings in force; version 0 when the journal has none.
  v1::StoreSettings settings() const;

  std::string business_day() const;
  uint64_t head_seq() const;
  const std::string& journal_id() const;  // 16 raw bytes
  const crypto::PublicKey& public_key() const;
  const Options& options() const;

 private:
  friend class SyncAccess;
  class Impl;
  explicit Journal(std::unique_ptr<Impl> impl);

  // Sync support (SyncAccess).
  // Records the fog's acknowledged watermark, which makes events up to it
  // eligible for pruning.
  Status SetAckedSeq(uint64_t seq);
  // Deletes events that are acked and older than `retention_days`, keeping
  // genesis and the anchor (seq and hash of the last pruned event) so the
  // chain stays verifiable from the oldest kept event. Returns how many.
  Result<uint64_t> Prune(int retention_days);
  // The anchor after pruning: events 2..anchor_seq are gone (0: none pruned).
  uint64_t anchor_seq() const;
  crypto::Hash anchor_hash() const;
  // Wall time of event `seq`, 0 if not kept.
  int64_t WallTimeOf(uint64_t seq) const;
  std::unique_ptr<Impl> impl_;
};

// Replicates a journal to the store's fog over MQTT, in the background.
//
// The journal is the outbox: the engine publishes batches of consecutive
// unacked events (QoS 1), keeps a bounded number in flight, and resends from
// the fog's watermark on reconnect, on request, or when acks stop coming.
// Clean sessions, no MQTT persistence. It also publishes the till's retained
// status (offline as its will) and carries out the fog's commands (seal a
// business day). It keeps the catalog replica current: when the fog's
// retained manifest names another version it fetches a delta (or a
// snapshot) and applies it. The POS never waits on it: Record*() calls stay
// local.
//
// Thread-safe. Destroying the engine stops it.
struct SyncOptions {
  // The store broker: "ssl://host:8883" with the CA and this till's cert and
  // key, or plain "tcp://host:1883" only with insecure (warns); client_id
  // default "sn-{store}-{device}".
  BrokerLink broker{};
  // What connects to it; default: a Paho client (mqtt::PahoConnector).
  // Tests pass tests/support/memory_broker.h's.
  mqtt::Connector connect{};
  size_t batch_events = 100;             // events per message
  size_t max_inflight_batches = 8;       // unconfirmed publishes
  size_t window_events = 4000;           // events sent but not yet acked
  int ack_timeout_ms = 3000;             // resend from the watermark after this silence
  int retention_days = 14;               // prune acked events older than this
  int status_interval_ms = 5000;         // status heartbeat
  int catalog_fetch_timeout_ms = 10000;  // ask again when a fetch stalls this long
};

struct SyncState {
  bool connected = false;
  bool fog_online = false;
  uint64_t head_seq = 0;
  uint64_t acked_seq = 0;
  uint64_t backlog = 0;               // events the fog has not acked
  int64_t oldest_unacked_age_us = 0;  // 0 when nothing is waiting
  uint64_t catalog_version = 0;       // the replica's
  uint64_t catalog_available = 0;     // the fog's manifest, 0 if not seen
  uint64_t catalog_snapshots = 0;     // applied to the replica since it was opened
  uint64_t catalog_deltas = 0;
};

class SyncEngine {
 public:
  static Result<std::unique_ptr<SyncEngine>> Start(Journal* journal, SyncOptions options);
  ~SyncEngine();
  SyncState state() const;
  // Publishes the offline status and disconnects; idempotent.
  void Stop();

 private:
  class Impl;
  explicit SyncEngine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Verifies a journal file without opening it for writing (storectl uses
// this). Needs no key: the public key travels in the genesis event.
VerifyReport VerifyJournalFile(const std::string& path);

// Reads every kept event of a journal file, for dumps and audits.
Result<std::vector<v1::JournalEvent>> ReadJournalFile(const std::string& path);

// Totals of every business day in a journal file, ascending by day,
// computed from its kept events (hashes checked, chain not: see Verify).
Result<std::vector<v1::DayTotals>> TotalsFromFile(const std::string& path);

}  // namespace storenode::edge
