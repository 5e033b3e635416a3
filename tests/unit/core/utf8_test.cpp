#include <doctest/doctest.h>

#include <optional>
#include <string>

#include "core/utf8.hpp"

using kentongan::core::first_invalid_utf8;

// Vectors from RFC 3629 §4/§10 and Markus Kuhn's UTF-8 decoder capability and stress test
// (sections 1-5; the section numbers are in the labels).
TEST_CASE("first_invalid_utf8 finds the first byte that is not well-formed UTF-8") {
  struct row {
    const char* label;
    std::string input;
    std::optional<std::size_t> expected;
  };
  const std::optional<std::size_t> ok;
  const row rows[] = {
      {"empty", "", ok},
      {"ASCII", "Kerja bakti Minggu pagi", ok},
      {"embedded NUL is a character", std::string("a\0b", 3), ok},
      {"Kuhn 1: kosme", "\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5", ok},
      {"RFC 3629 §7: Korean", "\xED\x95\x9C\xEA\xB5\xAD\xEC\x96\xB4", ok},
      {"RFC 3629 §7: CJK with BOM", "\xEF\xBB\xBF\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E", ok},
      {"Kuhn 2.1.2: first 2-byte U+0080", "\xC2\x80", ok},
      {"Kuhn 2.1.3: first 3-byte U+0800", "\xE0\xA0\x80", ok},
      {"Kuhn 2.1.4: first 4-byte U+10000", "\xF0\x90\x80\x80", ok},
      {"Kuhn 2.2.1: last 1-byte U+007F", "\x7F", ok},
      {"Kuhn 2.2.2: last 2-byte U+07FF", "\xDF\xBF", ok},
      {"Kuhn 2.2.3: last 3-byte U+FFFF", "\xEF\xBF\xBF", ok},
      {"Kuhn 2.3.1: U+D7FF", "\xED\x9F\xBF", ok},
      {"Kuhn 2.3.2: U+E000", "\xEE\x80\x80", ok},
      {"Kuhn 2.3.3: U+FFFD", "\xEF\xBF\xBD", ok},
      {"Kuhn 2.3.4: U+10FFFF", "\xF4\x8F\xBF\xBF", ok},
      {"Kuhn 5.3: noncharacter U+FFFE is well formed", "\xEF\xBF\xBE", ok},
      {"emoji U+1F4E2", "\xF0\x9F\x93\xA2", ok},
      {"Kuhn 2.3.5: U+110000", "\xF4\x90\x80\x80", 0},
      {"Kuhn 2.1.5: 5-byte form", "\xF8\x88\x80\x80\x80", 0},
      {"Kuhn 2.1.6: 6-byte form", "\xFC\x84\x80\x80\x80\x80", 0},
      {"lead F5 (above U+10FFFF)", "\xF5\x80\x80\x80", 0},
      {"Kuhn 3.1.1: first continuation byte", "\x80", 0},
      {"Kuhn 3.1.2: last continuation byte", "\xBF", 0},
      {"stray continuation after ASCII", "ab\x80", 2},
      {"Kuhn 3.1.3: two continuation bytes", "\x80\xBF", 0},
      {"Kuhn 3.2.1: lonely 2-byte start", "\xC2 ", 0},
      {"Kuhn 3.2.2: lonely 3-byte start", "\xE1 ", 0},
      {"Kuhn 3.2.3: lonely 4-byte start", "\xF1 ", 0},
      {"Kuhn 3.3.1: 2-byte sequence missing its last byte", "\xC2", 0},
      {"Kuhn 3.3.2: 3-byte sequence missing its last byte", "\xE0\xA0", 0},
      {"Kuhn 3.3.3: 4-byte sequence missing its last byte", "\xF0\x90\x80", 0},
      {"truncated after a valid prefix", "Rp \xE2\x82", 3},
      {"truncated 3-byte with a wrong last byte", "\xE1\x80 ", 0},
      {"Kuhn 3.5.1: FE", "\xFE", 0},
      {"Kuhn 3.5.2: FF", "\xFF", 0},
      {"Kuhn 4.1.1: overlong '/' in 2 bytes", "\xC0\xAF", 0},
      {"Kuhn 4.1.2: overlong '/' in 3 bytes", "\xE0\x80\xAF", 0},
      {"Kuhn 4.1.3: overlong '/' in 4 bytes", "\xF0\x80\x80\xAF", 0},
      {"Kuhn 4.2.1: largest overlong 2-byte", "\xC1\xBF", 0},
      {"Kuhn 4.2.2: largest overlong 3-byte", "\xE0\x9F\xBF", 0},
      {"Kuhn 4.2.3: largest overlong 4-byte", "\xF0\x8F\xBF\xBF", 0},
      {"Kuhn 4.3.1: overlong NUL", "\xC0\x80", 0},
      {"Kuhn 5.1.1: surrogate U+D800", "\xED\xA0\x80", 0},
      {"Kuhn 5.1.7: surrogate U+DFFF", "\xED\xBF\xBF", 0},
      {"Kuhn 5.2.1: surrogate pair U+D800 U+DC00", "\xED\xA0\x80\xED\xB0\x80", 0},
      {"offset counts bytes, not characters", "caf\xC3\xA9 \xC0\x80", 6},
      {"first of several faults wins", "ok\xFF\xC0\x80", 2},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    CHECK(first_invalid_utf8(r.input) == r.expected);
  }
}
