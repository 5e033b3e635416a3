#include <doctest/doctest.h>

#include "config/phone.hpp"

#include <algorithm>
#include <string>
#include <vector>

using namespace kentongan;

// vectors.md §I and protocols.md §5.2, plus the forms admins type that libphonenumber alone misreads.
TEST_CASE("phone numbers become E.164") {
  struct row {
    std::string label;
    std::string input;
    std::string e164;
  };
  const row rows[] = {
      {"I1 international", "+6281234567890", "+6281234567890"},
      {"I2 trunk 0", "081234567890", "+6281234567890"},
      {"I3 62 without plus", "6281234567890", "+6281234567890"},
      {"I4 bare national", "81234567890", "+6281234567890"},
      {"I5 dashes", "0812-3456-7890", "+6281234567890"},
      {"I6 (0) after +62", "+62 (0) 812 3456 7890", "+6281234567890"},
      {"I7 short Telkomsel", "+62 812 3456 789", "+628123456789"},
      {"I8 ten digits", "0811234567", "+62811234567"},
      {"I9 IM3 long", "+62855123456789", "+62855123456789"},
      {"I10 IM3", "+6285712345678", "+6285712345678"},
      {"I11 XL spaces", "0819 1234 5678", "+6281912345678"},
      {"I12 Smartfren", "08881234567", "+628881234567"},
      {"I13 Hutchison", "+6289512345678", "+6289512345678"},
      {"I14 Jakarta landline", "0215551234", "+62215551234"},
      {"I18 IDD 008", "00862811234567", "+62811234567"},
      {"+62 then trunk 0", "+62 0812-3456-7890", "+6281234567890"},
      {"62 then trunk 0", "62 0812 3456 7890", "+6281234567890"},
      {"IDD 00 (libphonenumber reads it as national)", "0062812345678", "+62812345678"},
      {"IDD 00 long", "006281234567890", "+6281234567890"},
      {"62 21 is Jakarta, not 0622", "62215551234", "+62215551234"},
      {"dots and parentheses", "(0812) 3456.7890", "+6281234567890"},
      {"surrounding spaces", "  0812 3456 7890 ", "+6281234567890"},
      {"Padang landline", "0751 7051234", "+627517051234"},
      {"US number kept", "+1 202 555 0123", "+12025550123"},
      {"UK mobile kept", "+44 7911 123456", "+447911123456"},
      {"foreign via 00", "0044 7911 123456", "+447911123456"},
      {"Malaysia mobile", "+60 12-345 6789", "+60123456789"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    CAPTURE(r.input);
    const auto got = config::normalise_phone(r.input);
    CHECK(got.error == "");
    CHECK(got.e164 == r.e164);
  }
}

TEST_CASE("invalid phone numbers say what is wrong") {
  struct row {
    std::string label;
    std::string input;
    std::string error;
  };
  const row rows[] = {
      {"empty", "", "empty"},
      {"blank", "   ", "empty"},
      {"mobile a digit short", "08123456", "too short for a mobile number"},
      {"mobile a digit too long", "08123456789012", "too long for a mobile number"},
      {"far too short", "0812", "too short"},
      {"half a mobile", "0812-34", "too short for a mobile number"},
      {"too long", "0812345678901234", "too long"},
      {"letters", "0812abc4567", "contains letters"},
      {"vanity", "0800-KENTONGAN", "contains letters"},
      {"hash", "0812#3456", "contains '#'"},
      {"plus in the middle", "0812+3456", "contains '+'"},
      {"only punctuation", "--", "has no digits"},
      {"non-ASCII", "0812\xE2\x80\x93" "3456", "contains a character that is not a digit"},
      {"unknown country code", "+999 1234 5678", "unknown country code"},
      {"unallocated prefix", "0912345678901", "not a number in use in ID"},
      {"huge", "123456789012345678901234", "too long"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    CAPTURE(r.input);
    const auto got = config::normalise_phone(r.input);
    CHECK(got.e164 == "");
    CHECK(got.error == r.error);
    CHECK_FALSE(got.ok());
  }
}

TEST_CASE("number types and regions") {
  CHECK(config::normalise_phone("0751 7051234").fixed_line);
  CHECK_FALSE(config::normalise_phone("0812-3456-7890").fixed_line);
  // I21: a national number needs a default region; an international one does not.
  CHECK(config::normalise_phone("081234567890", "").error == "has no country code and no default region is set");
  CHECK(config::normalise_phone("+6281234567890", "").e164 == "+6281234567890");
  CHECK(config::normalise_phone("0123456789", "MY").e164 == "+60123456789");
  CHECK(config::is_known_region("ID"));
  CHECK_FALSE(config::is_known_region("XX"));
  CHECK_FALSE(config::is_known_region("IDN"));
}

TEST_CASE("mobile operators by prefix (libphonenumber carrier data, protocols.md 5.1)") {
  struct row {
    std::string label;
    std::string input;
    std::string expected;
  };
  const row rows[] = {
      {"I1 Telkomsel 0812", "+6281234567890", "telkomsel"},
      {"I8 Telkomsel 0811", "+62811234567", "telkomsel"},
      {"Telkomsel 0813", "+6281312345678", "telkomsel"},
      {"Telkomsel 0821", "+6282112345678", "telkomsel"},
      {"Telkomsel 0823", "+6282312345678", "telkomsel"},
      {"Telkomsel 0851", "+6285112345678", "telkomsel"},
      {"Telkomsel 0853", "+6285312345678", "telkomsel"},
      {"Indosat 0814", "+6281412345678", "indosat"},
      {"Indosat 0816", "+6281612345678", "indosat"},
      {"I9 IM3 0855", "+62855123456789", "indosat"},
      {"I10 IM3 0857", "+6285712345678", "indosat"},
      {"Indosat 0858", "+6285812345678", "indosat"},
      {"XL 0817", "+6281712345678", "xl"},
      {"I11 XL 0819", "+6281912345678", "xl"},
      {"XL 0859", "+6285912345678", "xl"},
      {"XL 0877", "+6287712345678", "xl"},
      {"XL 0878", "+6287812345678", "xl"},
      {"Axis 0831", "+6283112345678", "axis"},
      {"Axis 0833", "+6283312345678", "axis"},
      {"Axis 0838", "+6283812345678", "axis"},
      {"I13 Hutchison 0895", "+6289512345678", "tri"},
      {"Tri 0899", "+6289912345678", "tri"},
      {"Smartfren 0881", "+6288112345678", "smartfren"},
      {"I12 Smartfren 0888", "+628881234567", "smartfren"},
      {"Smartfren 0889", "+6288912345678", "smartfren"},
      {"no operator 0820", "+6282012345678", ""},
      {"no operator 0834", "+6283412345678", ""},
      {"no operator 0854", "+6285412345678", ""},
      {"no operator 0890", "+6289012345678", ""},
      {"fixed line Jakarta", "+62215551234", ""},
      {"foreign mobile", "+60123456789", ""},
      {"not E.164", "081234567890", ""},
      {"too short", "+628", ""},
      {"empty", "", ""},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    const auto got = config::mobile_operator(r.input);
    CHECK(std::string(got) == r.expected);
    if (!got.empty()) {
      const auto& names = config::known_operators();
      CHECK(std::find(names.begin(), names.end(), std::string(got)) != names.end());
    }
  }
}

// normalise_phone answers Indonesian mobiles without libphonenumber's parser; it must agree with the
// full path on every input, whichever of the two answers it.
TEST_CASE("the fast path for Indonesian mobiles gives libphonenumber's answers") {
  struct row {
    std::string label;
    std::string input;
    std::string region;
  };
  std::vector<row> rows = {
      {"canonical", "+6281234567890", "ID"},     {"62 form", "6281234567890", "ID"},
      {"trunk 0", "081234567890", "ID"},         {"other region, plus", "+6281234567890", "MY"},
      {"other region, 62", "6281234567890", "MY"}, {"other region, trunk 0", "081234567890", "MY"},
      {"no region, plus", "+6281234567890", ""},  {"no region, 62", "6281234567890", ""},
      {"landline", "0215551234", "ID"},          {"62 landline", "62215551234", "ID"},
      {"too short", "0812345", "ID"},            {"too long", "+628123456789012", "ID"},
      {"unused prefix", "+6280012345678", "ID"}, {"084 prefix", "08412345678", "ID"},
      {"+62 0", "+62 0812-3456-7890", "ID"},     {"Malaysia", "+60123456789", "ID"},
      {"Singapore", "+6591234567", "ID"},        {"USA", "+12025550123", "ID"},
      {"IDD", "00862811234567", "ID"},           {"00 IDD", "006281234567890", "ID"},
      {"spaces", " 0812 3456 7890 ", "ID"},      {"just 8", "8", "ID"},
      {"just 628", "628", "ID"},                 {"just 08", "08", "ID"},
  };
  // Every three-digit mobile-looking prefix, every national length around the valid ones, in each spelling.
  const std::string tail = "7319046285173";
  for (int prefix = 800; prefix <= 899; ++prefix)
    for (std::size_t length = 7; length <= 14; ++length) {
      const std::string national = std::to_string(prefix) + tail.substr(0, length - 3);
      for (const char* form : {"+62", "62", "0", "+62 ", ""})
        for (const char* region : {"ID", "MY"})
          rows.push_back({std::string(form) + "|" + region, form + national, region});
    }
  for (const auto& r : rows) {
    CAPTURE(r.label);
    CAPTURE(r.input);
    CAPTURE(r.region);
    const auto fast = config::normalise_phone(r.input, r.region);
    const auto full = config::normalise_phone_without_fast_path(r.input, r.region);
    CHECK(fast.e164 == full.e164);
    CHECK(fast.error == full.error);
    CHECK(fast.fixed_line == full.fixed_line);
    // Asked again (now from normalise_phone's per-thread memo) the answer is the same; and a number's
    // own E.164 normalises to itself with the same type, which is why the memo keeps that spelling too.
    const auto again = config::normalise_phone(r.input, r.region);
    CHECK(again.e164 == fast.e164);
    CHECK(again.error == fast.error);
    CHECK(again.fixed_line == fast.fixed_line);
    if (full.ok()) {
      const auto canonical = config::normalise_phone_without_fast_path(full.e164, r.region);
      CHECK(canonical.e164 == full.e164);
      CHECK(canonical.fixed_line == full.fixed_line);
    }
  }
}
