#include <doctest/doctest.h>

#include "core/model.hpp"
#include "protocol/channel/channel.hpp"

using namespace kentongan;

TEST_CASE("message states round-trip through their names") {
  for (auto s : {core::message_state::queued, core::message_state::sending, core::message_state::submitted,
                 core::message_state::delivered, core::message_state::failed, core::message_state::expired,
                 core::message_state::cancelled}) {
    CAPTURE(core::to_string(s));
    CHECK(core::parse_message_state(core::to_string(s)) == s);
  }
  CHECK_FALSE(core::parse_message_state("sent").has_value());
  CHECK(core::is_final(core::message_state::delivered));
  CHECK_FALSE(core::is_final(core::message_state::submitted));
}

TEST_CASE("phone numbers are masked for logs") {
  struct row { const char* in; const char* out; };
  for (auto r : {row{"+6281234567890", "+62812*****890"}, row{"+628123", "*******"}, row{"+12025550123", "+12025***123"}}) {
    CAPTURE(r.in);
    CHECK(core::mask_phone(r.in) == r.out);
  }
}

TEST_CASE("provider ids compare across SMSC spellings") {
  struct row { const char* in; const char* out; };
  for (auto r : {row{"00AB12", "ab12"}, row{"ab12", "ab12"}, row{"000", "0"}, row{"", ""}, row{"0", "0"},
                 row{"0A", "a"}, row{"A0", "a0"}, row{"00Zz09", "zz09"}, row{"wamid.HBgL", "wamid.hbgl"},
                 row{"\xC3\x84" "B", "\xC3\x84" "b"}, row{"0 1", " 1"}}) {
    CAPTURE(r.in);
    CHECK(channel::normalise_provider_id(r.in) == r.out);
  }
}
