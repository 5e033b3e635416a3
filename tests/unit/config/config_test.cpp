#include <doctest/doctest.h>

#include "config/config.hpp"
#include "tests/unit/config/config_test_support.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

#include <unistd.h>

using namespace kentongan;
namespace fs = std::filesystem;

namespace {

using config_test::messages;
using config_test::scratch;

const core::subscriber* find(const config::village_config& c, std::string_view phone) {
  auto it = std::find_if(c.subscribers.begin(), c.subscribers.end(), [&](const auto& s) { return s.phone == phone; });
  return it == c.subscribers.end() ? nullptr : &*it;
}

}  // namespace

TEST_CASE("bad configs: every error with file:line:col and the exact message") {
  struct row {
    std::string label;
    std::string input;
    std::string expected;
  };
  const row rows[] = {
      {"syntax: missing comma",
       R"x({"village": {"name": "X"}
 "groups": []})x",
       R"x(k.json:2:9: JSON syntax error while parsing object - unexpected string literal; expected '}' (is a comma missing before it?))x"},
      {"syntax: trailing comma",
       R"x({"village": {"name": "X"},
 "groups": [1, ],})x",
       R"x(k.json:2:16: JSON syntax error while parsing value - unexpected ']'; expected '[', '{', or a literal (JSON allows no comma before a closing bracket))x"},
      {"syntax: unterminated string",
       R"x({"village": {"name": "X}})x",
       R"x(k.json:1:26: JSON syntax error while parsing value - invalid string: missing closing quote; last read: '"X}}')x"},
      {"syntax: number beyond a double (nlohmann throws out_of_range, not parse_error)",
       R"x({"village": {"name": "X"},
 "limits": {"flood_per_minute": 1e999}})x",
       R"x(k.json:2:33: JSON number overflow parsing '1e999' (the number is too large for any setting; write a smaller one))x"},
      {"not an object",
       R"x([1, 2])x",
       R"x(k.json:1:1: the config must be a JSON object {…}, found an array)x"},
      {"missing village",
       R"x({"groups": []})x",
       R"x(k.json:1:1: missing required key "village" (at least {"name": "Desa …"}))x"},
      {"village without name",
       R"x({"village": {"region": "Sumbar"}})x",
       R"x(k.json:1:13: village: missing required key "name")x"},
      {"unknown top-level key",
       R"x({"village": {"name": "X"},
 "subscriber": []})x",
       R"x(k.json:2:2: unknown key "subscriber"; did you mean "subscribers"?)x"},
      {"unknown key far from any",
       R"x({"village": {"name": "X"},
 "zzzzzzzz": 1})x",
       R"x(k.json:2:2: unknown key "zzzzzzzz"; known keys are village, storage, http, channels, groups, subscribers, subscribers_csv, officers, keywords, tags, info, replies, limits, unmatched, ticket_prefix)x"},
      {"typo in village",
       R"x({"village": {"nmae": "X"}})x",
       R"x(k.json:1:14: village: unknown key "nmae"; did you mean "name"?)x"},
      {"wrong type name",
       R"x({"village": {"name": 5}})x",
       R"x(k.json:1:22: village.name: expected a string, found 5)x"},
      {"bad timezone",
       R"x({"village": {"name": "X", "timezone": "WIB"}})x",
       R"x(k.json:1:39: village.timezone: unknown time zone "WIB"; expected a name such as "Asia/Jakarta", "Asia/Makassar" or "Asia/Jayapura")x"},
      {"bad country",
       R"x({"village": {"name": "X", "country": "XX"}})x",
       R"x(k.json:1:38: village.country: unknown country code "XX"; expected two capital letters such as "ID")x"},
      {"duplicate key",
       R"x({"village": {"name": "X",
             "name": "Y"}})x",
       R"x(k.json:2:14: key "name" appears twice in the same object (first at line 1, column 14); only the last one would count)x"},
      {"comments are allowed, typos still found",
       R"x(// a comment
{"village": /* inline */ {"name": "X"},
 "grups": []})x",
       R"x(k.json:3:2: unknown key "grups"; did you mean "groups"?)x"},
      {"channel unknown type",
       R"x({"village": {"name": "X"},
 "channels": [{"name": "a", "type": "smsc"}]})x",
       R"x(k.json:2:37: channels[0].type: unknown channel type "smsc"; did you mean "smpp"?)x"},
      {"http without url, typos, bad words",
       R"x({"village": {"name": "X"},
 "channels": [{"name": "agg", "type": "http", "methd": "get", "body": "jsn", "to_format": "+62",
               "errors": [{"status": 403}], "success": {"status_min": 99}}]})x",
       R"x(k.json:2:15: channels[0]: missing required key "url"
k.json:2:47: channels[0]: unknown key "methd"; did you mean "method"?
k.json:2:71: channels[0].body: unknown value "jsn"; did you mean "json"?
k.json:2:91: channels[0].to_format: unknown value "+62"; expected one of e164, msisdn, national
k.json:3:27: channels[0].errors[0]: missing required key "action"
k.json:3:71: channels[0].success.status_min: must be between 100 and 599, found 99)x"},
      {"http protocol checks at their keys",
       R"x({"village": {"name": "X"},
 "channels": [{"name": "agg", "type": "http", "url": "ftp://x/{too}", "method": "get", "body": "form",
               "callback": {"check": "hmac_sha256", "status_map": {"DELIVRD": "deliverd"}}}]})x",
       R"x(k.json:2:54: channels[0].url: must start with http:// or https://
k.json:2:54: channels[0].url: unknown placeholder {too} (known: {to} {text} {id} {from} {callback_secret} {secret:NAME})
k.json:2:96: channels[0].body: a GET request has no body; use "query"
k.json:3:28: channels[0].callback: check "hmac_sha256" needs "secret_file"
k.json:3:28: channels[0].callback: secret_name: which header or parameter carries the secret
k.json:3:79: channels[0].callback.status_map.DELIVRD: unknown value "deliverd"; did you mean "delivered"?)x"},
      {"modem without device",
       R"x({"village": {"name": "X"},
 "channels": [{"name": "m", "type": "modem"}]})x",
       R"x(k.json:2:15: channels[0]: missing required key "device")x"},
      {"modem typo, bad baud, relative device",
       R"x({"village": {"name": "X"},
 "channels": [{"name": "m", "type": "modem", "device": "ttyUSB0", "baud": 12345,
               "ussd_balanse": "*888#"}]})x",
       R"x(k.json:2:56: channels[0].device: expected the modem's device path such as "/dev/ttyUSB0", found "ttyUSB0"
k.json:2:75: channels[0].baud: unsupported baud rate 12345; expected one of 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600
k.json:3:16: channels[0]: unknown key "ussd_balanse"; did you mean "ussd_balance"?)x"},
      {"modem pin inline",
       R"x({"village": {"name": "X"},
 "channels": [{"name": "m", "type": "modem", "device": "/dev/ttyUSB0", "pin": "1234"}]})x",
       R"x(k.json:2:72: channels[0]: "pin" must not be in the config: put the secret alone in a file readable only by kentongan and give its path as "pin_file")x"},
      {"modem bad smsc, ussd, operators, missing pin file",
       R"x({"village": {"name": "X"},
 "channels": [{"name": "m", "type": "modem", "device": "/dev/ttyUSB0", "smsc": "0816124",
               "ussd_balance": "888", "operators": ["telkomsal", "0812", "pulsa", 5],
               "pin_file": "nope.pin", "balance_check_h": -1, "balance_warn_below": "5000"}]})x",
       R"x(k.json:2:80: channels[0].smsc: expected the service centre number in international form such as "+62816124", found "0816124"
k.json:3:32: channels[0].ussd_balance: expected a USSD code such as "*888#", found "888"
k.json:3:53: channels[0].operators[0]: unknown operator "telkomsal"; did you mean "telkomsel"?
k.json:3:74: channels[0].operators[2]: unknown operator "pulsa"; expected one of telkomsel, indosat, xl, axis, tri, smartfren or a number prefix such as "0812"
k.json:3:83: channels[0].operators[3]: expected a string, found 5
k.json:4:28: channels[0].pin_file: file "nope.pin" does not exist
k.json:4:59: channels[0].balance_check_h: must be between 0 and 744, found -1
k.json:4:85: channels[0].balance_warn_below: expected a number, found "5000")x"},
      {"channel duplicated",
       R"x({"village": {"name": "X"},
 "channels": [{"name": "sim", "type": "sim"},
              {"name": "sim", "type": "sim"}]})x",
       R"x(k.json:3:24: channels[1].name: channel "sim" is defined twice (first at k.json:2:24))x"},
      {"channel tps string",
       R"x({"village": {"name": "X"},
 "channels": [{"name": "sim", "type": "sim", "tps": "fast"}]})x",
       R"x(k.json:2:53: channels[0].tps: expected a number, found "fast")x"},
      {"channel tps zero",
       R"x({"village": {"name": "X"},
 "channels": [{"name": "sim", "type": "sim", "tps": 0}]})x",
       R"x(k.json:2:53: channels[0].tps: must be between 0.001 and 100000, found 0)x"},
      {"channel window float",
       R"x({"village": {"name": "X"},
 "channels": [{"name": "sim", "type": "sim", "window": 1.5}]})x",
       R"x(k.json:2:56: channels[0].window: expected a whole number, found 1.5)x"},
      {"channel window negative",
       R"x({"village": {"name": "X"},
 "channels": [{"name": "sim", "type": "sim", "window": -1}]})x",
       R"x(k.json:2:56: channels[0].window: must be between 1 and 100000, found -1)x"},
      {"channel durable_lag negative",
       R"x({"village": {"name": "X"},
 "channels": [{"name": "sim", "type": "sim", "durable_lag": -1}]})x",
       R"x(k.json:2:61: channels[0].durable_lag: must be between 0 and 1000000, found -1)x"},
      {"fail rate",
       R"x({"village": {"name": "X"},
 "channels": [{"name": "sim", "type": "sim", "fail_rate": 2}]})x",
       R"x(k.json:2:59: channels[0].fail_rate: must be between 0 and 1, found 2)x"},
      {"smpp password inline",
       R"x({"village": {"name": "X"},
 "channels": [{"name": "tsel", "type": "smpp", "host": "10.0.0.1", "system_id": "kim",
               "password": "rahasia"}]})x",
       R"x(k.json:3:16: channels[0]: "password" must not be in the config: put the secret alone in a file readable only by kentongan and give its path as "password_file")x"},
      {"smpp key on a sim channel",
       R"x({"village": {"name": "X"},
 "channels": [{"name": "sim", "type": "sim", "host": "x"}]})x",
       R"x(k.json:2:46: channels[0]: unknown key "host"; known keys are name, type, tps, window, durable_lag, hourly_cap, daily_cap, price_per_part, max_attempts, transliterate, dlr_delay_ms, fail_rate, transient_fail_rate)x"},
      {"smpp bad bind and port",
       R"x({"village": {"name": "X"},
 "channels": [{"name": "t", "type": "smpp", "host": "h", "system_id": "s", "password_file": "/dev/null",
               "bind": "tx", "port": 70000}]})x",
       R"x(k.json:2:93: channels[0].password_file: "/dev/null" is not a regular file
k.json:3:24: channels[0].bind: unknown bind "tx"; expected "transmitter", "receiver" or "transceiver"
k.json:3:38: channels[0].port: must be between 1 and 65535, found 70000)x"},
      {"whatsapp token inline",
       R"x({"village": {"name": "X"},
 "channels": [{"name": "wa", "type": "whatsapp", "phone_number_id": "+6281234567890",
               "token": "EAAG"}]})x",
       R"x(k.json:2:69: channels[0].phone_number_id: expected the numeric Phone Number ID from Meta (not the phone number itself), found "+6281234567890"
k.json:3:16: channels[0]: "token" must not be in the config: put the secret alone in a file readable only by kentongan and give its path as "token_file")x"},
      {"group typo and bad id",
       R"x({"village": {"name": "X"},
 "groups": [{"id": "Petani Kakao"}, {"id": "a", "self_subscibe": true}]})x",
       R"x(k.json:2:20: groups[0].id: a group id is lower-case letters, digits, '-', '_' or '.', found "Petani Kakao"
k.json:2:49: groups[1]: unknown key "self_subscibe"; did you mean "self_subscribe"?)x"},
      {"group duplicated",
       R"x({"village": {"name": "X"},
 "groups": [{"id": "a"},
            {"id": "a"}]})x",
       R"x(k.json:3:20: groups[1].id: group "a" is defined twice (first at k.json:2:20))x"},
      {"bad relay",
       R"x({"village": {"name": "X"},
 "groups": [{"id": "a", "relay": "yes"}]})x",
       R"x(k.json:2:34: groups[0].relay: unknown relay policy "yes"; expected "off", "open" or "moderated")x"},
      {"subscriber invalid phone",
       R"x({"village": {"name": "X"},
 "subscribers": [{"phone": "0812-34"}]})x",
       R"x(k.json:2:28: subscribers[0].phone: invalid phone number "0812-34": too short for a mobile number)x"},
      {"subscriber landline",
       R"x({"village": {"name": "X"},
 "subscribers": [{"phone": "0751 7051234"}]})x",
       R"x(k.json:2:28: subscribers[0].phone: "0751 7051234" is a landline number; SMS and WhatsApp need a mobile number)x"},
      {"subscriber duplicate after normalisation",
       R"x({"village": {"name": "X"},
 "subscribers": [{"phone": "0812-3456-7890"},
                 {"phone": "+62 812 3456 7890"}]})x",
       R"x(k.json:3:28: subscribers[1].phone: +6281234567890 is listed twice (first at k.json:2:28); give one row several groups instead)x"},
      {"subscriber unknown group",
       R"x({"village": {"name": "X"},
 "groups": [{"id": "petani-kakao"}],
 "subscribers": [{"phone": "0812-3456-7890", "groups": ["petani-kako"]}]})x",
       R"x(k.json:3:57: subscribers[0].groups[0]: unknown group "petani-kako"; did you mean "petani-kakao"?)x"},
      {"subscriber typo key",
       R"x({"village": {"name": "X"},
 "subscribers": [{"phone": "0812-3456-7890", "nama": "Wayan", "dusun": "Kaja"}]})x",
       R"x(k.json:2:46: subscribers[0]: unknown key "nama"; did you mean "name"?)x"},
      {"subscriber missing phone",
       R"x({"village": {"name": "X"},
 "subscribers": [{"name": "Wayan"}]})x",
       R"x(k.json:2:18: subscribers[0]: missing required key "phone")x"},
      {"subscriber unknown channel",
       R"x({"village": {"name": "X"},
 "subscribers": [{"phone": "0812-3456-7890", "channel": "wa"}]})x",
       R"x(k.json:2:57: subscribers[0].channel: unknown channel "wa"; expected "sms", "whatsapp" or "" (any))x"},
      {"subscriber attribute object",
       R"x({"village": {"name": "X"},
 "subscribers": [{"phone": "0812-3456-7890", "alamat": {"jalan": "x"}}]})x",
       R"x(k.json:2:56: subscribers[0].alamat: an attribute is a string or a number, found an object)x"},
      {"officer unknown tag",
       R"x({"village": {"name": "X"},
 "tags": {"air": ["sumur"]},
 "officers": [{"phone": "0812-3456-7890", "name": "Pak Kades", "tags": ["ari"]}]})x",
       R"x(k.json:3:73: officers[0].tags[0]: unknown tag "ari"; did you mean "air"?)x"},
      {"keyword unknown command",
       R"x({"village": {"name": "X"},
 "keywords": {"DAFTER": ["IKUT"]}})x",
       R"x(k.json:2:15: keywords: unknown command "DAFTER"; did you mean "DAFTAR"?)x"},
      {"keyword clash",
       R"x({"village": {"name": "X"},
 "keywords": {"BANTUAN": ["BANTUAN", "TOLONG"], "info": ["INFO", "tolong"]}})x",
       R"x(k.json:2:66: keywords.info[1]: "TOLONG" already means BANTUAN)x"},
      {"keyword command twice",
       R"x({"village": {"name": "X"},
 "keywords": {"DAFTAR": "IKUT", "daftar": "GABUNG"}})x",
       R"x(k.json:2:33: keywords: command "DAFTAR" is listed twice)x"},
      {"keyword two words",
       R"x({"village": {"name": "X"},
 "keywords": {"DAFTAR": ["IKUT GRUP"]}})x",
       R"x(k.json:2:26: keywords.DAFTAR[0]: a keyword is one word of letters or digits, found "IKUT GRUP")x"},
      {"limits",
       R"x({"village": {"name": "X"},
 "limits": {"quiet_hours_start": "9pm", "retry_base_s": 60, "retry_max_s": 10}})x",
       R"x(k.json:2:34: limits.quiet_hours_start: expected a time "HH:MM" such as "21:00", found "9pm"
k.json:2:76: limits.retry_max_s: retry_max_s (10) is less than retry_base_s (60))x"},
      {"unmatched",
       R"x({"village": {"name": "X"},
 "unmatched": "ignore", "ticket_prefix": "asp-"})x",
       R"x(k.json:2:15: unmatched: expected "aspiration" or "help", found "ignore"
k.json:2:42: ticket_prefix: expected 1 to 8 capital letters, found "asp-")x"},
      {"http listen",
       R"x({"village": {"name": "X"},
 "http": {"listen": "8787"}})x",
       R"x(k.json:2:21: http.listen: expected HOST:PORT such as "127.0.0.1:8787", found "8787")x"},
      {"info not string",
       R"x({"village": {"name": "X"},
 "info": {"HARGA": 95000, "two words": "x"}})x",
       R"x(k.json:2:20: info.HARGA: expected a string or an array of lines, found 95000
k.json:2:27: info: an info topic is one word of letters or digits, found "two words")x"},
      {"many errors at once",
       R"x({"village": {"name": ""},
 "channels": [{"name": "sim", "type": "sms"}],
 "subscribers": [{"phone": "12"}, {"phone": "0812-3456-7890", "groups": ["x"]}]})x",
       R"x(k.json:1:22: village.name: must not be empty
k.json:2:39: channels[0].type: unknown channel type "sms"; expected one of sim, smpp, whatsapp, modem, http
k.json:3:28: subscribers[0].phone: invalid phone number "12": too short
k.json:3:74: subscribers[1].groups[0]: unknown group "x")x"},
      {"non-ASCII column",
       R"x({"village": {"name": "Désa", "nmae": 1}})x",
       R"x(k.json:1:30: village: unknown key "nmae"; did you mean "name"?)x"},
      // nlohmann ends a // comment at CR or at a NUL byte as well as at LF: what follows is JSON again,
      // and the position index must know it (found by the config_json fuzz target).
      {"a line comment ended by a NUL byte",
       std::string("{\"village\": {\"name\": \"X\"}, // note\0 \"zzzzzzzz\": 1}", 50),
       R"x(k.json:1:37: unknown key "zzzzzzzz"; known keys are village, storage, http, channels, groups, subscribers, subscribers_csv, officers, keywords, tags, info, replies, limits, unmatched, ticket_prefix)x"},
      {"a line comment ended by CR",
       "{\"village\": {\"name\": \"X\"}, // note\r \"zzzzzzzz\": 1}",
       R"x(k.json:1:37: unknown key "zzzzzzzz"; known keys are village, storage, http, channels, groups, subscribers, subscribers_csv, officers, keywords, tags, info, replies, limits, unmatched, ticket_prefix)x"},
      {"missing csv",
       R"x({"village": {"name": "X"},
 "subscribers_csv": "nope.csv"})x",
       R"x(k.json:2:21: subscribers_csv: cannot read "nope.csv": No such file or directory)x"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    const auto got = config::load_text(r.input, "k.json");
    CHECK(messages(got) == r.expected);
    CHECK_FALSE(got.config.has_value());
  }
}

TEST_CASE("good configs load with their defaults") {
  SUBCASE("minimal") {
    const auto r = config::load_text(R"({"village": {"name": "Desa Ekasari"}})", "/etc/kentongan/kentongan.json");
    REQUIRE(messages(r) == "");
    REQUIRE(r.config);
    const auto& c = *r.config;
    CHECK(c.village.name == "Desa Ekasari");
    CHECK(c.village.timezone == "Asia/Jakarta");
    CHECK(c.village.country == "ID");
    CHECK(c.storage.path == "/etc/kentongan/kentongan.db");
    CHECK(c.http.listen == "127.0.0.1:8787");
    CHECK(c.limits.quiet_hours_start == "21:00");
    CHECK(c.unmatched == "aspiration");
    CHECK(c.ticket_prefix == "A");
    CHECK(c.keywords.empty());  // intake/'s defaults apply
  }
  SUBCASE("channels of each type, keywords, tags, info") {
    scratch s;
    s.write("smpp.pass", "rahasia\n");
    s.write("wa.token", "EAAG\n");
    const auto file = s.write("k.json", R"({
      // comments and /* block comments */ are fine
      "village": {"name": "X", "country": "ID"},
      "storage": {"path": "/var/lib/kentongan/k.db"},
      "channels": [
        {"name": "telkomsel", "type": "smpp", "host": "10.1.2.3", "port": 2775, "system_id": "kimekasari",
         "password_file": "smpp.pass", "bind": "transmitter", "sessions": 2, "source_addr": "KIM EKASARI",
         "tps": 30, "window": 10, "durable_lag": 500, "daily_cap": 5000, "packed_gsm7": true},
        {"name": "wa", "type": "whatsapp", "phone_number_id": "106540352242922", "token_file": "wa.token",
         "templates": {"broadcast": "pengumuman_desa"}},
        {"name": "sim", "type": "sim", "tps": 200, "window": 100, "price_per_part": 350}
      ],
      "groups": [{"id": "a", "relay": "open", "self_subscribe": true}],
      "subscribers": [{"phone": "0812-3456-7890", "name": "Wayan", "groups": ["a"], "channel": "telkomsel",
                       "dusun": "Kaja", "rt": 3}],
      "keywords": {"daftar": "ikut", "BANTUAN": ["BANTUAN", "TOLONG"]},
      "tags": {"air": ["Sumur", "air bersih"]},
      "info": {"harga": ["baris 1", "baris 2"], "JADWAL": "Kamis"},
      "replies": {"ack": "Terima kasih"},
      "limits": {"quiet_hours_start": "22:30", "retry_base_s": 10},
      "unmatched": "help", "ticket_prefix": "EKS"
    })");
    const auto r = config::load(file);
    REQUIRE(messages(r) == "");
    const auto& c = *r.config;
    CHECK(c.storage.path == "/var/lib/kentongan/k.db");
    REQUIRE(c.channels.size() == 3);
    const auto& smpp = std::get<config::smpp_channel>(c.channels[0].settings);
    CHECK(smpp.password_file == (s.dir / "smpp.pass").string());
    CHECK(config::read_secret(smpp.password_file) == "rahasia");
    CHECK(smpp.bind == "transmitter");
    CHECK(smpp.sessions == 2);
    CHECK(smpp.packed_gsm7);
    CHECK(c.channels[0].daily_cap == 5000);
    CHECK(c.channels[0].durable_lag == 500);
    CHECK(c.channels[1].durable_lag == 0);  // the default: a window place is held until durable
    CHECK(c.channels[0].tps == 30);
    const auto& wa = std::get<config::whatsapp_channel>(c.channels[1].settings);
    CHECK(wa.templates.at("broadcast") == "pengumuman_desa");
    CHECK(wa.api_version == "v21.0");
    CHECK(c.channels[2].price_per_part == 350);
    CHECK(std::holds_alternative<config::sim_channel>(c.channels[2].settings));
    CHECK(c.groups[0].relay == core::relay_policy::open);
    REQUIRE(c.subscribers.size() == 1);
    CHECK(c.subscribers[0].phone == "+6281234567890");
    CHECK(c.subscribers[0].channel == "telkomsel");
    CHECK(c.subscribers[0].attributes == std::map<std::string, std::string>{{"dusun", "Kaja"}, {"rt", "3"}});
    CHECK(c.subscribers[0].consent == core::consent_source::config);
    CHECK(c.keywords.at("DAFTAR") == std::vector<std::string>{"IKUT"});
    CHECK(c.keywords.at("BANTUAN") == std::vector<std::string>{"BANTUAN", "TOLONG"});
    CHECK(c.keywords.size() == 2);
    CHECK(c.tags[0].words == std::vector<std::string>{"sumur", "air bersih"});
    CHECK(c.info[0].topic == "HARGA");
    CHECK(c.info[0].text == "baris 1\nbaris 2");
    CHECK(c.replies.at("ack") == "Terima kasih");
    CHECK(c.limits.quiet_hours_start == "22:30");
    CHECK(c.unmatched == "help");
    CHECK(c.ticket_prefix == "EKS");
  }
}

TEST_CASE("modem channels: defaults, operators by name and by prefix") {
  scratch s;
  s.write("sim.pin", "1234\n");
  const auto file = s.write("k.json", R"({"village": {"name": "X"},
    "channels": [
      {"name": "tsel", "type": "modem", "device": "/dev/serial/by-id/usb-modem0", "pin_file": "sim.pin",
       "operators": ["Telkomsel", "0817", "+62859"], "ussd_balance": "*888#", "balance_warn_below": 5000,
       "hourly_cap": 100, "daily_cap": 500, "price_per_part": 150},
      {"name": "m2", "type": "modem", "device": "/dev/ttyUSB1", "baud": 9600, "tps": 2, "window": 3,
       "status_reports": false, "smsc": "+62816124", "balance_check_h": 0}
    ]})");
  const auto r = config::load(file);
  REQUIRE(messages(r) == "");
  const auto& c = *r.config;
  REQUIRE(c.channels.size() == 2);
  const auto& m = std::get<config::modem_channel>(c.channels[0].settings);
  CHECK(m.device == "/dev/serial/by-id/usb-modem0");
  CHECK(m.baud == 115200);
  CHECK(config::read_secret(m.pin_file) == "1234");
  CHECK(m.operators == std::vector<std::string>{"telkomsel", "+62817", "+62859"});
  CHECK(m.ussd_balance == "*888#");
  CHECK(m.balance_check_h == 24);
  CHECK(m.balance_warn_below == 5000);
  CHECK(m.status_reports);
  CHECK(c.channels[0].tps == 0.5);  // a modem's own defaults
  CHECK(c.channels[0].window == 1);
  CHECK(c.channels[0].hourly_cap == 100);
  CHECK(c.channels[0].daily_cap == 500);
  const auto& m2 = std::get<config::modem_channel>(c.channels[1].settings);
  CHECK(m2.baud == 9600);
  CHECK_FALSE(m2.status_reports);
  CHECK(m2.smsc == "+62816124");
  CHECK(m2.balance_check_h == 0);
  CHECK(m2.pin_file.empty());
  CHECK(c.channels[1].tps == 2);
  CHECK(c.channels[1].window == 3);
  CHECK(config::summary(c).find("/dev/ttyUSB1 at 9600 baud") != std::string::npos);
}

TEST_CASE("http channels: the aggregator examples load; secrets by file") {
  for (const char* example : {"zenziva.json", "kannel.json"}) {
    CAPTURE(example);
    scratch s;
    std::ifstream in(std::string(KENTONGAN_SOURCE_DIR) + "/examples/aggregators/" + example);
    REQUIRE(in);
    std::string entry((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // The examples name files under /etc/kentongan: point them at scratch files instead.
    for (const char* name : {"kannel.username", "kannel.password", "kannel.callback", "zenziva.userkey",
                             "zenziva.passkey", "zenziva.callback"}) {
      s.write(name, "rahasia\n");
      const std::string from = std::string("/etc/kentongan/") + name;
      for (auto pos = entry.find(from); pos != std::string::npos; pos = entry.find(from))
        entry.replace(pos, from.size(), (s.dir / name).string());
    }
    const auto file = s.write("k.json", R"({"village": {"name": "X"}, "channels": [)" + entry + "]}");
    const auto r = config::load(file);
    REQUIRE(messages(r) == "");
    const auto& h = std::get<config::http_channel>(r.config->channels[0].settings);
    CHECK_FALSE(h.settings.url.empty());
    CHECK_FALSE(h.secret_files.empty());
    CHECK(h.settings.callback.enabled == (std::string(example) == "kannel.json"));
    CHECK(h.callback_secret_file.empty() == (std::string(example) != "kannel.json"));
  }
  const auto r = config::load_text(R"({"village": {"name": "X"}, "channels": [
      {"name": "agg", "type": "http", "url": "https://api.example.id/sms?to={to}&msg={text}", "method": "get",
       "body": "query", "fields": {"b": "2", "a": "1"}, "success": {"json_pointer": "/status", "equals": 1},
       "errors": [{"code": 5, "action": "stop_channel"}], "request_timeout_ms": 5000}]})",
                                   "k.json");
  REQUIRE(messages(r) == "");
  const auto& c = r.config->channels[0];
  CHECK(c.tps == 5);
  CHECK(c.window == 5);
  const auto& h = std::get<config::http_channel>(c.settings).settings;
  CHECK(h.method == http::http_method::get);
  CHECK(h.fields == std::vector<std::pair<std::string, std::string>>{{"b", "2"}, {"a", "1"}});  // file order
  CHECK(h.success.equals == "1");
  REQUIRE(h.errors.size() == 1);
  CHECK(h.errors[0].code == "5");
  CHECK(h.errors[0].action == http::error_action::stop_channel);
  CHECK(h.request_timeout == std::chrono::milliseconds{5000});
  CHECK_FALSE(h.callback.enabled);
}

TEST_CASE("CSV subscriber lists") {
  scratch s;
  const std::string config = R"({"village": {"name": "X"},
 "groups": [{"id": "petani-kakao", "members_csv": "kakao.csv"}, {"id": "dusun-1"}, {"id": "semua", "everyone": true}],
 "subscribers": [{"phone": "0812-3456-7890", "name": "Wayan"}],
 "subscribers_csv": "anggota.csv"})";

  SUBCASE("Excel export: BOM, ';', CRLF, quoting, Indonesian headers, free columns") {
    s.write("anggota.csv",
            "\xEF\xBB\xBFNama;No HP;Grup;Dusun;RT\r\n"
            "\"Irwan, Sutan Mudo\";0812 0000 0101;dusun-1;Dusun 1;01\r\n"
            "Ratna;+62 812-0000-0102;dusun-1 petani-kakao;Dusun 1;\r\n");
    s.write("kakao.csv", "phone,name\n6281200000103,Efendi\n");
    // "No HP" is not a known header: rename it and load again.
    auto r = config::load(s.write("k.json", config));
    CHECK(messages(r) == (s.dir / "anggota.csv").string() +
                             ":1: no \"phone\" column in the header (found Nama, No HP, Grup, Dusun, RT)");
    s.write("anggota.csv",
            "\xEF\xBB\xBFNama;HP;Grup;Dusun;RT\r\n"
            "\"Irwan, Sutan Mudo\";0812 0000 0101;dusun-1;Dusun 1;01\r\n"
            "Ratna;+62 812-0000-0102;dusun-1 petani-kakao;Dusun 1;\r\n");
    r = config::load(s.dir / "k.json");
    REQUIRE(messages(r) == "");
    const auto& c = *r.config;
    REQUIRE(c.subscribers.size() == 4);
    const auto* irwan = find(c, "+6281200000101");
    REQUIRE(irwan);
    CHECK(irwan->name == "Irwan, Sutan Mudo");
    CHECK(irwan->groups == std::vector<std::string>{"dusun-1", "semua"});
    CHECK(irwan->attributes == std::map<std::string, std::string>{{"dusun", "Dusun 1"}, {"rt", "01"}});
    const auto* ratna = find(c, "+6281200000102");
    REQUIRE(ratna);
    CHECK(ratna->groups == std::vector<std::string>{"dusun-1", "petani-kakao", "semua"});
    CHECK(ratna->attributes == std::map<std::string, std::string>{{"dusun", "Dusun 1"}});
    const auto* efendi = find(c, "+6281200000103");
    REQUIRE(efendi);
    CHECK(efendi->groups == std::vector<std::string>{"petani-kakao", "semua"});
    CHECK(find(c, "+6281234567890")->groups == std::vector<std::string>{"semua"});
  }

  SUBCASE("group lists separated by '|', ',', ';' or spaces; a group named twice counts once") {
    s.write("anggota.csv",
            "phone,name,groups\n"
            "0812 0000 0101,A,dusun-1|petani-kakao\n"
            "0812 0000 0102,B,\"dusun-1, petani-kakao\"\n"
            "0812 0000 0103,C,petani-kakao;dusun-1;petani-kakao\n"
            "0812 0000 0104,D,\"dusun-1\tpetani-kakao\"\n"
            "0812 0000 0105,E,\n");
    s.write("kakao.csv", "phone\n");
    const auto r = config::load(s.write("k.json", config));
    REQUIRE(messages(r) == "");
    const std::vector<std::string> both{"dusun-1", "petani-kakao", "semua"};
    CHECK(find(*r.config, "+6281200000101")->groups == both);
    CHECK(find(*r.config, "+6281200000102")->groups == both);
    CHECK(find(*r.config, "+6281200000103")->groups == std::vector<std::string>{"petani-kakao", "dusun-1", "semua"});
    CHECK(find(*r.config, "+6281200000104")->groups == both);
    CHECK(find(*r.config, "+6281200000105")->groups == std::vector<std::string>{"semua"});
  }

  SUBCASE("bad rows name file:row:column; the good rows are still checked") {
    s.write("anggota.csv",
            "phone,name,groups,channel\n"
            "0812-0000-0101,Rosmaniar,dusun-1,sms\n"
            "0812-34,Efendi,dusun-1,sms\n"
            "0812-0000-0103,Hendri,dusun-satu,sms\n"
            "0812-0000-0104,Yulianti,dusun-1,sms,extra\n"
            "+62 812 0000 0101,Rosmaniar lagi,dusun-1,sms\n"
            "081234567890,Wayan,,\n"
            ",Tanpa Nomor,,\n"
            "0812-0000-0105,Asrul,,pos\n"
            "0812-0000-0106,\"Marlina\"x,,\n");
    s.write("kakao.csv", "phone;name\n0812-0000-0107;Jasman\n0812 0000 0107;Jasman\n");
    const auto r = config::load(s.write("k.json", config));
    const std::string a = (s.dir / "anggota.csv").string(), k = (s.dir / "kakao.csv").string();
    CHECK(messages(r) ==
          a + ":3:1: column \"phone\": invalid phone number \"0812-34\": too short for a mobile number\n" +
          a + ":4:3: column \"groups\": unknown group \"dusun-satu\"; expected one of petani-kakao, dusun-1, semua\n" +
          a + ":5: row has 5 fields, the header has 4\n" +
          a + ":6:1: +6281200000101 is listed twice (first at anggota.csv:2); give one row several groups instead\n" +
          a + ":7:1: +6281234567890 is listed twice (first at k.json:3:28); give one row several groups instead\n" +
          a + ":8:1: column \"phone\": no phone number\n" +
          a + ":9:4: column \"channel\": unknown channel \"pos\"; expected \"sms\", \"whatsapp\" or \"\" (any)\n" +
          a + ":10:2: text after the closing quote\n" +
          k + ":3:1: +6281200000107 is listed twice (first at kakao.csv:2); give one row several groups instead");
  }

  SUBCASE("missing and malformed files") {
    s.write("anggota.csv", "");
    const auto r = config::load(s.write("k.json", config));
    CHECK(messages(r) == (s.dir / "k.json").string() + ":2:51: groups[0].members_csv: cannot read \"" +
                             (s.dir / "kakao.csv").string() + "\": No such file or directory\n" +
                             (s.dir / "anggota.csv").string() +
                             ": empty file; expected a header row such as \"phone,name,groups\"");
  }
}

TEST_CASE("the example village loads with no errors") {
  const auto r = config::load(fs::path(KENTONGAN_SOURCE_DIR) / "examples/desa-ekasari/kentongan.json");
  REQUIRE(messages(r) == "");
  const auto& c = *r.config;
  CHECK(c.village.name == "Desa Ekasari");
  CHECK(c.village.region == "Kabupaten Lima Puluh Kota, Sumatera Barat");
  CHECK(c.village.timezone == "Asia/Jakarta");
  REQUIRE(c.channels.size() == 1);
  CHECK(c.channels[0].name == "sim");
  CHECK(c.channels[0].tps == 200);
  CHECK(c.channels[0].window == 100);
  CHECK(c.channels[0].price_per_part == 350);
  CHECK(fs::path(c.storage.path).filename() == "kentongan.db");
  CHECK(c.groups.size() == 5);
  CHECK(c.subscribers.size() == 46);  // 6 inline + 40 from anggota.csv
  CHECK(c.officers.size() == 5);
  CHECK(c.tags.size() == 8);
  CHECK(c.info.size() == 3);
  auto members = [&](std::string_view g) {
    return std::count_if(c.subscribers.begin(), c.subscribers.end(), [&](const auto& s) {
      return std::find(s.groups.begin(), s.groups.end(), g) != s.groups.end();
    });
  };
  CHECK(members("petani-kakao") == 22);
  CHECK(members("warga-dusun-1") == 23);
  CHECK(members("warga-dusun-2") == 23);
  CHECK(members("perangkat-desa") == 5);
  CHECK(members("semua") == 46);
  // Every spelling in anggota.csv arrives as E.164.
  for (const auto& s : c.subscribers) {
    CAPTURE(s.phone);
    CHECK(s.phone.starts_with("+6281200000"));
    CHECK(s.phone.size() == 14);
  }
  const auto* rahmat = find(c, "+6281200000108");  // written 006281200000108
  REQUIRE(rahmat);
  CHECK(rahmat->name == "Rahmat Hidayat");
  CHECK(rahmat->channel == "whatsapp");
  CHECK(rahmat->attributes.at("komoditas") == "kakao");
  CHECK(find(c, "+6281200000217")->name == "Ratna \"Ina\" Dewi");
  CHECK(c.keywords.empty());

  const std::string text = config::summary(c);
  CAPTURE(text);
  CHECK(text.find("Desa Ekasari (Kabupaten Lima Puluh Kota, Sumatera Barat)") != std::string::npos);
  CHECK(text.find("petani-kakao       22 members") != std::string::npos);
  CHECK(text.find("subscribers: 46 (any 6, sms 31, whatsapp 9)") != std::string::npos);
  CHECK(text.find("info pages: 3 — HARGA, JADWAL, POSYANDU") != std::string::npos);
}

TEST_CASE("errors print as FILE:LINE:COL: message") {
  CHECK(config::format({"k.json", 3, 7, "bad"}) == "k.json:3:7: bad");
  CHECK(config::format({"a.csv", 12, 0, "bad"}) == "a.csv:12: bad");
  CHECK(config::format({"k.json", 0, 0, "bad"}) == "k.json: bad");
  const auto r = config::load("/nonexistent/kentongan.json");
  CHECK(messages(r) == "/nonexistent/kentongan.json: cannot read the config file: No such file or directory");
}

TEST_CASE("secrets are read from files") {
  scratch s;
  CHECK(config::read_secret(s.write("a", "abc\r\n")) == "abc");
  CHECK(config::read_secret(s.write("b", "abc")) == "abc");
  CHECK_THROWS_WITH_AS(config::read_secret(s.write("c", "\n")), ("secret file " + (s.dir / "c").string() + " is empty").c_str(),
                       std::runtime_error);
  CHECK_THROWS_WITH_AS(config::read_secret(s.dir / "missing"),
                       ("cannot read secret file " + (s.dir / "missing").string() + ": No such file or directory").c_str(),
                       std::runtime_error);
}
