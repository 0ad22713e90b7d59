// The tests' REQUIRE wrappers over the harness (harness.h).
#include "support/harness.h"

#include <catch2/catch.hpp>

namespace storenode::testing {

std::string MakeTempDir(std::string_view prefix) {
  auto dir = harness::MakeTempDir(prefix);
  INFO(dir.status().ToString());
  REQUIRE(dir.ok());
  return *dir;
}

int64_t PeakRss(pid_t pid) {
  auto usage = harness::ReadProcUsage(pid);
  INFO("pid " << pid << ": " << usage.status().ToString());
  REQUIRE(usage.ok());
  // VmHWM is in kB, so the megabytes convert back exactly.
  return static_cast<int64_t>(usage->peak_rss_mb * 1024 * 1024);
}

}  // namespace storenode::testing
