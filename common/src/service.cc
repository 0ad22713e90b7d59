#include "storenode/common/service.h"

#include <systemd/sd-daemon.h>

#include <atomic>
#include <cstdint>

namespace storenode::service {
namespace {

// The watchdog's half interval in µs, 0 without one; read once.
uint64_t HalfInterval() {
  static const uint64_t half = [] {
    uint64_t usec = 0;
    return sd_watchdog_enabled(0, &usec) > 0 ? usec / 2 : 0;
  }();
  return half;
}

uint64_t NowUs() {
  return uint64_t(std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now().time_since_epoch())
                      .count());
}

}  // namespace

void NotifyReady(const std::string& status) { sd_notifyf(0, "READY=1\nSTATUS=%s", status.c_str()); }

void NotifyStopping() { sd_notify(0, "STOPPING=1"); }

void NotifyStatus(const std::string& status) { sd_notifyf(0, "STATUS=%s", status.c_str()); }

void FeedWatchdog() {
  static std::atomic<uint64_t> last{0};
  const uint64_t half = HalfInterval();
  if (half == 0) return;
  const uint64_t now = NowUs();
  uint64_t seen = last.load();
  if (now - seen < half || !last.compare_exchange_strong(seen, now)) return;
  sd_notify(0, "WATCHDOG=1");
}

}  // namespace storenode::service
