#include <doctest/doctest.h>

#include "intake/text.hpp"

#include <string>

using namespace kentongan::intake;

TEST_CASE("normalise_text: NFC, trimmed, whitespace collapsed") {
  struct row {
    const char* label;
    std::string in;
    std::string out;
  };
  const row rows[] = {
      {"plain", "LAPOR jalan rusak", "LAPOR jalan rusak"},
      {"trim", "  LAPOR  ", "LAPOR"},
      {"collapse", "a \t\r\n b", "a b"},
      {"nbsp", "a\xC2\xA0" "b", "a b"},
      {"ideographic space", "a\xE3\x80\x80" "b", "a b"},
      {"zero-width space dropped", "CE\xE2\x80\x8BK", "CEK"},
      {"bom dropped", "\xEF\xBB\xBF" "DAFTAR", "DAFTAR"},
      {"control dropped", std::string("a\x01" "b\x7f" "c"), "abc"},
      {"nul dropped", std::string("a\0b", 3), "ab"},
      {"NFC composes e + combining acute", "caf" "e\xCC\x81", "caf\xC3\xA9"},
      {"already NFC", "caf\xC3\xA9", "caf\xC3\xA9"},
      {"invalid byte replaced", "a\xFF" "b", "a\xEF\xBF\xBD" "b"},
      {"truncated sequence replaced", "a\xE2\x82", "a\xEF\xBF\xBD"},
      {"overlong replaced", "\xC0\xAF", "\xEF\xBF\xBD\xEF\xBF\xBD"},
      {"emoji kept", "ok \xF0\x9F\x91\x8D", "ok \xF0\x9F\x91\x8D"},
      {"empty", "", ""},
      {"only whitespace", " \n\t ", ""},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    CHECK(normalise_text(r.in) == r.out);
  }
}

TEST_CASE("normalise_text never throws on arbitrary bytes and is idempotent") {
  std::uint32_t x = 7;
  for (int i = 0; i < 3000; ++i) {
    std::string junk;
    const int n = static_cast<int>(x % 40);
    for (int j = 0; j < n; ++j) {
      x = x * 1664525u + 1013904223u;
      junk.push_back(static_cast<char>(x >> 24));
    }
    std::string once;
    CHECK_NOTHROW(once = normalise_text(junk));
    CHECK(normalise_text(once) == once);
  }
  CHECK(normalise_text(std::string(max_text_bytes + 10, 'a')).size() == max_text_bytes);
}

TEST_CASE("fold_case, slug and equals_folded") {
  CHECK(fold_case("LAPOR Jalan") == "lapor jalan");
  CHECK(fold_case("\xC3\x87" "EVRE") == "\xC3\xA7" "evre");
  CHECK(slug("Petani Kakao") == "petani-kakao");
  CHECK(slug(" warga_dusun_1 ") == "warga_dusun_1");
  CHECK(slug("petani--kakao!") == "petani-kakao");
  CHECK(slug("!!") == "");
  CHECK(equals_folded("BerhentI", "berhenti"));
  CHECK_FALSE(equals_folded("berhenti", "berhent"));
  CHECK(equals_folded("\xC3\x87", "\xC3\xA7"));
}
