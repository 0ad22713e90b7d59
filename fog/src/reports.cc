#include "reports.h"

#include <map>
#include <set>

#include "read_models.h"
#include "storenode/common/totals.h"

namespace storenode::fog {
namespace {

constexpr int64_t kHourUs = 3'600'000'000;
constexpr int64_t kMinuteUs = 60'000'000;
constexpr int64_t kDayMinutes = 24 * 60;
// The department of an item the catalog gives none (or does not hold).
constexpr char kNoDepartment[] = "(none)";

// The days a request names: one business_day, from_day..to_day, or a period
// to date in `cal` at `now_us`; the reason it is refused otherwise.
Result<settings::Calendar::Days> DaysOf(const v1::ReportRequest& req, const settings::Calendar& cal,
                                        int64_t now_us) {
  const bool range = !req.from_day().empty() || !req.to_day().empty();
  const int forms = !req.business_day().empty() + range + !req.period().empty();
  if (forms != 1) {
    return Status::Invalid(
        "name the days once: business_day, from_day and to_day, or period (week_to_date, "
        "month_to_date)");
  }
  auto valid = [](const std::string& day) -> Status {
    if (IsValidDay(day)) return Status::Ok();
    return Status::Invalid("'" + day + "' is not a business day (want YYYY-MM-DD)");
  };
  if (!req.business_day().empty()) {
    SN_RETURN_IF_ERROR(valid(req.business_day()));
    return settings::Calendar::Days{req.business_day(), req.business_day()};
  }
  if (req.period() == "week_to_date") return cal.WeekToDate(now_us);
  if (req.period() == "month_to_date") return cal.MonthToDate(now_us);
  if (!req.period().empty()) {
    return Status::Invalid("unknown period '" + req.period() + "' (week_to_date or month_to_date)");
  }
  if (req.from_day().empty() || req.to_day().empty()) {
    return Status::Invalid("a range needs both from_day and to_day");
  }
  SN_RETURN_IF_ERROR(valid(req.from_day()));
  SN_RETURN_IF_ERROR(valid(req.to_day()));
  const int days = DaysBetween(req.from_day(), req.to_day()) + 1;
  if (days < 1) {
    return Status::Invalid("from_day " + req.from_day() + " is after to_day " + req.to_day());
  }
  if (days > kMaxReportDays) {
    return Status::Invalid("a report covers at most " + std::to_string(kMaxReportDays) + " days; " +
                           req.from_day() + " .. " + req.to_day() + " is " + std::to_string(days));
  }
  return settings::Calendar::Days{req.from_day(), req.to_day()};
}

// Every day from..to, inclusive.
std::vector<std::string> DaysFrom(const std::string& from, const std::string& to) {
  std::vector<std::string> days;
  for (std::string d = from; d <= to; d = NextDay(d)) days.push_back(d);
  return days;
}

}  // namespace

std::string Reports::Today() const { return settings_.calendar().BusinessDay(clock_.NowMicros()); }

v1::FogResponse Reports::Report(const v1::ReportRequest& req) {
  v1::FogResponse r;
  if (Status s = Fill(req, r.mutable_report()); !s.ok()) {
    r.clear_report();
    r.set_error(s.message());
    return r;
  }
  r.set_ok(true);
  return r;
}

Status Reports::Fill(const v1::ReportRequest& req, v1::Report* out) {
  const std::string& kind = req.kind();
  static const std::set<std::string> kKinds = {"z",           "x",        "hourly", "items",
                                               "departments", "cashiers", "tenders"};
  SN_ASSIGN_OR_RETURN(settings::Calendar::Days days,
                      DaysOf(req, settings_.calendar(), clock_.NowMicros()));
  if (!kKinds.count(kind)) {
    return Status::Invalid("unknown report '" + kind +
                           "' (z, x, hourly, items, departments, cashiers or tenders)");
  }
  const bool one_day = days.from == days.to;
  out->set_kind(kind);
  out->set_store_id(store_id_);
  out->set_from_day(days.from);
  out->set_to_day(days.to);
  if (one_day) out->set_business_day(days.from);
  const v1::StoreSettings& terms = settings_.current();
  out->set_store_name(terms.name());
  out->set_time_zone(terms.time_zone());
  out->set_currency(terms.currency());
  out->set_currency_decimals(terms.currency_decimals());

  // x and tenders: every part and till of the days.
  SN_ASSIGN_OR_RETURN(std::vector<v1::DayTotals> totals, DayTotalsOfDays(db_, days.from, days.to));
  if (totals.empty()) {
    return Status::NotFound(one_day ? "no sales or events recorded for business day " + days.from
                                    : "no sales or events recorded from " + days.from + " to " +
                                          days.to);
  }
  v1::DayTotals* x = out->mutable_x();
  for (const v1::DayTotals& t : totals) MergeTotals(t, x);
  x->set_store_id(store_id_);
  x->set_business_day(one_day ? days.from : days.from + " .. " + days.to);
  FinishTotals(x);
  if (kind == "z") {
    std::set<std::string> with_events;
    for (const v1::DayTotals& t : totals) with_events.insert(t.business_day());
    return Zs(with_events, out);
  }
  if (kind == "hourly") return Hourly(out);
  if (kind == "departments") return Departments(out);
  if (kind == "items") {
    SN_ASSIGN_OR_RETURN(std::vector<v1::ItemTotal> items,
                        ItemTotalsOf(db_, days.from, days.to, req.top()));
    for (v1::ItemTotal& i : items) *out->add_items() = std::move(i);
  } else if (kind == "cashiers") {
    SN_ASSIGN_OR_RETURN(std::vector<v1::CashierTotal> cashiers,
                        CashierTotalsOf(db_, days.from, days.to));
    for (v1::CashierTotal& c : cashiers) *out->add_cashiers() = std::move(c);
  }
  return Status::Ok();
}

Status Reports::Zs(const std::set<std::string>& with_events, v1::Report* out) {
  const std::string& from = out->from_day();
  const std::string& to = out->to_day();
  for (const std::string& day : DaysFrom(from, to)) {
    SN_ASSIGN_OR_RETURN(std::vector<v1::SignedZ> zs, closedown_.StoredZs(day));
    for (const v1::SignedZ& z : zs) {
      *out->add_z() = z;
      out->add_z_decoded()->ParseFromString(z.z());
    }
    if (zs.empty() && with_events.count(day)) out->add_open_days(day);
  }
  if (out->z_size() > 0) return Status::Ok();
  if (from == to) {
    return Status::Precondition("business day " + from +
                                " is not closed yet (see storectl closedown, or report x)");
  }
  return Status::Precondition("no business day from " + from + " to " + to +
                              " is closed yet (see storectl closedown, or report x)");
}

Status Reports::Hourly(v1::Report* out) {
  // A day: every local hour of it, empty ones too; an hour outside it (a
  // till that sealed ahead of the clock) is listed after them. A range: the
  // days' hours summed by their local start ("09:00"), in the order of the
  // business day (from its start).
  const settings::Calendar& cal = settings_.calendar();
  const bool one_day = out->from_day() == out->to_day();
  std::map<int64_t, v1::HourTotal> by_order;  // range: minutes after the day start
  for (const std::string& day : DaysFrom(out->from_day(), out->to_day())) {
    SN_ASSIGN_OR_RETURN(std::vector<v1::HourTotal> stored, HourTotalsOf(db_, day));
    const int64_t start = cal.DayStart(day);
    const int hours = cal.HoursIn(day);
    std::map<int64_t, v1::HourTotal> by_start;
    for (int i = 0; i < hours; ++i) by_start[start + i * kHourUs].set_start_us(start + i * kHourUs);
    for (v1::HourTotal& h : stored) by_start[h.start_us()] = std::move(h);
    if (one_day) {
      out->set_hours_in_day(static_cast<uint32_t>(hours));
      uint32_t index = 0;
      for (auto& [at, h] : by_start) {
        h.set_hour(index++);
        h.set_label(cal.zone().FormatTime(at));
        *out->add_hours() = std::move(h);
      }
      return Status::Ok();
    }
    for (const auto& [at, h] : by_start) {
      const int64_t local = cal.zone().ToLocal(at);
      const int64_t minute = ((local / kMinuteUs) % kDayMinutes + kDayMinutes) % kDayMinutes;
      const int64_t order = (minute - cal.day_start_minutes() + kDayMinutes) % kDayMinutes;
      v1::HourTotal& sum = by_order[order];
      if (sum.label().empty()) sum.set_label(cal.zone().FormatTime(at).substr(0, 5));
      sum.set_receipts(sum.receipts() + h.receipts());
      sum.set_sales(sum.sales() + h.sales());
      sum.set_refunds(sum.refunds() + h.refunds());
    }
  }
  uint32_t index = 0;
  for (auto& [order, h] : by_order) {
    h.set_hour(index++);
    *out->add_hours() = std::move(h);
  }
  return Status::Ok();
}

Status Reports::Departments(v1::Report* out) {
  SN_ASSIGN_OR_RETURN(std::vector<v1::ItemTotal> items,
                      ItemTotalsOf(db_, out->from_day(), out->to_day(), 0));
  SN_ASSIGN_OR_RETURN(auto department_of, catalog_.Departments());
  std::map<std::string, v1::DepartmentTotal> by_name;
  for (const v1::ItemTotal& i : items) {
    auto it = department_of.find(i.sku());
    const std::string name =
        it == department_of.end() || it->second.empty() ? kNoDepartment : it->second;
    v1::DepartmentTotal& d = by_name[name];
    d.set_items(d.items() + 1);
    d.set_qty(d.qty() + i.qty());
    d.set_lines(d.lines() + i.lines());
    d.set_gross(d.gross() + i.revenue());
    d.set_refund_qty(d.refund_qty() + i.refund_qty());
    d.set_refunds(d.refunds() + i.refund_amount());
    d.set_net(d.gross() - d.refunds());
    d.set_tax(d.tax() + i.tax() - i.refund_tax());
  }
  // By name, the items without a department last.
  auto none = by_name.extract(kNoDepartment);
  for (auto& [name, d] : by_name) {
    d.set_department(name);
    *out->add_departments() = std::move(d);
  }
  if (!none.empty()) {
    none.mapped().set_department(kNoDepartment);
    *out->add_departments() = std::move(none.mapped());
  }
  return Status::Ok();
}

}  // namespace storenode::fog
