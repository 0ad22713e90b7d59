// Metrics: what /metrics reports, and its Prometheus text format (version
// 0.0.4). A sample is taken on the worker thread (the daemon gathers it
// from the components) and formatted on the console's; the ingest rate is
// the difference between two scrapes, and events_stored_total is there too
// for Prometheus' own rate(). Pure functions; a sample is a value.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "closedown.h"
#include "storenode/fog/fog.h"
#include "storenode/schemas/fog.pb.h"

namespace storenode::fog {

struct MetricsSample {
  v1::StoreStatus status;
  Fog::Counters counters;
  int64_t now_us = 0;
  std::optional<double> last_closedown_s;  // request to Z of the newest closed day
  std::string last_closedown_day;
  bool broker_connected = false;
  // (topic, reason) -> requests refused since the fog started (access.h).
  std::map<std::pair<std::string, std::string>, uint64_t> requests_refused;
};

// Sets the newest close-down's figures of `sample` (from its first request
// to its Z).
void NoteCloseDown(const NewestCloseDown& newest, MetricsSample* sample);

// Prometheus text format of `now`; with `prev` (the sample of the previous
// scrape) the ingest rate in events per second too.
std::string FormatMetrics(const MetricsSample& now, const MetricsSample* prev);

}  // namespace storenode::fog
