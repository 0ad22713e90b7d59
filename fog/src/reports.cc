#include "reports.h"

#include <map>
#include <set>

#include "read_models.h"
#include "storenode/common/clock.h"
#include "storenode/common/totals.h"

namespace storenode::fog {

v1::FogResponse Reports::Report(const v1::ReportRequest& req) {
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
  out->set_store_id(store_id_);
  out->set_business_day(day);
  const v1::StoreSettings& terms = settings_.current();
  out->set_store_name(terms.name());
  out->set_time_zone(terms.time_zone());
  out->set_currency(terms.currency());
  out->set_currency_decimals(terms.currency_decimals());

  Status s = [&]() -> Status {
    // x and tenders: every part and till of the day.
    SN_ASSIGN_OR_RETURN(std::vector<v1::DayTotals> totals, DayTotalsOfDay(db_, day));
    v1::DayTotals* x = out->mutable_x();
    for (const v1::DayTotals& t : totals) MergeTotals(t, x);
    if (totals.empty())
      return Status::NotFound("no sales or events recorded for business day " + day);
    x->set_store_id(store_id_);
    x->set_business_day(day);
    FinishTotals(x);
    if (kind == "z") {
      SN_ASSIGN_OR_RETURN(std::vector<v1::SignedZ> zs, closedown_.StoredZs(day));
      if (zs.empty()) {
        return Status::Precondition("business day " + day +
                                    " is not closed yet (see storectl closedown, or report x)");
      }
      for (const v1::SignedZ& z : zs) {
        *out->add_z() = z;
        out->add_z_decoded()->ParseFromString(z.z());
      }
    } else if (kind == "hourly") {
      SN_ASSIGN_OR_RETURN(std::vector<v1::HourTotal> stored, HourTotalsOf(db_, day));
      // Every local hour of the day, empty ones too; an hour outside it (a
      // till that sealed ahead of the clock) is listed after them.
      const settings::Calendar& cal = settings_.calendar();
      constexpr int64_t kHourUs = 3'600'000'000;
      const int64_t start = cal.DayStart(day);
      const int hours = cal.HoursIn(day);
      out->set_hours_in_day(static_cast<uint32_t>(hours));
      std::map<int64_t, v1::HourTotal> by_start;
      for (int i = 0; i < hours; ++i)
        by_start[start + i * kHourUs].set_start_us(start + i * kHourUs);
      for (v1::HourTotal& h : stored) by_start[h.start_us()] = std::move(h);
      uint32_t index = 0;
      for (auto& [at, h] : by_start) {
        h.set_hour(index++);
        h.set_label(cal.zone().FormatTime(at));
        *out->add_hours() = std::move(h);
      }
    } else if (kind == "items") {
      SN_ASSIGN_OR_RETURN(std::vector<v1::ItemTotal> items, ItemTotalsOf(db_, day, req.top()));
      for (v1::ItemTotal& i : items) *out->add_items() = std::move(i);
    } else if (kind == "cashiers") {
      SN_ASSIGN_OR_RETURN(std::vector<v1::CashierTotal> cashiers, CashierTotalsOf(db_, day));
      for (v1::CashierTotal& c : cashiers) *out->add_cashiers() = std::move(c);
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
