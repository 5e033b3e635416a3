// libFuzzer target for the WhatsApp webhook parser, the signature check and the error-body reader:
// none may crash or throw on any bytes; a parsed webhook's items keep their required fields.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "protocol/whatsapp/errors.hpp"
#include "protocol/whatsapp/message.hpp"
#include "protocol/whatsapp/signature.hpp"
#include "protocol/whatsapp/webhook.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace kentongan::whatsapp;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const auto r = parse_webhook(body);
  if (r) {
    for (const auto& m : r.value.messages)
      if (m.wamid.empty() || m.from.empty()) std::abort();
    for (const auto& s : r.value.statuses)
      if (s.wamid.empty() || s.status_text.empty()) std::abort();
  } else if (r.reason.empty()) {
    std::abort();
  }
  // The same bytes as a header value and as an error body.
  const std::string_view header = body.substr(0, 80);
  if (verify_signature(body, header, "secret") && header != sign_body(body, "secret")) {
    // only a case-different spelling of the right signature may verify
    if (header.size() != sign_body(body, "secret").size()) std::abort();
  }
  const auto e = parse_error_body(400, body);
  (void)to_string(classify(e));
  (void)describe(e);
  (void)sent_message_id(body);
  return 0;
}
