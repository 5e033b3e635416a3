#pragma once
/// Aspiration kinds and statuses as the national complaint service (SP4N-LAPOR!) names them,
/// the allowed status changes, and deadline checks. Pure functions.

#include <chrono>
#include <optional>
#include <string_view>
#include <vector>

namespace kentongan::intake {

enum class aspiration_kind { aspirasi, pengaduan, permintaan_informasi };
/// "aspirasi", "pengaduan", "permintaan-informasi".
std::string_view to_string(aspiration_kind k);
std::optional<aspiration_kind> parse_aspiration_kind(std::string_view s);

/// baru → diproses → selesai | ditolak; baru may also go straight to selesai or ditolak.
enum class aspiration_status { baru, diproses, selesai, ditolak };
std::string_view to_string(aspiration_status s);
std::optional<aspiration_status> parse_aspiration_status(std::string_view s);
/// True for selesai and ditolak: nothing changes a closed aspiration.
bool is_final(aspiration_status s);
/// Whether an officer's action may move `from` to `to`. diproses → diproses is allowed (a
/// further answer); every other same-state change and every change out of a final state is not.
bool can_transition(aspiration_status from, aspiration_status to);

/// Deadlines in working days (SP4N-LAPOR! default: first answer within 3, resolution 5 more).
struct deadline_policy {
  int first_answer_days = 3;
  int resolution_days = 5;  ///< counted after the first-answer deadline
  bool operator==(const deadline_policy&) const = default;
};

struct deadlines {
  std::chrono::sys_days first_answer;  ///< last day on which a first answer is on time
  std::chrono::sys_days resolution;    ///< last day on which closing is on time
  bool operator==(const deadlines&) const = default;
};

/// `received` is the local date (village timezone) the aspiration arrived; `holidays` sorted or not.
deadlines deadlines_for(std::chrono::sys_days received, const deadline_policy& p,
                        const std::vector<std::chrono::sys_days>& holidays = {});

/// Overdue when still `baru` after the first-answer day, or not final after the resolution day.
bool is_overdue(aspiration_status s, const deadlines& d, std::chrono::sys_days today);

/// Whether the daily overdue reminder is due (issue 5 "Deadlines"): `today` (village date) is a
/// working day, `minute_of_day` (village time, 0..1439) is at or past `at_minute`, and the last run
/// was on an earlier day (or never). A run missed at the set time happens later that same day.
bool reminder_due(std::chrono::sys_days today, int minute_of_day, int at_minute,
                  std::optional<std::chrono::sys_days> last_run_day,
                  const std::vector<std::chrono::sys_days>& holidays = {});

}  // namespace kentongan::intake
