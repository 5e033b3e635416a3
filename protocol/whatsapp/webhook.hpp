#pragma once
/// Meta WhatsApp Cloud API webhook notifications (protocols.md §4.4) as plain values. Pure: no I/O,
/// never throws on any input, unknown fields and change kinds are ignored.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kentongan::whatsapp {

/// One message a resident sent. Non-text kinds become a short text note (`[image] id=…`).
struct inbound_message {
  std::string phone_number_id;   ///< value.metadata.phone_number_id: which of our numbers got it
  std::string wamid;             ///< provider id, unique per message (dedupe key)
  std::string from;              ///< E.164 with "+" when `from` is digits, else as received
  std::string profile_name;      ///< contacts[].profile.name for that wa_id, if any
  std::int64_t timestamp = 0;    ///< Unix seconds (sent as a string); 0 when absent or malformed
  std::string type;              ///< "text", "button", "interactive", "location", "image", … as sent
  std::string text;              ///< the body, reply title, or the note for other kinds
  std::string media_id;          ///< image/audio/video/document/sticker id, for a later download
  std::string context_id;        ///< wamid this message replies to, if any
  bool operator==(const inbound_message&) const = default;
};

/// An error object inside a status or value.errors (code, title, message, error_data.details).
struct webhook_error {
  int code = 0;
  std::string title;
  std::string message;
  std::string details;
  bool operator==(const webhook_error&) const = default;
};

enum class status_kind { sent, delivered, read, failed, other };

/// What became of a message we sent (value.statuses[]).
struct status_update {
  std::string phone_number_id;
  std::string wamid;             ///< the id the send response gave us
  status_kind status = status_kind::other;
  std::string status_text;       ///< as sent ("deleted", "played" map to other)
  std::string recipient;         ///< E.164 with "+"
  std::int64_t timestamp = 0;
  std::vector<webhook_error> errors;
  std::string pricing_model;     ///< "CBP", "PMP" or empty
  std::string pricing_category;
  bool billable = false;
  bool operator==(const status_update&) const = default;
};

struct webhook {
  std::vector<inbound_message> messages;
  std::vector<status_update> statuses;
  std::vector<webhook_error> errors;      ///< value.errors[]: problems Meta reports outside a status
  std::vector<std::string> skipped;       ///< why an item was left out (no id, not an object …)
  bool operator==(const webhook&) const = default;
};

struct webhook_result {
  bool ok = false;
  webhook value;
  std::string reason;                     ///< set when !ok: malformed JSON or not a notification
  explicit operator bool() const { return ok; }
};

/// Largest body parse_webhook accepts; the HTTP server should cut earlier.
inline constexpr std::size_t max_webhook_bytes = 1 << 20;

/// Parses a POST body (after the signature was checked on these exact bytes).
webhook_result parse_webhook(std::string_view body);

/// "16505551234" → "+16505551234"; a value that is not all digits is returned unchanged.
std::string normalise_wa_id(std::string_view wa_id);

std::string_view to_string(status_kind s);

}  // namespace kentongan::whatsapp
