#include <algorithm>
#include <array>
#include <string_view>

#include "protocol/gsm/detail.hpp"
#include "protocol/gsm/gsm.hpp"

namespace kentongan::gsm {
namespace {

struct look_alike {
  char32_t from;
  std::string_view to;
};

// Characters that word processors and phones insert silently and that would force UCS-2 (half the
// capacity per part) although a GSM-7 character reads the same. Sorted by code point for binary search.
constexpr std::array<look_alike, 64> look_alikes = {{
    {0x0009, " "},    // tab
    {0x0060, "'"},    // grave accent / backtick: not in 23.038
    {0x00A0, " "},    // no-break space
    {0x00AB, "\""},   // «
    {0x00AD, ""},     // soft hyphen: invisible
    {0x00B4, "'"},    // acute accent
    {0x00BB, "\""},   // »
    {0x00E7, "\xC3\x87"},  // ç → Ç: 23.038 0x09 is the capital (see gsm.hpp)
    {0x02BC, "'"},    // modifier letter apostrophe
    {0x02C6, "^"},
    {0x02DC, "~"},
    {0x0391, "A"},    // Greek capitals that look Latin (python-messaging GREEK_MAP)
    {0x0392, "B"},
    {0x0395, "E"},
    {0x0396, "Z"},
    {0x0397, "H"},
    {0x0399, "I"},
    {0x039A, "K"},
    {0x039C, "M"},
    {0x039D, "N"},
    {0x039F, "O"},
    {0x03A1, "P"},
    {0x03A4, "T"},
    {0x03A5, "Y"},
    {0x03A7, "X"},
    {0x1680, " "},    // Ogham space mark
    {0x2000, " "},    // en quad … hair space
    {0x2001, " "},
    {0x2002, " "},
    {0x2003, " "},
    {0x2004, " "},
    {0x2005, " "},
    {0x2006, " "},
    {0x2007, " "},
    {0x2008, " "},
    {0x2009, " "},
    {0x200A, " "},
    {0x200B, ""},     // zero-width space
    {0x2010, "-"},    // hyphen … horizontal bar
    {0x2011, "-"},
    {0x2012, "-"},
    {0x2013, "-"},
    {0x2014, "-"},
    {0x2015, "-"},
    {0x2018, "'"},    // ‘ ’ ‚ ‛
    {0x2019, "'"},
    {0x201A, "'"},
    {0x201B, "'"},
    {0x201C, "\""},   // “ ” „ ‟
    {0x201D, "\""},
    {0x201E, "\""},
    {0x201F, "\""},
    {0x2022, "-"},    // bullet
    {0x2026, "..."},  // ellipsis
    {0x2028, "\n"},   // line separator
    {0x2029, "\n"},   // paragraph separator
    {0x202F, " "},    // narrow no-break space
    {0x2032, "'"},    // prime
    {0x2033, "\""},   // double prime
    {0x2039, "<"},
    {0x203A, ">"},
    {0x205F, " "},    // medium mathematical space
    {0x2060, ""},     // word joiner
    {0x2212, "-"},    // minus sign
}};

static_assert(std::is_sorted(look_alikes.begin(), look_alikes.end(),
                             [](const look_alike& a, const look_alike& b) { return a.from < b.from; }));

void append_utf16be(std::vector<std::uint8_t>& out, char32_t unit) {
  out.push_back(static_cast<std::uint8_t>(unit >> 8));
  out.push_back(static_cast<std::uint8_t>(unit & 0xFF));
}

}  // namespace

std::vector<std::uint8_t> encode_ucs2(std::string_view utf8) {
  std::vector<std::uint8_t> out;
  out.reserve(utf8.size() * 2);
  for (char32_t cp : detail::decode_utf8(utf8)) {
    if (cp >= 0x10000) {
      const char32_t v = cp - 0x10000;
      append_utf16be(out, 0xD800 + (v >> 10));
      append_utf16be(out, 0xDC00 + (v & 0x3FF));
    } else {
      append_utf16be(out, cp);
    }
  }
  return out;
}

std::string decode_ucs2(std::span<const std::uint8_t> utf16be) {
  std::string out;
  out.reserve(utf16be.size());
  const std::size_t units = utf16be.size() / 2;
  auto unit_at = [&utf16be](std::size_t i) {
    return static_cast<char32_t>((utf16be[2 * i] << 8) | utf16be[2 * i + 1]);
  };
  for (std::size_t i = 0; i < units; ++i) {
    const char32_t u = unit_at(i);
    if (u >= 0xD800 && u <= 0xDBFF && i + 1 < units) {
      const char32_t low = unit_at(i + 1);
      if (low >= 0xDC00 && low <= 0xDFFF) {
        detail::append_utf8(out, 0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00));
        ++i;
        continue;
      }
    }
    detail::append_utf8(out, u);  // a lone surrogate comes out as U+FFFD
  }
  if (utf16be.size() % 2 != 0) detail::append_utf8(out, detail::replacement_char);
  return out;
}

std::string decode_latin1(std::span<const std::uint8_t> bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (std::uint8_t b : bytes) detail::append_utf8(out, b);
  return out;
}

std::string transliterate(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size());
  for (char32_t cp : detail::decode_utf8(utf8)) {
    if (cp >= 0xFF01 && cp <= 0xFF5E) {  // fullwidth ASCII forms
      detail::append_utf8(out, cp - 0xFEE0);
      continue;
    }
    if (cp == 0x3000) {  // ideographic space
      out.push_back(' ');
      continue;
    }
    const auto it = std::lower_bound(look_alikes.begin(), look_alikes.end(), cp,
                                     [](const look_alike& a, char32_t c) { return a.from < c; });
    if (it != look_alikes.end() && it->from == cp) {
      out += it->to;
    } else {
      detail::append_utf8(out, cp);
    }
  }
  return out;
}

}  // namespace kentongan::gsm
