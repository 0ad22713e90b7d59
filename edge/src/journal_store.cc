#include "journal_store.h"

#include "storenode/common/journal_format.h"
#include "storenode/common/totals.h"

namespace storenode::edge {

v1::JournalEvent EventFromRow(const sql::Stmt& stmt) {
  v1::JournalEvent ev;
  ev.set_header(std::string(stmt.BlobView(4)));
  ev.set_body(std::string(stmt.BlobView(5)));
  ev.set_prev_hash(std::string(stmt.BlobView(6)));
  ev.set_hash(std::string(stmt.BlobView(7)));
  ev.set_signature(std::string(stmt.BlobView(8)));
  return ev;
}

namespace {

// The indexed columns must say what the signed header says; otherwise a
// query by day or receipt would read something the signature does not cover.
Status CheckColumns(const sql::Stmt& row, const DecodedEvent& ev) {
  const v1::EventHeader& h = ev.header;
  uint64_t receipt = row.IsNull(3) ? 0 : static_cast<uint64_t>(row.Int(3));
  if (static_cast<uint64_t>(row.Int(0)) != h.seq() || row.Text(1) != h.business_day() ||
      row.Int(2) != h.kind() || receipt != h.receipt_no()) {
    return Status::Corruption("seq " + std::to_string(row.Int(0)) +
                              ": row columns differ from the signed header");
  }
  return Status::Ok();
}

VerifyReport Fail(VerifyReport r, uint64_t seq, std::string reason) {
  r.ok = false;
  r.first_bad_seq = seq;
  r.reason = std::move(reason);
  return r;
}

}  // namespace

VerifyReport VerifyDb(sql::Db& db) {
  VerifyReport report;
  auto head_stmt = db.Prepare("SELECT seq FROM head WHERE id = 1");
  if (!head_stmt.ok()) return Fail(report, 0, head_stmt.status().message());
  auto head_row = head_stmt->Step();
  if (!head_row.ok() || !*head_row) return Fail(report, 1, "journal has no head record");
  report.head_seq = static_cast<uint64_t>(head_stmt->Int(0));

  // After pruning the chain starts at the anchor; its key comes from the
  // genesis event, which is never pruned.
  ChainVerifier chain;
  auto anchor = db.Prepare("SELECT seq, hash FROM anchor WHERE id = 1");
  auto stmt = db.Prepare(std::string(kSelectEvents) + " ORDER BY seq");
  if (!anchor.ok() || !stmt.ok()) return Fail(report, 0, "cannot read journal tables");
  auto has_anchor = anchor->Step();
  if (has_anchor.ok() && *has_anchor) {
    auto genesis = db.Prepare(std::string(kSelectEvents) + " WHERE seq = 1");
    auto has_genesis = genesis->Step();
    DecodedEvent g;
    if (!has_genesis.ok() || !*has_genesis) return Fail(report, 1, "genesis event missing");
    Status s = chain.Next(EventFromRow(*genesis), &g);
    if (!s.ok()) return Fail(report, 1, s.message());
    auto hash = crypto::HashFromBytes(anchor->BlobView(1));
    if (!hash.ok()) return Fail(report, 0, "anchor hash is malformed");
    chain = ChainVerifier(static_cast<uint64_t>(anchor->Int(0)), *hash, chain.key());
  }
  report.first_seq = chain.next_seq();
  bool skip_genesis = has_anchor.ok() && *has_anchor;
  DecodedEvent ev;
  while (true) {
    auto row = stmt->Step();
    if (!row.ok()) return Fail(report, chain.next_seq(), row.status().message());
    if (!*row) break;
    if (skip_genesis && stmt->Int(0) == 1) continue;
    Status s = chain.Next(EventFromRow(*stmt), &ev);
    if (s.ok()) s = CheckColumns(*stmt, ev);
    if (!s.ok()) {
      uint64_t bad = std::min<uint64_t>(chain.next_seq(), static_cast<uint64_t>(stmt->Int(0)));
      return Fail(report, bad, s.message());
    }
    ++report.events_checked;
  }
  if (chain.next_seq() - 1 != report.head_seq) {
    return Fail(report, chain.next_seq(),
                "seq " + std::to_string(chain.next_seq()) + ": missing (truncated tail: head is " +
                    std::to_string(report.head_seq) + ")");
  }
  report.ok = true;
  return report;
}

Result<v1::DayTotals> TotalsOfDay(sql::Db& db, const std::string& day) {
  SN_ASSIGN_OR_RETURN(sql::Stmt stmt,
                      db.Prepare(std::string(kSelectEvents) + kEventsOfDay + " ORDER BY seq"));
  stmt.Bind(1, day);
  v1::DayTotals totals;
  totals.set_business_day(day);
  DecodedEvent ev;
  while (true) {
    SN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    SN_RETURN_IF_ERROR(DecodeEvent(EventFromRow(stmt), &ev));
    totals.set_store_id(ev.header.store_id());
    totals.set_device_id(ev.header.device_id());
    AddToTotals(ev, &totals);
  }
  FinishTotals(&totals);
  return totals;
}

Result<v1::DayTotals> TotalsOfShift(sql::Db& db, uint64_t shift_seq) {
  SN_ASSIGN_OR_RETURN(sql::Stmt stmt,
                      db.Prepare(std::string(kSelectEvents) + " WHERE seq >= ? ORDER BY seq"));
  stmt.Bind(1, static_cast<int64_t>(shift_seq));
  v1::DayTotals totals;
  DecodedEvent ev;
  while (true) {
    SN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    SN_RETURN_IF_ERROR(DecodeEvent(EventFromRow(stmt), &ev));
    if (ev.header.shift_seq() != shift_seq) break;
    if (totals.business_day().empty()) totals.set_business_day(ev.header.business_day());
    totals.set_store_id(ev.header.store_id());
    totals.set_device_id(ev.header.device_id());
    AddToTotals(ev, &totals);
  }
  if (totals.event_count() == 0 || totals.shift_count() == 0) {
    return Status::NotFound("no cashier shift signed on at seq " + std::to_string(shift_seq));
  }
  FinishTotals(&totals);
  return totals;
}

VerifyReport VerifyJournalFile(const std::string& path) {
  sql::OpenOptions options;
  options.read_only = true;
  auto db = sql::Db::Open(path, options);
  if (!db.ok()) return Fail(VerifyReport{}, 0, db.status().message());
  return VerifyDb(**db);
}

Result<std::vector<v1::JournalEvent>> ReadJournalFile(const std::string& path) {
  sql::OpenOptions options;
  options.read_only = true;
  SN_ASSIGN_OR_RETURN(auto db, sql::Db::Open(path, options));
  SN_ASSIGN_OR_RETURN(sql::Stmt stmt, db->Prepare(std::string(kSelectEvents) + " ORDER BY seq"));
  return sql::Rows(stmt, EventFromRow);
}

Result<std::vector<v1::DayTotals>> TotalsFromFile(const std::string& path) {
  sql::OpenOptions options;
  options.read_only = true;
  SN_ASSIGN_OR_RETURN(auto db, sql::Db::Open(path, options));
  SN_ASSIGN_OR_RETURN(sql::Stmt days,
                      db->Prepare("SELECT DISTINCT business_day FROM events ORDER BY 1"));
  std::vector<v1::DayTotals> out;
  while (true) {
    SN_ASSIGN_OR_RETURN(bool row, days.Step());
    if (!row) break;
    SN_ASSIGN_OR_RETURN(v1::DayTotals totals, TotalsOfDay(*db, days.Text(0)));
    out.push_back(std::move(totals));
  }
  return out;
}

}  // namespace storenode::edge
