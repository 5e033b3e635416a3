#pragma once
/// What the admin may change about intake: keywords and their aliases, reply texts, tag rules,
/// ticket prefix, unmatched-text policy, flood limits, deadlines. Plain values; defaults in
/// default_settings(), config overrides applied by merge() which reports every problem.

#include "intake/aspiration.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kentongan::intake {

/// The commands a keyword can start (DESIGN.md "Inbound keywords"; officer-only ones last).
enum class keyword {
  subscribe,        ///< DAFTAR <grup>
  unsubscribe,      ///< BERHENTI [grup]
  aspiration,       ///< ASPIRASI <teks> → kind aspirasi
  complaint,        ///< LAPOR <teks> → kind pengaduan
  question,         ///< TANYA <teks> → kind permintaan-informasi
  check,            ///< CEK [tiket]
  info,             ///< INFO [topik]
  hoax,             ///< HOAKS <teks>
  relay,            ///< KIRIM <grup> <teks>
  help,             ///< BANTUAN
  officer_reply,    ///< BALAS <tiket> <teks>
  officer_close,    ///< SELESAI <tiket> [teks]
  officer_approve,  ///< SETUJU <id>
};
inline constexpr std::size_t keyword_count = 13;

/// "subscribe", "officer_reply" … (the key used in config `keywords` and in reply variables).
std::string_view to_string(keyword k);
/// Accepts the English name ("subscribe") or the default Indonesian keyword ("daftar"), any case.
std::optional<keyword> parse_keyword(std::string_view s);
/// BALAS, SELESAI, SETUJU: recognised only in messages from officers.
bool is_officer_only(keyword k);

struct keyword_rule {
  keyword command;
  std::vector<std::string> aliases;  ///< single words, matched case-insensitively; the first is shown in replies
  bool operator==(const keyword_rule&) const = default;
};

struct tag_rule {
  std::string tag;                 ///< e.g. "infrastruktur"
  std::vector<std::string> words;  ///< base words or phrases ("jalan", "lampu jalan"); affixed forms match too
  bool operator==(const tag_rule&) const = default;
};

/// What to do with text that starts with no keyword.
enum class unmatched_policy { aspiration, help };

/// Flood control (issue 5): 0 disables a limit.
struct flood_limits {
  std::uint32_t messages_per_minute = 10;  ///< beyond it: stored and marked, not answered
  std::uint32_t replies_per_hour = 10;     ///< auto-replies per number, so auto-responders cannot loop
  std::size_t max_tracked_senders = 100'000;
  bool operator==(const flood_limits&) const = default;
};

struct settings {
  std::vector<keyword_rule> keywords;         ///< one rule per keyword, in enum order
  std::map<std::string, std::string> replies;  ///< reply id → template with {variables}
  std::vector<tag_rule> tags;
  std::string ticket_prefix = "A";
  unmatched_policy unmatched = unmatched_policy::aspiration;
  flood_limits flood;
  deadline_policy deadline;
  bool operator==(const settings&) const = default;

  /// The aliases of `k` (empty if the rule is missing).
  const std::vector<std::string>& aliases(keyword k) const;
};

/// Built-in Indonesian defaults: DESIGN.md keywords plus common aliases and typos, every reply,
/// tag rules for a village (infrastruktur, air, pertanian, kesehatan, …).
settings default_settings();

/// Config overrides, as config/ reads them.
/// - keywords: key is a keyword name (to_string or the Indonesian default word); the list
///   replaces that keyword's aliases.
/// - replies: reply id → template; only the variables that reply knows may be used.
/// - tags: a listed tag replaces that rule's words (or is appended); an empty list removes it.
struct overrides {
  std::map<std::string, std::vector<std::string>> keywords;
  std::map<std::string, std::string> replies;
  std::vector<std::pair<std::string, std::vector<std::string>>> tags;
};

struct merge_result {
  settings value;                   ///< base with every valid override applied
  std::vector<std::string> errors;  ///< "keywords.daftar: …", one line per problem; empty when all applied
};
merge_result merge(const settings& base, const overrides& o);

}  // namespace kentongan::intake
