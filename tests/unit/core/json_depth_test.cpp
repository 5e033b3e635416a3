#include <doctest/doctest.h>

#include <string>

#include "core/json_depth.hpp"

using kentongan::core::json_nesting_exceeds;

TEST_CASE("JSON nesting is measured outside strings") {
  struct row {
    const char* label;
    std::string text;
    std::size_t limit;
    bool exceeds;
  };
  const row rows[] = {
      {"empty", "", 2, false},
      {"flat object", R"({"a":1,"b":[1,2]})", 2, false},
      {"exactly the limit", "[[[]]]", 3, false},
      {"one past the limit", "[[[[]]]]", 3, true},
      {"brackets inside strings do not count", R"({"t":"[[[[[[{{{{"})", 2, false},
      {"escaped quote keeps the string open", R"({"t":"\"[[[[[["})", 2, false},
      {"escaped backslash closes before the bracket", R"(["\\",[[[]]]])", 3, true},
      {"siblings do not add up", "[[],[],[],[]]", 2, false},
      {"unbalanced closers are ignored", "]]]][[", 2, false},
      {"hostile depth", std::string(400000, '['), 64, true},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    CHECK(json_nesting_exceeds(r.text, r.limit) == r.exceeds);
  }
}
