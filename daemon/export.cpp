#include "daemon/export.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "core/model.hpp"
#include "daemon/policy.hpp"
#include "intake/calendar.hpp"

namespace kentongan::daemon {

std::optional<export_format> parse_export_format(std::string_view s) {
  if (s == "csv") return export_format::csv;
  if (s == "jsonl" || s == "json-lines" || s == "ndjson") return export_format::jsonl;
  return std::nullopt;
}

std::string neutralise_formula(std::string_view cell) {
  // OWASP "CSV Injection": these first characters make Excel, LibreOffice and Sheets evaluate the cell.
  if (!cell.empty()) {
    const char c = cell.front();
    if (c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r') return "'" + std::string(cell);
  }
  return std::string(cell);
}

std::string csv_field(std::string_view cell) {
  const auto safe = neutralise_formula(cell);
  // RFC 4180 §2.6-2.7: fields with a comma, quote or line break are quoted, quotes doubled.
  if (safe.find_first_of(",\"\r\n") == std::string::npos) return safe;
  std::string out = "\"";
  for (const char c : safe) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

void write_csv_record(std::ostream& out, const std::vector<std::string>& fields) {
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) out << ',';
    out << csv_field(fields[i]);
  }
  out << "\r\n";  // RFC 4180 §2.1
}

std::chrono::sys_days local_day(core::time_point t, std::chrono::minutes utc_offset) {
  return std::chrono::floor<std::chrono::days>(t + utc_offset);
}

std::string iso_local_time(core::time_point t, std::chrono::minutes utc_offset) {
  const auto local = std::chrono::floor<std::chrono::seconds>(t + utc_offset);
  const auto day = std::chrono::floor<std::chrono::days>(local);
  const std::chrono::year_month_day ymd{day};
  const std::chrono::hh_mm_ss hms{local - day};
  const auto off = utc_offset.count();
  const auto abs_off = off < 0 ? -off : off;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d%c%02d:%02d", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()), off < 0 ? '-' : '+',
                static_cast<int>(abs_off / 60), static_cast<int>(abs_off % 60));
  return buf;
}

bool is_overdue(const storage::aspiration_row& a, const intake::deadline_policy& policy, std::chrono::minutes utc_offset,
                core::time_point now, const std::vector<std::chrono::sys_days>& holidays) {
  auto status = intake::parse_aspiration_status(a.status).value_or(intake::aspiration_status::baru);
  // An answered aspiration has met its first deadline whatever its status says.
  if (status == intake::aspiration_status::baru && a.first_answer_at) status = intake::aspiration_status::diproses;
  const auto d = intake::deadlines_for(local_day(a.received_at, utc_offset), policy, holidays);
  return intake::is_overdue(status, d, local_day(now, utc_offset));
}

namespace {

using json = nlohmann::json;

std::string joined_tags(const std::vector<std::string>& tags) {
  // '|' as in the subscriber CSV's groups column, so the district office splits both the same way.
  std::string out;
  for (const auto& t : tags) out += (out.empty() ? "" : "|") + t;
  return out;
}

std::string shown_phone(const std::string& phone, bool with_phone) {
  return with_phone ? phone : core::mask_phone(phone);
}

std::string opt_local(const std::optional<core::time_point>& t, std::chrono::minutes off) {
  return t ? iso_local_time(*t, off) : std::string{};
}

json opt_json_time(const std::optional<core::time_point>& t, std::chrono::minutes off) {
  return t ? json(iso_local_time(*t, off)) : json(nullptr);
}

}  // namespace

aspiration_writer::aspiration_writer(std::ostream& out, const export_options& options) : out_(out), options_(options) {
  if (options_.format != export_format::csv) return;
  if (options_.bom) out_ << utf8_bom;
  write_csv_record(out_, {"ticket", "received_at", "phone", "name", "text", "tags", "status", "last_answer", "overdue"});
}

void aspiration_writer::row(const storage::aspiration_row& a) {
  const bool overdue = is_overdue(a, options_.deadline, options_.utc_offset, options_.now, options_.holidays);
  if (options_.format == export_format::csv) {
    write_csv_record(out_, {a.ticket, format_local_time(a.received_at, options_.utc_offset),
                            shown_phone(a.phone, options_.with_phone), a.name, a.text, joined_tags(a.tags), a.status,
                            a.last_answer, overdue ? "yes" : "no"});
  } else {
    json j{{"ticket", a.ticket},
           {"kind", a.kind},
           {"received_at", iso_local_time(a.received_at, options_.utc_offset)},
           {"phone", shown_phone(a.phone, options_.with_phone)},
           {"name", a.name},
           {"text", a.text},
           {"tags", a.tags},
           {"status", a.status},
           {"first_answer_at", opt_json_time(a.first_answer_at, options_.utc_offset)},
           {"closed_at", opt_json_time(a.closed_at, options_.utc_offset)},
           {"last_answer", a.last_answer},
           {"overdue", overdue}};
    // Replace, not throw, on invalid UTF-8: one bad SMS must not stop a million-row export.
    out_ << j.dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
  }
  ++rows_;
}

delivery_writer::delivery_writer(std::ostream& out, const export_options& options) : out_(out), options_(options) {
  if (options_.format != export_format::csv) return;
  if (options_.bom) out_ << utf8_bom;
  write_csv_record(out_, {"outbox_id", "phone", "name", "state", "channel", "attempts", "in_doubt", "created_at",
                          "submitted_at", "finished_at", "reason"});
}

void delivery_writer::row(const storage::delivery_row& d) {
  const auto off = options_.utc_offset;
  if (options_.format == export_format::csv) {
    write_csv_record(out_, {std::to_string(d.outbox_id), shown_phone(d.phone, options_.with_phone), d.name, d.state,
                            d.channel, std::to_string(d.attempts), d.in_doubt ? "yes" : "no",
                            iso_local_time(d.created_at, off), opt_local(d.submitted_at, off),
                            opt_local(d.finished_at, off), d.reason});
  } else {
    json j{{"outbox_id", d.outbox_id},
           {"phone", shown_phone(d.phone, options_.with_phone)},
           {"name", d.name},
           {"state", d.state},
           {"channel", d.channel},
           {"attempts", d.attempts},
           {"in_doubt", d.in_doubt},
           {"created_at", iso_local_time(d.created_at, off)},
           {"submitted_at", opt_json_time(d.submitted_at, off)},
           {"finished_at", opt_json_time(d.finished_at, off)},
           {"reason", d.reason}};
    out_ << j.dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
  }
  ++rows_;
}

std::string format_span(std::chrono::milliseconds d) {
  using namespace std::chrono;
  const auto total_min = duration_cast<minutes>(d).count();
  const auto days = total_min / (24 * 60), hours = (total_min / 60) % 24, mins = total_min % 60;
  std::string out;
  if (days) out += std::to_string(days) + " d";
  if (hours) out += (out.empty() ? "" : " ") + std::to_string(hours) + " h";
  if (mins || out.empty()) out += (out.empty() ? "" : " ") + std::to_string(mins) + " min";
  return out;
}

std::string format_report(const month_report& r) {
  static const std::vector<std::string> statuses{std::string(storage::status_new), std::string(storage::status_in_progress),
                                                 std::string(storage::status_done), std::string(storage::status_rejected)};
  std::map<std::string, std::map<std::string, std::int64_t>> by_tag;
  for (const auto& c : r.counts) by_tag[c.tag][c.status] += c.count;

  std::string out = "Laporan bulan " + r.month + "\n\n";
  char line[256];
  std::snprintf(line, sizeof line, "%-20s %8s %8s %8s %8s %8s\n", "tag", "baru", "diproses", "selesai", "ditolak", "jumlah");
  out += "Aspirasi per tag (satu aspirasi dihitung di setiap tag-nya)\n";
  out += line;
  out += std::string(69, '-') + "\n";
  for (const auto& [tag, per_status] : by_tag) {
    std::int64_t sum = 0;
    std::vector<std::int64_t> cells;
    for (const auto& s : statuses) {
      const auto it = per_status.find(s);
      cells.push_back(it == per_status.end() ? 0 : it->second);
      sum += cells.back();
    }
    std::snprintf(line, sizeof line, "%-20s %8lld %8lld %8lld %8lld %8lld\n", tag.c_str(), static_cast<long long>(cells[0]),
                  static_cast<long long>(cells[1]), static_cast<long long>(cells[2]), static_cast<long long>(cells[3]),
                  static_cast<long long>(sum));
    out += line;
  }
  if (by_tag.empty()) out += "(tidak ada aspirasi)\n";

  out += "\nAspirasi per status\n";
  for (const auto& s : statuses) {
    const auto it = r.by_status.find(s);
    std::snprintf(line, sizeof line, "  %-20s %8lld\n", s.c_str(), static_cast<long long>(it == r.by_status.end() ? 0 : it->second));
    out += line;
  }

  out += "\nRingkasan\n";
  auto item = [&](const char* label, const std::string& value) {
    std::snprintf(line, sizeof line, "  %-36s %s\n", label, value.c_str());
    out += line;
  };
  item("aspirasi diterima", std::to_string(r.aspirations));
  item("terlambat (lewat tenggat)", std::to_string(r.overdue));
  item("median waktu jawaban pertama", r.median_first_answer ? format_span(*r.median_first_answer) : "-");
  item("siaran dikirim", std::to_string(r.broadcasts));
  item("penerima", std::to_string(r.deliveries.recipients));
  item("terkirim (delivered)", std::to_string(r.deliveries.delivered));
  item("gagal / kedaluwarsa / dibatalkan", std::to_string(r.deliveries.failed) + " / " + std::to_string(r.deliveries.expired) +
                                               " / " + std::to_string(r.deliveries.cancelled));
  if (r.deliveries.recipients > 0) {
    std::snprintf(line, sizeof line, "%.1f%%",
                  100.0 * static_cast<double>(r.deliveries.delivered) / static_cast<double>(r.deliveries.recipients));
    item("tingkat keterkiriman", line);
  } else {
    item("tingkat keterkiriman", "-");
  }
  return out;
}

namespace {

bool read_int(std::string_view s, std::size_t pos, std::size_t len, int& out) {
  if (pos + len > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + len; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

}  // namespace

std::optional<core::time_point> parse_local_date(std::string_view s, std::chrono::minutes utc_offset) {
  int y = 0, m = 0, d = 0;
  if (s.size() != 10 || s[4] != '-' || s[7] != '-' || !read_int(s, 0, 4, y) || !read_int(s, 5, 2, m) ||
      !read_int(s, 8, 2, d))
    return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{static_cast<unsigned>(m)},
                                        std::chrono::day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  return core::time_point{std::chrono::sys_days{ymd}} - utc_offset;
}

std::optional<std::pair<core::time_point, core::time_point>> month_range(std::string_view s,
                                                                        std::chrono::minutes utc_offset) {
  int y = 0, m = 0;
  if (s.size() != 7 || s[4] != '-' || !read_int(s, 0, 4, y) || !read_int(s, 5, 2, m) || m < 1 || m > 12)
    return std::nullopt;
  const std::chrono::year_month first{std::chrono::year{y}, std::chrono::month{static_cast<unsigned>(m)}};
  const auto next = first + std::chrono::months{1};
  const auto from = core::time_point{std::chrono::sys_days{first / std::chrono::day{1}}} - utc_offset;
  const auto to = core::time_point{std::chrono::sys_days{next / std::chrono::day{1}}} - utc_offset;
  return std::make_pair(from, to);
}

}  // namespace kentongan::daemon
