#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

#include "protocol/smpp/pdu.hpp"

using namespace kentongan::smpp;

namespace {

std::vector<std::uint8_t> unhex(std::string_view h) {
  std::vector<std::uint8_t> out;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  int hi = -1;
  for (char c : h) {
    const int n = nibble(c);
    if (n < 0) continue;
    if (hi < 0) { hi = n; continue; }
    out.push_back(static_cast<std::uint8_t>(hi * 16 + n));
    hi = -1;
  }
  return out;
}

std::vector<std::uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }

pdu make(command id, std::uint32_t seq, body b = empty_body{}, std::uint32_t status = 0) {
  return pdu{id, status, seq, std::move(b)};
}

sm_body a24_body() {
  sm_body b;
  b.source_addr_ton = 1;
  b.source_addr_npi = 1;
  b.source_addr = "40404";
  b.dest_addr_ton = 1;
  b.dest_addr_npi = 1;
  b.destination_addr = "44951361920";
  b.registered_delivery = 1;
  b.short_message = unhex("4024232125262f3a");
  return b;
}

struct vector_case {
  const char* label;
  const char* hex;
  pdu expected;
  bool round_trips;  // our encoder produces the same bytes
};

std::vector<vector_case> spec_vectors() {
  std::vector<vector_case> v;
  v.push_back({"A1 enquire_link", "0000001000000015000000000a342ee7", make(command::enquire_link, 171192039), true});
  v.push_back({"A2 enquire_link_resp", "0000001080000015000000000a342eed", make(command::enquire_link_resp, 171192045), true});
  v.push_back({"A3 unbind", "00000010000000060000000000000001", make(command::unbind, 1), true});
  v.push_back({"A4 unbind_resp", "00000010800000060000000000000001", make(command::unbind_resp, 1), true});
  v.push_back({"A5 generic_nack", "00000010800000000000000100082a77", make(command::generic_nack, 535159, empty_body{}, 1), true});
  v.push_back({"A6 max sequence", "0000001000000015000000007fffffff", make(command::enquire_link, 0x7fffffff), true});
  v.push_back({"A16 bind_transceiver", "00000023000000090000000000039951414c4c5f545700414c4c5f5457000034010200",
               make(command::bind_transceiver, 235857, bind_body{"ALL_TW", "ALL_TW", "", 0x34, 1, 2, ""}), true});
  v.push_back({"A17 bind_transmitter", "0000002500000002000000000003995f747769747465720074776974746572000034000000",
               make(command::bind_transmitter, 235871, bind_body{"twitter", "twitter", "", 0x34, 0, 0, ""}), true});
  v.push_back({"A18 bind_receiver", "00000025000000010000000000039961747769747465720074776974746572000034000000",
               make(command::bind_receiver, 235873, bind_body{"twitter", "twitter", "", 0x34, 0, 0, ""}), true});
  v.push_back({"A19 bind_transceiver_resp", "0000001f800000090000000000039951536d73632053696d756c61746f7200",
               make(command::bind_transceiver_resp, 235857, bind_resp_body{"Smsc Simulator", {}}), true});
  v.push_back({"A20 bind_transceiver_resp + sc_interface_version", "0000001d800000090000000000039943536d7363204757000210000134",
               make(command::bind_transceiver_resp, 235843, bind_resp_body{"Smsc GW", {{{tag::sc_interface_version, {0x34}}}}}), true});
  v.push_back({"A21 bind_transmitter_resp", "0000001d80000002000000000003995f54574954544552000210000134",
               make(command::bind_transmitter_resp, 235871, bind_resp_body{"TWITTER", {{{tag::sc_interface_version, {0x34}}}}}), true});
  v.push_back({"A22 bind_receiver_resp", "0000001d80000001000000000003996274776974746572000210000134",
               make(command::bind_receiver_resp, 235874, bind_resp_body{"twitter", {{{tag::sc_interface_version, {0x34}}}}}), true});
  v.push_back({"failed bind_transceiver_resp with a body",
               "00000015800000090000000e00004db3534d534300",
               make(command::bind_transceiver_resp, 0x4db3, bind_resp_body{"SMSC", {}}, 0x0e), true});
  v.push_back({"A24 submit_sm",
               "00000039000000040000000000004FE80001013430343034000101343439353133363139323000000000000001000000084024232125262F3A",
               make(command::submit_sm, 20456, a24_body()), true});
  v.push_back({"A25 submit_sm_resp", "0000001c80000004000000000a342ee1393432353834333135393400",
               make(command::submit_sm_resp, 171192033, message_id_body{"94258431594", {}}), true});
  v.push_back({"A27 submit_sm_resp empty id", "0000001180000004000000000a342ee100",
               make(command::submit_sm_resp, 171192033, message_id_body{}), true});
  v.push_back({"A29 submit_sm_resp error, no body", "0000001080000004000000300a342ee1",
               make(command::submit_sm_resp, 171192033, message_id_body{}, 0x30), true});
  v.push_back({"submit_sm_resp ok without a body (cloudhopper)", "0000001080000004000000000a342ee1",
               make(command::submit_sm_resp, 171192033, message_id_body{}), false});
  v.push_back({"A30 data_sm_resp", "0000001c800001030000000000116ac7393432353834333135393400",
               make(command::data_sm_resp, 1141447, message_id_body{"94258431594", {}}), true});
  v.push_back({"A31 deliver_sm_resp with an id", "0000001c800000050000000000116ac7393432353834333135393400",
               make(command::deliver_sm_resp, 1141447, message_id_body{"94258431594", {}}), true});
  v.push_back({"A32 deliver_sm_resp NULL id", "00000011800000050000000000116ac700",
               make(command::deliver_sm_resp, 1141447, message_id_body{}), true});
  {
    sm_body b;
    b.source_addr_ton = 2;
    b.source_addr_npi = 1;
    b.source_addr = "87654321";
    b.dest_addr_ton = 4;
    b.dest_addr_npi = 9;
    b.destination_addr = "40404";
    b.short_message = unhex("4024232125262f3a");
    b.tlvs.items = {{tag::source_network_type, {1}}, {tag::dest_network_type, {1}}};
    v.push_back({"A34 deliver_sm with TLVs",
                 "000000400000000500000000000000030002013837363534333231000409343034303400000000000000000000084024232125262F3A000E0001010006000101",
                 make(command::deliver_sm, 3, b), true});
  }
  {
    sm_body b;
    b.source_addr_ton = 1;
    b.source_addr_npi = 1;
    b.source_addr = "4495136192057";
    b.dest_addr_ton = 5;
    b.dest_addr_npi = 1;
    b.destination_addr = "GTBank";
    b.esm_class = 0x04;
    b.registered_delivery = 1;
    b.short_message = bytes("id:94251430923 sub:001 dlvrd:001 submit date:0911040124 done date:0911040124 stat:ACCEPTD err:107 text: 26F102");
    v.push_back({"A36 delivery receipt",
                 "000000A2000000050000000000116AD500010134343935313336313932303537000501475442616E6B000400000000010000006E69643A3934323531343330393233207375623A30303120646C7672643A303031207375626D697420646174653A3039313130343031323420646F6E6520646174653A3039313130343031323420737461743A41434345505444206572723A31303720746578743A20323646313032",
                 make(command::deliver_sm, 1141461, b), true});
  }
  {
    sm_body b;
    b.source_addr_ton = 2;
    b.source_addr_npi = 1;
    b.source_addr = "4495136192";
    b.dest_addr_ton = 4;
    b.dest_addr_npi = 9;
    b.destination_addr = "40404";
    b.tlvs.items = {{tag::source_network_type, {1}}, {tag::dest_network_type, {1}},
                    {tag::message_payload, bytes("@Maidenman664 was it sappy? &Romantic?")}};
    v.push_back({"A38 MO in message_payload",
                 "000000640000000500000000000547EB0002013434393531333631393200040934303430340000000000000000000000000E000101000600010104240026404D616964656E6D616E363634207761732069742073617070793F2026526F6D616E7469633F",
                 make(command::deliver_sm, 346091, b), true});
  }
  {
    data_sm_body b;
    b.source_addr_ton = 1;
    b.source_addr_npi = 1;
    b.source_addr = "5552710000";
    b.dest_addr_ton = 0;
    b.dest_addr_npi = 1;
    b.destination_addr = "9695";
    b.registered_delivery = 1;
    b.tlvs.items = {{tag::message_payload, bytes("Test")}};
    v.push_back({"A45 data_sm", "000000300000010300000000000000000001013535353237313030303000000139363935000001000424000454657374",
                 make(command::data_sm, 0, b), true});
  }
  {
    sm_body b;
    b.service_type = "AWSBD";
    b.source_addr_ton = 1;
    b.source_addr_npi = 1;
    b.source_addr = "16505551234";
    b.dest_addr_ton = 1;
    b.dest_addr_npi = 1;
    b.destination_addr = "17735554070";
    b.data_coding = 3;
    b.short_message = bytes("there is no spoon");
    v.push_back({"A48 deliver_sm, sequence above 0x7fffffff",
                 "0000004d00000005000000009f88f12441575342440001013136353035353531323334000101313737333535353430373000000000000000000300117468657265206973206e6f2073706f6f6e",
                 make(command::deliver_sm, 0x9F88F124, b), true});
  }
  {
    sm_body b;
    b.source_addr_ton = 1;
    b.source_addr = "46701133111";
    b.dest_addr_ton = 1;
    b.dest_addr_npi = 1;
    b.destination_addr = "46709771337";
    b.esm_class = 0x40;
    b.data_coding = 1;
    b.short_message = unhex("03240103747B7374");
    v.push_back({"A46 submit_sm with UDHI", "0000003f00000004000000000000000200010034363730313133333131310001013436373039373731333337004000000000000001000803240103747B7374",
                 make(command::submit_sm, 2, b), true});
    b.tlvs.items = {{tag::message_payload, bytes("test")}};
    v.push_back({"A47 A46 + message_payload",
                 "0000004700000004000000000000000200010034363730313133333131310001013436373039373731333337004000000000000001000803240103747B73740424000474657374",
                 make(command::submit_sm, 2, b), true});
  }
  v.push_back({"A50 bind_transceiver (node-smpp)", "0000002200000009000000000000000167775f696400733363726574000034000000",
               make(command::bind_transceiver, 1, bind_body{"gw_id", "s3cret", "", 0x34, 0, 0, ""}), true});
  {
    sm_body b;
    b.source_addr_ton = 5;
    b.source_addr = "TOKOKU";
    b.dest_addr_ton = 1;
    b.dest_addr_npi = 1;
    b.destination_addr = "6281234567890";
    b.registered_delivery = 1;
    b.short_message = bytes("Kode OTP Anda: 123456");
    v.push_back({"A51 submit_sm alphanumeric sender",
                 "00000049000000040000000000000007000500544f4b4f4b550001013632383132333435363738393000000000000001000000154b6f6465204f545020416e64613a20313233343536",
                 make(command::submit_sm, 7, b), true});
  }
  v.push_back({"A55 submit_sm_resp", "00000019800000040000000000000007354133463043323100",
               make(command::submit_sm_resp, 7, message_id_body{"5A3F0C21", {}}), true});
  // Written by hand from [SMPP34] §4.1.7: outbind = system_id "SMSC" + password "pw".
  v.push_back({"outbind (by hand)", "00000018" "0000000b" "00000000" "00000005" "534d534300" "707700",
               make(command::outbind, 5, outbind_body{"SMSC", "pw"}), true});
  return v;
}

}  // namespace

TEST_CASE("specification vectors decode to the expected values and encode back") {
  for (const auto& c : spec_vectors()) {
    const std::string shown_label = c.label;
    CAPTURE(shown_label);
    const auto wire = unhex(c.hex);
    const auto r = decode(wire);
    REQUIRE_MESSAGE(r.error == decode_error::none, to_string(r.error));
    CAPTURE(to_string(r.value));
    CHECK(r.value == c.expected);
    CHECK(r.head.length == wire.size());
    if (c.round_trips) {
      const auto encoded = encode(c.expected);
      REQUIRE(encoded.has_value());
      CHECK(*encoded == wire);
    }
  }
}

TEST_CASE("typed TLV accessors") {
  const auto r = decode(unhex("000000640000000500000000000547EB0002013434393531333631393200040934303430340000000000000000000000000E000101000600010104240026404D616964656E6D616E363634207761732069742073617070793F2026526F6D616E7469633F"));
  REQUIRE(r);
  const auto& b = std::get<sm_body>(r.value.body);
  CHECK(b.tlvs.message_payload() == bytes("@Maidenman664 was it sappy? &Romantic?"));
  CHECK(b.tlvs.u8(tag::source_network_type) == 1);
  CHECK_FALSE(b.tlvs.receipted_message_id().has_value());

  tlv_list l;
  l.set_cstring(tag::receipted_message_id, "38601fa");
  l.set_u8(tag::message_state, 2);
  l.items.push_back({tag::network_error_code, {0x03, 0x00, 0x0b}});
  l.set_u16(tag::sar_msg_ref_num, 0x1234);
  l.set_u8(tag::sar_total_segments, 3);
  l.set_u8(tag::sar_segment_seqnum, 2);
  l.set_u16(tag::user_message_reference, 7);
  CHECK(l.find(tag::receipted_message_id)->value == bytes(std::string_view("38601fa\0", 8)));
  CHECK(l.receipted_message_id() == "38601fa");
  CHECK(l.message_state() == message_state::delivered);
  CHECK(l.network_error_code() == network_error{3, 11});
  CHECK(l.sar_msg_ref_num() == 0x1234);
  CHECK(l.sar_total_segments() == 3);
  CHECK(l.sar_segment_seqnum() == 2);
  CHECK(l.user_message_reference() == 7);
  l.set_u8(tag::message_state, 9);  // 5.0 SKIPPED: not a 3.4 state
  CHECK_FALSE(l.message_state().has_value());
}

TEST_CASE("framing says need more, one PDU, or close") {
  struct row { const char* label; const char* hex; frame_kind kind; std::size_t length; };
  for (const auto& c : {
           row{"A9 three octets", "000000", frame_kind::need_more, 0},
           row{"A10 length only", "00000010", frame_kind::need_more, 0},
           row{"A11 fifteen octets", "0000001000000015000000000a342e", frame_kind::need_more, 0},
           row{"one PDU", "0000001000000015000000000a342ee7", frame_kind::complete, 16},
           row{"one PDU and part of the next", "0000001000000015000000000a342ee70000", frame_kind::complete, 16},
           row{"length below the header", "0000000f000000150000000000000001", frame_kind::invalid_length, 0},
           row{"length F0000011", "F000001100000015000000000a342ee7", frame_kind::invalid_length, 0},
       }) {
    const std::string shown_label = c.label;
    CAPTURE(shown_label);
    const auto f = check_frame(unhex(c.hex));
    CHECK(f.kind == c.kind);
    CHECK(f.length == c.length);
  }
}

TEST_CASE("A15 stream reassembly: two PDUs split across reads") {
  auto buffer = unhex("0000001080000015000000000a342eed" "0000001080000015000000000a342e");
  auto f = check_frame(buffer);
  REQUIRE(f.kind == frame_kind::complete);
  auto r = decode(std::span(buffer).first(f.length));
  REQUIRE(r);
  CHECK(r.value.sequence == 171192045u);
  buffer.erase(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(f.length));
  CHECK(check_frame(buffer).kind == frame_kind::need_more);
  buffer.push_back(0xf1);
  f = check_frame(buffer);
  REQUIRE(f.kind == frame_kind::complete);
  r = decode(std::span(buffer).first(f.length));
  REQUIRE(r);
  CHECK(r.value.sequence == 171192049u);
}

TEST_CASE("A33 a 255-octet short_message is accepted on input and never generated") {
  const std::string text =
      "Lorem ipsum dolor sit amet, consectetur adipiscing elit. Vestibulum in orci magna. Etiam auctor ultrices lacus vel "
      "suscipit. Maecenas eget faucibus purus. Etiam aliquet mollis fermentum. Proin vel augue arcu. Praesent venenatis "
      "tristique ante turpis duis.";
  REQUIRE(text.size() == 255);
  auto wire = unhex("00000130000000040000000000004FE80001013430343034000101343439353133363139323000000000000001000000FF");
  wire.insert(wire.end(), text.begin(), text.end());
  const auto r = decode(wire);
  REQUIRE(r);
  const auto& b = std::get<sm_body>(r.value.body);
  CHECK(b.short_message.size() == 255);
  CHECK_FALSE(encode(r.value).has_value());
  auto shorter = r.value;
  std::get<sm_body>(shorter.body).short_message.pop_back();
  CHECK(encode(shorter).has_value());
}

TEST_CASE("malformed PDUs give typed errors") {
  struct row { const char* label; const char* hex; decode_error error; std::uint32_t status; };
  for (const auto& c : {
           row{"short header", "00000010000000150000", decode_error::short_header, status::invalid_command_length},
           row{"length says 17, 16 given", "0000001100000015000000000a342ee7", decode_error::length_mismatch, status::invalid_command_length},
           row{"unknown command id (query_sm)", "00000010000000030000000000000001", decode_error::unknown_command, status::invalid_command_id},
           row{"enquire_link with a body", "0000001100000015000000000000000100", decode_error::trailing_bytes, status::invalid_command_length},
           row{"unbind_resp with a stray octet", "00000011800000060000000000000001ff", decode_error::trailing_bytes, status::invalid_command_length},
           row{"bind without NUL", "00000013000000090000000000000001414141", decode_error::missing_nul, status::invalid_command_length},
           row{"system_id of 16 characters", "0000002c0000000900000000000000014141414141414141414141414141414100" "00" "00" "34" "00" "00" "00" "0000000000",
               decode_error::field_too_long, status::invalid_message_length},
           row{"bind cut after interface_version", "0000001f0000000900000000000000016777" "5f69640073336372657400" "0034",
               decode_error::truncated_body, status::invalid_command_length},
           row{"sm_length past the end",
               "00000039000000040000000000004FE80001013430343034000101343439353133363139323000000000000001000000094024232125262F3A",
               decode_error::truncated_body, status::invalid_command_length},
           row{"TLV header cut", "0000001a800000090000000000039943536d7363204757000210", decode_error::bad_tlv, status::invalid_optional_stream},
           row{"TLV value past the end", "0000001d800000090000000000039943536d7363204757000210000234", decode_error::bad_tlv, status::invalid_optional_stream},
           row{"bind with trailing octets", "000000230000000900000000000000016777" "5f696400733363726574000034000000" "00", decode_error::trailing_bytes, status::invalid_command_length},
       }) {
    const std::string shown_label = c.label;
    CAPTURE(shown_label);
    const auto wire = unhex(c.hex);
    const auto r = decode(wire);
    CHECK(r.error == c.error);
    CHECK(error_status(r.error) == c.status);
  }
}

TEST_CASE("the encoder refuses fields it must not send") {
  struct row { const char* label; pdu p; };
  sm_body long_source;
  long_source.source_addr = std::string(21, '1');
  sm_body long_sm;
  long_sm.short_message.assign(255, 0x41);
  sm_body long_tlv;
  long_tlv.tlvs.items.push_back({tag::message_payload, std::vector<std::uint8_t>(65536, 0x41)});
  for (const auto& c : {
           row{"system_id of 16 characters", make(command::bind_transceiver, 1, bind_body{std::string(16, 'a'), "", "", 0x34, 0, 0, ""})},
           row{"password of 9 characters", make(command::bind_transceiver, 1, bind_body{"a", "123456789", "", 0x34, 0, 0, ""})},
           row{"NUL inside a string", make(command::bind_transceiver, 1, bind_body{std::string("a\0b", 3), "", "", 0x34, 0, 0, ""})},
           row{"source_addr of 21 digits", make(command::submit_sm, 1, long_source)},
           row{"short_message of 255 octets", make(command::submit_sm, 1, long_sm)},
           row{"TLV over 65535 octets", make(command::submit_sm, 1, long_tlv)},
           row{"body of the wrong type", make(command::submit_sm, 1, empty_body{})},
           row{"unknown command", make(static_cast<command>(0x3), 1)},
       }) {
    const std::string shown_label = c.label;
    CAPTURE(shown_label);
    std::vector<std::uint8_t> out{1, 2, 3};
    CHECK_FALSE(encode(c.p, out));
    CHECK(out == std::vector<std::uint8_t>{1, 2, 3});
  }
  // The longest legal values are fine.
  CHECK(encode(make(command::bind_transceiver, 1, bind_body{std::string(15, 'a'), std::string(8, 'p'), std::string(12, 't'), 0x34, 0, 0, std::string(40, 'r')})));
}

TEST_CASE("debug printing names every field") {
  const auto r = decode(unhex("00000049000000040000000000000007000500544f4b4f4b550001013632383132333435363738393000000000000001000000154b6f6465204f545020416e64613a20313233343536"));
  REQUIRE(r);
  const auto s = to_string(r.value);
  CHECK(s.find("submit_sm seq=7 status=0x00000000") == 0);
  CHECK(s.find("source_addr: \"TOKOKU\"") != std::string::npos);
  CHECK(s.find("destination_addr: \"6281234567890\"") != std::string::npos);
  CHECK(s.find("registered_delivery: 0x01") != std::string::npos);
  CHECK(s.find("short_message: 21 octets 4b6f6465") != std::string::npos);
}

TEST_CASE("command_status table") {
  struct row { std::uint32_t code; const char* name; status_class kind; };
  for (const auto& c : {
           row{0x00, "ESME_ROK", status_class::ok},
           row{0x08, "ESME_RSYSERR", status_class::retryable},
           row{0x0B, "ESME_RINVDSTADR", status_class::permanent},
           row{0x0A, "ESME_RINVSRCADR", status_class::permanent},
           row{0x14, "ESME_RMSGQFUL", status_class::throttle},
           row{0x58, "ESME_RTHROTTLED", status_class::throttle},
           row{0x45, "ESME_RSUBMITFAIL", status_class::retryable},
           row{0xFF, "ESME_RUNKNOWNERR", status_class::retryable},
           row{0x40B, "ESME_R?", status_class::retryable},
       }) {
    CAPTURE(c.code);
    const auto info = describe_status(c.code);
    CHECK(info.name == c.name);
    CHECK(info.kind == c.kind);
  }
  CHECK(status_reason(0x58) == "ESME_RTHROTTLED (0x58)");
  CHECK(make_status_error(0x58).message().find("Throttling") != std::string::npos);
  CHECK(std::string(make_status_error(0x58).category().name()) == "smpp");
}

TEST_CASE("inbound fingerprints: stable across redelivery, different for different content") {
  sm_body base;
  base.source_addr_ton = 1;
  base.source_addr_npi = 1;
  base.source_addr = "6281234567890";
  base.destination_addr = "9123";
  base.short_message = {'L', 'A', 'P', 'O', 'R', ' ', 'j', 'a', 'l', 'a', 'n'};
  const pdu original{command::deliver_sm, 0, 7, base};
  const auto id = inbound_fingerprint(original);
  REQUIRE(id.size() == 16);

  struct row { const char* label; std::function<void(pdu&)> change; bool same; };
  const std::vector<row> rows{
      {"redelivered with another sequence number", [](pdu& p) { p.sequence = 99123; }, true},
      {"redelivered with another priority and service_type",
       [](pdu& p) { auto& b = std::get<sm_body>(p.body); b.priority_flag = 1; b.service_type = "CMT"; }, true},
      {"another sender", [](pdu& p) { std::get<sm_body>(p.body).source_addr = "6281234567891"; }, false},
      {"another destination", [](pdu& p) { std::get<sm_body>(p.body).destination_addr = "9124"; }, false},
      {"another sender TON", [](pdu& p) { std::get<sm_body>(p.body).source_addr_ton = 0; }, false},
      {"another data_coding", [](pdu& p) { std::get<sm_body>(p.body).data_coding = 3; }, false},
      {"another text", [](pdu& p) { std::get<sm_body>(p.body).short_message.back() = 'N'; }, false},
      {"UDHI set", [](pdu& p) { std::get<sm_body>(p.body).esm_class = 0x40; }, false},
      {"another SAR part", [](pdu& p) { std::get<sm_body>(p.body).tlvs.set_u8(tag::sar_segment_seqnum, 2); }, false},
      {"a receipted_message_id", [](pdu& p) { std::get<sm_body>(p.body).tlvs.set_cstring(tag::receipted_message_id, "1A"); }, false},
      {"text moved to message_payload",
       [](pdu& p) {
         auto& b = std::get<sm_body>(p.body);
         b.tlvs.set(tag::message_payload, b.short_message);
         b.short_message.clear();
       },
       false},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    pdu p = original;
    r.change(p);
    CHECK((inbound_fingerprint(p) == id) == r.same);
  }
  CHECK(inbound_fingerprint(pdu{command::submit_sm, 0, 1, base}).empty());
  CHECK(inbound_fingerprint(pdu{command::enquire_link, 0, 1, empty_body{}}).empty());

  // Whole messages: one part keeps its fingerprint; parts combine in order, gaps count.
  CHECK(inbound_message_id({id}) == "mo-" + id);
  const auto two = inbound_message_id({"aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb"});
  CHECK(two.size() == 19);
  CHECK(two == inbound_message_id({"aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb"}));
  CHECK(two != inbound_message_id({"bbbbbbbbbbbbbbbb", "aaaaaaaaaaaaaaaa"}));
  CHECK(two != inbound_message_id({"aaaaaaaaaaaaaaaa", ""}));
  CHECK(inbound_message_id({"aaaaaaaaaaaaaaaa", ""}) != inbound_message_id({"", "aaaaaaaaaaaaaaaa"}));
}
