#pragma once
/// Internal to kentongan::gsm (not a public header): UTF-8 ⇄ code points and code point → septets.
/// Ill-formed UTF-8 becomes U+FFFD, one per maximal ill-formed subpart (Unicode §3.9); never throws.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kentongan::gsm::detail {

inline constexpr char32_t replacement_char = 0xFFFD;

std::u32string decode_utf8(std::string_view utf8);
/// Appends one code point; surrogates and values above U+10FFFF are written as U+FFFD.
void append_utf8(std::string& out, char32_t cp);
/// Appends the GSM-7 septets of one code point (ESC + code for the extension table); false when it has none.
bool append_septets(std::vector<std::uint8_t>& out, char32_t cp);

}  // namespace kentongan::gsm::detail
