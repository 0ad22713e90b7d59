#include "read_models.h"

#include "storenode/common/lines.h"
#include "storenode/common/totals.h"
#include "storenode/fog/fog.h"

namespace storenode::fog {
namespace {

const std::string& CashierOf(const DecodedEvent& e) {
  static const std::string kNone;
  const v1::EventBody& b = e.body;
  switch (b.body_case()) {
    case v1::EventBody::kSale:
      return b.sale().cashier();
    case v1::EventBody::kRefund:
      return b.refund().cashier();
    case v1::EventBody::kVoidReceipt:
      return b.void_receipt().cashier();
    case v1::EventBody::kNoSale:
      return b.no_sale().cashier();
    default:
      return kNone;
  }
}

// The item row of (day, sku), named by the first line that has a name. Refund
// lines carry the name as well (the till prints it), so an item that is only
// refunded on a day, or whose first line in a batch is a refund, still gets
// its name.
v1::ItemTotal& NoteItem(std::map<std::pair<std::string, std::string>, v1::ItemTotal>* items,
                        const std::string& day, const v1::SaleLine& line) {
  v1::ItemTotal& it = (*items)[{day, line.sku()}];
  if (it.name().empty()) it.set_name(line.name());
  if (lines::IsMeasured(line)) it.set_unit(lines::UnitSymbol(line.unit()));
  return it;
}

}  // namespace

void ReadModels::Add(const DecodedEvent& event, uint32_t part, bool covered) {
  const v1::EventHeader& h = event.header;
  const std::string& day = h.business_day();
  if (!covered) {
    // A training event is in the Z's range and its training figures
    // (AddToTotals keeps them apart), in no other read model and not in stock.
    AddToTotals(event, &day_totals_[{day, part, h.device_id()}]);
    Range& r = ranges_[{day, part, h.device_id(), h.journal_id()}];
    if (r.count == 0) r.first = h.seq();
    r.last = h.seq();
    ++r.count;
    if (part > 0) late_days_.insert(day);
  }
  if (h.training()) return;
  stock_.Add(event);
  vouchers_.Add(event);

  const v1::EventBody& b = event.body;
  // The start of the event's local hour, as an instant (seconds): in a zone
  // whose offset is whole or half hours, wall time minus the local minutes.
  constexpr int64_t kHourUs = 3'600'000'000;
  int64_t local = zone_.ToLocal(h.wall_time_us());
  int64_t into_hour = ((local % kHourUs) + kHourUs) % kHourUs;
  int64_t hour = (h.wall_time_us() - into_hour) / 1'000'000;
  switch (h.kind()) {
    case v1::SALE: {
      v1::HourTotal& ht = hours_[{day, hour}];
      ht.set_receipts(ht.receipts() + 1);
      for (const v1::SaleLine& l : b.sale().lines()) {
        if (l.has_voucher()) continue;  // a liability, not a sale (FORMATS.md section 16)
        ht.set_sales(ht.sales() + l.gross());
        v1::ItemTotal& it = NoteItem(&items_, day, l);
        it.set_qty(it.qty() + l.qty());
        it.set_qty_milli(it.qty_milli() + l.qty_milli());
        it.set_revenue(it.revenue() + l.gross());
        it.set_lines(it.lines() + 1);
        it.set_tax(it.tax() + l.tax());
      }
      v1::CashierTotal& c = cashiers_[{day, CashierOf(event)}];
      c.set_receipts(c.receipts() + 1);
      c.set_sales(c.sales() + b.sale().total() - b.sale().rounding());
      break;
    }
    case v1::REFUND: {
      v1::HourTotal& ht = hours_[{day, hour}];
      ht.set_refunds(ht.refunds() + b.refund().total());
      for (const v1::SaleLine& l : b.refund().lines()) {
        v1::ItemTotal& it = NoteItem(&items_, day, l);
        it.set_refund_qty(it.refund_qty() + l.qty());
        it.set_refund_qty_milli(it.refund_qty_milli() + l.qty_milli());
        it.set_refund_amount(it.refund_amount() + l.gross());
        it.set_refund_tax(it.refund_tax() + l.tax());
      }
      v1::CashierTotal& c = cashiers_[{day, CashierOf(event)}];
      c.set_refund_count(c.refund_count() + 1);
      c.set_refunds(c.refunds() + b.refund().total());
      break;
    }
    case v1::VOID: {
      v1::CashierTotal& c = cashiers_[{day, CashierOf(event)}];
      c.set_void_count(c.void_count() + 1);
      c.set_voids(c.voids() + b.void_receipt().total());
      break;
    }
    case v1::NO_SALE: {
      v1::CashierTotal& c = cashiers_[{day, CashierOf(event)}];
      c.set_no_sale_count(c.no_sale_count() + 1);
      break;
    }
    case v1::DAY_SEALED:
      seals_[{b.day_sealed().sealed_day(), h.device_id(), h.journal_id()}] = h.seq();
      break;
    default:
      break;
  }
}

void ReadModels::Clear() {
  stock_.Clear();
  vouchers_.Clear();
  day_totals_.clear();
  ranges_.clear();
  seals_.clear();
  hours_.clear();
  items_.clear();
  cashiers_.clear();
  late_days_.clear();
}

Result<v1::DayTotals> LoadDayTotals(sql::Db& db, const std::string& day, uint32_t part,
                                    const std::string& device) {
  SN_ASSIGN_OR_RETURN(sql::Stmt stmt,
                      db.Prepare("SELECT totals FROM day_totals WHERE business_day = ? AND "
                                 "part = ? AND device_id = ?"));
  stmt.Bind(1, day).Bind(2, int64_t{part}).Bind(3, device);
  v1::DayTotals t;
  SN_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (row && !t.ParseFromString(std::string(stmt.BlobView(0)))) {
    return Status::Corruption("day_totals of " + device + " " + day + " do not parse");
  }
  t.set_device_id(device);
  t.set_business_day(day);
  return t;
}

Result<std::vector<std::pair<std::string, v1::DayTotals>>> DayTotalsOf(sql::Db& db,
                                                                       const std::string& day,
                                                                       uint32_t part) {
  SN_ASSIGN_OR_RETURN(sql::Stmt totals, db.Prepare("SELECT device_id, totals FROM day_totals "
                                                   "WHERE business_day = ? AND part = ?"));
  totals.Bind(1, day).Bind(2, int64_t{part});
  std::vector<std::pair<std::string, v1::DayTotals>> out;
  while (true) {
    SN_ASSIGN_OR_RETURN(bool row, totals.Step());
    if (!row) break;
    auto& [device, t] = out.emplace_back(totals.Text(0), v1::DayTotals());
    if (!t.ParseFromString(std::string(totals.BlobView(1)))) {
      return Status::Corruption("day_totals of " + device + " do not parse");
    }
  }
  return out;
}

Result<std::vector<v1::DayTotals>> DayTotalsOfDays(sql::Db& db, const std::string& from,
                                                   const std::string& to) {
  SN_ASSIGN_OR_RETURN(sql::Stmt totals, db.Prepare("SELECT business_day, totals FROM day_totals "
                                                   "WHERE business_day BETWEEN ? AND ? "
                                                   "ORDER BY business_day, part, device_id"));
  totals.Bind(1, from).Bind(2, to);
  std::vector<v1::DayTotals> out;
  while (true) {
    SN_ASSIGN_OR_RETURN(bool row, totals.Step());
    if (!row) break;
    if (!out.emplace_back().ParseFromString(std::string(totals.BlobView(1)))) {
      return Status::Corruption("day_totals do not parse");
    }
    out.back().set_business_day(totals.Text(0));
  }
  return out;
}

namespace {

DayRange RangeOf(const sql::Stmt& r) {
  DayRange d;
  d.device_id = r.Text(0);
  d.journal_id = r.Blob(1);
  d.first_seq = static_cast<uint64_t>(r.Int(2));
  d.last_seq = static_cast<uint64_t>(r.Int(3));
  d.event_count = static_cast<uint64_t>(r.Int(4));
  return d;
}

}  // namespace

Result<std::vector<DayRange>> DayRangesOf(sql::Db& db, const std::string& day, uint32_t part) {
  SN_ASSIGN_OR_RETURN(sql::Stmt ranges,
                      db.Prepare("SELECT device_id, journal_id, first_seq, last_seq, "
                                 "event_count FROM day_ranges WHERE business_day = ? AND "
                                 "part = ? ORDER BY device_id, journal_id"));
  ranges.Bind(1, day).Bind(2, int64_t{part});
  return sql::Rows(ranges, RangeOf);
}

Result<std::vector<DayRange>> DayRangesOfEveryPart(sql::Db& db, const std::string& day) {
  SN_ASSIGN_OR_RETURN(sql::Stmt ranges,
                      db.Prepare("SELECT device_id, journal_id, first_seq, last_seq, "
                                 "event_count FROM day_ranges WHERE business_day = ? "
                                 "ORDER BY device_id, journal_id, first_seq"));
  ranges.Bind(1, day);
  return sql::Rows(ranges, RangeOf);
}

namespace {

// The text of the first column of every row of `stmt`, as a set.
Result<std::set<std::string>> FirstColumn(sql::Stmt& stmt) {
  std::set<std::string> out;
  while (true) {
    SN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    out.insert(stmt.Text(0));
  }
  return out;
}

}  // namespace

Result<std::vector<std::string>> DevicesWithEvents(sql::Db& db, const std::string& day,
                                                   uint32_t part) {
  SN_ASSIGN_OR_RETURN(sql::Stmt stmt, db.Prepare("SELECT DISTINCT device_id FROM day_ranges WHERE "
                                                 "business_day = ? AND part = ?"));
  stmt.Bind(1, day).Bind(2, int64_t{part});
  SN_ASSIGN_OR_RETURN(std::set<std::string> devices, FirstColumn(stmt));
  return std::vector<std::string>(devices.begin(), devices.end());
}

Result<std::set<std::string>> SealedDevices(sql::Db& db, const std::string& day) {
  SN_ASSIGN_OR_RETURN(sql::Stmt stmt,
                      db.Prepare("SELECT DISTINCT device_id FROM seals WHERE business_day = ?"));
  stmt.Bind(1, day);
  return FirstColumn(stmt);
}

Result<std::set<std::string>> DaysSealedBy(sql::Db& db, const std::string& device) {
  SN_ASSIGN_OR_RETURN(sql::Stmt stmt,
                      db.Prepare("SELECT DISTINCT business_day FROM seals WHERE device_id = ?"));
  stmt.Bind(1, device);
  return FirstColumn(stmt);
}

Result<std::vector<v1::HourTotal>> HourTotalsOf(sql::Db& db, const std::string& day) {
  SN_ASSIGN_OR_RETURN(sql::Stmt s, db.Prepare("SELECT hour, receipts, sales, refunds FROM "
                                              "hour_totals WHERE business_day = ? "
                                              "ORDER BY hour"));
  s.Bind(1, day);
  return sql::Rows(s, [](const sql::Stmt& r) {
    v1::HourTotal h;
    h.set_start_us(r.Int(0) * 1'000'000);
    h.set_receipts(static_cast<uint64_t>(r.Int(1)));
    h.set_sales(r.Int(2));
    h.set_refunds(r.Int(3));
    return h;
  });
}

Result<std::vector<v1::ItemTotal>> ItemTotalsOf(sql::Db& db, const std::string& from,
                                                const std::string& to, uint32_t top) {
  // A name may differ between days (a catalog rename): the greatest one.
  SN_ASSIGN_OR_RETURN(
      sql::Stmt s,
      db.Prepare("SELECT sku, MAX(name), SUM(qty), SUM(revenue) AS r, SUM(refund_qty), "
                 "SUM(refund_amount), SUM(lines), SUM(tax), SUM(refund_tax), SUM(qty_milli), "
                 "SUM(refund_qty_milli), MAX(unit) FROM item_totals "
                 "WHERE business_day BETWEEN ? AND ? GROUP BY sku ORDER BY r DESC, sku "
                 "LIMIT ?"));
  s.Bind(1, from).Bind(2, to).Bind(3, top == 0 ? int64_t{-1} : int64_t{top});
  return sql::Rows(s, [](const sql::Stmt& r) {
    v1::ItemTotal i;
    i.set_sku(r.Text(0));
    i.set_name(r.Text(1));
    i.set_qty(r.Int(2));
    i.set_revenue(r.Int(3));
    i.set_refund_qty(r.Int(4));
    i.set_refund_amount(r.Int(5));
    i.set_lines(static_cast<uint64_t>(r.Int(6)));
    i.set_tax(r.Int(7));
    i.set_refund_tax(r.Int(8));
    i.set_qty_milli(r.Int(9));
    i.set_refund_qty_milli(r.Int(10));
    i.set_unit(r.Text(11));
    return i;
  });
}

Result<std::string> LatestItemDay(sql::Db& db) {
  SN_ASSIGN_OR_RETURN(sql::Stmt s, db.Prepare("SELECT MAX(business_day) FROM item_totals"));
  SN_ASSIGN_OR_RETURN(bool row, s.Step());
  return row ? s.Text(0) : std::string();
}

Result<std::vector<v1::CashierTotal>> CashierTotalsOf(sql::Db& db, const std::string& from,
                                                      const std::string& to) {
  SN_ASSIGN_OR_RETURN(sql::Stmt s,
                      db.Prepare("SELECT cashier, SUM(receipts), SUM(sales), SUM(refund_count), "
                                 "SUM(refunds), SUM(void_count), SUM(voids), SUM(no_sale_count) "
                                 "FROM cashier_totals WHERE business_day BETWEEN ? AND ? "
                                 "GROUP BY cashier ORDER BY cashier"));
  s.Bind(1, from).Bind(2, to);
  return sql::Rows(s, [](const sql::Stmt& r) {
    v1::CashierTotal c;
    c.set_cashier(r.Text(0));
    c.set_receipts(static_cast<uint64_t>(r.Int(1)));
    c.set_sales(r.Int(2));
    c.set_refund_count(static_cast<uint64_t>(r.Int(3)));
    c.set_refunds(r.Int(4));
    c.set_void_count(static_cast<uint64_t>(r.Int(5)));
    c.set_voids(r.Int(6));
    c.set_no_sale_count(static_cast<uint64_t>(r.Int(7)));
    return c;
  });
}

Status ReadModels::Flush(sql::Db& db) {
  SN_ASSIGN_OR_RETURN(sql::Stmt put, db.Prepare("INSERT OR REPLACE INTO day_totals(business_day, "
                                                "part, device_id, totals) VALUES(?,?,?,?)"));
  for (auto& [key, delta] : day_totals_) {
    const auto& [day, part, device] = key;
    SN_ASSIGN_OR_RETURN(v1::DayTotals t, LoadDayTotals(db, day, part, device));
    MergeTotals(delta, &t);
    FinishTotals(&t);
    put.Bind(1, day).Bind(2, int64_t{part}).Bind(3, device).BindBlob(4, t.SerializeAsString());
    SN_RETURN_IF_ERROR(put.Run());
  }
  SN_ASSIGN_OR_RETURN(sql::Stmt range,
                      db.Prepare("INSERT INTO day_ranges(business_day, part, device_id, "
                                 "journal_id, first_seq, last_seq, event_count) "
                                 "VALUES(?,?,?,?,?,?,?) ON CONFLICT DO UPDATE SET "
                                 "first_seq = MIN(first_seq, excluded.first_seq), "
                                 "last_seq = MAX(last_seq, excluded.last_seq), "
                                 "event_count = event_count + excluded.event_count"));
  for (const auto& [key, r] : ranges_) {
    const auto& [day, part, device, journal] = key;
    range.Bind(1, day).Bind(2, int64_t{part}).Bind(3, device).BindBlob(4, journal);
    range.Bind(5, static_cast<int64_t>(r.first)).Bind(6, static_cast<int64_t>(r.last));
    range.Bind(7, static_cast<int64_t>(r.count));
    SN_RETURN_IF_ERROR(range.Run());
  }
  SN_ASSIGN_OR_RETURN(sql::Stmt seal, db.Prepare("INSERT OR IGNORE INTO seals(business_day, "
                                                 "device_id, journal_id, seq) VALUES(?,?,?,?)"));
  for (const auto& [key, seq] : seals_) {
    const auto& [day, device, journal] = key;
    seal.Bind(1, day).Bind(2, device).BindBlob(3, journal).Bind(4, static_cast<int64_t>(seq));
    SN_RETURN_IF_ERROR(seal.Run());
  }
  SN_ASSIGN_OR_RETURN(sql::Stmt hour,
                      db.Prepare("INSERT INTO hour_totals VALUES(?,?,?,?,?) ON CONFLICT DO "
                                 "UPDATE SET receipts = receipts + excluded.receipts, "
                                 "sales = sales + excluded.sales, "
                                 "refunds = refunds + excluded.refunds"));
  for (const auto& [key, h] : hours_) {
    hour.Bind(1, key.first).Bind(2, int64_t{key.second});
    hour.Bind(3, static_cast<int64_t>(h.receipts())).Bind(4, h.sales()).Bind(5, h.refunds());
    SN_RETURN_IF_ERROR(hour.Run());
  }
  SN_ASSIGN_OR_RETURN(sql::Stmt item,
                      db.Prepare("INSERT INTO item_totals(business_day, sku, name, qty, revenue, "
                                 "refund_qty, refund_amount, lines, tax, refund_tax, qty_milli, "
                                 "refund_qty_milli, unit) "
                                 "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO "
                                 "UPDATE SET name = IIF(name = '', excluded.name, name), "
                                 "qty = qty + excluded.qty, "
                                 "revenue = revenue + excluded.revenue, "
                                 "refund_qty = refund_qty + excluded.refund_qty, "
                                 "refund_amount = refund_amount + excluded.refund_amount, "
                                 "lines = lines + excluded.lines, tax = tax + excluded.tax, "
                                 "refund_tax = refund_tax + excluded.refund_tax, "
                                 "qty_milli = qty_milli + excluded.qty_milli, "
                                 "refund_qty_milli = refund_qty_milli + excluded.refund_qty_milli, "
                                 "unit = IIF(unit = '', excluded.unit, unit)"));
  for (const auto& [key, i] : items_) {
    item.Bind(1, key.first).Bind(2, key.second).Bind(3, i.name()).Bind(4, i.qty());
    item.Bind(5, i.revenue()).Bind(6, i.refund_qty()).Bind(7, i.refund_amount());
    item.Bind(8, static_cast<int64_t>(i.lines())).Bind(9, i.tax()).Bind(10, i.refund_tax());
    item.Bind(11, i.qty_milli()).Bind(12, i.refund_qty_milli()).Bind(13, i.unit());
    SN_RETURN_IF_ERROR(item.Run());
  }
  SN_ASSIGN_OR_RETURN(sql::Stmt cashier,
                      db.Prepare("INSERT INTO cashier_totals VALUES(?,?,?,?,?,?,?,?,?) ON "
                                 "CONFLICT DO UPDATE SET receipts = receipts + excluded.receipts, "
                                 "sales = sales + excluded.sales, "
                                 "refund_count = refund_count + excluded.refund_count, "
                                 "refunds = refunds + excluded.refunds, "
                                 "void_count = void_count + excluded.void_count, "
                                 "voids = voids + excluded.voids, "
                                 "no_sale_count = no_sale_count + excluded.no_sale_count"));
  for (const auto& [key, c] : cashiers_) {
    cashier.Bind(1, key.first).Bind(2, key.second).Bind(3, static_cast<int64_t>(c.receipts()));
    cashier.Bind(4, c.sales()).Bind(5, static_cast<int64_t>(c.refund_count()));
    cashier.Bind(6, c.refunds()).Bind(7, static_cast<int64_t>(c.void_count()));
    cashier.Bind(8, c.voids()).Bind(9, static_cast<int64_t>(c.no_sale_count()));
    SN_RETURN_IF_ERROR(cashier.Run());
  }
  SN_RETURN_IF_ERROR(stock_.Flush(db));
  SN_RETURN_IF_ERROR(vouchers_.Flush(db));
  std::set<std::string> late = std::move(late_days_);
  Clear();
  late_days_ = std::move(late);
  return Status::Ok();
}

Result<std::vector<v1::DayTotals>> ReadDayTotals(const std::string& fog_db_path) {
  sql::OpenOptions options;
  options.read_only = true;
  SN_ASSIGN_OR_RETURN(auto db, sql::Db::Open(fog_db_path, options));
  SN_ASSIGN_OR_RETURN(sql::Stmt stmt, db->Prepare("SELECT device_id, business_day, totals FROM "
                                                  "day_totals ORDER BY device_id, business_day, "
                                                  "part"));
  std::vector<v1::DayTotals> out;
  while (true) {
    SN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    v1::DayTotals part;
    if (!part.ParseFromString(std::string(stmt.BlobView(2)))) {
      return Status::Corruption("day_totals of " + stmt.Text(0) + " do not parse");
    }
    std::string device = stmt.Text(0), day = stmt.Text(1);
    // Parts of one (device, day) add up to the day.
    if (out.empty() || out.back().device_id() != device || out.back().business_day() != day) {
      out.emplace_back();
    }
    v1::DayTotals& t = out.back();
    MergeTotals(part, &t);
    FinishTotals(&t);
    t.set_device_id(device);
    t.set_business_day(day);
  }
  return out;
}

}  // namespace storenode::fog
