#include <doctest/doctest.h>

#include "protocol/modem/pdu.hpp"

using namespace kentongan;
using namespace kentongan::modem;
using namespace std::chrono_literals;
using std::chrono::sys_days;

namespace {

std::vector<std::uint8_t> septets(std::string_view text) {
  auto s = gsm::encode_gsm7(text);
  REQUIRE(s.has_value());
  return *s;
}

template <class T>
T decode_as(std::string_view hex, std::optional<address>* smsc = nullptr) {
  const decode_result r = decode_pdu(hex);
  CAPTURE(to_string(r.error));
  REQUIRE(r);
  REQUIRE(std::holds_alternative<T>(r.value));
  if (smsc != nullptr) *smsc = r.smsc;
  return std::get<T>(r.value);
}

timestamp at(sys_days day, std::chrono::seconds local_time, std::chrono::minutes offset) {
  return timestamp{std::chrono::sys_seconds{day + local_time - offset}, offset};
}

}  // namespace

TEST_CASE("SMS-DELIVER vectors (vectors.md F)") {
  struct row {
    std::string_view id;
    const char* pdu;
    const char* smsc;
    address originator;
    alphabet alpha;
    std::optional<timestamp> scts;
    const char* text;
  };
  const row rows[] = {
      {"F1", "06917228195339040B917228214365F700003130805120618005D4F29C2E03", "+2782913593",
       {"+27821234567", 0x91}, alphabet::gsm7, at(sys_days{2013y / 3 / 8}, 15h + 2min + 16s, 2h), "Test2"},
      {"F2",
       "07915892000000F0040B915892214365F700007040213252242331493A283D0795C3F33C88FE06C9CB6132885EC6D341EDF27C1E3E97E7207B3A0C0A5241E377BB1D7693E72E",
       "+85290000000", {"+85291234567", 0x91}, alphabet::gsm7, at(sys_days{2007y / 4 / 12}, 23h + 25min + 42s, 8h),
       "It is easy to read text messages via AT commands."},
      {"F12", "07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07", "+31624000000",
       {"+31641600986", 0x91}, alphabet::gsm7, at(sys_days{2002y / 8 / 26}, 19h + 37min + 41s, 0min), "How are you?"},
      {"F13", "07914306073011F0040B914316709807F2000880604290224080084E2D5174901A8BAF", "+34607003110",
       {"+34610789702", 0x91}, alphabet::ucs2, at(sys_days{2008y / 6 / 24}, 9h + 22min + 4s, 2h), "中兴通讯"},
      {"F14", "0791447758100650040C914497716247010000909010711423400A2050EC468B81C4733A", "+447785016005",
       {"+447917267410", 0x91}, alphabet::gsm7, at(sys_days{2009y / 9 / 1}, 17h + 41min + 32s, 1h), "  1741 bst"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.id);
    std::optional<address> smsc;
    const auto d = decode_as<sms_deliver>(r.pdu, &smsc);
    REQUIRE(smsc.has_value());
    CHECK(smsc->number == r.smsc);
    CHECK(d.originator == r.originator);
    CHECK(d.pid == 0);
    CHECK(d.ud.alpha == r.alpha);
    CHECK(d.service_centre_time == r.scts);
    CHECK(d.ud.text == r.text);
    CHECK_FALSE(d.ud.header.has_value());
  }
}

TEST_CASE("SCTS time zones (vectors.md E, protocols.md §3.1)") {
  struct row { std::string_view id; const char* scts; std::optional<timestamp> expected; };
  const row rows[] = {
      {"E1 UTC", "51117200000000", at(sys_days{2015y / 11 / 27}, 0s, 0min)},
      {"E2 UTC+2", "51117200000080", at(sys_days{2015y / 11 / 27}, 0s, 2h)},
      {"E3 UTC+8", "70402132522423", at(sys_days{2007y / 4 / 12}, 23h + 25min + 42s, 8h)},
      {"E5 GMT+3, 1999", "99202150750321", at(sys_days{1999y / 2 / 12}, 5h + 57min + 30s, 3h)},
      {"E6 1999 UTC", "99202150750300", at(sys_days{1999y / 2 / 12}, 5h + 57min + 30s, 0min)},
      {"GMT-3", "99202150750329", at(sys_days{1999y / 2 / 12}, 5h + 57min + 30s, -3h)},
      {"-8 h", "9920215075032B", at(sys_days{1999y / 2 / 12}, 5h + 57min + 30s, -8h)},
      {"-5 h", "9920215075030A", at(sys_days{1999y / 2 / 12}, 5h + 57min + 30s, -5h)},
      {"negative zero", "99202150750308", at(sys_days{1999y / 2 / 12}, 5h + 57min + 30s, 0min)},
      {"WIB +7", "62208030201082", at(sys_days{2026y / 2 / 8}, 3h + 2min + 1s, 7h)},
      {"month 13", "51317200000000", std::nullopt},
      {"non-BCD digit", "5A117200000000", std::nullopt},
      {"30 February", "62200300000000", std::nullopt},
  };
  for (const auto& r : rows) {
    CAPTURE(r.id);
    const std::string pdu = std::string("00040B917228214365F70000") + r.scts + "00";
    const auto d = decode_as<sms_deliver>(pdu);
    CHECK(d.service_centre_time == r.expected);
  }
}

TEST_CASE("SMS-STATUS-REPORT vectors") {
  struct row {
    std::string_view id;
    const char* pdu;
    std::uint8_t mr;
    address recipient;
    std::optional<timestamp> scts;
    std::optional<timestamp> dt;
    std::uint8_t st;
    delivery_status status;
  };
  const auto t1 = at(sys_days{2026y / 8 / 23}, 16h + 50min + 3s, 8h);
  const auto t2 = at(sys_days{2026y / 8 / 23}, 16h + 52min + 42s, 8h);
  const row rows[] = {
      {"F.2 first, FF padding", "00066705810180F6628032610530236280326105302300FFFFFFFFFFFFFF", 103, {"10086", 0x81}, t1,
       t1, 0x00, delivery_status::delivered},
      {"F.2 second", "00066805810180F6628032612524236280326125242300FFFFFFFFFFFFFF", 104, {"10086", 0x81}, t2, t2, 0x00,
       delivery_status::delivered},
      {"G4 +CDS", "0006D60B911326880736F4111011719551401110117195714000", 214, {"+31628870634", 0x91},
       at(sys_days{2011y / 1 / 11}, 17h + 59min + 15s, 1h), at(sys_days{2011y / 1 / 11}, 17h + 59min + 17s, 1h),
       0x00, delivery_status::delivered},
      {"pending", "0006D60B911326880736F4111011719551401110117195714030", 214, {"+31628870634", 0x91},
       at(sys_days{2011y / 1 / 11}, 17h + 59min + 15s, 1h), at(sys_days{2011y / 1 / 11}, 17h + 59min + 17s, 1h),
       0x30, delivery_status::pending},
  };
  for (const auto& r : rows) {
    CAPTURE(r.id);
    const auto s = decode_as<sms_status_report>(r.pdu);
    CHECK(s.message_reference == r.mr);
    CHECK(s.recipient == r.recipient);
    CHECK(s.service_centre_time == r.scts);
    CHECK(s.discharge_time == r.dt);
    CHECK(s.status == r.st);
    CHECK(classify_status(s.status) == r.status);
  }
  struct st_row { std::uint8_t st; delivery_status status; };
  for (auto r : {st_row{0x00, delivery_status::delivered}, st_row{0x02, delivery_status::delivered},
                 st_row{0x30, delivery_status::pending}, st_row{0x41, delivery_status::failed},
                 st_row{0x60, delivery_status::failed}, st_row{0x80, delivery_status::unknown}}) {
    CAPTURE(int{r.st});
    CHECK(classify_status(r.st) == r.status);
  }
}

TEST_CASE("SMS-SUBMIT vectors decode") {
  struct row {
    std::string_view id;
    const char* pdu;
    address destination;
    std::uint8_t dcs;
    std::optional<std::chrono::minutes> validity;
    bool srr;
    const char* text;
  };
  const row rows[] = {
      {"F4", "07911326040000F0310D0B911326880736F40000A90FF7FBDD454E87CDE1B0DB357EB701", {"+31628870634", 0x91}, 0x00,
       std::chrono::days{3}, true, "www.diafaan.com"},
      {"F7", "07914346466554F601000B914316565811F9000806304253F68449", {"+34616585119", 0x91}, 0x08, std::nullopt,
       false, "あ叶葉"},
      {"F9", "0591721891F101000B917228214365F700040C48656C6C6F20776F726C6421", {"+27821234567", 0x91}, 0x04,
       std::nullopt, false, "Hello world!"},
      {"F21 flash", "0001000B914356143254F6001006E8721E947F03", {"+34654123456", 0x91}, 0x10, std::nullopt, false,
       "hey yo"},
      {"F23 TOA 81", "07914400000000F001000B811000000000F000040B48692074686572652E2E2E", {"01000000000", 0x81}, 0x04,
       std::nullopt, false, "Hi there..."},
      {"F24", "001100098156355476F80008AA0E0420044304410441043A04380439", {"655345678", 0x81}, 0x08,
       std::chrono::days{4}, false, "Русский"},
      {"F32 Nordic", "069144888888F811000C9153481032547600000B20D4F29C9E769F4161D0BC3D07B5CBF379F89C769F416F7B590E62D3CB",
       {"+358401234567", 0x91}, 0x00, 60min, false, "Testing a sms messaging over lte"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.id);
    const auto s = decode_as<sms_submit>(r.pdu);
    CHECK(s.destination == r.destination);
    CHECK(s.dcs == r.dcs);
    CHECK(s.relative_validity == r.validity);
    CHECK(s.status_report_request == r.srr);
    CHECK(s.ud.text == r.text);
  }
  const auto f4 = decode_as<sms_submit>(rows[0].pdu);
  CHECK(f4.message_reference == 13);
  const auto f19 = decode_as<sms_submit>("0019000B914316565811F900000170520251930004E8373B0C");
  CHECK(f19.absolute_validity == at(sys_days{2010y / 7 / 25}, 20h + 15min + 39s, 0min));
  CHECK(f19.ud.text == "hola");
}

TEST_CASE("SMS-SUBMIT encode vectors and AT+CMGS lengths") {
  struct row {
    std::string_view id;
    submit_request request;
    const char* pdu;
    std::size_t cmgs;
  };
  const auto world = gsm::encode_ucs2("世界您好！");
  const row rows[] = {
      {"F17", {.destination = make_address("+34616585119"), .payload = septets("hola")},
       "0001000B914316565811F9000004E8373B0C", 17},
      {"F18 VP 4 days", {.destination = make_address("+34616585119"), .payload = septets("hola"), .validity = std::chrono::days{4}},
       "0011000B914316565811F90000AA04E8373B0C", 18},
      {"F20 SMSC", {.destination = make_address("+34616585119"), .payload = septets("hola"), .smsc = make_address("+34646456456")},
       "07914346466554F601000B914316565811F9000004E8373B0C", 17},
      {"F22 SRR", {.destination = make_address("+34654123456"), .payload = septets("hey yo"), .status_report = true},
       "0021000B914356143254F6000006E8721E947F03", 19},
      {"F26", {.destination = make_address("+27820001111"), .payload = septets("Hello World!")},
       "0001000B917228001011F100000CC8329BFD065DDF72363904", 24},
      {"F27 UCS-2, VP 52 weeks",
       {.destination = make_address("+123456789"), .enc = gsm::encoding::ucs2, .payload = world,
        .validity = std::chrono::weeks{52}, .smsc = make_address("+44000000000")},
       "07914400000000F01100099121436587F90008F40A4E16754C60A8597DFF01", 23},
      {"F30", {.destination = make_address("+46708251358"), .payload = septets("hellohello"), .validity = std::chrono::days{4}},
       "0011000B916407281553F80000AA0AE8329BFD4697D9EC37", 23},
      {"F32 Nordic", {.destination = make_address("+358401234567"), .payload = septets("Testing a sms messaging over lte"),
        .validity = 60min, .smsc = make_address("+448888888")},
       "069144888888F811000C9153481032547600000B20D4F29C9E769F4161D0BC3D07B5CBF379F89C769F416F7B590E62D3CB", 42},
      {"F33 Indonesia", {.destination = make_address("+6281234567890"), .payload = septets("Halo dari Jakarta"),
        .validity = 5min, .smsc = make_address("+6281100000")},
       "0691261801000011000D91261832547698F000000011C830FB0D2287E5699032BC0ECBE961", 30},
      {"C23 national TOA A1", {.destination = {"0129998765", 0xA1}, .payload = septets("a")},
       "0001000AA1109299785600000161", 13},
  };
  for (const auto& r : rows) {
    CAPTURE(r.id);
    const auto e = encode_submit(r.request);
    CAPTURE(to_string(e.error));
    REQUIRE(e);
    CHECK(e.value.hex == r.pdu);
    CHECK(e.value.tpdu_length == r.cmgs);
  }
}

TEST_CASE("addresses (vectors.md C.2)") {
  struct row { std::string_view id; const char* number; const char* da; };
  const row rows[] = {
      {"C17", "+9876543210", "0A918967452301"},
      {"C18 odd digits", "+987654321", "099189674523F1"},
      {"C19", "+27829135934", "0B917228195339F4"},
      {"Indonesian 13 digits", "+6281234567890", "0D91261832547698F0"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.id);
    const auto e = encode_submit({.destination = make_address(r.number), .payload = septets("x")});
    REQUIRE(e);
    CHECK(e.value.hex.substr(6, std::string_view(r.da).size()) == r.da);
  }
  struct smsc_row { std::string_view id; const char* number; const char* prefix; };
  for (auto r : {smsc_row{"C24", "+9876543210", "06918967452301"}, smsc_row{"C25", "+2782913593", "06917228195339"}}) {
    CAPTURE(r.id);
    const auto e = encode_submit({.destination = make_address("+1"), .payload = septets("x"), .smsc = make_address(r.number)});
    REQUIRE(e);
    CHECK(e.value.hex.substr(0, 14) == r.prefix);
    const auto back = decode_pdu(e.value.hex);
    REQUIRE(back);
    REQUIRE(back.smsc.has_value());
    CHECK(back.smsc->number == r.number);
  }
  // Alphanumeric originator (TON 101): "FONIC" → 09 D0 C6A7333904 (protocols.md §3.1).
  const auto d = decode_as<sms_deliver>("000409D0C6A733390400005111720000000002E33C");
  CHECK(d.originator == address{"FONIC", 0xD0});
  CHECK(d.ud.text == "cy");
}

TEST_CASE("relative validity period (vectors.md E8, E9, E10)") {
  struct row { std::string_view label; std::chrono::minutes in; std::optional<std::uint8_t> vp; };
  const row rows[] = {
      {"5 min", 5min, 0},          {"6 min", 6min, 0},           {"10 min", 10min, 1},
      {"30 min", 30min, 5},        {"12 h", 12h, 143},           {"13 h", 13h, 145},
      {"16 h", 16h, 151},          {"24 h", 24h, 167},           {"2 days", std::chrono::days{2}, 168},
      {"3 days", std::chrono::days{3}, 169}, {"4 days", std::chrono::days{4}, 170},
      {"30 days", std::chrono::days{30}, 196}, {"5 weeks", std::chrono::weeks{5}, 197},
      {"52 weeks", std::chrono::weeks{52}, 244}, {"63 weeks", std::chrono::weeks{63}, 255},
      {"1000 weeks", std::chrono::weeks{1000}, std::nullopt},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    CHECK(encode_relative_validity(r.in) == r.vp);
  }
  CHECK(decode_relative_validity(0x00) == 5min);
  CHECK(decode_relative_validity(0xA7) == 24h);
  CHECK(decode_relative_validity(0xAA) == std::chrono::days{4});
  CHECK(decode_relative_validity(0xFF) == std::chrono::weeks{63});
  CHECK(encode_submit({.destination = make_address("+1"), .validity = std::chrono::weeks{1000}}).error ==
        pdu_error::bad_validity);
}

TEST_CASE("concatenated parts round-trip through encode and decode") {
  std::string text;
  while (text.size() < 400) text += "Penyuluhan hama kakao di balai desa, Sabtu 08.00 {Merta Abadi} ";
  struct row { std::string_view label; std::string text; std::uint8_t reference; };
  const row rows[] = {
      {"GSM-7, 8-bit reference", text, 0x2A},
      {"GSM-7, extension characters", text + "[€]", 0xFF},
      {"UCS-2", "Panen raya 🌾 " + text.substr(0, 150), 7},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    const gsm::plan plan = gsm::plan_message(r.text);
    const auto requests = submits_for(plan, {.destination = make_address("+6281234567890")}, r.reference);
    REQUIRE(plan.parts.size() > 1);
    REQUIRE(requests.size() == plan.parts.size());
    std::string joined;
    for (std::size_t i = 0; i < requests.size(); ++i) {
      CAPTURE(i);
      const auto e = encode_submit(requests[i]);
      CAPTURE(to_string(e.error));
      REQUIRE(e);
      const auto s = decode_as<sms_submit>(e.value.hex);
      REQUIRE(s.ud.header.has_value());
      REQUIRE(s.ud.header->concat.has_value());
      CHECK(*s.ud.header->concat == gsm::concat_info{r.reference, static_cast<std::uint8_t>(plan.parts.size()),
                                                     static_cast<std::uint8_t>(i + 1)});
      CHECK(s.ud.text == plan.parts[i].text);
      joined += s.ud.text;
    }
    CHECK(joined == r.text);
  }
  // A 16-bit reference needs a 7-octet UDH (8 septets), leaving 152 septets or 66 UTF-16 units.
  const submit_request wide{.destination = make_address("+6281234567890"),
                            .payload = std::vector<std::uint8_t>(152, 0x41),
                            .concat = gsm::concat_info{0x1234, 2, 1}};
  const auto e16 = encode_submit(wide);
  REQUIRE(e16);
  const auto s16 = decode_as<sms_submit>(e16.value.hex);
  REQUIRE(s16.ud.header.has_value());
  CHECK(s16.ud.header->length == 7);
  CHECK(s16.ud.header->concat == gsm::concat_info{0x1234, 2, 1});
  CHECK(s16.ud.text == std::string(152, 'A'));
  submit_request too_wide = wide;
  too_wide.payload.push_back(0x41);
  CHECK(encode_submit(too_wide).error == pdu_error::too_long);

  // protocols.md §2.3 diafaan example: 1 fill bit after the 6-octet UDH, UDL 12 = 7 header septets + "Where".
  const auto where = decode_as<sms_submit>("0041010C9119086526290200000C050003010201AEE8B2BC0C0A");
  REQUIRE(where.ud.header.has_value());
  CHECK(where.ud.header->concat == gsm::concat_info{1, 2, 1});
  CHECK(where.ud.text == "Where");
  const auto again = encode_submit({.destination = {"+918056629220", 0x91}, .payload = septets("Where"),
                                    .concat = gsm::concat_info{1, 2, 1}, .message_reference = 1});
  REQUIRE(again);
  CHECK(again.value.hex == "0041010C9119086526290200000C050003010201AEE8B2BC0C");
}

TEST_CASE("bad input is an error value, never a crash") {
  struct row { std::string_view label; std::string hex; pdu_error error; };
  const row rows[] = {
      {"empty", "", pdu_error::truncated},
      {"odd length", "000", pdu_error::bad_hex},
      {"not hex", "00ZZ", pdu_error::bad_hex},
      {"SMSC longer than data", "0791", pdu_error::truncated},
      {"reserved MTI", "0003", pdu_error::unsupported_type},
      {"UDL beyond data", "00040B917228214365F70000313080512061800AD4F29C2E03", pdu_error::truncated},
      {"UDH longer than UD", "00440B917228214365F7000831308051206180040500030102", pdu_error::bad_length},
      {"GSM-7 UDH septets above UDL", "00440B917228214365F7000031308051206180060500030102011122", pdu_error::bad_length},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    CHECK(decode_pdu(r.hex).error == r.error);
  }
  // Every truncation of a valid PDU fails cleanly.
  const std::string f2 =
      "07915892000000F0040B915892214365F700007040213252242331493A283D0795C3F33C88FE06C9CB6132885EC6D341EDF27C1E3E97E7207B3A0C0A5241E377BB1D7693E72E";
  for (std::size_t n = 0; n < f2.size(); n += 2) {
    CAPTURE(n);
    CHECK(decode_pdu(f2.substr(0, n)).error == pdu_error::truncated);
  }
  CHECK(decode_pdu("  " + f2 + "\r\n"));

  CHECK(encode_submit({.destination = make_address("+62 812"), .payload = septets("x")}).error == pdu_error::bad_address);
  CHECK(encode_submit({.destination = make_address(""), .payload = septets("x")}).error == pdu_error::bad_address);
  CHECK(encode_submit({.destination = make_address("+123456789012345678901")}).error == pdu_error::bad_address);
  CHECK(encode_submit({.destination = make_address("+1"), .payload = std::vector<std::uint8_t>(161, 0x41)}).error ==
        pdu_error::too_long);
  CHECK(encode_submit({.destination = make_address("+1"), .payload = std::vector<std::uint8_t>(160, 0x41)}));
  CHECK(encode_submit({.destination = make_address("+1"), .payload = std::vector<std::uint8_t>(154, 0x41),
                       .concat = gsm::concat_info{1, 2, 1}})
            .error == pdu_error::too_long);
  CHECK(encode_submit({.destination = make_address("+1"), .enc = gsm::encoding::ucs2,
                       .payload = std::vector<std::uint8_t>(136, 0x41), .concat = gsm::concat_info{1, 2, 1}})
            .error == pdu_error::too_long);
}
