#include "core/utf8.hpp"

namespace kentongan::core {

std::optional<std::size_t> first_invalid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    // The allowed range of the second byte: RFC 3629 §4's table narrows it after E0 (overlong),
    // ED (surrogates), F0 (overlong) and F4 (above U+10FFFF); C0, C1 and F5-FF never occur.
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (b < 0x80) {
      n = 1;
    } else if (b >= 0xC2 && b <= 0xDF) {
      n = 2;
    } else if (b == 0xE0) {
      n = 3;
      lo = 0xA0;
    } else if (b == 0xED) {
      n = 3;
      hi = 0x9F;
    } else if (b >= 0xE1 && b <= 0xEF) {
      n = 3;
    } else if (b == 0xF0) {
      n = 4;
      lo = 0x90;
    } else if (b >= 0xF1 && b <= 0xF3) {
      n = 4;
    } else if (b == 0xF4) {
      n = 4;
      hi = 0x8F;
    } else {
      return i;
    }
    if (n > s.size() - i) return i;
    for (std::size_t k = 1; k < n; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if (c < (k == 1 ? lo : 0x80) || c > (k == 1 ? hi : 0xBF)) return i;
    }
    i += n;
  }
  return std::nullopt;
}

}  // namespace kentongan::core
