// The AT engine byte by byte: line splitting across reads, echo, finals, the "> " prompt, URCs in the
// middle of a response (vectors.md G), and the parsers of information lines.
#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "protocol/modem/at.hpp"
#include "protocol/modem/errors.hpp"

using namespace kentongan::modem;
using namespace std::chrono_literals;

namespace {

struct collected {
  std::string written;
  std::vector<urc> urcs;
  std::optional<at_response> done;
};

/// Starts `command`, then feeds `input` in chunks of `chunk` bytes (0: all at once).
collected run(const std::string& command, const std::string& input, std::size_t chunk, std::optional<std::string> data = {}) {
  at_engine engine;
  collected c;
  const auto start = engine.start(command, at_engine::clock::now() + 10s, std::move(data));
  CHECK(start == command + "\r");
  const std::size_t step = chunk == 0 ? input.size() : chunk;
  for (std::size_t i = 0; i < input.size(); i += step) {
    auto out = engine.feed(std::string_view(input).substr(i, step));
    c.written += out.write;
    for (auto& u : out.urcs) c.urcs.push_back(std::move(u));
    if (out.done) {
      CHECK_FALSE(c.done.has_value());
      c.done = std::move(out.done);
    }
  }
  return c;
}

const std::string f1_pdu = "06917228195339040B917228214365F700003130805120618005D4F29C2E03";
const std::string g4_pdu = "0006D60B911326880736F4111011719551401110117195714000";
const std::string f33_pdu = "0691261801000011000D91261832547698F000000011C830FB0D2287E5699032BC0ECBE961";

}  // namespace

TEST_CASE("responses, finals and URCs, in every chunking") {
  struct row {
    const char* label;
    std::string command;
    std::string input;
    final_code result;
    int error;
    std::vector<std::string> lines;
    std::vector<urc> urcs;
  };
  const std::vector<row> rows{
      {"G1 OK", "AT+CMGF=0", "\r\nOK\r\n", final_code::ok, -1, {}, {}},
      {"echo on", "AT+CMGF=0", "AT+CMGF=0\r\r\nOK\r\n", final_code::ok, -1, {}, {}},
      {"lower-case echo", "AT+CMGF=0", "at+cmgf=0\r\r\nOK\r\n", final_code::ok, -1, {}, {}},
      {"LF only", "AT", "OK\n", final_code::ok, -1, {}, {}},
      {"information line", "AT+CSQ", "\r\n+CSQ: 21,99\r\n\r\nOK\r\n", final_code::ok, -1, {"+CSQ: 21,99"}, {}},
      {"+CMTI between the line and OK", "AT+CSQ", "\r\n+CSQ: 21,99\r\n\r\n+CMTI: \"SM\",3\r\n\r\nOK\r\n", final_code::ok, -1,
       {"+CSQ: 21,99"}, {urc{urc_kind::new_message, "+CMTI: \"SM\",3", "", "SM", 3}}},
      {"^RSSI noise", "AT+CSQ", "\r\n^RSSI:17\r\n\r\n+CSQ: 21,99\r\n^BOOT:1,0,0,0\r\nOK\r\n", final_code::ok, -1, {"+CSQ: 21,99"},
       {urc{urc_kind::noise, "^RSSI:17", "", "", -1}, urc{urc_kind::noise, "^BOOT:1,0,0,0", "", "", -1}}},
      {"+CREG: unasked during AT+CSQ", "AT+CSQ", "\r\n+CREG: 1\r\n\r\n+CSQ: 9,0\r\n\r\nOK\r\n", final_code::ok, -1, {"+CSQ: 9,0"},
       {urc{urc_kind::noise, "+CREG: 1", "", "", -1}}},
      {"+CREG: asked", "AT+CREG?", "\r\n+CREG: 0,5\r\n\r\nOK\r\n", final_code::ok, -1, {"+CREG: 0,5"}, {}},
      {"G5 +CMS ERROR: 304", "AT+CMGS=31", "\r\n+CMS ERROR: 304\r\n", final_code::cms_error, 304, {}, {}},
      {"G5 +CMS ERROR: 500", "AT+CMGS=31", "\r\n+CMS ERROR: 500\r\n", final_code::cms_error, 500, {}, {}},
      {"G5 +CME ERROR: 16", "AT+CPIN=\"1234\"", "\r\n+CME ERROR: 16\r\n", final_code::cme_error, 16, {}, {}},
      {"+CMS ERROR as text (CMEE=2)", "AT+CMGS=31", "\r\n+CMS ERROR: SIM busy\r\n", final_code::cms_error, -1, {}, {}},
      {"ERROR", "AT+CMGF=1", "\r\nERROR\r\n", final_code::error, -1, {}, {}},
      {"Huawei COMMAND NOT SUPPORT", "AT^FOO", "\r\nCOMMAND NOT SUPPORT\r\n", final_code::error, -1, {}, {}},
      {"G3 +CMGR two-line form", "AT+CMGR=3", "\r\n+CMGR: 0,,24\r\n" + f1_pdu + "\r\n\r\nOK\r\n", final_code::ok, -1,
       {"+CMGR: 0,,24", f1_pdu}, {}},
      {"RING inside +CMGR", "AT+CMGR=3", "\r\n+CMGR: 0,,24\r\nRING\r\n" + f1_pdu + "\r\n\r\nOK\r\n", final_code::ok, -1,
       {"+CMGR: 0,,24", f1_pdu}, {urc{urc_kind::ring, "RING", "", "", -1}}},
      {"G4 +CDS two-line URC mid-response", "AT+CSQ", "\r\n+CSQ: 21,99\r\n\r\n+CDS: 25\r\n" + g4_pdu + "\r\n\r\nOK\r\n", final_code::ok, -1,
       {"+CSQ: 21,99"}, {urc{urc_kind::status_report, "+CDS: 25", g4_pdu, "", -1}}},
      {"+CUSD while AT+CUSD is in flight", "AT+CUSD=1,\"*888#\",15", "\r\n+CUSD: 0,\"Sisa pulsa Rp 5.000\",15\r\n\r\nOK\r\n",
       final_code::ok, -1, {}, {urc{urc_kind::ussd, "+CUSD: 0,\"Sisa pulsa Rp 5.000\",15", "", "", -1}}},
      {"+CDSI", "AT", "\r\n+CDSI: \"SM\",7\r\n\r\nOK\r\n", final_code::ok, -1, {}, {urc{urc_kind::stored_report, "+CDSI: \"SM\",7", "", "SM", 7}}},
      {"free-text lines of ATI", "ATI", "\r\nManufacturer: huawei\r\nModel: E173\r\n\r\nOK\r\n", final_code::ok, -1,
       {"Manufacturer: huawei", "Model: E173"}, {}},
  };
  for (const auto& r : rows) {
    for (const std::size_t chunk : {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{7}}) {
      CAPTURE(r.label);
      CAPTURE(chunk);
      const auto c = run(r.command, r.input, chunk);
      REQUIRE(c.done.has_value());
      CHECK(c.done->command == r.command);
      CHECK(c.done->result == r.result);
      CHECK(c.done->error == r.error);
      CHECK(c.done->lines == r.lines);
      CHECK(c.urcs == r.urcs);
      CHECK(c.written.empty());
    }
  }
}

TEST_CASE("AT+CMGS: the prompt releases the PDU and Ctrl-Z (vectors.md G2)") {
  struct row {
    const char* label;
    std::string before;   // up to and including the prompt
    std::string after;    // after the PDU went out
    std::optional<int> mr;
    final_code result;
  };
  const std::vector<row> rows{
      {"echo off", "\r\n> ", "\r\n+CMGS: 214\r\n\r\nOK\r\n", 214, final_code::ok},
      {"echo on, PDU echoed", "AT+CMGS=30\r\r\n> ", f33_pdu + "\x1A\r\n+CMGS: 5\r\n\r\nOK\r\n", 5, final_code::ok},
      {"prompt without the space", "\r\n>", "\r\n+CMGS: 0\r\n\r\nOK\r\n", 0, final_code::ok},
      {"+CMTI between +CMGS and OK", "\r\n> ", "\r\n+CMGS: 9\r\n\r\n+CMTI: \"SM\",1\r\n\r\nOK\r\n", 9, final_code::ok},
      {"refused after the PDU", "\r\n> ", "\r\n+CMS ERROR: 38\r\n", std::nullopt, final_code::cms_error},
  };
  for (const auto& r : rows) {
    for (const std::size_t chunk : {std::size_t{0}, std::size_t{1}}) {
      CAPTURE(r.label);
      CAPTURE(chunk);
      at_engine engine;
      engine.start("AT+CMGS=30", at_engine::clock::now() + 10s, f33_pdu);
      std::string written;
      const std::size_t step = chunk == 0 ? r.before.size() : 1;
      for (std::size_t i = 0; i < r.before.size(); i += step) {
        auto out = engine.feed(std::string_view(r.before).substr(i, step));
        CHECK_FALSE(out.done.has_value());
        written += out.write;
      }
      CHECK(written == f33_pdu + "\x1A");
      std::optional<at_response> done;
      for (std::size_t i = 0; i < r.after.size(); i += (chunk == 0 ? r.after.size() : 1)) {
        auto out = engine.feed(std::string_view(r.after).substr(i, chunk == 0 ? r.after.size() : 1));
        CHECK(out.write.empty());
        if (out.done) done = std::move(out.done);
      }
      REQUIRE(done.has_value());
      CHECK(done->result == r.result);
      CHECK(parse_cmgs(*done) == r.mr);
      CHECK(done->lines.size() == (r.mr ? 1u : 0u));
      CHECK_FALSE(engine.busy());
    }
  }
}

TEST_CASE("a refusal instead of the prompt sends no PDU") {
  const auto c = run("AT+CMGS=99", "\r\n+CMS ERROR: 304\r\n", 1, f33_pdu);
  REQUIRE(c.done.has_value());
  CHECK(c.done->result == final_code::cms_error);
  CHECK(c.written.empty());
}

TEST_CASE("deadline: one command, its own timeout") {
  at_engine engine;
  const auto t0 = at_engine::clock::now();
  engine.start("AT", t0 + 100ms);
  CHECK(engine.busy());
  CHECK(engine.deadline() == t0 + 100ms);
  CHECK_FALSE(engine.expire(t0 + 99ms).has_value());
  const auto r = engine.expire(t0 + 100ms);
  REQUIRE(r.has_value());
  CHECK(r->result == final_code::timeout);
  CHECK(r->describe() == "timeout");
  CHECK_FALSE(engine.busy());
  // The late OK is noise now, not the answer to the next command.
  const auto late = engine.feed("\r\nOK\r\n");
  CHECK_FALSE(late.done.has_value());
  REQUIRE(late.urcs.size() == 1);
  CHECK(late.urcs[0].kind == urc_kind::noise);
}

TEST_CASE("URCs with no command in flight, and a +CDS header without its PDU") {
  at_engine engine;
  auto out = engine.feed("\r\n+CMTI: \"ME\",12\r\n\r\n+CDS: 25\r\n" + g4_pdu + "\r\n\r\nRING\r\n\r\n+CMT: ,24\r\nOK\r\n");
  REQUIRE(out.urcs.size() == 5);
  CHECK(out.urcs[0] == urc{urc_kind::new_message, "+CMTI: \"ME\",12", "", "ME", 12});
  CHECK(out.urcs[1] == urc{urc_kind::status_report, "+CDS: 25", g4_pdu, "", -1});
  CHECK(out.urcs[2].kind == urc_kind::ring);
  CHECK(out.urcs[3] == urc{urc_kind::direct_message, "+CMT: ,24", "", "", -1});  // "OK" is no PDU
  CHECK(out.urcs[4].kind == urc_kind::noise);
}

TEST_CASE("an over-long line is dropped, the next one is read") {
  at_engine engine(64);
  engine.start("AT+CSQ", at_engine::clock::now() + 1s);
  auto out = engine.feed(std::string(200, 'A') + "\r\n+CSQ: 3,0\r\nOK\r\n");
  REQUIRE(out.done.has_value());
  CHECK(out.done->lines == std::vector<std::string>{"+CSQ: 3,0"});
  CHECK(engine.dropped_lines() == 1);
}

TEST_CASE("parsers of information lines") {
  at_response cmgl;
  cmgl.lines = {"+CMGL: 1,0,,24", f1_pdu, "+CMGL: 4,1,\"a,b\",25", g4_pdu, "+CMGL: 9,1,,3", "+CMGL: 10,1,,24", f1_pdu};
  const auto listed = parse_cmgl(cmgl);
  REQUIRE(listed.size() == 3);  // index 9 has no PDU line
  CHECK(listed[0] == stored_message{1, 0, 24, f1_pdu});
  CHECK(listed[1] == stored_message{4, 1, 25, g4_pdu});
  CHECK(listed[2].index == 10);

  at_response cmgr;
  cmgr.lines = {"+CMGR: 0,,24", f1_pdu};
  CHECK(parse_cmgr(cmgr) == stored_message{-1, 0, 24, f1_pdu});
  cmgr.lines = {"+CMGR: 0,,24"};
  CHECK_FALSE(parse_cmgr(cmgr).has_value());

  struct row {
    const char* label;
    std::string line;
    std::function<void(const at_response&)> check;
  };
  const std::vector<row> rows{
      {"CSQ", "+CSQ: 21,99", [](const at_response& r) { CHECK(parse_csq(r) == signal_quality{21, 99}); }},
      {"CSQ unknown", "+CSQ: 99,99", [](const at_response& r) { CHECK(rssi_dbm(parse_csq(r)->rssi) == std::nullopt); }},
      {"CREG read form", "+CREG: 0,1", [](const at_response& r) { CHECK(parse_creg(r) == 1); }},
      {"CREG with cell", "+CREG: 2,5,\"1A2B\",\"00C3\"", [](const at_response& r) { CHECK(parse_creg(r) == 5); }},
      {"CPIN", "+CPIN: SIM PIN", [](const at_response& r) { CHECK(parse_cpin(r) == "SIM PIN"); }},
      {"COPS", "+COPS: 0,0,\"TELKOMSEL\",2", [](const at_response& r) { CHECK(parse_cops(r) == "TELKOMSEL"); }},
      {"COPS unregistered", "+COPS: 0", [](const at_response& r) { CHECK_FALSE(parse_cops(r).has_value()); }},
      {"CSCA", "+CSCA: \"+6281100000\",145", [](const at_response& r) { CHECK(parse_csca(r) == "+6281100000"); }},
      {"CMGS with SCTS", "+CMGS: 12,\"26/11/28,10:00:00+28\"", [](const at_response& r) { CHECK(parse_cmgs(r) == 12); }},
      {"CMGS out of range", "+CMGS: 300", [](const at_response& r) { CHECK_FALSE(parse_cmgs(r).has_value()); }},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    at_response resp;
    resp.lines = {r.line};
    r.check(resp);
  }
  CHECK(rssi_dbm(21) == -71);
}

TEST_CASE("+CUSD answers") {
  struct row {
    const char* label;
    std::string line;
    std::optional<ussd_reply> expected;
  };
  const std::vector<row> rows{
      {"GSM text", "+CUSD: 0,\"Sisa pulsa Rp 12.500, aktif s.d. 30-06\",15", ussd_reply{0, "Sisa pulsa Rp 12.500, aktif s.d. 30-06", 15}},
      {"UCS-2 hex (dcs 72)", "+CUSD: 0,\"00530069007300610020005200700020003500300030\",72", ussd_reply{0, "Sisa Rp 500", 72}},
      {"more action required", "+CUSD: 1,\"1. Cek pulsa 2. Paket\",15", ussd_reply{1, "1. Cek pulsa 2. Paket", 15}},
      {"terminated", "+CUSD: 2", ussd_reply{2, "", -1}},
      {"garbage", "+CUSD: x", std::nullopt},
      {"not CUSD", "+CMTI: \"SM\",1", std::nullopt},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    CHECK(parse_cusd(r.line) == r.expected);
  }
  CHECK(at_quote("*888#") == "\"*888#\"");
  CHECK_FALSE(at_quote("12\"34").has_value());
  CHECK_FALSE(at_quote("12\r").has_value());
}

TEST_CASE("+CMS ERROR table (protocols.md §3.3)") {
  struct row {
    int code;
    std::string_view name;
    bool retryable;
    bool link_problem;
  };
  const std::vector<row> rows{
      {1, "unassigned_number", false, false},       {8, "operator_barring", true, false},
      {28, "unidentified_subscriber", false, false},{38, "network_out_of_order", true, true},
      {42, "congestion", true, false},              {96, "mandatory_ie_missing", false, false},
      {195, "invalid_sme_address", false, false},   {192, "sc_busy", true, false},
      {304, "invalid_pdu_parameter", false, false}, {310, "sim_not_inserted", true, true},
      {322, "memory_full", true, false},            {331, "no_network_service", true, true},
      {332, "network_timeout", true, false},        {500, "unknown_error", true, false},
      {77, "rp_cause", true, false},                {222, "tp_failure_cause", true, false},
      {399, "me_error", true, false},               {600, "manufacturer_specific", true, false},
      {-1, "unknown", true, false},
  };
  for (const auto& r : rows) {
    CAPTURE(r.code);
    const auto info = describe_cms_error(r.code);
    CHECK(info.code == r.code);
    CHECK(info.name == r.name);
    CHECK(info.retryable == r.retryable);
    CHECK(info.link_problem == r.link_problem);
    CHECK_FALSE(info.text.empty());
  }
  const auto table = cms_error_table();
  CHECK(std::is_sorted(table.begin(), table.end(), [](const auto& a, const auto& b) { return a.code < b.code; }));
  CHECK(cme_error_text(16) == "incorrect password");
}
