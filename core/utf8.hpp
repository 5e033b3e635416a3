#pragma once
// Outside text (admin requests, CLI arguments and files) must be UTF-8 before it goes into JSON:
// nlohmann's dump() throws on anything else, so callers check first and say where it breaks.
#include <cstddef>
#include <optional>
#include <string_view>

namespace kentongan::core {

/// Offset of the first byte that does not start or continue well-formed UTF-8 (RFC 3629 §4: no
/// stray continuation bytes, overlong forms, surrogates, code points above U+10FFFF or truncated
/// sequences; the offset is the sequence's lead byte), or nullopt when all of `s` is well formed.
std::optional<std::size_t> first_invalid_utf8(std::string_view s);

}  // namespace kentongan::core
