#include "storenode/common/config.h"

#include <sstream>

#include "access.h"
#include "console.h"
#include "storenode/common/crypto.h"
#include "storenode/common/money.h"
#include "storenode/common/store_settings.h"
#include "storenode/common/topics.h"
#include "storenode/fog/fog.h"

namespace storenode::fog {
namespace {

constexpr int64_t kHourMs = 3600 * 1000;

// "19%", "5.5%", "7.25%" -> basis points; at most two decimals, 0..100%.
Result<int32_t> ParsePercent(std::string_view text) {
  auto bad =
      Status::Invalid("rate '" + std::string(text) + "' is not a percentage like 19% or 5.5%");
  if (text.size() < 2 || text.back() != '%') return bad;
  auto value = Money::Parse(text.substr(0, text.size() - 1), 2);
  if (!value.ok() || value->minor() < 0 || value->minor() > 10000) return bad;
  return static_cast<int32_t>(value->minor());
}

// [store.voucher.ID]: name, purpose ("single" or "multi"), tax (an SPV's
// code), offline_limit and max_load (amounts, "50.00"). settings::Check
// judges the rest when the document is issued.
Status ReadVoucherTypes(ConfigReader& r, const std::string& path, int decimals, StoreTerms* t) {
  for (const std::string& id : r.TableKeys("store.voucher")) {
    const std::string key = "store.voucher." + id;
    auto bad = [&](const std::string& field, const std::string& why) {
      return Status::Invalid(path + ": key '" + key + field + "': " + why);
    };
    v1::VoucherType& v = t->voucher_types.emplace_back();
    v.set_id(id);
    v.set_name(r.String(key + ".name"));
    const std::string purpose = r.String(key + ".purpose");
    v.set_tax_code(r.String(key + ".tax", ""));
    const std::string offline = r.String(key + ".offline_limit", "0");
    const std::string max_load = r.String(key + ".max_load", "500");
    SN_RETURN_IF_ERROR(r.status());
    if (purpose == "single") {
      v.set_purpose(v1::SINGLE_PURPOSE);
    } else if (purpose == "multi") {
      v.set_purpose(v1::MULTI_PURPOSE);
    } else {
      return bad(".purpose", "'" + purpose + "': want \"single\" or \"multi\"");
    }
    auto limit = Money::Parse(offline, decimals);
    if (!limit.ok()) return bad(".offline_limit", limit.status().message());
    v.set_offline_limit(limit->minor());
    auto load = Money::Parse(max_load, decimals);
    if (!load.ok()) return bad(".max_load", load.status().message());
    v.set_max_load(load->minor());
  }
  return Status::Ok();
}

// "21 5 price 4 check": prefix, item digits, price|measure, value digits,
// and "check" for a price check digit (common/scale_label.h).
Result<v1::ScaleLabelLayout> ParseScaleLayout(const std::string& text) {
  auto bad = Status::Invalid("scale label '" + text +
                             "': want \"PREFIX ITEM_DIGITS price|measure VALUE_DIGITS [check]\"");
  std::istringstream in(text);
  std::string prefix, what, check, extra;
  int item = 0, value = 0;
  if (!(in >> prefix >> item >> what >> value) || (what != "price" && what != "measure")) {
    return bad;
  }
  in >> check >> extra;
  if ((!check.empty() && check != "check") || !extra.empty()) return bad;
  v1::ScaleLabelLayout l;
  l.set_prefix(prefix);
  l.set_item_digits(static_cast<uint32_t>(std::max(item, 0)));
  l.set_embeds_price(what == "price");
  l.set_value_digits(static_cast<uint32_t>(std::max(value, 0)));
  l.set_price_check(check == "check");
  return l;
}

// The [store] keys of weighed goods and corrections.
Status ReadCorrectionTerms(ConfigReader& r, const std::string& path, StoreTerms* t) {
  for (const std::string& text : r.StringList("store.scale_labels")) {
    auto layout = ParseScaleLayout(text);
    if (!layout.ok()) {
      return Status::Invalid(path + ": key 'store.scale_labels': " + layout.status().message());
    }
    t->scale_labels.push_back(*layout);
  }
  constexpr int64_t kMaxLimit = 1'000'000'000;
  t->no_receipt_refund_limit = r.Int("store.no_receipt_refund_limit", 0, {0, kMaxLimit});
  t->no_receipt_supervisor_above = r.Int("store.no_receipt_supervisor_above", 0, {0, kMaxLimit});
  t->price_override_reasons = r.StringList("store.price_override_reasons");
  return r.status();
}

// "2% min 1.50 max 15.00": a percentage (at most two decimals, up to 50%)
// and the bounds in the home currency's minor units.
Result<v1::FxCommission> ParseCommission(std::string_view text, int decimals) {
  auto bad = Status::Invalid("commission '" + std::string(text.substr(0, 64)) +
                             "' is not like \"2% min 1.50 max 15.00\"");
  std::vector<std::string_view> w;
  for (size_t start = 0; start <= text.size();) {
    size_t space = text.find(' ', start);
    if (space == std::string_view::npos) space = text.size();
    if (space > start) w.push_back(text.substr(start, space - start));
    start = space + 1;
  }
  if (w.size() != 5 || w[1] != "min" || w[3] != "max") return bad;
  auto bp = ParsePercent(w[0]);
  auto min = Money::Parse(w[2], decimals);
  auto max = Money::Parse(w[4], decimals);
  if (!bp.ok() || !min.ok() || !max.ok() || *bp > 5000 || min->minor() < 0 || *max < *min) {
    return bad;
  }
  v1::FxCommission c;
  c.set_rate_bp(*bp);
  c.set_min(min->minor());
  c.set_max(max->minor());
  return c;
}

// [store]: the store's terms. Tax entries are "YYYY-MM-DDTHH:MM RATE%",
// local time, resolved in the store's zone.
Status ReadStoreTerms(ConfigReader& r, const std::string& path, StoreTerms* t) {
  auto bad = [&](const std::string& key, const std::string& why) {
    return Status::Invalid(path + ": key '" + key + "': " + why);
  };
  t->name = r.String("store.name", "");
  t->address = r.String("store.address", "");
  t->tax_id = r.String("store.tax_id", "");
  t->time_zone = r.String("store.time_zone");
  std::string day_start = r.String("store.day_start", "00:00");
  t->currency = r.String("store.currency");
  t->cash_rounding = r.Int("store.cash_rounding", t->cash_rounding, {1, 1000000});
  t->locale = r.String("store.locale", t->locale);
  if (r.Has("catalog.tax_codes")) {
    return bad("catalog.tax_codes",
               "moved: the tax codes are the store's tax table, [store.tax.CODE] "
               "(docs/DEPLOY.md, \"Upgrading to store settings\")");
  }
  const std::string buy_commission = r.String("store.fx.buy_commission", "0% min 0 max 0");
  const std::string sell_commission = r.String("store.fx.sell_commission", "0% min 0 max 0");
  const std::string aml_threshold = r.String("store.fx.aml_threshold", "");
  std::vector<std::string> codes = r.TableKeys("store.tax");
  std::map<std::string, std::vector<std::string>> rates;
  std::map<std::string, std::string> names;
  for (const std::string& code : codes) {
    names[code] = r.String("store.tax." + code + ".name");
    rates[code] = r.StringList("store.tax." + code + ".rates");
  }
  SN_RETURN_IF_ERROR(r.status());
  SN_RETURN_IF_ERROR(ReadCorrectionTerms(r, path, t));
  auto zone = settings::Zone::Find(t->time_zone);
  if (!zone.ok()) return bad("store.time_zone", zone.status().message());
  auto start = settings::ParseClockTime(day_start);
  if (!start.ok()) return bad("store.day_start", start.status().message());
  t->day_start_minutes = *start;
  t->currency_decimals = settings::CurrencyDecimals(t->currency);
  if (t->currency_decimals < 0) {
    return bad("store.currency", "'" + t->currency + "' is not an ISO 4217 code this fog knows");
  }
  auto buy = ParseCommission(buy_commission, t->currency_decimals);
  if (!buy.ok()) return bad("store.fx.buy_commission", buy.status().message());
  t->buy_commission = *buy;
  auto sell = ParseCommission(sell_commission, t->currency_decimals);
  if (!sell.ok()) return bad("store.fx.sell_commission", sell.status().message());
  t->sell_commission = *sell;
  if (!aml_threshold.empty()) {
    auto aml = Money::Parse(aml_threshold, t->currency_decimals);
    if (!aml.ok() || aml->minor() < 0) {
      return bad("store.fx.aml_threshold", "want a home amount like 1000.00");
    }
    t->aml_threshold = aml->minor();
  }
  if (codes.empty()) return bad("store.tax", "the store needs a tax table: [store.tax.CODE]");
  for (const std::string& code : codes) {
    std::string key = "store.tax." + code + ".rates";
    if (!topics::ValidId(code) || code.size() > 8) return bad("store.tax." + code, "bad code");
    if (rates[code].empty()) return bad(key, "no rates (want [\"2026-01-01T00:00 19%\"])");
    int64_t last = INT64_MIN;
    for (const std::string& entry : rates[code]) {
      size_t space = entry.find(' ');
      auto local = settings::ParseLocalTime(entry.substr(0, space));
      if (space == std::string::npos || !local.ok()) {
        return bad(key, "'" + entry + "': want \"YYYY-MM-DDTHH:MM RATE%\"");
      }
      auto bp = ParsePercent(entry.substr(space + 1));
      if (!bp.ok()) return bad(key, bp.status().message());
      v1::TaxRateEntry& e = t->tax_rates.emplace_back();
      e.set_code(code);
      e.set_name(names[code]);
      e.set_rate_bp(*bp);
      e.set_effective_from(entry.substr(0, space));
      e.set_effective_from_us(zone->FromLocal(*local));
      if (e.effective_from_us() <= last) return bad(key, "entries must be in time order");
      last = e.effective_from_us();
    }
  }
  return ReadVoucherTypes(r, path, t->currency_decimals, t);
}

}  // namespace

v1::StoreSettings TermsDocument(const std::string& store_id, const StoreTerms& t) {
  v1::StoreSettings s;
  s.set_store_id(store_id);
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
  for (const v1::VoucherType& v : t.voucher_types) *s.add_voucher_types() = v;
  for (const v1::ScaleLabelLayout& l : t.scale_labels) *s.add_scale_labels() = l;
  s.set_no_receipt_refund_limit(t.no_receipt_refund_limit);
  s.set_no_receipt_supervisor_above(t.no_receipt_supervisor_above);
  for (const std::string& reason : t.price_override_reasons) s.add_price_override_reasons(reason);
  if (t.buy_commission.ByteSizeLong() > 0) *s.mutable_buy_commission() = t.buy_commission;
  if (t.sell_commission.ByteSizeLong() > 0) *s.mutable_sell_commission() = t.sell_commission;
  s.set_aml_threshold(t.aml_threshold);
  return s;
}

Result<v1::StoreSettings> LoadStoreTermsFile(const std::string& path) {
  SN_ASSIGN_OR_RETURN(ConfigReader r, ConfigReader::Open(path));
  const std::string store_id = r.String("store.id", "");
  StoreTerms terms;
  SN_RETURN_IF_ERROR(ReadStoreTerms(r, path, &terms));
  SN_RETURN_IF_ERROR(r.Finish());
  return TermsDocument(store_id, terms);
}

Result<Config> LoadConfig(const std::string& path) {
  SN_ASSIGN_OR_RETURN(ConfigReader r, ConfigReader::Open(path));
  Config c;
  c.source = path;
  c.store_id = r.String("store.id");
  SN_RETURN_IF_ERROR(ReadStoreTerms(r, path, &c.store));
  if (c.store.name.empty()) c.store.name = c.store_id;
  c.broker = ReadBrokerLink(r, "broker", c.broker);
  if (c.broker.protocol != mqtt::Protocol::kV5) {
    // The store link bounds what it takes with a Maximum Packet Size, and the
    // console's requests come with response topics: both v5 only.
    r.Reject("broker.protocol", "the store broker link needs mqtt5");
  }
  c.data_dir = r.Path("data.dir", PathUse::kDirectory);
  c.expected_tills = r.StringList("tills.expected");
  c.trust_on_first_use = r.Bool("tills.trust_on_first_use", c.trust_on_first_use);
  c.tills_registry = r.Path("tills.registry", PathUse::kFileIfPresent, c.data_dir + "/tills.toml");
  c.log_level = r.String("log.level", c.log_level);
  c.max_message_bytes =
      static_cast<size_t>(r.Int("broker.max_message_bytes",
                                static_cast<int64_t>(c.max_message_bytes), kMaxMessageBytesRange));
  c.gap_hold_ms = static_cast<int>(r.Int("ingest.gap_hold_ms", c.gap_hold_ms, {0, kHourMs}));
  c.max_batch_events =
      static_cast<int>(r.Int("ingest.max_batch_events", c.max_batch_events, {1, 1000000}));
  c.reassert_ms = static_cast<int>(r.Int("sync.reassert_ms", c.reassert_ms, {100, kHourMs}));
  LedgerLink& l = c.ledger;
  if (r.Has("ledger")) {  // optional, but with a uri when present
    l.link = ReadBrokerLink(r, "ledger", {.client_id = c.store_id + "-fog-ledger"});
    SpreadOverServers(l.link, c.store_id);
  }
  l.public_key = r.String("ledger.public_key", "");
  l.retry_min_ms = static_cast<int>(r.Int("ledger.retry_min_ms", l.retry_min_ms, {1, kHourMs}));
  l.retry_max_ms =
      static_cast<int>(r.Int("ledger.retry_max_ms", l.retry_max_ms, {1, 24 * kHourMs}));
  c.head_office.public_key = r.String("head_office.public_key", "");
  c.head_office.groups = r.StringList("head_office.groups");
  c.head_office.releases_per_minute = static_cast<int>(
      r.Int("head_office.releases_per_minute", c.head_office.releases_per_minute, {1, 10000}));
  c.stock.service_level_permille = static_cast<int>(
      r.Int("stock.service_level_permille", c.stock.service_level_permille, {500, 999}));
  c.stock.review_days = static_cast<int>(r.Int("stock.review_days", c.stock.review_days, {1, 90}));
  c.stock.history_days =
      static_cast<int>(r.Int("stock.history_days", c.stock.history_days, {28, 1092}));
  c.stock.reorder = r.Bool("stock.reorder", c.stock.reorder);
  SN_RETURN_IF_ERROR(ReadConsoleConfig(r, &c.console));
  SN_RETURN_IF_ERROR(ReadHealthConfig(r, &c.health));
  SN_RETURN_IF_ERROR(ReadAccessConfig(r, &c.roles, &c.requests));
  SN_RETURN_IF_ERROR(r.Finish());
  auto bad = [&](const std::string& key, const std::string& why) {
    return Status::Invalid(path + ": key '" + key + "': " + why);
  };
  if (c.store_id.empty()) return bad("store.id", "must not be empty");
  if (c.store_id.find_first_of("/+#") != std::string::npos) {
    return bad("store.id", "must not contain '/', '+' or '#'");
  }
  SN_RETURN_IF_ERROR(CheckBrokerLink(path, "broker", c.broker));
  if (!c.head_office.public_key.empty()) {
    auto key = crypto::FromHex(c.head_office.public_key);
    if (!key.ok() || key->size() != 32) {
      return bad("head_office.public_key", "want 64 hex digits (an Ed25519 public key)");
    }
  }
  for (const std::string& g : c.head_office.groups) {
    if (g.empty() || g.find_first_of("/+#") != std::string::npos) {
      return bad("head_office.groups", "a group name must not be empty or contain '/', '+' or '#'");
    }
  }
  if (!l.link.uri.empty()) {
    SN_RETURN_IF_ERROR(CheckBrokerLink(path, "ledger", l.link));
    if (!l.public_key.empty()) {
      auto key = crypto::FromHex(l.public_key);
      if (!key.ok() || key->size() != 32) {
        return bad("ledger.public_key", "want 64 hex digits (an Ed25519 public key)");
      }
    }
    if (l.retry_max_ms < l.retry_min_ms) {
      return bad("ledger.retry_max_ms", "must not be below ledger.retry_min_ms");
    }
  }
  return c;
}

}  // namespace storenode::fog
