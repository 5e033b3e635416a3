#pragma once
/// Bodies of `POST /{version}/{phone_number_id}/messages` and what its success answer carries
/// (protocols.md §4.1). Pure, never throws.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kentongan::whatsapp {

/// Longest free-form text body Meta accepts (protocols.md §4.1).
inline constexpr std::size_t max_text_characters = 4096;

/// "+6281234567890" → "6281234567890" (the `to` form without "+").
std::string to_recipient(std::string_view e164);

/// A free-form text (only inside the 24-hour window).
std::string text_body(std::string_view e164, std::string_view text);

/// A template message; each parameter becomes one body {"type":"text"} parameter, in order.
std::string template_body(std::string_view e164, std::string_view name, std::string_view language,
                          const std::vector<std::string>& body_parameters);

/// A template body parameter may not hold newlines, tabs or more than four spaces in a row
/// (Meta error 132018): these become single spaces.
std::string template_parameter(std::string_view text);

/// The wamid of `{"messages":[{"id":"wamid…"}]}`, nullopt when the body has none.
std::optional<std::string> sent_message_id(std::string_view body);

/// Characters (code points) in UTF-8 text, as Meta counts the 4096 limit.
std::size_t utf8_length(std::string_view text);

}  // namespace kentongan::whatsapp
