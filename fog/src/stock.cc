#include "stock.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <optional>
#include <set>
#include <tuple>
#include <unordered_map>

#include "catalog.h"
#include "ingest.h"
#include "read_models.h"
#include "storenode/common/catalog.h"
#include "storenode/common/clock.h"
#include "storenode/common/fault.h"
#include "storenode/common/lines.h"

namespace storenode::fog {
namespace {

constexpr int64_t kMilli = 1000;
// At most 10^9 units on a line: no qty_milli overflow when summed.
constexpr int64_t kMaxUnits = 1'000'000'000;
constexpr size_t kMaxRequestIdBytes = 64;

// A quantity cell as thousandths (lines::ParseMilli: whole units, or three
// decimals for a measured item); a leading '-' only when `negative_ok`.
Result<int64_t> ParseUnits(const std::string& text, const char* what, bool zero_ok,
                           bool negative_ok, bool measured) {
  auto milli = lines::ParseMilli(text, measured, kMaxUnits);
  if (!milli.ok()) return Status::Invalid(std::string(what) + " " + milli.status().message());
  const std::string quoted = std::string(what) + " '" + text + "'";
  if (*milli < 0 && !negative_ok) return Status::Invalid(quoted + " is negative");
  if (*milli == 0 && !zero_ok) return Status::Invalid(quoted + " is zero");
  return *milli;
}

// One line of text: printable, at most kMaxReasonBytes.
bool OneLine(const std::string& s) {
  return s.size() <= kMaxReasonBytes &&
         std::none_of(s.begin(), s.end(), [](unsigned char c) { return c < ' ' || c == 0x7f; });
}

void AddError(v1::StockChangeResponse* r, uint32_t line, std::string reason) {
  v1::CatalogRowError* e = r->add_errors();
  e->set_line(line);
  e->set_reason(std::move(reason));
}

// A stock file's data lines, by column name: `required` columns must be in
// the header, `optional` ones may; any other column is refused. Errors of
// malformed records go to `r` by line.
struct FileLine {
  uint32_t line = 0;
  std::map<std::string, std::string> cells;
};
Result<std::vector<FileLine>> ReadFile(const std::string& csv, const std::string& delimiter,
                                       const std::vector<std::string>& required,
                                       const std::vector<std::string>& optional,
                                       v1::StockChangeResponse* r) {
  if (csv.size() > kMaxStockFileBytes) {
    return Status::Invalid("the file is " + std::to_string(csv.size()) + " bytes, over the " +
                           std::to_string(kMaxStockFileBytes) + "-byte limit");
  }
  SN_ASSIGN_OR_RETURN(char d, catalog::DelimiterOf(delimiter));
  std::vector<catalog::CsvRecord> records = catalog::ReadCsvRecords(csv, d);
  if (records.empty()) return Status::Invalid("the file is empty (want a header line)");
  if (records.size() - 1 > kMaxStockLines) {
    return Status::Invalid("the file has " + std::to_string(records.size() - 1) +
                           " lines, over the limit of " + std::to_string(kMaxStockLines));
  }
  const catalog::CsvRecord& header = records.front();
  if (!header.error.empty()) return Status::Invalid(header.error + " in the header line");
  std::vector<std::string> names;
  for (const std::string& raw : header.fields) {
    std::string name = raw;
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (std::find(required.begin(), required.end(), name) == required.end() &&
        std::find(optional.begin(), optional.end(), name) == optional.end()) {
      return Status::Invalid("line " + std::to_string(header.line) + ": unknown column '" +
                             raw.substr(0, 40) + "'");
    }
    if (std::find(names.begin(), names.end(), name) != names.end()) {
      return Status::Invalid("line " + std::to_string(header.line) + ": column '" + name +
                             "' repeats");
    }
    names.push_back(name);
  }
  for (const std::string& want : required) {
    if (std::find(names.begin(), names.end(), want) == names.end()) {
      return Status::Invalid("line " + std::to_string(header.line) + ": missing column '" + want +
                             "'");
    }
  }
  std::vector<FileLine> out;
  for (size_t i = 1; i < records.size(); ++i) {
    const catalog::CsvRecord& rec = records[i];
    if (!rec.error.empty()) {
      AddError(r, rec.line, rec.error);
      continue;
    }
    if (rec.fields.size() != names.size()) {
      AddError(r, rec.line,
               "has " + std::to_string(rec.fields.size()) + " fields, the header " +
                   std::to_string(names.size()));
      continue;
    }
    FileLine& l = out.emplace_back();
    l.line = rec.line;
    for (size_t c = 0; c < names.size(); ++c) l.cells[names[c]] = rec.fields[c];
  }
  if (out.empty() && r->errors().empty()) return Status::Invalid("the file has no lines");
  return out;
}

// What the catalog says of a line's sku: whether it has it (if not, the
// error is added, naming the line) and whether it is measured (kg, l, m:
// its quantities may have three decimals) at `now_us`.
struct SkuTerms {
  bool known = false;
  bool measured = false;
};
Result<SkuTerms> LookUpSku(sql::Db& db, const std::string& sku, uint32_t line, int64_t now_us,
                           v1::StockChangeResponse* r) {
  if (sku.empty()) {
    AddError(r, line, "sku is empty");
    return SkuTerms{};
  }
  SN_ASSIGN_OR_RETURN(auto item, CatalogItemOf(db, sku));
  if (!item) {
    AddError(r, line, "unknown sku '" + sku.substr(0, 64) + "' (not in the catalog)");
    return SkuTerms{};
  }
  const v1::CatalogEntry* e = catalog::EntryAt(*item, now_us);
  if (e == nullptr && item->entries_size() > 0) e = &item->entries(0);
  return SkuTerms{true, e != nullptr && e->unit() != v1::UNIT_PIECE};
}

// Day rows (invariant 2); `sale` and `refund` are the per-event rows that
// fog.db files of the first stock release hold, read by business day alike.
constexpr const char* kDaySales = "day_sales";
constexpr const char* kDayRefunds = "day_refunds";

// (wall time, signed thousandths) of one sku's sales and refunds in a day.
using Timed = std::vector<std::pair<int64_t, int64_t>>;

// The sales and refunds of `day`'s stored events per sku (of `skus` only),
// each in time order (invariant 2).
Result<std::map<std::string, Timed>> SalesOfDay(sql::Db& db, const std::string& day,
                                                const std::set<std::string>& skus) {
  std::map<std::string, Timed> out;
  SN_RETURN_IF_ERROR(
      ForEachEventOfDay(db, day, [&](const v1::EventHeader& h, const v1::EventBody& b) {
        for (const auto& [sku, milli] : StockLinesOf(h, b)) {
          if (skus.count(sku)) out[sku].emplace_back(h.wall_time_us(), milli);
        }
        return Status::Ok();
      }));
  for (auto& [sku, t] : out) {
    std::stable_sort(t.begin(), t.end(),
                     [](const auto& x, const auto& y) { return x.first < y.first; });
  }
  return out;
}

// book(T) of invariant 3 for a count at (day, at_us): the movements with
// at_us <= T, the day rows of the days before, and `day_sales`, the day's
// own stored sales and refunds up to T.
Result<int64_t> BookAt(sql::Db& db, const std::string& sku, int64_t at_us, const std::string& day,
                       const Timed* day_sales) {
  SN_ASSIGN_OR_RETURN(sql::Stmt s,
                      db.Prepare("SELECT COALESCE(SUM(qty_milli), 0) FROM stock_moves WHERE "
                                 "sku = ? AND IIF(kind IN ('day_sales', 'day_refunds', 'sale', "
                                 "'refund'), business_day < ?, at_us <= ?)"));
  s.Bind(1, sku).Bind(2, day).Bind(3, at_us);
  SN_ASSIGN_OR_RETURN(bool row, s.Step());
  int64_t book = row ? s.Int(0) : 0;
  if (day_sales != nullptr) {
    for (const auto& [when, milli] : *day_sales) {
      if (when <= at_us) book += milli;
    }
  }
  return book;
}

v1::StockMove MoveOf(const sql::Stmt& r) {
  v1::StockMove m;
  m.set_sku(r.Text(0));
  m.set_at_us(r.Int(1));
  m.set_business_day(r.Text(2));
  m.set_kind(r.Text(3));
  m.set_qty_milli(r.Int(4));
  m.set_reason(r.Text(5));
  m.set_unit_cost(r.Int(6));
  m.set_book_milli(r.Int(7));
  if (m.kind() == "count") m.set_counted_milli(m.book_milli() + m.qty_milli());
  return m;
}

// Monday 1970-01-05: weekdays count from it.
int WeekdayOf(const std::string& day) { return ((DaysBetween("1970-01-05", day) % 7) + 7) % 7; }

}  // namespace

// --- Sales and refunds (invariants 1 to 3) ---

std::vector<std::pair<std::string, int64_t>> StockLinesOf(const v1::EventHeader& h,
                                                          const v1::EventBody& body) {
  std::vector<std::pair<std::string, int64_t>> out;
  const bool refund = h.kind() == v1::REFUND;
  if ((h.kind() != v1::SALE && !refund) || h.training()) return out;
  // In the order each sku first appears; found by hash, so that an event of
  // many lines costs linear time, not quadratic.
  std::unordered_map<std::string_view, size_t> index;
  for (const v1::SaleLine& l : refund ? body.refund().lines() : body.sale().lines()) {
    if (l.has_voucher()) continue;  // a voucher card is no stock
    const int64_t milli = l.unit() == v1::UNIT_PIECE ? l.qty() * kMilli : l.qty_milli();
    auto [at, added] = index.try_emplace(l.sku(), out.size());
    if (added) out.emplace_back(l.sku(), 0);
    out[at->second].second += refund ? milli : -milli;
  }
  return out;
}

void SaleMoves::Add(const DecodedEvent& event) {
  const v1::EventHeader& h = event.header;
  const std::string ref = h.device_id() + ":" + std::to_string(h.seq());
  for (auto& [sku, milli] : StockLinesOf(h, event.body)) {
    staged_.push_back({std::move(sku), h.business_day(), ref, h.wall_time_us(), milli});
  }
}

Status SaleMoves::Flush(sql::Db& db) {
  if (staged_.empty()) return Status::Ok();
  // Invariant 2: one running sum per (sku, day, kind), in key order.
  std::map<std::tuple<std::string, std::string, bool>, int64_t> days;
  for (const Staged& s : staged_) days[{s.sku, s.day, s.qty_milli > 0}] += s.qty_milli;
  SN_ASSIGN_OR_RETURN(sql::Stmt sum,
                      db.Prepare("INSERT INTO stock_moves(sku, at_us, business_day, kind, "
                                 "qty_milli, ref) VALUES(?,?,?,?,?,'') ON CONFLICT DO UPDATE "
                                 "SET qty_milli = qty_milli + excluded.qty_milli"));
  for (const auto& [key, milli] : days) {
    const auto& [sku, day, refund] = key;
    sum.Bind(1, sku).Bind(2, DayStartMicros(day)).Bind(3, day);
    sum.Bind(4, refund ? kDayRefunds : kDaySales).Bind(5, milli);
    SN_RETURN_IF_ERROR(sum.Run());
  }
  // Invariant 3 needs a look-up only for a movement at or before some count:
  // with the latest count (one probe of the partial index), the usual
  // batch, later than every count, needs none.
  // A count's business day is the calendar's of its instant, so the latest
  // instant is the latest (day, instant); MAX streams, a sort would not.
  SN_ASSIGN_OR_RETURN(sql::Stmt latest,
                      db.Prepare("SELECT business_day, MAX(at_us) FROM stock_moves INDEXED BY "
                                 "stock_counts_by_sku WHERE kind = 'count'"));
  SN_ASSIGN_OR_RETURN(bool any, latest.Step());
  if (!any || latest.IsNull(1)) {
    staged_.clear();
    return Status::Ok();
  }
  const std::string latest_day = latest.Text(0);
  const int64_t latest_us = latest.Int(1);
  SN_ASSIGN_OR_RETURN(sql::Stmt put, db.Prepare("INSERT INTO stock_moves(sku, at_us, business_day, "
                                                "kind, qty_milli, ref) VALUES(?,?,?,?,?,?)"));
  SN_ASSIGN_OR_RETURN(sql::Stmt count,
                      db.Prepare("SELECT at_us, business_day FROM stock_moves INDEXED BY "
                                 "stock_counts_by_sku WHERE sku = ? AND kind = 'count' AND "
                                 "(business_day > ? OR (business_day = ? AND at_us >= ?)) "
                                 "ORDER BY business_day, at_us LIMIT 1"));
  for (const Staged& s : staged_) {
    if (std::tie(s.day, s.at_us) > std::tie(latest_day, latest_us)) continue;
    count.Bind(1, s.sku).Bind(2, s.day).Bind(3, s.day).Bind(4, s.at_us);
    SN_ASSIGN_OR_RETURN(bool counted_after, count.Step());
    if (!counted_after) {
      count.Reset();
      continue;
    }
    const int64_t count_us = count.Int(0);
    const std::string count_day = count.Text(1);
    count.Reset();
    put.Bind(1, s.sku).Bind(2, count_us).Bind(3, count_day).Bind(4, "count_late");
    put.Bind(5, -s.qty_milli).Bind(6, s.ref);
    SN_RETURN_IF_ERROR(put.Run());
  }
  staged_.clear();
  return Status::Ok();
}

// --- Manager requests (invariants 4 and 5) ---

v1::FogResponse Stock::Apply(const std::string& request_id, const std::string& actor,
                             const std::string& action, const std::string& detail,
                             const std::function<Result<v1::StockChangeResponse>()>& make) {
  v1::FogResponse r;
  if (request_id.empty() || request_id.size() > kMaxRequestIdBytes) {
    r.set_error("the request has no request_id (or one over 64 bytes): storectl sets one");
    return r;
  }
  auto answered = [&]() -> Result<bool> {
    SN_ASSIGN_OR_RETURN(sql::Stmt s,
                        db_.Prepare("SELECT answer FROM stock_requests WHERE request_id = ?"));
    s.Bind(1, request_id);
    SN_ASSIGN_OR_RETURN(bool row, s.Step());
    if (row && !r.mutable_stock_change()->ParseFromString(s.Blob(0))) {
      return Status::Corruption("stock_requests answer of " + request_id + " does not parse");
    }
    return row;
  }();
  if (!answered.ok()) {
    r.set_error(answered.status().message());
    return r;
  }
  if (*answered) {
    r.mutable_stock_change()->set_repeated_request(true);
    r.set_ok(true);
    return r;
  }
  auto made = make();
  if (!made.ok()) {
    r.set_error(made.status().message());
    return r;
  }
  v1::StockChangeResponse& change = *made;
  if (!change.errors().empty()) {
    std::sort(change.mutable_errors()->begin(), change.mutable_errors()->end(),
              [](const auto& a, const auto& b) { return a.line() < b.line(); });
    const auto& first = change.errors(0);
    r.set_error(std::to_string(change.errors_size()) +
                " bad line(s), nothing applied; first: line " + std::to_string(first.line()) +
                ": " + first.reason());
    change.clear_moves();
    *r.mutable_stock_change() = std::move(change);
    return r;
  }
  change.set_applied(true);
  int64_t units_milli = 0;
  for (const v1::StockMove& m : change.moves()) units_milli += m.qty_milli();
  Status s = [&]() -> Status {
    sql::Transaction txn(db_);
    SN_RETURN_IF_ERROR(txn.begin_status());
    // Each line its own key (stock_moves' primary key).
    for (int i = 0; i < change.moves_size(); ++i) {
      SN_RETURN_IF_ERROR(Book(change.moves(i), request_id + ":" + std::to_string(i + 1)));
    }
    SN_RETURN_IF_ERROR(actions_.Append(actor, action,
                                       detail + ": " + std::to_string(change.moves_size()) +
                                           " lines, net " + lines::FormatUnits(units_milli) +
                                           " units, request " + request_id));
    SN_ASSIGN_OR_RETURN(sql::Stmt keep, db_.Prepare("INSERT INTO stock_requests(request_id, at_us, "
                                                    "answer) VALUES(?,?,?)"));
    keep.Bind(1, request_id).Bind(2, clock_.NowMicros()).BindBlob(3, change.SerializeAsString());
    SN_RETURN_IF_ERROR(keep.Run());
    CrashPoint("stock-before-commit");  // tests: every line staged, none committed
    SN_RETURN_IF_ERROR(txn.Commit());
    CrashPoint("stock-after-commit");  // tests: committed, the answer lost
    return Status::Ok();
  }();
  if (!s.ok()) {
    r.set_error("nothing applied: " + s.message());
    return r;
  }
  *r.mutable_stock_change() = std::move(change);
  r.set_ok(true);
  return r;
}

Status Stock::Book(const v1::StockMove& m, const std::string& ref) {
  if (m.kind() == "order") {
    SN_ASSIGN_OR_RETURN(sql::Stmt s, db_.Prepare("INSERT INTO stock_on_order(sku, qty_milli) "
                                                 "VALUES(?,?) ON CONFLICT DO UPDATE SET "
                                                 "qty_milli = qty_milli + excluded.qty_milli"));
    s.Bind(1, m.sku()).Bind(2, m.qty_milli());
    return s.Run();
  }
  SN_ASSIGN_OR_RETURN(sql::Stmt put,
                      db_.Prepare("INSERT INTO stock_moves(sku, at_us, business_day, kind, "
                                  "qty_milli, reason, unit_cost, book_milli, ref) "
                                  "VALUES(?,?,?,?,?,?,?,?,?)"));
  put.Bind(1, m.sku()).Bind(2, m.at_us()).Bind(3, m.business_day()).Bind(4, m.kind());
  put.Bind(5, m.qty_milli()).Bind(6, m.reason()).Bind(7, m.unit_cost()).Bind(8, m.book_milli());
  put.Bind(9, ref);
  SN_RETURN_IF_ERROR(put.Run());
  if (m.kind() != "receive") return Status::Ok();
  SN_ASSIGN_OR_RETURN(sql::Stmt less, db_.Prepare("UPDATE stock_on_order SET qty_milli = "
                                                  "MAX(0, qty_milli - ?) WHERE sku = ?"));
  less.Bind(1, m.qty_milli()).Bind(2, m.sku());
  return less.Run();
}

v1::FogResponse Stock::Receive(const v1::StockReceiveRequest& request, const std::string& actor) {
  return Apply(request.request_id(), actor, "stock-receive",
               "delivery " + request.file_name().substr(0, 200) + " sha256 " +
                   crypto::ToHex(crypto::Bytes(crypto::Sha256Of(request.csv()))),
               [&]() -> Result<v1::StockChangeResponse> {
                 v1::StockChangeResponse out;
                 SN_ASSIGN_OR_RETURN(auto lines,
                                     ReadFile(request.csv(), request.delimiter(),
                                              {"sku", "quantity", "cost"}, {"note"}, &out));
                 const int64_t now = clock_.NowMicros();
                 const std::string day = settings_.calendar().BusinessDay(now);
                 const std::string& currency = settings_.current().currency();
                 for (const FileLine& l : lines) {
                   const size_t before = out.errors_size();
                   SN_ASSIGN_OR_RETURN(const SkuTerms sku,
                                       LookUpSku(db_, l.cells.at("sku"), l.line, now, &out));
                   auto qty = ParseUnits(l.cells.at("quantity"), "quantity", false, false,
                                         !sku.known || sku.measured);
                   if (!qty.ok()) AddError(&out, l.line, qty.status().message());
                   auto cost = catalog::ParseAmount(l.cells.at("cost"), currency);
                   if (!cost.ok()) {
                     std::string why = cost.status().message();
                     if (why.starts_with("price")) why = "cost" + why.substr(5);
                     if (why.starts_with("negative price")) why = "negative cost" + why.substr(14);
                     AddError(&out, l.line, why);
                   }
                   auto note = l.cells.find("note");
                   const std::string text = note == l.cells.end() ? "" : note->second;
                   if (!OneLine(text)) {
                     AddError(&out, l.line, "note is over 200 bytes or has control characters");
                   }
                   if (!sku.known || out.errors_size() > static_cast<int>(before)) continue;
                   v1::StockMove* m = out.add_moves();
                   m->set_sku(l.cells.at("sku"));
                   m->set_kind("receive");
                   m->set_qty_milli(*qty);
                   m->set_at_us(now);
                   m->set_business_day(day);
                   m->set_reason(text);
                   m->set_unit_cost(*cost);
                 }
                 out.set_lines(lines.size());
                 return out;
               });
}

v1::FogResponse Stock::Order(const v1::StockOrderRequest& request, const std::string& actor) {
  return Apply(
      request.request_id(), actor, "stock-order", "order " + request.file_name().substr(0, 200),
      [&]() -> Result<v1::StockChangeResponse> {
        v1::StockChangeResponse out;
        SN_ASSIGN_OR_RETURN(auto lines,
                            ReadFile(request.csv(), request.delimiter(), {"sku", "qty"}, {}, &out));
        const int64_t now = clock_.NowMicros();
        for (const FileLine& l : lines) {
          SN_ASSIGN_OR_RETURN(const SkuTerms sku,
                              LookUpSku(db_, l.cells.at("sku"), l.line, now, &out));
          auto qty = ParseUnits(l.cells.at("qty"), "qty", false, false, !sku.known || sku.measured);
          if (!qty.ok()) AddError(&out, l.line, qty.status().message());
          if (!sku.known || !qty.ok()) continue;
          v1::StockMove* m = out.add_moves();
          m->set_sku(l.cells.at("sku"));
          m->set_kind("order");
          m->set_qty_milli(*qty);
          m->set_at_us(now);
          m->set_business_day(settings_.calendar().BusinessDay(now));
        }
        out.set_lines(lines.size());
        return out;
      });
}

v1::FogResponse Stock::Count(const v1::StockCountRequest& request, const std::string& actor) {
  const int64_t now = clock_.NowMicros();
  const int64_t at = request.at_us() == 0 ? now : request.at_us();
  // A minute of slack for the clock of the machine storectl runs on.
  if (at > now + 60'000'000 || at < now - kMaxCountAgeUs) {
    v1::FogResponse r;
    r.set_error(at > now
                    ? "the count's time is in the future (the fog's clock is " + IsoTime(now) + ")"
                    : "the count's time is more than 30 days ago");
    return r;
  }
  return Apply(
      request.request_id(), actor, "stock-count",
      "count " + request.file_name().substr(0, 200) + " at " + IsoTime(at),
      [&]() -> Result<v1::StockChangeResponse> {
        v1::StockChangeResponse out;
        SN_ASSIGN_OR_RETURN(
            auto lines, ReadFile(request.csv(), request.delimiter(), {"sku", "counted"}, {}, &out));
        const std::string day = settings_.calendar().BusinessDay(at);
        std::set<std::string> skus;
        for (const FileLine& l : lines) skus.insert(l.cells.at("sku"));
        SN_ASSIGN_OR_RETURN(auto day_sales, SalesOfDay(db_, day, skus));
        std::map<std::string, uint32_t> seen;
        for (const FileLine& l : lines) {
          const std::string& sku = l.cells.at("sku");
          SN_ASSIGN_OR_RETURN(const SkuTerms terms, LookUpSku(db_, sku, l.line, at, &out));
          const bool known = terms.known;
          auto counted =
              ParseUnits(l.cells.at("counted"), "counted", true, false, !known || terms.measured);
          if (!counted.ok()) AddError(&out, l.line, counted.status().message());
          if (auto [it, fresh] = seen.emplace(sku, l.line); !fresh && known) {
            AddError(&out, l.line,
                     "sku " + sku + " is counted twice (also on line " +
                         std::to_string(it->second) + ")");
            continue;
          }
          if (!known || !counted.ok()) continue;
          auto sold = day_sales.find(sku);
          SN_ASSIGN_OR_RETURN(
              int64_t book,
              BookAt(db_, sku, at, day, sold == day_sales.end() ? nullptr : &sold->second));
          v1::StockMove* m = out.add_moves();
          m->set_sku(sku);
          m->set_kind("count");
          m->set_qty_milli(*counted - book);
          m->set_at_us(at);
          m->set_business_day(day);
          m->set_book_milli(book);
          m->set_counted_milli(*counted);
        }
        out.set_lines(lines.size());
        return out;
      });
}

v1::FogResponse Stock::Adjust(const v1::StockAdjustRequest& request, const std::string& actor) {
  static const std::set<std::string> kReasons = {"waste", "shrink", "damage", "other"};
  return Apply(request.request_id(), actor, "stock-adjust",
               "adjust " + request.sku().substr(0, 64) + " " + request.reason().substr(0, 16),
               [&]() -> Result<v1::StockChangeResponse> {
                 if (!kReasons.count(request.reason())) {
                   return Status::Invalid("reason '" + request.reason().substr(0, 40) +
                                          "' is not waste, shrink, damage or other");
                 }
                 if (!OneLine(request.note())) {
                   return Status::Invalid("note is over 200 bytes or has control characters");
                 }
                 v1::StockChangeResponse out;
                 const int64_t now = clock_.NowMicros();
                 SN_ASSIGN_OR_RETURN(const SkuTerms sku,
                                     LookUpSku(db_, request.sku(), 0, now, &out));
                 if (!sku.known) return Status::Invalid(out.errors(0).reason());
                 if (request.qty_milli() == 0 || request.qty_milli() > kMaxUnits * kMilli ||
                     request.qty_milli() < -kMaxUnits * kMilli) {
                   return Status::Invalid("qty must be non-zero and at most " +
                                          std::to_string(kMaxUnits) + " units");
                 }
                 if (!sku.measured && request.qty_milli() % kMilli != 0) {
                   return Status::Invalid("qty must be a whole number of units (" + request.sku() +
                                          " is sold by the piece)");
                 }
                 v1::StockMove* m = out.add_moves();
                 m->set_sku(request.sku());
                 m->set_kind("adjust");
                 m->set_qty_milli(request.qty_milli());
                 m->set_at_us(now);
                 m->set_business_day(settings_.calendar().BusinessDay(now));
                 m->set_reason(request.note().empty() ? request.reason()
                                                      : request.reason() + ": " + request.note());
                 out.set_lines(1);
                 return out;
               });
}

v1::FogResponse Stock::Show(const v1::StockShowRequest& request) {
  v1::FogResponse r;
  Status s = [&]() -> Status {
    v1::StockShowResponse* show = r.mutable_stock_show();
    show->set_as_of_us(clock_.NowMicros());
    SN_ASSIGN_OR_RETURN(auto levels, StockLevels(db_));
    if (!request.sku().empty()) {
      SN_ASSIGN_OR_RETURN(auto item, CatalogItemOf(db_, request.sku()));
      if (!item && !levels.count(request.sku())) {
        return Status::NotFound("unknown sku '" + request.sku().substr(0, 64) + "'");
      }
      const Level level = levels[request.sku()];
      levels = {{request.sku(), level}};
    }
    SN_ASSIGN_OR_RETURN(sql::Stmt last, db_.Prepare("SELECT MAX(at_us) FROM stock_moves WHERE "
                                                    "sku = ? AND kind = ?"));
    const int64_t now = clock_.NowMicros();
    for (const auto& [sku, level] : levels) {
      v1::StockItem* it = show->add_items();
      it->set_sku(sku);
      SN_ASSIGN_OR_RETURN(auto item, CatalogItemOf(db_, sku));
      if (item) {
        if (const v1::CatalogEntry* e = catalog::EntryAt(*item, now)) it->set_name(e->name());
        it->set_supplier(item->reorder().supplier());
      }
      it->set_on_hand_milli(level.on_hand_milli);
      it->set_on_order_milli(level.on_order_milli);
      it->set_negative(level.on_hand_milli < 0);
      if (it->negative()) show->set_negative_items(show->negative_items() + 1);
      for (const char* kind : {"count", "receive"}) {
        last.Bind(1, sku).Bind(2, kind);
        SN_ASSIGN_OR_RETURN(bool row, last.Step());
        const int64_t at = row ? last.Int(0) : 0;
        last.Reset();
        if (kind[0] == 'c') {
          it->set_last_count_us(at);
        } else {
          it->set_last_receive_us(at);
        }
      }
    }
    if (!request.sku().empty()) {
      const uint32_t n = std::min<uint32_t>(request.moves() ? request.moves() : 20, 1000);
      SN_ASSIGN_OR_RETURN(sql::Stmt moves,
                          db_.Prepare("SELECT sku, at_us, business_day, kind, qty_milli, reason, "
                                      "unit_cost, book_milli FROM stock_moves WHERE sku = ? "
                                      "ORDER BY at_us DESC LIMIT ?"));
      moves.Bind(1, request.sku()).Bind(2, int64_t{n});
      SN_ASSIGN_OR_RETURN(auto rows, sql::Rows(moves, MoveOf));
      for (auto& m : rows) *show->mutable_items(0)->add_moves() = std::move(m);
    }
    return Status::Ok();
  }();
  if (!s.ok()) {
    r.clear_stock_show();
    r.set_error(s.message());
    return r;
  }
  r.set_ok(true);
  return r;
}

// --- Readers (invariant 6) ---

Result<std::map<std::string, Level>> StockLevels(sql::Db& db) {
  std::map<std::string, Level> out;
  SN_ASSIGN_OR_RETURN(sql::Stmt hand, db.Prepare("SELECT sku, SUM(qty_milli) FROM stock_moves "
                                                 "GROUP BY sku"));
  while (true) {
    SN_ASSIGN_OR_RETURN(bool row, hand.Step());
    if (!row) break;
    out[hand.Text(0)].on_hand_milli = hand.Int(1);
  }
  SN_ASSIGN_OR_RETURN(sql::Stmt order, db.Prepare("SELECT sku, qty_milli FROM stock_on_order"));
  while (true) {
    SN_ASSIGN_OR_RETURN(bool row, order.Step());
    if (!row) break;
    out[order.Text(0)].on_order_milli = order.Int(1);
  }
  return out;
}

namespace {

// One item's book of one business day (invariant 6). Quantities are
// thousandths.
struct DayBook {
  int64_t sold = 0, refunded = 0;  // both >= 0
  int64_t moved = 0;               // the manager and count_late movements
  int64_t reduced = 0;             // the negative ones among them
  bool counted = false;            // a count or count_late: the level was set
  bool tracks = false;             // a receive or count: stock is tracked from here
  struct Move {
    int64_t at_us = 0, qty_milli = 0;
    bool tracks = false;
  };
  std::vector<Move> moves;  // in time order
};

// A day the day rows cannot decide: walked in order from its stored events.
struct Undecided {
  size_t series = 0;
  int day = 0;
  int64_t start = 0;  // the level at the day's start
  bool tracked = false;
  std::vector<DayBook::Move> moves;
};

// Fills `s` from one item's books of the days up to the history's end;
// the days the books cannot decide go to `undecided` by business day.
void Judge(const std::map<std::string, DayBook>& books, size_t index, Series* s,
           std::map<std::string, std::vector<Undecided>>* undecided) {
  const int days = static_cast<int>(s->days.size());
  int tracked_from = std::numeric_limits<int>::max();
  for (const auto& [day, b] : books) {
    if (b.tracks) {
      tracked_from = DaysBetween(s->first_day, day);
      break;
    }
  }
  int64_t level = 0;
  int next = 0;  // the first day not yet judged
  auto judge_to = [&](int end) {
    for (; next < end; ++next) {
      if (next >= tracked_from && level <= 0) s->days[static_cast<size_t>(next)].censored = true;
    }
  };
  for (const auto& [day, b] : books) {
    const int i = DaysBetween(s->first_day, day);
    if (i >= 0) judge_to(i);  // the days before it, at the level they ended with
    const int64_t start = level;
    level += b.moved + b.refunded - b.sold;
    if (i < 0) continue;
    next = i + 1;
    forecast::Day& d = s->days[static_cast<size_t>(i)];
    // More refunded than sold on a day is no demand, not negative demand.
    d.qty = static_cast<double>(std::max<int64_t>(0, b.sold - b.refunded)) / kMilli;
    if (i < tracked_from || b.sold == 0) {
      d.censored = i >= tracked_from && level <= 0;
    } else if (level <= 0) {
      d.censored = true;
    } else if (b.counted || start + b.reduced - b.sold <= 0) {
      (*undecided)[day].push_back({index, i, start, i > tracked_from, b.moves});
    }
  }
  judge_to(days);
}

// Walks an undecided day: the movements and the stored sales and refunds
// in time order (invariant 3: a sale first at the same instant); censored
// when a sale leaves a tracked level <= 0.
bool EmptiedBySale(const Undecided& u, const Timed& sales) {
  int64_t level = u.start;
  bool tracked = u.tracked;
  size_t m = 0, e = 0;
  while (m < u.moves.size() || e < sales.size()) {
    if (m < u.moves.size() && (e == sales.size() || u.moves[m].at_us < sales[e].first)) {
      level += u.moves[m].qty_milli;
      tracked = tracked || u.moves[m].tracks;
      ++m;
      continue;
    }
    level += sales[e].second;
    if (sales[e].second < 0 && tracked && level <= 0) return true;
    ++e;
  }
  return false;
}

}  // namespace

Result<std::vector<Series>> DemandHistoryOf(sql::Db& db, const std::vector<std::string>& skus,
                                            const std::string& last_day, int days) {
  if (days < 1 || !IsValidDay(last_day)) {
    return Status::Invalid("a demand history needs days >= 1 and a valid last day");
  }
  const std::string first_day = AddDays(last_day, -(days - 1));
  std::vector<Series> out(skus.size());
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < skus.size(); ++i) {
    out[i].sku = skus[i];
    out[i].first_day = first_day;
    out[i].days.assign(static_cast<size_t>(days), forecast::Day{});
    index.emplace(skus[i], i);
  }
  if (skus.empty()) return out;
  // One ordered scan of the items' rows (the table is clustered by sku).
  SN_ASSIGN_OR_RETURN(sql::Stmt rows,
                      db.Prepare("SELECT sku, business_day, kind, qty_milli, at_us FROM "
                                 "stock_moves WHERE sku BETWEEN ? AND ? AND business_day <= ? "
                                 "ORDER BY sku, at_us"));
  rows.Bind(1, index.begin()->first).Bind(2, index.rbegin()->first).Bind(3, last_day);
  std::map<std::string, std::vector<Undecided>> undecided;
  std::string sku;
  std::map<std::string, DayBook> books;
  auto finish = [&] {
    if (auto it = index.find(sku); it != index.end()) {
      Judge(books, it->second, &out[it->second], &undecided);
    }
    books.clear();
  };
  while (true) {
    SN_ASSIGN_OR_RETURN(bool row, rows.Step());
    if (!row) break;
    if (rows.Text(0) != sku) {
      finish();
      sku = rows.Text(0);
    }
    if (!index.count(sku)) continue;
    DayBook& b = books[rows.Text(1)];
    const std::string kind = rows.Text(2);
    const int64_t milli = rows.Int(3);
    if (kind == kDaySales || kind == "sale") {
      b.sold -= milli;
    } else if (kind == kDayRefunds || kind == "refund") {
      b.refunded += milli;
    } else {
      const bool tracks = kind == "receive" || kind == "count";
      b.moved += milli;
      b.reduced += std::min<int64_t>(0, milli);
      b.counted = b.counted || kind == "count" || kind == "count_late";
      b.tracks = b.tracks || tracks;
      b.moves.push_back({rows.Int(4), milli, tracks});
    }
  }
  finish();
  for (const auto& [day, list] : undecided) {
    std::set<std::string> of_day;
    for (const Undecided& u : list) of_day.insert(out[u.series].sku);
    SN_ASSIGN_OR_RETURN(auto sales, SalesOfDay(db, day, of_day));
    for (const Undecided& u : list) {
      auto it = sales.find(out[u.series].sku);
      out[u.series].days[static_cast<size_t>(u.day)].censored =
          EmptiedBySale(u, it == sales.end() ? Timed{} : it->second);
    }
  }
  return out;
}

Result<std::vector<Series>> DemandHistory(sql::Db& db, int days) {
  SN_ASSIGN_OR_RETURN(std::string last_day, LatestItemDay(db));
  if (last_day.empty()) return std::vector<Series>();
  const std::string first_day = AddDays(last_day, -(days - 1));
  SN_ASSIGN_OR_RETURN(auto items, ItemTotalsOf(db, first_day, last_day, 0));
  std::vector<std::string> skus;
  for (const v1::ItemTotal& i : items) skus.push_back(i.sku());
  std::sort(skus.begin(), skus.end());
  SN_ASSIGN_OR_RETURN(std::vector<Series> out, DemandHistoryOf(db, skus, last_day, days));
  const int64_t end_us = DayStartMicros(NextDay(last_day)) - 1;
  for (Series& s : out) {
    SN_ASSIGN_OR_RETURN(auto item, CatalogItemOf(db, s.sku));
    if (!item) continue;
    if (const v1::CatalogEntry* e = catalog::EntryAt(*item, end_us)) {
      s.price = static_cast<double>(e->price());
    }
  }
  return out;
}

int FirstWeekday(const Series& s) { return WeekdayOf(s.first_day); }

}  // namespace storenode::fog
