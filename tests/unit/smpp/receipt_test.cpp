#include <doctest/doctest.h>

#include <string>

#include "protocol/smpp/pdu.hpp"

using namespace kentongan::smpp;
using namespace std::chrono;

namespace {
constexpr const char* b1 =
    "id:0123456789 sub:002 dlvrd:001 submit date:1005232039 done date:1005242339 stat:DELIVRD err:012 text:This is a sample mes";

sys_seconds at(int y, unsigned mo, unsigned d, int h, int mi, int s = 0) {
  return sys_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi} + seconds{s};
}
}  // namespace

TEST_CASE("delivery receipt texts (vectors B)") {
  struct row {
    const char* label;
    const char* text;
    receipt expected;
  };
  for (const auto& c : {
           row{"B1", b1, receipt{"0123456789", "002", "001", "1005232039", "1005242339", "DELIVRD", "012", "This is a sample mes"}},
           row{"B2 capital Text:",
               "id:4 sub:001 dlvrd:001 submit date:1006020051 done date:1006020051 stat:DELIVRD err:000 Text:Hello",
               receipt{"4", "001", "001", "1006020051", "1006020051", "DELIVRD", "000", "Hello"}},
           row{"B3 UUID id, 12-digit dates, empty text",
               "id:74e02ee1-4e2f-4a6e-a78b-4b247d756a22 sub:001 dlvrd:001 submit date:110206193041 done date:110206193110 stat:DELIVRD err:000 text:",
               receipt{"74e02ee1-4e2f-4a6e-a78b-4b247d756a22", "001", "001", "110206193041", "110206193110", "DELIVRD", "000", ""}},
           row{"B8 ENROUTE",
               "id:98765432101 sub:000 dlvrd:000 submit date:1001010000 done date:1001010000 stat:ENROUTE err:000 text:",
               receipt{"98765432101", "000", "000", "1001010000", "1001010000", "ENROUTE", "000", ""}},
           row{"B10 (A36) text keeps its leading space",
               "id:94251430923 sub:001 dlvrd:001 submit date:0911040124 done date:0911040124 stat:ACCEPTD err:107 text: 26F102",
               receipt{"94251430923", "001", "001", "0911040124", "0911040124", "ACCEPTD", "107", " 26F102"}},
           row{"out of order, sub and dlvrd missing, text not last",
               "stat:UNDELIV id:ab12 text:Halo id:x err:21b",
               receipt{"ab12", std::nullopt, std::nullopt, std::nullopt, std::nullopt, "UNDELIV", "21b", "Halo id:x"}},
           row{"keys in capitals, a byte outside ASCII is no letter of a key",
               "ID:7 STAT:delivrd ERR:000 \xC4\xB0" "d:5",
               receipt{"7", std::nullopt, std::nullopt, std::nullopt, std::nullopt, "delivrd", "000 \xC4\xB0" "d:5", std::nullopt}},
           row{"B11 only a submit date", "submit date:110206193041",
               receipt{std::nullopt, std::nullopt, std::nullopt, "110206193041", std::nullopt, std::nullopt, std::nullopt, std::nullopt}},
       }) {
    const std::string shown_label = c.label;
    CAPTURE(shown_label);
    const auto r = parse_receipt(c.text, receipt_mode::lenient);
    REQUIRE(r.has_value());
    CHECK(*r == c.expected);
  }
  CHECK_FALSE(parse_receipt("Halo, apa kabar?").has_value());
  CHECK_FALSE(parse_receipt("").has_value());
}

TEST_CASE("B12 the strict parser rejects each misspelt key") {
  REQUIRE(parse_receipt(b1, receipt_mode::strict).has_value());
  struct row { const char* good; const char* bad; };
  for (const auto& c : {row{"id:", "i:"}, row{"sub:", "su:"}, row{"dlvrd:", "dlvr:"}, row{"submit date:", "submit dat:"},
                        row{"done date:", "one date:"}, row{"stat:", "sat:"}, row{"err:", "rr:"}, row{"text:", "txt:"}}) {
    std::string text = b1;
    text.replace(text.find(c.good), std::string_view(c.good).size(), c.bad);
    CAPTURE(text);
    CHECK_FALSE(parse_receipt(text, receipt_mode::strict).has_value());
  }
}

TEST_CASE("receipts format back to the Appendix B text") {
  const auto r = parse_receipt(b1);
  REQUIRE(r);
  CHECK(format_receipt(*r) == b1);
  CHECK(format_receipt(receipt{"7", std::nullopt, std::nullopt, std::nullopt, std::nullopt, "DELIVRD", "000", std::nullopt}) ==
        "id:7 stat:DELIVRD err:000");
}

TEST_CASE("receipt dates") {
  struct row { const char* in; std::optional<sys_seconds> out; };
  for (const auto& c : {row{"1005232039", at(2010, 5, 23, 20, 39)}, row{"110206193041", at(2011, 2, 6, 19, 30, 41)},
                        row{"20110206193110", at(2011, 2, 6, 19, 31, 10)}, row{"1002301200", std::nullopt},
                        row{"1005232460", std::nullopt}, row{"10052320", std::nullopt}, row{"10052320a9", std::nullopt}}) {
    const std::string shown_in = c.in;
    CAPTURE(shown_in);
    CHECK(parse_receipt_date(c.in) == c.out);
  }
}

TEST_CASE("receipt stat values map to message states and final outcomes") {
  struct row { const char* stat; std::optional<message_state> state; std::optional<final_state> final; };
  for (const auto& c : {row{"DELIVRD", message_state::delivered, final_state::delivered},
                        row{"delivrd", message_state::delivered, final_state::delivered},
                        row{"EXPIRED", message_state::expired, final_state::expired},
                        row{"DELETED", message_state::deleted, final_state::failed},
                        row{"UNDELIV", message_state::undeliverable, final_state::failed},
                        row{"REJECTD", message_state::rejected, final_state::failed},
                        row{"UNKNOWN", message_state::unknown, final_state::failed},
                        row{"ACCEPTD", message_state::accepted, std::nullopt},
                        row{"ENROUTE", message_state::enroute, std::nullopt},
                        row{"DELIVERED", std::nullopt, std::nullopt}}) {
    const std::string shown_stat = c.stat;
    CAPTURE(shown_stat);
    const auto s = parse_receipt_stat(c.stat);
    CHECK(s == c.state);
    if (s) {
      CHECK(to_final_state(*s) == c.final);
      CHECK(parse_receipt_stat(receipt_stat(*s)) == s);
    }
  }
}
