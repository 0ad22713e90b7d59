// Metrics: what /metrics reports, and its Prometheus text format (version
// 0.0.4), clean under `promtool check metrics` (tests/metrics_test.cc).
//
// Base units (seconds, bytes), counters end in _total, and no label takes a
// new value every day (a business day is not a label): a series per till,
// per certificate, per refusal reason. Rates are Prometheus' own rate()
// over the counters; nothing is computed between scrapes.
//
// A sample's fog.db figures are taken on the worker thread (the daemon
// gathers them from the components), the rest (histograms, /proc, file
// sizes, certificates) on the console's, which formats it. Pure functions;
// a sample is a value.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "histogram.h"
#include "storenode/fog/fog.h"
#include "storenode/schemas/fog.pb.h"

namespace storenode::fog {

// The process' own figures, from /proc/self (Prometheus' process_* names).
struct ProcessFigures {
  double resident_bytes = 0;
  double cpu_seconds = 0;  // user + system
  double open_fds = 0;
  double start_time_seconds = 0;  // since the Unix epoch
};
// Reads them; what cannot be read stays 0.
ProcessFigures ReadProcessFigures();

// One TLS certificate the fog uses: the config key naming it, its file, and
// when it expires.
struct CertificateExpiry {
  std::string key;  // "broker.cert_file"
  std::string file;
  int64_t not_after_s = 0;  // Unix seconds
};

struct MetricsSample {
  v1::StoreStatus status;
  Fog::Counters counters;
  int64_t now_us = 0;
  bool broker_connected = false;
  // (topic, reason) -> requests refused since the fog started (access.h).
  std::map<std::pair<std::string, std::string>, uint64_t> requests_refused;
  Histogram::Figures ingest_commit_seconds;  // ingest batch commits
  Histogram::Figures closedown_seconds;      // first request to Z, per Z
  std::string version = STORENODE_VERSION;
  ProcessFigures process;
  uint64_t database_bytes = 0;   // fog.db and its WAL
  uint64_t disk_free_bytes = 0;  // free to the fog in data.dir
  std::vector<CertificateExpiry> certificates;
};

std::string FormatMetrics(const MetricsSample& sample);

}  // namespace storenode::fog
