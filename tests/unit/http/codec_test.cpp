// URL/form encoding, placeholders, number formats and settings validation (protocol/http/codec.hpp).
#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

#include "protocol/http/codec.hpp"
#include "protocol/http/settings.hpp"

namespace h = kentongan::http;

TEST_CASE("url_encode keeps only RFC 3986 unreserved characters") {
  struct row {
    std::string label;
    std::string in;
    std::string out;
  };
  const std::vector<row> rows = {
      {"plain", "abcXYZ019", "abcXYZ019"},
      {"unreserved marks", "-._~", "-._~"},
      {"space is %20, not +", "a b", "a%20b"},
      {"plus encoded", "+6281234567890", "%2B6281234567890"},
      {"reserved", "&=?/#:;,@!$'()*[]", "%26%3D%3F%2F%23%3A%3B%2C%40%21%24%27%28%29%2A%5B%5D"},
      {"percent", "100%", "100%25"},
      {"UTF-8 bytes upper-case hex", "é€", "%C3%A9%E2%82%AC"},
      {"newline", "a\r\nb", "a%0D%0Ab"},
      {"NUL byte", std::string("a\0b", 3), "a%00b"},
      {"empty", "", ""},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    CHECK(h::url_encode(r.in) == r.out);
    CHECK(h::url_decode(r.out, false) == r.in);
  }
}

TEST_CASE("url_decode tolerates malformed escapes") {
  struct row {
    std::string label;
    std::string in;
    bool plus;
    std::string out;
  };
  const std::vector<row> rows = {
      {"plus as space in forms", "a+b", true, "a b"},
      {"plus kept in paths", "a+b", false, "a+b"},
      {"lower-case hex", "%c3%a9", false, "é"},
      {"truncated escape kept", "50%", false, "50%"},
      {"one digit kept", "%4", false, "%4"},
      {"non-hex kept", "%zz%41", false, "%zzA"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    CHECK(h::url_decode(r.in, r.plus) == r.out);
  }
}

TEST_CASE("parse_form") {
  const auto f = h::parse_form("from=%2B6281234567890&text=LAPOR+jalan+rusak&&=x&flag&id=1&id=2");
  CHECK(f.at("from") == "+6281234567890");
  CHECK(f.at("text") == "LAPOR jalan rusak");
  CHECK(f.at("flag").empty());
  CHECK(f.at("id") == "2");
  CHECK(f.size() == 4);
}

TEST_CASE("format_number for the three number formats (vectors.md I1, I7)") {
  struct row {
    std::string label;
    std::string e164;
    h::number_format format;
    std::string out;
  };
  const std::vector<row> rows = {
      {"I1 e164", "+6281234567890", h::number_format::e164, "+6281234567890"},
      {"I1 msisdn", "+6281234567890", h::number_format::msisdn, "6281234567890"},
      {"I1 national", "+6281234567890", h::number_format::national, "081234567890"},
      {"I7 national", "+628123456789", h::number_format::national, "08123456789"},
      {"foreign number national stays msisdn", "+16505551234", h::number_format::national, "16505551234"},
      {"digits without + to e164", "6281234567890", h::number_format::e164, "+6281234567890"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    CHECK(h::format_number(r.e164, r.format, "62") == r.out);
  }
}

TEST_CASE("normalise_sender (vectors.md I1-I4)") {
  struct row {
    std::string label;
    std::string in;
    std::string out;
  };
  const std::vector<row> rows = {
      {"I1 +62", "+6281234567890", "+6281234567890"},
      {"I2 trunk 0", "081234567890", "+6281234567890"},
      {"I3 62 prefix", "6281234567890", "+6281234567890"},
      {"00 IDD", "006281234567890", "+6281234567890"},
      {"blanks trimmed", " 081234567890 ", "+6281234567890"},
      {"alphanumeric kept", "TELKOMSEL", "TELKOMSEL"},
      {"short code kept", "3636", "3636"},
      {"empty", "", ""},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    CHECK(h::normalise_sender(r.in, "62") == r.out);
  }
}

TEST_CASE("expand replaces placeholders and catches typos") {
  const std::map<std::string, std::string> secrets{{"password", "p&ss w"}};
  h::placeholder_values v;
  v.to = "6281234567890";
  v.text = "Rapat & panen: 50% \"kakao\"";
  v.id = "42";
  v.from = "KIM";
  v.callback_secret = "cb";
  v.secrets = &secrets;
  struct row {
    std::string label;
    std::string pattern;
    h::escaping how;
    bool ok;
    std::string out;
  };
  const std::vector<row> rows = {
      {"all plain", "{to}|{text}|{id}|{from}|{callback_secret}|{secret:password}", h::escaping::none, true,
       "6281234567890|Rapat & panen: 50% \"kakao\"|42|KIM|cb|p&ss w"},
      {"url escaping of values only", "https://x/y?to={to}&msg={text}&pw={secret:password}", h::escaping::url, true,
       "https://x/y?to=6281234567890&msg=Rapat%20%26%20panen%3A%2050%25%20%22kakao%22&pw=p%26ss%20w"},
      {"doubled brace is literal", "{{to} {{", h::escaping::none, true, "{to} {"},
      {"JSON-looking braces are literal", R"({"a": {"b": 1}})", h::escaping::none, true, R"({"a": {"b": 1}})"},
      {"typo", "{too}", h::escaping::none, false, ""},
      {"unknown secret", "{secret:nope}", h::escaping::none, false, ""},
      {"lone brace", "a{b", h::escaping::none, true, "a{b"},
      {"empty braces", "{}", h::escaping::none, true, "{}"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    const auto e = h::expand(r.pattern, v, r.how);
    CHECK(e.ok == r.ok);
    if (r.ok) CHECK(e.text == r.out);
    else CHECK_FALSE(e.error.empty());
  }
}

TEST_CASE("validate lists every problem") {
  h::http_settings good;
  good.url = "https://api.example.id/send";
  good.fields = {{"to", "{to}"}, {"text", "{text}"}};
  CHECK(h::validate(good).empty());

  struct row {
    std::string label;
    std::function<void(h::http_settings&)> change;
    std::string expected;
  };
  const std::vector<row> rows = {
      {"scheme", [](auto& s) { s.url = "ftp://x"; }, "url: must start with http:// or https://"},
      {"typo in url", [](auto& s) { s.url = "https://x/{too}"; }, "url: unknown placeholder {too}"},
      {"typo in a field", [](auto& s) { s.fields.emplace_back("m", "{txt}"); }, "fields.m: unknown placeholder {txt}"},
      {"secret not given", [](auto& s) { s.fields.emplace_back("pw", "{secret:pw}"); }, "fields.pw: no secret named \"pw\""},
      {"GET with form", [](auto& s) { s.method = h::http_method::get; }, "body: a GET request has no body"},
      {"bad pointer", [](auto& s) { s.id_pointer = "messages/0"; }, "id_pointer: \"messages/0\" is not a JSON pointer"},
      {"bad escape", [](auto& s) { s.id_pointer = "/a~2"; }, "id_pointer:"},
      {"template not JSON", [](auto& s) { s.body = h::body_kind::json; s.fields.clear(); s.body_template = "{"; },
       "body_template: not valid JSON"},
      {"template typo", [](auto& s) { s.body = h::body_kind::json; s.fields.clear(); s.body_template = R"({"to":"{tto}"})"; },
       "body_template: unknown placeholder {tto}"},
      {"header line break", [](auto& s) { s.headers.emplace_back("X-A", "a\r\nB: c"); }, "headers.X-A: line breaks"},
      {"country code", [](auto& s) { s.country_code = "+62"; }, "country_code: digits only"},
      {"tps", [](auto& s) { s.tps = 0; }, "tps: must be above 0"},
      {"callback secret missing", [](auto& s) { s.callback.enabled = true; s.callback.check = h::secret_check::header; s.callback.secret_name = "X-T"; },
       "callback.secret_file: the secret is empty"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    auto s = good;
    r.change(s);
    const auto problems = h::validate(s);
    REQUIRE_FALSE(problems.empty());
    bool found = false;
    for (const auto& p : problems) found = found || p.starts_with(r.expected);
    CAPTURE(problems.front());
    CHECK(found);
  }
}

TEST_CASE("enum words round-trip") {
  for (auto m : {h::body_kind::none, h::body_kind::query, h::body_kind::form, h::body_kind::json})
    CHECK(h::parse_body_kind(h::to_string(m)) == m);
  for (auto a : {h::error_action::retry, h::error_action::slow_down, h::error_action::permanent, h::error_action::stop_channel})
    CHECK(h::parse_error_action(h::to_string(a)) == a);
  CHECK(h::parse_callback_format("auto") == h::callback_format::automatic);
  CHECK(h::parse_secret_check("hmac_sha256") == h::secret_check::hmac_sha256);
  CHECK(h::parse_number_format("msisdn") == h::number_format::msisdn);
  CHECK_FALSE(h::parse_http_method("GET").has_value());  // the config words are lower-case
}
