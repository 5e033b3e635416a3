#include <doctest/doctest.h>

#include "config/config.hpp"
#include "tests/unit/config/config_test_support.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

using namespace kentongan;
namespace fs = std::filesystem;
using std::chrono::sys_days;
using namespace std::chrono_literals;

namespace {

using config_test::messages;

struct scratch : config_test::scratch {
  scratch() : config_test::scratch("kentongan-holidays-test-") {}
};

constexpr sys_days day(int y, unsigned m, unsigned d) {
  return sys_days{std::chrono::year{y} / std::chrono::month{m} / std::chrono::day{d}};
}

}  // namespace

TEST_CASE("village.holidays: dates in the config, sorted and without duplicates") {
  struct row {
    std::string label;
    std::string holidays;
    std::vector<sys_days> expected;
  };
  const row rows[] = {
      {"none", "[]", {}},
      {"one", R"(["2026-12-25"])", {day(2026, 12, 25)}},
      {"sorted, duplicates dropped", R"(["2027-01-01", "2026-12-25", "2027-01-01"])", {day(2026, 12, 25), day(2027, 1, 1)}},
      {"29 February in a leap year", R"(["2028-02-29"])", {day(2028, 2, 29)}},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    const auto got = config::load_text(R"({"village": {"name": "X", "holidays": )" + r.holidays + "}}", "k.json");
    REQUIRE(messages(got) == "");
    CHECK(got.config->village.holidays == r.expected);
  }
  SUBCASE("absent: no holidays") {
    const auto got = config::load_text(R"({"village": {"name": "X"}})", "k.json");
    REQUIRE(got.config);
    CHECK(got.config->village.holidays.empty());
    CHECK(got.config->village.holidays_file.empty());
    CHECK(config::summary(*got.config).find("  working days Monday to Friday; no holidays configured (village.holidays)\n") !=
          std::string::npos);
  }
  SUBCASE("check-config's summary names how many and their span") {
    const auto got = config::load_text(R"({"village": {"name": "X", "holidays": ["2027-01-01", "2026-08-17", "2026-12-25"]}})",
                                       "k.json");
    REQUIRE(got.config);
    CHECK(config::summary(*got.config).find("  working days Monday to Friday except 3 holidays, 2026-08-17 to 2027-01-01\n") !=
          std::string::npos);
  }
}

TEST_CASE("village.holidays: bad and impossible dates with file:line:col") {
  struct row {
    std::string label;
    std::string holidays;
    std::string expected;
  };
  const row rows[] = {
      {"day first", R"(["25-12-2026"])",
       R"(k.json:1:40: village.holidays[0]: expected a date "YYYY-MM-DD" such as "2026-12-25", found "25-12-2026")"},
      {"slashes", R"(["2026/12/25"])",
       R"(k.json:1:40: village.holidays[0]: expected a date "YYYY-MM-DD" such as "2026-12-25", found "2026/12/25")"},
      {"no leading zero", R"(["2026-1-1"])",
       R"(k.json:1:40: village.holidays[0]: expected a date "YYYY-MM-DD" such as "2026-12-25", found "2026-1-1")"},
      {"with a time", R"(["2026-12-25T00:00"])",
       R"(k.json:1:40: village.holidays[0]: expected a date "YYYY-MM-DD" such as "2026-12-25", found "2026-12-25T00:00")"},
      {"30 February", R"(["2026-02-30"])",
       R"(k.json:1:40: village.holidays[0]: "2026-02-30" is not a date: February 2026 has 28 days)"},
      {"29 February, not a leap year", R"(["2027-02-29"])",
       R"(k.json:1:40: village.holidays[0]: "2027-02-29" is not a date: February 2027 has 28 days)"},
      {"31 April", R"(["2026-04-31"])", R"(k.json:1:40: village.holidays[0]: "2026-04-31" is not a date: April 2026 has 30 days)"},
      {"day 0", R"(["2026-05-00"])", R"(k.json:1:40: village.holidays[0]: "2026-05-00" is not a date: May 2026 has 31 days)"},
      {"month 13", R"(["2026-13-01"])", R"(k.json:1:40: village.holidays[0]: "2026-13-01" is not a date: there is no month 13)"},
      {"month 0", R"(["2026-00-10"])", R"(k.json:1:40: village.holidays[0]: "2026-00-10" is not a date: there is no month 0)"},
      {"year typo", R"(["0206-12-25"])",
       R"(k.json:1:40: village.holidays[0]: "0206-12-25" is not a date this config can mean: the year must be 2000 to 2099)"},
      {"a number", R"([20261225])",
       R"(k.json:1:40: village.holidays[0]: expected a date "YYYY-MM-DD" such as "2026-12-25", found 20261225)"},
      {"second one bad", R"(["2026-12-25", "2026-12-32"])",
       R"(k.json:1:54: village.holidays[1]: "2026-12-32" is not a date: December 2026 has 31 days)"},
      {"an object", R"({"natal": "2026-12-25"})",
       R"(k.json:1:39: village.holidays: expected a list of dates, like ["2026-12-25"], found an object)"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    const auto got = config::load_text(R"({"village": {"name": "X", "holidays": )" + r.holidays + "}}", "k.json");
    CHECK(messages(got) == r.expected);
    CHECK_FALSE(got.config.has_value());
  }
}

TEST_CASE("village.holidays_file: one date per line, # comments") {
  scratch s;
  const auto cfg = (s.dir / "k.json").string();
  SUBCASE("dates, comments, blank lines, CRLF, a BOM, merged with the inline list") {
    s.write("libur.txt",
            "\xEF\xBB\xBF# Libur nasional dan cuti bersama 2026 (SKB 3 Menteri)\r\n"
            "2026-12-25  # Natal\r\n"
            "\r\n"
            "   2026-12-24\t# cuti bersama\n"
            "2027-01-01\n"
            "2026-12-25\n");
    const auto got = config::load_text(R"({"village": {"name": "X", "holidays": ["2026-08-17"], "holidays_file": "libur.txt"}})", cfg);
    REQUIRE(messages(got) == "");
    CHECK(got.config->village.holidays ==
          std::vector<sys_days>{day(2026, 8, 17), day(2026, 12, 24), day(2026, 12, 25), day(2027, 1, 1)});
    CHECK(got.config->village.holidays_file == (s.dir / "libur.txt").string());
  }
  SUBCASE("bad lines: each reported at its line and column, in the holidays file") {
    s.write("libur.txt",
            "2026-12-25 # Natal\n"
            "  25-12-2026\n"
            "2026-02-30\n"
            "2026-12-24 cuti bersama\n"
            "# 2026-13-01 commented out, fine\n");
    const auto got = config::load_text(R"({"village": {"name": "X", "holidays_file": "libur.txt"}})", cfg);
    const std::string f = (s.dir / "libur.txt").string();
    CHECK(messages(got) ==
          f + R"(:2:3: expected a date "YYYY-MM-DD" such as "2026-12-25", found "25-12-2026")" + "\n" +
          f + R"(:3:1: "2026-02-30" is not a date: February 2026 has 28 days)" + "\n" +
          f + R"(:4:12: unexpected "cuti bersama" after the date; write one date per line and start a note with #, like "2026-12-24  # cuti bersama")");
    CHECK_FALSE(got.config.has_value());
  }
  SUBCASE("missing file") {
    const auto got = config::load_text(R"({"village": {"name": "X", "holidays_file": "nope.txt"}})", cfg);
    CHECK(messages(got) == cfg + ":1:44: village.holidays_file: file \"" + (s.dir / "nope.txt").string() + "\" does not exist");
  }
}
