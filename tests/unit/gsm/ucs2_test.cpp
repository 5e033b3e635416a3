#include <doctest/doctest.h>

#include "protocol/gsm/gsm.hpp"
#include "tests/unit/gsm/test_util.hpp"

using namespace kentongan::gsm;
using kentongan::gsm::test::from_hex;
using kentongan::gsm::test::to_hex;

namespace {
struct utf16_row {
  std::string_view label;
  const char* text;
  const char* utf16be;
};
}  // namespace

TEST_CASE("UCS-2 / UTF-16BE round-trips") {
  const utf16_row rows[] = {
      {"F13 中兴通讯", "中兴通讯", "4E2D5174901A8BAF"},
      {"F7 あ叶葉", "あ叶葉", "304253F68449"},
      {"F24 Русский", "Русский", "0420044304410441043A04380439"},
      {"F27 世界您好！", "世界您好！", "4E16754C60A8597DFF01"},
      {"whale is a surrogate pair", "🐳", "D83DDC33"},
      {"snowman", "☃", "2603"},
      {"ascii", "Rp", "00520070"},
      {"empty", "", ""},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    CHECK(to_hex(encode_ucs2(r.text)) == r.utf16be);
    CHECK(decode_ucs2(from_hex(r.utf16be)) == r.text);
  }
}

TEST_CASE("bad UTF-16 and bad UTF-8 become U+FFFD") {
  const std::string fffd = "\xEF\xBF\xBD";
  struct row { std::string_view label; const char* hex; std::string text; };
  const row rows[] = {
      {"lone high surrogate", "D83D", fffd},
      {"lone low surrogate", "DC33", fffd},
      {"high surrogate then letter", "D83D0041", fffd + "A"},
      {"two high surrogates then low", "D83DD83DDC33", fffd + "🐳"},
      {"odd trailing octet", "004100", "A" + fffd},
      {"single octet", "41", fffd},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    CHECK(decode_ucs2(from_hex(r.hex)) == r.text);
  }
  // Invalid UTF-8: one U+FFFD per maximal ill-formed subpart (Unicode §3.9).
  struct utf8_row { std::string_view label; std::string in; const char* utf16be; };
  const utf8_row bad[] = {
      {"stray continuation", "a\x80" "b", "0061FFFD0062"},
      {"truncated 3-byte", "\xE2\x82" "a", "FFFD0061"},
      {"overlong", "\xC0\xAF", "FFFDFFFD"},
      {"encoded surrogate", "\xED\xA0\x80", "FFFDFFFDFFFD"},
      {"above U+10FFFF", "\xF4\x90\x80\x80", "FFFDFFFDFFFDFFFD"},
      {"0xFF", "\xFF", "FFFD"},
  };
  for (const auto& r : bad) {
    CAPTURE(r.label);
    CHECK(to_hex(encode_ucs2(r.in)) == r.utf16be);
    const plan p = plan_message(r.in);
    CHECK(p.enc == encoding::ucs2);
  }
}

TEST_CASE("Latin-1 (SMPP data_coding 3)") {
  struct row { std::string_view label; const char* hex; const char* text; };
  const row rows[] = {
      {"ascii", "48616C6F", "Halo"},
      {"e acute, pound", "E9A3", "é£"},
      {"no-break space, y umlaut", "A0FF", "\xC2\xA0ÿ"},
      {"empty", "", ""},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    CHECK(decode_latin1(from_hex(r.hex)) == r.text);
  }
}
