// Histogram: a Prometheus histogram with fixed upper bounds, in seconds.
// Observe() is one short lock (a bucket search and two adds), cheap enough
// for every commit; Read() copies the figures for /metrics.
//
// Thread-safe: the worker observes, the console's threads read.
#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

namespace storenode::fog {

class Histogram {
 public:
  // `bounds` ascending; +Inf is implied after the last.
  explicit Histogram(std::vector<double> bounds);
  void Observe(double value);

  struct Figures {
    std::vector<double> bounds;
    std::vector<uint64_t> cumulative;  // per bound, then +Inf (== count)
    double sum = 0;
    uint64_t count() const { return cumulative.empty() ? 0 : cumulative.back(); }
  };
  Figures Read() const;

 private:
  const std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::vector<uint64_t> counts_;  // per bucket (not cumulative), +Inf last
  double sum_ = 0;
};

// Bounds for an ingest batch commit (an fsync or two: a millisecond on an
// SSD, a second on a dying SD card).
inline const std::vector<double> kCommitBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                  0.1,    0.25,  0.5,    1,     2.5,  5};
// Bounds for a close-down, from the manager's first request to its Z: at
// once when every till has sealed, hours when the day waits for a till.
inline const std::vector<double> kCloseDownBounds = {0.1, 0.5,  1,    5,    15,    60,    300,
                                                     900, 1800, 3600, 7200, 14400, 28800, 86400};

}  // namespace storenode::fog
