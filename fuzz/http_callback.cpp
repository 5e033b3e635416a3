// libFuzzer target for the HTTP aggregator callback parser (every format, every secret check),
// the form/URL decoders, and the answer classifier: none may crash or throw on any bytes, a
// rejected callback carries nothing, an accepted one carries only complete items.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "protocol/http/callback.hpp"
#include "protocol/http/codec.hpp"
#include "protocol/http/request.hpp"

namespace h = kentongan::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // First byte: which configuration; the rest: "<query>\n<header value>\n<body>" (missing parts empty).
  const auto selector = data[0];
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto nl1 = rest.find('\n');
  const std::string_view query = rest.substr(0, nl1);
  std::string_view after = nl1 == std::string_view::npos ? std::string_view{} : rest.substr(nl1 + 1);
  const auto nl2 = after.find('\n');
  const std::string_view header = after.substr(0, nl2);
  const std::string_view body = nl2 == std::string_view::npos ? std::string_view{} : after.substr(nl2 + 1);

  h::callback_settings s;
  s.enabled = true;
  s.format = static_cast<h::callback_format>(selector % 4);
  s.check = static_cast<h::secret_check>((selector / 4) % 4);
  s.encoding = (selector & 0x10) != 0 ? h::signature_encoding::base64 : h::signature_encoding::hex;
  s.secret_name = "x-sig";
  s.secret = "rahasia";
  if ((selector & 0x20) != 0) s.signature_prefix = "sha256=";
  if ((selector & 0x40) != 0) s.items_pointer = "/results";
  if ((selector & 0x80) != 0) {
    s.fields.from = "/sender/msisdn";
    s.fields.status = "/status/name";
    s.fields.timestamp = "ts";
  }
  s.status_map = {{"DELIVRD", h::report_state::delivered}, {"1", h::report_state::delivered},
                  {"UNDELIV", h::report_state::failed}, {"sent", h::report_state::ignore}};
  s.max_body_bytes = 64 * 1024;

  h::callback_request r;
  r.method = "POST";
  r.content_type = (selector & 1) != 0 ? "application/json" : "application/x-www-form-urlencoded";
  r.query = h::parse_form(query);
  r.headers["x-sig"] = std::string(header);
  r.body = std::string(body);

  const auto out = h::parse_callback(s, r, "62");
  if (!out.ok()) {
    if (!out.messages.empty() || !out.reports.empty() || out.reason.empty()) std::abort();
    if (out.http_status() == 200) std::abort();
  } else {
    for (const auto& m : out.messages)
      if (m.from.empty()) std::abort();
    for (const auto& rep : out.reports)
      if (rep.provider_id.empty() || rep.state == h::report_state::ignore) std::abort();
  }

  // Decoders and the encoder round trip.
  if (h::url_decode(h::url_encode(body), false) != body) std::abort();
  (void)h::url_decode(body, true);

  // The same bytes as an aggregator's answer, and as a message text.
  h::http_settings hs;
  hs.url = "https://api.example.id/send?x={text}";
  hs.body = h::body_kind::json;
  hs.fields = {{"text", "{text}"}, {"to", "{to}"}};
  hs.id_pointer = "/messages/0/id";
  hs.success.json_pointer = std::string(header.substr(0, 20));
  hs.error_code_pointer = "/status";
  const auto v = h::classify_response(hs, 1, 200 + static_cast<long>(selector), body);
  if (!v.success && v.reason.empty()) std::abort();
  const auto b = h::build_request(hs, {1, std::string(header), std::string(body)});
  if (!b.ok) std::abort();
  return 0;
}
