#include "protocol/whatsapp/message.hpp"

#include "protocol/whatsapp/json_util.hpp"

namespace kentongan::whatsapp {

using nlohmann::json;
using detail::member;
using detail::text_of;

namespace {

// dump() with `replace` so that invalid UTF-8 from upstream never throws.
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace

std::string to_recipient(std::string_view e164) {
  if (!e164.empty() && e164.front() == '+') e164.remove_prefix(1);
  return std::string(e164);
}

std::string text_body(std::string_view e164, std::string_view text) {
  json j{{"messaging_product", "whatsapp"},
         {"recipient_type", "individual"},
         {"to", to_recipient(e164)},
         {"type", "text"},
         {"text", {{"preview_url", false}, {"body", std::string(text)}}}};
  return dump(j);
}

std::string template_body(std::string_view e164, std::string_view name, std::string_view language,
                          const std::vector<std::string>& body_parameters) {
  json tmpl{{"name", std::string(name)}, {"language", {{"policy", "deterministic"}, {"code", std::string(language)}}}};
  if (!body_parameters.empty()) {
    json params = json::array();
    for (const auto& p : body_parameters) params.push_back({{"type", "text"}, {"text", p}});
    tmpl["components"] = json::array({json{{"type", "body"}, {"parameters", std::move(params)}}});
  }
  json j{{"messaging_product", "whatsapp"},
         {"recipient_type", "individual"},
         {"to", to_recipient(e164)},
         {"type", "template"},
         {"template", std::move(tmpl)}};
  return dump(j);
}

std::string template_parameter(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t spaces = 0;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    if (c == ' ') {
      if (++spaces > 1) continue;  // collapse runs: stays well under Meta's four
    } else {
      spaces = 0;
    }
    out.push_back(c);
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  while (!out.empty() && out.front() == ' ') out.erase(out.begin());
  return out;
}

std::optional<std::string> sent_message_id(std::string_view body) {
  json doc = json::parse(body.begin(), body.end(), nullptr, false);
  if (doc.is_discarded()) return std::nullopt;
  const json* messages = member(doc, "messages");
  if (messages == nullptr || !messages->is_array() || messages->empty()) return std::nullopt;
  std::string id = text_of(member(messages->front(), "id"));
  if (id.empty()) return std::nullopt;
  return id;
}

std::size_t utf8_length(std::string_view text) {
  std::size_t n = 0;
  for (const char c : text)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

}  // namespace kentongan::whatsapp
