#pragma once
/// Tags for an aspiration: its #hashtags (folded to lower case) and the tag rules whose words
/// occur on word boundaries, case-insensitively, affixed Indonesian forms included.

#include "intake/settings.hpp"

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace kentongan::intake {

/// The tag given when nothing else matches.
inline constexpr std::string_view fallback_tag = "lainnya";

/// Hashtags first in order of appearance, then rule tags in rule order; no duplicates;
/// {"lainnya"} when none. A word matches its rule word after removing the suffixes -lah -kah
/// -pun, -nya -ku -mu, -kan -an -i and the prefixes di- ke- se- ter- ber- per- me(N)- pe(N)-
/// (with the nasal's dropped consonant restored: menulis → tulis), and reduplication (jalan2,
/// jalan-jalan). Rule words may be phrases ("air bersih"): consecutive words.
std::vector<std::string> tag(std::string_view text, const std::vector<tag_rule>& rules);

/// tag() with the rules prepared once (build one per config load; immutable, so it may be shared
/// between threads).
class tagger {
 public:
  explicit tagger(const std::vector<tag_rule>& rules);
  std::vector<std::string> operator()(std::string_view text) const;

 private:
  struct prepared_rule {
    std::string tag;
    std::vector<std::vector<std::string>> phrases;  ///< folded words of each rule word of two words or more
  };
  struct word_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view w) const noexcept { return std::hash<std::string_view>{}(w); }
  };
  std::vector<prepared_rule> rules_;
  /// Rule words of one word → the rules that have it: a message's word forms are looked up here.
  std::unordered_map<std::string, std::vector<std::size_t>, word_hash, std::equal_to<>> single_words_;
};

/// The base-form candidates tag() compares with rule words, for tests and `check-config`
/// explanations: "jalannya" → {"jalannya", "jalan", …}.
std::vector<std::string> word_forms(std::string_view folded_word);

}  // namespace kentongan::intake
