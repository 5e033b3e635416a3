#include "protocol/gsm/detail.hpp"
#include "protocol/gsm/gsm.hpp"

namespace kentongan::gsm {
namespace {

// 23.040 §9.2.3.16 (140 octets of user data) less the 6-octet concatenation UDH, §9.2.3.24.1.
constexpr std::size_t gsm7_single = 160;
constexpr std::size_t gsm7_multi = 153;
constexpr std::size_t ucs2_single = 70;
constexpr std::size_t ucs2_multi = 67;

struct encoded {
  std::vector<std::uint8_t> bytes;
  std::vector<std::size_t> units;  // per code point
};

std::optional<encoded> try_gsm7(const std::u32string& cps) {
  encoded e;
  e.bytes.reserve(cps.size());
  e.units.reserve(cps.size());
  for (char32_t cp : cps) {
    const std::size_t before = e.bytes.size();
    if (!detail::append_septets(e.bytes, cp)) return std::nullopt;
    e.units.push_back(e.bytes.size() - before);
  }
  return e;
}

encoded to_ucs2(const std::u32string& cps) {
  encoded e;
  e.bytes.reserve(cps.size() * 2);
  e.units.reserve(cps.size());
  auto put = [&e](char32_t unit) {
    e.bytes.push_back(static_cast<std::uint8_t>(unit >> 8));
    e.bytes.push_back(static_cast<std::uint8_t>(unit & 0xFF));
  };
  for (char32_t cp : cps) {
    if (cp >= 0x10000) {
      const char32_t v = cp - 0x10000;
      put(0xD800 + (v >> 10));
      put(0xDC00 + (v & 0x3FF));
      e.units.push_back(2);
    } else {
      put(cp);
      e.units.push_back(1);
    }
  }
  return e;
}

}  // namespace

plan plan_message(std::string_view utf8, plan_options options) {
  std::u32string cps = detail::decode_utf8(utf8);
  std::optional<encoded> e = try_gsm7(cps);
  if (!e && options.transliterate) {
    std::u32string plain = detail::decode_utf8(transliterate(utf8));
    e = try_gsm7(plain);
    if (e) cps = std::move(plain);
  }
  plan p;
  p.enc = e ? encoding::gsm7 : encoding::ucs2;
  if (!e) e = to_ucs2(cps);
  const std::size_t bytes_per_unit = p.enc == encoding::gsm7 ? 1 : 2;
  for (std::size_t u : e->units) p.units += u;

  const bool single = p.units <= (p.enc == encoding::gsm7 ? gsm7_single : ucs2_single);
  const std::size_t limit = p.enc == encoding::gsm7 ? (single ? gsm7_single : gsm7_multi)
                                                    : (single ? ucs2_single : ucs2_multi);
  // Greedy split on code point boundaries, so an escape pair or a surrogate pair moves whole to the next
  // part (split-sms, gammu PR #104).
  p.parts.emplace_back();
  std::size_t offset = 0;
  for (std::size_t i = 0; i < cps.size(); ++i) {
    const std::size_t u = e->units[i];
    if (p.parts.back().units + u > limit) p.parts.emplace_back();
    part& cur = p.parts.back();
    cur.units += u;
    const auto first = e->bytes.begin() + static_cast<std::ptrdiff_t>(offset);
    const std::size_t n = u * bytes_per_unit;
    cur.payload.insert(cur.payload.end(), first, first + static_cast<std::ptrdiff_t>(n));
    offset += n;
    detail::append_utf8(cur.text, cps[i]);
  }
  p.remaining = limit - p.parts.back().units;
  return p;
}

std::vector<std::uint8_t> concat_udh(std::uint8_t reference, std::uint8_t total, std::uint8_t sequence) {
  return {0x05, 0x00, 0x03, reference, total, sequence};
}

std::optional<user_data_header> parse_udh(std::span<const std::uint8_t> user_data) {
  if (user_data.empty()) return std::nullopt;
  const std::size_t length = std::size_t{1} + user_data[0];
  if (length > user_data.size()) return std::nullopt;
  user_data_header h;
  h.length = length;
  std::size_t i = 1;
  while (i < length) {
    if (i + 2 > length) return std::nullopt;
    const std::uint8_t iei = user_data[i];
    const std::size_t iedl = user_data[i + 1];
    const std::size_t data = i + 2;
    if (data + iedl > length) return std::nullopt;
    std::optional<concat_info> c;
    if (iei == 0x00 && iedl == 3) {
      c = concat_info{user_data[data], user_data[data + 1], user_data[data + 2]};
    } else if (iei == 0x08 && iedl == 4) {
      c = concat_info{static_cast<std::uint16_t>((user_data[data] << 8) | user_data[data + 1]),
                      user_data[data + 2], user_data[data + 3]};
    }
    // 23.040 §9.2.3.24.1: ignore the IE when total or sequence is 0 or sequence exceeds total.
    if (c && c->total != 0 && c->sequence != 0 && c->sequence <= c->total) h.concat = c;
    i = data + iedl;
  }
  return h;
}

}  // namespace kentongan::gsm
