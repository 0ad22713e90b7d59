#include "settings.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>

#include "storenode/common/fault.h"
#include "storenode/common/files.h"
#include "storenode/common/fx.h"
#include "storenode/common/head_office.h"
#include "storenode/common/lines.h"
#include "storenode/common/money.h"
#include "storenode/common/tender_rules.h"
#include "storenode/common/topics.h"

namespace storenode::fog {
namespace {

// Invariant 2: one row, the fog.toml terms the fog last issued from.
constexpr const char* kFogTomlSchema = R"sql(
CREATE TABLE IF NOT EXISTS settings_fog_toml(
  id INTEGER PRIMARY KEY CHECK(id = 1),
  terms_sha256 BLOB NOT NULL,
  version INTEGER NOT NULL);
)sql";

// Two documents say the same when they differ at most in version and time.
v1::StoreSettings Terms(v1::StoreSettings s) {
  s.clear_version();
  s.clear_issued_us();
  return s;
}
bool SameTerms(const v1::StoreSettings& a, const v1::StoreSettings& b) {
  return Terms(a).SerializeAsString() == Terms(b).SerializeAsString();
}

std::string Percent(int32_t bp) { return Money(bp).ToString(2) + "%"; }

// Invariant 5: a version without a sheet of its own keeps the one in force.
void CarrySheet(const v1::StoreSettings& from, v1::StoreSettings* to) {
  if (to->rate_sheet_version() != 0) return;
  to->set_rate_sheet_version(from.rate_sheet_version());
  *to->mutable_fx_rates() = from.fx_rates();
  to->set_rate_sheet_issued_us(from.rate_sheet_issued_us());
}

bool HasForeign(const google::protobuf::RepeatedPtrField<v1::Tender>& tenders) {
  return std::any_of(tenders.begin(), tenders.end(),
                     [](const v1::Tender& t) { return t.has_foreign(); });
}

// Foreign cash and exchanges, by the till's own rules (common/fx.h) against
// the settings `s` the event names ("" when fine). `s` is null for an
// event of a journal from before store settings, which has none of them.
std::string CheckFx(const DecodedEvent& event, const v1::StoreSettings* s) {
  const v1::EventHeader& h = event.header;
  const v1::EventBody& b = event.body;
  const bool fx = h.kind() == v1::EXCHANGE ||
                  (h.kind() == v1::SALE && HasForeign(b.sale().tenders())) ||
                  (h.kind() == v1::REFUND && HasForeign(b.refund().tenders())) ||
                  (h.kind() == v1::CASH_MOVEMENT && !b.cash_movement().currency().empty());
  if (!fx) return "";
  if (s == nullptr) return "foreign currency without store settings";
  switch (h.kind()) {
    case v1::SALE:
      for (int i = 0; i < b.sale().tenders_size(); ++i) {
        const v1::Tender& t = b.sale().tenders(i);
        if (!t.has_foreign()) continue;
        if (Status st = fx::CheckForeignTender(t, *s, h.wall_time_us()); !st.ok()) {
          return "tender " + std::to_string(i + 1) + ": " + st.message();
        }
      }
      return "";
    case v1::EXCHANGE:
      return fx::CheckExchange(b.exchange(), *s, h.wall_time_us()).message();
    case v1::CASH_MOVEMENT:
      return fx::CheckMovementCurrency(b.cash_movement(), *s).message();
    default:
      return "a refund pays back in home money, not in foreign notes";
  }
}

}  // namespace

Status SettingsIssuer::Load() {
  SN_RETURN_IF_ERROR(db_.Exec(kFogTomlSchema));
  SN_ASSIGN_OR_RETURN(sql::Stmt all,
                      db_.Prepare("SELECT version, doc FROM settings_versions ORDER BY version"));
  while (true) {
    SN_ASSIGN_OR_RETURN(bool row, all.Step());
    if (!row) break;
    Issued issued;
    issued.signed_bytes = all.Blob(1);
    SN_ASSIGN_OR_RETURN(issued.settings, settings::Open(issued.signed_bytes, &key_.public_key()));
    versions_[issued.settings.version()] = std::move(issued);
  }
  v1::StoreSettings terms = TermsDocument(config_.store_id, config_.store);
  const crypto::Hash hash = crypto::Sha256Of(terms.SerializeAsString());
  if (!versions_.empty()) CarrySheet(current(), &terms);
  const std::string digest(hash.begin(), hash.end());
  bool changed = true;
  {
    SN_ASSIGN_OR_RETURN(sql::Stmt marker,
                        db_.Prepare("SELECT terms_sha256 FROM settings_fog_toml WHERE id = 1"));
    SN_ASSIGN_OR_RETURN(bool marked, marker.Step());
    changed = !marked || marker.Blob(0) != digest;
  }
  auto mark = [&](uint64_t version) -> Status {
    SN_ASSIGN_OR_RETURN(sql::Stmt put,
                        db_.Prepare("INSERT OR REPLACE INTO settings_fog_toml(id, terms_sha256, "
                                    "version) VALUES(1, ?, ?)"));
    put.BindBlob(1, digest).Bind(2, static_cast<int64_t>(version));
    return put.Run();
  };
  if (versions_.empty() || (changed && !SameTerms(current(), terms))) {
    auto issued = Issue(terms, "fog.toml", "settings", config_.source, [&](uint64_t version) {
      SN_RETURN_IF_ERROR(mark(version));
      CrashPoint("settings-before-commit");
      return Status::Ok();
    });
    // The operator's to fix in fog.toml: exit 2, like a bad config.
    if (!issued.ok() && issued.status().code() == Code::kInvalidArgument) {
      return Status::Precondition(config_.source + ": [store]: " + issued.status().message());
    }
    SN_RETURN_IF_ERROR(issued.status());
    CrashPoint("settings-after-commit");
    spdlog::info("store settings version {} issued from {}", *issued, config_.source);
  } else if (changed) {
    // Already in force (made by head office, or a fog.db from before the
    // marker): nothing to issue, only the terms to remember.
    SN_RETURN_IF_ERROR(mark(current().version()));
  }
  return TakeNewest();
}

Status SettingsIssuer::TakeNewest() {
  SN_ASSIGN_OR_RETURN(calendar_, settings::Calendar::Of(current()));
  return files::WriteAtomic(config_.data_dir + "/settings.pb",
                            versions_.rbegin()->second.signed_bytes, 0644);
}

Result<uint64_t> SettingsIssuer::IssueRelease(
    v1::StoreSettings terms, uint64_t release_id,
    const std::function<Status(uint64_t version)>& in_transaction) {
  const v1::StoreSettings& now = current();
  if (terms.store_id().empty()) terms.set_store_id(now.store_id());
  if (terms.name().empty()) terms.set_name(now.name());
  if (terms.address().empty()) terms.set_address(now.address());
  if (terms.tax_id().empty()) terms.set_tax_id(now.tax_id());
  CarrySheet(now, &terms);
  SN_ASSIGN_OR_RETURN(uint64_t version,
                      Issue(std::move(terms), head_office::kActor, "settings-release",
                            "head-office release " + std::to_string(release_id), in_transaction));
  // Committed: a failure now is not a refusal. Load() does it again at start.
  if (Status s = TakeNewest(); !s.ok()) {
    spdlog::error("store settings version {}: {}", version, s.ToString());
  }
  return version;
}

Result<uint64_t> SettingsIssuer::Issue(
    v1::StoreSettings next, const std::string& actor, const std::string& action,
    const std::string& from, const std::function<Status(uint64_t version)>& in_transaction) {
  const uint64_t version = versions_.empty() ? 1 : current().version() + 1;
  next.set_version(version);
  next.set_issued_us(clock_.NowMicros());
  SN_RETURN_IF_ERROR(settings::Check(next));
  if (!versions_.empty()) SN_RETURN_IF_ERROR(settings::CheckNext(current(), next));
  Issued issued{next, settings::Sign(next, key_).SerializeAsString()};
  if (issued.signed_bytes.size() > topics::kMaxSettingsBytes) {
    return Status::Invalid(
        "the settings document would be " + std::to_string(issued.signed_bytes.size()) +
        " bytes, more than a till takes (" + std::to_string(topics::kMaxSettingsBytes) + ")");
  }
  sql::Transaction txn(db_);
  SN_RETURN_IF_ERROR(txn.begin_status());
  SN_ASSIGN_OR_RETURN(sql::Stmt ins, db_.Prepare("INSERT INTO settings_versions(version, "
                                                 "issued_us, doc) VALUES(?, ?, ?)"));
  ins.Bind(1, static_cast<int64_t>(version)).Bind(2, next.issued_us());
  ins.BindBlob(3, issued.signed_bytes);
  SN_RETURN_IF_ERROR(ins.Run());
  SN_RETURN_IF_ERROR(actions_.Append(
      actor, action, "store settings version " + std::to_string(version) + " from " + from));
  SN_RETURN_IF_ERROR(in_transaction(version));
  SN_RETURN_IF_ERROR(txn.Commit());
  versions_[version] = std::move(issued);
  return version;
}

v1::FogResponse SettingsIssuer::ImportRates(const v1::RatesImportRequest& request,
                                            const std::string& actor) {
  v1::FogResponse r;
  const std::string file = request.file_name().substr(0, 256);
  auto rates = fx::ParseRateSheet(request.csv(), current());
  if (!rates.ok()) {
    r.set_error((file.empty() ? "rate sheet" : file) + ": " + rates.status().message());
    return r;
  }
  v1::StoreSettings next = current();
  next.clear_fx_rates();
  for (v1::FxRateEntry& e : *rates) *next.add_fx_rates() = std::move(e);
  next.set_rate_sheet_version(current().rate_sheet_version() + 1);
  next.set_rate_sheet_issued_us(clock_.NowMicros());
  auto version = Issue(next, actor, "rates-import",
                       "rate sheet " + std::to_string(next.rate_sheet_version()) +
                           (file.empty() ? "" : " (" + file + ")"),
                       [](uint64_t) { return Status::Ok(); });
  if (!version.ok()) {
    r.set_error("rate sheet refused: " + version.status().message());
    return r;
  }
  if (Status s = TakeNewest(); !s.ok()) {
    spdlog::error("store settings version {}: {}", *version, s.ToString());
  }
  v1::RatesImportResponse* out = r.mutable_rates_import();
  out->set_settings_version(*version);
  out->set_rate_sheet_version(next.rate_sheet_version());
  *out->mutable_rates() = current().fx_rates();
  r.set_ok(true);
  return r;
}

mqtt::Message SettingsIssuer::Retained() const {
  mqtt::Message m;
  m.topic = topics::Settings(config_.store_id);
  m.payload = versions_.rbegin()->second.signed_bytes;
  m.retained = true;
  return m;
}

// The tenders of a sale or refund by the rules the journal applies
// (tender_rules.h), and a redeemed voucher's type as the settings have it.
static std::string TenderProblem(const DecodedEvent& event, const v1::StoreSettings& s) {
  const bool refund = event.header.kind() == v1::REFUND;
  if (!refund && event.header.kind() != v1::SALE) return "";
  const auto& tenders = refund ? event.body.refund().tenders() : event.body.sale().tenders();
  for (int i = 0; i < tenders.size(); ++i) {
    const v1::Tender& t = tenders[i];
    const std::string at = "tender " + std::to_string(i + 1) + ": ";
    if (std::string why = TenderDetailsProblem(t, refund); !why.empty()) return at + why;
    if (!t.has_voucher()) continue;
    if (refund) return at + "a refund does not load a voucher card";
    const v1::VoucherType* type = settings::FindVoucherType(s, t.voucher().voucher_type());
    if (type == nullptr || type->purpose() != t.voucher().purpose()) {
      return at + "voucher type '" + t.voucher().voucher_type() + "' is not one of store " +
             "settings version " + std::to_string(s.version()) + " with that purpose";
    }
    // An SPV's tax, taken off the tax table, as the journal computes it.
    const v1::VoucherRedemption& r = t.voucher();
    const int64_t tax = TaxIncluded(Money(t.amount()), TaxRate{r.tax_rate_bp()}).minor();
    if (type->purpose() == v1::SINGLE_PURPOSE &&
        (r.tax_code() != type->tax_code() || r.tax() != tax)) {
      return at + "single-purpose voucher tax " + r.tax_code() + " " + std::to_string(r.tax()) +
             " is not its type's code " + type->tax_code() + " and the tax in its amount";
    }
  }
  return "";
}

namespace {

// Weighed goods and corrections: what the till must have checked, checked
// again (docs/FORMATS.md, "Measured lines", "Corrections"). "" when fine.
std::string CheckLines(const google::protobuf::RepeatedPtrField<v1::SaleLine>& lines,
                       const std::string& what) {
  for (int i = 0; i < lines.size(); ++i) {
    const v1::SaleLine& l = lines[i];
    const std::string at = what + " " + std::to_string(i + 1) + ": ";
    if (Status q = lines::CheckQuantity(l); !q.ok()) return at + q.message();
    try {
      if (l.gross() != (lines::Extended(l) - Money(l.discount())).minor()) {
        return at + "gross " + Money(l.gross()).ToString() + " is not extended price less discount";
      }
    } catch (const std::overflow_error&) {
      return at + "amount overflows";
    }
    if (l.has_price_override() &&
        (l.price_override().reason_code().empty() || l.price_override().supervisor_id().empty())) {
      return at + "a price override without reason code or supervisor";
    }
  }
  return "";
}

std::string CheckCorrections(const DecodedEvent& event, const v1::StoreSettings& s) {
  const v1::EventBody& b = event.body;
  switch (event.header.kind()) {
    case v1::SALE: {
      std::string bad = CheckLines(b.sale().lines(), "line");
      return bad.empty() ? CheckLines(b.sale().voided_lines(), "voided line") : bad;
    }
    case v1::VOID:
      return CheckLines(b.void_receipt().lines(), "line");
    case v1::REFUND: {
      const v1::Refund& r = b.refund();
      if (r.without_receipt() &&
          (r.reason().empty() || r.total() > s.no_receipt_refund_limit() ||
           (r.total() > s.no_receipt_supervisor_above() && r.supervisor_id().empty()))) {
        return "a return without a receipt of " + Money(r.total()).ToString() +
               " outside the store settings' terms (reason, limit, supervisor)";
      }
      return CheckLines(r.lines(), "line");
    }
    default:
      return "";
  }
}

}  // namespace

std::string SettingsIssuer::CheckEvent(const DecodedEvent& event) const {
  const v1::EventHeader& h = event.header;
  auto at = [&] { return "seq " + std::to_string(h.seq()) + ": "; };  // only for a reason
  if (h.settings_version() == 0) {
    std::string fx = CheckFx(event, nullptr);
    return fx.empty() ? "" : at() + fx;
  }
  auto issued = versions_.find(h.settings_version());
  if (issued == versions_.end()) {
    return at() + "store settings version " + std::to_string(h.settings_version()) +
           " was never issued by this fog";
  }
  const v1::StoreSettings& s = issued->second.settings;
  if (std::string bad = CheckCorrections(event, s); !bad.empty()) return at() + bad;
  if (std::string fx = CheckFx(event, &s); !fx.empty()) return at() + fx;
  const google::protobuf::RepeatedPtrField<v1::SaleLine>* lines = nullptr;
  bool refund = false;
  switch (h.kind()) {
    case v1::SALE:
      lines = &event.body.sale().lines();
      break;
    case v1::VOID:
      lines = &event.body.void_receipt().lines();
      break;
    case v1::REFUND:
      lines = &event.body.refund().lines();
      refund = true;
      break;
    default:
      return "";
  }
  if (std::string why = TenderProblem(event, s); !why.empty()) return at() + why;
  for (int i = 0; i < lines->size(); ++i) {
    const v1::SaleLine& l = (*lines)[i];
    if (l.has_voucher()) {
      const v1::VoucherType* type = settings::FindVoucherType(s, l.voucher().voucher_type());
      if (type == nullptr || type->purpose() != l.voucher().purpose()) {
        return at() + "line " + std::to_string(i + 1) + ": voucher type '" +
               l.voucher().voucher_type() + "' is not one of store settings version " +
               std::to_string(s.version()) + " with that purpose";
      }
      // An MPV is not taxed when sold (docs/FORMATS.md "Vouchers").
      if (type->purpose() == v1::MULTI_PURPOSE) {
        if (l.tax() != 0 || !l.tax_code().empty()) {
          return at() + "line " + std::to_string(i + 1) + ": a multi-purpose voucher carries tax";
        }
        continue;
      }
    }
    const v1::TaxRateEntry* e = settings::RateAt(s, l.tax_code(), h.wall_time_us());
    bool rate_ok = e != nullptr && (refund ? settings::RateKnownBy(s, l.tax_code(), l.tax_rate_bp(),
                                                                   h.wall_time_us())
                                           : e->rate_bp() == l.tax_rate_bp());
    if (!rate_ok || e->name() != l.tax_name()) {
      return at() + "line " + std::to_string(i + 1) + ": tax " + l.tax_code() + " '" +
             l.tax_name() + "' at " + Percent(l.tax_rate_bp()) + ", but store settings version " +
             std::to_string(s.version()) + " have " +
             (e ? "'" + e->name() + "' at " + Percent(e->rate_bp()) : std::string("no such code")) +
             " at " + calendar_->zone().Format(h.wall_time_us());
    }
  }
  return "";
}

}  // namespace storenode::fog
