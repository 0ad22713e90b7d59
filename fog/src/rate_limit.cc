#include "rate_limit.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace storenode::fog {

RateLimiter::RateLimiter(std::string what, Limits limits)
    : what_(std::move(what)), limits_(limits) {
  overflow_.tokens = limits_.burst;
}

double RateLimiter::TokensAt(const Bucket& b, int64_t now_us) const {
  if (now_us <= b.refilled_us) return b.tokens;
  return std::min(limits_.burst, b.tokens + static_cast<double>(now_us - b.refilled_us) / 1e6 *
                                                limits_.per_second);
}

void RateLimiter::Refill(Bucket& b, int64_t now_us) const {
  b.tokens = TokensAt(b, now_us);
  b.refilled_us = std::max(b.refilled_us, now_us);
}

RateLimiter::Bucket& RateLimiter::BucketOf(const std::string& sender, int64_t now_us) {
  if (auto it = buckets_.find(sender); it != buckets_.end()) return it->second;
  if (buckets_.size() >= limits_.max_senders) {
    std::erase_if(buckets_, [&](const auto& entry) {
      return TokensAt(entry.second, now_us) >= limits_.burst;
    });
  }
  if (buckets_.size() >= limits_.max_senders) return overflow_;
  Bucket& b = buckets_[sender];
  b.tokens = limits_.burst;
  b.refilled_us = now_us;
  return b;
}

bool RateLimiter::Allow(const std::string& sender, int64_t now_us) {
  Bucket& b = BucketOf(sender, now_us);
  Refill(b, now_us);
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return true;
  }
  ++refused_;
  ++b.refused_since_log;
  if (b.logged_us == INT64_MIN || now_us - b.logged_us >= limits_.log_interval_us) {
    spdlog::warn("{}: rate limit for {} ({} refused since the last line; limit {}/s, burst {})",
                 what_, &b == &overflow_ ? std::string("(senders over the table cap)") : sender,
                 b.refused_since_log, limits_.per_second, limits_.burst);
    b.logged_us = now_us;
    b.refused_since_log = 0;
  }
  return false;
}

}  // namespace storenode::fog
