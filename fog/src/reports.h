// Reports: x (the days so far), z (stored), hourly, items, departments,
// cashiers and tenders of one business day or of a range of them, in the
// store's terms (its current settings: currency, zone; the hourly report of
// a day has one row per local hour of it, 23, 24 or 25, settings.h),
// answered from the read models (read_models.h), the close-down's stored Zs
// (closedown.h) and, for departments, the catalog's current department of
// each sku (catalog.h). Nothing here parses stored events or names a table;
// it only reads, so a report never changes a figure.
//
// A range (ReportRequest from_day..to_day, or a period to date in the
// store's calendar) covers at most kMaxReportDays business days; its figures
// are the sums of its days', except that hourly sums by local hour of the
// day ("09:00", across the days) and z lists the Zs of the days that are
// closed and names the others (docs/FORMATS.md "Reports").
//
// Not thread-safe: the fog's worker thread owns it.
#pragma once

#include <set>
#include <string>

#include "catalog.h"
#include "closedown.h"
#include "settings.h"
#include "storenode/common/clock.h"
#include "storenode/common/sqlite.h"
#include "storenode/schemas/fog.pb.h"

namespace storenode::fog {

inline constexpr int kMaxReportDays = 366;

class Reports {
 public:
  Reports(sql::Db& db, std::string store_id, CloseDown& closedown, const SettingsIssuer& settings,
          Catalog& catalog, const Clock& clock)
      : db_(db),
        store_id_(std::move(store_id)),
        closedown_(closedown),
        settings_(settings),
        catalog_(catalog),
        clock_(clock) {}
  // The report, or ok false with a one-line reason (an unknown kind, a bad
  // or empty day or range, z of a day not closed).
  v1::FogResponse Report(const v1::ReportRequest& request);
  // The store's business day now, in its calendar.
  std::string Today() const;

 private:
  Status Fill(const v1::ReportRequest& request, v1::Report* out);
  Status Hourly(v1::Report* out);
  Status Departments(v1::Report* out);
  // The Zs of the days; `with_events`: the days that have any.
  Status Zs(const std::set<std::string>& with_events, v1::Report* out);

  sql::Db& db_;
  const std::string store_id_;
  CloseDown& closedown_;
  const SettingsIssuer& settings_;
  Catalog& catalog_;
  const Clock& clock_;
};

}  // namespace storenode::fog
