// The till journal: NOTES ON THE DESIGN
//
// Promise: a Record*() call that returns OK has its event committed to disk
// (WAL, synchronous=FULL); a call that fails has written nothing.
//
// Invariants, kept by Append() under mu_:
//  1. seq is gapless from 1 (genesis) and never reused: the next seq is
//     head.seq + 1, and the event row and the head row change in one
//     transaction.
//  2. Receipt numbers (SALE, REFUND, VOID) are gapless from 1 the same way.
//  3. Every event is hash-chained to head.hash and signed with the device key
//     before it is written (common/journal_format.h).
//  4. The in-memory head (head_) only moves after COMMIT succeeded; after a
//     failed commit it is re-read from disk, so memory never runs ahead of
//     the file.
//  5. The business day never goes backwards and is always after the last
//     sealed day.
//  6. Every event is dated and priced by the store settings in force when
//     it is appended, and records their version; one clock reading (`now`)
//     gives both its wall time and the rates its lines were taxed at.
//     Receipts, cash movements and no-sales are refused while the journal
//     holds no settings; settings change only under mu_, between events.
//  7. While a cashier shift is open (SignOn .. SignOff) every event's
//     header carries its SIGN_ON seq (shift_seq) and, for a cashier's own
//     drawer, its drawer_id; the open shift is a row written in the same
//     transaction as the SIGN_ON / SIGN_OFF, so memory and file agree.
//  8. A till's offline voucher redemptions per card never pass the
//     settings' offline limit of the card's type: the running sum is a row
//     written with the sale that redeems.
//
// Validation happens before the transaction; nothing is written for a
// rejected call.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <optional>

#include "journal_store.h"
#include "qr.h"
#include "storenode/common/fx.h"
#include "storenode/common/journal_format.h"
#include "storenode/common/lines.h"
#include "storenode/common/money.h"
#include "storenode/common/promotions.h"
#include "storenode/common/report_text.h"
#include "storenode/common/scale_label.h"
#include "storenode/common/sqlite.h"
#include "storenode/common/store_settings.h"
#include "storenode/common/tender_rules.h"
#include "storenode/common/topics.h"
#include "storenode/edge.h"

namespace storenode::edge {

namespace {

struct Head {
  uint64_t seq = 0;
  crypto::Hash hash{};
  uint64_t receipt_no = 0;
  std::string business_day;
  std::string last_sealed_day;
};

std::string Amount(int64_t minor) { return Money(minor).ToString(); }

constexpr const char* kNoSettings =
    "no store settings: this till has neither received them from the fog nor been "
    "provisioned with them (storectl provision till writes them; pos-sim takes --settings)";

bool ValidTender(v1::TenderType t) { return t >= v1::CASH && t <= v1::OTHER; }

Status CheckLinePromotions(const v1::SaleLine& line, const std::string& at) {
  std::string why = promotions::CheckShares(line);
  return why.empty() ? Status::Ok() : Status::Invalid(at + why);
}

// Caps on the corrections' free text and lists (docs/FORMATS.md, "Corrections").
constexpr size_t kMaxIdChars = 64;       // reason codes, supervisor ids
constexpr size_t kMaxReasonChars = 200;  // a refund's reason
constexpr int kMaxVoidedLines = 500;     // per sale

Status NoForeignTenders(const google::protobuf::RepeatedPtrField<v1::Tender>& tenders) {
  for (int i = 0; i < tenders.size(); ++i) {
    if (tenders[i].has_foreign()) {
      return Status::Invalid("tender " + std::to_string(i + 1) +
                             ": money is paid back in the home currency, not in foreign notes");
    }
  }
  return Status::Ok();
}

}  // namespace

class Journal::Impl {
 public:
  Options options;
  std::unique_ptr<sql::Db> db;
  crypto::SigningKey key;
  std::string journal_id;
  mutable std::mutex mu;
  Head head;
  std::string opened_day;  // floor set by OpenDay()
  uint64_t acked_seq = 0;  // the fog's watermark, as last recorded
  uint64_t anchor_seq = 0;
  crypto::Hash anchor_hash{};
  std::unique_ptr<CatalogReplica> catalog;
  v1::StoreSettings settings;  // version 0: none yet
  settings::Calendar calendar = settings::Calendar::Utc();
  std::string issuer;  // the pinned settings key, 32 bytes; empty until the first
  // The open cashier shift (invariant 7): its SIGN_ON seq (0: none) and body.
  uint64_t shift_seq = 0;
  v1::CashierShift shift;

  Status LoadShift();
  // While a shift is open, an event's cashier is the shift's: filled when
  // empty, refused when another.
  Status ShiftCashier(std::string* cashier) const;
  // The settings' type of a voucher line or redemption, its card id and
  // purpose checked.
  Result<const v1::VoucherType*> VoucherTypeOf(const std::string& card_id,
                                               const std::string& type_id,
                                               v1::VoucherPurpose purpose,
                                               const std::string& at) const;
  Status CheckLineVoucher(v1::SaleLine* line, const std::string& at) const;
  // Tips, card details and voucher redemptions of a receipt's tenders
  // (`lines`: the receipt's, for an SPV's tax); fills the redemptions'
  // purpose and SPV tax.
  Status CheckTenderDetails(google::protobuf::RepeatedPtrField<v1::Tender>* tenders,
                            const google::protobuf::RepeatedPtrField<v1::SaleLine>& lines,
                            bool refund) const;
  Result<Recorded> RecordShift(v1::EventKind kind, v1::CashierShift shift);

  Status Init();
  Status LoadSettings();
  Status ApplySettings(std::string_view signed_settings);
  Status Ready() const {
    return settings.version() == 0 ? Status::Precondition(kNoSettings) : Status::Ok();
  }
  Status LoadHead();
  Status CreateGenesis();
  int64_t Now() const { return options.clock->NowMicros(); }
  std::string CurrentDay(int64_t now) const;
  // `keep_rates`: the lines carry the rates of the receipt they refund.
  Status PriceLines(google::protobuf::RepeatedPtrField<v1::SaleLine>* lines, int64_t* total,
                    int64_t now, bool keep_rates = false) const;
  Result<std::vector<v1::JournalEvent>> ReadEventsLocked(uint64_t from, size_t max) const;
  // Statements of the hot path, prepared once.
  std::optional<sql::Stmt> insert_event, write_head, insert_line;
  // Corrections (docs/FORMATS.md, "Corrections").
  Status CheckOverride(const v1::SaleLine& line, const std::string& at) const;
  Status PriceNoReceiptRefund(v1::Refund* refund, int64_t now) const;
  bool training = false;  // SetTraining(): every event is flagged until it is left
  Status CheckTenders(const google::protobuf::RepeatedPtrField<v1::Tender>& tenders,
                      int64_t due) const;
  Status PriceSale(v1::Sale* sale, int64_t now) const;
  // Promotions (docs/FORMATS.md 10.6): the engine's shares on catalog
  // lines, and what RecordSale accepts.
  Status ApplyPromotions(v1::Sale* sale, const std::vector<std::string>& departments,
                         const std::vector<v1::Promotion>& in_catalog, int64_t now) const;
  Status CheckPromotionIds(const v1::Sale& sale) const;
  Status PriceRefund(v1::Refund* refund, int64_t now) const;
  // Foreign cash (common/fx.h): fills and checks each foreign-cash tender
  // of a sale; refunds and refund-like events pay back in home money only.
  Status FillForeignTenders(google::protobuf::RepeatedPtrField<v1::Tender>* tenders,
                            int64_t now) const;
  Result<Recorded> Append(v1::EventKind kind, v1::EventBody body, const std::string& day,
                          int64_t now);
  Status WriteSideTables(const v1::EventHeader& h, const v1::EventBody& body);
  Status WriteOfflineRedemptions(const v1::Sale& sale);
  // A receipt's event and the settings it was recorded with.
  struct ReceiptEvent {
    v1::JournalEvent event;
    v1::StoreSettings settings;
  };
  Result<ReceiptEvent> FindReceipt(uint64_t receipt_no) const;
};

Status Journal::Impl::Init() {
  sql::OpenOptions open;
  open.vfs = options.sqlite_vfs;
  SN_ASSIGN_OR_RETURN(db, sql::Db::Open(options.journal_path, open));
  SN_RETURN_IF_ERROR(sql::Migrate(*db, "till journal", kJournalMigrations).status());
  if (options.key_path.empty()) options.key_path = options.journal_path + ".key";
  if (options.catalog_path.empty()) options.catalog_path = options.journal_path + ".catalog";
  SN_ASSIGN_OR_RETURN(catalog, CatalogReplica::Open(options.catalog_path, options.clock));
  SN_RETURN_IF_ERROR(LoadSettings());
  if (!options.settings.empty()) SN_RETURN_IF_ERROR(ApplySettings(options.settings));

  SN_ASSIGN_OR_RETURN(sql::Stmt stmt, db->Prepare("SELECT value FROM meta WHERE key = ?"));
  stmt.Bind(1, std::string_view("journal_id"));
  SN_ASSIGN_OR_RETURN(bool exists, stmt.Step());
  if (!exists) return CreateGenesis();

  journal_id = stmt.Blob(0);
  SN_ASSIGN_OR_RETURN(key, crypto::SigningKey::Load(options.key_path));
  SN_RETURN_IF_ERROR(LoadHead());
  SN_RETURN_IF_ERROR(LoadShift());
  SN_ASSIGN_OR_RETURN(int64_t acked,
                      db->QueryInt("SELECT value FROM meta WHERE key = 'acked_seq'", 0));
  acked_seq = static_cast<uint64_t>(acked);
  SN_ASSIGN_OR_RETURN(sql::Stmt anchor, db->Prepare("SELECT seq, hash FROM anchor WHERE id = 1"));
  SN_ASSIGN_OR_RETURN(bool has_anchor, anchor.Step());
  if (has_anchor) {
    anchor_seq = static_cast<uint64_t>(anchor.Int(0));
    SN_ASSIGN_OR_RETURN(anchor_hash, crypto::HashFromBytes(anchor.BlobView(1)));
  }
  // The key beside the journal must be the one its genesis event published.
  SN_ASSIGN_OR_RETURN(auto genesis, ReadEventsLocked(1, 1));
  DecodedEvent g;
  if (genesis.empty()) return Status::Corruption("journal has no genesis event");
  SN_RETURN_IF_ERROR(DecodeEvent(genesis[0], &g));
  if (g.header.store_id() != options.store_id || g.header.device_id() != options.device_id) {
    return Status::Precondition("journal " + options.journal_path + " belongs to store '" +
                                g.header.store_id() + "' device '" + g.header.device_id() +
                                "', not '" + options.store_id + "' '" + options.device_id + "'");
  }
  if (g.body.genesis().public_key() !=
      std::string(key.public_key().begin(), key.public_key().end())) {
    return Status::Precondition("key file " + options.key_path +
                                " does not match the journal's genesis key");
  }
  return Status::Ok();
}

Status Journal::Impl::LoadSettings() {
  issuer = options.settings_issuer;
  if (issuer.empty()) {
    SN_ASSIGN_OR_RETURN(sql::Stmt pin,
                        db->Prepare("SELECT value FROM meta WHERE key = 'settings_issuer'"));
    SN_ASSIGN_OR_RETURN(bool pinned, pin.Step());
    if (pinned) issuer = pin.Blob(0);
  }
  SN_ASSIGN_OR_RETURN(sql::Stmt newest,
                      db->Prepare("SELECT doc FROM settings ORDER BY version DESC LIMIT 1"));
  SN_ASSIGN_OR_RETURN(bool any, newest.Step());
  if (!any) return Status::Ok();
  // Stored only after it verified; opened again so a damaged file says so.
  SN_ASSIGN_OR_RETURN(settings, settings::Open(newest.BlobView(0)));
  SN_ASSIGN_OR_RETURN(calendar, settings::Calendar::Of(settings));
  return Status::Ok();
}

Status Journal::Impl::ApplySettings(std::string_view signed_settings) {
  if (signed_settings.size() > topics::kMaxSettingsBytes) {
    return Status::Invalid("store settings: the document is " +
                           std::to_string(signed_settings.size()) + " bytes, at most " +
                           std::to_string(topics::kMaxSettingsBytes));
  }
  v1::SignedSettings parsed;
  v1::StoreSettings peek;
  if (!parsed.ParseFromArray(signed_settings.data(), static_cast<int>(signed_settings.size())) ||
      !peek.ParseFromString(parsed.settings())) {
    return Status::Invalid("store settings: the document does not parse");
  }
  // Nothing newer: nothing to check (the fog republishes what the till has).
  if (settings.version() != 0 && peek.version() <= settings.version()) return Status::Ok();
  crypto::PublicKey pin{};
  if (issuer.size() == pin.size()) std::copy(issuer.begin(), issuer.end(), pin.begin());
  SN_ASSIGN_OR_RETURN(v1::StoreSettings next,
                      settings::Open(signed_settings, issuer.empty() ? nullptr : &pin));
  if (next.store_id() != options.store_id) {
    return Status::Precondition("store settings are for store '" + next.store_id() +
                                "', this till is in '" + options.store_id + "'");
  }
  if (settings.version() != 0 && next.currency() != settings.currency()) {
    return Status::Precondition("store settings version " + std::to_string(next.version()) +
                                " changes the currency from " + settings.currency() + " to " +
                                next.currency() + "; a journal keeps one currency");
  }
  // This till's tzdata must know the zone before anything is dated by it.
  SN_ASSIGN_OR_RETURN(settings::Calendar next_calendar, settings::Calendar::Of(next));
  sql::Transaction txn(*db);
  SN_RETURN_IF_ERROR(txn.begin_status());
  SN_ASSIGN_OR_RETURN(sql::Stmt ins,
                      db->Prepare("INSERT OR REPLACE INTO settings(version, doc) VALUES(?, ?)"));
  ins.Bind(1, static_cast<int64_t>(next.version())).BindBlob(2, signed_settings);
  SN_RETURN_IF_ERROR(ins.Run());
  if (issuer.empty()) {
    SN_ASSIGN_OR_RETURN(sql::Stmt meta, db->Prepare("INSERT OR REPLACE INTO meta(key, value) "
                                                    "VALUES('settings_issuer', ?)"));
    meta.BindBlob(1, parsed.public_key());
    SN_RETURN_IF_ERROR(meta.Run());
  }
  SN_RETURN_IF_ERROR(txn.Commit());
  if (issuer.empty()) issuer = parsed.public_key();
  settings = std::move(next);
  calendar = std::move(next_calendar);
  return Status::Ok();
}

Status Journal::Impl::LoadHead() {
  SN_ASSIGN_OR_RETURN(sql::Stmt stmt,
                      db->Prepare("SELECT seq, hash, receipt_no, business_day, last_sealed_day "
                                  "FROM head WHERE id = 1"));
  SN_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return Status::Corruption("journal " + options.journal_path + " has no head record");
  head.seq = static_cast<uint64_t>(stmt.Int(0));
  SN_ASSIGN_OR_RETURN(head.hash, crypto::HashFromBytes(stmt.BlobView(1)));
  head.receipt_no = static_cast<uint64_t>(stmt.Int(2));
  head.business_day = stmt.Text(3);
  head.last_sealed_day = stmt.Text(4);
  return Status::Ok();
}

Status Journal::Impl::CreateGenesis() {
  struct stat st {};
  if (stat(options.key_path.c_str(), &st) == 0) {
    return Status::Precondition("key file " + options.key_path +
                                " exists but the journal is new; refusing to reuse a device key "
                                "for a new journal (move it away first)");
  }
  key = crypto::SigningKey::Generate();
  journal_id.assign(16, '\0');
  crypto::RandomBytes({reinterpret_cast<uint8_t*>(journal_id.data()), journal_id.size()});
  SN_RETURN_IF_ERROR(key.Save(options.key_path));

  head = Head{};
  head.hash = GenesisPrevHash(options.store_id, options.device_id, journal_id);
  v1::EventBody body;
  v1::Genesis* g = body.mutable_genesis();
  g->set_public_key(key.public_key().data(), key.public_key().size());
  g->set_software_version(STORENODE_VERSION);
  g->set_currency(settings.currency());
  int64_t now = Now();
  auto rec = Append(v1::GENESIS, std::move(body), CurrentDay(now), now);
  return rec.status();
}

std::string Journal::Impl::CurrentDay(int64_t now) const {
  std::string day = calendar.BusinessDay(now);
  day = std::max({day, head.business_day, opened_day});
  if (!head.last_sealed_day.empty()) day = std::max(day, NextDay(head.last_sealed_day));
  return day;
}

// Fills gross, tax and rate of each line; `total` gets the sum of gross.
Status Journal::Impl::PriceLines(google::protobuf::RepeatedPtrField<v1::SaleLine>* lines,
                                 int64_t* total, int64_t now, bool keep_rates) const {
  if (lines->empty()) return Status::Invalid("a receipt needs at least one line");
  Money sum;
  for (int i = 0; i < lines->size(); ++i) {
    v1::SaleLine& line = (*lines)[i];
    std::string at = "line " + std::to_string(i + 1) + ": ";
    if (line.sku().empty()) return Status::Invalid(at + "sku is empty");
    if (line.has_voucher() && !line.promotions().empty()) {
      return Status::Invalid(at + "a voucher line takes no promotion");
    }
    if (line.has_voucher()) SN_RETURN_IF_ERROR(CheckLineVoucher(&line, at));
    if (Status q = lines::CheckQuantity(line); !q.ok()) return Status::Invalid(at + q.message());
    if (line.unit_price() < 0) return Status::Invalid(at + "negative unit price");
    SN_RETURN_IF_ERROR(CheckOverride(line, at));
    if (line.has_voucher() && line.voucher().purpose() == v1::MULTI_PURPOSE) {
      // Not taxed when sold (docs/FORMATS.md "Vouchers").
      line.set_gross(line.unit_price());
      line.set_tax(0);
      line.set_tax_rate_bp(0);
      line.set_tax_name("");
      sum += Money(line.gross());
      continue;
    }
    const v1::TaxRateEntry* rate = settings::RateAt(settings, line.tax_code(), now);
    if (rate == nullptr) {
      return Status::Invalid(at + "unknown tax code '" + line.tax_code() +
                             "' (none in force in store settings version " +
                             std::to_string(settings.version()) + ")");
    }
    if (keep_rates && !settings::RateKnownBy(settings, line.tax_code(), line.tax_rate_bp(), now)) {
      return Status::Invalid(at + "tax " + line.tax_code() + " at " +
                             std::to_string(line.tax_rate_bp()) +
                             " bp is no rate of the store settings");
    }
    int32_t rate_bp = keep_rates ? line.tax_rate_bp() : rate->rate_bp();
    Money extended;
    try {
      extended = lines::Extended(line);
      (void)lines::OverrideDifference(line);  // the Z sums it: it must fit too
    } catch (const std::overflow_error&) {
      return Status::Invalid(at + "amount overflows");
    }
    if (line.discount() < 0 || Money(line.discount()) > extended) {
      return Status::Invalid(at + "discount " + Amount(line.discount()) + " outside 0.." +
                             extended.ToString());
    }
    SN_RETURN_IF_ERROR(CheckLinePromotions(line, at));
    Money gross = extended - Money(line.discount());
    line.set_gross(gross.minor());
    line.set_tax(TaxIncluded(gross, TaxRate{rate_bp}).minor());
    line.set_tax_rate_bp(rate_bp);
    line.set_tax_name(rate->name());
    sum += gross;
  }
  *total = sum.minor();
  return Status::Ok();
}

Status Journal::Impl::CheckTenders(const google::protobuf::RepeatedPtrField<v1::Tender>& tenders,
                                   int64_t due) const {
  if (tenders.empty()) return Status::Invalid("no tender given");
  Money sum;
  for (int i = 0; i < tenders.size(); ++i) {
    const v1::Tender& t = tenders[i];
    std::string at = "tender " + std::to_string(i + 1) + ": ";
    if (!ValidTender(t.type())) return Status::Invalid(at + "tender type not set");
    if (t.amount() <= 0) return Status::Invalid(at + "amount must be positive");
    if (t.type() == v1::CASH && t.tendered() != 0 && t.tendered() < t.amount()) {
      return Status::Invalid(at + "cash handed over " + Amount(t.tendered()) +
                             " is less than the amount " + Amount(t.amount()));
    }
    sum += Money(t.amount());
  }
  if (sum != Money(due)) {
    return Status::Invalid("tenders add up to " + sum.ToString() + ", total due is " + Amount(due));
  }
  return Status::Ok();
}

Result<const v1::VoucherType*> Journal::Impl::VoucherTypeOf(const std::string& card_id,
                                                            const std::string& type_id,
                                                            v1::VoucherPurpose purpose,
                                                            const std::string& at) const {
  if (!IsPlainCode(card_id, 32)) {
    return Status::Invalid(at + "voucher card id must be 1..32 of [A-Za-z0-9._-]");
  }
  const v1::VoucherType* type = settings::FindVoucherType(settings, type_id);
  if (type == nullptr) {
    return Status::Invalid(at + "voucher type '" + type_id + "' is not in store settings version " +
                           std::to_string(settings.version()));
  }
  if (purpose != v1::VOUCHER_PURPOSE_UNSPECIFIED && purpose != type->purpose()) {
    return Status::Invalid(at + "voucher type '" + type->id() + "' has the other purpose");
  }
  return type;
}

Status Journal::Impl::CheckLineVoucher(v1::SaleLine* line, const std::string& at) const {
  v1::VoucherLine* v = line->mutable_voucher();
  SN_ASSIGN_OR_RETURN(const v1::VoucherType* type,
                      VoucherTypeOf(v->card_id(), v->voucher_type(), v->purpose(), at));
  v->set_purpose(type->purpose());
  if (line->qty() != 1 || line->discount() != 0) {
    return Status::Invalid(at + "a voucher line loads one card: qty 1, no discount");
  }
  if (line->unit_price() <= 0 || line->unit_price() > type->max_load()) {
    return Status::Invalid(at + "voucher load " + Amount(line->unit_price()) + " outside 0.01.." +
                           Amount(type->max_load()) + " of type '" + type->id() + "'");
  }
  // An SPV is taxed at its type's code; an MPV carries none.
  const std::string code = type->purpose() == v1::SINGLE_PURPOSE ? type->tax_code() : "";
  if (!line->tax_code().empty() && line->tax_code() != code) {
    return Status::Invalid(at + "voucher type '" + type->id() + "' is taxed " +
                           (code.empty() ? std::string("when redeemed") : "at code " + code) +
                           ", not at code " + line->tax_code());
  }
  line->set_tax_code(code);
  return Status::Ok();
}

Status Journal::Impl::CheckTenderDetails(
    google::protobuf::RepeatedPtrField<v1::Tender>* tenders,
    const google::protobuf::RepeatedPtrField<v1::SaleLine>& lines, bool refund) const {
  // The offline redemptions of this receipt, per card, and what SPVs of
  // each tax code pay.
  std::map<std::string, int64_t> offline;
  std::map<std::string, int64_t> spv_by_code;
  for (int i = 0; i < tenders->size(); ++i) {
    v1::Tender& t = (*tenders)[i];
    const std::string at = "tender " + std::to_string(i + 1) + ": ";
    if (std::string why = TenderDetailsProblem(t, refund); !why.empty()) {
      return Status::Invalid(at + why);
    }
    if (!t.has_voucher()) continue;
    v1::VoucherRedemption* r = t.mutable_voucher();
    if (t.type() != v1::VOUCHER)
      return Status::Invalid(at + "a voucher on a tender that is no voucher");
    if (refund) {
      return Status::Invalid(at +
                             "a refund does not load a voucher card; pay back in cash or to "
                             "the card it was paid with");
    }
    SN_ASSIGN_OR_RETURN(const v1::VoucherType* type,
                        VoucherTypeOf(r->card_id(), r->voucher_type(), r->purpose(), at));
    r->set_purpose(type->purpose());
    r->clear_tax_code();
    r->clear_tax_rate_bp();
    r->clear_tax();
    if (type->purpose() == v1::SINGLE_PURPOSE) {
      // It pays for goods of its own tax code (that is what makes it single
      // purpose), whose rate on this receipt is its tax's.
      auto goods = std::find_if(lines.begin(), lines.end(), [&](const v1::SaleLine& l) {
        return !l.has_voucher() && l.tax_code() == type->tax_code();
      });
      if (goods == lines.end()) {
        return Status::Invalid(at + "single-purpose voucher '" + type->id() +
                               "' pays only for goods taxed " + type->tax_code() +
                               "; this receipt has none");
      }
      r->set_tax_code(type->tax_code());
      r->set_tax_rate_bp(goods->tax_rate_bp());
      r->set_tax(TaxIncluded(Money(t.amount()), TaxRate{goods->tax_rate_bp()}).minor());
      spv_by_code[type->tax_code()] += t.amount();
    }
    if (!r->offline()) continue;
    int64_t& mine = offline[r->card_id()];
    mine += t.amount();
    SN_ASSIGN_OR_RETURN(sql::Stmt before,
                        db->Prepare("SELECT redeemed FROM voucher_offline WHERE card_id = ?"));
    before.Bind(1, r->card_id());
    SN_ASSIGN_OR_RETURN(bool had, before.Step());
    const int64_t total = (had ? before.Int(0) : 0) + mine;
    if (total > type->offline_limit()) {
      return Status::Invalid(at + "offline redemption of card " + r->card_id() + " would bring " +
                             "this till's offline redemptions of it to " + Amount(total) +
                             ", over the offline limit " + Amount(type->offline_limit()) +
                             " of voucher type '" + type->id() + "'");
    }
  }
  for (const auto& [code, paid] : spv_by_code) {
    int64_t goods = 0;
    for (const v1::SaleLine& l : lines) {
      if (!l.has_voucher() && l.tax_code() == code) goods += l.gross();
    }
    if (paid > goods) {
      return Status::Invalid("single-purpose vouchers pay " + Amount(paid) + " for goods taxed " +
                             code + " worth " + Amount(goods));
    }
  }
  return Status::Ok();
}

// --- Corrections: price overrides and returns without a receipt ---

Status Journal::Impl::CheckOverride(const v1::SaleLine& line, const std::string& at) const {
  if (!line.has_price_override()) return Status::Ok();
  const v1::PriceOverride& o = line.price_override();
  if (o.reason_code().empty() || o.supervisor_id().empty()) {
    return Status::Invalid(at + "a price override needs a reason code and a supervisor id");
  }
  if (o.reason_code().size() > kMaxIdChars || o.supervisor_id().size() > kMaxIdChars) {
    return Status::Invalid(
        fmt::format("{}price override reason code or supervisor id over {} "
                    "characters",
                    at, kMaxIdChars));
  }
  if (o.catalog_price() < 0) return Status::Invalid(at + "negative catalog price in the override");
  const auto& allowed = settings.price_override_reasons();
  if (!allowed.empty() &&
      std::find(allowed.begin(), allowed.end(), o.reason_code()) == allowed.end()) {
    return Status::Invalid(
        fmt::format("{}price override reason '{}' is not one of the store "
                    "settings' ({})",
                    at, o.reason_code(), fmt::join(allowed, ", ")));
  }
  return Status::Ok();
}

Status Journal::Impl::ShiftCashier(std::string* cashier) const {
  if (shift_seq == 0) return Status::Ok();
  if (cashier->empty()) *cashier = shift.cashier();
  if (*cashier != shift.cashier()) {
    return Status::Invalid("cashier '" + *cashier + "' is not the signed-on cashier '" +
                           shift.cashier() + "'");
  }
  return Status::Ok();
}

Status Journal::Impl::LoadShift() {
  SN_ASSIGN_OR_RETURN(sql::Stmt stmt,
                      db->Prepare("SELECT seq, shift FROM open_shift WHERE id = 1"));
  SN_ASSIGN_OR_RETURN(bool open, stmt.Step());
  shift_seq = 0;
  shift.Clear();
  if (!open) return Status::Ok();
  if (!shift.ParseFromString(stmt.Blob(1))) return Status::Corruption("open shift does not parse");
  shift_seq = static_cast<uint64_t>(stmt.Int(0));
  return Status::Ok();
}

Result<Recorded> Journal::Impl::RecordShift(v1::EventKind kind, v1::CashierShift next) {
  SN_RETURN_IF_ERROR(Ready());
  if (kind == v1::SIGN_ON) {
    if (shift_seq != 0) {
      return Status::Precondition("cashier '" + shift.cashier() + "' is signed on since seq " +
                                  std::to_string(shift_seq) + "; sign off first");
    }
    if (next.cashier().empty() || next.cashier().size() > 64) {
      return Status::Invalid("cashier must be 1..64 characters");
    }
    if (next.drawer() == v1::DRAWER_CASHIER) {
      if (!IsPlainCode(next.drawer_id(), 32) || next.drawer_id() == options.device_id) {
        return Status::Invalid(
            "a cashier drawer needs an id of 1..32 [A-Za-z0-9._-], not the "
            "till's");
      }
    } else if (!next.drawer_id().empty()) {
      return Status::Invalid("a drawer id belongs to a cashier drawer (DRAWER_CASHIER)");
    }
  } else {
    if (shift_seq == 0) return Status::Precondition("no cashier is signed on");
    next = shift;
  }
  v1::EventBody body;
  *body.mutable_shift() = next;
  const int64_t now = Now();
  return Append(kind, std::move(body), CurrentDay(now), now);
}

Status Journal::Impl::PriceNoReceiptRefund(v1::Refund* refund, int64_t now) const {
  if (!refund->original_device_id().empty() || refund->original_receipt_no() != 0) {
    return Status::Invalid("a return without a receipt names no original receipt");
  }
  if (refund->reason().empty()) return Status::Invalid("a return without a receipt needs a reason");
  if (refund->reason().size() > kMaxReasonChars || refund->supervisor_id().size() > kMaxIdChars) {
    return Status::Invalid(fmt::format("refund reason over {} or supervisor id over {} characters",
                                       kMaxReasonChars, kMaxIdChars));
  }
  const int64_t limit = settings.no_receipt_refund_limit();
  if (limit <= 0) {
    return Status::Invalid("returns without a receipt are not allowed (store settings version " +
                           std::to_string(settings.version()) + " sets no limit)");
  }
  int64_t total = 0;
  SN_RETURN_IF_ERROR(PriceLines(refund->mutable_lines(), &total, now));
  if (total > limit) {
    return Status::Invalid("a return without a receipt of " + Amount(total) +
                           " is above the store's limit of " + Amount(limit));
  }
  const int64_t above = settings.no_receipt_supervisor_above();
  if (total > above && refund->supervisor_id().empty()) {
    return Status::Invalid("a return without a receipt of " + Amount(total) + " (above " +
                           Amount(above) + ") needs a supervisor id");
  }
  refund->set_total(total);
  return Status::Ok();
}

Status Journal::Impl::PriceSale(v1::Sale* sale, int64_t now) const {
  SN_RETURN_IF_ERROR(Ready());
  int64_t lines_total = 0;
  SN_RETURN_IF_ERROR(PriceLines(sale->mutable_lines(), &lines_total, now));
  if (sale->voided_lines_size() > kMaxVoidedLines) {
    return Status::Invalid(
        fmt::format("{} voided lines, at most {}", sale->voided_lines_size(), kMaxVoidedLines));
  }
  if (!sale->voided_lines().empty()) {
    // Figures filled like the sold lines', never part of the total.
    int64_t voided = 0;
    Status v = PriceLines(sale->mutable_voided_lines(), &voided, now);
    if (!v.ok()) return Status::Invalid("voided " + v.message());
  }
  bool cash = std::any_of(sale->tenders().begin(), sale->tenders().end(),
                          [](const v1::Tender& t) { return t.type() == v1::CASH; });
  int64_t due = lines_total;
  if (cash) due = CashRound(Money(lines_total), settings.cash_rounding()).minor();
  sale->set_rounding(due - lines_total);
  sale->set_total(due);
  return Status::Ok();
}

Status Journal::Impl::PriceRefund(v1::Refund* refund, int64_t now) const {
  SN_RETURN_IF_ERROR(Ready());
  for (const v1::SaleLine& l : refund->lines()) {
    if (l.has_voucher()) {
      return Status::Invalid("a voucher is not refunded: its balance stays on the card");
    }
  }
  if (refund->without_receipt()) return PriceNoReceiptRefund(refund, now);
  if (refund->reason().size() > kMaxReasonChars || refund->supervisor_id().size() > kMaxIdChars) {
    return Status::Invalid(fmt::format("refund reason over {} or supervisor id over {} characters",
                                       kMaxReasonChars, kMaxIdChars));
  }
  if (refund->original_device_id().empty()) refund->set_original_device_id(options.device_id);
  if (refund->original_device_id() != options.device_id) {
    // Another till's receipt: take the given prices, checked like a sale.
    int64_t total = 0;
    SN_RETURN_IF_ERROR(PriceLines(refund->mutable_lines(), &total, now));
    refund->set_total(total);
    return Status::Ok();
  }
  uint64_t original = refund->original_receipt_no();
  // receipt_lines is never pruned, so receipts older than the journal's
  // retention can still be refunded.
  SN_ASSIGN_OR_RETURN(sql::Stmt known,
                      db->Prepare("SELECT COUNT(*) FROM receipt_lines WHERE receipt_no = ?"));
  known.Bind(1, static_cast<int64_t>(original));
  SN_ASSIGN_OR_RETURN(bool row, known.Step());
  if (!row || known.Int(0) == 0) {
    return Status::Invalid("refund of unknown receipt " + std::to_string(original) +
                           " (no sale of this till has that number)");
  }
  SN_ASSIGN_OR_RETURN(sql::Stmt lines_stmt,
                      db->Prepare("SELECT line_no, qty, unit_price, discount, tax_code, "
                                  "refunded_qty, tax_rate_bp, unit, promotions FROM receipt_lines "
                                  "WHERE "
                                  "receipt_no = ? AND sku = ? ORDER BY line_no"));
  // Quantities already taken by earlier lines of this same refund.
  std::map<std::pair<std::string, int64_t>, int64_t> taken;
  google::protobuf::RepeatedPtrField<v1::SaleLine> priced;
  for (const v1::SaleLine& want : refund->lines()) {
    if (Status q = lines::CheckQuantity(want); !q.ok()) {
      return Status::Invalid("refund of " + want.sku() + ": " + q.message());
    }
    // Measured lines count thousandths here: qty_milli in, qty_milli out.
    int64_t left = lines::Quantity(want);
    lines_stmt.Bind(1, static_cast<int64_t>(original)).Bind(2, want.sku());
    while (left > 0) {
      SN_ASSIGN_OR_RETURN(bool row, lines_stmt.Step());
      if (!row) break;
      if (lines_stmt.Int(7) != want.unit()) continue;
      int64_t sold = lines_stmt.Int(1), discount = lines_stmt.Int(3);
      int64_t& already = taken[{want.sku(), lines_stmt.Int(0)}];
      int64_t before = lines_stmt.Int(5) + already;
      int64_t qty = std::min(left, sold - before);
      if (qty <= 0) continue;
      // Pro-rata discount, cumulative so that refunding a line in parts
      // returns exactly its whole discount: each promotion's share on its
      // own, and the manual rest (FORMATS 10.6).
      auto share = [&](int64_t amount) {
        return RoundHalfAwayDiv(__int128{amount} * (before + qty), sold) -
               RoundHalfAwayDiv(__int128{amount} * before, sold);
      };
      v1::SaleLine* line = priced.Add();
      line->set_sku(want.sku());
      line->set_unit(want.unit());
      lines::SetQuantity(line, qty);
      line->set_unit_price(lines_stmt.Int(2));
      v1::SaleLine sold_promotions;
      if (!lines_stmt.IsNull(8) && !sold_promotions.ParseFromString(lines_stmt.Blob(8))) {
        return Status::Corruption("receipt " + std::to_string(original) +
                                  ": the promotions of a line do not parse");
      }
      int64_t manual = discount, back = 0;
      for (const v1::LineDiscount& d : sold_promotions.promotions()) {
        manual -= d.amount();
        const int64_t part = share(d.amount());
        if (part <= 0) continue;
        v1::LineDiscount* r = line->add_promotions();
        *r = d;
        r->set_amount(part);
        back += part;
      }
      line->set_discount(back + share(manual));
      line->set_tax_code(lines_stmt.Text(4));
      // The sale's rate; a line sold before settings existed has none.
      const v1::TaxRateEntry* now_rate = settings::RateAt(settings, line->tax_code(), now);
      if (!lines_stmt.IsNull(6)) {
        line->set_tax_rate_bp(static_cast<int32_t>(lines_stmt.Int(6)));
      } else if (now_rate != nullptr) {
        line->set_tax_rate_bp(now_rate->rate_bp());
      }
      line->set_name(want.name());
      already += qty;
      left -= qty;
    }
    lines_stmt.Reset();
    if (left > 0) {
      return Status::Invalid("refund of " + lines::FormatQuantity(want) + " x " + want.sku() +
                             " exceeds what receipt " + std::to_string(original) +
                             " sold and not yet refunded");
    }
  }
  *refund->mutable_lines() = std::move(priced);
  int64_t total = 0;
  SN_RETURN_IF_ERROR(PriceLines(refund->mutable_lines(), &total, now, /*keep_rates=*/true));
  refund->set_total(total);
  return Status::Ok();
}

Status Journal::Impl::FillForeignTenders(google::protobuf::RepeatedPtrField<v1::Tender>* tenders,
                                         int64_t now) const {
  for (int i = 0; i < tenders->size(); ++i) {
    v1::Tender& t = (*tenders)[i];
    if (!t.has_foreign()) continue;
    if (Status s = fx::FillForeignTender(&t, settings, now); !s.ok()) {
      return Status::Invalid("tender " + std::to_string(i + 1) + ": " + s.message());
    }
  }
  return Status::Ok();
}

Result<std::vector<v1::JournalEvent>> Journal::Impl::ReadEventsLocked(uint64_t from,
                                                                      size_t max) const {
  SN_ASSIGN_OR_RETURN(sql::Stmt stmt, db->Prepare(std::string(kSelectEvents) +
                                                  " WHERE seq >= ? ORDER BY seq LIMIT ?"));
  stmt.Bind(1, static_cast<int64_t>(from)).Bind(2, static_cast<int64_t>(max));
  return sql::Rows(stmt, EventFromRow);
}

Status Journal::Impl::WriteOfflineRedemptions(const v1::Sale& sale) {
  for (const v1::Tender& t : sale.tenders()) {
    if (!t.has_voucher() || !t.voucher().offline()) continue;
    SN_ASSIGN_OR_RETURN(sql::Stmt add,
                        db->Prepare("INSERT INTO voucher_offline(card_id, redeemed) VALUES(?1, ?2) "
                                    "ON CONFLICT(card_id) DO UPDATE SET redeemed = redeemed + ?2"));
    add.Bind(1, t.voucher().card_id()).Bind(2, t.amount());
    SN_RETURN_IF_ERROR(add.Run());
  }
  return Status::Ok();
}

Status Journal::Impl::WriteSideTables(const v1::EventHeader& h, const v1::EventBody& body) {
  // A training sale cannot be refunded for real, and a training refund
  // consumes nothing of the receipt it practised on.
  if (h.training() && (h.kind() == v1::SALE || h.kind() == v1::REFUND)) return Status::Ok();
  if (h.kind() == v1::SALE) {
    if (!insert_line) {
      SN_ASSIGN_OR_RETURN(insert_line,
                          db->Prepare("INSERT INTO receipt_lines(receipt_no, line_no, sku, qty, "
                                      "unit_price, discount, tax_code, tax_rate_bp, unit, "
                                      "promotions) VALUES(?,?,?,?,?,?,?,?,?,?)"));
    }
    sql::Stmt& ins = *insert_line;
    int line_no = 0;
    for (const v1::SaleLine& l : body.sale().lines()) {
      ++line_no;
      if (l.has_voucher()) continue;  // not refundable
      ins.Bind(1, static_cast<int64_t>(h.receipt_no())).Bind(2, int64_t{line_no});
      ins.Bind(3, l.sku()).Bind(4, lines::Quantity(l)).Bind(5, l.unit_price());
      ins.Bind(6, l.discount()).Bind(7, l.tax_code()).Bind(8, int64_t{l.tax_rate_bp()});
      ins.Bind(9, int64_t{l.unit()});
      if (l.promotions_size() == 0) {
        ins.BindNull(10);
      } else {
        v1::SaleLine only;
        *only.mutable_promotions() = l.promotions();
        ins.BindBlob(10, only.SerializeAsString());
      }
      SN_RETURN_IF_ERROR(ins.Run());
    }
    SN_RETURN_IF_ERROR(WriteOfflineRedemptions(body.sale()));
  } else if (h.kind() == v1::SIGN_ON) {
    SN_ASSIGN_OR_RETURN(sql::Stmt put, db->Prepare("INSERT OR REPLACE INTO open_shift(id, seq, "
                                                   "shift) VALUES(1, ?, ?)"));
    put.Bind(1, static_cast<int64_t>(h.seq())).BindBlob(2, body.shift().SerializeAsString());
    SN_RETURN_IF_ERROR(put.Run());
  } else if (h.kind() == v1::SIGN_OFF) {
    SN_RETURN_IF_ERROR(db->Exec("DELETE FROM open_shift"));
  } else if (h.kind() == v1::REFUND && !body.refund().without_receipt() &&
             body.refund().original_device_id() == options.device_id) {
    SN_ASSIGN_OR_RETURN(sql::Stmt upd,
                        db->Prepare("UPDATE receipt_lines SET refunded_qty = refunded_qty + ?1 "
                                    "WHERE receipt_no = ?2 AND line_no = (SELECT line_no FROM "
                                    "receipt_lines WHERE receipt_no = ?2 AND sku = ?3 AND "
                                    "qty > refunded_qty AND unit_price = ?4 AND unit = ?5 "
                                    "ORDER BY line_no LIMIT 1)"));
    for (const v1::SaleLine& l : body.refund().lines()) {
      upd.Bind(1, lines::Quantity(l))
          .Bind(2, static_cast<int64_t>(body.refund().original_receipt_no()));
      upd.Bind(3, l.sku()).Bind(4, l.unit_price()).Bind(5, int64_t{l.unit()});
      SN_RETURN_IF_ERROR(upd.Run());
    }
  } else if (h.kind() == v1::DAY_SEALED) {
    SN_ASSIGN_OR_RETURN(sql::Stmt ins,
                        db->Prepare("INSERT INTO sealed_days(day, seq) VALUES(?, ?)"));
    ins.Bind(1, body.day_sealed().sealed_day()).Bind(2, static_cast<int64_t>(h.seq()));
    SN_RETURN_IF_ERROR(ins.Run());
  }
  return Status::Ok();
}

Result<Recorded> Journal::Impl::Append(v1::EventKind kind, v1::EventBody body,
                                       const std::string& day, int64_t now) {
  bool receipt = kind == v1::SALE || kind == v1::REFUND || kind == v1::VOID || kind == v1::EXCHANGE;
  v1::EventHeader h;
  h.set_schema_version(kSchemaVersion);
  h.set_journal_id(journal_id);
  h.set_store_id(options.store_id);
  h.set_device_id(options.device_id);
  h.set_seq(head.seq + 1);
  h.set_business_day(day);
  h.set_wall_time_us(now);
  h.set_kind(kind);
  h.set_settings_version(settings.version());
  if (receipt) h.set_receipt_no(head.receipt_no + 1);
  // Invariant 7: the open shift's, or the one this SIGN_ON opens.
  const bool opens = kind == v1::SIGN_ON;
  if (opens || shift_seq != 0) {
    const v1::CashierShift& of = opens ? body.shift() : shift;
    h.set_shift_seq(opens ? h.seq() : shift_seq);
    if (of.drawer() == v1::DRAWER_CASHIER) h.set_drawer_id(of.drawer_id());
  }
  // The seal closes the real day, whoever is at the till.
  if (training && kind != v1::GENESIS && kind != v1::DAY_SEALED) h.set_training(true);
  v1::JournalEvent ev = SealEvent(h, body, head.hash, key);

  Head next = head;
  next.seq = h.seq();
  next.receipt_no = receipt ? h.receipt_no() : head.receipt_no;
  next.hash = crypto::HashFromBytes(ev.hash()).value();
  next.business_day = std::max(head.business_day, day);
  if (kind == v1::DAY_SEALED) {
    next.last_sealed_day = std::max(head.last_sealed_day, body.day_sealed().sealed_day());
  }

  Status s = [&]() -> Status {
    sql::Transaction txn(*db);
    SN_RETURN_IF_ERROR(txn.begin_status());
    if (!insert_event) {
      SN_ASSIGN_OR_RETURN(insert_event,
                          db->Prepare("INSERT INTO events(seq, business_day, kind, receipt_no, "
                                      "wall_time_us, header, body, prev_hash, hash, signature) "
                                      "VALUES(?,?,?,?,?,?,?,?,?,?)"));
      SN_ASSIGN_OR_RETURN(write_head,
                          db->Prepare("INSERT OR REPLACE INTO head(id, seq, hash, receipt_no, "
                                      "business_day, last_sealed_day) VALUES(1,?,?,?,?,?)"));
    }
    sql::Stmt& ins = *insert_event;
    ins.Bind(1, static_cast<int64_t>(h.seq())).Bind(2, day).Bind(3, int64_t{kind});
    if (receipt) {
      ins.Bind(4, static_cast<int64_t>(h.receipt_no()));
    } else {
      ins.BindNull(4);
    }
    ins.Bind(5, h.wall_time_us()).BindBlob(6, ev.header()).BindBlob(7, ev.body());
    ins.BindBlob(8, ev.prev_hash()).BindBlob(9, ev.hash()).BindBlob(10, ev.signature());
    SN_RETURN_IF_ERROR(ins.Run());
    SN_RETURN_IF_ERROR(WriteSideTables(h, body));
    if (day != head.business_day) {
      SN_ASSIGN_OR_RETURN(sql::Stmt days, db->Prepare("INSERT OR IGNORE INTO days(day, first_seq) "
                                                      "VALUES(?, ?)"));
      days.Bind(1, day).Bind(2, static_cast<int64_t>(h.seq()));
      SN_RETURN_IF_ERROR(days.Run());
    }
    if (kind == v1::GENESIS) {
      SN_ASSIGN_OR_RETURN(sql::Stmt meta,
                          db->Prepare("INSERT INTO meta(key, value) VALUES('journal_id', ?)"));
      meta.BindBlob(1, journal_id);
      SN_RETURN_IF_ERROR(meta.Run());
    }
    sql::Stmt& upd = *write_head;
    upd.Bind(1, static_cast<int64_t>(next.seq)).BindBlob(2, ev.hash());
    upd.Bind(3, static_cast<int64_t>(next.receipt_no)).Bind(4, next.business_day);
    upd.Bind(5, next.last_sealed_day);
    SN_RETURN_IF_ERROR(upd.Run());
    return txn.Commit();
  }();
  if (!s.ok()) {
    if (kind != v1::GENESIS) (void)LoadHead();
    return s;
  }
  head = next;
  if (kind == v1::SIGN_ON) {
    shift_seq = h.seq();
    shift = body.shift();
  } else if (kind == v1::SIGN_OFF) {
    shift_seq = 0;
    shift.Clear();
  }
  Recorded rec;
  rec.seq = h.seq();
  rec.receipt_no = h.receipt_no();
  rec.business_day = day;
  rec.hash = next.hash;
  switch (kind) {
    case v1::SALE:
      rec.total = body.sale().total();
      break;
    case v1::REFUND:
      rec.total = body.refund().total();
      break;
    case v1::VOID:
      rec.total = body.void_receipt().total();
      break;
    case v1::EXCHANGE:
      rec.total = body.exchange().total();
      break;
    default:
      break;
  }
  return rec;
}

Result<std::unique_ptr<Journal>> Journal::Open(const Options& options) {
  if (options.journal_path.empty()) return Status::Invalid("journal_path is empty");
  if (options.store_id.empty() || options.device_id.empty()) {
    return Status::Invalid("store_id and device_id are required");
  }
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  // The clock fallback, once: options().clock is never null after Open.
  if (impl->options.clock == nullptr) impl->options.clock = SystemClock::Default();
  SN_RETURN_IF_ERROR(impl->Init());
  return std::unique_ptr<Journal>(new Journal(std::move(impl)));
}

Journal::Journal(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Journal::~Journal() = default;

Result<Recorded> Journal::RecordSale(const v1::Sale& sale) {
  std::lock_guard lock(impl_->mu);
  v1::EventBody body;
  v1::Sale* s = body.mutable_sale();
  *s = sale;
  int64_t now = impl_->Now();
  SN_RETURN_IF_ERROR(impl_->ShiftCashier(s->mutable_cashier()));
  SN_RETURN_IF_ERROR(impl_->PriceSale(s, now));
  SN_RETURN_IF_ERROR(impl_->CheckPromotionIds(*s));
  SN_RETURN_IF_ERROR(impl_->FillForeignTenders(s->mutable_tenders(), now));
  SN_RETURN_IF_ERROR(impl_->CheckTenders(s->tenders(), s->total()));
  SN_RETURN_IF_ERROR(impl_->CheckTenderDetails(s->mutable_tenders(), s->lines(), false));
  return impl_->Append(v1::SALE, std::move(body), impl_->CurrentDay(now), now);
}

Result<Recorded> Journal::RecordRefund(const v1::Refund& refund) {
  std::lock_guard lock(impl_->mu);
  v1::EventBody body;
  v1::Refund* r = body.mutable_refund();
  *r = refund;
  int64_t now = impl_->Now();
  SN_RETURN_IF_ERROR(impl_->ShiftCashier(r->mutable_cashier()));
  SN_RETURN_IF_ERROR(impl_->PriceRefund(r, now));
  SN_RETURN_IF_ERROR(NoForeignTenders(r->tenders()));
  SN_RETURN_IF_ERROR(impl_->CheckTenders(r->tenders(), r->total()));
  SN_RETURN_IF_ERROR(impl_->CheckTenderDetails(r->mutable_tenders(), r->lines(), true));
  return impl_->Append(v1::REFUND, std::move(body), impl_->CurrentDay(now), now);
}

Result<Recorded> Journal::RecordVoid(const v1::Void& void_receipt) {
  std::lock_guard lock(impl_->mu);
  v1::EventBody body;
  v1::Void* v = body.mutable_void_receipt();
  *v = void_receipt;
  SN_RETURN_IF_ERROR(impl_->Ready());
  SN_RETURN_IF_ERROR(impl_->ShiftCashier(v->mutable_cashier()));
  int64_t now = impl_->Now(), total = 0;
  SN_RETURN_IF_ERROR(impl_->PriceLines(v->mutable_lines(), &total, now));
  v->set_total(total);
  return impl_->Append(v1::VOID, std::move(body), impl_->CurrentDay(now), now);
}

Result<Recorded> Journal::RecordCashMovement(const v1::CashMovement& movement) {
  if (movement.type() < v1::OPENING_FLOAT || movement.type() > v1::TIP_PAYOUT) {
    return Status::Invalid("cash movement type not set");
  }
  if (movement.amount() <= 0) return Status::Invalid("cash movement amount must be positive");
  std::lock_guard lock(impl_->mu);
  v1::EventBody body;
  *body.mutable_cash_movement() = movement;
  SN_RETURN_IF_ERROR(impl_->Ready());
  SN_RETURN_IF_ERROR(impl_->ShiftCashier(body.mutable_cash_movement()->mutable_cashier()));
  SN_RETURN_IF_ERROR(fx::CheckMovementCurrency(movement, impl_->settings));
  int64_t now = impl_->Now();
  return impl_->Append(v1::CASH_MOVEMENT, std::move(body), impl_->CurrentDay(now), now);
}

Result<Recorded> Journal::RecordNoSale(const v1::NoSale& no_sale) {
  std::lock_guard lock(impl_->mu);
  v1::EventBody body;
  *body.mutable_no_sale() = no_sale;
  SN_RETURN_IF_ERROR(impl_->Ready());
  SN_RETURN_IF_ERROR(impl_->ShiftCashier(body.mutable_no_sale()->mutable_cashier()));
  int64_t now = impl_->Now();
  return impl_->Append(v1::NO_SALE, std::move(body), impl_->CurrentDay(now), now);
}

Result<Recorded> Journal::SignOn(const std::string& cashier, v1::DrawerOwner drawer,
                                 const std::string& drawer_id) {
  std::lock_guard lock(impl_->mu);
  v1::CashierShift shift;
  shift.set_cashier(cashier);
  shift.set_drawer(drawer);
  shift.set_drawer_id(drawer_id);
  return impl_->RecordShift(v1::SIGN_ON, std::move(shift));
}

Result<Recorded> Journal::SignOff() {
  std::lock_guard lock(impl_->mu);
  return impl_->RecordShift(v1::SIGN_OFF, {});
}

uint64_t Journal::open_shift_seq() const {
  std::lock_guard lock(impl_->mu);
  return impl_->shift_seq;
}

Result<v1::DayTotals> Journal::ShiftXReport(uint64_t shift_seq) const {
  std::lock_guard lock(impl_->mu);
  return TotalsOfShift(*impl_->db, shift_seq == 0 ? impl_->shift_seq : shift_seq);
}

Result<Recorded> Journal::RecordExchange(const v1::Exchange& exchange) {
  if (exchange.cashier().size() > 64) return Status::Invalid("cashier id longer than 64");
  std::lock_guard lock(impl_->mu);
  v1::EventBody body;
  v1::Exchange* e = body.mutable_exchange();
  *e = exchange;
  SN_RETURN_IF_ERROR(impl_->ShiftCashier(e->mutable_cashier()));
  SN_RETURN_IF_ERROR(impl_->Ready());
  int64_t now = impl_->Now();
  SN_RETURN_IF_ERROR(fx::FillExchange(e, impl_->settings, now));
  return impl_->Append(v1::EXCHANGE, std::move(body), impl_->CurrentDay(now), now);
}

Result<v1::Exchange> Journal::QuoteExchange(const v1::Exchange& exchange) const {
  std::lock_guard lock(impl_->mu);
  v1::Exchange e = exchange;
  SN_RETURN_IF_ERROR(impl_->Ready());
  SN_RETURN_IF_ERROR(fx::QuoteExchange(&e, impl_->settings, impl_->Now()));
  return e;
}

Result<Recorded> Journal::SealDay(const std::string& day, const std::string& requested_by) {
  if (!IsValidDay(day)) return Status::Invalid("'" + day + "' is not a day (want YYYY-MM-DD)");
  std::lock_guard lock(impl_->mu);
  sql::Db& db = *impl_->db;
  SN_ASSIGN_OR_RETURN(sql::Stmt sealed, db.Prepare("SELECT seq FROM sealed_days WHERE day = ?"));
  sealed.Bind(1, day);
  SN_ASSIGN_OR_RETURN(bool already, sealed.Step());
  if (already) {
    SN_ASSIGN_OR_RETURN(sql::Stmt ev, db.Prepare("SELECT business_day, hash FROM events "
                                                 "WHERE seq = ?"));
    ev.Bind(1, sealed.Int(0));
    SN_ASSIGN_OR_RETURN(bool row, ev.Step());
    if (!row) return Status::Corruption("seal of " + day + " points to a missing event");
    Recorded rec;
    rec.seq = static_cast<uint64_t>(sealed.Int(0));
    rec.business_day = ev.Text(0);
    SN_ASSIGN_OR_RETURN(rec.hash, crypto::HashFromBytes(ev.BlobView(1)));
    return rec;
  }
  // The seal is booked on the day it closes, unless the till has moved on.
  int64_t now = impl_->Now();
  std::string book_on = std::max(day, impl_->CurrentDay(now));
  SN_ASSIGN_OR_RETURN(sql::Stmt stats,
                      db.Prepare(std::string("SELECT COUNT(*), MIN(receipt_no), MAX(receipt_no) "
                                             "FROM events") +
                                 kEventsOfDay));
  stats.Bind(1, day);
  SN_ASSIGN_OR_RETURN(bool row, stats.Step());
  (void)row;
  v1::EventBody body;
  v1::DaySealed* s = body.mutable_day_sealed();
  s->set_sealed_day(day);
  s->set_first_receipt_no(static_cast<uint64_t>(stats.Int(1)));
  s->set_last_receipt_no(static_cast<uint64_t>(stats.Int(2)));
  s->set_event_count(static_cast<uint64_t>(stats.Int(0)) + (book_on == day ? 1 : 0));
  s->set_requested_by(requested_by);
  return impl_->Append(v1::DAY_SEALED, std::move(body), book_on, now);
}

Result<std::vector<Recorded>> Journal::SealDaysUpTo(const std::string& day,
                                                    const std::string& requested_by) {
  if (!IsValidDay(day)) return Status::Invalid("'" + day + "' is not a day (want YYYY-MM-DD)");
  std::vector<std::string> days;
  {
    std::lock_guard lock(impl_->mu);
    SN_ASSIGN_OR_RETURN(sql::Stmt stmt,
                        impl_->db->Prepare("SELECT day FROM days WHERE day < ? AND day NOT IN "
                                           "(SELECT day FROM sealed_days) ORDER BY day"));
    stmt.Bind(1, day);
    while (true) {
      SN_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      days.push_back(stmt.Text(0));
    }
  }
  days.push_back(day);
  std::vector<Recorded> out;
  for (const std::string& d : days) {
    SN_ASSIGN_OR_RETURN(Recorded rec, SealDay(d, requested_by));
    out.push_back(std::move(rec));
  }
  return out;
}

Status Journal::OpenDay(const std::string& day) {
  if (!IsValidDay(day)) return Status::Invalid("'" + day + "' is not a day (want YYYY-MM-DD)");
  std::lock_guard lock(impl_->mu);
  std::string current = impl_->CurrentDay(impl_->Now());
  if (day < current) {
    return Status::Invalid("business day cannot go backwards from " + current + " to " + day);
  }
  impl_->opened_day = day;
  return Status::Ok();
}

void Journal::SetTraining(bool on) {
  std::lock_guard lock(impl_->mu);
  impl_->training = on;
}

bool Journal::training() const {
  std::lock_guard lock(impl_->mu);
  return impl_->training;
}

Status Journal::PriceSale(v1::Sale* sale) const {
  std::lock_guard lock(impl_->mu);
  return impl_->PriceSale(sale, impl_->Now());
}

// --- Weighed goods: scanned codes, scale labels and measured items ---

Result<v1::Sale> Journal::SaleFromCatalog(const std::vector<ScannedLine>& lines) const {
  if (lines.empty()) return Status::Invalid("a receipt needs at least one line");
  const std::vector<scale::Layout> layouts = settings::ScaleLayouts(settings());
  // A scale label is looked up by its item code and carries its value.
  std::vector<std::string> codes;
  std::vector<std::optional<scale::Label>> labels;
  for (size_t i = 0; i < lines.size(); ++i) {
    auto label = layouts.empty() ? Result<scale::Label>(Status::NotFound(""))
                                 : scale::Parse(lines[i].code, layouts);
    if (!label.ok() && label.status().code() != Code::kNotFound) {
      return Status::Invalid("line " + std::to_string(i + 1) + ": " + label.status().message());
    }
    labels.push_back(label.ok() ? std::optional(*label) : std::nullopt);
    codes.push_back(label.ok() ? label->item_code : lines[i].code);
  }
  std::vector<v1::Promotion> in_catalog;
  SN_ASSIGN_OR_RETURN(std::vector<Item> items, impl_->catalog->LookupAll(codes, &in_catalog));
  v1::Sale sale;
  sale.set_catalog_version(items[0].catalog_version);
  for (size_t i = 0; i < lines.size(); ++i) {
    const ScannedLine& scan = lines[i];
    const Item& item = items[i];
    const std::string at = "line " + std::to_string(i + 1) + ": ";
    v1::SaleLine* line = sale.add_lines();
    line->set_sku(item.sku);
    if (scan.code != item.sku) line->set_barcode(scan.code);
    line->set_name(item.name);
    line->set_unit_price(item.price);
    line->set_discount(scan.discount);
    line->set_tax_code(item.tax_code);
    const char* unit = lines::UnitSymbol(item.unit);
    if (labels[i] && labels[i]->embedded == scale::Embedded::kPrice) {
      // The scale already multiplied weight by price: one piece at the
      // printed price, so the line's gross is that price exactly.
      line->set_qty(1);
      line->set_unit_price(labels[i]->value);
    } else if (labels[i]) {
      if (item.unit == v1::UNIT_PIECE) {
        return Status::Invalid(at + "scale label " + scan.code + " embeds a weight, but " +
                               item.sku + " is sold by the piece");
      }
      line->set_unit(item.unit);
      line->set_qty_milli(labels[i]->value);
    } else if (item.unit != v1::UNIT_PIECE) {
      if (scan.qty_milli <= 0) {
        return Status::Invalid(at + item.sku + " is sold by the " + unit +
                               ": give its quantity in thousandths (qty_milli)");
      }
      line->set_unit(item.unit);
      line->set_qty_milli(scan.qty_milli);
      line->set_tare_milli(scan.tare_milli);
      line->set_keyed_weight(scan.keyed_weight);
    } else {
      if (scan.qty_milli != 0) {
        return Status::Invalid(at + item.sku + " is sold by the piece: no qty_milli");
      }
      line->set_qty(scan.qty);
    }
  }
  std::vector<std::string> departments;
  for (const Item& item : items) departments.push_back(item.department);
  std::lock_guard lock(impl_->mu);
  const int64_t now = impl_->Now();
  SN_RETURN_IF_ERROR(impl_->ApplyPromotions(&sale, departments, in_catalog, now));
  SN_RETURN_IF_ERROR(impl_->PriceSale(&sale, now));
  return sale;
}

Status Journal::ApplyPromotions(v1::Sale* sale, const std::vector<std::string>& departments,
                                const std::vector<v1::Promotion>& promotions) const {
  std::lock_guard lock(impl_->mu);
  return impl_->ApplyPromotions(sale, departments, promotions, impl_->Now());
}

Status Journal::Impl::ApplyPromotions(v1::Sale* sale, const std::vector<std::string>& departments,
                                      const std::vector<v1::Promotion>& in_catalog,
                                      int64_t now) const {
  if (in_catalog.empty()) return Status::Ok();
  if (departments.size() != static_cast<size_t>(sale->lines_size())) {
    return Status::Invalid("promotions: " + std::to_string(departments.size()) +
                           " departments for " + std::to_string(sale->lines_size()) + " lines");
  }
  const int64_t local = calendar.zone().ToLocal(now);
  std::vector<v1::Promotion> in_force;
  for (const v1::Promotion& p : in_catalog) {
    if (promotions::InForce(p, local)) in_force.push_back(p);
  }
  if (in_force.empty()) return Status::Ok();
  std::vector<promotions::PricedLine> priced;
  for (int i = 0; i < sale->lines_size(); ++i) {
    const v1::SaleLine& l = sale->lines(i);
    promotions::PricedLine& p = priced.emplace_back();
    p.sku = l.sku();
    p.department = departments[static_cast<size_t>(i)];
    p.unit_price = l.unit_price();
    p.manual_discount = l.discount();
    // A line PriceLines will refuse takes no part (amount 0); a measured
    // line takes part in the basket only (FORMATS 10.6 rule 3).
    if (l.unit_price() < 0) continue;
    if (l.qty() > 0 && !__builtin_mul_overflow(l.qty(), l.unit_price(), &p.amount)) {
      p.qty = l.qty();
    } else if (l.qty() == 0 && l.qty_milli() > 0 && l.qty_milli() <= (int64_t{1} << 40)) {
      p.amount = RoundHalfAwayDiv(__int128{l.qty_milli()} * l.unit_price(), 1000);
    } else {
      p.amount = 0;
    }
  }
  std::vector<promotions::LineShares> shares = promotions::Apply(priced, in_force);
  for (int i = 0; i < sale->lines_size(); ++i) {
    v1::SaleLine* l = sale->mutable_lines(i);
    for (v1::LineDiscount& d : shares[static_cast<size_t>(i)]) {
      l->set_discount(l->discount() + d.amount());
      *l->add_promotions() = std::move(d);
    }
  }
  return Status::Ok();
}

// Strictness (docs/FORMATS.md 10.6): promotion ids are never deleted from
// a catalog, so a sale priced from a catalog version names only ids the
// replica holds, whatever version it is at now. A sale the POS priced
// itself (catalog_version 0) is checked only line by line (PriceLines).
Status Journal::Impl::CheckPromotionIds(const v1::Sale& sale) const {
  if (sale.catalog_version() == 0) return Status::Ok();
  std::vector<std::string> ids;
  for (const v1::SaleLine& l : sale.lines()) {
    for (const v1::LineDiscount& d : l.promotions()) ids.push_back(d.promotion_id());
  }
  if (ids.empty()) return Status::Ok();
  SN_ASSIGN_OR_RETURN(std::vector<std::string> unknown, catalog->UnknownPromotions(ids));
  if (!unknown.empty()) {
    return Status::Invalid("promotion " + unknown[0] + " is not in the catalog (version " +
                           std::to_string(catalog->version()) + ")");
  }
  return Status::Ok();
}

Result<Item> Journal::LookupItem(std::string_view code) const {
  return impl_->catalog->Lookup(code);
}

CatalogReplica& Journal::catalog() const { return *impl_->catalog; }

Result<v1::DayTotals> Journal::XReport(const std::string& day) const {
  std::lock_guard lock(impl_->mu);
  return TotalsOfDay(*impl_->db, day.empty() ? impl_->CurrentDay(impl_->Now()) : day);
}

Result<std::string> Journal::XReportText(const std::string& day) const {
  SN_ASSIGN_OR_RETURN(v1::DayTotals x, XReport(day));
  return FormatTillXText(x, settings());
}

Result<Journal::Impl::ReceiptEvent> Journal::Impl::FindReceipt(uint64_t receipt_no) const {
  SN_ASSIGN_OR_RETURN(sql::Stmt find, db->Prepare("SELECT seq FROM events WHERE receipt_no = ?"));
  find.Bind(1, static_cast<int64_t>(receipt_no));
  SN_ASSIGN_OR_RETURN(bool found, find.Step());
  if (!found) {
    return Status::NotFound(
        receipt_no > head.receipt_no
            ? fmt::format("receipt {} has not been issued (the last is {})", receipt_no,
                          head.receipt_no)
            : fmt::format("receipt {} has been pruned from this till", receipt_no));
  }
  SN_ASSIGN_OR_RETURN(auto events, ReadEventsLocked(static_cast<uint64_t>(find.Int(0)), 1));
  if (events.empty()) return Status::Corruption("receipt " + std::to_string(receipt_no) + " lost");
  ReceiptEvent r{std::move(events[0]), settings};
  // Printed under the settings it was recorded with, where the till has them.
  DecodedEvent d;
  SN_RETURN_IF_ERROR(DecodeEvent(r.event, &d));
  SN_ASSIGN_OR_RETURN(sql::Stmt doc, db->Prepare("SELECT doc FROM settings WHERE version = ?"));
  doc.Bind(1, static_cast<int64_t>(d.header.settings_version()));
  SN_ASSIGN_OR_RETURN(bool kept, doc.Step());
  if (kept) {
    SN_ASSIGN_OR_RETURN(r.settings, settings::Open(doc.BlobView(0)));
  }
  return r;
}

Result<std::string> Journal::ReceiptText(uint64_t receipt_no, int width) const {
  std::lock_guard lock(impl_->mu);
  SN_ASSIGN_OR_RETURN(Impl::ReceiptEvent r, impl_->FindReceipt(receipt_no));
  return FormatReceiptText(r.event, r.settings, width);
}

Result<std::string> Journal::ReceiptQr(uint64_t receipt_no) const {
  std::lock_guard lock(impl_->mu);
  SN_ASSIGN_OR_RETURN(Impl::ReceiptEvent r, impl_->FindReceipt(receipt_no));
  return ReceiptQrPayload(r.event);
}

Result<std::string> Journal::ReceiptQrSvg(uint64_t receipt_no) const {
  SN_ASSIGN_OR_RETURN(std::string payload, ReceiptQr(receipt_no));
  return QrSvg(payload);
}

Result<std::vector<v1::JournalEvent>> Journal::ReadEvents(uint64_t from, size_t max_events) const {
  std::lock_guard lock(impl_->mu);
  return impl_->ReadEventsLocked(from, max_events);
}

VerifyReport Journal::Verify() const {
  std::lock_guard lock(impl_->mu);
  return VerifyDb(*impl_->db);
}

Status Journal::SetAckedSeq(uint64_t seq) {
  std::lock_guard lock(impl_->mu);
  if (seq == impl_->acked_seq) return Status::Ok();
  SN_ASSIGN_OR_RETURN(sql::Stmt stmt, impl_->db->Prepare("INSERT OR REPLACE INTO meta(key, value) "
                                                         "VALUES('acked_seq', ?)"));
  stmt.Bind(1, static_cast<int64_t>(seq));
  SN_RETURN_IF_ERROR(stmt.Run());
  impl_->acked_seq = seq;
  return Status::Ok();
}

uint64_t Journal::acked_seq() const {
  std::lock_guard lock(impl_->mu);
  return impl_->acked_seq;
}

Result<uint64_t> Journal::Prune(int retention_days) {
  std::lock_guard lock(impl_->mu);
  Impl& j = *impl_;
  int64_t cutoff = j.options.clock->NowMicros() - int64_t{retention_days} * 86'400'000'000;
  // The newest event that is both acked and old enough; everything from 2 up
  // to it goes. Genesis stays: it carries the key.
  SN_ASSIGN_OR_RETURN(sql::Stmt last,
                      j.db->Prepare("SELECT seq, hash FROM events WHERE seq > 1 AND seq <= ? "
                                    "AND wall_time_us < ? ORDER BY seq DESC LIMIT 1"));
  last.Bind(1, static_cast<int64_t>(j.acked_seq)).Bind(2, cutoff);
  SN_ASSIGN_OR_RETURN(bool any, last.Step());
  if (!any) return uint64_t{0};
  uint64_t upto = static_cast<uint64_t>(last.Int(0));
  std::string hash = last.Blob(1);
  sql::Transaction txn(*j.db);
  SN_RETURN_IF_ERROR(txn.begin_status());
  SN_ASSIGN_OR_RETURN(sql::Stmt del,
                      j.db->Prepare("DELETE FROM events WHERE seq > 1 AND seq <= ?"));
  del.Bind(1, static_cast<int64_t>(upto));
  SN_RETURN_IF_ERROR(del.Run());
  uint64_t removed = static_cast<uint64_t>(j.db->Changes());
  SN_ASSIGN_OR_RETURN(sql::Stmt anchor, j.db->Prepare("INSERT OR REPLACE INTO anchor(id, seq, "
                                                      "hash) VALUES(1, ?, ?)"));
  anchor.Bind(1, static_cast<int64_t>(upto)).BindBlob(2, hash);
  SN_RETURN_IF_ERROR(anchor.Run());
  SN_RETURN_IF_ERROR(txn.Commit());
  j.anchor_seq = upto;
  j.anchor_hash = crypto::HashFromBytes(hash).value();
  return removed;
}

uint64_t Journal::anchor_seq() const {
  std::lock_guard lock(impl_->mu);
  return impl_->anchor_seq;
}

crypto::Hash Journal::anchor_hash() const {
  std::lock_guard lock(impl_->mu);
  return impl_->anchor_hash;
}

int64_t Journal::WallTimeOf(uint64_t seq) const {
  std::lock_guard lock(impl_->mu);
  auto stmt = impl_->db->Prepare("SELECT wall_time_us FROM events WHERE seq = ?");
  if (!stmt.ok()) return 0;
  stmt->Bind(1, static_cast<int64_t>(seq));
  auto row = stmt->Step();
  return row.ok() && *row ? stmt->Int(0) : 0;
}

std::string Journal::business_day() const {
  std::lock_guard lock(impl_->mu);
  return impl_->CurrentDay(impl_->Now());
}

Status Journal::ApplySettings(std::string_view signed_settings) {
  std::lock_guard lock(impl_->mu);
  return impl_->ApplySettings(signed_settings);
}

v1::StoreSettings Journal::settings() const {
  std::lock_guard lock(impl_->mu);
  return impl_->settings;
}

uint64_t Journal::head_seq() const {
  std::lock_guard lock(impl_->mu);
  return impl_->head.seq;
}

const std::string& Journal::journal_id() const { return impl_->journal_id; }
const crypto::PublicKey& Journal::public_key() const { return impl_->key.public_key(); }
const Options& Journal::options() const { return impl_->options; }

}  // namespace storenode::edge
