#pragma once
/// SMS text codecs (3GPP TS 23.038 GSM 7-bit default alphabet, UCS-2/UTF-16BE, Latin-1) and segmentation
/// into concatenated parts (3GPP TS 23.040 §9.2.3.24.1). Pure functions, no I/O, no logging; decoders
/// never throw. Bad UTF-8 input is read as U+FFFD, which is not in GSM-7 and so forces UCS-2.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kentongan::gsm {

enum class encoding { gsm7, ucs2 };
/// "gsm7" / "ucs2".
std::string_view to_string(encoding e);

/// UTF-8 → unpacked GSM 03.38 septets (one per octet; extension-table chars as 0x1B then the code);
/// nullopt when some character is not in the default alphabet or its extension table.
/// Policy: 0x09 is capital Ç as drawn in 23.038, so small ç is *not* encodable (transliterate() maps it).
std::optional<std::vector<std::uint8_t>> encode_gsm7(std::string_view utf8);

/// Unpacked septets → UTF-8 (unknown escape sequences per 23.038 §6.2.1.1: ESC followed by a code not in the
/// extension table shows the default-alphabet char; a trailing lone ESC or ESC ESC becomes a space; octets
/// with the top bit set are not septets and become U+FFFD). Never throws.
std::string decode_gsm7(std::span<const std::uint8_t> septets);

/// Packs septets LSB-first (23.038 §6.1.2.1), after `fill_bits` zero bits (0–6; the padding that follows a UDH,
/// 23.040 §9.2.3.24; larger values are taken modulo 8). Only the low 7 bits of each septet are used.
std::vector<std::uint8_t> pack_septets(std::span<const std::uint8_t> septets, unsigned fill_bits = 0);
/// Inverse of pack_septets; returns fewer than `septet_count` septets when `packed` is too short.
std::vector<std::uint8_t> unpack_septets(std::span<const std::uint8_t> packed, std::size_t septet_count,
                                         unsigned fill_bits = 0);

/// UTF-8 → UTF-16BE, characters outside the BMP as surrogate pairs.
std::vector<std::uint8_t> encode_ucs2(std::string_view utf8);
/// UTF-16BE → UTF-8; a lone surrogate or a trailing odd octet becomes U+FFFD. Never throws.
std::string decode_ucs2(std::span<const std::uint8_t> utf16be);
/// ISO 8859-1 → UTF-8 (SMPP data_coding 3).
std::string decode_latin1(std::span<const std::uint8_t> bytes);

/// Curly quotes, dashes, ellipsis, non-breaking/other spaces, etc. → GSM-7 look-alikes; other text unchanged.
std::string transliterate(std::string_view utf8);

struct part {
  std::string text;                      ///< UTF-8 text of this part
  std::vector<std::uint8_t> payload;     ///< unpacked septets (gsm7) or UTF-16BE (ucs2), WITHOUT any UDH
  std::size_t units = 0;                 ///< septets or UTF-16 code units in this part
  bool operator==(const part&) const = default;
};

struct plan {
  encoding enc = encoding::gsm7;
  std::size_t units = 0;                 ///< total septets (escape = 2) or UTF-16 units (emoji = 2)
  std::size_t remaining = 0;             ///< units still free in the last part
  std::vector<part> parts;               ///< 1 part for the empty string
};

struct plan_options {
  /// Apply transliterate() first; its result is used only if it makes the text fit GSM-7, otherwise the
  /// original text goes out as UCS-2 unchanged.
  bool transliterate = false;
};

/// 160/70 for one part; 153/67 per part when concatenated; never splits an escape pair or a surrogate pair.
/// More than 255 parts cannot be concatenated (8-bit total): callers must check parts.size().
plan plan_message(std::string_view utf8, plan_options options = {});

/// IEI 0x00 concatenation UDH: 05 00 03 ref total seq.
std::vector<std::uint8_t> concat_udh(std::uint8_t reference, std::uint8_t total, std::uint8_t sequence);

struct concat_info {
  std::uint16_t reference = 0;
  std::uint8_t total = 0;
  std::uint8_t sequence = 0;
  bool operator==(const concat_info&) const = default;
};

struct user_data_header {
  std::optional<concat_info> concat;
  std::size_t length = 0;                ///< octets incl. the UDHL octet
};

/// Parses a UDH at the start of user data (IEI 0x00 8-bit and 0x08 16-bit concatenation; others skipped);
/// nullopt if the lengths do not add up. A concatenation IE with total 0, sequence 0 or sequence > total is
/// ignored (23.040 §9.2.3.24.1); when repeated, the last one wins.
std::optional<user_data_header> parse_udh(std::span<const std::uint8_t> user_data);

}  // namespace kentongan::gsm
