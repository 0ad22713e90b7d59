// Reports from the read models: x (the day so far), z (stored), hourly,
// items, cashiers, tenders. Nothing here parses stored events.
#include "fog_impl.h"
#include "storenode/common/clock.h"
#include "storenode/common/totals.h"

namespace storenode::fog {

v1::FogResponse Fog::Impl::Report(const v1::ReportRequest& req) {
  v1::FogResponse r;
  const std::string& day = req.business_day();
  const std::string& kind = req.kind();
  auto fail = [&](const std::string& why) {
    r.set_error(why);
    return r;
  };
  if (!IsValidDay(day)) return fail("'" + day + "' is not a business day (want YYYY-MM-DD)");
  static const std::set<std::string> kKinds = {"z", "x", "hourly", "items", "cashiers", "tenders"};
  if (!kKinds.count(kind)) {
    return fail("unknown report '" + kind + "' (z, x, hourly, items, cashiers or tenders)");
  }
  v1::Report* out = r.mutable_report();
  out->set_kind(kind);
  out->set_store_id(config.store_id);
  out->set_business_day(day);

  Status s = [&]() -> Status {
    // x and tenders: every part and till of the day.
    SN_ASSIGN_OR_RETURN(sql::Stmt totals,
                        db->Prepare("SELECT totals FROM day_totals WHERE business_day = ?"));
    totals.Bind(1, day);
    v1::DayTotals* x = out->mutable_x();
    bool any = false;
    while (true) {
      SN_ASSIGN_OR_RETURN(bool row, totals.Step());
      if (!row) break;
      v1::DayTotals t;
      if (!t.ParseFromString(std::string(totals.BlobView(0)))) {
        return Status::Corruption("day_totals do not parse");
      }
      MergeTotals(t, x);
      any = true;
    }
    if (!any) return Status::NotFound("no sales or events recorded for business day " + day);
    x->set_store_id(config.store_id);
    x->set_business_day(day);
    FinishTotals(x);
    if (kind == "z") {
      SN_ASSIGN_OR_RETURN(std::vector<v1::SignedZ> zs, StoredZs(day));
      if (zs.empty()) {
        return Status::Precondition("business day " + day +
                                    " is not closed yet (see storectl closedown, or report x)");
      }
      for (const v1::SignedZ& z : zs) {
        *out->add_z() = z;
        out->add_z_decoded()->ParseFromString(z.z());
      }
    } else if (kind == "hourly") {
      SN_ASSIGN_OR_RETURN(sql::Stmt s, db->Prepare("SELECT hour, receipts, sales, refunds FROM "
                                                   "hour_totals WHERE business_day = ? "
                                                   "ORDER BY hour"));
      s.Bind(1, day);
      while (true) {
        SN_ASSIGN_OR_RETURN(bool row, s.Step());
        if (!row) break;
        v1::HourTotal* h = out->add_hours();
        h->set_hour(static_cast<uint32_t>(s.Int(0)));
        h->set_receipts(static_cast<uint64_t>(s.Int(1)));
        h->set_sales(s.Int(2));
        h->set_refunds(s.Int(3));
      }
    } else if (kind == "items") {
      SN_ASSIGN_OR_RETURN(sql::Stmt s,
                          db->Prepare("SELECT sku, name, qty, revenue, refund_qty, refund_amount "
                                      "FROM item_totals WHERE business_day = ? ORDER BY "
                                      "revenue DESC, sku LIMIT ?"));
      s.Bind(1, day).Bind(2, req.top() == 0 ? int64_t{-1} : int64_t{req.top()});
      while (true) {
        SN_ASSIGN_OR_RETURN(bool row, s.Step());
        if (!row) break;
        v1::ItemTotal* i = out->add_items();
        i->set_sku(s.Text(0));
        i->set_name(s.Text(1));
        i->set_qty(s.Int(2));
        i->set_revenue(s.Int(3));
        i->set_refund_qty(s.Int(4));
        i->set_refund_amount(s.Int(5));
      }
    } else if (kind == "cashiers") {
      SN_ASSIGN_OR_RETURN(sql::Stmt s,
                          db->Prepare("SELECT cashier, receipts, sales, refund_count, refunds, "
                                      "void_count, voids, no_sale_count FROM cashier_totals "
                                      "WHERE business_day = ? ORDER BY cashier"));
      s.Bind(1, day);
      while (true) {
        SN_ASSIGN_OR_RETURN(bool row, s.Step());
        if (!row) break;
        v1::CashierTotal* c = out->add_cashiers();
        c->set_cashier(s.Text(0));
        c->set_receipts(static_cast<uint64_t>(s.Int(1)));
        c->set_sales(s.Int(2));
        c->set_refund_count(static_cast<uint64_t>(s.Int(3)));
        c->set_refunds(s.Int(4));
        c->set_void_count(static_cast<uint64_t>(s.Int(5)));
        c->set_voids(s.Int(6));
        c->set_no_sale_count(static_cast<uint64_t>(s.Int(7)));
      }
    }
    return Status::Ok();
  }();
  if (!s.ok()) {
    r.clear_report();
    return fail(s.message());
  }
  r.set_ok(true);
  return r;
}

}  // namespace storenode::fog
