#pragma once
/// Private to daemon/: the daily overdue reminder (issue 5 "Deadlines"). Each officer gets ONE SMS
/// naming the overdue aspirations they handle; an aspiration is named at most once a village day
/// (durable: its reminded_at), so a restart or a second trigger the same day sends nothing twice.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/model.hpp"
#include "storage/store.hpp"

namespace kentongan::daemon {

struct intake_state;

struct officer_reminder {
  std::string phone, name;
  std::vector<std::string> tickets;  ///< oldest first
  std::string text;                  ///< the SMS queued to the officer
};

struct reminder_run {
  std::int64_t overdue = 0;          ///< open aspirations past a deadline now
  std::int64_t reminded = 0;         ///< of those, named in a reminder by this run
  std::int64_t already_today = 0;    ///< of those, already named earlier today: left alone
  std::vector<std::string> unassigned;  ///< overdue, not reminded today, and no officer handles their tags
  std::vector<officer_reminder> officers;
};

/// Writer thread only: finds the overdue open aspirations, queues each officer who handles one of
/// them (one of its tags, or "*") one SMS, and marks the named ones reminded at `now`.
reminder_run remind_overdue(storage::store& s, const intake_state& st, std::chrono::minutes utc_offset,
                            core::time_point now);

/// Whether the scheduled run is due at `now`: a working day (intake/calendar.hpp: not a weekend, not
/// one of `holidays`) in the village, local time at or past `at_minute` (minutes after midnight), and
/// no run yet on that local day.
bool reminder_due(core::time_point now, std::chrono::minutes utc_offset, int at_minute,
                  std::optional<std::chrono::sys_days> last_run_day,
                  const std::vector<std::chrono::sys_days>& holidays = {});

}  // namespace kentongan::daemon
