// The per-sender rate limiter every fog request topic goes through.
#include "fog/src/rate_limit.h"

#include <catch2/catch.hpp>
#include <string>

using storenode::fog::RateLimiter;

namespace {

RateLimiter::Limits Limits(double per_second, double burst, size_t max_senders) {
  RateLimiter::Limits l;
  l.per_second = per_second;
  l.burst = burst;
  l.max_senders = max_senders;
  return l;
}

}  // namespace

TEST_CASE("rate limiter: a burst is served then refused until tokens refill", "[rate_limit]") {
  RateLimiter limiter("test", Limits(2, 5, 16));
  int64_t t = 1'000'000;
  int served = 0;
  for (int i = 0; i < 100; ++i) served += limiter.Allow("till-1", t);
  CHECK(served == 5);
  CHECK(limiter.refused() == 95);
  // Another sender has its own bucket.
  CHECK(limiter.Allow("till-2", t));
  // Half a second refills one token at 2/s.
  t += 500'000;
  CHECK(limiter.Allow("till-1", t));
  CHECK_FALSE(limiter.Allow("till-1", t));
  // Ten idle seconds refill to the burst, never beyond it.
  t += 10'000'000;
  served = 0;
  for (int i = 0; i < 100; ++i) served += limiter.Allow("till-1", t);
  CHECK(served == 5);
}

TEST_CASE("rate limiter: a flood of new sender names shares one overflow bucket", "[rate_limit]") {
  RateLimiter limiter("test", Limits(1, 3, 8));
  const int64_t t = 5'000'000;
  // Eight busy senders fill the table (each used a token, so none is idle).
  for (int i = 0; i < 8; ++i) REQUIRE(limiter.Allow("known-" + std::to_string(i), t));
  int served = 0;
  for (int i = 0; i < 10'000; ++i) served += limiter.Allow("ghost-" + std::to_string(i), t);
  CHECK(served == 3);  // the overflow bucket's burst, for all of them together
  CHECK(limiter.refused() == 10'000 - 3);
  // The known senders still have their own tokens.
  CHECK(limiter.Allow("known-0", t));
}
