#include "settings.h"

#include <spdlog/spdlog.h>

#include "storenode/common/fault.h"
#include "storenode/common/files.h"
#include "storenode/common/money.h"
#include "storenode/common/topics.h"

namespace storenode::fog {
namespace {

// Two documents say the same when they differ at most in version and time.
bool SameTerms(v1::StoreSettings a, v1::StoreSettings b) {
  for (v1::StoreSettings* s : {&a, &b}) {
    s->clear_version();
    s->clear_issued_us();
  }
  return a.SerializeAsString() == b.SerializeAsString();
}

std::string Percent(int32_t bp) { return Money(bp).ToString(2) + "%"; }

}  // namespace

v1::StoreSettings SettingsIssuer::FromConfig() const {
  const StoreTerms& t = config_.store;
  v1::StoreSettings s;
  s.set_store_id(config_.store_id);
  s.set_name(t.name);
  s.set_address(t.address);
  s.set_tax_id(t.tax_id);
  s.set_time_zone(t.time_zone);
  s.set_day_start_minutes(t.day_start_minutes);
  s.set_currency(t.currency);
  s.set_currency_decimals(t.currency_decimals);
  s.set_cash_rounding(t.cash_rounding);
  s.set_locale(t.locale);
  for (const v1::TaxRateEntry& e : t.tax_rates) *s.add_tax_rates() = e;
  return s;
}

Status SettingsIssuer::Load() {
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
  v1::StoreSettings next = FromConfig();
  if (versions_.empty() || !SameTerms(current(), next)) {
    uint64_t version = versions_.empty() ? 1 : current().version() + 1;
    next.set_version(version);
    next.set_issued_us(clock_.NowMicros());
    SN_RETURN_IF_ERROR(settings::Check(next));
    if (!versions_.empty()) {
      Status edit = settings::CheckOnlyAdds(current(), next);
      // Both are the operator's to fix in fog.toml: exit 2, like a bad config.
      if (!edit.ok()) return Status::Precondition(config_.source + ": [store]: " + edit.message());
    }
    Issued issued{next, settings::Sign(next, key_).SerializeAsString()};
    if (issued.signed_bytes.size() > topics::kMaxSettingsBytes) {
      return Status::Precondition(config_.source + ": [store]: the settings document would be " +
                                  std::to_string(issued.signed_bytes.size()) +
                                  " bytes, more than a till takes (" +
                                  std::to_string(topics::kMaxSettingsBytes) + ")");
    }
    sql::Transaction txn(db_);
    SN_RETURN_IF_ERROR(txn.begin_status());
    SN_ASSIGN_OR_RETURN(sql::Stmt ins, db_.Prepare("INSERT INTO settings_versions(version, "
                                                   "issued_us, doc) VALUES(?, ?, ?)"));
    ins.Bind(1, static_cast<int64_t>(version)).Bind(2, next.issued_us());
    ins.BindBlob(3, issued.signed_bytes);
    SN_RETURN_IF_ERROR(ins.Run());
    SN_RETURN_IF_ERROR(actions_.Append(
        "fog.toml", "settings",
        "store settings version " + std::to_string(version) + " from " + config_.source));
    CrashPoint("settings-before-commit");
    SN_RETURN_IF_ERROR(txn.Commit());
    CrashPoint("settings-after-commit");
    spdlog::info("store settings version {} issued from {}", version, config_.source);
    versions_[version] = std::move(issued);
  }
  SN_ASSIGN_OR_RETURN(calendar_, settings::Calendar::Of(current()));
  return files::WriteAtomic(config_.data_dir + "/settings.pb",
                            versions_.rbegin()->second.signed_bytes, 0644);
}

mqtt::Message SettingsIssuer::Retained() const {
  mqtt::Message m;
  m.topic = topics::Settings(config_.store_id);
  m.payload = versions_.rbegin()->second.signed_bytes;
  m.retained = true;
  return m;
}

std::string SettingsIssuer::CheckEvent(const DecodedEvent& event) const {
  const v1::EventHeader& h = event.header;
  if (h.settings_version() == 0) return "";
  auto issued = versions_.find(h.settings_version());
  auto at = [&] { return "seq " + std::to_string(h.seq()) + ": "; };  // only for a reason
  if (issued == versions_.end()) {
    return at() + "store settings version " + std::to_string(h.settings_version()) +
           " was never issued by this fog";
  }
  const v1::StoreSettings& s = issued->second.settings;
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
  for (int i = 0; i < lines->size(); ++i) {
    const v1::SaleLine& l = (*lines)[i];
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
