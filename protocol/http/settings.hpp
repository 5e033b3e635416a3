#pragma once
/// The "http" channel entry (a generic HTTP SMS aggregator) as plain values: how to build the send
/// request, how to read the answer, and how to read inbound and delivery callbacks. The config
/// builds it (secrets already read from their files); validate() lists what is wrong with it.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kentongan::http {

enum class http_method { get, post };

/// Where the `fields` go: nowhere, the URL query, an x-www-form-urlencoded body, or a JSON body.
enum class body_kind { none, query, form, json };

/// How `{to}` is written: "+6281234567890" (e164), "6281234567890" (msisdn), "081234567890" (national).
enum class number_format { e164, msisdn, national };

/// What the channel does with a failed send (the error table, docs/http-channel.md).
enum class error_action {
  retry,         ///< transient: the dispatcher tries again later
  slow_down,     ///< rate limited (429): lower the rate, then retry
  permanent,     ///< will never succeed for this message
  stop_channel,  ///< credentials refused: the channel goes down for a while, messages wait
};

/// One row of the error table; the first row whose every non-empty condition holds decides.
struct error_rule {
  int status = 0;              ///< HTTP status to match; 0 = any
  std::string code;            ///< value at `error_code_pointer` (as text); empty = any
  std::string body_contains;   ///< substring of the answer body; empty = any
  error_action action = error_action::permanent;
  bool operator==(const error_rule&) const = default;
};

/// The answer counts as success when the status is in [status_min, status_max] and every
/// optional condition holds.
struct success_rule {
  int status_min = 200;
  int status_max = 299;
  std::string json_pointer;    ///< e.g. "/status"; empty = not checked
  std::string equals;          ///< the value at json_pointer, as text ("1", "true", "success")
  std::string body_contains;   ///< plain-text APIs: Kannel's "Accepted for delivery"; empty = not checked
  bool operator==(const success_rule&) const = default;
};

/// Which delivery-report state a provider status means; `ignore` for intermediate states.
enum class report_state { delivered, failed, expired, ignore };

/// Where the callback's values come from.
enum class callback_format {
  automatic,  ///< JSON when the Content-Type says json, form when it says x-www-form-urlencoded, else query
  query,      ///< URL query only (Kannel's dlr-url and get-url are GET requests)
  form,       ///< x-www-form-urlencoded body, falling back to the URL query per field
  json,       ///< JSON body
};

enum class secret_check {
  none,         ///< no check (only sensible behind a firewall)
  header,       ///< the header `secret_name` equals `secret` (constant-time)
  query,        ///< the query parameter `secret_name` equals `secret` (for providers that cannot send headers)
  hmac_sha256,  ///< the header `secret_name` holds HMAC-SHA256(secret, raw body)
};

enum class signature_encoding { hex, base64 };

/// Field names of a callback. For JSON a name starting with '/' is a JSON pointer (RFC 6901)
/// into the item, otherwise a top-level member; for form and query it is the parameter name.
struct callback_fields {
  std::string from = "from";          ///< sender of an inbound message
  std::string to = "to";              ///< our number it was sent to (informational)
  std::string text = "text";          ///< inbound text
  std::string provider_id = "id";     ///< inbound: its id; report: the id of the message we sent
  std::string status = "status";      ///< report status; a callback with a non-empty status is a report
  std::string error = "error";        ///< report error code or reason (optional)
  std::string timestamp;              ///< Unix seconds (optional; empty = receive time)
  bool operator==(const callback_fields&) const = default;
};

struct callback_settings {
  bool enabled = false;
  callback_format format = callback_format::automatic;
  std::string items_pointer;          ///< JSON: pointer to an array of items (batch callbacks); empty = one item
  callback_fields fields;
  /// Provider status → state, compared case-insensitively ("DELIVRD" → delivered, "1" → delivered).
  std::map<std::string, report_state> status_map;
  secret_check check = secret_check::none;
  std::string secret_name;            ///< header (case-insensitive) or query parameter name
  std::string secret;                 ///< the shared secret itself (read from secret_file)
  signature_encoding encoding = signature_encoding::hex;
  std::string signature_prefix;       ///< stripped before comparing, e.g. "sha256="
  std::string reply = "OK";           ///< body answered with 200 after storing
  std::size_t max_body_bytes = 256 * 1024;
  bool operator==(const callback_settings&) const = default;
};

struct http_settings {
  std::string name = "http";
  http_method method = http_method::post;
  /// Placeholders: {to} {text} {id} {from} {secret:NAME} {callback_secret}; their values are
  /// URL-encoded, the literal text is used as written.
  std::string url;
  body_kind body = body_kind::form;
  /// Parameters for query/form bodies (each value URL-encoded whole after expansion), or the
  /// string members of a flat JSON object; values take placeholders.
  std::vector<std::pair<std::string, std::string>> fields;
  /// JSON only: a whole JSON document whose string values take placeholders (used instead of fields).
  std::string body_template;
  std::vector<std::pair<std::string, std::string>> headers;  ///< values take placeholders
  std::string auth_header = "Authorization";                 ///< sent when auth_value is not empty
  std::string auth_value;                                    ///< e.g. "Bearer abc…" (read from auth_file)
  std::map<std::string, std::string> secrets;                ///< {secret:NAME} values (read from files)
  number_format to_format = number_format::msisdn;
  std::string country_code = "62";                           ///< for national numbers both ways
  std::string from;                                          ///< sender id / number for {from}

  std::string id_pointer;             ///< JSON pointer to the provider's message id; empty = our id is used
  success_rule success;
  std::string error_code_pointer;     ///< JSON pointer to the provider's error/status code (error table, reasons)
  std::vector<error_rule> errors;     ///< checked first; then the defaults (429 slow down, 408/5xx retry, 401/403 stop, else permanent)

  callback_settings callback;

  double tps = 5.0;
  std::size_t window = 5;
  std::uint32_t hourly_cap = 0;
  std::uint32_t daily_cap = 0;
  double price_per_part = 0.0;
  std::chrono::milliseconds request_timeout{std::chrono::seconds(20)};
  std::chrono::milliseconds down_time{std::chrono::seconds(60)};  ///< after stop_channel, before trying again
  bool verify_tls = true;
  bool operator==(const http_settings&) const = default;
};

/// Problems that make the settings unusable ("url: unknown placeholder {too}"); empty = fine.
std::vector<std::string> validate(const http_settings& s);

std::string_view to_string(http_method m);
std::string_view to_string(body_kind k);
std::string_view to_string(number_format f);
std::string_view to_string(error_action a);
std::string_view to_string(report_state s);
std::string_view to_string(callback_format f);
std::string_view to_string(secret_check c);
std::string_view to_string(signature_encoding e);

/// The config's words for the enums (the to_string names, lower-case: "get", "json", "msisdn",
/// "slow_down", "delivered", "auto", "hmac_sha256", "base64"); nullopt for anything else.
std::optional<http_method> parse_http_method(std::string_view s);
std::optional<body_kind> parse_body_kind(std::string_view s);
std::optional<number_format> parse_number_format(std::string_view s);
std::optional<error_action> parse_error_action(std::string_view s);
std::optional<report_state> parse_report_state(std::string_view s);
std::optional<callback_format> parse_callback_format(std::string_view s);
std::optional<secret_check> parse_secret_check(std::string_view s);
std::optional<signature_encoding> parse_signature_encoding(std::string_view s);

}  // namespace kentongan::http
