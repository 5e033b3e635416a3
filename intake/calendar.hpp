#pragma once
/// Working-day arithmetic for deadlines: Saturdays, Sundays and the given holidays are skipped.
/// Dates are local calendar days (the caller converts from the village timezone).

#include <chrono>
#include <vector>

namespace kentongan::intake {

/// Monday to Friday and not in `holidays` (any order, duplicates allowed).
bool is_working_day(std::chrono::sys_days d, const std::vector<std::chrono::sys_days>& holidays = {});

/// The n-th working day after `d` (n > 0), before it (n < 0), or `d` itself (n == 0).
/// add_working_days(Friday, 1) is the next Monday; add_working_days(Saturday, 1) is Monday too.
std::chrono::sys_days add_working_days(std::chrono::sys_days d, long n,
                                       const std::vector<std::chrono::sys_days>& holidays = {});
std::chrono::year_month_day add_working_days(std::chrono::year_month_day d, long n,
                                             const std::vector<std::chrono::sys_days>& holidays = {});

/// Working days in (from, to]; negative when to < from. For a working day `to`,
/// add_working_days(from, working_days_between(from, to)) == to.
long working_days_between(std::chrono::sys_days from, std::chrono::sys_days to,
                          const std::vector<std::chrono::sys_days>& holidays = {});
long working_days_between(std::chrono::year_month_day from, std::chrono::year_month_day to,
                          const std::vector<std::chrono::sys_days>& holidays = {});

}  // namespace kentongan::intake
