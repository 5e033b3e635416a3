#include "intake/text.hpp"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <cstdint>

namespace kentongan::intake {
namespace {

bool is_ascii(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

icu::UnicodeString to_unicode(std::string_view s) {
  if (s.size() > max_text_bytes) s = s.substr(0, max_text_bytes);
  // fromUTF8 substitutes U+FFFD for every ill-formed sequence (ICU ustrcase/ustrtrns).
  return icu::UnicodeString::fromUTF8(icu::StringPiece(s.data(), static_cast<std::int32_t>(s.size())));
}

bool is_dropped(UChar32 c) {
  // Zero-width space and BOM arrive from copy-pasted WhatsApp text and split keywords invisibly.
  return c == 0x200B || c == 0xFEFF || u_charType(c) == U_CONTROL_CHAR;
}

}  // namespace

std::string normalise_text(std::string_view raw) {
  // Printable ASCII is already NFC: most SMS from feature phones take this path without ICU.
  const bool printable_ascii = raw.size() <= max_text_bytes && std::all_of(raw.begin(), raw.end(), [](char c) {
    return (c >= 0x20 && c < 0x7f) || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
  });
  if (printable_ascii) {
    std::string out;
    out.reserve(raw.size());
    bool pending_space = false;
    for (char c : raw) {
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
        pending_space = true;
        continue;
      }
      if (pending_space && !out.empty()) out.push_back(' ');
      pending_space = false;
      out.push_back(c);
    }
    return out;
  }
  const icu::UnicodeString in = to_unicode(raw);
  icu::UnicodeString cleaned;
  bool pending_space = false;
  for (std::int32_t i = 0; i < in.length(); i = in.moveIndex32(i, 1)) {
    const UChar32 c = in.char32At(i);
    if (u_isUWhiteSpace(c) || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
      pending_space = true;
      continue;
    }
    if (is_dropped(c)) continue;
    if (pending_space && !cleaned.isEmpty()) cleaned.append(static_cast<UChar>(' '));
    pending_space = false;
    cleaned.append(c);
  }
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(status);
  std::string out;
  if (U_SUCCESS(status) && nfc != nullptr) {
    icu::UnicodeString composed = nfc->normalize(cleaned, status);
    if (U_SUCCESS(status)) {
      composed.toUTF8String(out);
      return out;
    }
  }
  cleaned.toUTF8String(out);
  return out;
}

std::string fold_case(std::string_view utf8) {
  if (is_ascii(utf8)) {
    std::string out(utf8);
    for (char& c : out) c = ascii_lower(c);
    return out;
  }
  icu::UnicodeString u = to_unicode(utf8);
  u.foldCase();
  std::string out;
  u.toUTF8String(out);
  return out;
}

std::string slug(std::string_view text) {
  const std::string folded = fold_case(text);
  std::string out;
  bool pending_dash = false;
  for (char c : folded) {
    if (is_word_byte(c) || c == '_') {
      if (pending_dash && !out.empty()) out.push_back('-');
      pending_dash = false;
      out.push_back(c);
    } else {
      pending_dash = true;
    }
  }
  return out;
}

bool equals_folded(std::string_view a, std::string_view b) {
  if (is_ascii(a) && is_ascii(b)) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    return true;
  }
  return fold_case(a) == fold_case(b);
}

}  // namespace kentongan::intake
