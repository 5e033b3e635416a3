#pragma once
/// Private: reading provider JSON without exceptions (RFC 6901 pointers written here, because
/// nlohmann's json_pointer throws on a malformed pointer).

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/json_depth.hpp"

namespace kentongan::http::detail {

/// Parses without throwing; a discarded value when the text is not JSON or nests too deep.
inline nlohmann::json parse_json(std::string_view text) {
  if (core::json_nesting_exceeds(text)) return nlohmann::json(nlohmann::json::value_t::discarded);
  return nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
}

/// True when `pointer` is "" or "/a/b~1c/0" with only ~0 and ~1 escapes.
inline bool valid_pointer(std::string_view pointer) {
  if (pointer.empty()) return true;
  if (pointer.front() != '/') return false;
  for (std::size_t i = 0; i < pointer.size(); ++i)
    if (pointer[i] == '~' && (i + 1 >= pointer.size() || (pointer[i + 1] != '0' && pointer[i + 1] != '1'))) return false;
  return true;
}

/// The value `pointer` designates in `doc`, or nullptr (missing member, index out of range,
/// malformed pointer). Array indexes are decimal without leading zeros (RFC 6901 §4).
inline const nlohmann::json* find(const nlohmann::json& doc, std::string_view pointer) {
  if (!valid_pointer(pointer)) return nullptr;
  const nlohmann::json* at = &doc;
  std::size_t pos = 0;
  while (pos < pointer.size()) {
    ++pos;  // the '/'
    const std::size_t end = std::min(pointer.find('/', pos), pointer.size());
    std::string token;
    for (std::size_t i = pos; i < end; ++i) {
      if (pointer[i] == '~') {
        token.push_back(pointer[i + 1] == '1' ? '/' : '~');
        ++i;
      } else {
        token.push_back(pointer[i]);
      }
    }
    pos = end;
    if (at->is_object()) {
      const auto it = at->find(token);
      if (it == at->end()) return nullptr;
      at = &*it;
    } else if (at->is_array()) {
      if (token.empty() || token.size() > 9 || (token.size() > 1 && token.front() == '0')) return nullptr;
      std::size_t index = 0;
      for (char c : token) {
        if (c < '0' || c > '9') return nullptr;
        index = index * 10 + static_cast<std::size_t>(c - '0');
      }
      if (index >= at->size()) return nullptr;
      at = &(*at)[index];
    } else {
      return nullptr;
    }
  }
  return at;
}

/// Strings as they are, numbers and booleans as JSON text, null/absent/containers empty.
inline std::string text_of(const nlohmann::json* v) {
  if (v == nullptr) return {};
  if (v->is_string()) return v->get<std::string>();
  if (v->is_number() || v->is_boolean()) return v->dump();
  return {};
}

/// Serialises without throwing on invalid UTF-8 (replaced by U+FFFD).
inline std::string dump(const nlohmann::json& v) {
  return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace kentongan::http::detail
