#pragma once
/// Pure pieces of the dispatcher's policy: rate limiting, retry backoff, quiet hours, routing.
/// No I/O and no clocks of their own: time is passed in, so every rule is testable by table.

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace kentongan::daemon {

/// Token bucket: `rate` tokens per second, at most `burst` saved up.
class token_bucket {
 public:
  using clock = std::chrono::steady_clock;
  token_bucket(double rate, double burst, clock::time_point now);
  /// Takes up to `wanted` tokens; returns how many were taken.
  std::size_t take(std::size_t wanted, clock::time_point now);
  /// When at least one token will be available.
  clock::time_point next_token(clock::time_point now) const;
  /// Rate changes (a throttling network, a config reload) keep the tokens saved so far.
  void set_rate(double rate, double burst);
  double rate() const { return rate_; }

 private:
  void refill(clock::time_point now);
  double rate_;
  double burst_;
  double tokens_;
  clock::time_point last_;
};

/// Exponential backoff with "full jitter": attempt 1 waits up to base, each further attempt doubles
/// the ceiling up to `max`. Never below one second, so a failing network is not hammered.
std::chrono::milliseconds retry_delay(int attempt, std::chrono::seconds base, std::chrono::seconds max, std::mt19937_64& random);

/// A fixed UTC offset for the village timezone. Indonesia's zones have had no daylight saving since
/// 1964, so a table of offsets is exact for them; other IANA names are refused with a clear error.
std::optional<std::chrono::minutes> utc_offset_for(std::string_view iana_zone);

/// "HH:MM" → minutes after midnight, or nullopt.
std::optional<int> parse_clock_time(std::string_view hh_mm);

/// Whether `now` falls in the quiet hours [start, end) of the village's local time; the span may
/// wrap midnight ("21:00"–"06:00"). Equal start and end means no quiet hours.
bool in_quiet_hours(std::chrono::system_clock::time_point now, std::chrono::minutes utc_offset, int start_minute,
                    int end_minute);

/// The channel kinds that carry SMS; a subscriber who prefers "sms" may be reached by any of them.
bool is_sms_kind(std::string_view kind);

struct channel_choice_input {
  std::string name;
  std::string kind;
  bool up = false;
  /// Modems only: operator names ("telkomsel") or E.164 prefixes ("+62812") the SIM serves best.
  std::vector<std::string> operators = {};
};

/// Picks the channel for one message: the subscriber's preference (a channel name or kind, "sms"
/// meaning any SMS kind) when such a channel is up, else the first SMS channel that is up, else the
/// first channel that is up. `excluded` lists channels that already refused the message for good.
std::optional<std::size_t> choose_channel(const std::vector<channel_choice_input>& channels, std::string_view preference,
                                          const std::vector<std::string>& excluded = {});

/// Whether a modem's `operators` cover a recipient: their operator's name ("telkomsel", from
/// config::mobile_operator) or a prefix of their E.164 number ("+62812").
bool serves_operator(const std::vector<std::string>& operators, std::string_view phone, std::string_view phone_operator);

/// choose_channel with the recipient's operator: a preference naming a channel (or a kind other than
/// SMS or modem) that is up wins; else an up modem that serves the recipient's operator; else, when
/// such a modem exists but is down or excluded, any other up modem; else choose_channel.
std::optional<std::size_t> choose_channel_for(const std::vector<channel_choice_input>& channels,
                                              std::string_view preference, std::string_view phone,
                                              std::string_view phone_operator,
                                              const std::vector<std::string>& excluded = {});

}  // namespace kentongan::daemon

namespace kentongan::daemon {

/// "90s", "30m", "2h", "1d", "1h30m" → duration; nullopt when malformed or zero.
std::optional<std::chrono::seconds> parse_duration(std::string_view text);

/// A send time as an admin writes it, in the village's local time: "08:00" (the next such time),
/// "2026-12-01 08:00" or "2026-12-01T08:00", or "+30m" (from now). nullopt when malformed.
std::optional<std::chrono::system_clock::time_point> parse_send_time(std::string_view text,
                                                                     std::chrono::system_clock::time_point now,
                                                                     std::chrono::minutes utc_offset);

/// Formats a time in the village's local time as "2026-11-28 08:00".
std::string format_local_time(std::chrono::system_clock::time_point t, std::chrono::minutes utc_offset);

}  // namespace kentongan::daemon
