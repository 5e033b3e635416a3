// libFuzzer target for protocol/modem's AT engine: any byte stream from a modem, in any chunking, gives
// the same lines, URCs and completion, never crashes, and the information-line parsers take all of it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/modem/at.hpp"
#include "protocol/modem/pdu.hpp"

namespace modem = kentongan::modem;

namespace {

void require(bool ok) {
  if (!ok) std::abort();
}

struct outcome {
  std::string written;
  std::vector<modem::urc> urcs;
  std::vector<modem::at_response> done;
};

outcome drive(std::string_view command, bool with_data, std::string_view input, std::size_t chunk) {
  modem::at_engine engine(256);
  outcome o;
  engine.start(std::string(command), modem::at_engine::clock::time_point::max(),
               with_data ? std::optional<std::string>("0001000B914316565811F9000004E8373B0C") : std::nullopt);
  for (std::size_t i = 0; i < input.size(); i += chunk) {
    auto out = engine.feed(input.substr(i, chunk));
    o.written += out.write;
    for (auto& u : out.urcs) o.urcs.push_back(std::move(u));
    if (out.done) o.done.push_back(std::move(*out.done));
  }
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  static constexpr std::string_view commands[] = {"AT+CMGL=4", "AT+CMGR=1", "AT+CMGS=17", "AT+CSQ", "AT+CUSD=1,\"*888#\",15", "ATI"};
  const std::uint8_t selector = data[0];
  const std::string_view command = commands[selector % std::size(commands)];
  const bool with_data = command == "AT+CMGS=17";
  const std::size_t chunk = 1 + (selector >> 4);
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);

  const auto whole = drive(command, with_data, input, input.empty() ? 1 : input.size());
  const auto pieces = drive(command, with_data, input, chunk);
  require(whole.done.size() <= 1 && pieces.done.size() <= 1);
  require(whole.urcs == pieces.urcs);
  require(whole.written == pieces.written);
  require(whole.done.size() == pieces.done.size());
  if (!whole.done.empty()) {
    const auto& r = whole.done.front();
    require(r.lines == pieces.done.front().lines && r.result == pieces.done.front().result && r.error == pieces.done.front().error);
    for (const auto& m : modem::parse_cmgl(r)) (void)modem::decode_pdu(m.pdu);
    if (auto m = modem::parse_cmgr(r)) (void)modem::decode_pdu(m->pdu);
    (void)modem::parse_cmgs(r);
    (void)modem::parse_csq(r);
    (void)modem::parse_creg(r);
    (void)modem::parse_cops(r);
    (void)modem::parse_csca(r);
    (void)r.describe();
  }
  for (const auto& u : whole.urcs) {
    (void)modem::parse_cusd(u.line);
    if (!u.pdu.empty()) (void)modem::decode_pdu(u.pdu);
  }
  return 0;
}
