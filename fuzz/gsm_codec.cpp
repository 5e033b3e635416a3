// libFuzzer target for protocol/gsm: decoders must never crash, and round trips hold where they should.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>

#include "protocol/gsm/gsm.hpp"

namespace gsm = kentongan::gsm;

namespace {

void require(bool ok) {
  if (!ok) std::abort();
}

// Decoders promise UTF-8 output: re-encoding it as UTF-16 must not produce U+FFFD unless it was there.
bool same_after_utf16(const std::string& s) { return gsm::decode_ucs2(gsm::encode_ucs2(s)) == s; }

void check_plan(std::string_view text, gsm::plan_options options) {
  const gsm::plan p = gsm::plan_message(text, options);
  require(!p.parts.empty());
  const bool seven = p.enc == gsm::encoding::gsm7;
  const std::size_t limit = p.parts.size() == 1 ? (seven ? 160 : 70) : (seven ? 153 : 67);
  std::size_t total = 0;
  std::string joined;
  for (const auto& part : p.parts) {
    require(part.units <= limit);
    require(p.parts.size() == 1 || part.units > 0);
    total += part.units;
    joined += part.text;
    if (seven) {
      require(part.payload.size() == part.units);
      require(part.payload.empty() || part.payload.back() != 0x1B);
      require(gsm::decode_gsm7(part.payload) == part.text);
    } else {
      require(part.payload.size() == 2 * part.units);
      require(part.payload.size() < 2 || (part.payload[part.payload.size() - 2] & 0xFC) != 0xD8);
      require(gsm::decode_ucs2(part.payload) == part.text);
    }
  }
  require(total == p.units);
  require(p.remaining == limit - p.parts.back().units);
  require(same_after_utf16(joined));
  if (!options.transliterate) {
    // Without transliteration the parts carry the text itself (ill-formed UTF-8 as U+FFFD).
    require(joined == gsm::decode_ucs2(gsm::encode_ucs2(text)));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> bytes(data, size);
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  // GSM-7: anything below 0x80 decodes to encodable text that re-encodes to the same display.
  const std::string decoded = gsm::decode_gsm7(bytes);
  require(same_after_utf16(decoded));
  bool septets_only = true;
  for (std::uint8_t b : bytes) septets_only = septets_only && b < 0x80;
  if (septets_only) {
    const auto again = gsm::encode_gsm7(decoded);
    require(again.has_value());
    require(gsm::decode_gsm7(*again) == decoded);
  }

  // Packing: the first octet picks fill bits and count; the rest are the data.
  if (size > 0) {
    const unsigned fill = data[0] % 7u;
    const auto rest = bytes.subspan(1);
    const auto septets = gsm::unpack_septets(rest, rest.size() * 8 / 7 + 2, fill);
    require(septets.size() <= (rest.size() * 8 >= fill ? (rest.size() * 8 - fill) / 7 : 0));
    for (std::uint8_t s : septets) require(s < 0x80);
    require(gsm::unpack_septets(gsm::pack_septets(septets, fill), septets.size(), fill) == septets);
    require(gsm::unpack_septets(gsm::pack_septets(rest, fill), rest.size(), fill).size() == rest.size());
  }

  const std::string ucs2 = gsm::decode_ucs2(bytes);
  require(same_after_utf16(ucs2));
  require(same_after_utf16(gsm::decode_latin1(bytes)));

  if (const auto udh = gsm::parse_udh(bytes)) {
    require(size > 0 && udh->length == std::size_t{1} + data[0] && udh->length <= size);
    if (udh->concat) require(udh->concat->sequence >= 1 && udh->concat->sequence <= udh->concat->total);
  }

  check_plan(text, {});
  check_plan(text, {.transliterate = true});
  require(same_after_utf16(gsm::transliterate(text)));
  return 0;
}
