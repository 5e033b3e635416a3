#include <doctest/doctest.h>

#include "intake/rate_limiter.hpp"

#include <string>

using namespace kentongan::intake;
using namespace std::chrono_literals;

namespace {
const rate_limiter::clock::time_point t0{};
}

TEST_CASE("a burst is allowed, then one token per interval") {
  rate_limiter r{3, 1min};  // one token every 20 s
  CHECK(r.allow("+6281", t0));
  CHECK(r.allow("+6281", t0));
  CHECK(r.allow("+6281", t0));
  CHECK_FALSE(r.allow("+6281", t0));
  CHECK_FALSE(r.allow("+6281", t0 + 19s));
  CHECK(r.retry_after("+6281", t0 + 19s) == 1s);
  CHECK(r.allow("+6281", t0 + 20s));
  CHECK_FALSE(r.allow("+6281", t0 + 21s));
  CHECK(r.allow("+6281", t0 + 40s));
  // A denied attempt takes nothing: after a full minute idle the whole burst is back.
  CHECK(r.allow("+6281", t0 + 100s));
  CHECK(r.allow("+6281", t0 + 100s));
  CHECK(r.allow("+6281", t0 + 100s));
  CHECK_FALSE(r.allow("+6281", t0 + 100s));
}

TEST_CASE("keys are independent") {
  rate_limiter r{1, 1h};
  CHECK(r.allow("+6281", t0));
  CHECK_FALSE(r.allow("+6281", t0 + 1s));
  CHECK(r.allow("+6282", t0 + 1s));
  CHECK(r.retry_after("+6283", t0) == 0s);
}

TEST_CASE("the table of a steady sender") {
  // 10 per minute: a sender at one message every 3 s gets the first 10 plus one per 6 s after.
  rate_limiter r{10, 1min};
  int allowed = 0;
  for (int i = 0; i < 100; ++i)
    if (r.allow("+6281", t0 + std::chrono::seconds{3 * i})) ++allowed;
  // 300 s of traffic: 10 at once, then one token per 6 s over ~297 s.
  CHECK(allowed >= 58);
  CHECK(allowed <= 60);
}

TEST_CASE("idle keys are forgotten and memory is bounded") {
  rate_limiter r{2, 1min, 100};
  for (int i = 0; i < 50; ++i) CHECK(r.allow(std::to_string(i), t0));
  CHECK(r.tracked() == 50);
  // After a full period every bucket is full again, so nothing needs remembering.
  CHECK(r.allow("x", t0 + 1min));
  CHECK(r.tracked() == 1);

  for (int i = 0; i < 1000; ++i) (void)r.allow("k" + std::to_string(i), t0 + 2min);
  CHECK(r.tracked() <= 100);
}

TEST_CASE("zero burst disables the limit") {
  rate_limiter r{0, 1min};
  for (int i = 0; i < 1000; ++i) CHECK(r.allow("+6281", t0));
  CHECK(r.tracked() == 0);
}

TEST_CASE("flood control: messages per minute and replies per hour") {
  flood_limits limits;
  limits.messages_per_minute = 5;
  limits.replies_per_hour = 3;
  flood_control f{limits};
  int accepted = 0;
  int replied = 0;
  // An auto-responder answering every 2 seconds for an hour.
  for (int i = 0; i < 1800; ++i) {
    const auto now = t0 + std::chrono::seconds{2 * i};
    if (!f.accept_message("+6281", now)) continue;
    ++accepted;
    if (f.allow_reply("+6281", now)) ++replied;
  }
  CHECK(accepted <= 5 + 60 * 5);
  CHECK(accepted >= 60 * 5);
  // The loop is broken: 3 at once, then one per 20 minutes, instead of 300 replies.
  CHECK(replied == 5);
  CHECK(f.accept_message("+6282", t0));
}
