#pragma once
/// Aspiration ticket numbers: a prefix and at least four digits ("A0123", "A12345"), short
/// enough to type on a keypad. Parsing is lenient about case, '#', and a separator. Pure
/// functions, any thread; prefixes are ASCII (config allows 1-8 capital letters).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kentongan::core {

/// prefix + seq zero-padded to 4 digits; seq must be >= 0 (negative values are formatted as 0).
std::string format_ticket(std::string_view prefix, std::int64_t seq);

/// The sequence number of a whole ticket text: "0123", "A0123", "a0123", "A-0123", "A 0123",
/// "#A0123", trailing ".!?,;:" ignored. Another prefix, extra words or >18 digits → nullopt.
std::optional<std::int64_t> parse_ticket(std::string_view text, std::string_view prefix);

struct ticket_match {
  std::int64_t seq;
  std::size_t length;  ///< bytes of `text` the ticket took
};
/// A ticket at the start of `text` followed by the end or a non-word character ("A0123 jalan").
std::optional<ticket_match> match_ticket(std::string_view text, std::string_view prefix);

/// The number of a ticket whatever its prefix, as storage looks rows up (each row keeps the prefix
/// it was created with): spaces, any ASCII letters and one '-', then 1-15 digits, spaces; > 0.
std::optional<std::int64_t> parse_ticket_any_prefix(std::string_view typed);

}  // namespace kentongan::core
