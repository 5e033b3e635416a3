#include <doctest/doctest.h>

#include "protocol/gsm/gsm.hpp"
#include "tests/unit/gsm/test_util.hpp"

using namespace kentongan::gsm;
using kentongan::gsm::test::from_hex;
using kentongan::gsm::test::repeat;
using kentongan::gsm::test::to_hex;

namespace {

std::vector<std::size_t> part_units(const plan& p) {
  std::vector<std::size_t> out;
  for (const auto& pt : p.parts) out.push_back(pt.units);
  return out;
}

std::string joined(const plan& p) {
  std::string out;
  for (const auto& pt : p.parts) out += pt.text;
  return out;
}

// Every plan must be self-consistent whatever the text.
void check_invariants(const plan& p) {
  REQUIRE_FALSE(p.parts.empty());
  const bool gsm = p.enc == encoding::gsm7;
  const std::size_t limit = p.parts.size() == 1 ? (gsm ? 160 : 70) : (gsm ? 153 : 67);
  std::size_t total = 0;
  for (const auto& pt : p.parts) {
    CHECK(pt.units <= limit);
    total += pt.units;
    if (gsm) {
      CHECK(pt.payload.size() == pt.units);
      CHECK(decode_gsm7(pt.payload) == pt.text);
      if (!pt.payload.empty()) CHECK(pt.payload.back() != 0x1B);  // escape pair never split
    } else {
      CHECK(pt.payload.size() == 2 * pt.units);
      CHECK(decode_ucs2(pt.payload) == pt.text);
      if (pt.payload.size() >= 2) CHECK((pt.payload[pt.payload.size() - 2] & 0xFC) != 0xD8);  // no lone high surrogate
    }
  }
  CHECK(total == p.units);
  CHECK(p.remaining == limit - p.parts.back().units);
}

struct count_row {
  std::string_view id;
  std::string text;
  encoding enc;
  std::size_t units;
  std::vector<std::size_t> parts;  // units per part
};

}  // namespace

TEST_CASE("part counts and boundaries") {
  const std::string euro = "€";
  const std::string o = "ő";  // U+0151 forces UCS-2
  const count_row rows[] = {
      // vectors.md D.1 (python-messaging TestSubmitPduCounts)
      {"D1 x*160", repeat("x", 160), encoding::gsm7, 160, {160}},
      {"D2 x*161", repeat("x", 161), encoding::gsm7, 161, {153, 8}},
      {"D3 x*306", repeat("x", 306), encoding::gsm7, 306, {153, 153}},
      {"D4 x*307", repeat("x", 307), encoding::gsm7, 307, {153, 153, 1}},
      {"D5 x*459", repeat("x", 459), encoding::gsm7, 459, {153, 153, 153}},
      {"D6 x*460", repeat("x", 460), encoding::gsm7, 460, {153, 153, 153, 1}},
      {"D7 euro*80", repeat(euro, 80), encoding::gsm7, 160, {160}},
      {"D8 euro*79+x", repeat(euro, 79) + "x", encoding::gsm7, 159, {159}},
      {"euro*80+x", repeat(euro, 80) + "x", encoding::gsm7, 161, {152, 9}},
      {"D11 o*70", repeat(o, 70), encoding::ucs2, 70, {70}},
      {"D12 o*70+x", repeat(o, 70) + "x", encoding::ucs2, 71, {67, 4}},
      {"D13 o*134", repeat(o, 134), encoding::ucs2, 134, {67, 67}},
      {"D14 o*134+x", repeat(o, 134) + "x", encoding::ucs2, 135, {67, 67, 1}},
      {"D15 o*201", repeat(o, 201), encoding::ucs2, 201, {67, 67, 67}},
      {"D16 o*201+x", repeat(o, 201) + "x", encoding::ucs2, 202, {67, 67, 67, 1}},
      // D.2 (split-sms)
      {"D22 snowman*70", repeat("☃", 70), encoding::ucs2, 70, {70}},
      {"D23 snowman*71", repeat("☃", 71), encoding::ucs2, 71, {67, 4}},
      {"D26 whale snowman whale", "🐳☃🐳", encoding::ucs2, 5, {5}},
      {"35 whales fill one part", repeat("🐳", 35), encoding::ucs2, 70, {70}},
      {"36 whales", repeat("🐳", 36), encoding::ucs2, 72, {66, 6}},
      // An escape pair that would straddle the 153 boundary moves whole (split-sms: € at 152 ⇒ 152 septets).
      {"escape at part boundary", repeat("x", 152) + euro + repeat("x", 10), encoding::gsm7, 164, {152, 12}},
      {"escape just fits", repeat("x", 151) + euro + repeat("x", 10), encoding::gsm7, 163, {153, 10}},
      // A surrogate pair that would straddle the 67 boundary moves whole.
      {"emoji at part boundary", repeat("☃", 66) + "🐳" + repeat("☃", 5), encoding::ucs2, 73, {66, 7}},
      {"emoji just fits", repeat("☃", 65) + "🐳" + repeat("☃", 5), encoding::ucs2, 72, {67, 5}},
      {"empty", "", encoding::gsm7, 0, {0}},
  };
  for (const auto& r : rows) {
    CAPTURE(r.id);
    const plan p = plan_message(r.text);
    CHECK(p.enc == r.enc);
    CHECK(p.units == r.units);
    CHECK(part_units(p) == r.parts);
    CHECK(joined(p) == r.text);
    check_invariants(p);
  }
}

TEST_CASE("exact split points (split-sms)") {
  const std::string s =
      "0--------<1--------<2--------<3--------<4--------<5--------<6--------<7--------<8--------<9--------<"
      "10-------<11-------<12-------<13-------<14-------<15-------<";
  REQUIRE(s.size() == 160);
  // D17
  const plan one = plan_message(s);
  REQUIRE(one.parts.size() == 1);
  CHECK(one.parts[0].text == s);
  CHECK(one.remaining == 0);
  // D18
  const plan two = plan_message(s + "1");
  REQUIRE(two.parts.size() == 2);
  CHECK(two.parts[0].text == s.substr(0, 153));
  CHECK(two.parts[1].text == "------<1");
  CHECK(two.remaining == 153 - 8);
  // D21: the nine extension characters repeated to 80 characters = 160 septets, one part.
  std::string d21;
  const std::string chars[] = {"|", "^", "€", "{", "}", "[", "~", "]", "\\"};
  for (std::size_t i = 0; i < 80; ++i) d21 += chars[i % 9];
  const plan ext = plan_message(d21);
  CHECK(ext.enc == encoding::gsm7);
  CHECK(ext.units == 160);
  CHECK(ext.parts.size() == 1);
  check_invariants(ext);
}

TEST_CASE("Indonesian announcements stay GSM-7") {
  struct row { std::string_view label; std::string text; std::size_t units; std::size_t parts; };
  const row rows[] = {
      {"penyuluhan", "Penyuluhan hama kakao di balai desa, Sabtu 08.00", 48, 1},
      {"harga", "INFO HARGA: kakao kering Rp 38.500/kg, basah Rp 12.000/kg (Pasar Ekasari)", 73, 1},
      {"aspirasi", "ASPIRASI jalan ke Dusun Krajan rusak #jalan @kades", 50, 1},
      {"tiket", "Terima kasih. Aspirasi Anda dicatat dgn nomor ASP-2026-000123. Cek status: CEK ASP-2026-000123", 94, 1},
      {"brackets and tilde cost two", "Rapat [KIM] {Merta Abadi} ~ pukul 19.30", 44, 1},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    const plan p = plan_message(r.text);
    CHECK(p.enc == encoding::gsm7);
    CHECK(p.units == r.units);
    CHECK(p.parts.size() == r.parts);
    CHECK(p.remaining == 160 - r.units);
    check_invariants(p);
  }
}

TEST_CASE("transliteration turns smart punctuation back into GSM-7") {
  struct row { std::string_view label; std::string in; std::string out; };
  const row rows[] = {
      {"curly quotes", "“Gotong royong” besok, jangan lupa ‘cangkul’", "\"Gotong royong\" besok, jangan lupa 'cangkul'"},
      {"apostrophe", "Jum’at", "Jum'at"},
      {"dashes", "08.00–10.00 — balai desa", "08.00-10.00 - balai desa"},
      {"ellipsis", "Tunggu…", "Tunggu..."},
      {"no-break and thin spaces", "Rp\xC2\xA0" "38.500\xE2\x80\xAF/kg", "Rp 38.500 /kg"},
      {"zero-width space removed", "ka\xE2\x80\x8B" "kao", "kakao"},
      {"bullet and tab", "•\tPupuk", "- Pupuk"},
      {"guillemets", "«Info»", "\"Info\""},
      {"fullwidth", "ＫＩＭ！", "KIM!"},
      {"backtick", "`kode`", "'kode'"},
      {"small c cedilla", "ç", "Ç"},
      {"Greek lookalike capitals", "ΚΙΜ", "KIM"},
      {"untouched", "Halo dari Ekasari 🐳 é", "Halo dari Ekasari 🐳 é"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    CHECK(transliterate(r.in) == r.out);
  }

  const std::string curly = "Rapat “KIM Merta Abadi” Jum’at 08.00–10.00…";
  const plan raw = plan_message(curly);
  CHECK(raw.enc == encoding::ucs2);
  const plan fixed = plan_message(curly, {.transliterate = true});
  CHECK(fixed.enc == encoding::gsm7);
  REQUIRE(fixed.parts.size() == 1);
  CHECK(fixed.parts[0].text == "Rapat \"KIM Merta Abadi\" Jum'at 08.00-10.00...");
  check_invariants(fixed);

  // When transliteration cannot reach GSM-7 the original text goes out unchanged as UCS-2.
  const std::string emoji = "“Panen” 🐳";
  const plan still = plan_message(emoji, {.transliterate = true});
  CHECK(still.enc == encoding::ucs2);
  CHECK(joined(still) == emoji);
}

TEST_CASE("concatenation UDH") {
  CHECK(to_hex(concat_udh(0x17, 3, 1)) == "050003170301");
  CHECK(to_hex(concat_udh(0xFF, 255, 255)) == "050003FFFFFF");

  struct row {
    std::string_view label;
    const char* hex;
    std::optional<concat_info> concat;
    std::size_t length;
  };
  const row rows[] = {
      {"C26 8-bit ref 23, 1 of 3", "050003170301", concat_info{23, 3, 1}, 6},
      {"C27 16-bit ref 384, 2 of 4", "06080401800402", concat_info{384, 4, 2}, 7},
      {"C28 port 8-bit only", "0404026432", std::nullopt, 5},
      {"C29 port 16-bit then concat", "0B050404D21466000317030148656C6C6F", concat_info{23, 3, 1}, 12},
      {"diafaan UD", "050003010201AEE8B2BC0C0A", concat_info{1, 2, 1}, 6},
      {"empty header", "00", std::nullopt, 1},
      {"total 0 ignored", "050003170001", std::nullopt, 6},
      {"sequence 0 ignored", "050003170300", std::nullopt, 6},
      {"sequence above total ignored", "050003170304", std::nullopt, 6},
      {"concat with wrong IEDL skipped", "0400021703", std::nullopt, 5},
      {"last concat wins", "0A00031703010003180302", concat_info{24, 3, 2}, 11},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    const auto h = parse_udh(from_hex(r.hex));
    REQUIRE(h.has_value());
    CHECK(h->concat == r.concat);
    CHECK(h->length == r.length);
  }

  struct bad_row { std::string_view label; const char* hex; };
  const bad_row bad[] = {
      {"no octets", ""},
      {"UDHL beyond data", "05000317"},
      {"IE data beyond UDHL", "0300031703"},
      {"lone IEI", "0100"},
      {"IEDL beyond UDHL", "02000503"},
  };
  for (const auto& r : bad) {
    CAPTURE(r.label);
    CHECK_FALSE(parse_udh(from_hex(r.hex)).has_value());
  }
}

TEST_CASE("plan payloads carry the encoded text") {
  const plan gsm = plan_message("Halo €");
  REQUIRE(gsm.parts.size() == 1);
  CHECK(to_hex(gsm.parts[0].payload) == "48616C6F201B65");
  CHECK(gsm.units == 7);
  CHECK(gsm.remaining == 153);

  const plan ucs = plan_message("Halo 🐳");
  REQUIRE(ucs.parts.size() == 1);
  CHECK(to_hex(ucs.parts[0].payload) == "00480061006C006F0020D83DDC33");
  CHECK(ucs.units == 7);
  CHECK(ucs.remaining == 63);

  const plan empty = plan_message("");
  REQUIRE(empty.parts.size() == 1);
  CHECK(empty.parts[0].payload.empty());
  CHECK(empty.remaining == 160);
}
