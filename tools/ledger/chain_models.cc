// The chain's read models: a Z's rows, the UPSERTs that add them, the
// queries of the report and the watch. See chain_models.h for the promises
// (deterministic rows, additive figures, currency in every key) and
// docs/FORMATS.md section 13 for the tables.
#include "ledger/chain_models.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <memory>
#include <set>
#include <tuple>
#include <utility>

#include "storenode/common/clock.h"

namespace storenode::ledger {
namespace {

// Each statement is a head (up to VALUES) and a tail (the ON CONFLICT), with
// the rows of a batch in between (RunRows).
constexpr std::string_view kStoreHead =
    "INSERT INTO chain_stores (store_id, store_name, first_day, last_day, last_closed_day, parts)"
    " VALUES";
constexpr std::string_view kStoreTail =
    "ON CONFLICT (store_id) DO UPDATE SET"
    " store_name = excluded.store_name,"
    " first_day = CASE WHEN excluded.first_day < chain_stores.first_day"
    " THEN excluded.first_day ELSE chain_stores.first_day END,"
    " last_day = CASE WHEN excluded.last_day > chain_stores.last_day"
    " THEN excluded.last_day ELSE chain_stores.last_day END,"
    " last_closed_day = CASE WHEN excluded.last_closed_day > chain_stores.last_closed_day"
    " THEN excluded.last_closed_day ELSE chain_stores.last_closed_day END,"
    " parts = chain_stores.parts + excluded.parts";

// INSERT INTO chain_days (keys, decimals, z_number, figures...) with every
// figure added on conflict; built once from kDayFigures.
struct DaySql {
  std::string head, tail;
};
const DaySql& UpsertDay() {
  static const DaySql sql = [] {
    std::string columns = "store_id, business_day, currency, currency_decimals, z_number";
    std::string sets = "z_number = chain_days.z_number + excluded.z_number";
    for (std::string_view f : kDayFigures) {
      const std::string name(f);
      columns += ", " + name;
      sets += ", " + name + " = chain_days." + name + " + excluded." + name;
    }
    return DaySql{"INSERT INTO chain_days (" + columns + ") VALUES",
                  "ON CONFLICT (store_id, business_day, currency) DO UPDATE SET " + sets};
  }();
  return sql;
}

constexpr std::string_view kTaxHead =
    "INSERT INTO chain_tax (store_id, business_day, currency, currency_decimals, tax_code, rate_bp,"
    " name, net, tax, gross) VALUES";
constexpr std::string_view kTaxTail =
    "ON CONFLICT (store_id, business_day, currency, tax_code, rate_bp) DO UPDATE SET"
    " net = chain_tax.net + excluded.net, tax = chain_tax.tax + excluded.tax,"
    " gross = chain_tax.gross + excluded.gross";

constexpr std::string_view kTenderHead =
    "INSERT INTO chain_tenders (store_id, business_day, currency, currency_decimals, tender,"
    " tender_count, sales, refunds) VALUES";
constexpr std::string_view kTenderTail =
    "ON CONFLICT (store_id, business_day, currency, tender) DO UPDATE SET"
    " tender_count = chain_tenders.tender_count + excluded.tender_count,"
    " sales = chain_tenders.sales + excluded.sales,"
    " refunds = chain_tenders.refunds + excluded.refunds";

constexpr std::string_view kMissingTillHead =
    "INSERT INTO chain_missing_tills (store_id, business_day, device_id, z_number) VALUES";
constexpr std::string_view kMissingTillTail =
    "ON CONFLICT (store_id, business_day, device_id) DO NOTHING";

// A conflict key for RunRows: the parts, each followed by a NUL.
template <typename... Parts>
std::string ConflictKey(const Parts&... parts) {
  std::string key;
  ((key += parts, key += '\0'), ...);
  return key;
}

SqlValue Text(std::string s) { return SqlValue(std::move(s)); }
SqlValue Num(int64_t n) { return SqlValue(n); }
SqlValue Num(uint64_t n) { return SqlValue(static_cast<int64_t>(n)); }
SqlValue Num(Money m) { return SqlValue(m.minor()); }

}  // namespace

ChainRows RowsOf(const v1::ZReport& z) {
  ChainRows r;
  ChainDayRow& d = r.day;
  const v1::DayTotals& t = z.totals();
  d.store_id = z.store_id();
  d.business_day = z.business_day();
  d.currency = z.currency();
  // A Z made without store settings names no currency; reports then print
  // two decimals, as report_text.h does.
  d.currency_decimals = z.currency().empty() ? 2 : z.currency_decimals();
  const bool part0 = z.part() == 0;
  d.z_number = part0 ? z.z_number() : 0;
  d.closed = part0 ? 1 : 0;
  d.supplements = part0 ? 0 : 1;
  d.receipts = t.receipt_count();
  d.refund_count = t.refund_count();
  d.void_count = t.void_count();
  d.gross_sales = Money(t.gross_sales());
  d.discounts = Money(t.discounts());
  d.refunds = Money(t.refunds());
  d.voids = Money(t.voids());
  d.net_sales = Money(t.net_sales());
  d.rounding = Money(t.rounding());

  std::map<std::pair<std::string, int32_t>, ChainTaxRow> taxes;
  for (const v1::TaxTotal& x : t.taxes()) {
    ChainTaxRow& row = taxes[{x.tax_code(), x.rate_bp()}];
    row.tax_code = x.tax_code();
    row.rate_bp = x.rate_bp();
    if (row.name.empty()) row.name = x.name();
    row.net += Money(x.net());
    row.tax += Money(x.tax());
    row.gross += Money(x.gross());
    d.tax += Money(x.tax());  // as the Z's grand totals sum it (FORMATS.md 8.1)
  }
  for (auto& [key, row] : taxes) r.taxes.push_back(std::move(row));

  std::map<std::string, ChainTenderRow> tenders;
  for (const v1::TenderTotal& x : t.tenders()) {
    ChainTenderRow& row = tenders[x.type()];
    row.type = x.type();
    row.count += x.count();
    row.sales += Money(x.sales());
    row.refunds += Money(x.refunds());
  }
  for (auto& [key, row] : tenders) r.tenders.push_back(std::move(row));

  // Counts belong to the Z; a supplement's drawers are never counted.
  if (part0) {
    for (const v1::DrawerCount& c : z.drawer_counts()) {
      if (!c.counted()) {
        ++d.drawers_not_counted;
        continue;
      }
      ++d.drawers_counted;
      d.cash_counted += Money(c.counted_cash());
      d.over_short += Money(c.over_short());
    }
  }

  const std::set<std::string> missing(z.missing_tills().begin(), z.missing_tills().end());
  r.missing_tills.assign(missing.begin(), missing.end());
  d.forced = z.forced() ? 1 : 0;
  d.missing_tills = r.missing_tills.size();
  r.store_name = z.store_name();
  return r;
}

Status ApplyChainRows(const ChainRows& rows, SqlConn& db) {
  return ApplyChainRows(std::span<const ChainRows>(&rows, 1), db);
}

Status ApplyChainRows(std::span<const ChainRows> batch, SqlConn& db) {
  if (batch.empty()) return Status::Ok();
  SqlRows stores(6), days(5 + std::size(kDayFigures)), taxes(10), tenders(8), tills(4);
  for (const ChainRows& rows : batch) {
    const ChainDayRow& d = rows.day;
    const std::string closed_day = d.closed != 0 ? d.business_day : "";
    const SqlValue store[] = {Text(d.store_id),     Text(rows.store_name), Text(d.business_day),
                              Text(d.business_day), Text(closed_day),      Num(int64_t{1})};
    stores.Add(ConflictKey(d.store_id), store);
    const std::string day_key = ConflictKey(d.store_id, d.business_day, d.currency);
    const SqlValue day[] = {Text(d.store_id), Text(d.business_day), Text(d.currency),
                            Num(static_cast<int64_t>(d.currency_decimals)), Num(d.z_number),
                            // kDayFigures order
                            Num(d.closed), Num(d.supplements), Num(d.receipts), Num(d.gross_sales),
                            Num(d.discounts), Num(d.refund_count), Num(d.refunds), Num(d.net_sales),
                            Num(d.tax), Num(d.rounding), Num(d.void_count), Num(d.voids),
                            Num(d.drawers_counted), Num(d.drawers_not_counted), Num(d.cash_counted),
                            Num(d.over_short), Num(d.forced), Num(d.missing_tills)};
    static_assert(std::size(day) == 5 + std::size(kDayFigures));
    days.Add(day_key, day);
    for (const ChainTaxRow& x : rows.taxes) {
      const SqlValue tax[] = {Text(d.store_id), Text(d.business_day),
                              Text(d.currency), Num(static_cast<int64_t>(d.currency_decimals)),
                              Text(x.tax_code), Num(static_cast<int64_t>(x.rate_bp)),
                              Text(x.name),     Num(x.net),
                              Num(x.tax),       Num(x.gross)};
      taxes.Add(day_key + ConflictKey(x.tax_code, std::to_string(x.rate_bp)), tax);
    }
    for (const ChainTenderRow& x : rows.tenders) {
      const SqlValue tender[] = {Text(d.store_id), Text(d.business_day),
                                 Text(d.currency), Num(static_cast<int64_t>(d.currency_decimals)),
                                 Text(x.type),     Num(x.count),
                                 Num(x.sales),     Num(x.refunds)};
      tenders.Add(day_key + ConflictKey(x.type), tender);
    }
    for (const std::string& device : rows.missing_tills) {
      const SqlValue till[] = {Text(d.store_id), Text(d.business_day), Text(device),
                               Num(d.z_number)};
      tills.Add(ConflictKey(d.store_id, d.business_day, device), till);
    }
  }
  SN_RETURN_IF_ERROR(RunRows(db, kStoreHead, stores, kStoreTail));
  SN_RETURN_IF_ERROR(RunRows(db, UpsertDay().head, days, UpsertDay().tail));
  SN_RETURN_IF_ERROR(RunRows(db, kTaxHead, taxes, kTaxTail));
  SN_RETURN_IF_ERROR(RunRows(db, kTenderHead, tenders, kTenderTail));
  return RunRows(db, kMissingTillHead, tills, kMissingTillTail);
}

// Queries.

Result<ChainBy> CheckChainQuery(const ChainQuery& q) {
  for (const std::string& day : {q.from_day, q.to_day}) {
    if (!IsValidDay(day))
      return Status::Invalid("'" + day + "' is not a business day (want YYYY-MM-DD)");
  }
  const int days = DaysBetween(q.from_day, q.to_day) + 1;
  if (days < 1) return Status::Invalid("from_day " + q.from_day + " is after to_day " + q.to_day);
  if (days > kMaxChainReportDays) {
    return Status::Invalid("a report covers at most " + std::to_string(kMaxChainReportDays) +
                           " days; " + q.from_day + " .. " + q.to_day + " is " +
                           std::to_string(days));
  }
  if (q.by == "store") return ChainBy::kStore;
  if (q.by == "day") return ChainBy::kDay;
  if (q.by == "tax") return ChainBy::kTax;
  if (q.by == "tender") return ChainBy::kTender;
  return Status::Invalid("unknown grouping '" + q.by + "' (store, day, tax or tender)");
}

namespace {

std::string Sum(std::string_view column) {
  return "CAST(SUM(" + std::string(column) + ") AS BIGINT)";
}

// SELECT currency, MAX(currency_decimals), [key...], figures... FROM table
// WHERE the days [AND the store] GROUP BY currency[, key...]. Without `key`,
// a currency's total.
std::string GroupQuery(ChainBy by, bool with_key, bool one_store) {
  std::string table, key, figures;
  switch (by) {
    case ChainBy::kStore:
    case ChainBy::kDay:
      table = "chain_days";
      key = by == ChainBy::kStore ? "store_id" : "business_day";
      figures = "COUNT(*), COUNT(DISTINCT store_id)";
      for (std::string_view f : kDayFigures) figures += ", " + Sum(f);
      break;
    case ChainBy::kTax:
      table = "chain_tax";
      key = "tax_code, rate_bp";
      figures = "MIN(name), " + Sum("net") + ", " + Sum("tax") + ", " + Sum("gross");
      break;
    case ChainBy::kTender:
      table = "chain_tenders";
      key = "tender";
      figures = Sum("tender_count") + ", " + Sum("sales") + ", " + Sum("refunds");
      break;
  }
  return "SELECT currency, MAX(currency_decimals), " + (with_key ? key + ", " : "") + figures +
         " FROM " + table + " WHERE business_day >= ? AND business_day <= ?" +
         (one_store ? " AND store_id = ?" : "") + " GROUP BY currency" +
         (with_key ? ", " + key : "");
}

void ReadFigures(const SqlRow& row, int at, v1::ChainFigures* f) {
  f->set_days(row.Int(at));
  f->set_stores(row.Int(at + 1));
  const google::protobuf::Descriptor* desc = f->GetDescriptor();
  const google::protobuf::Reflection* refl = f->GetReflection();
  // ChainFigures fields 3.. are kDayFigures, in order and with the same names.
  for (size_t i = 0; i < std::size(kDayFigures); ++i) {
    const google::protobuf::FieldDescriptor* field =
        desc->FindFieldByName(std::string(kDayFigures[i]));
    const int64_t v = row.Int(at + 2 + static_cast<int>(i));
    if (field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_UINT64) {
      refl->SetUInt64(f, field, static_cast<uint64_t>(v));
    } else {
      refl->SetInt64(f, field, v);
    }
  }
}

// A row of a GroupQuery(by, with_key): its currency and decimals, into `out`.
void ReadRow(ChainBy by, bool with_key, const SqlRow& row, v1::ChainRow* out) {
  int at = 2;
  switch (by) {
    case ChainBy::kStore:
    case ChainBy::kDay:
      if (with_key) {
        (by == ChainBy::kStore ? out->mutable_store_id() : out->mutable_business_day())
            ->assign(row.Str(at++));
      }
      ReadFigures(row, at, out->mutable_figures());
      break;
    case ChainBy::kTax: {
      v1::TaxTotal* t = out->mutable_tax();
      if (with_key) {
        t->set_tax_code(row.Str(at++));
        t->set_rate_bp(static_cast<int32_t>(row.Int(at++)));
      }
      const std::string name = row.Str(at++);
      if (with_key) t->set_name(name);
      t->set_net(row.Int(at++));
      t->set_tax(row.Int(at++));
      t->set_gross(row.Int(at++));
      break;
    }
    case ChainBy::kTender: {
      v1::TenderTotal* t = out->mutable_tender();
      if (with_key) t->set_type(row.Str(at++));
      t->set_count(row.Int(at++));
      t->set_sales(row.Int(at++));
      t->set_refunds(row.Int(at++));
      break;
    }
  }
}

// Bytewise order of a row's key.
std::tuple<std::string, std::string, std::string, int32_t, std::string> KeyOf(
    const v1::ChainRow& r) {
  return {r.store_id(), r.business_day(), r.tax().tax_code(), r.tax().rate_bp(), r.tender().type()};
}

}  // namespace

Result<v1::ChainReport> QueryChainReport(const ChainQuery& q, SqlConn& db) {
  SN_ASSIGN_OR_RETURN(const ChainBy by, CheckChainQuery(q));
  v1::ChainReport report;
  report.set_from_day(q.from_day);
  report.set_to_day(q.to_day);
  report.set_store_id(q.store_id);
  report.set_by(q.by);
  const bool one_store = !q.store_id.empty();
  std::vector<SqlValue> args = {Text(q.from_day), Text(q.to_day)};
  if (one_store) args.push_back(Text(q.store_id));

  std::map<std::string, v1::ChainCurrency> currencies;  // bytewise by code
  for (const bool with_key : {true, false}) {
    const std::string sql = GroupQuery(by, with_key, one_store);
    SN_RETURN_IF_ERROR(db.Run(sql, args, [&](const SqlRow& row) {
      const std::string code = row.Str(0);
      v1::ChainCurrency& c = currencies[code];
      c.set_currency(code);
      c.set_currency_decimals(static_cast<int32_t>(row.Int(1)));
      ReadRow(by, with_key, row, with_key ? c.add_rows() : c.mutable_total());
    }));
  }
  for (auto& [code, c] : currencies) {
    std::sort(c.mutable_rows()->begin(), c.mutable_rows()->end(),
              [](const v1::ChainRow& a, const v1::ChainRow& b) { return KeyOf(a) < KeyOf(b); });
    *report.add_currencies() = std::move(c);
  }
  return report;
}

Result<v1::ChainWatch> QueryChainWatch(const std::string& business_day, SqlConn& db) {
  if (!IsValidDay(business_day)) {
    return Status::Invalid("'" + business_day + "' is not a business day (want YYYY-MM-DD)");
  }
  v1::ChainWatch watch;
  watch.set_business_day(business_day);
  const SqlValue day[] = {Text(business_day)};
  std::vector<v1::ChainStoreState> open;
  SN_RETURN_IF_ERROR(db.Run(
      "SELECT s.store_id, s.store_name, s.last_closed_day, (SELECT COUNT(*) FROM chain_days d"
      " WHERE d.store_id = s.store_id AND d.business_day = ? AND d.closed > 0) FROM chain_stores s",
      day, [&](const SqlRow& row) {
        watch.set_stores(watch.stores() + 1);
        if (row.Int(3) > 0) {
          watch.set_closed(watch.closed() + 1);
          return;
        }
        v1::ChainStoreState& s = open.emplace_back();
        s.set_store_id(row.Str(0));
        s.set_store_name(row.Str(1));
        s.set_last_closed_day(row.Str(2));
      }));
  std::sort(open.begin(), open.end(),
            [](const auto& a, const auto& b) { return a.store_id() < b.store_id(); });
  for (v1::ChainStoreState& s : open) *watch.add_not_closed() = std::move(s);

  std::map<std::string, v1::ChainForcedClose> forced;
  SN_RETURN_IF_ERROR(
      db.Run("SELECT store_id, z_number FROM chain_days WHERE business_day = ? AND forced > 0", day,
             [&](const SqlRow& row) {
               v1::ChainForcedClose& f = forced[row.Str(0)];
               f.set_store_id(row.Str(0));
               f.set_z_number(row.Int(1));
             }));
  std::map<std::string, std::set<std::string>> missing;
  SN_RETURN_IF_ERROR(
      db.Run("SELECT store_id, device_id FROM chain_missing_tills WHERE business_day = ?", day,
             [&](const SqlRow& row) { missing[row.Str(0)].insert(row.Str(1)); }));
  for (auto& [store, f] : forced) {
    for (const std::string& till : missing[store]) f.add_missing_tills(till);
    *watch.add_forced() = std::move(f);
  }
  return watch;
}

}  // namespace storenode::ledger
