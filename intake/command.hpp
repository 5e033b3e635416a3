#pragma once
/// Keyword recognition for inbound messages (DESIGN.md "Inbound keywords"): the first word,
/// case-insensitive, against settings::keywords; the rest is the argument. Never throws.

#include "intake/aspiration.hpp"
#include "intake/settings.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace kentongan::intake {

/// DAFTAR <grup>. group is slug() of the whole argument ("Petani Kakao" → "petani-kakao");
/// the caller matches it against group ids and slugged names.
struct subscribe {
  std::string group;
  bool operator==(const subscribe&) const = default;
};
/// BERHENTI [grup]. No group (or "semua"/"all"): every group. Opt-out is absolute: when the
/// group matches nothing, the caller should opt the sender out of everything.
struct unsubscribe {
  std::optional<std::string> group;
  bool operator==(const unsubscribe&) const = default;
};
/// ASPIRASI / LAPOR / TANYA <teks>; kind from the keyword.
struct aspiration {
  std::string text;
  aspiration_kind kind = aspiration_kind::aspirasi;
  bool operator==(const aspiration&) const = default;
};
/// CEK [tiket]. ticket is nullopt when the argument is empty (latest own aspiration) or not a
/// ticket (argument holds what was typed, for the "not found" reply).
struct check {
  std::optional<std::int64_t> ticket;
  std::string argument;
  bool operator==(const check&) const = default;
};
/// INFO [topik]: topic folded to lower case, "" for the index.
struct info {
  std::string topic;
  bool operator==(const info&) const = default;
};
/// HOAKS <teks>: an aspiration to be tagged "hoaks".
struct hoax {
  std::string text;
  bool operator==(const hoax&) const = default;
};
/// KIRIM <grup> <teks>: group is slug() of the first word.
struct relay {
  std::string group;
  std::string text;
  bool operator==(const relay&) const = default;
};
/// BANTUAN.
struct help {
  bool operator==(const help&) const = default;
};
/// BALAS <tiket> <teks> (officers only).
struct officer_reply {
  std::int64_t ticket = 0;
  std::string text;
  bool operator==(const officer_reply&) const = default;
};
/// SELESAI <tiket> [teks] (officers only).
struct officer_close {
  std::int64_t ticket = 0;
  std::string text;
  bool operator==(const officer_close&) const = default;
};
/// SETUJU <id> (officers only): id of a moderated relay post as typed, '#' removed.
struct officer_approve {
  std::string id;
  bool operator==(const officer_approve&) const = default;
};
/// A keyword without the argument it needs; answer with reply_id::usage(which).
struct incomplete {
  keyword which = keyword::help;
  bool operator==(const incomplete&) const = default;
};
/// No keyword: text is the whole normalised message (maybe empty); kind is a guess
/// (permintaan-informasi for a question, else aspirasi). See resolve_unmatched().
struct unmatched {
  std::string text;
  aspiration_kind kind = aspiration_kind::aspirasi;
  bool operator==(const unmatched&) const = default;
};

using command = std::variant<subscribe, unsubscribe, aspiration, check, info, hoax, relay, help, officer_reply,
                             officer_close, officer_approve, incomplete, unmatched>;

/// Officer keywords are recognised only for officers; from anyone else they are plain text.
enum class sender_role { resident, officer };

/// Recognises the keyword that starts `text` (normalised here, so raw text is fine).
command parse(std::string_view text, const settings& s, sender_role role = sender_role::resident);

/// Applies settings::unmatched after the caller has tried poll votes: an aspiration, or help
/// (always help for empty text).
command resolve_unmatched(const unmatched& u, const settings& s);

/// True when `text` reads as a question: ends with '?' or starts with a question word
/// (apa, apakah, kapan, bagaimana, berapa, …, "mohon info").
bool looks_like_question(std::string_view normalised_text);

}  // namespace kentongan::intake
