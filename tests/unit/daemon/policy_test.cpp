#include <doctest/doctest.h>

#include "daemon/policy.hpp"

using namespace kentongan::daemon;
using namespace std::chrono_literals;

TEST_CASE("token bucket honours the rate and the burst") {
  const auto t0 = token_bucket::clock::time_point{} + 1h;
  token_bucket b(10.0, 5.0, t0);
  CHECK(b.take(100, t0) == 5);           // the burst
  CHECK(b.take(1, t0) == 0);
  CHECK(b.take(100, t0 + 100ms) == 1);   // 10/s → one per 100 ms
  CHECK(b.take(100, t0 + 350ms) == 2);
  CHECK(b.take(100, t0 + 10s) == 5);     // never more than the burst
  b.set_rate(1.0, 1.0);
  CHECK(b.take(10, t0 + 11s) == 1);
  CHECK(b.next_token(t0 + 11s) == t0 + 12s);
}

TEST_CASE("retry delays grow and stay within bounds") {
  std::mt19937_64 rnd(42);
  struct row { int attempt; long long lo_ms; long long hi_ms; };
  for (auto r : {row{1, 1000, 30000}, row{2, 30000, 60000}, row{3, 60000, 120000}, row{10, 1800000, 3600000},
                 row{100, 1800000, 3600000}}) {
    CAPTURE(r.attempt);
    for (int i = 0; i < 50; ++i) {
      const auto d = retry_delay(r.attempt, 30s, 3600s, rnd).count();
      CHECK(d >= r.lo_ms);
      CHECK(d <= r.hi_ms);
    }
  }
}

TEST_CASE("quiet hours in the village's local time") {
  const auto wib = *utc_offset_for("Asia/Jakarta");
  CHECK(wib == 420min);
  CHECK(utc_offset_for("Asia/Makassar") == 480min);
  CHECK(utc_offset_for("Asia/Jayapura") == 540min);
  CHECK_FALSE(utc_offset_for("Europe/Berlin").has_value());
  const int start = *parse_clock_time("21:00");
  const int end = *parse_clock_time("06:00");
  struct row { int utc_hour; int utc_minute; bool quiet; };
  // 14:00 UTC = 21:00 WIB (quiet starts); 23:00 UTC = 06:00 WIB (quiet ends).
  for (auto r : {row{13, 59, false}, row{14, 0, true}, row{17, 0, true}, row{22, 59, true}, row{23, 0, false},
                 row{5, 0, false}}) {
    CAPTURE(r.utc_hour);
    CAPTURE(r.utc_minute);
    const auto t = std::chrono::sys_days{std::chrono::year{2026} / 11 / 28} + std::chrono::hours{r.utc_hour} +
                   std::chrono::minutes{r.utc_minute};
    CHECK(in_quiet_hours(t, wib, start, end) == r.quiet);
  }
  CHECK_FALSE(in_quiet_hours(std::chrono::system_clock::now(), wib, 600, 600));
  CHECK_FALSE(parse_clock_time("24:00").has_value());
  CHECK_FALSE(parse_clock_time("7:00").has_value());
}

TEST_CASE("routing follows the preference and falls back to SMS") {
  std::vector<channel_choice_input> chans{{"wa", "whatsapp", true}, {"telkomsel", "smpp", true}, {"modem1", "modem", true}};
  struct row { const char* pref; std::size_t expected; };
  for (auto r : {row{"whatsapp", 0}, row{"wa", 0}, row{"sms", 1}, row{"", 1}, row{"modem1", 2}, row{"modem", 2},
                 row{"unknown", 1}}) {
    CAPTURE(r.pref);
    CHECK(choose_channel(chans, r.pref) == r.expected);
  }
  chans[0].up = false;
  CHECK(choose_channel(chans, "whatsapp") == 1u);  // WhatsApp down: SMS
  CHECK(choose_channel(chans, "whatsapp", {"telkomsel"}) == 2u);
  chans[1].up = chans[2].up = false;
  CHECK_FALSE(choose_channel(chans, "sms").has_value());
}

TEST_CASE("modems by the recipient's operator, failing over to another modem, then the usual order") {
  // config::mobile_operator gives the operator; here it is written out beside each number.
  const std::vector<channel_choice_input> all_up{{"smpp", "smpp", true},
                                                 {"m-tsel", "modem", true, {"telkomsel"}},
                                                 {"m-xl", "modem", true, {"xl", "+62831"}},
                                                 {"wa", "whatsapp", true}};
  struct row {
    const char* label;
    std::vector<bool> up;  // per channel
    const char* pref;
    const char* phone;
    const char* op;
    std::vector<std::string> excluded;
    std::optional<std::size_t> expected;
  };
  const row rows[] = {
      {"telkomsel to its SIM", {true, true, true, true}, "", "+6281234567890", "telkomsel", {}, 1},
      {"xl to its SIM", {true, true, true, true}, "sms", "+6281912345678", "xl", {}, 2},
      {"prefix +62831 (axis) to the xl SIM", {true, true, true, true}, "", "+6283112345678", "axis", {}, 2},
      {"preference modem kind", {true, true, true, true}, "modem", "+6281912345678", "xl", {}, 2},
      {"no SIM for indosat: usual order", {true, true, true, true}, "", "+6285712345678", "indosat", {}, 0},
      {"no operator known: usual order", {true, true, true, true}, "", "+60123456789", "", {}, 0},
      {"xl SIM down: other modem", {true, true, false, true}, "", "+6281912345678", "xl", {}, 1},
      {"telkomsel SIM excluded: other modem", {true, true, true, true}, "", "+6281234567890", "telkomsel", {"m-tsel"}, 2},
      {"every modem down: usual order", {true, false, false, true}, "", "+6281234567890", "telkomsel", {}, 0},
      {"named channel wins", {true, true, true, true}, "smpp", "+6281234567890", "telkomsel", {}, 0},
      {"whatsapp preferred and up", {true, true, true, true}, "whatsapp", "+6281234567890", "telkomsel", {}, 3},
      {"whatsapp down: operator's SIM", {true, true, true, false}, "whatsapp", "+6281234567890", "telkomsel", {}, 1},
      {"named channel down: operator's SIM", {false, true, true, true}, "smpp", "+6281234567890", "telkomsel", {}, 1},
      {"nothing up", {false, false, false, false}, "", "+6281234567890", "telkomsel", {}, std::nullopt},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    auto chans = all_up;
    for (std::size_t i = 0; i < chans.size(); ++i) chans[i].up = r.up[i];
    CHECK(choose_channel_for(chans, r.pref, r.phone, r.op, r.excluded) == r.expected);
  }
  CHECK(serves_operator({"+62812"}, "+6281234567890", ""));
  CHECK_FALSE(serves_operator({"+62812"}, "+6281134567890", "telkomsel"));
  CHECK_FALSE(serves_operator({}, "+6281234567890", "telkomsel"));
  CHECK_FALSE(serves_operator({"telkomsel"}, "+6281234567890", ""));
}

TEST_CASE("durations and send times as an admin writes them") {
  struct row { const char* text; long long seconds; };
  for (auto r : {row{"90s", 90}, row{"30m", 1800}, row{"2h", 7200}, row{"1d", 86400}, row{"1h30m", 5400},
                 row{"", -1}, row{"10", -1}, row{"h", -1}, row{"5x", -1}, row{"0m", -1}}) {
    CAPTURE(r.text);
    const auto d = parse_duration(r.text);
    if (r.seconds < 0)
      CHECK_FALSE(d.has_value());
    else
      CHECK(d == std::chrono::seconds{r.seconds});
  }
  const auto wib = 420min;
  // 2026-11-28 10:00 WIB = 03:00 UTC
  const auto now = std::chrono::sys_days{std::chrono::year{2026} / 11 / 28} + 3h;
  CHECK(format_local_time(now, wib) == "2026-11-28 10:00");
  CHECK(format_local_time(*parse_send_time("08:00", now, wib), wib) == "2026-11-29 08:00");
  CHECK(format_local_time(*parse_send_time("14:30", now, wib), wib) == "2026-11-28 14:30");
  CHECK(format_local_time(*parse_send_time("2026-12-01 07:15", now, wib), wib) == "2026-12-01 07:15");
  CHECK(format_local_time(*parse_send_time("2026-12-01T07:15", now, wib), wib) == "2026-12-01 07:15");
  CHECK(*parse_send_time("+30m", now, wib) == now + 30min);
  CHECK_FALSE(parse_send_time("2026-02-30 07:15", now, wib).has_value());
  CHECK_FALSE(parse_send_time("besok", now, wib).has_value());
}
