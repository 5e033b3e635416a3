#include "core/ticket.hpp"

#include <cctype>

namespace kentongan::core {
namespace {

constexpr std::size_t max_digits = 18;  // fits std::int64_t

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// As intake::is_word_byte: ASCII letters and digits, and every byte of a multi-byte UTF-8
// sequence ("A0123é" is not a ticket either).
bool is_word_byte(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || u >= 0x80;
}

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// ASCII folding is enough: the prefix is ASCII, and n bytes holding any multi-byte character
// cannot fold to n ASCII letters.
bool starts_with_folded(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (ascii_lower(text[i]) != ascii_lower(prefix[i])) return false;
  return true;
}

std::int64_t value_of(std::string_view digits) {
  std::int64_t seq = 0;
  for (const char c : digits) seq = seq * 10 + (c - '0');
  return seq;
}

std::optional<ticket_match> digits_at(std::string_view text, std::size_t pos) {
  std::size_t end = pos;
  while (end < text.size() && is_digit(text[end])) ++end;
  if (end == pos || end - pos > max_digits) return std::nullopt;
  if (end < text.size() && is_word_byte(text[end])) return std::nullopt;  // "A0123b" is not a ticket
  return ticket_match{value_of(text.substr(pos, end - pos)), end};
}

}  // namespace

std::string format_ticket(std::string_view prefix, std::int64_t seq) {
  std::string digits = std::to_string(seq < 0 ? 0 : seq);
  if (digits.size() < 4) digits.insert(0, 4 - digits.size(), '0');
  return std::string(prefix) + digits;
}

std::optional<ticket_match> match_ticket(std::string_view text, std::string_view prefix) {
  std::size_t pos = 0;
  if (pos < text.size() && text[pos] == '#') ++pos;
  if (const auto bare = digits_at(text, pos)) return bare;
  if (prefix.empty() || !starts_with_folded(text.substr(pos), prefix)) return std::nullopt;
  pos += prefix.size();
  // One separator between prefix and digits: "A-0123", "A 0123", "A.0123".
  if (pos < text.size() && (text[pos] == '-' || text[pos] == ' ' || text[pos] == '.')) ++pos;
  return digits_at(text, pos);
}

std::optional<std::int64_t> parse_ticket(std::string_view text, std::string_view prefix) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && std::string_view(" \t.!?,;:").find(text.back()) != std::string_view::npos) text.remove_suffix(1);
  const auto m = match_ticket(text, prefix);
  if (!m || m->length != text.size()) return std::nullopt;
  return m->seq;
}

std::optional<std::int64_t> parse_ticket_any_prefix(std::string_view typed) {
  // Typed as "0123", "A0123", "a0123" or "ASP-0123": letters and a dash may lead, then digits.
  std::size_t i = 0;
  while (i < typed.size() && std::isspace(static_cast<unsigned char>(typed[i]))) ++i;
  while (i < typed.size() && std::isalpha(static_cast<unsigned char>(typed[i]))) ++i;
  if (i < typed.size() && typed[i] == '-') ++i;
  std::size_t end = typed.size();
  while (end > i && std::isspace(static_cast<unsigned char>(typed[end - 1]))) --end;
  if (i == end || end - i > 15) return std::nullopt;
  for (std::size_t k = i; k < end; ++k)
    if (!is_digit(typed[k])) return std::nullopt;
  const std::int64_t n = value_of(typed.substr(i, end - i));
  if (n <= 0) return std::nullopt;
  return n;
}

}  // namespace kentongan::core
