#pragma once
/// Inbound-message and delivery-report callbacks from an aggregator
/// (`/webhooks/http/<channel>`): the shared-secret check and the field mapping. Pure, never throw;
/// every bad callback is a typed error with a reason.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/http/settings.hpp"

namespace kentongan::http {

/// The HTTP request as the daemon's server decoded it.
struct callback_request {
  std::string method;                          ///< "GET", "POST" …
  std::string content_type;                    ///< the Content-Type header, as sent (empty: headers["content-type"])
  std::map<std::string, std::string> query;    ///< decoded query parameters
  std::map<std::string, std::string> headers;  ///< lower-case names
  std::string body;                            ///< raw bytes (the HMAC is over these)
};

struct inbound_sms {
  std::string provider_id;     ///< may be empty when the provider gives none
  std::string from;            ///< E.164 when it could be normalised, else as sent
  std::string to;
  std::string text;
  std::int64_t timestamp = 0;  ///< Unix seconds; 0 = not given
  bool operator==(const inbound_sms&) const = default;
};

struct status_report {
  std::string provider_id;
  report_state state = report_state::delivered;
  std::string status;          ///< as sent
  std::string reason;          ///< error field, or "status X" for failures
  bool operator==(const status_report&) const = default;
};

enum class callback_error {
  none,
  disabled,        ///< the channel takes no callbacks (404)
  missing_secret,  ///< no secret header/parameter (401)
  bad_secret,      ///< wrong secret or signature (403)
  too_large,       ///< body over callback.max_body_bytes (413)
  malformed,       ///< not JSON/form as configured, or no usable item (400)
};

struct callback_result {
  callback_error error = callback_error::none;
  std::string reason;                      ///< for logs; never contains the secret
  std::vector<inbound_sms> messages;
  std::vector<status_report> reports;      ///< `ignore` states are not listed
  std::vector<std::string> skipped;        ///< items left out, and why (unknown status, no id …)
  bool ok() const { return error == callback_error::none; }
  /// 200, 404, 401, 403, 413 or 400.
  unsigned http_status() const;
};

/// Verifies the secret as configured, on the exact raw body.
callback_error verify_secret(const callback_settings& s, const callback_request& r);

/// verify_secret, then the field mapping. `country_code` normalises senders ("0812…" → "+62812…").
callback_result parse_callback(const callback_settings& s, const callback_request& r, std::string_view country_code);

/// Lower-case hex or base64 (RFC 4648, padded) HMAC-SHA256 of `body` keyed with `secret`.
std::string hmac_sha256(std::string_view secret, std::string_view body, signature_encoding encoding);

/// Constant-time equality (the length may leak, the contents do not).
bool equal_constant_time(std::string_view a, std::string_view b);

std::string_view to_string(callback_error e);

}  // namespace kentongan::http
