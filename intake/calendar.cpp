#include "intake/calendar.hpp"

#include <algorithm>

namespace kentongan::intake {
namespace {

using std::chrono::days;
using std::chrono::sys_days;

// Beyond this a deadline is meaningless; the clamp keeps date arithmetic far from overflow.
constexpr long max_step = 1'000'000;

bool is_weekday(sys_days d) {
  const std::chrono::weekday w{d};
  return w != std::chrono::Saturday && w != std::chrono::Sunday;
}

// Weekdays in (from, to], from <= to, in O(1).
long weekdays_in(sys_days from, sys_days to) {
  const long span = static_cast<long>((to - from).count());
  long count = (span / 7) * 5;
  for (sys_days d = from + days{(span / 7) * 7 + 1}; d <= to; d += days{1})
    if (is_weekday(d)) ++count;
  return count;
}

// Holidays on weekdays in (from, to]; `sorted` has no duplicates.
long holidays_in(const std::vector<sys_days>& sorted, sys_days from, sys_days to) {
  const auto first = std::upper_bound(sorted.begin(), sorted.end(), from);
  const auto last = std::upper_bound(sorted.begin(), sorted.end(), to);
  return std::count_if(first, last, is_weekday);
}

// The n-th weekday after d (n >= 0), ignoring holidays.
sys_days weekday_after(sys_days d, long n) {
  if (n <= 0) return d;
  const long weeks = (n - 1) / 5;
  d += days{weeks * 7};
  n -= weeks * 5;
  while (n > 0) {
    d += days{1};
    if (is_weekday(d)) --n;
  }
  return d;
}

// The n-th weekday before d (n >= 0), ignoring holidays.
sys_days weekday_before(sys_days d, long n) {
  if (n <= 0) return d;
  const long weeks = (n - 1) / 5;
  d -= days{weeks * 7};
  n -= weeks * 5;
  while (n > 0) {
    d -= days{1};
    if (is_weekday(d)) --n;
  }
  return d;
}

std::vector<sys_days> sorted_unique(const std::vector<sys_days>& holidays) {
  std::vector<sys_days> s = holidays;
  std::sort(s.begin(), s.end());
  s.erase(std::unique(s.begin(), s.end()), s.end());
  return s;
}

}  // namespace

bool is_working_day(sys_days d, const std::vector<sys_days>& holidays) {
  return is_weekday(d) && std::find(holidays.begin(), holidays.end(), d) == holidays.end();
}

sys_days add_working_days(sys_days d, long n, const std::vector<sys_days>& holidays) {
  n = std::clamp(n, -max_step, max_step);
  if (n == 0) return d;
  const std::vector<sys_days> h = sorted_unique(holidays);
  if (n > 0) {
    sys_days x = weekday_after(d, n);
    // Each pass pushes the end past the holidays the previous span contained.
    for (long skipped = holidays_in(h, d, x); skipped > 0;) {
      const sys_days y = weekday_after(x, skipped);
      skipped = holidays_in(h, x, y);
      x = y;
    }
    return x;
  }
  sys_days x = weekday_before(d, -n);
  for (long skipped = holidays_in(h, x - days{1}, d - days{1}); skipped > 0;) {
    const sys_days y = weekday_before(x, skipped);
    skipped = holidays_in(h, y - days{1}, x - days{1});
    x = y;
  }
  return x;
}

std::chrono::year_month_day add_working_days(std::chrono::year_month_day d, long n,
                                             const std::vector<sys_days>& holidays) {
  return std::chrono::year_month_day{add_working_days(sys_days{d}, n, holidays)};
}

long working_days_between(sys_days from, sys_days to, const std::vector<sys_days>& holidays) {
  const std::vector<sys_days> h = sorted_unique(holidays);
  if (from <= to) return weekdays_in(from, to) - holidays_in(h, from, to);
  // [to, from) counted backwards, so that add_working_days(from, result) == to.
  return -(weekdays_in(to - days{1}, from - days{1}) - holidays_in(h, to - days{1}, from - days{1}));
}

long working_days_between(std::chrono::year_month_day from, std::chrono::year_month_day to,
                          const std::vector<sys_days>& holidays) {
  return working_days_between(sys_days{from}, sys_days{to}, holidays);
}

}  // namespace kentongan::intake
