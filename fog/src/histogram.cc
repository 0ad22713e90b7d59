#include "histogram.h"

#include <algorithm>

namespace storenode::fog {

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::Observe(double value) {
  // Prometheus buckets are "less than or equal": le="0.5" counts 0.5.
  const size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  std::lock_guard lock(mu_);
  ++counts_[i];
  sum_ += value;
}

Histogram::Figures Histogram::Read() const {
  Figures f;
  f.bounds = bounds_;
  std::lock_guard lock(mu_);
  uint64_t running = 0;
  for (uint64_t n : counts_) f.cumulative.push_back(running += n);
  f.sum = sum_;
  return f;
}

}  // namespace storenode::fog
