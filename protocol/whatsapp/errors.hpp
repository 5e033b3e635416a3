#pragma once
/// The Graph API error table (protocols.md §4.2, documented in protocol/whatsapp/README.md): an
/// error code and HTTP status → what the channel does. Pure, never throws.

#include <string>
#include <string_view>

namespace kentongan::whatsapp {

enum class error_action {
  retry,                ///< transient: try again later
  slow_down_and_retry,  ///< rate limit: lower the rate, then retry
  use_template,         ///< outside the 24-hour window: send the template (or fall back to SMS)
  fallback_sms,         ///< the number cannot get WhatsApp: permanent here, the daemon tries SMS
  stop_channel,         ///< token or account problem: mark the channel down, keep the messages
  permanent,            ///< the request itself is wrong for this message: do not retry here
};

/// An error response body `{"error":{"message","type","code","error_subcode","error_data":{"details"},"fbtrace_id"}}`.
struct graph_error {
  int http_status = 0;
  bool has_code = false;      ///< false when the body carried no usable error object
  int code = 0;
  int subcode = 0;
  std::string type;
  std::string message;
  std::string details;
  std::string fbtrace_id;
  bool operator==(const graph_error&) const = default;
};

/// Reads what it can from any body; a non-JSON body gives has_code == false.
graph_error parse_error_body(int http_status, std::string_view body);

/// The table: the code decides when it is known, else the HTTP status.
error_action classify(int http_status, bool has_code, int code);
inline error_action classify(const graph_error& e) { return classify(e.http_status, e.has_code, e.code); }

std::string_view to_string(error_action a);

/// A log/outbox reason without secrets: "(#131056) pair rate limit hit (HTTP 400)".
std::string describe(const graph_error& e);

}  // namespace kentongan::whatsapp
