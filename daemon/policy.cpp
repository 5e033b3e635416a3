#include "daemon/policy.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <utility>

namespace kentongan::daemon {

token_bucket::token_bucket(double rate, double burst, clock::time_point now)
    : rate_(rate), burst_(std::max(burst, 1.0)), tokens_(std::max(burst, 1.0)), last_(now) {}

void token_bucket::refill(clock::time_point now) {
  if (now <= last_) return;
  const double elapsed = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
  last_ = now;
}

std::size_t token_bucket::take(std::size_t wanted, clock::time_point now) {
  refill(now);
  const auto available = static_cast<std::size_t>(tokens_);
  const std::size_t taken = std::min(wanted, available);
  tokens_ -= static_cast<double>(taken);
  return taken;
}

token_bucket::clock::time_point token_bucket::next_token(clock::time_point now) const {
  if (tokens_ >= 1.0 || rate_ <= 0.0) return now;
  const double missing = 1.0 - tokens_;
  return last_ + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(missing / rate_));
}

void token_bucket::set_rate(double rate, double burst) {
  rate_ = rate;
  burst_ = std::max(burst, 1.0);
  tokens_ = std::min(tokens_, burst_);
}

std::chrono::milliseconds retry_delay(int attempt, std::chrono::seconds base, std::chrono::seconds max,
                                      std::mt19937_64& random) {
  using std::chrono::milliseconds;
  const auto base_ms = std::chrono::duration_cast<milliseconds>(base).count();
  const auto max_ms = std::chrono::duration_cast<milliseconds>(max).count();
  const int shift = std::clamp(attempt - 1, 0, 30);
  const long long ceiling = std::min<long long>(max_ms, base_ms << std::min(shift, 20));
  std::uniform_int_distribution<long long> jitter(ceiling / 2, std::max(ceiling, 1LL));
  return milliseconds{std::max<long long>(1000, jitter(random))};
}

std::optional<std::chrono::minutes> utc_offset_for(std::string_view zone) {
  static constexpr std::array<std::pair<std::string_view, int>, 8> zones{{
      {"Asia/Jakarta", 7 * 60},   // WIB
      {"Asia/Pontianak", 7 * 60}, // WIB
      {"Asia/Makassar", 8 * 60},  // WITA
      {"Asia/Ujung_Pandang", 8 * 60},
      {"Asia/Jayapura", 9 * 60},  // WIT
      {"UTC", 0},
      {"Etc/UTC", 0},
      {"Asia/Dili", 9 * 60},
  }};
  for (const auto& [name, offset] : zones)
    if (name == zone) return std::chrono::minutes{offset};
  return std::nullopt;
}

std::optional<int> parse_clock_time(std::string_view s) {
  if (s.size() != 5 || s[2] != ':') return std::nullopt;
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (!digit(s[0]) || !digit(s[1]) || !digit(s[3]) || !digit(s[4])) return std::nullopt;
  const int h = (s[0] - '0') * 10 + (s[1] - '0');
  const int m = (s[3] - '0') * 10 + (s[4] - '0');
  if (h > 23 || m > 59) return std::nullopt;
  return h * 60 + m;
}

bool in_quiet_hours(std::chrono::system_clock::time_point now, std::chrono::minutes utc_offset, int start_minute,
                    int end_minute) {
  if (start_minute == end_minute) return false;
  const auto local = std::chrono::floor<std::chrono::minutes>(now.time_since_epoch()) + utc_offset;
  const auto minute_of_day = static_cast<int>(((local.count() % 1440) + 1440) % 1440);
  if (start_minute < end_minute) return minute_of_day >= start_minute && minute_of_day < end_minute;
  return minute_of_day >= start_minute || minute_of_day < end_minute;
}

bool is_sms_kind(std::string_view kind) {
  return kind == "sim" || kind == "smpp" || kind == "modem" || kind == "http";
}

std::optional<std::size_t> choose_channel(const std::vector<channel_choice_input>& channels, std::string_view preference,
                                          const std::vector<std::string>& excluded) {
  auto usable = [&](const channel_choice_input& c) {
    return c.up && std::find(excluded.begin(), excluded.end(), c.name) == excluded.end();
  };
  if (!preference.empty()) {
    for (std::size_t i = 0; i < channels.size(); ++i) {
      const auto& c = channels[i];
      const bool matches = c.name == preference || c.kind == preference || (preference == "sms" && is_sms_kind(c.kind));
      if (matches && usable(c)) return i;
    }
  }
  for (std::size_t i = 0; i < channels.size(); ++i)
    if (is_sms_kind(channels[i].kind) && usable(channels[i])) return i;
  for (std::size_t i = 0; i < channels.size(); ++i)
    if (usable(channels[i])) return i;
  return std::nullopt;
}

bool serves_operator(const std::vector<std::string>& operators, std::string_view phone, std::string_view phone_operator) {
  for (const auto& o : operators) {
    if (!o.empty() && o.front() == '+') {
      if (phone.starts_with(o)) return true;
    } else if (!phone_operator.empty() && o == phone_operator) {
      return true;
    }
  }
  return false;
}

std::optional<std::size_t> choose_channel_for(const std::vector<channel_choice_input>& channels,
                                              std::string_view preference, std::string_view phone,
                                              std::string_view phone_operator,
                                              const std::vector<std::string>& excluded) {
  auto usable = [&](const channel_choice_input& c) {
    return c.up && std::find(excluded.begin(), excluded.end(), c.name) == excluded.end();
  };
  const bool any_sms = preference.empty() || preference == "sms" || preference == "modem";
  if (!any_sms) {
    for (std::size_t i = 0; i < channels.size(); ++i) {
      const auto& c = channels[i];
      if ((c.name == preference || c.kind == preference) && usable(c)) return i;
    }
  }
  // A prepaid SIM sends to its own operator cheaply (often only there): same operator first.
  bool served = false;
  for (std::size_t i = 0; i < channels.size(); ++i) {
    const auto& c = channels[i];
    if (c.kind != "modem" || !serves_operator(c.operators, phone, phone_operator)) continue;
    if (usable(c)) return i;
    served = true;
  }
  if (served) {
    for (std::size_t i = 0; i < channels.size(); ++i)
      if (channels[i].kind == "modem" && usable(channels[i])) return i;
  }
  return choose_channel(channels, preference, excluded);
}

}  // namespace kentongan::daemon

namespace kentongan::daemon {

std::optional<std::chrono::seconds> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  long long total = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    long long n = 0;
    std::size_t digits = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      n = n * 10 + (text[i] - '0');
      if (n > 10'000'000) return std::nullopt;
      ++i;
      ++digits;
    }
    if (digits == 0 || i == text.size()) return std::nullopt;
    switch (text[i]) {
      case 's': total += n; break;
      case 'm': total += n * 60; break;
      case 'h': total += n * 3600; break;
      case 'd': total += n * 86400; break;
      default: return std::nullopt;
    }
    ++i;
  }
  if (total <= 0) return std::nullopt;
  return std::chrono::seconds{total};
}

std::optional<std::chrono::system_clock::time_point> parse_send_time(std::string_view text,
                                                                     std::chrono::system_clock::time_point now,
                                                                     std::chrono::minutes utc_offset) {
  using namespace std::chrono;
  if (!text.empty() && text.front() == '+') {
    const auto d = parse_duration(text.substr(1));
    if (!d) return std::nullopt;
    return now + *d;
  }
  if (text.size() == 5) {
    const auto minute = parse_clock_time(text);
    if (!minute) return std::nullopt;
    const auto local_now = floor<minutes>(now.time_since_epoch()) + utc_offset;
    const auto local_midnight = floor<days>(local_now);
    auto candidate = local_midnight + minutes{*minute};
    if (candidate <= local_now) candidate += days{1};
    return system_clock::time_point{candidate - utc_offset};
  }
  if (text.size() == 16 && (text[10] == ' ' || text[10] == 'T') && text[4] == '-' && text[7] == '-') {
    auto num = [&](std::size_t pos, std::size_t len) -> std::optional<int> {
      int v = 0;
      for (std::size_t k = pos; k < pos + len; ++k) {
        if (text[k] < '0' || text[k] > '9') return std::nullopt;
        v = v * 10 + (text[k] - '0');
      }
      return v;
    };
    const auto y = num(0, 4), mo = num(5, 2), d = num(8, 2);
    const auto minute = parse_clock_time(text.substr(11));
    if (!y || !mo || !d || !minute) return std::nullopt;
    const year_month_day ymd{year{*y}, month{static_cast<unsigned>(*mo)}, day{static_cast<unsigned>(*d)}};
    if (!ymd.ok()) return std::nullopt;
    return system_clock::time_point{sys_days{ymd} + minutes{*minute} - utc_offset};
  }
  return std::nullopt;
}

std::string format_local_time(std::chrono::system_clock::time_point t, std::chrono::minutes utc_offset) {
  using namespace std::chrono;
  const auto local = floor<minutes>(t.time_since_epoch()) + utc_offset;
  const auto day_start = floor<days>(local);
  const year_month_day ymd{sys_days{day_start}};
  const auto minute = (local - day_start).count();
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u %02lld:%02lld", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<long long>(minute / 60), static_cast<long long>(minute % 60));
  return buf;
}

}  // namespace kentongan::daemon
