#pragma once
/// Webhook authenticity (protocols.md §4.3, §4.5). Pure, never throws.

#include <optional>
#include <string>
#include <string_view>

namespace kentongan::whatsapp {

/// Lower-case hex HMAC-SHA256 of `body` keyed with `secret` (64 characters).
std::string hmac_sha256_hex(std::string_view secret, std::string_view body);

/// The X-Hub-Signature-256 header value Meta would send: "sha256=<hex>".
std::string sign_body(std::string_view body, std::string_view app_secret);

/// True when `header` is "sha256=<64 hex>" (hex in either case) and equals the HMAC-SHA256 of the
/// exact `raw_body` bytes keyed with `app_secret`, compared in constant time. An empty secret never verifies.
bool verify_signature(std::string_view raw_body, std::string_view header, std::string_view app_secret);

/// The GET handshake: the challenge to answer with 200 when mode is "subscribe" and the token
/// matches (constant time); nullopt means 403.
std::optional<std::string> verify_subscription(std::string_view mode, std::string_view token,
                                               std::string_view challenge, std::string_view expected_token);

/// Constant-time equality (lengths may leak, contents do not).
bool equal_constant_time(std::string_view a, std::string_view b);

}  // namespace kentongan::whatsapp
