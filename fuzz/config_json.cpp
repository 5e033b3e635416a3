// libFuzzer target for the config loader and its JSON position index: any text in, no crash, no
// exception; and whenever nlohmann accepts the text, every value it sees has a position.
#include "config/config.hpp"
#include "config/json_index.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

void check(const nlohmann::json& j, const std::string& pointer, const kentongan::config::json_index& index) {
  if (!index.at.count(pointer)) {
    std::fprintf(stderr, "json_index has no position for %s\n", pointer.c_str());
    std::abort();
  }
  if (j.is_object()) {
    for (const auto& [key, value] : j.items()) check(value, pointer + "/" + kentongan::config::pointer_token(key), index);
  } else if (j.is_array()) {
    for (std::size_t i = 0; i < j.size(); ++i) check(j[i], pointer + "/" + std::to_string(i), index);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto index = kentongan::config::index_json(text);
  const auto parsed = nlohmann::json::parse(text, nullptr, false, /*ignore_comments=*/true);
  if (!parsed.is_discarded()) check(parsed, "", index);
  // Relative CSV and secret paths resolve under a folder that does not exist.
  const auto result = kentongan::config::load_text(text, "/nonexistent-kentongan-fuzz/k.json");
  if (result.config.has_value() != result.errors.empty()) std::abort();
  return 0;
}
