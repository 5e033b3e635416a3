// libFuzzer target for protocol/modem's TPDU codec: decode never crashes; what encode_submit writes decodes
// back to the same text and concatenation.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "protocol/modem/pdu.hpp"

namespace modem = kentongan::modem;
namespace gsm = kentongan::gsm;

namespace {

void require(bool ok) {
  if (!ok) std::abort();
}

std::string to_hex(const std::uint8_t* data, std::size_t size) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(digits[data[i] >> 4]);
    out.push_back(digits[data[i] & 0x0F]);
  }
  return out;
}

void check_round_trip(const modem::submit_request& request) {
  const auto encoded = modem::encode_submit(request);
  if (!encoded) return;
  const auto back = modem::decode_pdu(encoded.value.hex);
  require(static_cast<bool>(back));
  require(request.smsc.has_value() || encoded.value.tpdu_length + 1 == encoded.value.hex.size() / 2);
  const auto* submit = std::get_if<modem::sms_submit>(&back.value);
  require(submit != nullptr);
  const std::string expected = request.enc == gsm::encoding::gsm7 ? gsm::decode_gsm7(request.payload)
                                                                  : gsm::decode_ucs2(request.payload);
  require(submit->ud.text == expected);
  require(submit->ud.header.has_value() == request.concat.has_value());
  if (request.concat) require(submit->ud.header->concat == request.concat);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The raw bytes as a modem line (mostly bad hex), then the bytes as a PDU.
  (void)modem::decode_pdu(std::string_view(reinterpret_cast<const char*>(data), size));
  const auto decoded = modem::decode_pdu(to_hex(data, size));

  if (decoded) {
    if (const auto* s = std::get_if<modem::sms_submit>(&decoded.value); s && s->ud.alpha != modem::alphabet::eight_bit) {
      // Re-encode what was read: the payload septets/octets and any concatenation must survive.
      modem::submit_request again{.destination = s->destination,
                                  .enc = s->ud.alpha == modem::alphabet::gsm7 ? gsm::encoding::gsm7 : gsm::encoding::ucs2,
                                  .payload = s->ud.data,
                                  .concat = s->ud.header ? s->ud.header->concat : std::nullopt,
                                  .message_reference = s->message_reference,
                                  .status_report = s->status_report_request,
                                  .reject_duplicates = s->reject_duplicates,
                                  .smsc = decoded.smsc};
      if ((s->dcs & 0x20) == 0) check_round_trip(again);
    }
  }

  // The bytes as text to send, split and encoded part by part.
  if (size <= 600) {
    const gsm::plan plan = gsm::plan_message(std::string_view(reinterpret_cast<const char*>(data), size));
    const auto requests = modem::submits_for(plan, {.destination = modem::make_address("+6281234567890")},
                                             size > 0 ? data[0] : 0);
    require(requests.size() == plan.parts.size() || plan.parts.size() > 255);
    for (const auto& r : requests) {
      const auto encoded = modem::encode_submit(r);
      require(static_cast<bool>(encoded));
      check_round_trip(r);
    }
  }
  return 0;
}
