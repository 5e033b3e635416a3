#include "protocol/whatsapp/errors.hpp"

#include <array>

#include "protocol/whatsapp/json_util.hpp"

namespace kentongan::whatsapp {

using nlohmann::json;
using detail::member;
using detail::text_of;

namespace {

struct code_range {
  int first, last;
  error_action action;
};

// protocols.md §4.2 (Meta error-codes page). Meta: decide on `code`, not on titles.
constexpr std::array<code_range, 27> table{{
    {0, 0, error_action::stop_channel},                  // AuthException
    {1, 2, error_action::retry},                         // API unknown / service
    {3, 3, error_action::stop_channel},                  // capability
    {4, 4, error_action::slow_down_and_retry},           // too many calls
    {10, 10, error_action::stop_channel},                // permission denied
    {100, 100, error_action::permanent},                 // invalid parameter
    {190, 190, error_action::stop_channel},              // access token expired / invalid
    {200, 299, error_action::stop_channel},              // permission
    {368, 368, error_action::stop_channel},              // blocked for policy violations
    {470, 470, error_action::use_template},              // legacy re-engagement code
    {1026, 1026, error_action::fallback_sms},            // legacy "receiver incapable" (vectors H8)
    {80007, 80007, error_action::slow_down_and_retry},   // rate limit issues
    {130429, 130429, error_action::slow_down_and_retry}, // throughput rate limit (per number)
    {131000, 131000, error_action::retry},               // generic error
    {131005, 131005, error_action::stop_channel},        // access denied
    {131016, 131016, error_action::retry},               // service unavailable
    {131026, 131026, error_action::fallback_sms},        // undeliverable: not on WhatsApp, old app …
    {131031, 131031, error_action::stop_channel},        // business account locked
    {131042, 131042, error_action::stop_channel},        // payment / eligibility
    {131047, 131047, error_action::use_template},        // re-engagement: > 24 h since the user wrote
    {131048, 131048, error_action::slow_down_and_retry}, // spam rate limit
    {131049, 131049, error_action::permanent},           // ecosystem engagement: never blind-retry
    {131056, 131056, error_action::slow_down_and_retry}, // (business, consumer) pair rate limit
    {131057, 131057, error_action::retry},               // account in maintenance
    {133004, 133004, error_action::retry},               // server temporarily unavailable
    {133010, 133010, error_action::stop_channel},        // phone number not registered
    {135000, 135000, error_action::retry},               // generic user error, transient on Meta's side
}};

}  // namespace

graph_error parse_error_body(int http_status, std::string_view body) {
  graph_error e;
  e.http_status = http_status;
  json doc = json::parse(body.begin(), body.end(), nullptr, false);
  if (doc.is_discarded()) return e;
  const json* err = member(doc, "error");
  if (err == nullptr || !err->is_object()) return e;
  if (const json* c = member(*err, "code"); c != nullptr && c->is_number_integer()) {
    const auto v = c->get<std::int64_t>();
    if (v >= 0 && v <= 0x7FFFFFFF) {
      e.has_code = true;
      e.code = static_cast<int>(v);
    }
  }
  if (const json* s = member(*err, "error_subcode"); s != nullptr && s->is_number_integer()) {
    const auto v = s->get<std::int64_t>();
    e.subcode = v >= 0 && v <= 0x7FFFFFFF ? static_cast<int>(v) : 0;
  }
  e.type = text_of(member(*err, "type"));
  e.message = text_of(member(*err, "message"));
  if (const json* d = member(*err, "error_data")) e.details = text_of(member(*d, "details"));
  e.fbtrace_id = text_of(member(*err, "fbtrace_id"));
  return e;
}

error_action classify(int http_status, bool has_code, int code) {
  if (has_code) {
    for (const auto& row : table)
      if (code >= row.first && code <= row.last) return row.action;
    if (code >= 132000 && code <= 132999) return error_action::permanent;  // template call problems
    if (code >= 131000 && code <= 131999 && http_status < 500) return error_action::permanent;
  }
  if (http_status == 429) return error_action::slow_down_and_retry;
  if (http_status == 401) return error_action::stop_channel;
  if (http_status >= 500 || http_status == 0 || http_status == 408) return error_action::retry;
  if (http_status >= 400) return error_action::permanent;
  return error_action::retry;
}

std::string_view to_string(error_action a) {
  switch (a) {
    case error_action::retry: return "retry";
    case error_action::slow_down_and_retry: return "slow_down_and_retry";
    case error_action::use_template: return "use_template";
    case error_action::fallback_sms: return "fallback_sms";
    case error_action::stop_channel: return "stop_channel";
    case error_action::permanent: return "permanent";
  }
  return "permanent";
}

std::string describe(const graph_error& e) {
  std::string out;
  if (e.has_code) out = "(#" + std::to_string(e.code) + ") ";
  // Meta's message already starts with "(#code)" most of the time.
  std::string text = e.message;
  if (text.starts_with("(#")) {
    if (const auto p = text.find(") "); p != std::string::npos) text.erase(0, p + 2);
  }
  out += text.empty() ? std::string("no error message") : text.substr(0, 200);
  if (!e.details.empty()) out += ": " + e.details.substr(0, 200);
  out += " (HTTP " + std::to_string(e.http_status) + ")";
  return out;
}

}  // namespace kentongan::whatsapp
