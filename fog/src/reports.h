// Reports: x (the day so far), z (stored), hourly, items, cashiers and
// tenders of one business day, in the store's terms (its current settings:
// currency, zone; the hourly report has one row per local hour of the day,
// 23, 24 or 25 of them, settings.h), answered from the read models (read_models.h)
// and the close-down's stored Zs (closedown.h). Nothing here parses stored
// events or names a table; it only reads, so a report never changes a
// figure. Not thread-safe: the fog's worker thread owns it.
#pragma once

#include <string>

#include "closedown.h"
#include "settings.h"
#include "storenode/common/sqlite.h"
#include "storenode/schemas/fog.pb.h"

namespace storenode::fog {

class Reports {
 public:
  Reports(sql::Db& db, std::string store_id, CloseDown& closedown, const SettingsIssuer& settings)
      : db_(db), store_id_(std::move(store_id)), closedown_(closedown), settings_(settings) {}
  // The report, or ok false with a one-line reason (an unknown kind, a bad
  // or empty day, z of a day not closed).
  v1::FogResponse Report(const v1::ReportRequest& request);

 private:
  sql::Db& db_;
  const std::string store_id_;
  CloseDown& closedown_;
  const SettingsIssuer& settings_;
};

}  // namespace storenode::fog
