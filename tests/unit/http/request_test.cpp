// The send request and the answer classifier (protocol/http/request.hpp).
#include <doctest/doctest.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "protocol/http/request.hpp"

namespace h = kentongan::http;
using nlohmann::json;

namespace {

h::http_settings base() {
  h::http_settings s;
  s.name = "agg";
  s.url = "https://api.example.id/sms/send";
  s.from = "KIM EKASARI";
  return s;
}

const h::message_fields message{42, "+6281234567890", "Rapat \"kakao\" & panen\nbesok 50%"};

}  // namespace

TEST_CASE("build_request: the four body kinds") {
  struct row {
    std::string label;
    std::function<void(h::http_settings&)> change;
    std::string method, url, body;
    std::vector<std::string> headers;
  };
  const std::vector<row> rows = {
      {"GET with query fields, url already has a query",
       [](auto& s) {
         s.method = h::http_method::get;
         s.url = "https://api.example.id/sms?user={secret:user}";
         s.body = h::body_kind::query;
         s.secrets = {{"user", "kim desa"}};
         s.fields = {{"to", "{to}"}, {"msg", "{text}"}, {"ref", "{id}"}};
       },
       "GET", "https://api.example.id/sms?user=kim%20desa&to=6281234567890&msg=Rapat%20%22kakao%22%20%26%20panen%0Abesok%2050%25&ref=42", "",
       {}},
      {"GET with query fields, no query yet; national numbers",
       [](auto& s) {
         s.method = h::http_method::get;
         s.body = h::body_kind::query;
         s.to_format = h::number_format::national;
         s.fields = {{"nohp", "{to}"}};
       },
       "GET", "https://api.example.id/sms/send?nohp=081234567890", "", {}},
      {"POST form",
       [](auto& s) {
         s.body = h::body_kind::form;
         s.fields = {{"to", "{to}"}, {"text", "{text}"}, {"from", "{from}"}};
       },
       "POST", "https://api.example.id/sms/send",
       "to=6281234567890&text=Rapat%20%22kakao%22%20%26%20panen%0Abesok%2050%25&from=KIM%20EKASARI",
       {"Content-Type: application/x-www-form-urlencoded"}},
      {"POST flat JSON with e164 and auth header",
       [](auto& s) {
         s.body = h::body_kind::json;
         s.to_format = h::number_format::e164;
         s.fields = {{"to", "{to}"}, {"text", "{text}"}};
         s.auth_value = "Bearer t0k3n";
       },
       "POST", "https://api.example.id/sms/send", R"({"text":"Rapat \"kakao\" & panen\nbesok 50%","to":"+6281234567890"})",
       {"Content-Type: application/json", "Authorization: Bearer t0k3n"}},
      {"POST JSON template, nested, non-string values kept",
       [](auto& s) {
         s.body = h::body_kind::json;
         s.body_template = R"({"messages":[{"destinations":[{"to":"{to}"}],"text":"{text}","ref":"id-{id}","flash":false,"n":1}]})";
         s.headers = {{"Content-Type", "application/json; charset=utf-8"}, {"X-Api-Key", "{secret:key}"}};
         s.secrets = {{"key", "k"}};
       },
       "POST", "https://api.example.id/sms/send",
       R"({"messages":[{"destinations":[{"to":"6281234567890"}],"flash":false,"n":1,"ref":"id-42","text":"Rapat \"kakao\" & panen\nbesok 50%"}]})",
       {"Content-Type: application/json; charset=utf-8", "X-Api-Key: k"}},
      {"no body, everything in the URL path",
       [](auto& s) {
         s.body = h::body_kind::none;
         s.url = "https://api.example.id/send/{to}/{text}";
       },
       "POST", "https://api.example.id/send/6281234567890/Rapat%20%22kakao%22%20%26%20panen%0Abesok%2050%25", "", {}},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    auto s = base();
    r.change(s);
    const auto b = h::build_request(s, message);
    CAPTURE(b.error);
    REQUIRE(b.ok);
    CHECK(b.method == r.method);
    CHECK(b.url == r.url);
    CHECK(b.body == r.body);
    CHECK(b.headers == r.headers);
  }
}

TEST_CASE("build_request: JSON escaping of every awkward character") {
  auto s = base();
  s.body = h::body_kind::json;
  s.fields = {{"text", "{text}"}};
  const std::string nasty = std::string("tab\there \\ back \"q\" ctl\x01 nul") + '\0' + " emoji 🌾 é";
  const auto b = h::build_request(s, {1, "+6281234567890", nasty});
  REQUIRE(b.ok);
  CHECK(b.body == R"({"text":"tab\there \\ back \"q\" ctl\u0001 nul\u0000 emoji 🌾 é"})");
  CHECK(json::parse(b.body)["text"].get<std::string>() == nasty);
  // Invalid UTF-8 must not throw; it is replaced.
  const auto bad = h::build_request(s, {1, "+6281234567890", "a\xff" "b"});
  REQUIRE(bad.ok);
  CHECK(bad.body == "{\"text\":\"a\xEF\xBF\xBD" "b\"}");
}

TEST_CASE("build_request: a text cannot inject a header line") {
  auto s = base();
  s.headers = {{"X-Note", "{text}"}};
  const auto b = h::build_request(s, {1, "+6281234567890", "a\r\nX-Evil: 1"});
  CHECK_FALSE(b.ok);
  CHECK(b.error == "headers.X-Note: the value would contain a line break");
}

TEST_CASE("classify_response: success rules, ids and the error table") {
  auto json_api = base();
  json_api.id_pointer = "/messages/0/id";
  json_api.success.json_pointer = "/status";
  json_api.success.equals = "0";
  json_api.error_code_pointer = "/status";
  json_api.errors = {{0, "14", "", h::error_action::retry}, {0, "7", "", h::error_action::stop_channel}};

  auto kannel = base();
  kannel.success.body_contains = "Accepted for delivery";
  kannel.errors = {{0, "", "Queued for later delivery", h::error_action::retry}};

  struct row {
    std::string label;
    const h::http_settings* s;
    long status;
    std::string body;
    bool success;
    std::string provider_id;
    h::error_action action;
    std::string reason;
  };
  const auto retry = h::error_action::retry;
  const auto perm = h::error_action::permanent;
  const std::vector<row> rows = {
      {"JSON success with id", &json_api, 200, R"({"status":0,"messages":[{"id":"MSG-9","to":"62812"}]})", true, "MSG-9", retry, ""},
      {"JSON success, numeric id", &json_api, 200, R"({"status":"0","messages":[{"id":123456789012}]})", true, "123456789012", retry, ""},
      {"JSON success without id: ours, noted", &json_api, 200, R"({"status":0,"messages":[]})", true, "42", retry,
       "success answer without a message id at /messages/0/id"},
      {"2xx but status says no: permanent", &json_api, 200, R"({"status":"5","text":"Nomor tidak valid"})", false, "", perm,
       R"(HTTP 200 code 5: {"status":"5","text":"Nomor tidak valid"})"},
      {"configured code retry", &json_api, 200, R"({"status":14})", false, "", retry, R"(HTTP 200 code 14: {"status":14})"},
      {"configured code stop", &json_api, 400, R"({"status":7})", false, "", h::error_action::stop_channel, R"(HTTP 400 code 7: {"status":7})"},
      {"429 slow down by default", &json_api, 429, "Too Many Requests", false, "", h::error_action::slow_down, "HTTP 429: Too Many Requests"},
      {"503 retry", &json_api, 503, "<html>\n<body>down</body>\n</html>", false, "", retry, "HTTP 503: <html> <body>down</body> </html>"},
      {"408 retry", &json_api, 408, "", false, "", retry, "HTTP 408"},
      {"400 permanent", &json_api, 400, "bad number", false, "", perm, "HTTP 400: bad number"},
      {"401 stops the channel", &json_api, 401, "", false, "", h::error_action::stop_channel, "HTTP 401"},
      {"not JSON at all, 200", &json_api, 200, "OK", false, "", perm, "HTTP 200: OK"},
      {"transport failure", &json_api, 0, "", false, "", retry, "aggregator unreachable: Connection refused"},
      {"Kannel accepted: our id", &kannel, 202, "0: Accepted for delivery", true, "42", retry, ""},
      {"Kannel queued: table says retry", &kannel, 202, "3: Queued for later delivery", false, "", retry, "HTTP 202: 3: Queued for later delivery"},
      {"Kannel auth", &kannel, 403, "Authorization failed for sendsms", false, "", h::error_action::stop_channel,
       "HTTP 403: Authorization failed for sendsms"},
      {"Kannel not routable", &kannel, 403, "Not routable. Do not try again.", false, "", h::error_action::stop_channel,
       "HTTP 403: Not routable. Do not try again."},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    const auto v = h::classify_response(*r.s, 42, r.status, r.body, r.status == 0 ? "Connection refused" : "");
    CHECK(v.success == r.success);
    CHECK(v.reason == r.reason);
    if (r.success) CHECK(v.provider_id == r.provider_id);
    else CHECK(v.action == r.action);
  }
}

TEST_CASE("classify_response: a long body is cut in the reason and never parsed past the limit") {
  auto s = base();
  const std::string big(h::max_answer_bytes + 10, 'x');
  const auto v = h::classify_response(s, 1, 500, big);
  CHECK_FALSE(v.success);
  CHECK(v.action == h::error_action::retry);
  CHECK(v.reason.size() < 200);
}

TEST_CASE("default_action table") {
  struct row {
    long status;
    h::error_action action;
  };
  for (const auto& r : std::vector<row>{{429, h::error_action::slow_down}, {500, h::error_action::retry}, {502, h::error_action::retry},
                                        {599, h::error_action::retry}, {408, h::error_action::retry}, {425, h::error_action::retry},
                                        {401, h::error_action::stop_channel}, {403, h::error_action::stop_channel},
                                        {400, h::error_action::permanent}, {404, h::error_action::permanent},
                                        {422, h::error_action::permanent}, {0, h::error_action::retry}}) {
    CAPTURE(r.status);
    CHECK(h::default_action(r.status) == r.action);
  }
}

TEST_CASE("build_request: a field value is encoded whole, literal text included") {
  auto s = base();
  s.method = h::http_method::get;
  s.body = h::body_kind::query;
  s.fields = {{"dlr-url", "http://gw/dlr?ref={id}&type=%d"}};
  const auto b = h::build_request(s, message);
  REQUIRE(b.ok);
  CHECK(b.url == "https://api.example.id/sms/send?dlr-url=http%3A%2F%2Fgw%2Fdlr%3Fref%3D42%26type%3D%25d");
}
