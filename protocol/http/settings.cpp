#include "protocol/http/settings.hpp"

#include <array>

#include "protocol/http/codec.hpp"
#include "protocol/http/json_detail.hpp"

namespace kentongan::http {

namespace {

template <class E, std::size_t N>
std::optional<E> parse_in(const std::array<E, N>& all, std::string_view s) {
  for (E e : all)
    if (to_string(e) == s) return e;
  return std::nullopt;
}

void check_pattern(std::vector<std::string>& problems, const std::string& where, const std::string& pattern,
                   const http_settings& s) {
  const auto e = check_placeholders(pattern, s.secrets);
  if (!e.ok) problems.push_back(where + ": " + e.error);
}

void check_pointer(std::vector<std::string>& problems, const std::string& where, const std::string& pointer) {
  if (!detail::valid_pointer(pointer))
    problems.push_back(where + ": \"" + pointer + "\" is not a JSON pointer (RFC 6901: empty, or \"/a/b\" with ~0 ~1 escapes)");
}

// Placeholders inside the string values (and keys) of a JSON template.
void check_json_strings(std::vector<std::string>& problems, const nlohmann::json& v, const http_settings& s) {
  if (v.is_string()) {
    check_pattern(problems, "body_template", v.get<std::string>(), s);
  } else if (v.is_object()) {
    for (const auto& [k, item] : v.items()) {
      check_pattern(problems, "body_template", k, s);
      check_json_strings(problems, item, s);
    }
  } else if (v.is_array()) {
    for (const auto& item : v) check_json_strings(problems, item, s);
  }
}

}  // namespace

std::string_view to_string(http_method m) { return m == http_method::get ? "get" : "post"; }

std::string_view to_string(body_kind k) {
  switch (k) {
    case body_kind::none: return "none";
    case body_kind::query: return "query";
    case body_kind::form: return "form";
    case body_kind::json: return "json";
  }
  return "none";
}

std::string_view to_string(number_format f) {
  switch (f) {
    case number_format::e164: return "e164";
    case number_format::msisdn: return "msisdn";
    case number_format::national: return "national";
  }
  return "msisdn";
}

std::string_view to_string(error_action a) {
  switch (a) {
    case error_action::retry: return "retry";
    case error_action::slow_down: return "slow_down";
    case error_action::permanent: return "permanent";
    case error_action::stop_channel: return "stop_channel";
  }
  return "retry";
}

std::string_view to_string(report_state s) {
  switch (s) {
    case report_state::delivered: return "delivered";
    case report_state::failed: return "failed";
    case report_state::expired: return "expired";
    case report_state::ignore: return "ignore";
  }
  return "ignore";
}

std::string_view to_string(callback_format f) {
  switch (f) {
    case callback_format::automatic: return "auto";
    case callback_format::query: return "query";
    case callback_format::form: return "form";
    case callback_format::json: return "json";
  }
  return "auto";
}

std::string_view to_string(secret_check c) {
  switch (c) {
    case secret_check::none: return "none";
    case secret_check::header: return "header";
    case secret_check::query: return "query";
    case secret_check::hmac_sha256: return "hmac_sha256";
  }
  return "none";
}

std::string_view to_string(signature_encoding e) { return e == signature_encoding::hex ? "hex" : "base64"; }

std::optional<http_method> parse_http_method(std::string_view s) {
  return parse_in(std::array{http_method::get, http_method::post}, s);
}
std::optional<body_kind> parse_body_kind(std::string_view s) {
  return parse_in(std::array{body_kind::none, body_kind::query, body_kind::form, body_kind::json}, s);
}
std::optional<number_format> parse_number_format(std::string_view s) {
  return parse_in(std::array{number_format::e164, number_format::msisdn, number_format::national}, s);
}
std::optional<error_action> parse_error_action(std::string_view s) {
  return parse_in(std::array{error_action::retry, error_action::slow_down, error_action::permanent, error_action::stop_channel}, s);
}
std::optional<report_state> parse_report_state(std::string_view s) {
  return parse_in(std::array{report_state::delivered, report_state::failed, report_state::expired, report_state::ignore}, s);
}
std::optional<callback_format> parse_callback_format(std::string_view s) {
  return parse_in(std::array{callback_format::automatic, callback_format::query, callback_format::form, callback_format::json}, s);
}
std::optional<secret_check> parse_secret_check(std::string_view s) {
  return parse_in(std::array{secret_check::none, secret_check::header, secret_check::query, secret_check::hmac_sha256}, s);
}
std::optional<signature_encoding> parse_signature_encoding(std::string_view s) {
  return parse_in(std::array{signature_encoding::hex, signature_encoding::base64}, s);
}

std::vector<std::string> validate(const http_settings& s) {
  std::vector<std::string> problems;
  if (s.name.empty()) problems.emplace_back("name: must not be empty");
  if (!s.url.starts_with("http://") && !s.url.starts_with("https://"))
    problems.emplace_back("url: must start with http:// or https://");
  check_pattern(problems, "url", s.url, s);
  for (const auto& [k, v] : s.fields) {
    if (k.empty()) problems.emplace_back("fields: a field has an empty name");
    check_pattern(problems, "fields." + k, v, s);
  }
  for (const auto& [k, v] : s.headers) {
    if (k.empty() || k.find_first_of(":\r\n ") != std::string::npos)
      problems.push_back("headers: \"" + k + "\" is not a header name");
    if (v.find_first_of("\r\n") != std::string::npos) problems.push_back("headers." + k + ": line breaks are not allowed");
    check_pattern(problems, "headers." + k, v, s);
  }
  if (!s.auth_value.empty() && (s.auth_header.empty() || s.auth_header.find_first_of(":\r\n ") != std::string::npos))
    problems.emplace_back("auth_header: not a header name");
  if (s.auth_value.find_first_of("\r\n") != std::string::npos)
    problems.emplace_back("auth_file: the value must be one line");
  if (!s.body_template.empty()) {
    if (s.body != body_kind::json) {
      problems.emplace_back("body_template: only with \"body\": \"json\"");
    } else {
      const auto doc = detail::parse_json(s.body_template);
      if (doc.is_discarded()) problems.emplace_back("body_template: not valid JSON");
      else check_json_strings(problems, doc, s);
    }
    if (!s.fields.empty()) problems.emplace_back("body_template: give either fields or body_template, not both");
  }
  if (s.method == http_method::get && (s.body == body_kind::form || s.body == body_kind::json))
    problems.emplace_back("body: a GET request has no body; use \"query\"");
  if (s.body == body_kind::none && !s.fields.empty()) problems.emplace_back("fields: given but \"body\" is \"none\"");
  for (char c : s.country_code)
    if (c < '0' || c > '9') {
      problems.emplace_back("country_code: digits only, e.g. \"62\"");
      break;
    }
  check_pointer(problems, "id_pointer", s.id_pointer);
  check_pointer(problems, "success.json_pointer", s.success.json_pointer);
  check_pointer(problems, "error_code_pointer", s.error_code_pointer);
  if (s.success.status_min > s.success.status_max || s.success.status_min < 100 || s.success.status_max > 599)
    problems.emplace_back("success: status range must lie within 100-599, lowest first");
  for (const auto& e : s.errors)
    if (e.status != 0 && (e.status < 100 || e.status > 599)) problems.push_back("errors: status " + std::to_string(e.status) + " is not an HTTP status");
  if (s.tps <= 0) problems.emplace_back("tps: must be above 0");
  if (s.window == 0) problems.emplace_back("window: must be at least 1");
  if (s.request_timeout.count() <= 0) problems.emplace_back("request_timeout: must be above 0");

  const auto& c = s.callback;
  if (c.enabled) {
    check_pointer(problems, "callback.items_pointer", c.items_pointer);
    for (const std::string* f : {&c.fields.from, &c.fields.to, &c.fields.text, &c.fields.provider_id, &c.fields.status,
                                 &c.fields.error, &c.fields.timestamp})
      if (f->starts_with('/')) check_pointer(problems, "callback.fields", *f);
    if (c.check != secret_check::none && c.secret.empty()) problems.emplace_back("callback.secret_file: the secret is empty");
    if (c.check != secret_check::none && c.secret_name.empty())
      problems.emplace_back("callback.secret_name: which header or parameter carries the secret");
    if (!c.items_pointer.empty() && c.format != callback_format::json && c.format != callback_format::automatic)
      problems.emplace_back("callback.items_pointer: only for JSON callbacks");
  }
  return problems;
}

}  // namespace kentongan::http
