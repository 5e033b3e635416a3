#include "intake/command.hpp"

#include "intake/text.hpp"
#include "intake/ticket.hpp"

#include <algorithm>
#include <array>

namespace kentongan::intake {
namespace {

// WhatsApp formatting around a keyword ("*LAPOR* …", "_daftar_ …").
constexpr std::string_view format_marks = "*_~";
// What may separate a keyword from its argument besides spaces ("DAFTAR: petani", "CEK-A0123").
constexpr std::string_view separators = " *_~:,;.!-";

std::string_view skip(std::string_view s, std::string_view chars) {
  const auto first = s.find_first_not_of(chars);
  return first == std::string_view::npos ? std::string_view{} : s.substr(first);
}

std::string_view trim_end(std::string_view s, std::string_view chars) {
  const auto last = s.find_last_not_of(chars);
  return last == std::string_view::npos ? std::string_view{} : s.substr(0, last + 1);
}

// The first word and what follows it.
std::pair<std::string_view, std::string_view> split_first(std::string_view s) {
  const auto space = s.find(' ');
  if (space == std::string_view::npos) return {s, {}};
  return {s.substr(0, space), s.substr(space + 1)};
}

std::optional<keyword> find_keyword(std::string_view token, const settings& s) {
  for (const auto& rule : s.keywords)
    for (const auto& alias : rule.aliases)
      if (equals_folded(token, alias)) return rule.command;
  return std::nullopt;
}

bool means_all(std::string_view arg) {
  const std::string first = fold_case(trim_end(split_first(arg).first, ".!?,;:"));
  return first == "semua" || first == "all" || first == "sms" || first == "saja";
}

// "A0123 teks" or "A 0123 teks": the ticket and the text after it.
std::optional<std::pair<std::int64_t, std::string_view>> ticket_and_text(std::string_view arg, const settings& s) {
  const auto m = match_ticket(arg, s.ticket_prefix);
  if (!m) return std::nullopt;
  return std::pair{m->seq, skip(arg.substr(m->length), separators)};
}

command parse_keyword_command(keyword k, std::string_view arg, const settings& s) {
  switch (k) {
    case keyword::subscribe:
      if (slug(arg).empty()) return incomplete{k};
      return subscribe{slug(arg)};
    case keyword::unsubscribe:
      if (slug(arg).empty() || means_all(arg)) return unsubscribe{};
      return unsubscribe{slug(arg)};
    case keyword::aspiration:
    case keyword::complaint:
    case keyword::question: {
      if (arg.empty()) return incomplete{k};
      const aspiration_kind kind = k == keyword::complaint ? aspiration_kind::pengaduan
                                   : k == keyword::question ? aspiration_kind::permintaan_informasi
                                                            : aspiration_kind::aspirasi;
      return aspiration{std::string(arg), kind};
    }
    case keyword::check: {
      const std::string_view typed = trim_end(arg, " .!?,;:");
      if (typed.empty()) return check{};
      if (const auto t = parse_ticket(typed, s.ticket_prefix)) return check{t, std::string(typed)};
      // "CEK A0123 tolong" still names a ticket.
      if (const auto t = ticket_and_text(typed, s)) return check{t->first, std::string(typed)};
      return check{std::nullopt, std::string(typed)};
    }
    case keyword::info:
      return info{fold_case(trim_end(arg, " .!?,;:"))};
    case keyword::hoax:
      if (arg.empty()) return incomplete{k};
      return hoax{std::string(arg)};
    case keyword::relay: {
      const auto [group, text] = split_first(arg);
      if (slug(group).empty() || text.empty()) return incomplete{k};
      return relay{slug(group), std::string(text)};
    }
    case keyword::help:
      return help{};
    case keyword::officer_reply: {
      const auto t = ticket_and_text(arg, s);
      if (!t || t->second.empty()) return incomplete{k};
      return officer_reply{t->first, std::string(t->second)};
    }
    case keyword::officer_close: {
      const auto t = ticket_and_text(arg, s);
      if (!t) return incomplete{k};
      return officer_close{t->first, std::string(t->second)};
    }
    case keyword::officer_approve: {
      const std::string_view id = trim_end(skip(split_first(arg).first, "#"), ".!?,;:");
      if (id.empty()) return incomplete{k};
      return officer_approve{std::string(id)};
    }
  }
  return unmatched{};
}

constexpr std::array<std::string_view, 16> question_words{
    "apa",    "apakah",  "kapan",   "bagaimana", "bagaimanakah", "gimana", "berapa", "dimana",
    "mana",   "siapa",   "mengapa", "kenapa",    "bisakah",      "bolehkah", "adakah", "tanya"};

}  // namespace

bool looks_like_question(std::string_view text) {
  text = trim_end(text, " .!");
  if (!text.empty() && text.back() == '?') return true;
  const auto [first, rest] = split_first(text);
  const std::string word = fold_case(trim_end(first, ",:"));
  if (std::find(question_words.begin(), question_words.end(), word) != question_words.end()) return true;
  if (word == "mohon" || word == "minta") {
    const std::string next = fold_case(trim_end(split_first(rest).first, ",:"));
    return next == "info" || next == "informasi" || next == "penjelasan";
  }
  return false;
}

command parse(std::string_view raw, const settings& s, sender_role role) {
  const std::string text = normalise_text(raw);
  const std::string_view t = skip(text, format_marks);
  std::size_t end = 0;
  while (end < t.size() && is_word_byte(t[end])) ++end;
  const std::string_view token = t.substr(0, end);
  const auto k = token.empty() ? std::nullopt : find_keyword(token, s);
  if (!k || (is_officer_only(*k) && role != sender_role::officer)) {
    return unmatched{text, looks_like_question(text) ? aspiration_kind::permintaan_informasi : aspiration_kind::aspirasi};
  }
  return parse_keyword_command(*k, trim_end(skip(t.substr(end), separators), format_marks), s);
}

command resolve_unmatched(const unmatched& u, const settings& s) {
  if (u.text.empty() || s.unmatched == unmatched_policy::help) return help{};
  return aspiration{u.text, u.kind};
}

}  // namespace kentongan::intake
