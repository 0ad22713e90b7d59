#include "sim/sim.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <set>

#include "storenode/common/fx.h"
#include "storenode/common/journal_format.h"
#include "storenode/common/lines.h"
#include "storenode/common/money.h"
#include "storenode/common/scale_label.h"
#include "storenode/common/store_settings.h"

namespace storenode::sim {
namespace {

// Receipts a refund may pick from: customers bring back recent purchases.
constexpr size_t kRefundWindow = 500;
// Events read back from the journal's end when a run continues a journal;
// it covers the refund window with room for the events between sales.
constexpr size_t kResumeEvents = 5000;

// The meal voucher (the sim's single-purpose type "MEAL") pays for goods of
// tax B (5.5%) only.
constexpr const char* kMealVoucherTax = "B";
constexpr int32_t kMealVoucherRateBp = 550;

constexpr std::array<std::string_view, 6> kCashiers = {"anna",  "ben",  "chloe",
                                                       "david", "emma", "farid"};

// SplitMix64's finalizer: spreads (seed, till, head) over the whole seed space
// so that neighbouring tills do not get correlated streams.
uint64_t SplitMix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Cash handed over: the smallest note that covers the amount, or a multiple
// of 50.00 above that.
int64_t NoteUp(int64_t amount) {
  for (int64_t note : {500, 1000, 2000, 5000, 10000}) {
    if (amount <= note) return note;
  }
  return (amount + 4999) / 5000 * 5000;
}

std::string Digits(uint64_t value, int width) {
  std::string s = std::to_string(value);
  if (static_cast<int>(s.size()) < width) s.insert(0, width - s.size(), '0');
  return s;
}

}  // namespace

const std::vector<CatalogItem>& Catalog() {
  // SKUs are EAN-13 in-store numbers (prefix 200) with valid check digits.
  static const std::vector<CatalogItem> kCatalog = {
      {"2000000010014", "Bread roll", 19, "B"},
      {"2000000010021", "Banana (each)", 29, "B"},
      {"2000000010038", "Chewing gum", 89, "A"},
      {"2000000010045", "Newspaper", 250, "C"},
      {"2000000010052", "Milk 1l", 115, "B"},
      {"2000000010069", "Butter 250g", 249, "B"},
      {"2000000010076", "Eggs x10", 329, "B"},
      {"2000000010083", "Baguette", 129, "B"},
      {"2000000010090", "Croissant", 99, "B"},
      {"2000000010106", "Apples 1kg", 279, "B"},
      {"2000000010113", "Tomatoes 500g", 219, "B"},
      {"2000000010120", "Cheddar 200g", 349, "B"},
      {"2000000010137", "Ham 150g", 289, "B"},
      {"2000000010144", "Yoghurt 4x125g", 199, "B"},
      {"2000000010151", "Orange juice 1l", 239, "B"},
      {"2000000010168", "Coffee beans 500g", 899, "B"},
      {"2000000010175", "Tea 40 bags", 349, "B"},
      {"2000000010182", "Sugar 1kg", 145, "B"},
      {"2000000010199", "Pasta 500g", 119, "B"},
      {"2000000010205", "Rice 1kg", 229, "B"},
      {"2000000010212", "Olive oil 750ml", 799, "B"},
      {"2000000010229", "Chocolate bar", 149, "B"},
      {"2000000010236", "Crisps 150g", 189, "B"},
      {"2000000010243", "Mineral water 1.5l", 59, "B"},
      {"2000000010250", "Cola 1.5l", 189, "A"},
      {"2000000010267", "Beer 6x33cl", 749, "A"},
      {"2000000010274", "Red wine 75cl", 1299, "A"},
      {"2000000010281", "Champagne 75cl", 3499, "A"},
      {"2000000010298", "Whisky 70cl", 2999, "A"},
      {"2000000010304", "Toothpaste", 259, "A"},
      {"2000000010311", "Shampoo 250ml", 399, "A"},
      {"2000000010328", "Soap bar", 149, "A"},
      {"2000000010335", "Toilet paper x8", 449, "A"},
      {"2000000010342", "Kitchen roll x2", 299, "A"},
      {"2000000010359", "Washing-up liquid", 199, "A"},
      {"2000000010366", "Laundry 20 washes", 899, "A"},
      {"2000000010373", "AA batteries x4", 599, "A"},
      {"2000000010380", "Light bulb LED", 499, "A"},
      {"2000000010397", "Phone charger", 1999, "A"},
      {"2000000010403", "USB cable", 999, "A"},
      {"2000000010410", "Notebook A5", 249, "A"},
      {"2000000010427", "Ballpoint pens x5", 349, "A"},
      {"2000000010434", "Birthday card", 299, "A"},
      {"2000000010441", "Gift wrap", 199, "A"},
      {"2000000010458", "Umbrella", 1499, "A"},
      {"2000000010465", "Sunglasses", 2499, "A"},
      {"2000000010472", "Reading glasses", 1299, "A"},
      {"2000000010489", "Headphones", 4999, "A"},
      {"2000000010496", "Flowers bouquet", 1499, "B"},
      {"2000000010502", "Potted basil", 299, "B"},
      {"2000000010519", "Dog food 1kg", 499, "A"},
      {"2000000010526", "Cat litter 5l", 699, "A"},
      {"2000000010533", "Magazine", 450, "C"},
      {"2000000010540", "Paperback novel", 999, "C"},
      {"2000000010557", "Postage stamp", 116, "C"},
      {"2000000010564", "Bus ticket", 210, "C"},
      {"2000000010571", "Pizza frozen", 349, "B"},
      {"2000000010588", "Ice cream 1l", 449, "B"},
      {"2000000010595", "Salad bowl", 399, "B"},
      {"2000000010601", "Sandwich", 359, "B"},
  };
  return kCatalog;
}

std::string SimDepartment(std::string_view sku) {
  const std::vector<CatalogItem>& items = Catalog();
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i].sku == sku) return "aisle-" + std::to_string(i / 10 + 1);
  }
  return "";
}

const std::vector<v1::Promotion>& SimPromotions() {
  static const std::vector<v1::Promotion> kPromotions = [] {
    std::vector<v1::Promotion> out;
    auto add = [&](const char* id, const char* name, v1::PromotionType type,
                   std::vector<std::string> skus, std::vector<std::string> departments) {
      v1::Promotion& p = out.emplace_back();
      p.set_id(id);
      p.set_name(name);
      p.set_type(type);
      std::sort(skus.begin(), skus.end());
      for (std::string& sku : skus) p.add_skus(std::move(sku));
      for (std::string& d : departments) p.add_departments(std::move(d));
      p.set_active(true);
      return &p;
    };
    // Cola, crisps, chocolate, water: any 3 for 4.00.
    auto* m = add("snacks-3-for-4", "Snacks 3 for 4.00", v1::MULTI_BUY,
                  {"2000000010250", "2000000010236", "2000000010229", "2000000010243"}, {});
    m->set_buy_qty(3);
    m->set_price(400);
    // Toothpaste, shampoo, soap: buy 2, the 3rd half price.
    auto* b = add("care-2-plus-half", "Care: 3rd half price", v1::BUY_X_GET_Y,
                  {"2000000010304", "2000000010311", "2000000010328"}, {});
    b->set_buy_qty(2);
    b->set_get_qty(1);
    b->set_percent_bp(5000);
    // Bakery at lunch only, 11:00-14:00 local: a window (FORMATS 10.6 rule 1).
    auto* lunch = add("bakery-20", "Bakery lunch -20%", v1::ITEM_DISCOUNT,
                      {"2000000010014", "2000000010083", "2000000010090"}, {});
    lunch->set_percent_bp(2000);
    lunch->set_daily_from_minute(11 * 60);
    lunch->set_daily_to_minute(14 * 60);
    add("aisle-5-off-1", "Aisle 5: 1.00 off", v1::ITEM_DISCOUNT, {}, {"aisle-5"})->set_amount(100);
    auto* t5 = add("spend-50-5pc", "5% from 50.00", v1::BASKET_DISCOUNT, {}, {});
    t5->set_threshold(5000);
    t5->set_percent_bp(500);
    auto* t10 = add("spend-100-10", "10.00 off 100.00", v1::BASKET_DISCOUNT, {}, {});
    t10->set_threshold(10000);
    t10->set_amount(1000);
    return out;
  }();
  return kPromotions;
}

const std::vector<CatalogItem>& MeasuredCatalog() {
  static const std::vector<CatalogItem> kMeasured = {
      {"2800001", "Apples loose", 299, "B", v1::UNIT_KG},
      {"2800002", "Minced beef", 990, "B", v1::UNIT_KG},
      {"2800003", "Cheese counter", 1850, "B", v1::UNIT_KG},
      {"2800004", "Olives loose", 1200, "B", v1::UNIT_KG},
      {"2800005", "Draught cider", 420, "A", v1::UNIT_LITRE},
      {"2800006", "Rope", 149, "A", v1::UNIT_METRE},
  };
  return kMeasured;
}

namespace {

// The sim store's terms of weighed goods and corrections, in fog.toml and
// in the settings document alike.
constexpr const char* kSimScaleLabel = "28 5 measure 5";
constexpr int64_t kSimNoReceiptLimit = 5000;       // 50.00
constexpr int64_t kSimNoReceiptSupervisor = 2000;  // above 20.00
constexpr std::array<std::string_view, 3> kOverrideReasons = {"damaged", "price match",
                                                              "manager special"};

// A line's gross as the sim figures it: extended price less discount.
int64_t LineGross(const v1::SaleLine& l) { return lines::Extended(l).minor() - l.discount(); }

struct SimTax {
  const char* code;
  const char* name;
  int32_t rate_bp;
  const char* percent;
};
constexpr SimTax kSimTaxes[] = {
    {"A", "Standard", 2000, "20%"}, {"B", "Reduced", 550, "5.5%"}, {"C", "Zero", 0, "0%"}};
constexpr const char* kSimTaxFrom = "1970-01-01T00:00";

// The voucher types: a gift card (MPV) and a meal voucher (SPV, tax B),
// each redeemable offline up to 50.00 per card and till.
struct SimVoucher {
  const char* id;
  const char* name;
  v1::VoucherPurpose purpose;
  const char* tax;
  int64_t offline_limit, max_load;
};
constexpr SimVoucher kSimVouchers[] = {
    {"GIFT", "Gift card", v1::MULTI_PURPOSE, "", 5000, 50000},
    {"MEAL", "Meal voucher", v1::SINGLE_PURPOSE, kMealVoucherTax, 5000, 10000}};

// Fexco's published schedule: buying notes 2% (min 1.50, max 15.00),
// selling 1% (min 1.00, max 15.00); a customer reference from 1000.00.
constexpr const char* kSimBuyCommission = "2% min 1.50 max 15.00";
constexpr const char* kSimSellCommission = "1% min 1.00 max 15.00";
constexpr const char* kSimAmlThreshold = "1000.00";

void SetSimFxTerms(v1::StoreSettings* s) {
  s->mutable_buy_commission()->set_rate_bp(200);
  s->mutable_buy_commission()->set_min(150);
  s->mutable_buy_commission()->set_max(1500);
  s->mutable_sell_commission()->set_rate_bp(100);
  s->mutable_sell_commission()->set_min(100);
  s->mutable_sell_commission()->set_max(1500);
  s->set_aml_threshold(100000);
}

// Round half away for the positive amounts the sim makes: its own
// arithmetic, so that the tally does not share the till's code.
int64_t SimHome(int64_t foreign_minor, int64_t rate_e9) {
  return static_cast<int64_t>((static_cast<__int128>(foreign_minor) * rate_e9 + 500'000'000) /
                              1'000'000'000);
}
int64_t SimCommission(int64_t home, const v1::FxCommission& c) {
  const int64_t pct =
      static_cast<int64_t>((static_cast<__int128>(home) * c.rate_bp() + 5000) / 10000);
  return std::min(std::max(pct, c.min()), c.max());
}
int64_t Pow10(int n) {
  int64_t v = 1;
  while (n-- > 0) v *= 10;
  return v;
}

v1::FxTotal& TallyRow(v1::DayTotals& t, const std::string& currency) {
  for (v1::FxTotal& row : *t.mutable_fx()) {
    if (row.currency() == currency) return row;
  }
  v1::FxTotal& row = *t.add_fx();
  row.set_currency(currency);
  return row;
}
v1::ForeignDrawer& TallyDrawer(v1::DayTotals& t, const std::string& device,
                               const std::string& currency) {
  for (v1::ForeignDrawer& row : *t.mutable_foreign_drawers()) {
    if (row.currency() == currency) return row;
  }
  v1::ForeignDrawer& row = *t.add_foreign_drawers();
  row.set_device_id(device);
  row.set_currency(currency);
  return row;
}
// The fixed key the simulated store's settings are signed with.
crypto::SigningKey SimKey() {
  const std::array<uint8_t, 32> seed{'s', 'i', 'm'};
  return crypto::SigningKey::FromSeed(seed).value();
}

// The tally's row of drawer `device` (a till's, or a cashier's drawer id).
v1::DrawerTotal& TallyHome(v1::DayTotals& t, const std::string& device) {
  for (v1::DrawerTotal& d : *t.mutable_drawers()) {
    if (d.device_id() == device) return d;
  }
  v1::DrawerTotal* d = t.add_drawers();
  d->set_device_id(device);
  return *d;
}

}  // namespace

std::string SimStoreConfig(const std::string& zone) {
  std::string out = "name = \"Simulated store\"\ntime_zone = \"" + zone +
                    "\"\ncurrency = \"EUR\"\ncash_rounding = 5\n";
  out += std::string("scale_labels = [\"") + kSimScaleLabel + "\"]\n";
  out += "no_receipt_refund_limit = " + std::to_string(kSimNoReceiptLimit) + "\n";
  out += "no_receipt_supervisor_above = " + std::to_string(kSimNoReceiptSupervisor) + "\n";
  out += "price_override_reasons = [";
  for (std::string_view r : kOverrideReasons) {
    out += std::string(r == kOverrideReasons[0] ? "" : ", ") + "\"" + std::string(r) + "\"";
  }
  out += "]\n";
  out += std::string("\n[store.fx]\nbuy_commission = \"") + kSimBuyCommission +
         "\"\nsell_commission = \"" + kSimSellCommission + "\"\naml_threshold = \"" +
         kSimAmlThreshold + "\"\n";
  for (const SimTax& t : kSimTaxes) {
    out += std::string("\n[store.tax.") + t.code + "]\nname = \"" + t.name + "\"\nrates = [\"" +
           kSimTaxFrom + " " + t.percent + "\"]\n";
  }
  for (const SimVoucher& v : kSimVouchers) {
    out += std::string("\n[store.voucher.") + v.id + "]\nname = \"" + v.name + "\"\npurpose = \"" +
           (v.purpose == v1::SINGLE_PURPOSE ? "single" : "multi") + "\"\n" +
           (*v.tax ? std::string("tax = \"") + v.tax + "\"\n" : "") + "offline_limit = \"" +
           Money(v.offline_limit).ToString() + "\"\nmax_load = \"" + Money(v.max_load).ToString() +
           "\"\n";
  }
  return out;
}

v1::StoreSettings SimStoreSettings(const std::string& store, const std::string& zone,
                                   int64_t cash_rounding) {
  v1::StoreSettings s;
  s.set_store_id(store);
  s.set_version(1);
  s.set_name("Simulated store");
  s.set_time_zone(zone);
  s.set_currency("EUR");
  s.set_currency_decimals(2);
  s.set_cash_rounding(cash_rounding);
  s.set_locale("en-GB");
  SetSimFxTerms(&s);
  const settings::Zone z = settings::Zone::Find(zone).value();
  for (const SimTax& t : kSimTaxes) {
    v1::TaxRateEntry* e = s.add_tax_rates();
    e->set_code(t.code);
    e->set_name(t.name);
    e->set_rate_bp(t.rate_bp);
    e->set_effective_from(kSimTaxFrom);
    e->set_effective_from_us(z.FromLocal(settings::ParseLocalTime(kSimTaxFrom).value()));
  }
  for (const SimVoucher& v : kSimVouchers) {
    v1::VoucherType* t = s.add_voucher_types();
    t->set_id(v.id);
    t->set_name(v.name);
    t->set_purpose(v.purpose);
    t->set_tax_code(v.tax);
    t->set_offline_limit(v.offline_limit);
    t->set_max_load(v.max_load);
  }
  v1::ScaleLabelLayout* label = s.add_scale_labels();
  label->set_prefix("28");
  label->set_item_digits(5);
  label->set_value_digits(5);
  s.set_no_receipt_refund_limit(kSimNoReceiptLimit);
  s.set_no_receipt_supervisor_above(kSimNoReceiptSupervisor);
  for (std::string_view r : kOverrideReasons) s.add_price_override_reasons(std::string(r));
  return s;
}

std::string SimRateSheetCsv() {
  return "currency,buy,sell,mid,effective_from\n"
         "USD,0.8900,0.9700,0.9300,2000-01-01T00:00\n"
         "GBP,1.1200,1.2200,1.1700,2000-01-01T00:00\n"
         "JPY,0.005800,0.006400,0.006100,2000-01-01T00:00\n"
         "CHF,1.0100,1.1000,1.0550,2000-01-01T00:00\n";
}

v1::StoreSettings SimFxStoreSettings(const std::string& store, const std::string& zone) {
  v1::StoreSettings s = SimStoreSettings(store, zone);
  auto rates = fx::ParseRateSheet(SimRateSheetCsv(), s);
  for (v1::FxRateEntry& e : rates.value()) *s.add_fx_rates() = std::move(e);
  s.set_rate_sheet_version(1);
  return s;
}

std::string SimFxSettings(const std::string& store, const std::string& zone) {
  return settings::Sign(SimFxStoreSettings(store, zone), SimKey()).SerializeAsString();
}

Result<Mix> ParseMix(std::string_view name) {
  if (name == "all") return Mix{};
  if (name == "classic") return Mix::Classic();
  return Status::Invalid("--mix '" + std::string(name) + "': want all or classic");
}

std::string SimSettings(const std::string& store, const std::string& zone, int64_t cash_rounding) {
  v1::StoreSettings s = SimStoreSettings(store, zone, cash_rounding);
  return settings::Sign(s, SimKey()).SerializeAsString();
}

std::string SimDeviceId(int till_index) { return "till-" + std::to_string(till_index); }

edge::Options SimTillOptions(const std::string& dir, const std::string& store,
                             const std::string& device) {
  edge::Options o;
  o.journal_path = dir + "/" + device + ".db";
  o.store_id = store;
  o.device_id = device;
  o.settings = SimSettings(store);
  return o;
}

TillSim::TillSim(edge::Journal* journal, uint64_t seed, int till_index, Mix mix)
    : journal_(journal),
      seed_(seed),
      till_index_(till_index),
      mix_(mix),
      cashier_(kCashiers[static_cast<size_t>(std::max(till_index, 1) - 1) % kCashiers.size()]) {}

Status TillSim::Resume() {
  const uint64_t head = journal_->head_seq();
  rng_.seed(SplitMix(SplitMix(SplitMix(seed_) ^ static_cast<uint64_t>(till_index_)) ^ head));
  const uint64_t from = head > kResumeEvents ? head - kResumeEvents + 1 : 1;
  SN_ASSIGN_OR_RETURN(std::vector<v1::JournalEvent> events,
                      journal_->ReadEvents(from, kResumeEvents));
  DecodedEvent ev;
  for (const v1::JournalEvent& raw : events) {
    SN_RETURN_IF_ERROR(DecodeEvent(raw, &ev));
    if (ev.header.training()) continue;  // never refundable
    if (ev.header.kind() == v1::SALE) {
      NoteSale(ev.header.receipt_no(), ev.body.sale());
    } else if (ev.header.kind() == v1::REFUND) {
      NoteRefund(ev.body.refund());
    } else if (ev.header.kind() == v1::SIGN_ON) {
      cashier_ = ev.body.shift().cashier();  // the journal takes only its receipts
      drawer_ = ev.header.drawer_id();
    } else if (ev.header.kind() == v1::SIGN_OFF) {
      drawer_.clear();
    }
  }
  resumed_ = true;
  return Status::Ok();
}

Status TillSim::StartDayIfNeeded(bool* recorded) {
  *recorded = false;
  std::string day = journal_->business_day();
  if (day == day_) return Status::Ok();
  SN_ASSIGN_OR_RETURN(v1::DayTotals totals, journal_->XReport(day));
  day_ = day;
  drawer_cash_.clear();
  bool has_float = false;
  for (const v1::DrawerTotal& d : totals.drawers()) {
    // The till's drawer, or a cashier's (its id).
    const bool till = d.device_id() == journal_->options().device_id;
    drawer_cash_[till ? "" : d.device_id()] = d.expected();
    if (till) has_float = d.opening_float() > 0;
  }
  if (has_float) return Status::Ok();
  v1::CashMovement m;
  m.set_type(v1::OPENING_FLOAT);
  m.set_amount(std::array<int64_t, 3>{10000, 15000, 20000}[Pick(3)]);
  m.set_cashier(Cashier());
  m.set_reason("opening float");
  SN_RETURN_IF_ERROR(Recorded(v1::CASH_MOVEMENT, journal_->RecordCashMovement(m)));
  NoteCash(m.amount());
  *recorded = true;
  return Status::Ok();
}

// --- Vouchers, tips, cards, shifts (Mix) ---

Status TillSim::ShiftChangeIfDue(bool* recorded) {
  *recorded = false;
  if (shift_sales_left_ > 0) return Status::Ok();
  *recorded = true;
  if (journal_->open_shift_seq() != 0) {
    SN_RETURN_IF_ERROR(Recorded(v1::SIGN_OFF, journal_->SignOff()));
    drawer_.clear();
    return Status::Ok();
  }
  cashier_ = std::string(kCashiers[Pick(kCashiers.size())]);
  // Every other shift brings its own drawer, with its own float.
  const bool own = shifts_ % 2 == 1;
  const std::string drawer = own ? "drawer-" + std::to_string(till_index_) + "-" + cashier_ : "";
  auto rec = journal_->SignOn(cashier_, own ? v1::DRAWER_CASHIER : v1::DRAWER_TILL, drawer);
  SN_RETURN_IF_ERROR(Recorded(v1::SIGN_ON, rec));
  ++shifts_;
  shift_sales_left_ = 60 + Pick(60);
  drawer_ = drawer;
  v1::DayTotals& d = tally_[rec->business_day];
  d.set_shift_count(d.shift_count() + 1);
  v1::CashierDayTotal* c = TallyCashier(rec->business_day, cashier_);
  c->set_shifts(c->shifts() + 1);
  if (own) {
    c->set_drawer_id(drawer);
    v1::CashMovement m;
    m.set_type(v1::OPENING_FLOAT);
    m.set_amount(5000);
    m.set_cashier(cashier_);
    m.set_reason("cashier drawer float");
    drawer_cash_[drawer_] = 0;
    SN_RETURN_IF_ERROR(Recorded(v1::CASH_MOVEMENT, journal_->RecordCashMovement(m)));
    NoteCash(m.amount());
  }
  return Status::Ok();
}

Status TillSim::EndShift() {
  if (!mix_.shifts || journal_->open_shift_seq() == 0) return Status::Ok();
  SN_RETURN_IF_ERROR(Recorded(v1::SIGN_OFF, journal_->SignOff()));
  drawer_.clear();
  shift_sales_left_ = 0;
  return Status::Ok();
}

void TillSim::TallyRefund(const std::string& day, const v1::Refund& refund, int64_t total) {
  if (!mix_.vouchers && !mix_.tips && !mix_.cards && !mix_.shifts) return;
  v1::CashierDayTotal* c = TallyCashier(day, Cashier());
  c->set_refund_count(c->refund_count() + 1);
  c->set_refunds(c->refunds() + total);
  TallyTenders(tally_[day], c, refund.tenders(), true);
}

v1::CashierDayTotal* TillSim::TallyCashier(const std::string& day, const std::string& cashier) {
  v1::DayTotals& d = tally_[day];
  for (auto& c : *d.mutable_cashier_totals()) {
    if (c.cashier() == cashier) return &c;
  }
  v1::CashierDayTotal* c = d.add_cashier_totals();
  c->set_cashier(cashier);
  return c;
}

void TillSim::AddCardDetails(v1::Tender* t) {
  if (!mix_.cards) return;
  struct Scheme {
    const char* name;
    const char* bin;
  };
  static constexpr std::array<Scheme, 4> kSchemes = {Scheme{"VISA", "411111"},
                                                     {"MASTERCARD", "510510"},
                                                     {"AMEX", "378282"},
                                                     {"MAESTRO", "676770"}};
  const Scheme& s = kSchemes[Pick(kSchemes.size())];
  v1::CardDetails* c = t->mutable_card();
  c->set_scheme(s.name);
  c->set_terminal_id("T" + std::to_string(till_index_));
  c->set_auth_code(Digits(Pick(1000000), 6));
  c->set_masked_pan(std::string(s.bin) + "******" + Digits(Pick(10000), 4));
  c->set_offline_auth(Pick(100) < 3);
}

void TillSim::MaybeTip(v1::Tender* t) {
  if (!mix_.tips || Pick(100) >= 20) return;
  // 5..15% of the amount, in 0.10 steps, at least 0.10, never more than it.
  const int64_t tip =
      std::max<int64_t>(10, t->amount() * (5 + static_cast<int64_t>(Pick(11))) / 100 / 10 * 10);
  t->set_tip(std::min(tip, t->amount()));
}

void TillSim::MaybeSellVoucher(v1::Sale* sale) {
  if (!mix_.vouchers || Pick(100) >= 4) return;
  // A meal voucher (SPV, tax B) one time in three, else a gift card (MPV).
  const bool spv = Pick(3) == 0;
  const int64_t face = std::array<int64_t, 4>{1000, 2000, 2500, 5000}[Pick(4)];
  // A store whose settings lack the type (another fog.toml) sells none.
  if (settings::FindVoucherType(journal_->settings(), spv ? "MEAL" : "GIFT") == nullptr) return;
  v1::SaleLine* l = sale->add_lines();
  l->set_sku(spv ? "MEALVOUCHER" : "GIFTCARD");
  l->set_name(spv ? "Meal voucher" : "Gift card");
  l->set_qty(1);
  l->set_unit_price(face);
  // Named by the seq of the sale that loads it, so a card id is new across
  // runs on the same journal too (a restarted till sells no card twice).
  l->mutable_voucher()->set_card_id("G" + std::to_string(till_index_) + "-" +
                                    Digits(journal_->head_seq() + 1, 6));
  l->mutable_voucher()->set_voucher_type(spv ? "MEAL" : "GIFT");
}

int64_t TillSim::RedeemVoucher(v1::Sale* sale, int64_t total) {
  if (!mix_.vouchers || cards_.empty()) return 0;
  const size_t i = Pick(cards_.size());
  Card& card = cards_[i];
  int64_t cap = total;
  if (card.spv) {
    // A single-purpose voucher pays only for the goods of its tax code.
    int64_t goods = 0;
    for (const v1::SaleLine& l : sale->lines()) {
      if (l.tax_code() == kMealVoucherTax) goods += l.gross();
    }
    cap = std::min(cap, goods);
  }
  const int64_t amount = std::min(card.balance, cap);
  if (amount <= 0) return 0;
  v1::Tender* t = sale->add_tenders();
  t->set_type(v1::VOUCHER);
  t->set_amount(amount);
  t->set_reference(card.card_id);
  v1::VoucherRedemption* r = t->mutable_voucher();
  r->set_card_id(card.card_id);
  r->set_voucher_type(card.type);
  r->set_offline(true);  // a simulated till never asks the fog
  card.balance -= amount;
  if (card.balance == 0) cards_.erase(cards_.begin() + static_cast<std::ptrdiff_t>(i));
  return amount;
}

Status TillSim::TipPayout(bool* done) {
  *done = false;
  if (tips_unpaid_ <= 0 || DrawerCash() < tips_unpaid_) return Status::Ok();
  v1::CashMovement m;
  m.set_type(v1::TIP_PAYOUT);
  m.set_amount(tips_unpaid_);
  m.set_cashier(Cashier());
  m.set_reason("card tips to staff");
  auto rec = journal_->RecordCashMovement(m);
  SN_RETURN_IF_ERROR(Recorded(v1::CASH_MOVEMENT, rec));
  NoteCash(-m.amount());
  tips_unpaid_ = 0;
  v1::DayTotals& d = tally_[rec->business_day];
  d.set_tip_payouts(d.tip_payouts() + m.amount());
  const std::string drawer = drawer_.empty() ? journal_->options().device_id : drawer_;
  v1::DrawerTotal& row = TallyHome(d, drawer);
  row.set_tip_payouts(row.tip_payouts() + m.amount());
  v1::CashierDayTotal* c = TallyCashier(rec->business_day, m.cashier());
  c->set_tip_payouts(c->tip_payouts() + m.amount());
  *done = true;
  return Status::Ok();
}

// The sim's own count of a recorded sale's (or, with `refund`, refund's)
// figures of this area.
void TillSim::TallySale(const std::string& day, const v1::Sale& sale) {
  v1::DayTotals& d = tally_[day];
  v1::CashierDayTotal* c = TallyCashier(day, sale.cashier());
  c->set_receipts(c->receipts() + 1);
  c->set_sales(c->sales() + sale.total());
  auto voucher_row = [&](const std::string& type) {
    for (auto& v : *d.mutable_vouchers()) {
      if (v.voucher_type() == type) return &v;
    }
    v1::VoucherTotal* v = d.add_vouchers();
    v->set_voucher_type(type);
    v->set_purpose(type == "MEAL" ? "SPV" : "MPV");
    return v;
  };
  for (const v1::SaleLine& l : sale.lines()) {
    if (!l.has_voucher()) continue;
    v1::VoucherTotal* v = voucher_row(l.voucher().voucher_type());
    v->set_sold_count(v->sold_count() + 1);
    v->set_sold(v->sold() + l.unit_price());
    d.set_voucher_sales(d.voucher_sales() + l.unit_price());
  }
  TallyTenders(d, c, sale.tenders(), false);
  for (const v1::Tender& t : sale.tenders()) {
    if (!t.has_voucher()) continue;
    v1::VoucherTotal* v = voucher_row(t.voucher().voucher_type());
    v->set_redeemed_count(v->redeemed_count() + 1);
    v->set_redeemed(v->redeemed() + t.amount());
    v->set_offline_count(v->offline_count() + 1);
    v->set_offline(v->offline() + t.amount());
    if (t.voucher().voucher_type() == "MEAL") {
      d.set_spv_redeemed_tax(
          d.spv_redeemed_tax() +
          RoundHalfAwayDiv(__int128{t.amount()} * kMealVoucherRateBp, 10000 + kMealVoucherRateBp));
    }
  }
}

void TillSim::TallyTenders(v1::DayTotals& d, v1::CashierDayTotal* c,
                           const google::protobuf::RepeatedPtrField<v1::Tender>& tenders,
                           bool refund) {
  for (const v1::Tender& t : tenders) {
    if (t.type() != v1::CARD) continue;
    v1::CardSchemeTotal* row = nullptr;
    for (auto& x : *d.mutable_card_schemes()) {
      if (x.scheme() == t.card().scheme()) row = &x;
    }
    if (row == nullptr) {
      row = d.add_card_schemes();
      row->set_scheme(t.card().scheme());
    }
    row->set_count(row->count() + 1);
    if (refund) {
      row->set_refunds(row->refunds() + t.amount());
    } else {
      row->set_sales(row->sales() + t.amount());
    }
    row->set_tips(row->tips() + t.tip());
    if (t.card().offline_auth()) {
      row->set_offline_count(row->offline_count() + 1);
      d.set_card_offline_count(d.card_offline_count() + 1);
    }
    if (t.tip() > 0) {
      d.set_tip_count(d.tip_count() + 1);
      d.set_tips(d.tips() + t.tip());
      c->set_tip_count(c->tip_count() + 1);
      c->set_tips(c->tips() + t.tip());
      tips_unpaid_ += t.tip();
    }
  }
}

Status TillSim::Step() {
  if (!resumed_) SN_RETURN_IF_ERROR(Resume());
  bool recorded = false;
  SN_RETURN_IF_ERROR(StartDayIfNeeded(&recorded));
  if (recorded) return Status::Ok();
  if (mix_.shifts) {
    SN_RETURN_IF_ERROR(ShiftChangeIfDue(&recorded));
    if (recorded) return Status::Ok();
  }
  if (mix_.fx && fx_day_ != day_) {
    SN_RETURN_IF_ERROR(StartFxDay());
    if (!fx_currencies_.empty()) return Status::Ok();
  }
  // Per mille: 3% refunds, 2% voids, 1% each pay-in, pay-out, drop and
  // no-sale, the rest sales. An event that cannot happen now (nothing to
  // refund, too little cash for a pay-out or drop) becomes a sale.
  const uint64_t r = Pick(1000);
  bool done = true;
  if (r < 30) {
    SN_RETURN_IF_ERROR(Refund(&done));
  } else if (r < 50) {
    return VoidReceipt();
  } else if (r < 60) {
    SN_RETURN_IF_ERROR(Movement(v1::PAY_IN, &done));
  } else if (r < 70) {
    SN_RETURN_IF_ERROR(Movement(v1::PAY_OUT, &done));
  } else if (r < 80) {
    SN_RETURN_IF_ERROR(Movement(v1::DROP, &done));
  } else if (r < 90) {
    return NoSale();
  } else if (mix_.tips && r >= 990) {
    SN_RETURN_IF_ERROR(TipPayout(&done));
  } else {
    done = false;
  }
  if (!done && mix_.training && Pick(1000) < 3) return TrainingSession();
  if (!done && mix_.corrections && Pick(100) < 2) SN_RETURN_IF_ERROR(NoReceiptRefund(&done));
  // fx: about 6% of the events, and only with a rate sheet (FxCurrencies).
  if (!done && !fx_currencies_.empty() && Pick(100) < 7) SN_RETURN_IF_ERROR(Exchange(&done));
  return done ? Status::Ok() : Sale();
}

Status TillSim::RunSales(uint64_t count) {
  const uint64_t target = sales_ + count;
  while (sales_ < target) SN_RETURN_IF_ERROR(Step());
  return Status::Ok();
}

v1::SimTill TillSim::Summary() const {
  v1::SimTill t;
  t.set_device_id(journal_->options().device_id);
  t.set_journal_path(journal_->options().journal_path);
  t.set_head_seq(journal_->head_seq());
  t.set_sales(sales_);
  t.set_events(events_);
  for (const auto& [day, d] : tally_) {
    v1::DayTotals* out = t.add_tally();
    *out = d;
    out->set_business_day(day);
  }
  return t;
}

std::vector<v1::SaleLine> TillSim::PickLines(int count, bool with_discounts) {
  const std::vector<CatalogItem>& catalog = Catalog();
  std::vector<size_t> picked;
  std::vector<v1::SaleLine> lines;
  while (static_cast<int>(lines.size()) < count) {
    // One line per SKU, as a POS merges repeated scans into the quantity.
    size_t i = Pick(catalog.size());
    if (std::find(picked.begin(), picked.end(), i) != picked.end()) continue;
    picked.push_back(i);
    const CatalogItem& item = catalog[i];
    v1::SaleLine line;
    line.set_sku(std::string(item.sku));
    line.set_barcode(std::string(item.sku));
    line.set_name(std::string(item.name));
    line.set_tax_code(std::string(item.tax_code));
    line.set_unit_price(item.price);
    const uint64_t q = Pick(100);
    line.set_qty(q < 75 ? 1 : q < 92 ? 2 : q < 97 ? 3 : 4 + static_cast<int64_t>(Pick(3)));
    if (with_discounts && Pick(100) < 10) {
      const int64_t percent = std::array<int64_t, 5>{10, 15, 20, 25, 50}[Pick(5)];
      line.set_discount(item.price * line.qty() * percent / 100);
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

void TillSim::NoteSale(uint64_t receipt_no, const v1::Sale& sale) {
  SoldReceipt receipt;
  receipt.receipt_no = receipt_no;
  bool card = false, cash = false;
  for (const v1::Tender& t : sale.tenders()) {
    card |= t.type() == v1::CARD;
    cash |= t.type() == v1::CASH;
  }
  // Money goes back the way it came: card first, then cash, else a voucher.
  receipt.refund_to = card ? v1::CARD : cash ? v1::CASH : v1::VOUCHER;
  for (const v1::SaleLine& l : sale.lines()) {
    if (l.has_voucher()) continue;  // a voucher is not refunded
    receipt.lines.push_back({l.sku(),
                             l.name(),
                             l.unit(),
                             lines::Quantity(l),
                             l.unit_price(),
                             l.discount(),
                             0,
                             {l.promotions().begin(), l.promotions().end()}});
  }
  recent_.push_back(std::move(receipt));
  if (recent_.size() > kRefundWindow) recent_.pop_front();
}

void TillSim::NoteRefund(const v1::Refund& refund) {
  if (refund.original_device_id() != journal_->options().device_id) return;
  for (SoldReceipt& r : recent_) {
    if (r.receipt_no != refund.original_receipt_no()) continue;
    for (const v1::SaleLine& back : refund.lines()) {
      int64_t left = lines::Quantity(back);
      // The journal books a refund on the first lines of the SKU that still
      // have quantity left; mirror it.
      for (SoldLine& l : r.lines) {
        if (l.sku != back.sku() || l.unit != back.unit() || left == 0) continue;
        const int64_t n = std::min(left, l.qty - l.refunded);
        l.refunded += n;
        left -= n;
      }
    }
  }
}

// The day's row of promotion d (DayTotals.promotions, kept by id).
v1::PromotionTotal& TillSim::PromotionTallyRow(const std::string& day, const v1::LineDiscount& d) {
  auto* rows = tally_[day].mutable_promotions();
  auto it = std::lower_bound(
      rows->begin(), rows->end(), d.promotion_id(),
      [](const v1::PromotionTotal& r, const std::string& id) { return r.promotion_id() < id; });
  if (it == rows->end() || it->promotion_id() != d.promotion_id()) {
    v1::PromotionTotal row;
    row.set_promotion_id(d.promotion_id());
    row.set_name(d.name());
    const int at = static_cast<int>(it - rows->begin());
    rows->Add(std::move(row));
    for (int i = rows->size() - 1; i > at; --i) rows->SwapElements(i, i - 1);
    return rows->at(at);
  }
  return *it;
}

void TillSim::TallyPromotions(const std::string& day, const v1::Sale& sale) {
  std::set<std::string> on_receipt;
  for (const v1::SaleLine& l : sale.lines()) {
    for (const v1::LineDiscount& d : l.promotions()) {
      v1::PromotionTotal& row = PromotionTallyRow(day, d);
      row.set_lines(row.lines() + 1);
      row.set_amount(row.amount() + d.amount());
      row.set_net(row.amount() - row.refunded());
      if (on_receipt.insert(d.promotion_id()).second) row.set_receipts(row.receipts() + 1);
    }
  }
}

void TillSim::TallyPromotionRefund(const std::string& day, const v1::SaleLine& line) {
  for (const v1::LineDiscount& d : line.promotions()) {
    v1::PromotionTotal& row = PromotionTallyRow(day, d);
    row.set_refund_lines(row.refund_lines() + 1);
    row.set_refunded(row.refunded() + d.amount());
    row.set_net(row.amount() - row.refunded());
  }
}

Status TillSim::Sale() {
  static constexpr std::array<int, 10> kLineCounts = {1, 1, 2, 2, 3, 3, 3, 4, 5, 6};
  v1::Sale sale;
  for (v1::SaleLine& line : PickLines(kLineCounts[Pick(kLineCounts.size())], true)) {
    *sale.add_lines() = std::move(line);
  }
  if (mix_.weighed && Pick(100) < 25) *sale.add_lines() = MeasuredLine();
  if (mix_.corrections) Correct(&sale);
  // Promotions before a voucher line is added: a gift card takes none.
  if (mix_.promotions) {
    std::vector<std::string> departments;
    for (const v1::SaleLine& l : sale.lines()) departments.push_back(SimDepartment(l.sku()));
    SN_RETURN_IF_ERROR(journal_->ApplyPromotions(&sale, departments, SimPromotions()));
  }
  sale.set_cashier(Cashier());
  enum class Pay { kCash, kCard, kSplit, kVoucher };
  const uint64_t p = Pick(100);
  const Pay pay = p < 55 ? Pay::kCash : p < 95 ? Pay::kCard : p < 98 ? Pay::kSplit : Pay::kVoucher;
  if (pay != Pay::kVoucher) MaybeSellVoucher(&sale);
  // A cash tender makes the journal round the total; price with the tender
  // types the customer will use.
  if (pay == Pay::kCash || pay == Pay::kSplit) sale.add_tenders()->set_type(v1::CASH);
  SN_RETURN_IF_ERROR(journal_->PriceSale(&sale));
  const int64_t total = sale.total();
  sale.clear_tenders();
  int64_t foreign_mid = 0;  // the foreign notes' home value at mid
  auto add = [&](v1::TenderType type, int64_t amount) {
    v1::Tender* t = sale.add_tenders();
    t->set_type(type);
    t->set_amount(amount);
    return t;
  };
  auto card = [&](int64_t amount) {
    v1::Tender* t = add(v1::CARD, amount);
    t->set_reference("auth " + Digits(Pick(1000000), 6));
    AddCardDetails(t);
    MaybeTip(t);
  };
  switch (pay) {
    case Pay::kCash: {
      v1::Tender* cash = add(v1::CASH, total);
      if (!fx_currencies_.empty() && Pick(100) < 15) {
        foreign_mid = ForeignTender(total, cash);
      } else {
        cash->set_tendered(NoteUp(total));
      }
      break;
    }
    case Pay::kCard:
      card(total);
      break;
    case Pay::kSplit:
      if (total < 1000) {
        add(v1::CASH, total)->set_tendered(NoteUp(total));
      } else {
        // The customer empties the wallet of notes, the card pays the rest.
        const int64_t cash = std::max<int64_t>(500, total / 2 / 500 * 500);
        add(v1::CASH, cash)->set_tendered(cash);
        card(total - cash);
      }
      break;
    case Pay::kVoucher: {
      if (const int64_t redeemed = RedeemVoucher(&sale, total); redeemed > 0) {
        if (redeemed < total) card(total - redeemed);
        break;
      }
      const int64_t face = std::array<int64_t, 4>{1000, 2000, 2500, 5000}[Pick(4)];
      const std::string reference = "V" + Digits(Pick(100000000), 8);
      add(v1::VOUCHER, std::min(face, total))->set_reference(reference);
      if (face < total) card(total - face);
      break;
    }
  }
  auto rec = journal_->RecordSale(sale);
  SN_RETURN_IF_ERROR(Recorded(v1::SALE, rec));
  // The tally, from what the sim built (the journal's filled figures unread).
  v1::DayTotals& tally = tally_[rec->business_day];
  int64_t lines_gross = 0;
  for (const v1::SaleLine& l : sale.lines()) lines_gross += LineGross(l);
  if (training_) {
    // No money moves and nothing becomes refundable.
    const bool cash = pay == Pay::kCash || pay == Pay::kSplit;
    const int64_t rounding = journal_->settings().cash_rounding();
    v1::TrainingTotals& x = *tally.mutable_training();
    x.set_event_count(x.event_count() + 1);
    x.set_receipt_count(x.receipt_count() + 1);
    x.set_sales(x.sales() + (cash ? CashRound(Money(lines_gross), rounding).minor() : lines_gross));
    return Status::Ok();
  }
  TallyPromotions(rec->business_day, sale);
  for (const v1::SaleLine& l : sale.lines()) {
    if (lines::IsMeasured(l)) {
      tally.set_measured_line_count(tally.measured_line_count() + 1);
      tally.set_measured_gross(tally.measured_gross() + LineGross(l));
    }
    if (l.has_price_override()) {
      v1::CorrectionTotals& c = *tally.mutable_corrections();
      c.set_price_override_count(c.price_override_count() + 1);
      c.set_price_overrides(c.price_overrides() +
                            (l.price_override().catalog_price() - l.unit_price()) * l.qty());
    }
  }
  for (const v1::SaleLine& l : sale.voided_lines()) {
    v1::CorrectionTotals& c = *tally.mutable_corrections();
    c.set_line_void_count(c.line_void_count() + 1);
    c.set_line_voids(c.line_voids() + l.qty() * l.unit_price());
  }
  for (const v1::Tender& t : sale.tenders()) {
    if (t.type() == v1::CASH) NoteCash(t.amount());
    if (!t.has_foreign()) continue;
    const v1::ForeignCash& f = t.foreign();
    v1::DayTotals& tally = DayTally();
    v1::FxTotal& row = TallyRow(tally, f.currency());
    row.set_tendered_count(row.tendered_count() + 1);
    row.set_tendered_foreign(row.tendered_foreign() + f.foreign_tendered());
    row.set_tendered_home(row.tendered_home() + t.tendered());
    row.set_margin(row.margin() + foreign_mid - t.tendered());
    tally.set_fx_margin(tally.fx_margin() + foreign_mid - t.tendered());
    v1::ForeignDrawer& d = TallyDrawer(tally, journal_->options().device_id, f.currency());
    d.set_received(d.received() + f.foreign_tendered());
    fx_drawer_[f.currency()] += f.foreign_tendered();
    v1::DrawerTotal& home = TallyHome(tally, journal_->options().device_id);
    home.set_fx_cash(home.fx_cash() - t.tendered());
    NoteCash(-t.tendered());
  }
  NoteSale(rec->receipt_no, sale);
  if (shift_sales_left_ > 0) --shift_sales_left_;
  if (mix_.vouchers || mix_.tips || mix_.cards || mix_.shifts) {
    sale.set_total(rec->total);
    sale.set_cashier(Cashier());
    TallySale(rec->business_day, sale);
  }
  for (const v1::SaleLine& l : sale.lines()) {
    if (!l.has_voucher()) continue;
    cards_.push_back({l.voucher().card_id(), l.voucher().voucher_type(),
                      l.voucher().voucher_type() == "MEAL", l.unit_price()});
    if (cards_.size() > 1000) cards_.erase(cards_.begin());
  }
  return Status::Ok();
}

Status TillSim::Refund(bool* done) {
  static constexpr std::array<std::string_view, 4> kReasons = {"faulty", "changed mind",
                                                               "wrong size", "damaged packaging"};
  *done = false;
  for (int attempt = 0; attempt < 8 && !recent_.empty(); ++attempt) {
    SoldReceipt& receipt = recent_[Pick(recent_.size())];
    std::vector<SoldLine*> open;
    for (SoldLine& l : receipt.lines) {
      if (l.refunded < l.qty) open.push_back(&l);
    }
    if (open.empty()) continue;
    SoldLine& line = *open[Pick(open.size())];
    // One unit back (what is left of a measured line), with its pro-rata
    // share of each promotion and of the manual rest of the line discount,
    // computed the way the journal does (FORMATS 10.6: cumulative, so parts
    // add up to the whole).
    v1::SaleLine back_line;
    back_line.set_unit(line.unit);
    lines::SetQuantity(&back_line, line.unit == v1::UNIT_PIECE ? 1 : line.qty - line.refunded);
    const int64_t n = lines::Quantity(back_line);
    auto share = [&](int64_t of) {
      return RoundHalfAwayDiv(__int128{of} * (line.refunded + n), line.qty) -
             RoundHalfAwayDiv(__int128{of} * line.refunded, line.qty);
    };
    v1::SaleLine given_back;  // the promotion shares this refund returns
    int64_t manual = line.discount, discount = 0;
    for (const v1::LineDiscount& d : line.promotions) {
      manual -= d.amount();
      if (const int64_t part = share(d.amount()); part > 0) {
        v1::LineDiscount* back_share = given_back.add_promotions();
        *back_share = d;
        back_share->set_amount(part);
        discount += part;
      }
    }
    discount += share(manual);
    const int64_t amount = lines::Extended(back_line, line.unit_price).minor() - discount;
    if (amount <= 0) continue;
    v1::Refund refund;
    refund.set_original_device_id(journal_->options().device_id);
    refund.set_original_receipt_no(receipt.receipt_no);
    v1::SaleLine* back = refund.add_lines();
    *back = back_line;
    back->set_sku(line.sku);
    back->set_name(line.name);
    v1::TenderType type = receipt.refund_to;
    if (type == v1::CASH && DrawerCash() < amount) type = v1::CARD;
    v1::Tender* t = refund.add_tenders();
    t->set_type(type);
    t->set_amount(amount);
    if (type == v1::CARD) {
      t->set_reference("auth " + Digits(Pick(1000000), 6));
      AddCardDetails(t);
    }
    if (type == v1::VOUCHER) t->set_reference("V" + Digits(Pick(100000000), 8));
    refund.set_cashier(Cashier());
    refund.set_reason(std::string(kReasons[Pick(kReasons.size())]));
    auto rec = journal_->RecordRefund(refund);
    SN_RETURN_IF_ERROR(Recorded(v1::REFUND, rec));
    TallyPromotionRefund(rec->business_day, given_back);
    TallyRefund(rec->business_day, refund, rec->total);
    line.refunded += n;
    if (type == v1::CASH) NoteCash(-amount);
    *done = true;
    return Status::Ok();
  }
  return Status::Ok();
}

Status TillSim::VoidReceipt() {
  static constexpr std::array<std::string_view, 3> kReasons = {"customer left", "card declined",
                                                               "scanned wrong items"};
  v1::Void v;
  for (v1::SaleLine& line : PickLines(1 + static_cast<int>(Pick(3)), false)) {
    *v.add_lines() = std::move(line);
  }
  v.set_cashier(Cashier());
  v.set_reason(std::string(kReasons[Pick(kReasons.size())]));
  return Recorded(v1::VOID, journal_->RecordVoid(v));
}

Status TillSim::Movement(v1::CashMovementType type, bool* done) {
  static constexpr std::array<std::string_view, 4> kPayOuts = {"window cleaner", "postage",
                                                               "milk for staff", "delivery tip"};
  v1::CashMovement m;
  m.set_type(type);
  m.set_cashier(Cashier());
  *done = false;
  switch (type) {
    case v1::PAY_IN:
      m.set_amount(std::array<int64_t, 3>{2000, 5000, 10000}[Pick(3)]);
      m.set_reason("change from the bank");
      break;
    case v1::PAY_OUT:
      m.set_amount(100 + static_cast<int64_t>(Pick(2901)));
      m.set_reason(std::string(kPayOuts[Pick(kPayOuts.size())]));
      if (DrawerCash() < m.amount()) return Status::Ok();
      break;
    case v1::DROP:
      // Down to about the float, in 50.00 bundles, once there is enough.
      if (DrawerCash() < 30000) return Status::Ok();
      m.set_amount((DrawerCash() - 15000) / 5000 * 5000);
      m.set_reason("to the safe");
      break;
    default:
      return Status::Invalid("simulator: unexpected cash movement type");
  }
  SN_RETURN_IF_ERROR(Recorded(v1::CASH_MOVEMENT, journal_->RecordCashMovement(m)));
  NoteCash(type == v1::PAY_IN ? m.amount() : -m.amount());
  *done = true;
  return Status::Ok();
}

Status TillSim::NoSale() {
  static constexpr std::array<std::string_view, 3> kReasons = {"change for a customer",
                                                               "float check", "receipt roll"};
  v1::NoSale n;
  n.set_cashier(Cashier());
  n.set_reason(std::string(kReasons[Pick(kReasons.size())]));
  return Recorded(v1::NO_SALE, journal_->RecordNoSale(n));
}

// ---- fx: foreign cash and exchanges (Mix::fx) -------------------------------

const v1::FxRateEntry* TillSim::FxRate(const std::string& currency) const {
  const int64_t now = journal_->options().clock->NowMicros();
  const v1::FxRateEntry* best = nullptr;
  for (const v1::FxRateEntry& e : fx_settings_.fx_rates()) {
    if (e.currency() == currency && e.effective_from_us() <= now &&
        (best == nullptr || e.effective_from_us() > best->effective_from_us())) {
      best = &e;
    }
  }
  return best;
}

Status TillSim::StartFxDay() {
  fx_day_ = day_;
  fx_settings_ = journal_->settings();
  fx_currencies_.clear();
  fx_drawer_.clear();
  for (const v1::FxRateEntry& e : fx_settings_.fx_rates()) {
    if (fx_settings_.rate_sheet_version() == 0) break;
    if (fx_currencies_.empty() || fx_currencies_.back() != e.currency()) {
      fx_currencies_.push_back(e.currency());
    }
  }
  if (fx_currencies_.empty()) return Status::Ok();
  // A run that continues a day finds its floats and balances in the X.
  SN_ASSIGN_OR_RETURN(v1::DayTotals totals, journal_->XReport(day_));
  std::set<std::string> floated;
  for (const v1::ForeignDrawer& d : totals.foreign_drawers()) {
    if (d.device_id() != journal_->options().device_id) continue;
    fx_drawer_[d.currency()] = d.expected();
    if (d.opening_float() > 0) floated.insert(d.currency());
  }
  for (const std::string& c : fx_currencies_) {
    if (floated.count(c) > 0) continue;
    v1::CashMovement m;
    m.set_type(v1::OPENING_FLOAT);
    m.set_currency(c);
    // A bureau's float: 5000 notes' worth (JPY 500000), so that large sales
    // of notes happen.
    m.set_amount((c == "JPY" ? 500000 : 5000) * Pow10(settings::CurrencyDecimals(c)));
    m.set_cashier(Cashier());
    m.set_reason("foreign float");
    SN_RETURN_IF_ERROR(Recorded(v1::CASH_MOVEMENT, journal_->RecordCashMovement(m)));
    v1::ForeignDrawer& d = TallyDrawer(DayTally(), journal_->options().device_id, c);
    d.set_opening_float(d.opening_float() + m.amount());
    fx_drawer_[c] += m.amount();
  }
  return Status::Ok();
}

int64_t TillSim::ForeignTender(int64_t total, v1::Tender* cash) {
  fx_settings_ = journal_->settings();  // the fog may have sent a new sheet
  const std::string& c = fx_currencies_[Pick(fx_currencies_.size())];
  const v1::FxRateEntry* rate = FxRate(c);
  if (rate == nullptr) {
    cash->set_tendered(NoteUp(total));
    return 0;
  }
  // The smallest note that covers the total at the buy rate, or a multiple
  // of the largest.
  const int64_t minor = Pow10(settings::CurrencyDecimals(c));
  const int64_t need = static_cast<int64_t>(
      (static_cast<__int128>(total) * 1'000'000'000 + rate->buy_rate_e9() - 1) /
      rate->buy_rate_e9());
  const std::array<int64_t, 7> notes = {5, 10, 20, 50, 100, 200, 500};
  const int64_t scale = (c == "JPY" ? 200 : 1) * minor;
  int64_t foreign = 0;
  for (int64_t n : notes) {
    if (n * scale >= need) {
      foreign = n * scale;
      break;
    }
  }
  if (foreign == 0) foreign = (need + 500 * scale - 1) / (500 * scale) * (500 * scale);
  cash->set_tendered(SimHome(foreign, rate->buy_rate_e9()));
  v1::ForeignCash* f = cash->mutable_foreign();
  f->set_currency(c);
  f->set_foreign_tendered(foreign);
  f->set_rate_e9(rate->buy_rate_e9());
  f->set_rate_sheet_version(fx_settings_.rate_sheet_version());
  return SimHome(foreign, rate->mid_rate_e9());  // mid_rate_e9 is left to the journal
}

Status TillSim::Exchange(bool* done) {
  *done = false;
  fx_settings_ = journal_->settings();
  const std::string& c = fx_currencies_[Pick(fx_currencies_.size())];
  bool buy = Pick(2) == 0;
  // Amounts in whole notes from 20 to 2500 (JPY x100): the home values run
  // from below the commissions' minimums to above their maximums and the
  // AML threshold.
  static constexpr std::array<int64_t, 8> kMajors = {20, 50, 100, 200, 500, 1000, 1500, 2500};
  const int64_t foreign =
      kMajors[Pick(kMajors.size())] * (c == "JPY" ? 100 : 1) * Pow10(settings::CurrencyDecimals(c));
  const v1::FxRateEntry* rate = FxRate(c);
  if (rate == nullptr) return Status::Ok();
  if (!buy && fx_drawer_[c] < foreign) buy = true;  // cannot sell notes it does not hold
  const int64_t r = buy ? rate->buy_rate_e9() : rate->sell_rate_e9();
  const int64_t home = SimHome(foreign, r);
  const int64_t commission =
      SimCommission(home, buy ? fx_settings_.buy_commission() : fx_settings_.sell_commission());
  const int64_t total = buy ? home - commission : home + commission;
  if (total <= 0 || (buy && DrawerCash() < total)) return Status::Ok();
  v1::Exchange e;
  e.set_direction(buy ? v1::BUY_FOREIGN : v1::SELL_FOREIGN);
  e.set_currency(c);
  e.set_foreign_amount(foreign);
  e.set_rate_e9(r);
  e.set_mid_rate_e9(rate->mid_rate_e9());
  e.set_rate_sheet_version(fx_settings_.rate_sheet_version());
  e.set_cashier(Cashier());
  const bool aml = fx_settings_.aml_threshold() > 0 && home >= fx_settings_.aml_threshold();
  if (aml || Pick(20) == 0) e.set_customer_ref("CUST-" + Digits(Pick(100000000), 8));
  const bool card = !buy && Pick(3) == 0;
  v1::Tender* t = e.add_tenders();
  t->set_type(card ? v1::CARD : v1::CASH);
  t->set_amount(total);
  if (card) t->set_reference("auth " + Digits(Pick(1000000), 6));
  if (!card && !buy) t->set_tendered(NoteUp(total));
  SN_RETURN_IF_ERROR(Recorded(v1::EXCHANGE, journal_->RecordExchange(e)));

  v1::DayTotals& tally = DayTally();
  v1::FxTotal& row = TallyRow(tally, c);
  v1::ForeignDrawer& d = TallyDrawer(tally, journal_->options().device_id, c);
  const int64_t mid = SimHome(foreign, rate->mid_rate_e9());
  if (buy) {
    row.set_bought_count(row.bought_count() + 1);
    row.set_bought_foreign(row.bought_foreign() + foreign);
    row.set_bought_home(row.bought_home() + home);
    d.set_received(d.received() + foreign);
    fx_drawer_[c] += foreign;
  } else {
    row.set_sold_count(row.sold_count() + 1);
    row.set_sold_foreign(row.sold_foreign() + foreign);
    row.set_sold_home(row.sold_home() + home);
    d.set_paid(d.paid() + foreign);
    fx_drawer_[c] -= foreign;
  }
  row.set_commission(row.commission() + commission);
  row.set_margin(row.margin() + (buy ? mid - home : home - mid));
  if (!e.customer_ref().empty()) row.set_referenced_count(row.referenced_count() + 1);
  tally.set_fx_commission(tally.fx_commission() + commission);
  tally.set_fx_margin(tally.fx_margin() + (buy ? mid - home : home - mid));
  if (!card) {
    v1::DrawerTotal& h = TallyHome(tally, journal_->options().device_id);
    h.set_fx_cash(h.fx_cash() + (buy ? -total : total));
    NoteCash(buy ? -total : total);
  }
  *done = true;
  return Status::Ok();
}

v1::DayTotals TillSim::FxTally(const std::string& day) const {
  auto it = tally_.find(day);
  v1::DayTotals t = it == tally_.end() ? v1::DayTotals() : it->second;
  for (v1::ForeignDrawer& d : *t.mutable_foreign_drawers()) {
    d.set_expected(d.opening_float() + d.received() - d.paid() + d.pay_ins() - d.pay_outs() -
                   d.drops());
  }
  std::sort(t.mutable_fx()->begin(), t.mutable_fx()->end(),
            [](const auto& a, const auto& b) { return a.currency() < b.currency(); });
  std::sort(t.mutable_foreign_drawers()->begin(), t.mutable_foreign_drawers()->end(),
            [](const auto& a, const auto& b) { return a.currency() < b.currency(); });
  return t;
}

Status TillSim::Recorded(v1::EventKind kind, const Result<edge::Recorded>& rec) {
  if (!rec.ok()) {
    return Status(rec.status().code(), journal_->options().device_id + ": " + KindName(kind) +
                                           ": " + rec.status().message());
  }
  ++events_;
  if (kind == v1::SALE && !training_) ++sales_;
  last_kind_ = kind;
  return Status::Ok();
}

// --- Issue 17: weighed goods, corrections, training (Mix) ---

// A line sold by measure: 70% read from a weight label (scale::Ean13CheckDigit
// closes the code), 10% keyed by hand, the rest weighed at the till with a
// 15 g tray as tare.
v1::SaleLine TillSim::MeasuredLine() {
  const CatalogItem& item = MeasuredCatalog()[Pick(MeasuredCatalog().size())];
  v1::SaleLine line;
  line.set_sku(std::string(item.sku));
  line.set_name(std::string(item.name));
  line.set_tax_code(std::string(item.tax_code));
  line.set_unit_price(item.price);
  line.set_unit(item.unit);
  line.set_qty_milli(50 + static_cast<int64_t>(Pick(2951)));  // 0.050 .. 3.000
  const uint64_t how = Pick(100);
  if (how < 70) {
    const std::string first12 =
        std::string(item.sku) + Digits(static_cast<uint64_t>(line.qty_milli()), 5);
    line.set_barcode(first12 + std::to_string(scale::Ean13CheckDigit(first12)));
  } else if (how < 80) {
    line.set_keyed_weight(true);
  } else {
    line.set_tare_milli(15);
  }
  return line;
}

// 5% of sales had a line taken off before the total; 3% had the first
// line's price keyed 10..30% under the catalog's, approved by a supervisor.
void TillSim::Correct(v1::Sale* sale) {
  if (Pick(100) < 5) *sale->add_voided_lines() = PickLines(1, false)[0];
  if (Pick(100) < 3) {
    v1::SaleLine& l = *sale->mutable_lines(0);
    const int64_t percent = 10 + static_cast<int64_t>(Pick(21));
    v1::PriceOverride* o = l.mutable_price_override();
    o->set_catalog_price(l.unit_price());
    o->set_reason_code(std::string(kOverrideReasons[Pick(kOverrideReasons.size())]));
    o->set_supervisor_id("sup-" + std::to_string(1 + Pick(3)));
    l.set_unit_price(l.unit_price() - l.unit_price() * percent / 100);
    l.clear_discount();
  }
}

// One catalog item back without a receipt, where the store's settings take
// it (the sim store's: up to 50.00, a supervisor's id above 20.00), cash
// when the drawer has it.
Status TillSim::NoReceiptRefund(bool* done) {
  static constexpr std::array<std::string_view, 2> kReasons = {"no receipt, gift", "lost receipt"};
  const CatalogItem& item = Catalog()[Pick(Catalog().size())];
  const v1::StoreSettings terms = journal_->settings();
  *done = false;
  if (item.price > terms.no_receipt_refund_limit()) return Status::Ok();
  v1::Refund refund;
  refund.set_without_receipt(true);
  v1::SaleLine* back = refund.add_lines();
  back->set_sku(std::string(item.sku));
  back->set_name(std::string(item.name));
  back->set_qty(1);
  back->set_unit_price(item.price);
  back->set_tax_code(std::string(item.tax_code));
  if (item.price > terms.no_receipt_supervisor_above()) refund.set_supervisor_id("sup-1");
  refund.set_reason(std::string(kReasons[Pick(kReasons.size())]));
  refund.set_cashier(Cashier());
  v1::Tender* t = refund.add_tenders();
  t->set_type(DrawerCash() >= item.price ? v1::CASH : v1::VOUCHER);
  t->set_amount(item.price);
  auto rec = journal_->RecordRefund(refund);
  SN_RETURN_IF_ERROR(Recorded(v1::REFUND, rec));
  if (t->type() == v1::CASH) NoteCash(-item.price);
  TallyRefund(rec->business_day, refund, rec->total);
  v1::CorrectionTotals& c = *tally_[rec->business_day].mutable_corrections();
  c.set_no_receipt_refund_count(c.no_receipt_refund_count() + 1);
  c.set_no_receipt_refunds(c.no_receipt_refunds() + item.price);
  *done = true;
  return Status::Ok();
}

// A trainee rings up one to three sales in training mode.
Status TillSim::TrainingSession() {
  const int sales = 1 + static_cast<int>(Pick(3));
  journal_->SetTraining(true);
  training_ = true;
  Status s = Status::Ok();
  for (int i = 0; i < sales && s.ok(); ++i) s = Sale();
  training_ = false;
  journal_->SetTraining(false);
  return s;
}

Result<v1::SimReport> Report(const std::string& store_id, std::vector<v1::SimTill> tills,
                             double seconds) {
  v1::SimReport report;
  report.set_store_id(store_id);
  for (v1::SimTill& till : tills) {
    SN_ASSIGN_OR_RETURN(std::vector<v1::DayTotals> days, edge::TotalsFromFile(till.journal_path()));
    for (v1::DayTotals& d : days) *till.add_days() = std::move(d);
    report.set_events(report.events() + till.events());
    *report.add_tills() = std::move(till);
  }
  report.set_seconds(seconds);
  report.set_events_per_s(seconds > 0 ? static_cast<double>(report.events()) / seconds : 0);
  return report;
}

}  // namespace storenode::sim
