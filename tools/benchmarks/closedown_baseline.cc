// The baseline of bench closedown (closedown_bench.h): the day's line rows in
// a plain SQLite table and the GROUP BYs that give a Z's figures.
#include <algorithm>
#include <chrono>
#include <filesystem>

#include "closedown_bench.h"
#include "storenode/common/journal_format.h"
#include "storenode/common/sqlite.h"
#include "storenode/common/totals.h"
#include "storenode/edge.h"

namespace storenode::bench {
namespace {

constexpr std::string_view kSchema = R"sql(
CREATE TABLE lines(
  day TEXT NOT NULL,
  device TEXT NOT NULL,
  receipt INTEGER NOT NULL,
  kind INTEGER NOT NULL,
  sku TEXT NOT NULL,
  qty INTEGER NOT NULL,
  unit_price INTEGER NOT NULL,
  discount INTEGER NOT NULL,
  gross INTEGER NOT NULL,
  tax INTEGER NOT NULL,
  tax_code TEXT NOT NULL,
  tax_rate_bp INTEGER NOT NULL);
CREATE TABLE tenders(
  day TEXT NOT NULL,
  device TEXT NOT NULL,
  receipt INTEGER NOT NULL,
  kind INTEGER NOT NULL,
  type TEXT NOT NULL,
  amount INTEGER NOT NULL);
)sql";

// The queries, with ?1 the business day and ?2 the SALE kind. Each one
// reads every row of its table once.
//   taxes:   per tax code and rate, gross and tax with refunds subtracted
//            (DayTotals.taxes).
//   tills:   per till and kind: receipts, gross before discounts, discounts,
//            gross (DayTotals receipt_count, gross_sales, discounts,
//            refund_count, refunds; ZTill.receipt_count).
//   tenders: per till, type and kind: count and amount (DayTotals.tenders,
//            and the drawers' cash sales and refunds).
constexpr std::string_view kTaxQuery =
    "SELECT tax_code, tax_rate_bp, SUM(CASE WHEN kind = ?2 THEN gross ELSE -gross END), "
    "SUM(CASE WHEN kind = ?2 THEN tax ELSE -tax END) FROM lines WHERE day = ?1 "
    "GROUP BY tax_code, tax_rate_bp";
constexpr std::string_view kTillQuery =
    "SELECT device, kind, COUNT(DISTINCT receipt), SUM(qty * unit_price), SUM(discount), "
    "SUM(gross) FROM lines WHERE day = ?1 GROUP BY device, kind";
constexpr std::string_view kTenderQuery =
    "SELECT device, type, kind, COUNT(*), SUM(amount) FROM tenders WHERE day = ?1 "
    "GROUP BY device, type, kind";

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Runs `stmt` (day and SALE bound) to the end; `row` sees each row.
template <typename RowFn>
Status RunQuery(sql::Stmt& stmt, const std::string& day, RowFn row) {
  stmt.Bind(1, day).Bind(2, int64_t{v1::SALE});
  while (true) {
    SN_ASSIGN_OR_RETURN(bool more, stmt.Step());
    if (!more) break;
    row(stmt);
  }
  stmt.Reset();
  return Status::Ok();
}

}  // namespace

Result<DayContent> WriteBaselineTables(const std::string& path,
                                       const std::vector<std::string>& journals,
                                       const std::string& day) {
  std::error_code ec;
  std::filesystem::remove(path, ec);
  SN_ASSIGN_OR_RETURN(std::unique_ptr<sql::Db> db, sql::Db::Open(path));
  SN_RETURN_IF_ERROR(db->Exec(kSchema));
  SN_ASSIGN_OR_RETURN(sql::Stmt line,
                      db->Prepare("INSERT INTO lines VALUES(?,?,?,?,?,?,?,?,?,?,?,?)"));
  SN_ASSIGN_OR_RETURN(sql::Stmt tender, db->Prepare("INSERT INTO tenders VALUES(?,?,?,?,?,?)"));
  sql::Transaction txn(*db);
  SN_RETURN_IF_ERROR(txn.begin_status());
  DayContent out;
  DecodedEvent ev;
  for (const std::string& journal : journals) {
    SN_ASSIGN_OR_RETURN(std::vector<v1::JournalEvent> events, edge::ReadJournalFile(journal));
    out.events += events.size();
    for (const v1::JournalEvent& raw : events) {
      SN_RETURN_IF_ERROR(DecodeEvent(raw, &ev));
      const v1::EventHeader& h = ev.header;
      if (h.business_day() != day) {
        return Status::Precondition(journal + " seq " + std::to_string(h.seq()) + " is on " +
                                    h.business_day() + ", not " + day);
      }
      const google::protobuf::RepeatedPtrField<v1::SaleLine>* lines = nullptr;
      const google::protobuf::RepeatedPtrField<v1::Tender>* tenders = nullptr;
      if (h.kind() == v1::SALE) {
        lines = &ev.body.sale().lines();
        tenders = &ev.body.sale().tenders();
        ++out.receipts;
        out.sale_lines += static_cast<uint64_t>(lines->size());
      } else if (h.kind() == v1::REFUND) {
        lines = &ev.body.refund().lines();
        tenders = &ev.body.refund().tenders();
      } else {
        continue;
      }
      const int64_t receipt = static_cast<int64_t>(h.receipt_no());
      for (const v1::SaleLine& l : *lines) {
        line.Bind(1, day).Bind(2, h.device_id()).Bind(3, receipt).Bind(4, int64_t{h.kind()});
        line.Bind(5, l.sku()).Bind(6, l.qty()).Bind(7, l.unit_price()).Bind(8, l.discount());
        line.Bind(9, l.gross()).Bind(10, l.tax()).Bind(11, l.tax_code());
        line.Bind(12, int64_t{l.tax_rate_bp()});
        SN_RETURN_IF_ERROR(line.Run());
        ++out.line_rows;
      }
      for (const v1::Tender& t : *tenders) {
        tender.Bind(1, day).Bind(2, h.device_id()).Bind(3, receipt).Bind(4, int64_t{h.kind()});
        tender.Bind(5, TenderName(t.type())).Bind(6, t.amount());
        SN_RETURN_IF_ERROR(tender.Run());
        ++out.tender_rows;
      }
    }
  }
  SN_RETURN_IF_ERROR(txn.Commit());
  // Checkpointed into the main file: the queries read no WAL.
  SN_RETURN_IF_ERROR(db->Exec("PRAGMA wal_checkpoint(TRUNCATE)"));
  return out;
}

Result<BaselineTiming> RunBaseline(const std::string& path, const std::string& day, uint32_t runs,
                                   BaselineFigures* figures) {
  sql::OpenOptions options;
  options.read_only = true;
  options.create = false;
  SN_ASSIGN_OR_RETURN(std::unique_ptr<sql::Db> db, sql::Db::Open(path, options));
  SN_ASSIGN_OR_RETURN(sql::Stmt taxes, db->Prepare(kTaxQuery));
  SN_ASSIGN_OR_RETURN(sql::Stmt tills, db->Prepare(kTillQuery));
  SN_ASSIGN_OR_RETURN(sql::Stmt tenders, db->Prepare(kTenderQuery));
  std::vector<double> tax_s, till_s, tender_s, total_s;
  for (uint32_t run = 0; run < std::max(runs, 1u); ++run) {
    *figures = BaselineFigures{};
    auto start = std::chrono::steady_clock::now();
    SN_RETURN_IF_ERROR(RunQuery(taxes, day, [&](const sql::Stmt& s) {
      figures->taxes[{s.Text(0), static_cast<int32_t>(s.Int(1))}] = {s.Int(2), s.Int(3)};
    }));
    tax_s.push_back(SecondsSince(start));
    auto next = std::chrono::steady_clock::now();
    SN_RETURN_IF_ERROR(RunQuery(tills, day, [&](const sql::Stmt& s) {
      BaselineFigures::Till& t = figures->tills[s.Text(0)];
      if (s.Int(1) == v1::SALE) {
        t.receipts = static_cast<uint64_t>(s.Int(2));
        t.gross_sales = s.Int(3);
        t.discounts = s.Int(4);
      } else {
        t.refund_count = static_cast<uint64_t>(s.Int(2));
        t.refunds = s.Int(5);
      }
    }));
    till_s.push_back(SecondsSince(next));
    next = std::chrono::steady_clock::now();
    SN_RETURN_IF_ERROR(RunQuery(tenders, day, [&](const sql::Stmt& s) {
      const bool sale = s.Int(2) == v1::SALE;
      BaselineFigures::Tender& t = figures->tenders[s.Text(1)];
      t.count += static_cast<uint64_t>(s.Int(3));
      (sale ? t.sales : t.refunds) += s.Int(4);
      if (s.Text(1) == "CASH") {
        BaselineFigures::Till& till = figures->tills[s.Text(0)];
        (sale ? till.cash_sales : till.cash_refunds) += s.Int(4);
      }
    }));
    tender_s.push_back(SecondsSince(next));
    total_s.push_back(SecondsSince(start));
  }
  BaselineTiming out;
  out.tax_s = Median(tax_s);
  out.till_s = Median(till_s);
  out.tender_s = Median(tender_s);
  out.total_s = Median(total_s);
  out.queries = {std::string(kTaxQuery), std::string(kTillQuery), std::string(kTenderQuery)};
  return out;
}

std::string CompareZWithBaseline(const v1::ZReport& z, const BaselineFigures& f) {
  auto differ = [](const std::string& what, int64_t in_z, int64_t in_baseline) {
    return what + ": Z " + std::to_string(in_z) + ", baseline " + std::to_string(in_baseline);
  };
  const v1::DayTotals& t = z.totals();
  BaselineFigures::Till store;
  for (const auto& [device, till] : f.tills) {
    store.receipts += till.receipts;
    store.gross_sales += till.gross_sales;
    store.discounts += till.discounts;
    store.refund_count += till.refund_count;
    store.refunds += till.refunds;
  }
  const std::pair<std::string, std::pair<int64_t, int64_t>> store_figures[] = {
      {"receipts", {static_cast<int64_t>(t.receipt_count()), static_cast<int64_t>(store.receipts)}},
      {"gross_sales", {t.gross_sales(), store.gross_sales}},
      {"discounts", {t.discounts(), store.discounts}},
      {"refund_count",
       {static_cast<int64_t>(t.refund_count()), static_cast<int64_t>(store.refund_count)}},
      {"refunds", {t.refunds(), store.refunds}},
  };
  for (const auto& [what, values] : store_figures) {
    if (values.first != values.second) return differ(what, values.first, values.second);
  }
  if (static_cast<size_t>(t.taxes_size()) != f.taxes.size()) {
    return differ("tax rows", t.taxes_size(), static_cast<int64_t>(f.taxes.size()));
  }
  for (const v1::TaxTotal& tax : t.taxes()) {
    auto it = f.taxes.find({tax.tax_code(), tax.rate_bp()});
    if (it == f.taxes.end()) return "tax code " + tax.tax_code() + " is not in the baseline";
    if (tax.gross() != it->second.first) {
      return differ("gross of tax " + tax.tax_code(), tax.gross(), it->second.first);
    }
    if (tax.tax() != it->second.second) {
      return differ("tax of tax " + tax.tax_code(), tax.tax(), it->second.second);
    }
  }
  if (static_cast<size_t>(t.tenders_size()) != f.tenders.size()) {
    return differ("tender rows", t.tenders_size(), static_cast<int64_t>(f.tenders.size()));
  }
  for (const v1::TenderTotal& tender : t.tenders()) {
    auto it = f.tenders.find(tender.type());
    if (it == f.tenders.end()) return "tender " + tender.type() + " is not in the baseline";
    const BaselineFigures::Tender& b = it->second;
    if (tender.count() != b.count || tender.sales() != b.sales || tender.refunds() != b.refunds) {
      return "tender " + tender.type() + " differs";
    }
  }
  for (const v1::ZTill& till : z.tills()) {
    auto it = f.tills.find(till.device_id());
    const uint64_t receipts = it == f.tills.end() ? 0 : it->second.receipts;
    if (till.receipt_count() != receipts) {
      return differ(till.device_id() + " receipts", static_cast<int64_t>(till.receipt_count()),
                    static_cast<int64_t>(receipts));
    }
  }
  for (const v1::DrawerTotal& d : t.drawers()) {
    auto it = f.tills.find(d.device_id());
    if (it == f.tills.end()) continue;  // a till without sales or refunds
    if (d.cash_sales() != it->second.cash_sales || d.cash_refunds() != it->second.cash_refunds) {
      return d.device_id() + " drawer cash differs";
    }
  }
  return "";
}

}  // namespace storenode::bench
