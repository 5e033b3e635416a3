// HMAC-SHA256 webhook signatures and the subscription handshake (vectors.md H.3, H.9).
#include <doctest/doctest.h>

#include <string>

#include "protocol/whatsapp/signature.hpp"

using namespace kentongan::whatsapp;

TEST_CASE("HMAC-SHA256 vectors") {
  struct row {
    const char* label;
    std::string key, message, expected;
  };
  const row rows[] = {
      {"H10 GitHub docs", "It's a Secret to Everybody", "Hello, World!",
       "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"},
      {"H11 RFC 4231 case 2", "Jefe", "what do ya want for nothing?",
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      {"H12 RFC 4231 case 1", std::string(20, '\x0b'), "Hi There",
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    CHECK(hmac_sha256_hex(r.key, r.message) == r.expected);
    CHECK(sign_body(r.message, r.key) == "sha256=" + r.expected);
    CHECK(verify_signature(r.message, "sha256=" + r.expected, r.key));
  }
}

TEST_CASE("signature header handling") {
  const std::string key = "It's a Secret to Everybody";
  const std::string body = "Hello, World!";
  const std::string good = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
  std::string upper = good;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string flipped = good;
  flipped[10] = flipped[10] == '0' ? '1' : '0';
  struct row {
    const char* label;
    std::string header, body, key;
    bool expected;
  };
  const row rows[] = {
      {"good", "sha256=" + good, body, key, true},
      {"uppercase hex", "sha256=" + upper, body, key, true},
      {"uppercase scheme", "SHA256=" + good, body, key, true},
      {"surrounding blanks", " sha256=" + good + " ", body, key, true},
      {"one digit changed", "sha256=" + flipped, body, key, false},
      {"body changed by one byte", "sha256=" + good, "Hello, World?", key, false},
      {"re-serialised body (trailing newline)", "sha256=" + good, body + "\n", key, false},
      {"wrong key", "sha256=" + good, body, "It's a secret to everybody", false},
      {"missing header", "", body, key, false},
      {"sha1 only", "sha1=0123456789abcdef0123456789abcdef01234567", body, key, false},
      {"no prefix", good, body, key, false},
      {"wrong prefix", "sha512=" + good, body, key, false},
      {"truncated", "sha256=" + good.substr(0, 63), body, key, false},
      {"too long", "sha256=" + good + "0", body, key, false},
      {"non-hex", "sha256=" + good.substr(0, 63) + "g", body, key, false},
      {"non-ASCII byte", "sha256=" + good.substr(0, 63) + "\xC3", body, key, false},
      {"empty secret never verifies", "sha256=" + hmac_sha256_hex("", body), body, "", false},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    CHECK(verify_signature(r.body, r.header, r.key) == r.expected);
  }
}

TEST_CASE("subscription handshake (H9)") {
  struct row {
    const char* label;
    const char* mode;
    const char* token;
    std::optional<std::string> expected;
  };
  const row rows[] = {
      {"good", "subscribe", "meatyhamhock", "1158201444"},
      {"wrong token", "subscribe", "wrong", std::nullopt},
      {"unsubscribe", "unsubscribe", "meatyhamhock", std::nullopt},
      {"empty token", "subscribe", "", std::nullopt},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    CHECK(verify_subscription(r.mode, r.token, "1158201444", "meatyhamhock") == r.expected);
  }
  CHECK(verify_subscription("subscribe", "", "1", "") == std::nullopt);  // no token configured: never
}
