#include <doctest/doctest.h>

#include "config/config.hpp"
#include "tests/unit/config/config_test_support.hpp"

#include <string>

using namespace kentongan;

namespace {

using config_test::messages;

}  // namespace

// A lone value where a list belongs ("groups": "petani") is the admin's commonest slip: each
// list-typed key refuses it, says what the list holds and shows the value inside the brackets it needs.
TEST_CASE("list-typed keys refuse a single value with the list they expected") {
  struct row {
    std::string label;
    std::string input;
    std::string expected;
  };
  const std::string head = R"x({"village": {"name": "X"}, "groups": [{"id": "petani"}],
)x";
  const row rows[] = {
      {"subscriber groups as a string", head + R"x( "subscribers": [{"phone": "0812-3456-7890", "groups": "petani"}]})x",
       R"x(k.json:2:56: subscribers[0].groups: expected a list of group names, like ["petani"], found "petani")x"},
      {"subscriber groups as a number", head + R"x( "subscribers": [{"phone": "0812-3456-7890", "groups": 3}]})x",
       R"x(k.json:2:56: subscribers[0].groups: expected a list of group names, like ["petani"], found 3)x"},
      {"subscriber groups as an object", head + R"x( "subscribers": [{"phone": "0812-3456-7890", "groups": {"petani": true}}]})x",
       R"x(k.json:2:56: subscribers[0].groups: expected a list of group names, like ["petani"], found an object)x"},
      {"officer groups as a string",
       head + R"x( "officers": [{"phone": "0812-3456-7890", "name": "Pak Kadus", "groups": "petani"}]})x",
       R"x(k.json:2:74: officers[0].groups: expected a list of group names, like ["petani"], found "petani")x"},
      {"officer tags as a string",
       head + R"x( "tags": {"air": ["sumur"]},
 "officers": [{"phone": "0812-3456-7890", "name": "Pak Kadus", "tags": "air"}]})x",
       R"x(k.json:3:72: officers[0].tags: expected a list of tags, like ["air"], found "air")x"},
      {"tag words as a string", head + R"x( "tags": {"air": "sumur"}})x",
       R"x(k.json:2:18: tags.air: expected a list of words, like ["sumur"], found "sumur")x"},
      {"groups as a string", R"x({"village": {"name": "X"}, "groups": "petani"})x",
       R"x(k.json:1:38: groups: expected a list of groups, like ["petani"], found "petani")x"},
      {"groups as an object", R"x({"village": {"name": "X"}, "groups": {"id": "petani"}})x",
       R"x(k.json:1:38: groups: expected a list of groups, like [{"id": "petani"}], found an object)x"},
      {"subscribers as an object", head + R"x( "subscribers": {"phone": "0812-3456-7890"}})x",
       R"x(k.json:2:17: subscribers: expected a list of subscribers, like [{"phone": "0812-3456-7890", "groups": ["petani"]}], found an object)x"},
      {"officers as an object", head + R"x( "officers": {"phone": "0812-3456-7890", "name": "Pak Kadus"}})x",
       R"x(k.json:2:14: officers: expected a list of officers, like [{"phone": "0812-3456-7890", "name": "Pak Kadus", "tags": ["*"]}], found an object)x"},
      {"channels as an object", R"x({"village": {"name": "X"}, "channels": {"name": "sim", "type": "sim"}})x",
       R"x(k.json:1:40: channels: expected a list of channels, like [{"name": "sim", "type": "sim"}], found an object)x"},
      {"modem operators as a string",
       R"x({"village": {"name": "X"},
 "channels": [{"name": "m", "type": "modem", "device": "/dev/ttyUSB0", "operators": "telkomsel"}]})x",
       R"x(k.json:2:85: channels[0].operators: expected a list of operators or number prefixes, like ["telkomsel"], found "telkomsel")x"},
      {"holidays as a string", R"x({"village": {"name": "X", "holidays": "2026-12-25"}})x",
       R"x(k.json:1:39: village.holidays: expected a list of dates, like ["2026-12-25"], found "2026-12-25")x"},
      {"null is not a list", head + R"x( "subscribers": [{"phone": "0812-3456-7890", "groups": null}]})x",
       R"x(k.json:2:56: subscribers[0].groups: expected a list of group names, like ["petani"], found null)x"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    const auto got = config::load_text(r.input, "k.json");
    CHECK(messages(got) == r.expected);
    CHECK_FALSE(got.config.has_value());
  }
}

TEST_CASE("lists written as lists still load") {
  const auto r = config::load_text(R"x({"village": {"name": "X"}, "groups": [{"id": "petani"}, {"id": "nelayan"}],
 "tags": {"air": ["sumur"]},
 "subscribers": [{"phone": "0812-3456-7890", "groups": ["petani", "nelayan"]}, {"phone": "0812-3456-7891", "groups": []}],
 "officers": [{"phone": "0812-3456-7892", "name": "Pak Kadus", "tags": ["air"], "groups": ["petani"]}]})x",
                                   "k.json");
  REQUIRE(messages(r) == "");
  REQUIRE(r.config);
  CHECK(r.config->subscribers.at(0).groups == std::vector<std::string>{"petani", "nelayan"});
  CHECK(r.config->subscribers.at(1).groups.empty());
  CHECK(r.config->officers.at(0).groups == std::vector<std::string>{"petani"});
}
