#pragma once
/// Private helpers for reading Graph API JSON without exceptions (not part of the public headers).

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace kentongan::whatsapp::detail {

/// The member `key` of `o` when `o` is an object that has it, else nullptr.
inline const nlohmann::json* member(const nlohmann::json& o, const char* key) {
  if (!o.is_object()) return nullptr;
  const auto it = o.find(key);
  return it == o.end() ? nullptr : &*it;
}

/// Strings as they are, numbers and booleans as JSON text, anything else empty.
inline std::string text_of(const nlohmann::json* v) {
  if (v == nullptr) return {};
  if (v->is_string()) return v->get<std::string>();
  if (v->is_number() || v->is_boolean()) return v->dump();
  return {};
}

/// nlohmann's message for a body that did not parse ("parse error at line 1, column 5: …").
inline std::string json_syntax_error(std::string_view body) {
  try {
    [[maybe_unused]] const auto parsed = nlohmann::json::parse(body.begin(), body.end());
  } catch (const nlohmann::json::exception& e) {
    std::string what = e.what();
    if (const auto p = what.find("] "); what.starts_with("[json.exception") && p != std::string::npos) what.erase(0, p + 2);
    return "malformed JSON: " + what;
  } catch (...) {
  }
  return "malformed JSON";
}

}  // namespace kentongan::whatsapp::detail
