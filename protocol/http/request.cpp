#include "protocol/http/request.hpp"

#include "protocol/http/codec.hpp"
#include "protocol/http/json_detail.hpp"

namespace kentongan::http {

namespace {

using nlohmann::json;

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// String values and keys of the JSON template get the placeholders; the serialiser escapes them
// (RFC 8259 §7), so quotes, backslashes and control characters in a text cannot break the body.
bool expand_json(json& v, const placeholder_values& values, std::string& error) {
  if (v.is_string()) {
    auto e = expand(v.get<std::string>(), values, escaping::none);
    if (!e.ok) {
      error = std::move(e.error);
      return false;
    }
    v = std::move(e.text);
  } else if (v.is_object()) {
    json out = json::object();
    for (auto& [k, item] : v.items()) {
      auto key = expand(k, values, escaping::none);
      if (!key.ok || !expand_json(item, values, error)) {
        if (!key.ok) error = std::move(key.error);
        return false;
      }
      out[key.text] = std::move(item);
    }
    v = std::move(out);
  } else if (v.is_array()) {
    for (auto& item : v)
      if (!expand_json(item, values, error)) return false;
  }
  return true;
}

// A short, single-line excerpt of an answer for the outbox reason.
std::string excerpt(std::string_view body) {
  std::string out;
  for (char c : body.substr(0, 160)) out.push_back(static_cast<unsigned char>(c) < 0x20 || c == 0x7F ? ' ' : c);
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (body.size() > 160) out += "…";
  return out;
}

}  // namespace

built_request build_request(const http_settings& s, const message_fields& m) {
  built_request out;
  placeholder_values values;
  values.to = format_number(m.to, s.to_format, s.country_code);
  values.text = m.text;
  values.id = std::to_string(m.id);
  values.from = s.from;
  values.callback_secret = s.callback.secret;
  values.secrets = &s.secrets;
  out.method = s.method == http_method::get ? "GET" : "POST";

  auto url = expand(s.url, values, escaping::url);
  if (!url.ok) {
    out.error = "url: " + url.error;
    return out;
  }
  out.url = std::move(url.text);

  std::string encoded;  // query or form fields
  if (s.body == body_kind::query || s.body == body_kind::form) {
    for (const auto& [k, v] : s.fields) {
      // A field is one parameter value: all of it is encoded, literal text included (a Kannel
      // dlr-url value carries its own '&' and '%d').
      auto e = expand(v, values, escaping::none);
      if (!e.ok) {
        out.error = "fields." + k + ": " + e.error;
        return out;
      }
      if (!encoded.empty()) encoded.push_back('&');
      encoded += url_encode(k) + "=" + url_encode(e.text);
    }
  }
  std::string content_type;
  switch (s.body) {
    case body_kind::none:
      break;
    case body_kind::query:
      if (!encoded.empty()) {
        const auto q = out.url.find('?');
        if (q == std::string::npos) out.url.push_back('?');
        else if (q + 1 != out.url.size() && out.url.back() != '&') out.url.push_back('&');
        out.url += encoded;
      }
      break;
    case body_kind::form:
      out.body = std::move(encoded);
      content_type = "application/x-www-form-urlencoded";
      break;
    case body_kind::json: {
      json doc = json::object();
      if (!s.body_template.empty()) {
        doc = detail::parse_json(s.body_template);
        if (doc.is_discarded()) {
          out.error = "body_template: not valid JSON";
          return out;
        }
        if (std::string error; !expand_json(doc, values, error)) {
          out.error = "body_template: " + error;
          return out;
        }
      } else {
        for (const auto& [k, v] : s.fields) {
          auto e = expand(v, values, escaping::none);
          if (!e.ok) {
            out.error = "fields." + k + ": " + e.error;
            return out;
          }
          doc[k] = std::move(e.text);
        }
      }
      out.body = detail::dump(doc);
      content_type = "application/json";
      break;
    }
  }

  bool has_content_type = false;
  for (const auto& [k, v] : s.headers) {
    auto e = expand(v, values, escaping::none);
    if (!e.ok) {
      out.error = "headers." + k + ": " + e.error;
      return out;
    }
    // A placeholder value must not smuggle a header line in.
    if (e.text.find_first_of("\r\n") != std::string::npos) {
      out.error = "headers." + k + ": the value would contain a line break";
      return out;
    }
    if (iequals(k, "content-type")) has_content_type = true;
    out.headers.push_back(k + ": " + e.text);
  }
  if (!content_type.empty() && !has_content_type) out.headers.push_back("Content-Type: " + content_type);
  if (!s.auth_value.empty()) out.headers.push_back(s.auth_header + ": " + s.auth_value);
  out.ok = true;
  return out;
}

error_action default_action(long status) {
  if (status == 429) return error_action::slow_down;
  if (status == 0 || status == 408 || status == 425 || (status >= 500 && status <= 599)) return error_action::retry;
  if (status == 401 || status == 403) return error_action::stop_channel;
  return error_action::permanent;
}

verdict classify_response(const http_settings& s, std::int64_t our_id, long status, std::string_view body,
                          std::string_view transport_error) {
  verdict v;
  if (status == 0) {
    v.action = error_action::retry;
    v.reason = "aggregator unreachable: " + (transport_error.empty() ? std::string("no answer") : std::string(transport_error));
    return v;
  }
  const bool look = body.size() <= max_answer_bytes;
  const json doc = look ? detail::parse_json(body) : json(nullptr);
  const bool is_json = look && !doc.is_discarded();

  bool ok = status >= s.success.status_min && status <= s.success.status_max;
  if (ok && !s.success.json_pointer.empty())
    ok = is_json && detail::text_of(detail::find(doc, s.success.json_pointer)) == s.success.equals;
  if (ok && !s.success.body_contains.empty()) ok = look && body.find(s.success.body_contains) != std::string_view::npos;

  if (ok) {
    v.success = true;
    if (s.id_pointer.empty()) {
      v.provider_id = std::to_string(our_id);
    } else {
      v.provider_id = is_json ? detail::text_of(detail::find(doc, s.id_pointer)) : std::string{};
      if (v.provider_id.empty()) {
        // The provider took it; sending again would duplicate the SMS. Reports cannot match, though.
        v.reason = "success answer without a message id at " + s.id_pointer;
        v.provider_id = std::to_string(our_id);
      }
    }
    return v;
  }

  const std::string code = is_json && !s.error_code_pointer.empty() ? detail::text_of(detail::find(doc, s.error_code_pointer)) : std::string{};
  bool matched = false;
  for (const auto& rule : s.errors) {
    if (rule.status != 0 && rule.status != status) continue;
    if (!rule.code.empty() && rule.code != code) continue;
    if (!rule.body_contains.empty() && (!look || body.find(rule.body_contains) == std::string_view::npos)) continue;
    v.action = rule.action;
    matched = true;
    break;
  }
  // A 2xx that fails the success rule is the provider refusing this message (Zenziva, many others).
  if (!matched) v.action = status >= 200 && status <= 299 ? error_action::permanent : default_action(status);
  v.reason = "HTTP " + std::to_string(status);
  if (!code.empty()) v.reason += " code " + code;
  if (const auto text = excerpt(body); !text.empty()) v.reason += ": " + text;
  return v;
}

}  // namespace kentongan::http
