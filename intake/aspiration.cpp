#include "intake/aspiration.hpp"

#include "intake/calendar.hpp"

#include <array>
#include <utility>

namespace kentongan::intake {
namespace {

constexpr std::array<std::pair<aspiration_kind, std::string_view>, 3> kinds{{
    {aspiration_kind::aspirasi, "aspirasi"},
    {aspiration_kind::pengaduan, "pengaduan"},
    {aspiration_kind::permintaan_informasi, "permintaan-informasi"},
}};

constexpr std::array<std::pair<aspiration_status, std::string_view>, 4> statuses{{
    {aspiration_status::baru, "baru"},
    {aspiration_status::diproses, "diproses"},
    {aspiration_status::selesai, "selesai"},
    {aspiration_status::ditolak, "ditolak"},
}};

template <typename E, std::size_t N>
std::string_view name_of(const std::array<std::pair<E, std::string_view>, N>& table, E e) {
  for (const auto& [value, name] : table)
    if (value == e) return name;
  return "?";
}

template <typename E, std::size_t N>
std::optional<E> parse_enum(const std::array<std::pair<E, std::string_view>, N>& table, std::string_view s) {
  for (const auto& [value, name] : table)
    if (name == s) return value;
  return std::nullopt;
}

}  // namespace

std::string_view to_string(aspiration_kind k) { return name_of(kinds, k); }
std::optional<aspiration_kind> parse_aspiration_kind(std::string_view s) { return parse_enum(kinds, s); }
std::string_view to_string(aspiration_status s) { return name_of(statuses, s); }
std::optional<aspiration_status> parse_aspiration_status(std::string_view s) { return parse_enum(statuses, s); }

bool is_final(aspiration_status s) {
  return s == aspiration_status::selesai || s == aspiration_status::ditolak;
}

bool can_transition(aspiration_status from, aspiration_status to) {
  if (is_final(from)) return false;
  switch (to) {
    case aspiration_status::baru: return false;
    case aspiration_status::diproses: return true;  // first answer, or a further one
    case aspiration_status::selesai:
    case aspiration_status::ditolak: return true;
  }
  return false;
}

deadlines deadlines_for(std::chrono::sys_days received, const deadline_policy& p,
                        const std::vector<std::chrono::sys_days>& holidays) {
  const auto first = add_working_days(received, p.first_answer_days, holidays);
  return {first, add_working_days(first, p.resolution_days, holidays)};
}

bool is_overdue(aspiration_status s, const deadlines& d, std::chrono::sys_days today) {
  if (is_final(s)) return false;
  if (s == aspiration_status::baru && today > d.first_answer) return true;
  return today > d.resolution;
}

bool reminder_due(std::chrono::sys_days today, int minute_of_day, int at_minute,
                  std::optional<std::chrono::sys_days> last_run_day, const std::vector<std::chrono::sys_days>& holidays) {
  if (last_run_day && *last_run_day >= today) return false;
  // Officers are not reminded on weekends and holidays; the working-day deadlines do not move then either.
  if (!is_working_day(today, holidays)) return false;
  return minute_of_day >= at_minute;
}

}  // namespace kentongan::intake
