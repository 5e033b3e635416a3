// Webhook parsing against Meta's documented payloads (vectors.md H.2), kept as files in
// fuzz/corpus/whatsapp_webhook/ so that the fuzzer starts from the same examples.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "protocol/whatsapp/webhook.hpp"

using namespace kentongan::whatsapp;

namespace {

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(KENTONGAN_SOURCE_DIR) + "/fuzz/corpus/whatsapp_webhook/" + name, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "missing fixture " << name);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("inbound messages from Meta's examples") {
  struct row {
    const char* label;
    const char* file;
    inbound_message expected;
  };
  const row rows[] = {
      {"H6 text", "h6_text.json",
       {"106540352242922", "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=", "+16505551234",
        "Sheena Nelson", 1749416383, "text", "Does it come in another color?", "", ""}},
      {"template quick-reply button", "button.json",
       {"106540352242922", "wamid.BUTTON1", "+6281234567890", "Pak Rahmat", 1749416500, "button", "Saya hadir", "",
        "wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"}},
      {"interactive list_reply", "interactive_list_reply.json",
       {"106540352242922", "wamid.LIST1", "+6281234567890", "Pak Rahmat", 1749416501, "interactive", "Harga kakao", "",
        "wamid.LISTCTX"}},
      {"interactive button_reply", "interactive_button_reply.json",
       {"106540352242922", "wamid.BTNREPLY1", "+6281234567890", "Pak Rahmat", 1749416502, "interactive", "Ya", "", ""}},
      {"location as a note", "location.json",
       {"106540352242922", "wamid.LOC1", "+6281234567890", "Pak Rahmat", 1749416503, "location",
        "[location] -8.3405389,115.0919509 Jembatan Ekasari Jl. Raya Ekasari", "", ""}},
      {"image as a note with the media id", "image.json",
       {"106540352242922", "wamid.IMG1", "+6281234567890", "Pak Rahmat", 1749416504, "image",
        "[image] id=1479537139650973 Jalan rusak", "1479537139650973", ""}},
      {"unknown type kept as a note", "unknown_type.json",
       {"106540352242922", "wamid.UNK1", "+6281234567890", "Pak Rahmat", 1749416505, "unknown",
        "[unknown] (#131051) Unsupported message type", "", ""}},
      {"\\u escapes decode to UTF-8", "text_non_ascii.json",
       {"106540352242922", "wamid.TXT2", "+6281234567890", "Bu Wayan \xC3\x89", 1749416506, "text",
        "Harga kakao naik? \xC3\xA4\xC3\xB6\xC3\xA5 \xF0\x9F\x8C\xBE", "", ""}},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    const auto w = parse_webhook(fixture(r.file));
    REQUIRE_MESSAGE(w.ok, w.reason);
    REQUIRE(w.value.messages.size() == 1);
    CHECK(w.value.statuses.empty());
    CHECK(w.value.skipped.empty());
    const auto& m = w.value.messages[0];
    CHECK(m.phone_number_id == r.expected.phone_number_id);
    CHECK(m.wamid == r.expected.wamid);
    CHECK(m.from == r.expected.from);
    CHECK(m.profile_name == r.expected.profile_name);
    CHECK(m.timestamp == r.expected.timestamp);
    CHECK(m.type == r.expected.type);
    CHECK(m.text == r.expected.text);
    CHECK(m.media_id == r.expected.media_id);
    CHECK(m.context_id == r.expected.context_id);
  }
}

TEST_CASE("status updates") {
  struct expected_status {
    std::string wamid;
    status_kind status;
    std::string recipient;
    std::int64_t timestamp;
    int error_code;
    std::string error_title;
    std::string pricing_model;
  };
  struct row {
    const char* label;
    const char* file;
    std::vector<expected_status> expected;
  };
  const row rows[] = {
      {"H7 sent",
       "h7_status_sent.json",
       {{"wamid.HBgMOTIzMDM2NTQ3MTg4FQIAERgSODRBNEVBMDAwRDlBNThCNUJGAA==", status_kind::sent, "+923036547188", 1668595349, 0,
         "", "CBP"}}},
      {"delivered then read",
       "status_delivered_read.json",
       {{"wamid.HBgNNjI4MTIzNDU2Nzg5MBUCABEYEjA1", status_kind::delivered, "+6281234567890", 1749416401, 0, "", "PMP"},
        {"wamid.HBgNNjI4MTIzNDU2Nzg5MBUCABEYEjA1", status_kind::read, "+6281234567890", 1749416460, 0, "", ""}}},
      {"H8 failed, Cloud API shape",
       "h8_failed_131047.json",
       {{"wamid.HBgNNjI4MTIzNDU2Nzg5MBUCABEYEjA0", status_kind::failed, "+6281234567890", 1749416400, 131047,
         "Re-engagement message", ""}}},
      {"H8 failed, legacy shape (extra and missing fields)",
       "h8_failed_legacy.json",
       {{"gBGGFlAwCWFvAgkyHMGKnRu4JeA", status_kind::failed, "91xxxxxxxxxx", 1670394125, 1026, "Receiver Incapable", ""}}},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    const auto w = parse_webhook(fixture(r.file));
    REQUIRE_MESSAGE(w.ok, w.reason);
    CHECK(w.value.messages.empty());
    REQUIRE(w.value.statuses.size() == r.expected.size());
    for (std::size_t i = 0; i < r.expected.size(); ++i) {
      CAPTURE(i);
      const auto& s = w.value.statuses[i];
      const auto& e = r.expected[i];
      CHECK(s.wamid == e.wamid);
      CHECK(s.status == e.status);
      CHECK(s.recipient == e.recipient);
      CHECK(s.timestamp == e.timestamp);
      CHECK(s.pricing_model == e.pricing_model);
      if (e.error_code == 0) {
        CHECK(s.errors.empty());
      } else {
        REQUIRE(s.errors.size() == 1);
        CHECK(s.errors[0].code == e.error_code);
        CHECK(s.errors[0].title == e.error_title);
      }
    }
  }
  const auto failed = parse_webhook(fixture("h8_failed_131047.json"));
  REQUIRE(failed.ok);
  CHECK(failed.value.statuses[0].errors[0].details.starts_with("Message failed to send because more than 24 hours"));
  const auto sent = parse_webhook(fixture("h7_status_sent.json"));
  CHECK(sent.value.statuses[0].phone_number_id == "107287895522530");
  CHECK(sent.value.statuses[0].pricing_category == "user_initiated");
  CHECK(sent.value.statuses[0].billable);
}

TEST_CASE("batches: every entry and change; other fields ignored") {
  const auto w = parse_webhook(fixture("batch_two_entries.json"));
  REQUIRE_MESSAGE(w.ok, w.reason);
  REQUIRE(w.value.messages.size() == 2);
  CHECK(w.value.messages[0].text == "satu");
  CHECK(w.value.messages[0].profile_name == "A");
  CHECK(w.value.messages[1].from == "+6282222222222");
  CHECK(w.value.skipped.empty());
}

TEST_CASE("malformed bodies are values with a reason") {
  struct row {
    const char* label;
    std::string body;
    const char* reason_starts;
  };
  const row rows[] = {
      {"empty", "", "malformed JSON"},
      {"truncated", R"({"object":"whatsapp_business_account","entry":[)", "malformed JSON: parse error"},
      {"array", "[1,2]", "not a JSON object"},
      {"no object field", R"({"entry":[]})", "no \"object\" field"},
      {"other product", R"({"object":"page","entry":[]})", "object is \"page\""},
      {"entry not an array", R"({"object":"whatsapp_business_account","entry":{}})", "no \"entry\" array"},
      {"too large", std::string(max_webhook_bytes + 1, ' '), "body larger than"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    const auto w = parse_webhook(r.body);
    CHECK_FALSE(w.ok);
    CAPTURE(w.reason);
    CHECK(w.reason.starts_with(r.reason_starts));
  }
}

TEST_CASE("items without their keys are skipped with a reason, the rest is kept") {
  const std::string body =
      R"({"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":[)"
      R"({"from":"628123","type":"text","text":{"body":"no id"}},7,)"
      R"({"from":"628124","id":"wamid.OK","timestamp":"not-a-number","type":"text","text":{"body":"ok"},"new_field":{"x":1}}],)"
      R"("statuses":[{"status":"read"}]}}]}, {"id":"no changes"}]})";
  const auto w = parse_webhook(body);
  REQUIRE_MESSAGE(w.ok, w.reason);
  REQUIRE(w.value.messages.size() == 1);
  CHECK(w.value.messages[0].wamid == "wamid.OK");
  CHECK(w.value.messages[0].timestamp == 0);
  CHECK(w.value.messages[0].profile_name.empty());
  CHECK(w.value.statuses.empty());
  CHECK(w.value.skipped == std::vector<std::string>{"message without id or from", "message is not an object",
                                                    "status without id or status", "entry without changes"});
}

TEST_CASE("wa_id normalisation") {
  CHECK(normalise_wa_id("6281234567890") == "+6281234567890");
  CHECK(normalise_wa_id("+6281234567890") == "+6281234567890");
  CHECK(normalise_wa_id("91xxxxxxxxxx") == "91xxxxxxxxxx");
  CHECK(normalise_wa_id("") == "");
}
