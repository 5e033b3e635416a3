#pragma once
/// Flood control: per-key token buckets with the time passed in (testable, no clock reads).
/// Memory is bounded: a key is forgotten once its bucket is full again, and beyond max_keys the
/// key closest to full is dropped. Not thread-safe; one instance per thread.

#include "intake/settings.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace kentongan::intake {

class rate_limiter {
 public:
  using clock = std::chrono::steady_clock;

  /// `burst` events per `period`, refilled evenly (GCRA); burst == 0 means unlimited.
  rate_limiter(std::uint32_t burst, clock::duration period, std::size_t max_keys = 100'000);

  /// Takes one token for `key` at `now`; false when the bucket is empty (nothing is taken).
  /// `now` should not go backwards; if it does, the key waits longer.
  bool allow(std::string_view key, clock::time_point now);

  /// How long until `key` gets a token at `now` (zero when it has one).
  clock::duration retry_after(std::string_view key, clock::time_point now) const;

  /// Keys currently remembered (those whose bucket is not full).
  std::size_t tracked() const { return by_key_.size(); }

 private:
  void expire(clock::time_point now);
  void forget_soonest();

  std::uint32_t burst_;
  clock::duration interval_;   ///< period / burst: one token's worth of time
  clock::duration tolerance_;  ///< period - interval: how far ahead a key may run
  std::size_t max_keys_;
  struct key_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view k) const noexcept { return std::hash<std::string_view>{}(k); }
  };
  // GCRA theoretical arrival time per key (hashed: tens of thousands of senders are looked up per
  // message on the writer thread), and the same pairs ordered by time for expiry. The ordered set
  // points at the map's keys (nodes of an unordered_map do not move), so each sender is stored once.
  std::unordered_map<std::string, clock::time_point, key_hash, std::equal_to<>> by_key_;
  std::set<std::pair<clock::time_point, const std::string*>> by_time_;
};

/// The two limits of issue 5 per sender: inbound messages per minute (beyond it the message is
/// stored and marked but not answered) and auto-replies per hour (so auto-responders cannot loop).
class flood_control {
 public:
  explicit flood_control(const flood_limits& limits);

  /// Counts one inbound message from `sender`; false: store it, mark it, do not answer.
  bool accept_message(std::string_view sender, rate_limiter::clock::time_point now);
  /// Counts one automatic reply to `sender`; false: do not send it.
  bool allow_reply(std::string_view sender, rate_limiter::clock::time_point now);

 private:
  rate_limiter messages_;
  rate_limiter replies_;
};

}  // namespace kentongan::intake
