#pragma once
/// The send request an aggregator expects for one message, and what its answer means. Pure,
/// never throw; settings are assumed to pass validate().

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/http/settings.hpp"

namespace kentongan::http {

/// One message to send, as the channel gets it.
struct message_fields {
  std::int64_t id = 0;      ///< our outbox id ({id})
  std::string to;           ///< E.164 with "+"
  std::string text;         ///< UTF-8
};

struct built_request {
  bool ok = false;
  std::string error;                       ///< when !ok
  std::string method;                      ///< "GET" or "POST"
  std::string url;
  std::vector<std::string> headers;        ///< "Name: value" lines
  std::string body;
  bool operator==(const built_request&) const = default;
};

built_request build_request(const http_settings& s, const message_fields& m);

/// What an answer means for the message.
struct verdict {
  bool success = false;
  std::string provider_id;                 ///< success: from id_pointer, or our id when id_pointer is empty
  error_action action = error_action::retry;  ///< failure only
  std::string reason;                      ///< failure, or a success oddity ("no id at /messages/0/id")
  bool operator==(const verdict&) const = default;
};

/// Largest answer body looked at; longer ones are judged on their status alone.
inline constexpr std::size_t max_answer_bytes = 256 * 1024;

/// `status` 0 means no HTTP answer (transport failure: retry, with `transport_error` as reason).
verdict classify_response(const http_settings& s, std::int64_t our_id, long status, std::string_view body,
                          std::string_view transport_error = {});

/// The built-in table used after the configured rows: 429 slow down; 408, 425, 5xx retry; 401/403
/// stop the channel; any other failure permanent.
error_action default_action(long status);

}  // namespace kentongan::http
