// RateLimiter: one token bucket per sender, for every request topic a sender
// can repeat (catalog fetches, fog/req, and any added later).
//
// NOTES ON THE DESIGN
// Promise: a sender gets at most `burst` requests at once and `per_second`
// on average; whatever it sends beyond that is refused before any work is
// done for it, counted, and logged at most once per sender and interval.
//
// Invariants:
//  1. Memory is bounded: at most `max_senders` buckets are kept. When the
//     table is full, idle buckets (full again) are dropped first; senders
//     that still find no room share one overflow bucket, so a flood of new
//     names cannot grow the table nor starve known senders.
//  2. Refusals are counted per limiter (refused()) for /metrics.
//  3. Time comes from the caller (the Clock), so tests move it by hand.
//
// Not thread-safe: the fog's worker owns every limiter.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace storenode::fog {

class RateLimiter {
 public:
  struct Limits {
    double per_second = 5;
    double burst = 20;
    size_t max_senders = 4096;
    int64_t log_interval_us = 60'000'000;
  };
  // `what` names the topic in log lines ("catalog_req", "fog_req").
  RateLimiter(std::string what, Limits limits);

  // True if `sender` may be served now; false (counted, maybe logged) if not.
  bool Allow(const std::string& sender, int64_t now_us);

  uint64_t refused() const { return refused_; }
  const std::string& what() const { return what_; }

 private:
  struct Bucket {
    double tokens = 0;
    int64_t refilled_us = 0;
    int64_t logged_us = INT64_MIN;
    uint64_t refused_since_log = 0;
  };
  Bucket& BucketOf(const std::string& sender, int64_t now_us);
  double TokensAt(const Bucket& b, int64_t now_us) const;
  void Refill(Bucket& b, int64_t now_us) const;

  std::string what_;
  Limits limits_;
  std::map<std::string, Bucket> buckets_;
  Bucket overflow_;
  uint64_t refused_ = 0;
};

}  // namespace storenode::fog
