// libFuzzer target for the SMPP 3.4 PDU decoder: framing + decode must never crash or over-read,
// and anything that decodes must encode again (when within our send limits) to bytes that decode
// to the same value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "protocol/smpp/pdu.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace kentongan::smpp;
  std::span<const std::uint8_t> buffer(data, size);
  (void)decode(buffer);  // arbitrary spans, not only framed ones
  while (!buffer.empty()) {
    const auto f = check_frame(buffer);
    if (f.kind != frame_kind::complete) break;
    const auto r = decode(buffer.first(f.length));
    if (r) {
      (void)to_string(r.value);
      if (const auto again = encode(r.value)) {
        const auto back = decode(*again);
        if (!back || !(back.value == r.value)) std::abort();
      }
      if (const auto* sm = std::get_if<sm_body>(&r.value.body)) {
        const std::string_view text(reinterpret_cast<const char*>(sm->short_message.data()), sm->short_message.size());
        if (const auto receipt = parse_receipt(text)) (void)format_receipt(*receipt);
      }
    }
    buffer = buffer.subspan(f.length);
  }
  (void)parse_receipt(std::string_view(reinterpret_cast<const char*>(data), size), receipt_mode::strict);
  return 0;
}
