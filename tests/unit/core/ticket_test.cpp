#include <doctest/doctest.h>

#include "core/ticket.hpp"

#include <optional>

using namespace kentongan::core;

TEST_CASE("tickets are a prefix and at least four digits") {
  struct row {
    const char* prefix;
    std::int64_t seq;
    const char* expected;
  };
  const row rows[] = {
      {"A", 1, "A0001"},        {"A", 123, "A0123"},      {"A", 9999, "A9999"},
      {"A", 10000, "A10000"},   {"A", 1234567, "A1234567"}, {"", 5, "0005"},
      {"ASP-", 42, "ASP-0042"}, {"A", 0, "A0000"},        {"A", -7, "A0000"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.seq);
    CHECK(format_ticket(r.prefix, r.seq) == r.expected);
  }
}

TEST_CASE("tickets parse however a resident types them") {
  struct row {
    const char* text;
    const char* prefix;
    std::optional<std::int64_t> expected;
  };
  const row rows[] = {
      {"0123", "A", 123},
      {"A0123", "A", 123},
      {"a0123", "A", 123},
      {"A-0123", "A", 123},
      {"a-0123", "A", 123},
      {"A 0123", "A", 123},
      {"A.0123", "A", 123},
      {"#A0123", "A", 123},
      {"#0123", "A", 123},
      {" A0123 ", "A", 123},
      {"A0123.", "A", 123},
      {"A0123?", "A", 123},
      {"123", "A", 123},
      {"A12345", "A", 12345},
      {"A999999999999999999", "A", 999999999999999999},
      {"ASP-0042", "ASP-", 42},
      {"asp-0042", "ASP-", 42},
      {"0042", "ASP-", 42},
      {"B0123", "A", std::nullopt},
      {"A", "A", std::nullopt},
      {"A-", "A", std::nullopt},
      {"", "A", std::nullopt},
      {"#", "A", std::nullopt},
      {"A0123 tolong", "A", std::nullopt},
      {"A0123b", "A", std::nullopt},
      {"A--0123", "A", std::nullopt},
      {"AA0123", "A", std::nullopt},
      {"A1234567890123456789", "A", std::nullopt},  // 19 digits would overflow
      {"-0123", "A", std::nullopt},
      {"A0123", "", std::nullopt},
  };
  for (const auto& r : rows) {
    CAPTURE(r.text);
    CAPTURE(r.prefix);
    CHECK(parse_ticket(r.text, r.prefix) == r.expected);
  }
}

TEST_CASE("format and parse round-trip") {
  for (std::int64_t seq : {1, 99, 123, 9999, 10000, 123456789}) {
    CAPTURE(seq);
    CHECK(parse_ticket(format_ticket("A", seq), "A") == seq);
    CHECK(parse_ticket(format_ticket("ASP-", seq), "ASP-") == seq);
  }
}

TEST_CASE("a ticket at the start of a longer text") {
  const auto m = match_ticket("A0123 sudah diperbaiki", "A");
  REQUIRE(m.has_value());
  CHECK(m->seq == 123);
  CHECK(m->length == 5);
  CHECK_FALSE(match_ticket("Aspirasi 12", "A").has_value());
}

TEST_CASE("storage finds a ticket whatever its prefix") {
  struct row {
    const char* typed;
    std::optional<std::int64_t> expected;
  };
  const row rows[] = {
      {"0123", 123},
      {"A0123", 123},
      {"a0123", 123},
      {"ASP-0123", 123},
      {"B0042", 42},
      {"-0123", 123},
      {" \tA0123\r\n", 123},
      {"A123456789012345", 123456789012345},
      {"A1234567890123456", std::nullopt},  // 16 digits
      {"A0000", std::nullopt},
      {"", std::nullopt},
      {"A", std::nullopt},
      {"A-", std::nullopt},
      {"#A0123", std::nullopt},
      {"A 0123", std::nullopt},
      {"A--0123", std::nullopt},
      {"A0123.", std::nullopt},
      {"A0123b", std::nullopt},
      {"A0123 tolong", std::nullopt},
  };
  for (const auto& r : rows) {
    CAPTURE(r.typed);
    CHECK(parse_ticket_any_prefix(r.typed) == r.expected);
  }
}

TEST_CASE("storage's lookup reads back what format_ticket wrote") {
  for (std::int64_t seq : {1, 99, 123, 9999, 10000, 123456789}) {
    CAPTURE(seq);
    CHECK(parse_ticket_any_prefix(format_ticket("A", seq)) == seq);
    CHECK(parse_ticket_any_prefix(format_ticket("ASP-", seq)) == seq);
  }
}
