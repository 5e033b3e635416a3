// The daily overdue reminder (issue 5 "Deadlines": SP4N-LAPOR! reminds the officer in charge when
// a complaint passes its deadline). The loop runs on the I/O thread and only checks the clock; the
// work is one writer job, so the reminders and their reminded_at marks are durable together.
#include "daemon/reminders.hpp"

#include <algorithm>

#include "daemon/export.hpp"
#include "daemon/inbound.hpp"
#include "daemon/logging.hpp"
#include "daemon/policy.hpp"
#include "daemon/service_impl.hpp"
#include "intake/aspiration.hpp"
#include "intake/reply.hpp"

namespace kentongan::daemon {

namespace {

// The clock is looked at this often: cheap, and it follows wall-clock changes (NTP, a new
// reminder_time after SIGHUP) without computing a long sleep that could be wrong.
constexpr auto reminder_poll = std::chrono::seconds{30};

bool handles(const core::officer& o, const std::vector<std::string>& tags) {
  return std::any_of(o.tags.begin(), o.tags.end(), [&](const std::string& t) {
    return t == "*" || std::find(tags.begin(), tags.end(), t) != tags.end();
  });
}

}  // namespace

reminder_run remind_overdue(storage::store& s, const intake_state& st, std::chrono::minutes utc_offset,
                            core::time_point now) {
  reminder_run run;
  const auto today = local_day(now, utc_offset);
  std::vector<officer_reminder> per_officer;
  for (const auto& o : st.config.officers) per_officer.push_back({o.phone, o.name, {}, {}});
  std::vector<std::string> named;
  storage::aspiration_filter f;
  f.open_only = true;
  for (const auto& a : s.list_aspirations(f)) {
    if (!is_overdue(a, st.settings.deadline, utc_offset, now, st.config.village.holidays)) continue;
    ++run.overdue;
    if (a.reminded_at && local_day(*a.reminded_at, utc_offset) >= today) {
      ++run.already_today;  // never twice a day, whatever restarted or triggered us
      continue;
    }
    bool assigned = false;
    for (std::size_t i = 0; i < st.config.officers.size(); ++i)
      if (handles(st.config.officers[i], a.tags)) {
        per_officer[i].tickets.push_back(a.ticket);
        assigned = true;
      }
    if (assigned)
      named.push_back(a.ticket);
    else
      run.unassigned.push_back(a.ticket);
  }
  for (auto& r : per_officer) {
    if (r.tickets.empty()) continue;
    r.text = intake::render_overdue_reminder(st.settings, r.tickets);
    // Normal priority: a reminder waits out quiet hours; an officer is not woken for it.
    s.enqueue_direct(r.phone, r.text, core::priority::normal, "");
    run.officers.push_back(std::move(r));
  }
  for (const auto& t : named) s.mark_reminded(t, now);
  run.reminded = static_cast<std::int64_t>(named.size());
  return run;
}

bool reminder_due(core::time_point now, std::chrono::minutes utc_offset, int at_minute,
                  std::optional<std::chrono::sys_days> last_run_day, const std::vector<std::chrono::sys_days>& holidays) {
  const auto day = local_day(now, utc_offset);
  const auto minute = std::chrono::duration_cast<std::chrono::minutes>(now + utc_offset - day).count();
  return intake::reminder_due(day, static_cast<int>(minute), at_minute, last_run_day, holidays);
}

asio::awaitable<void> service::reminder_loop() {
  asio::steady_timer timer(io_);
  std::optional<std::chrono::sys_days> last_run;
  auto* const intake_slot = &intake_;  // read only inside the writer job
  while (!stopping_) {
    const auto at = parse_clock_time(config_.limits.reminder_time);
    const auto now = core::now();
    // A daemon started after the reminder time runs at once: reminded_at keeps that from repeating a day's run.
    // config_.village.holidays: a holiday is no working day, so no reminder goes out on it.
    if (at && reminder_due(now, utc_offset_, *at, last_run, config_.village.holidays)) {
      last_run = local_day(now, utc_offset_);
      const auto off = utc_offset_;
      const auto job = [intake_slot, off, now](storage::store& s) { return remind_overdue(s, **intake_slot, off, now); };
      try {
        const auto r = co_await query<reminder_run>(job);
        log_->info("overdue reminder overdue={} reminded={} officers={} already_today={} unassigned={}", r.overdue,
                   r.reminded, r.officers.size(), r.already_today, r.unassigned.size());
        if (!r.unassigned.empty())
          log_->warn("overdue aspirations no officer handles count={} first={} (give an officer their tags or \"*\")",
                     r.unassigned.size(), r.unassigned.front());
        if (!r.officers.empty()) wake_dispatcher();
      } catch (const std::exception& e) {
        log_->error("overdue reminder failed error=\"{}\"", e.what());
      }
    }
    timer.expires_after(reminder_poll);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

}  // namespace kentongan::daemon
