#pragma once
/// Pure writers for the district office (issue 5 "Exports"): RFC 4180 CSV and JSON Lines rows of
/// aspirations and deliveries, overdue checks and the monthly report text. No I/O but the given
/// stream, no clock of their own: `now` and the village's UTC offset are passed in.

#include <chrono>
#include <map>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "intake/aspiration.hpp"
#include "storage/store.hpp"

namespace kentongan::daemon {

enum class export_format { csv, jsonl };
/// "csv" or "jsonl" (also "json-lines", "ndjson"); nullopt otherwise.
std::optional<export_format> parse_export_format(std::string_view s);

/// The UTF-8 byte order mark Excel needs to read a CSV file as UTF-8.
inline constexpr std::string_view utf8_bom = "\xEF\xBB\xBF";

/// A cell a spreadsheet would run as a formula (leading = + - @, tab or CR) gets a leading
/// apostrophe (OWASP "CSV injection"); anything else is returned unchanged.
std::string neutralise_formula(std::string_view cell);
/// One RFC 4180 field: neutralised, then quoted (with "" for ") when it holds , " CR or LF.
std::string csv_field(std::string_view cell);
/// Fields joined by ',' and ended by CRLF (RFC 4180 §2).
void write_csv_record(std::ostream& out, const std::vector<std::string>& fields);

/// The village-local calendar day of `t`.
std::chrono::sys_days local_day(core::time_point t, std::chrono::minutes utc_offset);
/// "2026-11-28T08:00:00+07:00".
std::string iso_local_time(core::time_point t, std::chrono::minutes utc_offset);

/// Overdue at `now`: no first answer after the first-answer deadline, or not closed after the
/// resolution deadline (working days, counted in the village's calendar).
bool is_overdue(const storage::aspiration_row& a, const intake::deadline_policy& policy, std::chrono::minutes utc_offset,
                core::time_point now, const std::vector<std::chrono::sys_days>& holidays = {});

struct export_options {
  export_format format = export_format::csv;
  bool with_phone = false;  ///< else core::mask_phone
  bool bom = false;         ///< CSV only
  std::chrono::minutes utc_offset{7 * 60};
  intake::deadline_policy deadline;
  std::vector<std::chrono::sys_days> holidays;  ///< config village.holidays: deadlines skip them
  core::time_point now{};
};

/// Writes aspirations one at a time (constant memory): the CSV header (and BOM) at construction,
/// then one record per row(). CSV columns: ticket, received_at, phone, name, text, tags, status,
/// last_answer, overdue.
class aspiration_writer {
 public:
  aspiration_writer(std::ostream& out, const export_options& options);
  void row(const storage::aspiration_row& a);
  std::int64_t rows() const { return rows_; }

 private:
  std::ostream& out_;
  export_options options_;
  std::int64_t rows_ = 0;
};

/// One row per recipient of a broadcast. CSV columns: outbox_id, phone, name, state, channel,
/// attempts, in_doubt, created_at, submitted_at, finished_at, reason.
class delivery_writer {
 public:
  delivery_writer(std::ostream& out, const export_options& options);
  void row(const storage::delivery_row& d);
  std::int64_t rows() const { return rows_; }

 private:
  std::ostream& out_;
  export_options options_;
  std::int64_t rows_ = 0;
};

/// What `kentongan report --month` shows.
struct month_report {
  std::string month;  ///< "2026-11"
  std::vector<storage::tag_status_count> counts;
  std::int64_t aspirations = 0;  ///< received in the month (each once, whatever its tags)
  std::int64_t overdue = 0;      ///< of those, overdue now
  std::map<std::string, std::int64_t> by_status;  ///< each aspiration once
  std::optional<std::chrono::milliseconds> median_first_answer;
  std::int64_t broadcasts = 0;
  storage::state_counts deliveries;
};

/// A plain-text table: aspirations by tag and by status, median time to first answer, overdue,
/// broadcasts and their delivery rate (delivered / recipients).
std::string format_report(const month_report& r);
/// "3 h 20 min", "2 d 4 h", "45 min".
std::string format_span(std::chrono::milliseconds d);
/// "2026-11" → [first day 00:00, first day of next month 00:00) in village time, as UTC instants.
std::optional<std::pair<core::time_point, core::time_point>> month_range(std::string_view yyyy_mm,
                                                                        std::chrono::minutes utc_offset);
/// "2026-11-28" → that day's 00:00 village time; nullopt when malformed.
std::optional<core::time_point> parse_local_date(std::string_view yyyy_mm_dd, std::chrono::minutes utc_offset);

}  // namespace kentongan::daemon
