#include "storenode/common/clock.h"

#include <chrono>
#include <cstdio>

namespace storenode {

using namespace std::chrono;

int64_t SystemClock::NowMicros() const {
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

SystemClock* SystemClock::Default() {
  static SystemClock clock;
  return &clock;
}

namespace {

year_month_day YmdOf(int64_t micros) {
  return year_month_day(floor<days>(sys_time<microseconds>(microseconds(micros))));
}

std::string Format(const year_month_day& ymd) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

bool Parse(const std::string& day, year_month_day* out) {
  int y = 0;
  unsigned m = 0, d = 0;
  char tail = 0;
  if (day.size() != 10 || std::sscanf(day.c_str(), "%4d-%2u-%2u%c", &y, &m, &d, &tail) != 3) {
    return false;
  }
  *out = year_month_day(year(y), month(m), std::chrono::day(d));
  return out->ok() && Format(*out) == day;
}

}  // namespace

std::string DayOf(int64_t micros) { return Format(YmdOf(micros)); }

bool IsValidDay(const std::string& day) {
  year_month_day ymd;
  return Parse(day, &ymd);
}

std::string NextDay(const std::string& day) {
  year_month_day ymd;
  if (!Parse(day, &ymd)) return "";
  return Format(year_month_day(sys_days(ymd) + days(1)));
}

std::string AddDays(const std::string& day, int n) {
  year_month_day ymd;
  if (!Parse(day, &ymd)) return "";
  return Format(year_month_day(sys_days(ymd) + days(n)));
}

int DaysBetween(const std::string& from, const std::string& to) {
  year_month_day a, b;
  if (!Parse(from, &a) || !Parse(to, &b)) return 0;
  return static_cast<int>((sys_days(b) - sys_days(a)).count());
}

std::string WeekStartOf(const std::string& day) {
  year_month_day ymd;
  if (!Parse(day, &ymd)) return "";
  const sys_days d(ymd);
  // iso_encoding: Monday 1 .. Sunday 7.
  return Format(year_month_day(d - days(weekday(d).iso_encoding() - 1)));
}

std::string MonthStartOf(const std::string& day) {
  year_month_day ymd;
  if (!Parse(day, &ymd)) return "";
  return Format(ymd.year() / ymd.month() / std::chrono::day(1));
}

int64_t DayStartMicros(const std::string& day) {
  year_month_day ymd;
  if (!Parse(day, &ymd)) return -1;
  return duration_cast<microseconds>(sys_days(ymd).time_since_epoch()).count();
}

std::string IsoTime(int64_t micros) {
  auto tp = sys_time<microseconds>(microseconds(micros));
  auto day = floor<days>(tp);
  hh_mm_ss hms(floor<seconds>(tp - day));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%sT%02d:%02d:%02dZ", Format(year_month_day(day)).c_str(),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

}  // namespace storenode
