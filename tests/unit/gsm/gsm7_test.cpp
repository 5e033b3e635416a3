#include <doctest/doctest.h>

#include "protocol/gsm/gsm.hpp"
#include "tests/unit/gsm/test_util.hpp"

using namespace kentongan::gsm;
using kentongan::gsm::test::from_hex;
using kentongan::gsm::test::to_hex;

namespace {
struct mapping {
  std::string_view label;
  const char* text;
  const char* septets;  // hex, unpacked
};
}  // namespace

TEST_CASE("every special character maps to its 23.038 septet and back") {
  // 3GPP TS 23.038 §6.2.1 default alphabet (protocols.md §2.1).
  const mapping rows[] = {
      {"at", "@", "00"},            {"pound", "£", "01"},        {"dollar", "$", "02"},
      {"yen", "¥", "03"},           {"e grave", "è", "04"},      {"e acute", "é", "05"},
      {"u grave", "ù", "06"},       {"i grave", "ì", "07"},      {"o grave", "ò", "08"},
      {"C cedilla", "Ç", "09"},     {"LF", "\n", "0A"},          {"O slash", "Ø", "0B"},
      {"o slash", "ø", "0C"},       {"CR", "\r", "0D"},          {"A ring", "Å", "0E"},
      {"a ring", "å", "0F"},        {"Delta", "Δ", "10"},        {"underscore", "_", "11"},
      {"Phi", "Φ", "12"},           {"Gamma", "Γ", "13"},        {"Lambda", "Λ", "14"},
      {"Omega", "Ω", "15"},         {"Pi", "Π", "16"},           {"Psi", "Ψ", "17"},
      {"Sigma", "Σ", "18"},         {"Theta", "Θ", "19"},        {"Xi", "Ξ", "1A"},
      {"AE", "Æ", "1C"},            {"ae", "æ", "1D"},           {"sharp s", "ß", "1E"},
      {"E acute", "É", "1F"},       {"space", " ", "20"},        {"currency", "¤", "24"},
      {"inverted !", "¡", "40"},    {"A umlaut", "Ä", "5B"},     {"O umlaut", "Ö", "5C"},
      {"N tilde", "Ñ", "5D"},       {"U umlaut", "Ü", "5E"},     {"section", "§", "5F"},
      {"inverted ?", "¿", "60"},    {"a umlaut", "ä", "7B"},     {"o umlaut", "ö", "7C"},
      {"n tilde", "ñ", "7D"},       {"u umlaut", "ü", "7E"},     {"a grave", "à", "7F"},
      {"digits", "0189", "30313839"}, {"letters", "AZaz", "415A617A"},
      {"punctuation", "!\"#%&'()*+,-./:;<=>?", "2122232526272829 2A2B2C2D2E2F3A3B3C3D3E3F"},
      // C1–C6 (gsmmodem TestGsm7), unpacked form.
      {"C1", "hellohello", "68656c6c6f68656c6c6f"},
      {"C6", "Hello World!", "48656c6c6f20576f726c6421"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    std::string hex = r.septets;
    std::erase(hex, ' ');
    const auto expected = from_hex(hex);
    const auto septets = encode_gsm7(r.text);
    REQUIRE(septets.has_value());
    CHECK(to_hex(*septets) == to_hex(expected));
    CHECK(decode_gsm7(expected) == r.text);
  }
}

TEST_CASE("extension-table characters are ESC + code and cost two septets") {
  // 23.038 §6.2.1.1 (protocols.md §2.2).
  const mapping rows[] = {
      {"euro", "€", "1B65"},     {"left bracket", "[", "1B3C"}, {"right bracket", "]", "1B3E"},
      {"left brace", "{", "1B28"}, {"right brace", "}", "1B29"}, {"backslash", "\\", "1B2F"},
      {"caret", "^", "1B14"},    {"tilde", "~", "1B3D"},        {"pipe", "|", "1B40"},
      {"form feed", "\f", "1B0A"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    const auto septets = encode_gsm7(r.text);
    REQUIRE(septets.has_value());
    CHECK(septets->size() == 2);
    CHECK(to_hex(*septets) == r.septets);
    CHECK(decode_gsm7(from_hex(r.septets)) == r.text);
    CHECK(plan_message(r.text).units == 2);
  }
}

TEST_CASE("characters outside the alphabet are not GSM-7") {
  struct row { std::string_view label; const char* text; };
  const row rows[] = {
      {"backtick", "`"},           {"curly apostrophe", "’"},     {"small c cedilla (policy: 0x09 is Ç)", "ç"},
      {"a acute", "á"},            {"emoji", "🐳"},               {"C.1 Chinese", "世界您好！"},
      {"no-break space", "\xC2\xA0"}, {"tab", "\t"},            {"invalid UTF-8", "abc\xFF"},
      {"truncated UTF-8", "\xE2\x82"}, {"overlong slash", "\xC0\xAF"}, {"UTF-8 surrogate", "\xED\xA0\x80"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    CHECK_FALSE(encode_gsm7(r.text).has_value());
  }
}

TEST_CASE("decoding odd septet sequences never fails") {
  // 23.038 §6.2.1.1: an unknown escape shows the default-alphabet character; lone or double ESC shows a space.
  const mapping rows[] = {
      {"unknown escape shows main table", "A", "1B41"},
      {"escaped @", "@", "1B00"},
      {"trailing ESC", "ab ", "61621B"},
      {"ESC ESC", "a b", "611B1B62"},
      {"ESC CR2 shows CR", "\r", "1B0D"},
      {"top bit set", "a\xEF\xBF\xBD", "6180"},
      {"escape of top-bit octet", "\xEF\xBF\xBD", "1BFF"},
      {"empty", "", ""},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    CHECK(decode_gsm7(from_hex(r.septets)) == r.text);
  }
}

TEST_CASE("septet packing matches the published vectors") {
  // vectors.md C.1 (gsmmodem TestGsm7, dreamfabric "hellohello", python-messaging).
  struct row { std::string_view id; const char* text; const char* packed; };
  const row rows[] = {
      {"C1", "hellohello", "E8329BFD4697D9EC37"},
      {"C2", "hello", "E8329BFD06"},
      {"C3", "123", "31D90C"},
      {"C4", "12345678", "31D98C56B3DD70"},
      {"C5", "123456789", "31D98C56B3DD7039"},
      {"C6", "Hello World!", "C8329BFD065DDF72363904"},
      {"C10", "123456789012345678901234567890", "31D98C56B3DD7039584C36A3D56C375C0E1693CD6835DB0D978301"},
      {"C11", "hola", "E8373B0C"},
      {"C12", "How are you?", "C8F71D14969741F977FD07"},
      {"empty", "", ""},
  };
  for (const auto& r : rows) {
    CAPTURE(r.id);
    const auto septets = encode_gsm7(r.text);
    REQUIRE(septets.has_value());
    CHECK(to_hex(pack_septets(*septets)) == r.packed);
    CHECK(unpack_septets(from_hex(r.packed), septets->size()) == *septets);
  }
}

TEST_CASE("160 septets pack into 140 octets") {
  const std::vector<std::uint8_t> septets(160, 0x78);
  const auto packed = pack_septets(septets);
  CHECK(packed.size() == 140);
  CHECK(unpack_septets(packed, 160) == septets);
}

TEST_CASE("fill bits after a concatenation UDH") {
  // protocols.md §2.3, diafaan example: UD = 050003010201 | AEE8B2BC0C..., UDL 12 = 7 header septets + "Where";
  // the 6-octet UDH leaves 1 fill bit before the first text septet.
  const auto where = encode_gsm7("Where");
  REQUIRE(where.has_value());
  const auto packed = pack_septets(*where, 1);
  CHECK(to_hex(packed) == "AEE8B2BC0C");
  CHECK(unpack_septets(from_hex("AEE8B2BC0C0A"), 5, 1) == *where);
  CHECK(decode_gsm7(unpack_septets(packed, 5, 1)) == "Where");
}

TEST_CASE("unpacking stops when the octets run out") {
  const auto packed = from_hex("E8329BFD06");  // "hello"
  CHECK(unpack_septets(packed, 5).size() == 5);
  CHECK(unpack_septets(packed, 100).size() == 5);  // 40 bits hold 5 septets, not 6
  CHECK(unpack_septets({}, 3).empty());
  CHECK(unpack_septets(from_hex("FF"), 2, 6).empty());
  CHECK(pack_septets(std::vector<std::uint8_t>{0xFF}) == std::vector<std::uint8_t>{0x7F});
}

TEST_CASE("packing round-trips for every fill") {
  std::vector<std::uint8_t> septets;
  for (unsigned i = 0; i < 128; ++i) septets.push_back(static_cast<std::uint8_t>(i));
  for (unsigned fill = 0; fill < 7; ++fill) {
    CAPTURE(fill);
    for (std::size_t n = 0; n <= septets.size(); n += 9) {
      CAPTURE(n);
      const std::span<const std::uint8_t> head(septets.data(), n);
      const auto packed = pack_septets(head, fill);
      CHECK(packed.size() == (fill + 7 * n + 7) / 8);
      CHECK(unpack_septets(packed, n, fill) == std::vector<std::uint8_t>(head.begin(), head.end()));
    }
  }
}

TEST_CASE("encoding names") {
  CHECK(to_string(encoding::gsm7) == "gsm7");
  CHECK(to_string(encoding::ucs2) == "ucs2");
}
