#include "intake/ticket.hpp"

#include "intake/text.hpp"

namespace kentongan::intake {
namespace {

constexpr std::size_t max_digits = 18;  // fits std::int64_t

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool starts_with_folded(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && equals_folded(text.substr(0, prefix.size()), prefix);
}

std::optional<ticket_match> digits_at(std::string_view text, std::size_t pos) {
  std::size_t end = pos;
  while (end < text.size() && is_digit(text[end])) ++end;
  if (end == pos || end - pos > max_digits) return std::nullopt;
  if (end < text.size() && is_word_byte(text[end])) return std::nullopt;  // "A0123b" is not a ticket
  std::int64_t seq = 0;
  for (std::size_t i = pos; i < end; ++i) seq = seq * 10 + (text[i] - '0');
  return ticket_match{seq, end};
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

}  // namespace kentongan::intake
