#include "intake/rate_limiter.hpp"

#include <algorithm>

namespace kentongan::intake {

rate_limiter::rate_limiter(std::uint32_t burst, clock::duration period, std::size_t max_keys)
    : burst_(burst),
      interval_(burst == 0 ? clock::duration::zero() : period / burst),
      tolerance_(burst == 0 ? clock::duration::zero() : period - period / burst),
      max_keys_(std::max<std::size_t>(max_keys, 1)) {}

void rate_limiter::expire(clock::time_point now) {
  // A key whose arrival time has passed has a full bucket: the same as a key never seen.
  while (!by_time_.empty() && by_time_.begin()->first <= now) forget_soonest();
}

bool rate_limiter::allow(std::string_view key, clock::time_point now) {
  if (burst_ == 0) return true;
  expire(now);
  auto it = by_key_.find(key);
  const clock::time_point tat = it == by_key_.end() ? now : std::max(it->second, now);
  if (tat - now > tolerance_) return false;
  const clock::time_point next = tat + interval_;
  if (it != by_key_.end()) {
    by_time_.erase({it->second, &it->first});
    it->second = next;
  } else {
    // Drop the key closest to full: it loses the least memory of past traffic.
    if (by_key_.size() >= max_keys_) forget_soonest();
    it = by_key_.emplace(std::string(key), next).first;
  }
  by_time_.emplace(next, &it->first);
  return true;
}

void rate_limiter::forget_soonest() {
  const auto soonest = by_time_.begin();
  const std::string* key = soonest->second;
  by_time_.erase(soonest);
  by_key_.erase(by_key_.find(*key));  // by iterator: the key lives in the node being erased
}

rate_limiter::clock::duration rate_limiter::retry_after(std::string_view key, clock::time_point now) const {
  if (burst_ == 0) return clock::duration::zero();
  const auto it = by_key_.find(key);
  if (it == by_key_.end()) return clock::duration::zero();
  const auto wait = it->second - now - tolerance_;
  return std::max(wait, clock::duration::zero());
}

flood_control::flood_control(const flood_limits& limits)
    : messages_(limits.messages_per_minute, std::chrono::minutes{1}, limits.max_tracked_senders),
      replies_(limits.replies_per_hour, std::chrono::hours{1}, limits.max_tracked_senders) {}

bool flood_control::accept_message(std::string_view sender, rate_limiter::clock::time_point now) {
  return messages_.allow(sender, now);
}

bool flood_control::allow_reply(std::string_view sender, rate_limiter::clock::time_point now) {
  return replies_.allow(sender, now);
}

}  // namespace kentongan::intake
