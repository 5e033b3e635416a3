#include <doctest/doctest.h>

#include "intake/poll.hpp"

#include <optional>
#include <string>
#include <vector>

using namespace kentongan::intake;

TEST_CASE("poll replies are recognised as votes") {
  const std::vector<std::string> days{"Sabtu", "Minggu"};
  const std::vector<std::string> times{"Sabtu pagi", "Minggu pagi", "Minggu sore"};
  struct row {
    const char* text;
    const std::vector<std::string>* options;
    std::optional<int> expected;
  };
  const row rows[] = {
      {"1", &days, 1},
      {"2", &days, 2},
      {" 2 ", &days, 2},
      {"2.", &days, 2},
      {"2)", &days, 2},
      {"#1", &days, 1},
      {"PILIH 2", &days, 2},
      {"pilih 1", &days, 1},
      {"Pilihan: 2", &days, 2},
      {"opsi 1", &days, 1},
      {"sabtu", &days, 1},
      {"SABTU", &days, 1},
      {"Minggu!", &days, 2},
      {"pilih minggu", &days, 2},
      {"dua", &days, 2},
      {"satu", &days, 1},
      {"3", &days, std::nullopt},
      {"0", &days, std::nullopt},
      {"tiga", &days, std::nullopt},
      {"1 2", &days, std::nullopt},
      {"sabtu atau minggu", &days, std::nullopt},
      {"", &days, std::nullopt},
      {"PILIH", &days, std::nullopt},
      {"jalan rusak", &days, std::nullopt},
      {"1000", &days, std::nullopt},
      {"Sabtu pagi", &times, 1},
      {"sabtu", &times, 1},
      {"sore", &times, 3},
      {"minggu", &times, std::nullopt},  // two options have it
      {"pagi", &times, std::nullopt},
      {"Minggu sore", &times, 3},
      {"3", &times, 3},
  };
  for (const auto& r : rows) {
    CAPTURE(r.text);
    CHECK(parse_vote(r.text, *r.options) == r.expected);
  }
  CHECK_FALSE(parse_vote("1", {}).has_value());
}

TEST_CASE("an option that is itself a number word wins over the number") {
  const std::vector<std::string> options{"Tiga", "Satu"};
  CHECK(parse_vote("satu", options) == 2);
  CHECK(parse_vote("1", options) == 1);
}
