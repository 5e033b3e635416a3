#include "config/config.hpp"

#include "config/csv.hpp"
#include "config/json_index.hpp"
#include "config/phone.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <set>
#include <sstream>
#include <stdexcept>
#include <tuple>
#include <unordered_map>

namespace kentongan::config {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// Small text helpers

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return std::string(s);
}

bool is_slug(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
  });
}

bool is_word(std::string_view s) {
  if (s.empty() || s.size() > 32) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

// Optimal string alignment distance: a swapped pair ("nmae") costs 1, as a typo does.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  const std::size_t n = a.size(), m = b.size();
  std::vector<std::vector<std::size_t>> d(n + 1, std::vector<std::size_t>(m + 1));
  for (std::size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= n; ++i) {
    for (std::size_t j = 1; j <= m; ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[n][m];
}

std::size_t typo_budget(std::string_view s) { return s.size() <= 3 ? 1 : s.size() <= 6 ? 2 : 3; }

/// The known name closest to `got`, if close enough to be a typo of it.
std::optional<std::string> nearest(std::string_view got, const std::vector<std::string>& known) {
  std::optional<std::string> best;
  std::size_t best_d = std::numeric_limits<std::size_t>::max();
  const std::string g = lower(got);
  for (const auto& k : known) {
    const std::size_t d = edit_distance(g, lower(k));
    if (d < best_d) {
      best_d = d;
      best = k;
    }
  }
  if (!best || best_d > typo_budget(got)) return std::nullopt;
  return best;
}

std::string join(const std::vector<std::string>& items, std::string_view sep = ", ") {
  std::string out;
  for (const auto& i : items) {
    if (!out.empty()) out += sep;
    out += i;
  }
  return out;
}

std::string q(std::string_view s) { return json(std::string(s)).dump(-1, ' ', false, json::error_handler_t::replace); }

/// "; did you mean "x"?" or "; expected one of a, b" (short lists) or "".
std::string hint(std::string_view got, const std::vector<std::string>& known) {
  if (auto n = nearest(got, known)) return "; did you mean " + q(*n) + "?";
  if (!known.empty() && known.size() <= 12) return "; expected one of " + join(known);
  return {};
}

/// How a JSON value reads in "found …".
std::string describe(const json& j) {
  switch (j.type()) {
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    case json::value_t::null: return "null";
    case json::value_t::string: {
      std::string s = j.get<std::string>();
      if (s.size() > 40) s = s.substr(0, 37) + "...";
      return q(s);
    }
    default: return j.dump(-1, ' ', false, json::error_handler_t::replace);
  }
}

bool valid_host_port(std::string_view s) {
  const auto colon = s.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 >= s.size()) return false;
  const auto port = s.substr(colon + 1);
  if (port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  const int p = std::stoi(std::string(port));
  return p >= 1 && p <= 65535;
}

/// An operator given as a number prefix: "0812", "62812", "+62812" → "+62812"; nullopt otherwise.
std::optional<std::string> operator_prefix(std::string_view v) {
  std::string digits(v.starts_with("+") ? v.substr(1) : v);
  if (digits.empty() || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  if (digits.starts_with("0")) digits = "62" + digits.substr(1);
  if (!digits.starts_with("628") || digits.size() < 5 || digits.size() > 13) return std::nullopt;
  return "+" + digits;
}

bool valid_clock(std::string_view s) {
  if (s.size() != 5 || s[2] != ':') return false;
  for (std::size_t i : {0u, 1u, 3u, 4u})
    if (s[i] < '0' || s[i] > '9') return false;
  const int h = (s[0] - '0') * 10 + (s[1] - '0');
  const int m = (s[3] - '0') * 10 + (s[4] - '0');
  return h < 24 && m < 60;
}

bool valid_timezone(std::string_view tz) {
  if (tz.empty() || tz.front() == '/' || tz.find("..") != std::string_view::npos) return false;
  const fs::path zoneinfo = "/usr/share/zoneinfo";
  std::error_code ec;
  // Without tzdata installed (minimal containers) only the form can be checked.
  if (!fs::is_directory(zoneinfo, ec)) return tz.find('/') != std::string_view::npos || tz == "UTC";
  return fs::is_regular_file(zoneinfo / std::string(tz), ec);
}

/// A holiday as the admin writes it: "YYYY-MM-DD", a real calendar day; else why not.
struct parsed_date {
  std::optional<std::chrono::sys_days> day;
  std::string error;
};

parsed_date parse_iso_date(std::string_view s) {
  const bool shape = s.size() == 10 && s[4] == '-' && s[7] == '-' &&
                     std::all_of(s.begin(), s.end(), [](char c) { return c == '-' || (c >= '0' && c <= '9'); });
  if (!shape) return {std::nullopt, "expected a date \"YYYY-MM-DD\" such as \"2026-12-25\", found " + q(s)};
  auto number = [&](std::size_t from, std::size_t n) {
    int v = 0;
    for (std::size_t i = from; i < from + n; ++i) v = v * 10 + (s[i] - '0');
    return v;
  };
  const int y = number(0, 4), m = number(5, 2), d = number(8, 2);
  // A year far from now is a typo (2062 for 2026 cannot be told apart, 0206 can).
  if (y < 2000 || y > 2099) return {std::nullopt, q(s) + " is not a date this config can mean: the year must be 2000 to 2099"};
  if (m < 1 || m > 12) return {std::nullopt, q(s) + " is not a date: there is no month " + std::to_string(m)};
  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{static_cast<unsigned>(m)},
                                        std::chrono::day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) {
    const auto last = std::chrono::year_month_day_last{ymd.year(), std::chrono::month_day_last{ymd.month()}}.day();
    static constexpr std::array<const char*, 12> months{"January", "February", "March",     "April",   "May",      "June",
                                                        "July",    "August",   "September", "October", "November", "December"};
    return {std::nullopt, fmt::format("{} is not a date: {} {} has {} days", q(s), months[static_cast<std::size_t>(m - 1)], y,
                                      static_cast<unsigned>(last))};
  }
  return {std::chrono::sys_days{ymd}, {}};
}

std::optional<std::string> read_file(const fs::path& p, std::string& why) {
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    why = std::strerror(errno);
    return std::nullopt;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) {
    why = "read error";
    return std::nullopt;
  }
  return ss.str();
}

// ---------------------------------------------------------------------------------------------
// Key tables (docs/config.md lists the same keys)

const std::vector<std::string> top_keys{"village", "storage", "http", "channels", "groups", "subscribers",
                                        "subscribers_csv", "officers", "keywords", "tags", "info", "replies",
                                        "limits", "unmatched", "ticket_prefix"};
const std::vector<std::string> village_keys{"name", "region", "timezone", "country", "holidays", "holidays_file"};
const std::vector<std::string> storage_keys{"path"};
const std::vector<std::string> http_keys{"listen", "webhook_listen"};
const std::vector<std::string> channel_common_keys{"name", "type", "tps", "window", "durable_lag", "hourly_cap", "daily_cap",
                                                   "price_per_part", "max_attempts", "transliterate"};
const std::vector<std::string> sim_keys{"dlr_delay_ms", "fail_rate", "transient_fail_rate"};
const std::vector<std::string> smpp_keys{"host", "port", "system_id", "password_file", "system_type", "bind",
                                         "sessions", "source_addr", "source_ton", "source_npi", "enquire_link_s",
                                         "response_timeout_s", "reconnect_max_s", "registered_delivery",
                                         "packed_gsm7", "use_message_payload"};
const std::vector<std::string> whatsapp_keys{"api_base",        "api_version",       "phone_number_id", "token_file",
                                             "app_secret_file", "verify_token_file", "templates"};
const std::vector<std::string> modem_keys{"device",       "baud",       "pin_file",        "smsc",
                                          "status_reports", "ussd_balance", "balance_check_h", "balance_warn_below",
                                          "operators"};
const std::vector<std::string> http_channel_keys{"method",      "url",           "body",         "fields",
                                         "body_template", "headers",     "auth_header",  "auth_file",
                                         "secret_files", "to_format",    "country_code", "from",
                                         "id_pointer",  "success",      "error_code_pointer", "errors",
                                         "callback",    "request_timeout_ms", "down_time_ms", "verify_tls"};
const std::vector<std::string> http_success_keys{"status_min", "status_max", "json_pointer", "equals", "body_contains"};
const std::vector<std::string> http_error_keys{"status", "code", "body_contains", "action"};
const std::vector<std::string> http_callback_keys{"enabled",     "format",           "items_pointer", "fields",
                                                  "status_map",  "check",            "secret_name",   "secret_file",
                                                  "encoding",    "signature_prefix", "reply",         "max_body_bytes"};
const std::vector<std::string> http_callback_field_keys{"from", "to", "text", "provider_id", "status", "error", "timestamp"};
const std::vector<std::string> channel_types{"sim", "smpp", "whatsapp", "modem", "http"};
const std::vector<std::string> group_keys{"id", "name", "description", "self_subscribe", "relay", "members_csv",
                                          "everyone"};
const std::vector<std::string> subscriber_keys{"phone", "name", "groups", "channel"};
const std::vector<std::string> officer_keys{"phone", "name", "role", "tags", "groups"};
const std::vector<std::string> limits_keys{"inbound_per_minute", "auto_replies_per_hour", "quiet_hours_start",
                                           "quiet_hours_end",    "retry_base_s",          "retry_max_s",
                                           "dedupe_window_s",    "reminder_time",         "first_answer_days",
                                           "resolution_days"};
// The commands intake/ knows (intake/settings.cpp keyword_specs), by their Indonesian names.
const std::vector<std::string> commands{"DAFTAR", "BERHENTI", "ASPIRASI", "LAPOR",   "TANYA",  "CEK",   "INFO",
                                        "HOAKS",  "KIRIM",    "BANTUAN",  "BALAS",   "SELESAI", "SETUJU"};

// Secrets live in files readable only by the service (DESIGN.md "Secrets never appear in logs").
const std::vector<std::string> secret_keys{"password", "token", "app_secret", "verify_token", "secret",
                                           "api_key", "access_token", "pin"};

// CSV header names, English and the Indonesian a village spreadsheet is likely to use.
struct column_alias {
  std::string_view header;
  std::string_view column;
};
constexpr std::array<column_alias, 14> column_aliases{{{"phone", "phone"},
                                                       {"hp", "phone"},
                                                       {"no_hp", "phone"},
                                                       {"nomor", "phone"},
                                                       {"nomor_hp", "phone"},
                                                       {"telepon", "phone"},
                                                       {"name", "name"},
                                                       {"nama", "name"},
                                                       {"groups", "groups"},
                                                       {"group", "groups"},
                                                       {"grup", "groups"},
                                                       {"kelompok", "groups"},
                                                       {"channel", "channel"},
                                                       {"kanal", "channel"}}};

// ---------------------------------------------------------------------------------------------

/// A value in the document with its JSON pointer (for positions) and its readable path (for messages).
struct node {
  const json* value = nullptr;
  std::string pointer;
  std::string shown;

  const json& operator*() const { return *value; }
  const json* operator->() const { return value; }

  node member(std::string_view key) const {
    node n;
    n.value = value->is_object() && value->contains(key) ? &(*value)[std::string(key)] : nullptr;
    n.pointer = pointer + "/" + pointer_token(key);
    n.shown = shown.empty() ? std::string(key) : shown + "." + std::string(key);
    return n;
  }
  node element(std::size_t i) const {
    node n;
    n.value = &(*value)[i];
    n.pointer = pointer + "/" + std::to_string(i);
    n.shown = shown + "[" + std::to_string(i) + "]";
    return n;
  }
  explicit operator bool() const { return value != nullptr; }
};

class loader {
 public:
  loader(std::string_view text, fs::path file) : text_(text), file_(std::move(file)) {
    cfg_.file = file_;
    base_ = file_.parent_path();
  }

  load_result run() {
    json root;
    try {
      root = json::parse(text_, nullptr, true, /*ignore_comments=*/true);
    } catch (const json::parse_error& e) {
      // nlohmann: "[json.exception.parse_error.101] parse error at line 3, column 5: <what>"
      std::string what = e.what();
      if (auto p = what.find(": "); p != std::string::npos) what = what.substr(p + 2);
      const auto at = position_of_byte(text_, e.byte == 0 ? 0 : e.byte - 1);
      if (what.find("- unexpected ']'") != std::string::npos || what.find("- unexpected '}'") != std::string::npos)
        what += " (JSON allows no comma before a closing bracket)";
      else if (what.find("; expected '}'") != std::string::npos || what.find("; expected ']'") != std::string::npos)
        what += " (is a comma missing before it?)";
      errors_.push_back({file_.string(), at.line, at.column, "JSON " + what});
      return finish();
    } catch (const json::out_of_range& e) {
      // nlohmann refuses a number beyond a double's range (out_of_range.406, "number overflow parsing
      // '1e999'") without a byte position: find the token it quotes to point at it.
      std::string what = e.what();
      if (auto p = what.find("] "); p != std::string::npos) what.erase(0, p + 2);
      text_position at{1, 1};
      if (const auto open = what.find('\''), close = what.rfind('\'');
          open != std::string::npos && close > open + 1) {
        if (const auto byte = text_.find(std::string_view(what).substr(open + 1, close - open - 1));
            byte != std::string_view::npos)
          at = position_of_byte(text_, byte);
      }
      errors_.push_back({file_.string(), at.line, at.column,
                         "JSON " + what + " (the number is too large for any setting; write a smaller one)"});
      return finish();
    }
    index_ = index_json(text_);
    for (const auto& d : index_.duplicates) {
      const auto key = d.pointer.substr(d.pointer.rfind('/') + 1);
      add(d.second, fmt::format("key {} appears twice in the same object (first at line {}, column {}); "
                                "only the last one would count",
                                q(key), d.first.line, d.first.column));
    }
    const node top{&root, "", ""};
    if (!root.is_object()) {
      fail(top, "the config must be a JSON object {…}, found " + describe(root));
      return finish();
    }
    check_keys(top, top_keys);

    village(top.member("village"));
    storage(top.member("storage"));
    http(top.member("http"));
    channels(top.member("channels"));
    groups(top.member("groups"));
    tags(top.member("tags"));
    info(top.member("info"));
    keywords(top.member("keywords"));
    replies(top.member("replies"));
    limits(top.member("limits"));
    if (auto n = top.member("unmatched")) {
      read(n, cfg_.unmatched);
      if (cfg_.unmatched != "aspiration" && cfg_.unmatched != "help")
        fail(n, "expected \"aspiration\" or \"help\", found " + describe(*n));
    }
    if (auto n = top.member("ticket_prefix")) {
      read(n, cfg_.ticket_prefix);
      // Letters only: a ticket is the prefix then digits ("A0123"), so a digit would be ambiguous.
      const auto& p = cfg_.ticket_prefix;
      if (p.empty() || p.size() > 8 || !std::all_of(p.begin(), p.end(), [](char c) { return c >= 'A' && c <= 'Z'; }))
        fail(n, "expected 1 to 8 capital letters, found " + describe(*n));
    }
    subscribers(top.member("subscribers"));
    if (auto n = top.member("subscribers_csv")) csv_list(n, "");
    for (const auto& [group, where] : group_csvs_) csv_list(where, group);
    everyone();
    officers(top.member("officers"));
    return finish();
  }

 private:
  // ----- errors --------------------------------------------------------------------------------

  void add(text_position at, std::string message) {
    errors_.push_back({file_.string(), at.line, at.column, std::move(message)});
  }
  text_position value_at(const node& n) const {
    auto it = index_.at.find(n.pointer);
    return it == index_.at.end() ? text_position{} : it->second.value;
  }
  text_position key_at(const node& n) const {
    auto it = index_.at.find(n.pointer);
    if (it == index_.at.end()) return {};
    return it->second.key.line != 0 ? it->second.key : it->second.value;
  }
  std::string prefixed(const node& n, std::string_view message) const {
    return n.shown.empty() ? std::string(message) : n.shown + ": " + std::string(message);
  }
  /// A problem with a value: reported where the value starts.
  void fail(const node& n, std::string_view message) { add(value_at(n), prefixed(n, message)); }
  /// A file the config names, or an error at the key that names it (nullopt).
  std::optional<std::string> read_file_or_fail(const node& n, const fs::path& p) {
    std::string why;
    auto text = read_file(p, why);
    if (!text) fail(n, fmt::format("cannot read {}: {}", q(p.string()), why));
    return text;
  }

  /// Where something was listed: a row of a CSV file (`file` > 0, listed_files_) or a value in the
  /// config file (`file` 0, with its column). Three numbers, not a text: the duplicate check keeps one
  /// per phone, and a district lists a million.
  struct place {
    std::uint32_t file = 0;
    std::uint32_t line = 0;
    std::uint32_t column = 0;
  };

  place place_of(const node& n) const {
    const auto p = value_at(n);
    return {0, static_cast<std::uint32_t>(p.line), static_cast<std::uint32_t>(p.column)};
  }

  /// "kentongan.json:12:16" for the config file, "anggota.csv:5" for a CSV row.
  std::string where(const place& p) const {
    if (p.file == 0) return fmt::format("{}:{}:{}", file_.filename().string(), p.line, p.column);
    return fmt::format("{}:{}", listed_files_[p.file - 1], p.line);
  }

  std::string where(const node& n) const { return where(place_of(n)); }

  // ----- shapes --------------------------------------------------------------------------------

  bool expect(const node& n, json::value_t t, std::string_view what) {
    const bool ok = n->type() == t || (t == json::value_t::number_float && n->is_number()) ||
                    (t == json::value_t::number_integer && n->is_number_integer());
    if (!ok) fail(n, fmt::format("expected {}, found {}", what, describe(*n)));
    return ok;
  }
  bool expect_object(const node& n) { return expect(n, json::value_t::object, "an object {…}"); }
  /// A key that takes a list: a lone value where the list belongs (`"groups": "petani"`) is refused
  /// with the list it should have been. `what` names the items; `example` is used unless the value is a
  /// single string, which is shown inside the brackets it needs.
  bool expect_list(const node& n, std::string_view what, std::string_view example) {
    if (n->is_array()) return true;
    const std::string like = n->is_string() ? "[" + q(n->get<std::string>()) + "]" : std::string(example);
    fail(n, fmt::format("expected a list of {}, like {}, found {}", what, like, describe(*n)));
    return false;
  }

  /// An object's keys in the order the file writes them (nlohmann sorts them).
  std::vector<std::string> keys_in_file_order(const node& n) const {
    std::vector<std::pair<text_position, std::string>> keys;
    for (const auto& [key, _] : n->items()) keys.emplace_back(key_at(n.member(key)), key);
    std::stable_sort(keys.begin(), keys.end(), [](const auto& a, const auto& b) {
      return std::tie(a.first.line, a.first.column) < std::tie(b.first.line, b.first.column);
    });
    std::vector<std::string> out;
    for (auto& k : keys) out.push_back(std::move(k.second));
    return out;
  }

  /// Unknown keys are errors naming the nearest known key; secret-looking keys say where secrets go.
  void check_keys(const node& n, const std::vector<std::string>& known) {
    for (const auto& [key, _] : n->items()) {
      if (std::find(known.begin(), known.end(), key) != known.end()) continue;
      const node child = n.member(key);
      if (std::find(secret_keys.begin(), secret_keys.end(), lower(key)) != secret_keys.end()) {
        add(key_at(child), prefixed(n, fmt::format("{} must not be in the config: put the secret alone in a file "
                                                   "readable only by kentongan and give its path as {}",
                                                   q(key), q(lower(key) + "_file"))));
        suggested_.insert(n.pointer + "/" + pointer_token(lower(key) + "_file"));
        continue;
      }
      std::string message = "unknown key " + q(key);
      if (auto near = nearest(key, known)) {
        message += "; did you mean " + q(*near) + "?";
        suggested_.insert(n.pointer + "/" + pointer_token(*near));
      } else {
        message += "; known keys are " + join(known);
      }
      add(key_at(child), prefixed(n, message));
    }
  }

  void read(const node& n, std::string& out) {
    if (expect(n, json::value_t::string, "a string")) out = n->get<std::string>();
  }
  void read(const node& n, bool& out) {
    if (expect(n, json::value_t::boolean, "true or false")) out = n->get<bool>();
  }
  void read(const node& n, double& out, double min, double max) {
    if (!expect(n, json::value_t::number_float, "a number")) return;
    const double v = n->get<double>();
    if (v < min || v > max) {
      fail(n, fmt::format("must be between {} and {}, found {}", min, max, describe(*n)));
      return;
    }
    out = v;
  }
  template <typename Int>
  void read(const node& n, Int& out, std::int64_t min, std::int64_t max) {
    if (!expect(n, json::value_t::number_integer, "a whole number")) return;
    const auto v = n->is_number_unsigned() && n->get<std::uint64_t>() > static_cast<std::uint64_t>(max)
                       ? max + 1
                       : n->get<std::int64_t>();
    if (v < min || v > max) {
      if (max == std::numeric_limits<std::int32_t>::max())
        fail(n, fmt::format("must be at least {}, found {}", min, describe(*n)));
      else
        fail(n, fmt::format("must be between {} and {}, found {}", min, max, describe(*n)));
      return;
    }
    out = static_cast<Int>(v);
  }
  template <typename T, typename... Range>
  void opt(const node& parent, std::string_view key, T& out, Range... range) {
    if (auto n = parent.member(key)) read(n, out, range...);
  }
  /// A string that names a path, resolved against the config file's folder.
  void path(const node& parent, std::string_view key, std::string& out, bool must_exist) {
    auto n = parent.member(key);
    if (!n) return;
    std::string p;
    read(n, p);
    if (!n->is_string()) return;
    if (p.empty()) {
      fail(n, "must not be empty");
      return;
    }
    // Secrets handed over by systemd's LoadCredential= live in $CREDENTIALS_DIRECTORY (%d in the unit).
    if (key.size() > 5 && key.substr(key.size() - 5) == "_file") {
      const char* dir = std::getenv("CREDENTIALS_DIRECTORY");
      auto expanded = expand_credentials(p, dir ? dir : "");
      if (!expanded.error.empty()) {
        fail(n, expanded.error);
        return;
      }
      p = std::move(expanded.path);
    }
    const fs::path full = base_ / p;
    std::error_code ec;
    if (must_exist && !fs::exists(full, ec)) {
      fail(n, fmt::format("file {} does not exist", q(full.string())));
      return;
    }
    if (must_exist && !fs::is_regular_file(full, ec)) {
      fail(n, fmt::format("{} is not a regular file", q(full.string())));
      return;
    }
    out = full.string();
  }
  const json* require(const node& parent, std::string_view key) {
    if (auto n = parent.member(key)) return n.value;
    // Already reported as the likely typo of this key: one mistake, one message.
    if (!suggested_.count(parent.member(key).pointer)) fail(parent, "missing required key " + q(key));
    return nullptr;
  }

  // ----- sections ------------------------------------------------------------------------------

  void village(const node& n) {
    if (!n) {
      add({1, 1}, "missing required key \"village\" (at least {\"name\": \"Desa …\"})");
      return;
    }
    if (!expect_object(n)) return;
    check_keys(n, village_keys);
    if (require(n, "name")) {
      read(n.member("name"), cfg_.village.name);
      if (n.member("name")->is_string() && trim(cfg_.village.name).empty()) fail(n.member("name"), "must not be empty");
    }
    opt(n, "region", cfg_.village.region);
    if (auto tz = n.member("timezone")) {
      read(tz, cfg_.village.timezone);
      if (tz->is_string() && !valid_timezone(cfg_.village.timezone))
        fail(tz, "unknown time zone " + describe(*tz) + "; expected a name such as \"Asia/Jakarta\", "
                 "\"Asia/Makassar\" or \"Asia/Jayapura\"");
    }
    if (auto c = n.member("country")) {
      read(c, cfg_.village.country);
      if (c->is_string() && !is_known_region(cfg_.village.country))
        fail(c, "unknown country code " + describe(*c) + "; expected two capital letters such as \"ID\"");
    }
    auto& days = cfg_.village.holidays;
    if (auto h = n.member("holidays"); h && expect_list(h, "dates", "[\"2026-12-25\"]")) {
      for (std::size_t i = 0; i < h->size(); ++i) {
        const node e = h.element(i);
        if (!expect(e, json::value_t::string, "a date \"YYYY-MM-DD\" such as \"2026-12-25\"")) continue;
        const auto d = parse_iso_date(e->get<std::string>());
        if (d.day) days.push_back(*d.day);
        else fail(e, d.error);
      }
    }
    path(n, "holidays_file", cfg_.village.holidays_file, true);
    if (!cfg_.village.holidays_file.empty()) holidays_file(n.member("holidays_file"));
    std::sort(days.begin(), days.end());
    days.erase(std::unique(days.begin(), days.end()), days.end());
  }

  /// One date per line, "# …" comments (whole-line or after the date), blank lines ignored: the
  /// national list (SKB libur nasional dan cuti bersama) pasted once a year.
  void holidays_file(const node& n) {
    const fs::path p = cfg_.village.holidays_file;
    const auto text = read_file_or_fail(n, p);
    if (!text) return;
    const std::string name = p.string();
    std::istringstream lines(*text);
    int line_no = 0;
    for (std::string line; std::getline(lines, line);) {
      ++line_no;
      if (line_no == 1 && line.starts_with("\xEF\xBB\xBF")) line.erase(0, 3);  // a BOM from a Windows editor
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const auto hash = line.find('#');
      const std::string_view content = std::string_view(line).substr(0, hash);
      const auto start = content.find_first_not_of(" \t");
      if (start == std::string_view::npos) continue;
      const auto end = content.find_first_of(" \t", start);
      const std::string_view word = content.substr(start, end == std::string_view::npos ? content.size() - start : end - start);
      const auto column = [&](std::size_t byte) { return position_of_byte(line, byte).column; };
      const auto d = parse_iso_date(word);
      if (!d.day) {
        errors_.push_back({name, line_no, column(start), d.error});
        continue;
      }
      if (end != std::string_view::npos) {
        if (const auto extra = content.find_first_not_of(" \t", end); extra != std::string_view::npos) {
          errors_.push_back({name, line_no, column(extra),
                             fmt::format("unexpected {} after the date; write one date per line and start a note "
                                         "with #, like \"{}  # {}\"",
                                         q(trim(content.substr(extra))), word, trim(content.substr(extra)))});
          continue;
        }
      }
      cfg_.village.holidays.push_back(*d.day);
    }
  }

  void storage(const node& n) {
    if (n && expect_object(n)) {
      check_keys(n, storage_keys);
      std::string p;
      path(n, "path", p, false);
      if (!p.empty()) cfg_.storage.path = p;
    }
    if (!n || !n.member("path")) cfg_.storage.path = (base_ / cfg_.storage.path).string();
  }

  void http(const node& n) {
    if (!n || !expect_object(n)) return;
    check_keys(n, http_keys);
    for (auto* key : {"listen", "webhook_listen"}) {
      auto v = n.member(key);
      if (!v) continue;
      std::string s;
      read(v, s);
      if (!v->is_string()) continue;
      if (!valid_host_port(s)) {
        fail(v, "expected HOST:PORT such as \"127.0.0.1:8787\", found " + describe(*v));
        continue;
      }
      (std::string_view(key) == "listen" ? cfg_.http.listen : cfg_.http.webhook_listen) = s;
    }
  }

  void channels(const node& n) {
    if (!n || !expect_list(n, "channels", R"([{"name": "sim", "type": "sim"}])")) return;
    std::map<std::string, node> seen;
    for (std::size_t i = 0; i < n->size(); ++i) {
      const node c = n.element(i);
      if (!expect_object(c)) continue;
      channel_settings ch;
      if (require(c, "name")) {
        const node name = c.member("name");
        read(name, ch.name);
        if (name->is_string()) {
          if (!is_slug(ch.name))
            fail(name, "a channel name is lower-case letters, digits, '-', '_' or '.', found " + describe(*name));
          else if (auto [it, fresh] = seen.emplace(ch.name, name); !fresh)
            fail(name, fmt::format("channel {} is defined twice (first at {})", q(ch.name), where(it->second)));
        }
      }
      std::vector<std::string> known = channel_common_keys;
      bool typed = false;
      if (require(c, "type")) {
        const node type = c.member("type");
        read(type, ch.type);
        if (type->is_string()) {
          typed = true;
          if (ch.type == "sim") {
            ch.settings = sim_channel{};
            known.insert(known.end(), sim_keys.begin(), sim_keys.end());
          } else if (ch.type == "smpp") {
            ch.settings = smpp_channel{};
            known.insert(known.end(), smpp_keys.begin(), smpp_keys.end());
          } else if (ch.type == "whatsapp") {
            ch.settings = whatsapp_channel{};
            known.insert(known.end(), whatsapp_keys.begin(), whatsapp_keys.end());
          } else if (ch.type == "modem") {
            ch.settings = modem_channel{};
            known.insert(known.end(), modem_keys.begin(), modem_keys.end());
            // AT allows one command in flight and a SIM sends a few parts a second at best.
            ch.tps = 0.5;
            ch.window = 1;
          } else if (ch.type == "http") {
            ch.settings = http_channel{};
            known.insert(known.end(), http_channel_keys.begin(), http_channel_keys.end());
            ch.tps = 5;
            ch.window = 5;
          } else {
            fail(type, "unknown channel type " + q(ch.type) + hint(ch.type, channel_types));
            typed = false;
          }
        }
      }
      if (!typed) {
        // Without a type, judge keys against every type's so that only real typos are reported.
        for (const auto* extra : {&sim_keys, &smpp_keys, &whatsapp_keys, &modem_keys, &http_channel_keys}) known.insert(known.end(), extra->begin(), extra->end());
      }
      check_keys(c, known);
      opt(c, "tps", ch.tps, 0.001, 100000.0);
      opt(c, "window", ch.window, 1, 100000);
      opt(c, "durable_lag", ch.durable_lag, 0, 1000000);
      opt(c, "hourly_cap", ch.hourly_cap, 0, std::numeric_limits<std::int32_t>::max());
      opt(c, "daily_cap", ch.daily_cap, 0, std::numeric_limits<std::int32_t>::max());
      opt(c, "price_per_part", ch.price_per_part, 0.0, 1e9);
      opt(c, "max_attempts", ch.max_attempts, 1, 100);
      opt(c, "transliterate", ch.transliterate);
      if (typed) std::visit([&](auto& s) { channel_specific(c, s); }, ch.settings);
      cfg_.channels.push_back(std::move(ch));
    }
  }

  void channel_specific(const node& c, sim_channel& s) {
    opt(c, "dlr_delay_ms", s.dlr_delay_ms, 0.0, 86400000.0);
    opt(c, "fail_rate", s.fail_rate, 0.0, 1.0);
    opt(c, "transient_fail_rate", s.transient_fail_rate, 0.0, 1.0);
  }

  void channel_specific(const node& c, smpp_channel& s) {
    if (require(c, "host")) opt(c, "host", s.host);
    opt(c, "port", s.port, 1, 65535);
    // SMPP 3.4 §5.2.1-5.2.3: system_id is at most 15 octets, system_type 12, source_addr 20.
    if (require(c, "system_id")) {
      opt(c, "system_id", s.system_id);
      if (s.system_id.size() > 15) fail(c.member("system_id"), "longer than the 15 characters SMPP allows");
    }
    if (require(c, "password_file")) path(c, "password_file", s.password_file, true);
    opt(c, "system_type", s.system_type);
    if (s.system_type.size() > 12) fail(c.member("system_type"), "longer than the 12 characters SMPP allows");
    if (auto b = c.member("bind")) {
      read(b, s.bind);
      if (b->is_string() && s.bind != "transmitter" && s.bind != "receiver" && s.bind != "transceiver")
        fail(b, "unknown bind " + describe(*b) + "; expected \"transmitter\", \"receiver\" or \"transceiver\"");
    }
    opt(c, "sessions", s.sessions, 1, 64);
    opt(c, "source_addr", s.source_addr);
    if (s.source_addr.size() > 20) fail(c.member("source_addr"), "longer than the 20 characters SMPP allows");
    opt(c, "source_ton", s.source_ton, 0, 6);
    opt(c, "source_npi", s.source_npi, 0, 18);
    opt(c, "enquire_link_s", s.enquire_link_s, 1, 3600);
    opt(c, "response_timeout_s", s.response_timeout_s, 1, 600);
    opt(c, "reconnect_max_s", s.reconnect_max_s, 1, 86400);
    opt(c, "registered_delivery", s.registered_delivery);
    opt(c, "packed_gsm7", s.packed_gsm7);
    opt(c, "use_message_payload", s.use_message_payload);
  }

  void channel_specific(const node& c, whatsapp_channel& s) {
    opt(c, "api_base", s.api_base);
    opt(c, "api_version", s.api_version);
    if (require(c, "phone_number_id")) {
      const node id = c.member("phone_number_id");
      read(id, s.phone_number_id);
      if (id->is_string() && (s.phone_number_id.empty() ||
                              !std::all_of(s.phone_number_id.begin(), s.phone_number_id.end(),
                                           [](char ch) { return ch >= '0' && ch <= '9'; })))
        fail(id, "expected the numeric Phone Number ID from Meta (not the phone number itself), found " + describe(*id));
    }
    if (require(c, "token_file")) path(c, "token_file", s.token_file, true);
    path(c, "app_secret_file", s.app_secret_file, true);
    path(c, "verify_token_file", s.verify_token_file, true);
    if (auto t = c.member("templates"); t && expect_object(t)) {
      for (const auto& [purpose, _] : t->items()) {
        std::string name;
        read(t.member(purpose), name);
        if (t.member(purpose)->is_string()) s.templates[purpose] = name;
      }
    }
  }

  void channel_specific(const node& c, modem_channel& s) {
    if (require(c, "device")) {
      const node d = c.member("device");
      read(d, s.device);
      if (d->is_string() && !s.device.starts_with("/"))
        fail(d, "expected the modem's device path such as \"/dev/ttyUSB0\", found " + describe(*d));
    }
    if (auto b = c.member("baud")) {
      static const std::vector<std::string> rates{"9600",   "19200",  "38400",  "57600",
                                                  "115200", "230400", "460800", "921600"};
      unsigned baud = 0;
      read(b, baud, 1, std::numeric_limits<std::int32_t>::max());
      if (baud != 0) {
        if (std::find(rates.begin(), rates.end(), std::to_string(baud)) == rates.end())
          fail(b, fmt::format("unsupported baud rate {}; expected one of {}", baud, join(rates)));
        else
          s.baud = baud;
      }
    }
    path(c, "pin_file", s.pin_file, true);
    if (auto m = c.member("smsc")) {
      read(m, s.smsc);
      if (m->is_string() && (s.smsc.size() < 4 || s.smsc.size() > 21 || s.smsc[0] != '+' ||
                             !std::all_of(s.smsc.begin() + 1, s.smsc.end(), [](char ch) { return ch >= '0' && ch <= '9'; })))
        fail(m, "expected the service centre number in international form such as \"+62816124\", found " +
                    describe(*m));
    }
    opt(c, "status_reports", s.status_reports);
    if (auto u = c.member("ussd_balance")) {
      read(u, s.ussd_balance);
      // 22.030 §6.5.2: a USSD string is *, #, digits, and ends with #.
      const bool ok = s.ussd_balance.size() >= 2 && s.ussd_balance.size() <= 40 &&
                      (s.ussd_balance[0] == '*' || s.ussd_balance[0] == '#') && s.ussd_balance.back() == '#' &&
                      std::all_of(s.ussd_balance.begin(), s.ussd_balance.end(),
                                  [](char ch) { return ch == '*' || ch == '#' || (ch >= '0' && ch <= '9'); });
      if (u->is_string() && !ok) fail(u, "expected a USSD code such as \"*888#\", found " + describe(*u));
    }
    opt(c, "balance_check_h", s.balance_check_h, 0, 24 * 31);
    opt(c, "balance_warn_below", s.balance_warn_below, 0.0, 1e12);
    if (auto o = c.member("operators"); o && expect_list(o, "operators or number prefixes", R"(["telkomsel", "0812"])")) {
      for (std::size_t i = 0; i < o->size(); ++i) {
        const node e = o.element(i);
        std::string v;
        read(e, v);
        if (!e->is_string()) continue;
        if (auto prefix = operator_prefix(v)) {
          s.operators.push_back(*prefix);
          continue;
        }
        const std::string name = lower(trim(v));
        const auto& known_ops = known_operators();
        if (std::find(known_ops.begin(), known_ops.end(), name) != known_ops.end()) {
          s.operators.push_back(name);
          continue;
        }
        std::string message = "unknown operator " + describe(*e);
        if (auto n = nearest(name, known_ops))
          message += "; did you mean " + q(*n) + "?";
        else
          message += "; expected one of " + join(known_ops) + " or a number prefix such as \"0812\"";
        fail(e, message);
      }
    }
  }

  /// One of `words` (the protocol's names for an enum), with a "did you mean" for typos.
  template <typename Parse>
  void word(const node& parent, std::string_view key, const std::vector<std::string>& words, Parse parse,
            auto& out) {
    auto n = parent.member(key);
    if (!n) return;
    std::string v;
    read(n, v);
    if (!n->is_string()) return;
    if (auto parsed = parse(v)) {
      out = *parsed;
      return;
    }
    fail(n, "unknown value " + describe(*n) + hint(v, words));
  }
  /// An object of strings, in the file's order (the order of query and form fields matters).
  void string_pairs(const node& parent, std::string_view key, std::vector<std::pair<std::string, std::string>>& out) {
    auto n = parent.member(key);
    if (!n || !expect_object(n)) return;
    for (const auto& k : keys_in_file_order(n)) {
      std::string v;
      read(n.member(k), v);
      if (n.member(k)->is_string()) out.emplace_back(k, v);
    }
  }

  void channel_specific(const node& c, http_channel& h) {
    auto& s = h.settings;
    s.name = lower(c.member("name") && c.member("name")->is_string() ? c.member("name")->get<std::string>() : "");
    word(c, "method", {"get", "post"}, http::parse_http_method, s.method);
    if (require(c, "url")) opt(c, "url", s.url);
    word(c, "body", {"none", "query", "form", "json"}, http::parse_body_kind, s.body);
    string_pairs(c, "fields", s.fields);
    if (auto t = c.member("body_template")) s.body_template = t->dump();
    string_pairs(c, "headers", s.headers);
    opt(c, "auth_header", s.auth_header);
    path(c, "auth_file", h.auth_file, true);
    if (auto f = c.member("secret_files"); f && expect_object(f)) {
      for (const auto& k : keys_in_file_order(f)) {
        std::string p;
        path(f, k, p, true);
        if (!p.empty()) h.secret_files[k] = p;
      }
    }
    word(c, "to_format", {"e164", "msisdn", "national"}, http::parse_number_format, s.to_format);
    opt(c, "country_code", s.country_code);
    opt(c, "from", s.from);
    opt(c, "id_pointer", s.id_pointer);
    if (auto n = c.member("success"); n && expect_object(n)) {
      check_keys(n, http_success_keys);
      opt(n, "status_min", s.success.status_min, 100, 599);
      opt(n, "status_max", s.success.status_max, 100, 599);
      opt(n, "json_pointer", s.success.json_pointer);
      scalar_text(n, "equals", s.success.equals);
      opt(n, "body_contains", s.success.body_contains);
    }
    opt(c, "error_code_pointer", s.error_code_pointer);
    if (auto n = c.member("errors"); n && expect_list(n, "error rules", R"([{"status": 429, "action": "slow_down"}])")) {
      for (std::size_t i = 0; i < n->size(); ++i) {
        const node e = n.element(i);
        if (!expect_object(e)) continue;
        check_keys(e, http_error_keys);
        http::error_rule rule;
        opt(e, "status", rule.status, 0, 599);
        scalar_text(e, "code", rule.code);
        opt(e, "body_contains", rule.body_contains);
        if (require(e, "action"))
          word(e, "action", {"retry", "slow_down", "permanent", "stop_channel"}, http::parse_error_action, rule.action);
        s.errors.push_back(rule);
      }
    }
    if (auto n = c.member("callback"); n && expect_object(n)) {
      auto& cb = s.callback;
      check_keys(n, http_callback_keys);
      cb.enabled = true;
      opt(n, "enabled", cb.enabled);
      word(n, "format", {"auto", "query", "form", "json"}, http::parse_callback_format, cb.format);
      opt(n, "items_pointer", cb.items_pointer);
      if (auto f = n.member("fields"); f && expect_object(f)) {
        check_keys(f, http_callback_field_keys);
        opt(f, "from", cb.fields.from);
        opt(f, "to", cb.fields.to);
        opt(f, "text", cb.fields.text);
        opt(f, "provider_id", cb.fields.provider_id);
        opt(f, "status", cb.fields.status);
        opt(f, "error", cb.fields.error);
        opt(f, "timestamp", cb.fields.timestamp);
      }
      if (auto m = n.member("status_map"); m && expect_object(m)) {
        for (const auto& k : keys_in_file_order(m)) {
          http::report_state st = http::report_state::ignore;
          word(m, k, {"delivered", "failed", "expired", "ignore"}, http::parse_report_state, st);
          cb.status_map[k] = st;
        }
      }
      word(n, "check", {"none", "header", "query", "hmac_sha256"}, http::parse_secret_check, cb.check);
      opt(n, "secret_name", cb.secret_name);
      path(n, "secret_file", h.callback_secret_file, true);
      word(n, "encoding", {"hex", "base64"}, http::parse_signature_encoding, cb.encoding);
      opt(n, "signature_prefix", cb.signature_prefix);
      opt(n, "reply", cb.reply);
      std::int64_t max_body = static_cast<std::int64_t>(cb.max_body_bytes);
      opt(n, "max_body_bytes", max_body, 1, 64 * 1024 * 1024);
      cb.max_body_bytes = static_cast<std::size_t>(max_body);
      if (cb.check != http::secret_check::none && h.callback_secret_file.empty() && !n.member("secret_file"))
        fail(n, fmt::format("check {} needs \"secret_file\"", q(http::to_string(cb.check))));
    }
    std::int64_t timeout_ms = s.request_timeout.count(), down_ms = s.down_time.count();
    opt(c, "request_timeout_ms", timeout_ms, 1, 600000);
    opt(c, "down_time_ms", down_ms, 1, 86400000);
    s.request_timeout = std::chrono::milliseconds{timeout_ms};
    s.down_time = std::chrono::milliseconds{down_ms};
    opt(c, "verify_tls", s.verify_tls);

    // The protocol's own checks (placeholders, pointers, combinations), with stand-ins for the
    // secrets that are read only at start-up.
    auto probe = s;
    for (const auto& [k, _] : h.secret_files) probe.secrets[k] = "x";
    if (!h.callback_secret_file.empty()) probe.callback.secret = "x";
    if (!h.auth_file.empty()) probe.auth_value = "x";
    for (const auto& problem : http::validate(probe)) {
      if (problem.starts_with("callback.secret_file: the secret is empty")) continue;  // reported above
      if (s.url.empty() && problem.starts_with("url:")) continue;                    // "missing required key"
      // "url: …", "callback.items_pointer: …": at that key when the file has it, else at the channel.
      const auto colon = problem.find(": ");
      node at = c;
      std::string message = problem;
      if (colon != std::string::npos) {
        // As deep as the file goes: "callback.secret_name" without that key is told at "callback".
        std::string_view path_text(problem.data(), colon);
        while (!path_text.empty()) {
          const auto dot = path_text.find('.');
          const node next = at.member(path_text.substr(0, dot));
          if (!next || !at->is_object()) break;
          at = next;
          path_text = dot == std::string_view::npos ? std::string_view{} : path_text.substr(dot + 1);
        }
        message = path_text.empty() ? problem.substr(colon + 2) : std::string(path_text) + problem.substr(colon);
      }
      fail(at, message);
    }
  }
  /// A value compared as text: a string as written, a number or boolean as JSON writes it.
  void scalar_text(const node& parent, std::string_view key, std::string& out) {
    auto n = parent.member(key);
    if (!n) return;
    if (n->is_string())
      out = n->get<std::string>();
    else if (n->is_number() || n->is_boolean())
      out = n->dump();
    else
      fail(n, "expected a string or a number, found " + describe(*n));
  }

  void groups(const node& n) {
    if (!n || !expect_list(n, "groups", R"([{"id": "petani"}])")) return;
    for (std::size_t i = 0; i < n->size(); ++i) {
      const node g = n.element(i);
      if (!expect_object(g)) continue;
      check_keys(g, group_keys);
      core::group grp;
      if (require(g, "id")) {
        const node id = g.member("id");
        read(id, grp.id);
        if (id->is_string()) {
          if (!is_slug(grp.id)) {
            fail(id, "a group id is lower-case letters, digits, '-', '_' or '.', found " + describe(*id));
            grp.id.clear();
          } else if (auto it = group_at_.find(grp.id); it != group_at_.end()) {
            fail(id, fmt::format("group {} is defined twice (first at {})", q(grp.id), where(it->second)));
            grp.id.clear();
          } else {
            group_at_.emplace(grp.id, id);
            group_ids_.push_back(grp.id);
          }
        }
      }
      opt(g, "name", grp.name);
      opt(g, "description", grp.description);
      opt(g, "self_subscribe", grp.self_subscribe);
      if (auto r = g.member("relay")) {
        std::string s;
        read(r, s);
        if (r->is_string()) {
          if (auto p = core::parse_relay_policy(s)) grp.relay = *p;
          else fail(r, "unknown relay policy " + describe(*r) + "; expected \"off\", \"open\" or \"moderated\"");
        }
      }
      bool all = false;
      opt(g, "everyone", all);
      if (grp.id.empty()) continue;
      if (all) everyone_.push_back(grp.id);
      if (auto m = g.member("members_csv")) group_csvs_.emplace_back(grp.id, m);
      if (grp.name.empty()) grp.name = grp.id;
      cfg_.groups.push_back(std::move(grp));
    }
  }

  void tags(const node& n) {
    if (!n || !expect_object(n)) return;
    for (const auto& tag : keys_in_file_order(n)) {
      const node t = n.member(tag);
      if (!is_slug(tag)) {
        add(key_at(t), prefixed(n, "a tag is lower-case letters, digits, '-', '_' or '.', found " + q(tag)));
        continue;
      }
      tag_rule rule{tag, {}};
      if (!expect_list(t, "words", R"(["jalan", "jembatan"])")) continue;
      for (std::size_t i = 0; i < t->size(); ++i) {
        const node w = t.element(i);
        std::string word;
        read(w, word);
        if (!w->is_string()) continue;
        word = lower(trim(word));
        if (word.empty()) fail(w, "must not be empty");
        else rule.words.push_back(std::move(word));
      }
      tag_names_.push_back(tag);
      cfg_.tags.push_back(std::move(rule));
    }
  }

  void info(const node& n) {
    if (!n || !expect_object(n)) return;
    for (const auto& topic : keys_in_file_order(n)) {
      const node t = n.member(topic);
      const json& value = *t;
      if (!is_word(upper(topic))) {
        add(key_at(t), prefixed(n, "an info topic is one word of letters or digits, found " + q(topic)));
        continue;
      }
      info_page page{upper(topic), {}};
      // An array of strings is a page written line by line, easier to read in the config.
      if (value.is_array()) {
        for (std::size_t i = 0; i < value.size(); ++i) {
          const node line = t.element(i);
          std::string s;
          read(line, s);
          if (!page.text.empty() || i > 0) page.text += '\n';
          page.text += s;
        }
      } else if (value.is_string()) {
        page.text = value.get<std::string>();
      } else {
        fail(t, "expected a string or an array of lines, found " + describe(value));
        continue;
      }
      if (trim(page.text).empty()) fail(t, "must not be empty");
      cfg_.info.push_back(std::move(page));
    }
  }

  // Only what the admin writes: intake/ merges it over its own default words (with typo forms)
  // and reports a word shared with a default of another command.
  void keywords(const node& n) {
    if (!n || !expect_object(n)) return;
    std::map<std::string, std::string> owner;  // word → command, among the configured ones
    for (const auto& key : keys_in_file_order(n)) {
      const node k = n.member(key);
      const std::string command = upper(key);
      if (std::find(commands.begin(), commands.end(), command) == commands.end()) {
        add(key_at(k), prefixed(n, "unknown command " + q(key) + hint(command, commands)));
        continue;
      }
      if (cfg_.keywords.count(command)) {
        add(key_at(k), prefixed(n, "command " + q(command) + " is listed twice"));
        continue;
      }
      std::vector<std::string> words;
      auto take = [&](const node& w) {
        std::string word;
        read(w, word);
        if (!w->is_string()) return;
        word = upper(trim(word));
        if (!is_word(word)) {
          fail(w, "a keyword is one word of letters or digits, found " + describe(*w));
          return;
        }
        if (std::find(words.begin(), words.end(), word) != words.end()) return;
        if (auto [it, fresh] = owner.emplace(word, command); !fresh) {
          fail(w, fmt::format("{} already means {}", q(word), it->second));
          return;
        }
        words.push_back(word);
      };
      if (k->is_string()) {
        take(k);
      } else if (expect(k, json::value_t::array, "a word or an array of words")) {
        if (k->empty()) fail(k, "needs at least one word");
        for (std::size_t i = 0; i < k->size(); ++i) take(k.element(i));
      }
      if (!words.empty()) cfg_.keywords[command] = std::move(words);
    }
  }

  void replies(const node& n) {
    if (!n || !expect_object(n)) return;
    for (const auto& [id, _] : n->items()) {
      const node r = n.member(id);
      std::string text;
      read(r, text);
      if (r->is_string()) cfg_.replies[id] = text;
    }
  }

  void limits(const node& n) {
    if (!n || !expect_object(n)) return;
    check_keys(n, limits_keys);
    auto& l = cfg_.limits;
    const std::int64_t big = std::numeric_limits<std::int32_t>::max();
    opt(n, "inbound_per_minute", l.inbound_per_minute, 1, big);
    opt(n, "auto_replies_per_hour", l.auto_replies_per_hour, 0, big);
    opt(n, "retry_base_s", l.retry_base_s, 1, big);
    opt(n, "retry_max_s", l.retry_max_s, 1, big);
    opt(n, "dedupe_window_s", l.dedupe_window_s, 0, big);
    opt(n, "first_answer_days", l.first_answer_days, 1, 365);
    opt(n, "resolution_days", l.resolution_days, 0, 365);
    if (auto v = n.member("reminder_time")) {
      std::string s;
      read(v, s);
      if (v->is_string()) {
        if (!s.empty() && !valid_clock(s))
          fail(v, "expected a time \"HH:MM\" such as \"07:00\", or \"\" for no reminders, found " + describe(*v));
        else
          l.reminder_time = s;
      }
    }
    for (auto* key : {"quiet_hours_start", "quiet_hours_end"}) {
      auto v = n.member(key);
      if (!v) continue;
      std::string s;
      read(v, s);
      if (!v->is_string()) continue;
      if (!valid_clock(s)) fail(v, "expected a time \"HH:MM\" such as \"21:00\", found " + describe(*v));
      else (std::string_view(key) == "quiet_hours_start" ? l.quiet_hours_start : l.quiet_hours_end) = s;
    }
    if (l.retry_max_s < l.retry_base_s)
      fail(n.member("retry_max_s") ? n.member("retry_max_s") : n,
           fmt::format("retry_max_s ({}) is less than retry_base_s ({})", l.retry_max_s, l.retry_base_s));
  }

  // ----- people --------------------------------------------------------------------------------

  /// Checks a phone as a recipient: valid, mobile. Returns E.164 or "" after reporting.
  template <typename Report>
  std::string recipient_phone(std::string_view raw, Report report) {
    auto r = normalise_phone(raw, cfg_.village.country);
    if (!r.ok()) {
      report(fmt::format("invalid phone number {}: {}", q(raw), r.error));
      return {};
    }
    if (r.fixed_line) {
      report(fmt::format("{} is a landline number; SMS and WhatsApp need a mobile number", q(raw)));
      return {};
    }
    return r.e164;
  }

  std::string channel_hint() const {
    std::string names = "\"sms\", \"whatsapp\"";
    for (const auto& c : cfg_.channels) names += ", " + q(c.name);
    return names + " or \"\" (any)";
  }
  bool known_channel(std::string_view ch) const {
    if (ch.empty() || ch == "sms" || ch == "whatsapp") return true;
    return std::any_of(cfg_.channels.begin(), cfg_.channels.end(), [&](const auto& c) { return c.name == ch; });
  }

  /// Records a subscriber if its phone is new; `here` is where this listing is.
  void add_subscriber(core::subscriber s, place here, const std::function<void(std::string)>& report) {
    if (auto it = listed_at_.find(s.phone); it != listed_at_.end()) {
      report(fmt::format("{} is listed twice (first at {}); give one row several groups instead",
                         s.phone, where(it->second)));
      return;
    }
    listed_at_.emplace(s.phone, here);
    s.consent = core::consent_source::config;
    cfg_.subscribers.push_back(std::move(s));
  }

  void subscribers(const node& n) {
    if (!n || !expect_list(n, "subscribers", R"([{"phone": "0812-3456-7890", "groups": ["petani"]}])")) return;
    for (std::size_t i = 0; i < n->size(); ++i) {
      const node s = n.element(i);
      if (!expect_object(s)) continue;
      core::subscriber sub;
      bool ok = true;
      // Free keys are attributes (dusun, rt …) unless they look like a typo of a known key.
      for (const auto& [key, value] : s->items()) {
        if (std::find(subscriber_keys.begin(), subscriber_keys.end(), key) != subscriber_keys.end()) continue;
        const node a = s.member(key);
        if (auto near = nearest(key, subscriber_keys)) {
          add(key_at(a), prefixed(s, fmt::format("unknown key {}; did you mean {}?", q(key), q(*near))));
          ok = false;
        } else if (value.is_string()) {
          if (!value.get<std::string>().empty()) sub.attributes[key] = value.get<std::string>();
        } else if (value.is_number()) {
          sub.attributes[key] = value.dump();
        } else {
          fail(a, "an attribute is a string or a number, found " + describe(value));
          ok = false;
        }
      }
      if (require(s, "phone")) {
        const node p = s.member("phone");
        std::string raw;
        read(p, raw);
        if (p->is_string()) sub.phone = recipient_phone(raw, [&](std::string m) { fail(p, m); });
      }
      if (sub.phone.empty()) ok = false;
      opt(s, "name", sub.name);
      if (auto ch = s.member("channel")) {
        read(ch, sub.channel);
        if (ch->is_string() && !known_channel(sub.channel)) {
          fail(ch, "unknown channel " + describe(*ch) + "; expected " + channel_hint());
          ok = false;
        }
      }
      if (auto g = s.member("groups"); g && expect_list(g, "group names", R"(["petani"])")) {
        for (std::size_t k = 0; k < g->size(); ++k) {
          const node e = g.element(k);
          std::string id;
          read(e, id);
          if (!e->is_string()) continue;
          if (!group_at_.count(id)) {
            fail(e, "unknown group " + q(id) + hint(id, group_ids_));
            ok = false;
          } else if (std::find(sub.groups.begin(), sub.groups.end(), id) == sub.groups.end()) {
            sub.groups.push_back(id);
          }
        }
      }
      if (!ok) {
        if (!sub.phone.empty()) listed_at_.emplace(sub.phone, place_of(s.member("phone")));
        continue;
      }
      const node p = s.member("phone");
      add_subscriber(std::move(sub), place_of(p), [&](std::string m) { fail(p, m); });
    }
  }

  /// "subscribers_csv" or a group's "members_csv": one file name or an array of them.
  void csv_list(const node& n, const std::string& group) {
    if (n->is_string()) {
      csv_file(n, group);
    } else if (expect(n, json::value_t::array, "a CSV file name or an array of them")) {
      for (std::size_t i = 0; i < n->size(); ++i) {
        const node e = n.element(i);
        if (expect(e, json::value_t::string, "a CSV file name")) csv_file(e, group);
      }
    }
  }

  void csv_file(const node& n, const std::string& group) {
    const std::string rel = n->get<std::string>();
    const fs::path p = base_ / rel;
    const auto text = read_file_or_fail(n, p);
    if (!text) return;
    const std::string name = p.string();
    listed_files_.push_back(p.filename().string());
    const auto file_number = static_cast<std::uint32_t>(listed_files_.size());
    auto report = [&](int line, int column, std::string message) {
      errors_.push_back({name, line, column, std::move(message)});
    };
    // Which field holds what; the rest are attributes named by their header. Rows are taken as the
    // parser reads them, so a district's CSV is never held as a table besides its subscribers.
    std::vector<std::string> header;
    std::map<std::string, std::size_t> known;
    std::vector<std::string> attribute;
    bool header_ok = false;
    bool had_error = false;
    auto column_of = [&](std::string_view column) { return known.find(std::string(column))->second; };
    auto take_header = [&](std::vector<std::string>& cells) {
      header = std::move(cells);
      attribute.assign(header.size(), {});
      header_ok = true;
      for (std::size_t k = 0; k < header.size(); ++k) {
        const std::string h = lower(header[k]);
        const int col = static_cast<int>(k) + 1;
        if (h.empty()) {
          report(1, col, fmt::format("column {} has no name in the header", col));
          header_ok = false;
          continue;
        }
        std::string column;
        for (const auto& a : column_aliases)
          if (a.header == h) column = std::string(a.column);
        if (!column.empty()) {
          if (!known.emplace(column, k).second) {
            report(1, col, fmt::format("a second {} column ({})", q(column), q(header[k])));
            header_ok = false;
          }
        } else if (std::count(header.begin(), header.begin() + static_cast<std::ptrdiff_t>(k), header[k])) {
          report(1, col, fmt::format("column {} appears twice in the header", q(header[k])));
          header_ok = false;
        } else {
          attribute[k] = h;
        }
      }
      if (!known.count("phone")) {
        report(1, 0, fmt::format("no \"phone\" column in the header (found {})", join(header)));
        header_ok = false;
      }
    };
    auto take_row = [&](csv_row& row) {
      if (!header_ok) return;
      bool ok = true;
      auto cell_error = [&](std::string_view column, std::string message) {
        report(row.line, static_cast<int>(column_of(column)) + 1,
               fmt::format("column {}: {}", q(header[column_of(column)]), message));
        ok = false;
      };
      core::subscriber sub;
      const std::string& raw = row.fields[column_of("phone")];
      if (raw.empty()) cell_error("phone", "no phone number");
      else sub.phone = recipient_phone(raw, [&](std::string m) { cell_error("phone", std::move(m)); });
      if (known.count("name")) sub.name = std::move(row.fields[column_of("name")]);
      if (known.count("channel")) {
        sub.channel = lower(row.fields[column_of("channel")]);
        if (!known_channel(sub.channel))
          cell_error("channel", "unknown channel " + q(sub.channel) + "; expected " + channel_hint());
      }
      if (!group.empty()) sub.groups.push_back(group);
      if (known.count("groups")) {
        // Group ids are separated by '|', ',', ';' or white space.
        const auto separator = [](char c) {
          return c == '|' || c == ',' || c == ';' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
                 c == '\f';
        };
        const std::string& cell = row.fields[column_of("groups")];
        std::size_t i = 0;
        while (i < cell.size()) {
          while (i < cell.size() && separator(cell[i])) ++i;
          std::size_t j = i;
          while (j < cell.size() && !separator(cell[j])) ++j;
          if (j > i) {
            std::string id = cell.substr(i, j - i);
            if (!group_at_.count(id)) cell_error("groups", "unknown group " + q(id) + hint(id, group_ids_));
            else if (std::find(sub.groups.begin(), sub.groups.end(), id) == sub.groups.end()) sub.groups.push_back(std::move(id));
          }
          i = j;
        }
      }
      for (std::size_t k = 0; k < attribute.size(); ++k)
        if (!attribute[k].empty() && !row.fields[k].empty()) sub.attributes[attribute[k]] = std::move(row.fields[k]);
      if (!ok) {
        if (!sub.phone.empty()) listed_at_.emplace(sub.phone, place{file_number, static_cast<std::uint32_t>(row.line), 0});
        return;
      }
      const int line = row.line;
      add_subscriber(std::move(sub), place{file_number, static_cast<std::uint32_t>(line), 0},
                     [&](std::string m) { report(line, static_cast<int>(column_of("phone")) + 1, std::move(m)); });
    };
    read_csv(*text, take_header, take_row, [&](csv_error e) {
      had_error = true;
      report(e.line, e.column, std::move(e.message));
    });
    if (header.empty() && !had_error) report(0, 0, "empty file; expected a header row such as \"phone,name,groups\"");
  }

  void everyone() {
    for (const auto& id : everyone_)
      for (auto& s : cfg_.subscribers)
        if (std::find(s.groups.begin(), s.groups.end(), id) == s.groups.end()) s.groups.push_back(id);
  }

  void officers(const node& n) {
    if (!n || !expect_list(n, "officers", R"([{"phone": "0812-3456-7890", "name": "Pak Kadus", "tags": ["*"]}])")) return;
    std::map<std::string, std::string> seen;
    std::vector<std::string> known_tags = tag_names_;
    known_tags.push_back("hoaks");  // HOAKS reports carry this tag whatever the rules say
    for (std::size_t i = 0; i < n->size(); ++i) {
      const node o = n.element(i);
      if (!expect_object(o)) continue;
      check_keys(o, officer_keys);
      core::officer off;
      bool ok = true;
      if (require(o, "phone")) {
        const node p = o.member("phone");
        std::string raw;
        read(p, raw);
        if (p->is_string()) off.phone = recipient_phone(raw, [&](std::string m) { fail(p, m); });
        if (!off.phone.empty()) {
          if (auto [it, fresh] = seen.emplace(off.phone, where(p)); !fresh) {
            fail(p, fmt::format("officer {} is listed twice (first at {})", off.phone, it->second));
            ok = false;
          }
        }
      }
      if (off.phone.empty()) ok = false;
      if (require(o, "name")) opt(o, "name", off.name);
      opt(o, "role", off.role);
      if (auto t = o.member("tags"); t && expect_list(t, "tags", R"(["infrastruktur"])")) {
        for (std::size_t k = 0; k < t->size(); ++k) {
          const node e = t.element(k);
          std::string tag;
          read(e, tag);
          if (!e->is_string()) continue;
          if (tag != "*" && std::find(known_tags.begin(), known_tags.end(), tag) == known_tags.end()) {
            fail(e, "unknown tag " + q(tag) + hint(tag, known_tags));
            ok = false;
          } else {
            off.tags.push_back(tag);
          }
        }
      }
      if (auto g = o.member("groups"); g && expect_list(g, "group names", R"(["petani"])")) {
        for (std::size_t k = 0; k < g->size(); ++k) {
          const node e = g.element(k);
          std::string id;
          read(e, id);
          if (!e->is_string()) continue;
          if (!group_at_.count(id)) {
            fail(e, "unknown group " + q(id) + hint(id, group_ids_));
            ok = false;
          } else {
            off.groups.push_back(id);
          }
        }
      }
      if (ok) cfg_.officers.push_back(std::move(off));
    }
  }

  load_result finish() {
    // Config-file errors first, then each CSV file in the order it was read; each in row order.
    std::map<std::string, std::size_t> rank{{file_.string(), 0}};
    for (const auto& e : errors_) rank.emplace(e.file, rank.size());
    std::stable_sort(errors_.begin(), errors_.end(), [&](const error& a, const error& b) {
      return std::tuple(rank[a.file], a.line, a.column) < std::tuple(rank[b.file], b.line, b.column);
    });
    load_result r;
    r.errors = std::move(errors_);
    if (r.errors.empty()) r.config = std::move(cfg_);
    return r;
  }

  std::string_view text_;
  fs::path file_;
  fs::path base_;
  json_index index_;
  village_config cfg_;
  std::vector<error> errors_;
  std::map<std::string, node> group_at_;
  std::vector<std::string> group_ids_;
  std::vector<std::string> everyone_;
  std::vector<std::pair<std::string, node>> group_csvs_;
  std::vector<std::string> tag_names_;
  std::unordered_map<std::string, place> listed_at_;  ///< E.164 → where first listed
  std::vector<std::string> listed_files_;              ///< CSV file names (place::file - 1)
  std::set<std::string> suggested_;  // pointers of keys an unknown key was taken to be a typo of
};

}  // namespace

std::string format(const error& e) {
  std::string out = e.file;
  if (e.line > 0) {
    out += ":" + std::to_string(e.line);
    if (e.column > 0) out += ":" + std::to_string(e.column);
  }
  return out + ": " + e.message;
}

load_result load_text(std::string_view text, const fs::path& file) { return loader(text, file).run(); }

load_result load(const fs::path& file) {
  std::string why;
  auto text = read_file(file, why);
  if (!text) {
    load_result r;
    r.errors.push_back({file.string(), 0, 0, "cannot read the config file: " + why});
    return r;
  }
  return load_text(*text, file);
}

expanded_path expand_credentials(std::string_view path, std::string_view credentials_dir) {
  for (const std::string_view prefix : {"%d", "${CREDENTIALS_DIRECTORY}", "$CREDENTIALS_DIRECTORY"}) {
    if (path.substr(0, prefix.size()) != prefix) continue;
    const auto rest = path.substr(prefix.size());
    if (!rest.empty() && rest.front() != '/') continue;
    if (credentials_dir.empty())
      return {{},
              fmt::format("{} names systemd's credentials directory, but $CREDENTIALS_DIRECTORY is not set: "
                          "the daemon gets it from LoadCredential= in its unit; to check the config by hand, run "
                          "CREDENTIALS_DIRECTORY=/etc/kentongan/credentials kentongan check-config",
                          q(path))};
    std::string dir(credentials_dir);
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    return {dir + std::string(rest), {}};
  }
  return {std::string(path), {}};
}

std::string read_secret(const fs::path& file) {
  std::string why;
  auto text = read_file(file, why);
  if (!text) throw std::runtime_error("cannot read secret file " + file.string() + ": " + why);
  while (!text->empty() && (text->back() == '\n' || text->back() == '\r')) text->pop_back();
  if (text->empty()) throw std::runtime_error("secret file " + file.string() + " is empty");
  return *text;
}

}  // namespace kentongan::config
