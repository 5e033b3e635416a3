#include <doctest/doctest.h>

#include "intake/aspiration.hpp"
#include "intake/calendar.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

using namespace kentongan::intake;
using namespace std::chrono;

namespace {
constexpr sys_days ymd(int y, unsigned m, unsigned d) { return sys_days{year{y} / month{m} / std::chrono::day{d}}; }
}  // namespace

// 2026-03-02 is a Monday.
TEST_CASE("adding working days skips weekends") {
  struct row {
    sys_days from;
    long n;
    sys_days expected;
  };
  const row rows[] = {
      {ymd(2026, 3, 2), 0, ymd(2026, 3, 2)},   // Monday + 0
      {ymd(2026, 3, 2), 1, ymd(2026, 3, 3)},   // Monday + 1 = Tuesday
      {ymd(2026, 3, 2), 3, ymd(2026, 3, 5)},   // Monday + 3 = Thursday
      {ymd(2026, 3, 2), 4, ymd(2026, 3, 6)},   // Friday
      {ymd(2026, 3, 2), 5, ymd(2026, 3, 9)},   // next Monday
      {ymd(2026, 3, 6), 1, ymd(2026, 3, 9)},   // Friday + 1 = Monday
      {ymd(2026, 3, 6), 3, ymd(2026, 3, 11)},  // Friday + 3 = Wednesday
      {ymd(2026, 3, 7), 1, ymd(2026, 3, 9)},   // Saturday + 1 = Monday
      {ymd(2026, 3, 8), 1, ymd(2026, 3, 9)},   // Sunday + 1 = Monday
      {ymd(2026, 3, 8), 5, ymd(2026, 3, 13)},  // Sunday + 5 = Friday
      {ymd(2026, 3, 2), 10, ymd(2026, 3, 16)},
      {ymd(2026, 3, 2), 8, ymd(2026, 3, 12)},  // 3 + 5: the default resolution span
      {ymd(2026, 12, 31), 1, ymd(2027, 1, 1)},  // across a year (a Friday, no holidays given)
      {ymd(2026, 3, 9), -1, ymd(2026, 3, 6)},   // Monday - 1 = Friday
      {ymd(2026, 3, 8), -1, ymd(2026, 3, 6)},   // Sunday - 1 = Friday
      {ymd(2026, 3, 12), -8, ymd(2026, 3, 2)},
      {ymd(2026, 3, 2), 260, ymd(2027, 3, 1)},  // 52 weeks
  };
  for (const auto& r : rows) {
    CAPTURE(r.n);
    CAPTURE(year_month_day{r.from});
    CHECK(add_working_days(r.from, r.n) == r.expected);
    CHECK(add_working_days(year_month_day{r.from}, r.n) == year_month_day{r.expected});
  }
}

TEST_CASE("working days between two dates") {
  struct row {
    sys_days from;
    sys_days to;
    long expected;
  };
  const row rows[] = {
      {ymd(2026, 3, 2), ymd(2026, 3, 2), 0},  {ymd(2026, 3, 2), ymd(2026, 3, 3), 1},
      {ymd(2026, 3, 2), ymd(2026, 3, 6), 4},  {ymd(2026, 3, 2), ymd(2026, 3, 7), 4},
      {ymd(2026, 3, 2), ymd(2026, 3, 8), 4},  {ymd(2026, 3, 2), ymd(2026, 3, 9), 5},
      {ymd(2026, 3, 6), ymd(2026, 3, 9), 1},  {ymd(2026, 3, 7), ymd(2026, 3, 8), 0},
      {ymd(2026, 3, 2), ymd(2026, 3, 30), 20}, {ymd(2026, 3, 9), ymd(2026, 3, 6), -1},
      {ymd(2026, 3, 9), ymd(2026, 3, 2), -5}, {ymd(2026, 1, 1), ymd(2027, 1, 1), 261},
  };
  for (const auto& r : rows) {
    CAPTURE(year_month_day{r.from});
    CAPTURE(year_month_day{r.to});
    CHECK(working_days_between(r.from, r.to) == r.expected);
    CHECK(working_days_between(year_month_day{r.from}, year_month_day{r.to}) == r.expected);
  }
}

TEST_CASE("add and between agree on every start day and span") {
  const std::vector<sys_days> holidays{ymd(2026, 3, 19), ymd(2026, 3, 20), ymd(2026, 3, 21), ymd(2026, 3, 23)};
  for (int start = 0; start < 21; ++start) {
    for (long n = -12; n <= 12; ++n) {
      const sys_days from = ymd(2026, 3, 1) + days{start};
      CAPTURE(year_month_day{from});
      CAPTURE(n);
      for (const auto& h : {std::vector<sys_days>{}, holidays}) {
        const sys_days to = add_working_days(from, n, h);
        CHECK(is_working_day(to, h) == (n != 0 || is_working_day(from, h)));
        CHECK(working_days_between(from, to, h) == n);
      }
    }
  }
}

TEST_CASE("holidays are skipped like weekends") {
  // Nyepi 2026 (Thursday 19 March) and cuti bersama on Friday 20 March.
  const std::vector<sys_days> holidays{ymd(2026, 3, 20), ymd(2026, 3, 19)};
  CHECK(add_working_days(ymd(2026, 3, 18), 1, holidays) == ymd(2026, 3, 23));
  CHECK(add_working_days(ymd(2026, 3, 16), 3, holidays) == ymd(2026, 3, 23));
  CHECK(working_days_between(ymd(2026, 3, 16), ymd(2026, 3, 23), holidays) == 3);
  CHECK(add_working_days(ymd(2026, 3, 23), -1, holidays) == ymd(2026, 3, 18));
  CHECK_FALSE(is_working_day(ymd(2026, 3, 19), holidays));
  CHECK(is_working_day(ymd(2026, 3, 18), holidays));
}

TEST_CASE("deadlines and overdue aspirations") {
  const deadline_policy p;  // 3 working days to a first answer, 5 more to resolution
  const deadlines d = deadlines_for(ymd(2026, 3, 6), p);  // received on a Friday
  CHECK(d.first_answer == ymd(2026, 3, 11));
  CHECK(d.resolution == ymd(2026, 3, 18));
  CHECK_FALSE(is_overdue(aspiration_status::baru, d, ymd(2026, 3, 11)));
  CHECK(is_overdue(aspiration_status::baru, d, ymd(2026, 3, 12)));
  CHECK_FALSE(is_overdue(aspiration_status::diproses, d, ymd(2026, 3, 12)));
  CHECK(is_overdue(aspiration_status::diproses, d, ymd(2026, 3, 19)));
  CHECK_FALSE(is_overdue(aspiration_status::selesai, d, ymd(2027, 1, 1)));
  CHECK_FALSE(is_overdue(aspiration_status::ditolak, d, ymd(2027, 1, 1)));
}

TEST_CASE("aspiration statuses and their transitions") {
  using s = aspiration_status;
  struct row {
    s from;
    s to;
    bool allowed;
  };
  const row rows[] = {
      {s::baru, s::diproses, true},      {s::baru, s::selesai, true},       {s::baru, s::ditolak, true},
      {s::baru, s::baru, false},         {s::diproses, s::diproses, true},  {s::diproses, s::selesai, true},
      {s::diproses, s::ditolak, true},   {s::diproses, s::baru, false},     {s::selesai, s::diproses, false},
      {s::selesai, s::ditolak, false},   {s::selesai, s::selesai, false},   {s::ditolak, s::diproses, false},
      {s::ditolak, s::selesai, false},   {s::ditolak, s::baru, false},
  };
  for (const auto& r : rows) {
    CAPTURE(to_string(r.from));
    CAPTURE(to_string(r.to));
    CHECK(can_transition(r.from, r.to) == r.allowed);
  }
  for (auto st : {s::baru, s::diproses, s::selesai, s::ditolak}) CHECK(parse_aspiration_status(to_string(st)) == st);
  CHECK_FALSE(parse_aspiration_status("done").has_value());
  for (auto k : {aspiration_kind::aspirasi, aspiration_kind::pengaduan, aspiration_kind::permintaan_informasi})
    CHECK(parse_aspiration_kind(to_string(k)) == k);
  CHECK(to_string(aspiration_kind::permintaan_informasi) == "permintaan-informasi");
}

TEST_CASE("the daily overdue reminder is due once a working day, at or after its time") {
  struct due_case {
    std::string label;
    sys_days today;
    int minute;  // village time
    std::optional<sys_days> last_run;
    bool due;
  };
  const int seven = 7 * 60;
  const std::vector<sys_days> holidays{ymd(2026, 3, 19)};  // Nyepi 2026, a Thursday
  for (const auto& c : std::vector<due_case>{
           {"Monday 07:00, never run", ymd(2026, 3, 2), seven, std::nullopt, true},
           {"Monday 06:59: not yet", ymd(2026, 3, 2), seven - 1, std::nullopt, false},
           {"Monday 15:00, started late: still that day", ymd(2026, 3, 2), 15 * 60, std::nullopt, true},
           {"Monday 08:00, already run today", ymd(2026, 3, 2), 8 * 60, ymd(2026, 3, 2), false},
           {"Tuesday 07:00, last run Monday", ymd(2026, 3, 3), seven, ymd(2026, 3, 2), true},
           {"Saturday: no reminder", ymd(2026, 3, 7), seven, ymd(2026, 3, 6), false},
           {"Sunday: no reminder", ymd(2026, 3, 8), 12 * 60, ymd(2026, 3, 6), false},
           {"a holiday: no reminder", ymd(2026, 3, 19), seven, ymd(2026, 3, 18), false},
           {"the day after a holiday", ymd(2026, 3, 20), seven, ymd(2026, 3, 18), true},
           {"the clock went back a day", ymd(2026, 3, 2), seven, ymd(2026, 3, 3), false},
       }) {
    CAPTURE(c.label);
    CHECK(reminder_due(c.today, c.minute, seven, c.last_run, holidays) == c.due);
  }
}
