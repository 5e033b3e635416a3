// Request bodies for POST /{version}/{phone_number_id}/messages (vectors.md H.1).
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "protocol/whatsapp/message.hpp"

using namespace kentongan::whatsapp;
using nlohmann::json;

TEST_CASE("text body (H1 shape)") {
  const auto body = json::parse(text_body("+6281234567890", "Rapat petani kakao besok jam 9."));
  CHECK(body == json::parse(R"({"messaging_product":"whatsapp","recipient_type":"individual","to":"6281234567890",
      "type":"text","text":{"preview_url":false,"body":"Rapat petani kakao besok jam 9."}})"));
}

TEST_CASE("template body (H3 shape)") {
  const auto body = json::parse(template_body("+6281234567890", "pengumuman_kim", "id", {"Harga kakao Rp 70.000/kg"}));
  CHECK(body == json::parse(R"({"messaging_product":"whatsapp","recipient_type":"individual","to":"6281234567890",
      "type":"template","template":{"name":"pengumuman_kim","language":{"policy":"deterministic","code":"id"},
      "components":[{"type":"body","parameters":[{"type":"text","text":"Harga kakao Rp 70.000/kg"}]}]}})"));
  const auto bare = json::parse(template_body("6281234567890", "hello_world", "en_US", {}));
  CHECK_FALSE(bare["template"].contains("components"));
}

TEST_CASE("template parameters hold no newlines, tabs or long space runs") {
  struct row {
    const char* label;
    const char* in;
    const char* out;
  };
  const row rows[] = {{"plain", "Rapat besok", "Rapat besok"},
                      {"newlines", "Rapat\nbesok\r\njam 9", "Rapat besok jam 9"},
                      {"tabs and runs", "a\t\tb     c", "a b c"},
                      {"edges", "  a  ", "a"}};
  for (const auto& r : rows) {
    CAPTURE(r.label);
    CHECK(template_parameter(r.in) == r.out);
  }
}

TEST_CASE("wamid from the success answer (H2)") {
  CHECK(sent_message_id(R"({"messaging_product":"whatsapp","contacts":[{"input":"16505555555","wa_id":"16505555555"}],"messages":[{"id":"wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"}]})") ==
        "wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA");
  CHECK(sent_message_id(R"({"messages":[{"id":"wamid.X","message_status":"accepted"}]})") == "wamid.X");
  CHECK_FALSE(sent_message_id(R"({"messages":[]})"));
  CHECK_FALSE(sent_message_id("not json"));
  CHECK_FALSE(sent_message_id(R"({"messages":[{"id":""}]})"));
}

TEST_CASE("invalid UTF-8 never throws") {
  CHECK_NOTHROW((void)text_body("+62812", "bad \xC3 byte"));
  CHECK(utf8_length("Ä🌾a") == 3);
}
