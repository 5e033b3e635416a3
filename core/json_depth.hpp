#pragma once
// Outside JSON (admin requests, webhooks, callbacks) is checked for nesting before it is parsed:
// a body of a few hundred thousand '[' fits every size limit yet exhausts the stack of code that
// walks or destroys the parsed tree recursively.
#include <cstddef>
#include <string_view>

namespace kentongan::core {

/// Deepest JSON nesting any request of ours needs is far below this.
inline constexpr std::size_t max_json_depth = 64;

/// True when `text`, read as JSON, opens more than `limit` arrays/objects at once (brackets inside
/// strings do not count). A lexical scan only: the parser still decides whether the text is JSON.
bool json_nesting_exceeds(std::string_view text, std::size_t limit = max_json_depth);

}  // namespace kentongan::core
