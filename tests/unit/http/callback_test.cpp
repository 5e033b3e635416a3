// Inbound and delivery callbacks: the secret check and the field mapping (protocol/http/callback.hpp).
#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

#include "protocol/http/callback.hpp"

namespace h = kentongan::http;

namespace {

h::callback_settings form_settings() {
  h::callback_settings c;
  c.enabled = true;
  c.status_map = {{"DELIVRD", h::report_state::delivered}, {"UNDELIV", h::report_state::failed},
                  {"EXPIRED", h::report_state::expired}, {"SENT", h::report_state::ignore}};
  return c;
}

h::callback_request post(std::string type, std::string body) {
  h::callback_request r;
  r.method = "POST";
  r.content_type = std::move(type);
  r.body = std::move(body);
  return r;
}

}  // namespace

TEST_CASE("HMAC-SHA256 vectors (vectors.md H.3)") {
  CHECK(h::hmac_sha256("It's a Secret to Everybody", "Hello, World!", h::signature_encoding::hex) ==
        "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
  CHECK(h::hmac_sha256("Jefe", "what do ya want for nothing?", h::signature_encoding::hex) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  CHECK(h::hmac_sha256(std::string(20, '\x0b'), "Hi There", h::signature_encoding::hex) ==
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  // The same MAC as base64 (RFC 4648), computed with Python's hmac and base64 modules.
  CHECK(h::hmac_sha256("Jefe", "what do ya want for nothing?", h::signature_encoding::base64) ==
        "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=");
}

TEST_CASE("verify_secret") {
  const std::string body = R"({"id":"MSG-9","status":"DELIVRD"})";
  const std::string mac = "c93d8896b033e6426de28e989ed508564dc9cbca38321b484da1a4386c45bc9b";  // key "rahasia", Python hmac
  struct row {
    std::string label;
    h::secret_check check;
    std::string name;
    std::string prefix;
    h::signature_encoding encoding;
    std::map<std::string, std::string> headers;
    std::map<std::string, std::string> query;
    h::callback_error expected;
  };
  const auto hex = h::signature_encoding::hex;
  const auto none = h::callback_error::none;
  const auto missing = h::callback_error::missing_secret;
  const auto bad = h::callback_error::bad_secret;
  const std::vector<row> rows = {
      {"no check", h::secret_check::none, "", "", hex, {}, {}, none},
      {"header equal, name case-insensitive", h::secret_check::header, "X-Callback-Token", "", hex, {{"x-callback-token", "rahasia"}}, {}, none},
      {"header wrong", h::secret_check::header, "X-Callback-Token", "", hex, {{"x-callback-token", "rahasib"}}, {}, bad},
      {"header longer", h::secret_check::header, "X-Callback-Token", "", hex, {{"x-callback-token", "rahasia2"}}, {}, bad},
      {"header missing", h::secret_check::header, "X-Callback-Token", "", hex, {}, {}, missing},
      {"header empty", h::secret_check::header, "X-Callback-Token", "", hex, {{"x-callback-token", ""}}, {}, missing},
      {"query parameter", h::secret_check::query, "token", "", hex, {}, {{"token", "rahasia"}}, none},
      {"query parameter wrong", h::secret_check::query, "token", "", hex, {}, {{"token", "x"}}, bad},
      {"hmac hex", h::secret_check::hmac_sha256, "X-Signature", "", hex, {{"x-signature", mac}}, {}, none},
      {"hmac upper-case hex with prefix", h::secret_check::hmac_sha256, "X-Signature", "sha256=", hex,
       {{"x-signature", "SHA256=C93D8896B033E6426DE28E989ED508564DC9CBCA38321B484DA1A4386C45BC9B"}}, {}, none},
      {"hmac prefix missing", h::secret_check::hmac_sha256, "X-Signature", "sha256=", hex, {{"x-signature", mac}}, {}, bad},
      {"hmac of another body", h::secret_check::hmac_sha256, "X-Signature", "", hex,
       {{"x-signature", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"}}, {}, bad},
      {"hmac non-ASCII byte", h::secret_check::hmac_sha256, "X-Signature", "", hex, {{"x-signature", "\xff\xfe"}}, {}, bad},
      {"hmac missing", h::secret_check::hmac_sha256, "X-Signature", "", hex, {}, {}, missing},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    auto c = form_settings();
    c.check = r.check;
    c.secret_name = r.name;
    c.secret = "rahasia";
    c.signature_prefix = r.prefix;
    c.encoding = r.encoding;
    auto req = post("application/json", body);
    req.headers = r.headers;
    req.query = r.query;
    CHECK(h::verify_secret(c, req) == r.expected);
  }
}

TEST_CASE("verify_secret: base64 HMAC, and an empty configured secret never verifies") {
  auto c = form_settings();
  c.check = h::secret_check::hmac_sha256;
  c.secret_name = "X-Sig";
  c.encoding = h::signature_encoding::base64;
  c.secret = "Jefe";
  auto req = post("text/plain", "what do ya want for nothing?");
  req.headers = {{"x-sig", "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM="}};
  CHECK(h::verify_secret(c, req) == h::callback_error::none);
  req.headers = {{"x-sig", "w9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM="}};
  CHECK(h::verify_secret(c, req) == h::callback_error::bad_secret);
  c.check = h::secret_check::header;
  c.secret.clear();
  req.headers = {{"x-sig", "anything"}};
  CHECK(h::verify_secret(c, req) == h::callback_error::bad_secret);
}

TEST_CASE("parse_callback: field mapping in form, query and JSON") {
  struct row {
    std::string label;
    std::function<void(h::callback_settings&)> change;
    h::callback_request request;
    std::vector<h::inbound_sms> messages;
    std::vector<h::status_report> reports;
    std::size_t skipped;
  };
  const std::vector<row> rows = {
      {"form inbound, 0812 sender normalised", [](auto&) {},
       post("application/x-www-form-urlencoded", "from=081234567890&to=3636&text=LAPOR+jalan+rusak+%23jalan&id=MO-1"),
       {{"MO-1", "+6281234567890", "3636", "LAPOR jalan rusak #jalan", 0}}, {}, 0},
      {"form report delivered (status case-insensitive)", [](auto&) {},
       post("application/x-www-form-urlencoded", "id=MSG-9&status=delivrd"), {}, {{"MSG-9", h::report_state::delivered, "delivrd", ""}}, 0},
      {"form report failed with error text", [](auto&) {},
       post("application/x-www-form-urlencoded", "id=MSG-9&status=UNDELIV&error=absent+subscriber"), {},
       {{"MSG-9", h::report_state::failed, "UNDELIV", "status UNDELIV: absent subscriber"}}, 0},
      {"intermediate state ignored, nothing skipped", [](auto&) {},
       post("application/x-www-form-urlencoded", "id=MSG-9&status=SENT"), {}, {}, 0},
      {"unknown status skipped, still accepted", [](auto&) {},
       post("application/x-www-form-urlencoded", "id=MSG-9&status=WEIRD"), {}, {}, 1},
      {"Kannel dlr-url GET with query", [](auto& c) {
         c.format = h::callback_format::query;
         c.fields.provider_id = "ref";
         c.fields.status = "type";
         c.fields.error = "reply";
         c.status_map = {{"1", h::report_state::delivered}, {"2", h::report_state::failed}, {"4", h::report_state::ignore},
                         {"8", h::report_state::ignore}, {"16", h::report_state::failed}};
       },
       [] {
         h::callback_request r;
         r.method = "GET";
         r.query = {{"ref", "42"}, {"type", "16"}, {"reply", "NACK/0x0000000b/Invalid Destination Address"}};
         return r;
       }(),
       {}, {{"42", h::report_state::failed, "16", "status 16: NACK/0x0000000b/Invalid Destination Address"}}, 0},
      {"JSON with pointers and a millisecond timestamp", [](auto& c) {
         c.fields.from = "/sender/msisdn";
         c.fields.text = "/message/text";
         c.fields.provider_id = "messageId";
         c.fields.timestamp = "receivedAt";
       },
       post("application/json; charset=utf-8",
            R"({"messageId":"abc","sender":{"msisdn":"6281234567890"},"message":{"text":"INFO HARGA"},"receivedAt":1767225600000})"),
       {{"abc", "+6281234567890", "", "INFO HARGA", 1767225600}}, {}, 0},
      {"JSON batch under items_pointer: report and message", [](auto& c) {
         c.items_pointer = "/results";
         c.fields.provider_id = "messageId";
         c.fields.status = "/status/groupName";
       },
       post("application/json",
            R"({"results":[{"messageId":"M1","status":{"groupName":"DELIVRD"}},{"messageId":"MO2","from":"+6281234567890","text":"YA"},{"nothing":1}]})"),
       {{"MO2", "+6281234567890", "", "YA", 0}}, {{"M1", h::report_state::delivered, "DELIVRD", ""}}, 1},
      {"empty JSON batch is fine", [](auto& c) { c.items_pointer = "/results"; }, post("application/json", R"({"results":[]})"), {}, {}, 0},
      {"top-level JSON array", [](auto&) {}, post("application/json", R"([{"id":"A","status":"EXPIRED"}])"), {},
       {{"A", h::report_state::expired, "EXPIRED", "status EXPIRED"}}, 0},
      {"form values fall back to the query", [](auto&) {},
       [] {
         auto r = post("application/x-www-form-urlencoded", "text=halo");
         r.query = {{"from", "+6281234567890"}, {"id", "Q1"}};
         return r;
       }(),
       {{"Q1", "+6281234567890", "", "halo", 0}}, {}, 0},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    auto c = form_settings();
    r.change(c);
    const auto out = h::parse_callback(c, r.request, "62");
    CAPTURE(out.reason);
    REQUIRE(out.ok());
    CHECK(out.http_status() == 200);
    CHECK(out.messages == r.messages);
    CHECK(out.reports == r.reports);
    CHECK(out.skipped.size() == r.skipped);
  }
}

TEST_CASE("parse_callback: bad callbacks are typed errors") {
  struct row {
    std::string label;
    std::function<void(h::callback_settings&)> change;
    h::callback_request request;
    h::callback_error error;
    unsigned status;
  };
  const std::vector<row> rows = {
      {"disabled", [](auto& c) { c.enabled = false; }, post("application/json", "{}"), h::callback_error::disabled, 404},
      {"too large", [](auto& c) { c.max_body_bytes = 4; }, post("application/json", "{\"a\":1}"), h::callback_error::too_large, 413},
      {"missing secret", [](auto& c) { c.check = h::secret_check::header; c.secret_name = "X-T"; c.secret = "s"; },
       post("application/json", "{}"), h::callback_error::missing_secret, 401},
      {"malformed JSON", [](auto&) {}, post("application/json", "{\"id\":"), h::callback_error::malformed, 400},
      {"JSON scalar", [](auto&) {}, post("application/json", "42"), h::callback_error::malformed, 400},
      {"no array at items_pointer", [](auto& c) { c.items_pointer = "/results"; }, post("application/json", R"({"results":{}})"),
       h::callback_error::malformed, 400},
      {"nothing recognisable", [](auto&) {}, post("application/x-www-form-urlencoded", "foo=bar"), h::callback_error::malformed, 400},
      {"report without id", [](auto&) {}, post("application/x-www-form-urlencoded", "status=DELIVRD"), h::callback_error::malformed, 400},
      {"empty GET", [](auto&) {}, h::callback_request{"GET", "", {}, {}, ""}, h::callback_error::malformed, 400},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    auto c = form_settings();
    r.change(c);
    const auto out = h::parse_callback(c, r.request, "62");
    CHECK(out.error == r.error);
    CHECK(out.http_status() == r.status);
    CHECK_FALSE(out.reason.empty());
    CHECK(out.messages.empty());
    CHECK(out.reports.empty());
  }
}

TEST_CASE("parse_callback: the Content-Type may come with the other headers") {
  auto c = form_settings();
  h::callback_request r;
  r.method = "POST";
  r.headers = {{"content-type", "application/json"}};
  r.body = R"({"id":"A","status":"DELIVRD"})";
  const auto out = h::parse_callback(c, r, "62");
  REQUIRE(out.ok());
  CHECK(out.reports.size() == 1);
}
