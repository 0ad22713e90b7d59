// Clock: the only way storenode code reads the time, so tests can move it.
// SystemClock is thread-safe; ManualClock is safe to read from any thread
// while one thread moves it.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace storenode {

class Clock {
 public:
  virtual ~Clock() = default;
  // Microseconds since the Unix epoch, UTC.
  virtual int64_t NowMicros() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t NowMicros() const override;
  static SystemClock* Default();
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t now_us) : now_us_(now_us) {}
  int64_t NowMicros() const override { return now_us_.load(); }
  void Set(int64_t now_us) { now_us_.store(now_us); }
  void Advance(int64_t delta_us) { now_us_.fetch_add(delta_us); }

 private:
  std::atomic<int64_t> now_us_;
};

// Calendar helpers for business days ("YYYY-MM-DD"), all in UTC.
std::string DayOf(int64_t micros);
bool IsValidDay(const std::string& day);
std::string NextDay(const std::string& day);
// `day` moved by `n` days (negative: back); "" if the day is malformed.
std::string AddDays(const std::string& day, int n);
// Days from `from` to `to` (0 for the same day, negative when `to` is
// earlier); both must be valid days.
int DaysBetween(const std::string& from, const std::string& to);
// The Monday of the ISO week of `day` (weeks start on Monday), and the 1st
// of its month; "" if the day is malformed.
std::string WeekStartOf(const std::string& day);
std::string MonthStartOf(const std::string& day);
// Micros at 00:00 UTC of the day; -1 if the day is malformed.
int64_t DayStartMicros(const std::string& day);
// "2026-11-26T15:00:00Z"
std::string IsoTime(int64_t micros);

}  // namespace storenode
