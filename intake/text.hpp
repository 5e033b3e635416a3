#pragma once
/// Text helpers for inbound messages: UTF-8 in, UTF-8 out, never throw (except std::bad_alloc).
/// Invalid UTF-8 becomes U+FFFD; input beyond max_text_bytes is cut off.

#include <cstddef>
#include <string>
#include <string_view>

namespace kentongan::intake {

/// Longest input the helpers look at (a 255-part concatenated SMS is ~40 KB in UTF-8).
inline constexpr std::size_t max_text_bytes = 256 * 1024;

/// NFC, control characters and zero-width spaces dropped, whitespace runs (any Unicode space,
/// newlines included) collapsed to one ' ', trimmed.
std::string normalise_text(std::string_view raw);

/// Unicode case folding (lower case for Indonesian text); ASCII is folded without ICU.
std::string fold_case(std::string_view utf8);

/// A group or topic key typed by a resident: folded, runs of spaces and punctuation → '-',
/// '-' and '_' kept, trimmed of '-': "Petani Kakao" → "petani-kakao".
std::string slug(std::string_view text);

/// True for bytes that belong to a word: ASCII letters and digits, and every byte of a
/// multi-byte UTF-8 sequence (Indonesian words are ASCII; anything else is kept whole).
constexpr bool is_word_byte(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || u >= 0x80;
}

/// Case-insensitive equality of two UTF-8 strings (ASCII fast path).
bool equals_folded(std::string_view a, std::string_view b);

}  // namespace kentongan::intake
