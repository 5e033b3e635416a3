// The Graph API error table (protocols.md §4.2) and the error-body reader.
#include <doctest/doctest.h>

#include <string>

#include "protocol/whatsapp/errors.hpp"

using namespace kentongan::whatsapp;

TEST_CASE("error table: code first, then HTTP status") {
  struct row {
    const char* label;
    int http;
    bool has_code;
    int code;
    error_action expected;
  };
  const row rows[] = {
      {"throughput 130429 on 429", 429, true, 130429, error_action::slow_down_and_retry},
      {"throughput 130429 on 400", 400, true, 130429, error_action::slow_down_and_retry},
      {"pair rate 131056", 400, true, 131056, error_action::slow_down_and_retry},
      {"too many calls 4", 400, true, 4, error_action::slow_down_and_retry},
      {"rate limit issues 80007", 400, true, 80007, error_action::slow_down_and_retry},
      {"spam rate 131048", 400, true, 131048, error_action::slow_down_and_retry},
      {"re-engagement 131047", 400, true, 131047, error_action::use_template},
      {"not on WhatsApp 131026", 400, true, 131026, error_action::fallback_sms},
      {"legacy receiver incapable 1026", 400, true, 1026, error_action::fallback_sms},
      {"token expired 190", 401, true, 190, error_action::stop_channel},
      {"token expired 190 on 400", 400, true, 190, error_action::stop_channel},
      {"AuthException 0", 401, true, 0, error_action::stop_channel},
      {"permission 200", 403, true, 200, error_action::stop_channel},
      {"permission 10", 403, true, 10, error_action::stop_channel},
      {"policy block 368", 403, true, 368, error_action::stop_channel},
      {"payment 131042", 400, true, 131042, error_action::stop_channel},
      {"generic 131000", 500, true, 131000, error_action::retry},
      {"service unavailable 131016", 503, true, 131016, error_action::retry},
      {"ecosystem 131049", 400, true, 131049, error_action::permanent},
      {"invalid parameter 100", 400, true, 100, error_action::permanent},
      {"parameter missing 131008", 400, true, 131008, error_action::permanent},
      {"template missing 132001", 400, true, 132001, error_action::permanent},
      {"template params 132000", 400, true, 132000, error_action::permanent},
      {"unknown code on 500", 500, true, 999999, error_action::retry},
      {"unknown code on 429", 429, true, 999999, error_action::slow_down_and_retry},
      {"no code, 429", 429, false, 0, error_action::slow_down_and_retry},
      {"no code, 502", 502, false, 0, error_action::retry},
      {"no code, 503", 503, false, 0, error_action::retry},
      {"no code, 401", 401, false, 0, error_action::stop_channel},
      {"no code, 404", 404, false, 0, error_action::permanent},
      {"no code, 408", 408, false, 0, error_action::retry},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    CHECK(to_string(classify(r.http, r.has_code, r.code)) == to_string(r.expected));
  }
}

TEST_CASE("error bodies") {
  const auto pair = parse_error_body(
      400,
      R"({"error":{"message":"(#131056) (Business Account, Consumer Account) pair rate limit hit","type":"OAuthException","code":131056,"error_data":{"messaging_product":"whatsapp","details":"Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time."},"fbtrace_id":"A4O5a8RAgePwbcGSu"}})");
  CHECK(pair.has_code);
  CHECK(pair.code == 131056);
  CHECK(pair.type == "OAuthException");
  CHECK(pair.fbtrace_id == "A4O5a8RAgePwbcGSu");
  CHECK(pair.details.starts_with("Message failed to send because there were too many"));
  CHECK(describe(pair).starts_with("(#131056) (Business Account, Consumer Account) pair rate limit hit: Message failed"));
  CHECK(describe(pair).ends_with("(HTTP 400)"));

  // protocols.md §4.2, verbatim 190 example (blynkkk/blynk-server #435)
  const auto expired = parse_error_body(
      401,
      R"({"error":{"message":"Error validating access token: Session has expired on Sunday, 25-Dec-16 04:45:57 PST. The current time is Thursday, 05-Jan-17 03:13:18 PST.","type":"OAuthException","code":190,"error_subcode":463,"fbtrace_id":"xxxx"}})");
  CHECK(expired.code == 190);
  CHECK(expired.subcode == 463);
  CHECK(classify(expired) == error_action::stop_channel);

  struct row {
    const char* label;
    const char* body;
  };
  const row junk[] = {{"html", "<html>502 Bad Gateway</html>"}, {"empty", ""}, {"no error object", R"({"ok":true})"},
                      {"code as string", R"({"error":{"code":"131056"}})"}, {"negative code", R"({"error":{"code":-5}})"},
                      {"huge code", R"({"error":{"code":99999999999999}})"}};
  for (const auto& r : junk) {
    CAPTURE(r.label);
    const auto e = parse_error_body(502, r.body);
    CHECK_FALSE(e.has_code);
    CHECK(classify(e) == error_action::retry);
    CHECK(describe(e) == "no error message (HTTP 502)");
  }
}
