#include <array>
#include <utility>

#include "protocol/gsm/gsm.hpp"
#include "protocol/gsm/detail.hpp"

namespace kentongan::gsm {
namespace {

constexpr std::uint8_t esc = 0x1B;

// 3GPP TS 23.038 §6.2.1, default alphabet, indexed by septet. 0x09 is capital Ç as the spec draws it
// (Unicode's GSM0338.TXT says small ç); 0x1B is ESC and is never looked up through this table.
constexpr std::array<char32_t, 128> default_alphabet = {
    U'@',    U'\u00A3', U'$',      U'\u00A5', U'\u00E8', U'\u00E9', U'\u00F9', U'\u00EC',
    U'\u00F2', U'\u00C7', U'\n',   U'\u00D8', U'\u00F8', U'\r',     U'\u00C5', U'\u00E5',
    U'\u0394', U'_',    U'\u03A6', U'\u0393', U'\u039B', U'\u03A9', U'\u03A0', U'\u03A8',
    U'\u03A3', U'\u0398', U'\u039E', U' ',      U'\u00C6', U'\u00E6', U'\u00DF', U'\u00C9',
    U' ',    U'!',      U'"',      U'#',      U'\u00A4', U'%',      U'&',      U'\'',
    U'(',    U')',      U'*',      U'+',      U',',      U'-',      U'.',      U'/',
    U'0',    U'1',      U'2',      U'3',      U'4',      U'5',      U'6',      U'7',
    U'8',    U'9',      U':',      U';',      U'<',      U'=',      U'>',      U'?',
    U'\u00A1', U'A',    U'B',      U'C',      U'D',      U'E',      U'F',      U'G',
    U'H',    U'I',      U'J',      U'K',      U'L',      U'M',      U'N',      U'O',
    U'P',    U'Q',      U'R',      U'S',      U'T',      U'U',      U'V',      U'W',
    U'X',    U'Y',      U'Z',      U'\u00C4', U'\u00D6', U'\u00D1', U'\u00DC', U'\u00A7',
    U'\u00BF', U'a',    U'b',      U'c',      U'd',      U'e',      U'f',      U'g',
    U'h',    U'i',      U'j',      U'k',      U'l',      U'm',      U'n',      U'o',
    U'p',    U'q',      U'r',      U's',      U't',      U'u',      U'v',      U'w',
    U'x',    U'y',      U'z',      U'\u00E4', U'\u00F6', U'\u00F1', U'\u00FC', U'\u00E0',
};

// 23.038 §6.2.1.1, extension table (after ESC). Each costs two septets.
constexpr std::array<std::pair<std::uint8_t, char32_t>, 10> extension_table = {{
    {0x0A, U'\f'},
    {0x14, U'^'},
    {0x28, U'{'},
    {0x29, U'}'},
    {0x2F, U'\\'},
    {0x3C, U'['},
    {0x3D, U'~'},
    {0x3E, U']'},
    {0x40, U'|'},
    {0x65, U'\u20AC'},
}};

// Code point -> septet(s), built from the two tables above. Below U+0400 every character of both
// tables but the euro sign lies (Latin-1, the Greek capitals, ASCII); `escaped` marks ESC + code.
constexpr std::uint16_t no_septet = 0xFFFF;
constexpr std::uint16_t escaped = 0x100;
constexpr char32_t euro = U'\u20AC';

constexpr std::array<std::uint16_t, 0x400> build_septets_of() {
  std::array<std::uint16_t, 0x400> t{};
  t.fill(no_septet);
  for (const auto& [code, ch] : extension_table)
    if (ch < t.size()) t[ch] = static_cast<std::uint16_t>(escaped | code);
  // Default alphabet last, and from the highest septet down: where a character has two septets (space
  // also sits at 0x1B, ESC's slot) the lowest one that is not ESC wins, as the spec's encoders write.
  for (std::size_t i = default_alphabet.size(); i-- > 0;)
    if (i != esc && default_alphabet[i] < t.size()) t[default_alphabet[i]] = static_cast<std::uint16_t>(i);
  return t;
}

constexpr std::array<std::uint16_t, 0x400> septets_of = build_septets_of();

constexpr std::uint16_t build_euro_septets() {
  for (const auto& [code, ch] : extension_table)
    if (ch == euro) return static_cast<std::uint16_t>(escaped | code);
  return no_septet;
}

constexpr std::uint16_t euro_septets = build_euro_septets();
static_assert(euro_septets != no_septet);
static_assert(septets_of[U' '] == 0x20 && septets_of[U'@'] == 0x00 && septets_of[U'\u03A3'] == 0x18);

}  // namespace

std::string_view to_string(encoding e) {
  switch (e) {
    case encoding::gsm7: return "gsm7";
    case encoding::ucs2: return "ucs2";
  }
  return "unknown";
}

namespace detail {

bool append_septets(std::vector<std::uint8_t>& out, char32_t cp) {
  // One table lookup per code point: a broadcast's text is planned for every recipient, and a scan
  // of the 128-entry alphabet per character was a fifth of the SMPP link's CPU (bench_smpp, perf).
  const std::uint16_t s = cp < septets_of.size() ? septets_of[cp] : (cp == euro ? euro_septets : no_septet);
  if (s == no_septet) return false;
  if (s & escaped) out.push_back(esc);
  out.push_back(static_cast<std::uint8_t>(s & 0x7F));
  return true;
}

}  // namespace detail

std::optional<std::vector<std::uint8_t>> encode_gsm7(std::string_view utf8) {
  std::vector<std::uint8_t> out;
  out.reserve(utf8.size());
  for (char32_t cp : detail::decode_utf8(utf8)) {
    if (!detail::append_septets(out, cp)) return std::nullopt;
  }
  return out;
}

std::string decode_gsm7(std::span<const std::uint8_t> septets) {
  std::string out;
  out.reserve(septets.size());
  for (std::size_t i = 0; i < septets.size(); ++i) {
    const std::uint8_t s = septets[i];
    if (s > 0x7F) {
      detail::append_utf8(out, detail::replacement_char);
      continue;
    }
    if (s != esc) {
      detail::append_utf8(out, default_alphabet[s]);
      continue;
    }
    // 23.038 §6.2.1.1: a lone trailing ESC, and ESC ESC (reserved for a further extension table), show a space.
    if (i + 1 >= septets.size()) {
      out.push_back(' ');
      break;
    }
    const std::uint8_t code = septets[++i];
    if (code == esc) {
      out.push_back(' ');
      continue;
    }
    if (code > 0x7F) {
      detail::append_utf8(out, detail::replacement_char);
      continue;
    }
    char32_t cp = default_alphabet[code];  // unknown escape: show the default-alphabet character
    for (const auto& [ext, ch] : extension_table) {
      if (ext == code) cp = ch;
    }
    detail::append_utf8(out, cp);
  }
  return out;
}

std::vector<std::uint8_t> pack_septets(std::span<const std::uint8_t> septets, unsigned fill_bits) {
  const std::size_t fill = fill_bits % 8;
  const std::size_t total_bits = fill + 7 * septets.size();
  std::vector<std::uint8_t> out((total_bits + 7) / 8, 0);
  for (std::size_t i = 0; i < septets.size(); ++i) {
    const unsigned v = septets[i] & 0x7Fu;
    const std::size_t bit = fill + 7 * i;
    const std::size_t byte = bit / 8;
    const unsigned shift = static_cast<unsigned>(bit % 8);
    out[byte] = static_cast<std::uint8_t>(out[byte] | ((v << shift) & 0xFFu));
    if (shift > 1) out[byte + 1] = static_cast<std::uint8_t>(out[byte + 1] | (v >> (8 - shift)));
  }
  return out;
}

std::vector<std::uint8_t> unpack_septets(std::span<const std::uint8_t> packed, std::size_t septet_count,
                                         unsigned fill_bits) {
  const std::size_t fill = fill_bits % 8;
  std::vector<std::uint8_t> out;
  const std::size_t available = packed.size() * 8 > fill ? (packed.size() * 8 - fill) / 7 : 0;
  const std::size_t count = septet_count < available ? septet_count : available;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t bit = fill + 7 * i;
    const std::size_t byte = bit / 8;
    const unsigned shift = static_cast<unsigned>(bit % 8);
    unsigned v = static_cast<unsigned>(packed[byte]) >> shift;
    if (shift > 1) v |= static_cast<unsigned>(packed[byte + 1]) << (8 - shift);
    out.push_back(static_cast<std::uint8_t>(v & 0x7Fu));
  }
  return out;
}

}  // namespace kentongan::gsm
