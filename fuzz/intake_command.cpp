// Whatever a resident texts goes through normalise_text, parse, tag, parse_ticket and parse_vote:
// none of them may crash, throw or loop on any bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "intake/command.hpp"
#include "intake/poll.hpp"
#include "intake/tagging.hpp"
#include "intake/text.hpp"
#include "intake/ticket.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto settings = kentongan::intake::default_settings();
  static const kentongan::intake::tagger tagger(settings.tags);
  static const std::vector<std::string> options{"Sabtu", "Minggu", "Senin pagi"};
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto normalised = kentongan::intake::normalise_text(text);
  // Normalising is idempotent: what the router sees twice must read the same.
  if (kentongan::intake::normalise_text(normalised) != normalised) __builtin_trap();
  (void)kentongan::intake::parse(text, settings, kentongan::intake::sender_role::resident);
  (void)kentongan::intake::parse(text, settings, kentongan::intake::sender_role::officer);
  (void)tagger(text);
  (void)kentongan::intake::parse_ticket(text, "A");
  (void)kentongan::intake::parse_vote(text, options);
  return 0;
}
