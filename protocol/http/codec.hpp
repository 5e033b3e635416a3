#pragma once
/// Text building blocks of the HTTP channel: URL and form encoding (RFC 3986), placeholder
/// templates, number formats and JSON pointers (RFC 6901). Pure, never throw.

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/http/settings.hpp"

namespace kentongan::http {

/// Percent-encodes everything but RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~), bytes as
/// %XX upper-case; UTF-8 is encoded byte by byte. Safe for a query value, a form value and a path segment.
std::string url_encode(std::string_view text);

/// Decodes %XX (either case) and, when asked, '+' as space; a malformed escape is kept as it is.
std::string url_decode(std::string_view text, bool plus_as_space);

/// Splits "a=1&b=x%20y" into decoded pairs (last value wins); empty names are skipped.
std::map<std::string, std::string> parse_form(std::string_view text);

/// The E.164 number ("+6281234567890") written as the provider wants it; `country_code` is
/// digits ("62"). A national number of another country keeps its msisdn form.
std::string format_number(std::string_view e164, number_format format, std::string_view country_code);

/// A sender as the provider wrote it → E.164 when it can tell: "+62…" kept, "62…" gets "+",
/// "0812…" becomes "+62812…" with `country_code`; anything else (alphanumeric ids) unchanged.
std::string normalise_sender(std::string_view number, std::string_view country_code);

/// The values placeholders stand for.
struct placeholder_values {
  std::string to;               ///< already in the provider's number format
  std::string text;
  std::string id;
  std::string from;
  std::string callback_secret;
  const std::map<std::string, std::string>* secrets = nullptr;
};

enum class escaping { none, url };

struct expansion {
  bool ok = false;
  std::string text;
  std::string error;            ///< "unknown placeholder {too}"
};

/// Replaces {to} {text} {id} {from} {callback_secret} {secret:NAME}; "{{" is a literal '{' and
/// '}' is always literal; any other '{' is literal unless it starts a {word} that is not a known
/// placeholder, which is an error (catches typos such as {too}).
expansion expand(std::string_view pattern, const placeholder_values& values, escaping how);

/// The names of the placeholders a pattern uses, or the first error.
expansion check_placeholders(std::string_view pattern, const std::map<std::string, std::string>& secrets);

}  // namespace kentongan::http
