#include "intake/tagging.hpp"

#include "intake/text.hpp"

#include <algorithm>
#include <array>

namespace kentongan::intake {
namespace {

// Shorter remainders are mostly accidents ("ikan" - "kan" = "i"); rule words that short still
// match exactly.
constexpr std::size_t min_stem = 3;
constexpr std::size_t max_hashtag = 50;

void add(std::vector<std::string>& v, std::string_view s) {
  if (std::find(v.begin(), v.end(), s) == v.end()) v.emplace_back(s);
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool is_vowel(char c) { return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u'; }

bool is_letter(char c) { return (c >= 'a' && c <= 'z') || static_cast<unsigned char>(c) >= 0x80; }

// Indonesian suffixes stack as base + derivational + possessive + particle
// ("perbaikannya" = per-baik-an-nya); peel them outermost first.
std::vector<std::string> strip_suffixes(std::string_view word) {
  static constexpr std::array<std::array<std::string_view, 4>, 3> classes{{
      {"lah", "kah", "pun", "tah"},
      {"nya", "ku", "mu", ""},
      {"kan", "an", "i", ""},
  }};
  std::vector<std::string> forms{std::string(word)};
  for (const auto& suffixes : classes) {
    const std::size_t n = forms.size();
    for (std::size_t i = 0; i < n; ++i) {
      for (const auto suffix : suffixes) {
        const std::string current = forms[i];
        if (!suffix.empty() && ends_with(current, suffix) && current.size() - suffix.size() >= min_stem)
          add(forms, std::string_view(current).substr(0, current.size() - suffix.size()));
      }
    }
  }
  return forms;
}

// One layer of prefixes. meN-/peN- drop the first consonant of the base before a vowel
// (tulis → menulis, pukul → memukul, sapu → menyapu, kirim → mengirim): restore it.
void strip_prefix_layer(std::string_view word, std::vector<std::string>& out) {
  static constexpr std::array<std::string_view, 8> plain{"di", "ke", "se", "ter", "ber", "be", "per", "pe"};
  struct nasal {
    std::string_view prefix;
    std::string_view dropped;
  };
  static constexpr std::array<nasal, 9> nasals{{{"meng", "k"}, {"peng", "k"}, {"meny", "s"}, {"peny", "s"}, {"mem", "p"},
                                                {"pem", "p"}, {"men", "t"}, {"pen", "t"}, {"me", ""}}};
  for (const auto p : plain)
    if (word.size() >= p.size() + min_stem && word.substr(0, p.size()) == p) add(out, word.substr(p.size()));
  for (const auto& [prefix, dropped] : nasals) {
    if (word.size() < prefix.size() + min_stem || word.substr(0, prefix.size()) != prefix) continue;
    const std::string_view rest = word.substr(prefix.size());
    add(out, rest);
    if (!dropped.empty() && is_vowel(rest.front())) add(out, std::string(dropped) + std::string(rest));
  }
}

void plain_forms(std::string_view word, std::vector<std::string>& out) {
  for (const auto& s : strip_suffixes(word)) {
    add(out, s);
    std::vector<std::string> first;
    strip_prefix_layer(s, first);
    for (const auto& f : first) {
      add(out, f);
      // Two prefixes: di-per-baik-i, mem-per-baik-i, ke-ber-sih-an.
      std::vector<std::string> second;
      strip_prefix_layer(f, second);
      for (const auto& g : second) add(out, g);
    }
  }
}

// A phrase of folded words from a rule word.
std::vector<std::string> phrase_of(std::string_view rule_word) {
  std::vector<std::string> words;
  std::string_view s = rule_word;
  while (!s.empty()) {
    const auto space = s.find(' ');
    if (space != 0) words.emplace_back(s.substr(0, space));
    if (space == std::string_view::npos) break;
    s.remove_prefix(space + 1);
  }
  return words;
}

// Words of folded text: runs of word bytes, joined by inner '-' ("gorong-gorong", "e-ktp").
std::vector<std::string_view> words_of(std::string_view t) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < t.size()) {
    if (!is_word_byte(t[i])) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < t.size() && (is_word_byte(t[j]) || (t[j] == '-' && j + 1 < t.size() && is_word_byte(t[j + 1])))) ++j;
    out.push_back(t.substr(i, j - i));
    i = j;
  }
  return out;
}

std::vector<std::string> hashtags_of(std::string_view t) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t[i] != '#' || (i > 0 && is_word_byte(t[i - 1]))) continue;
    std::size_t j = i + 1;
    while (j < t.size() && (is_word_byte(t[j]) || t[j] == '-' || t[j] == '_')) ++j;
    std::string_view h = t.substr(i + 1, j - i - 1);
    while (!h.empty() && (h.back() == '-' || h.back() == '_')) h.remove_suffix(1);
    // "#2" and "#A0123" style references are not topics; very long runs are noise.
    if (!h.empty() && h.size() <= max_hashtag && std::any_of(h.begin(), h.end(), is_letter)) add(out, h);
    i = j - 1;
  }
  return out;
}

}  // namespace

std::vector<std::string> word_forms(std::string_view word) {
  std::vector<std::string> out;
  plain_forms(word, out);
  // Reduplication: "jalan-jalan", "jalan-jalannya", "sayur-sayuran" — each part counts.
  if (word.find('-') != std::string_view::npos) {
    std::string_view rest = word;
    while (!rest.empty()) {
      const auto dash = rest.find('-');
      if (dash != 0) plain_forms(rest.substr(0, dash), out);
      if (dash == std::string_view::npos) break;
      rest.remove_prefix(dash + 1);
    }
  }
  // Written reduplication: "jalan2" = jalan-jalan, "jalan2nya" = jalan-jalannya.
  const auto two = word.find('2');
  if (two != std::string_view::npos && two >= min_stem &&
      std::all_of(word.begin(), word.begin() + static_cast<std::ptrdiff_t>(two), is_letter) &&
      std::all_of(word.begin() + static_cast<std::ptrdiff_t>(two) + 1, word.end(), is_letter)) {
    const std::string_view base = word.substr(0, two);
    plain_forms(base, out);
    plain_forms(std::string(base) + std::string(word.substr(two + 1)), out);
  }
  return out;
}

tagger::tagger(const std::vector<tag_rule>& rules) {
  rules_.reserve(rules.size());
  for (const auto& r : rules) {
    prepared_rule p{r.tag, {}};
    for (const auto& w : r.words) {
      auto phrase = phrase_of(fold_case(normalise_text(w)));
      if (phrase.size() == 1) {
        auto& rules_with_word = single_words_[phrase.front()];
        if (rules_with_word.empty() || rules_with_word.back() != rules_.size()) rules_with_word.push_back(rules_.size());
      } else if (!phrase.empty()) {
        p.phrases.push_back(std::move(phrase));
      }
    }
    rules_.push_back(std::move(p));
  }
}

std::vector<std::string> tagger::operator()(std::string_view text) const {
  const std::string folded = fold_case(normalise_text(text));
  std::vector<std::string> tags = hashtags_of(folded);

  std::vector<std::vector<std::string>> forms;
  for (const auto w : words_of(folded)) forms.push_back(word_forms(w));
  // Single-word rule words: each form of each word looked up once, whatever the number of rules.
  std::vector<char> word_hit(rules_.size(), 0);
  for (const auto& f : forms)
    for (const auto& form : f)
      if (const auto it = single_words_.find(std::string_view(form)); it != single_words_.end())
        for (const auto rule : it->second) word_hit[rule] = 1;
  const auto has = [&](std::size_t position, const std::string& w) {
    const auto& f = forms[position];
    return std::find(f.begin(), f.end(), w) != f.end();
  };
  const auto matches = [&](const std::vector<std::string>& phrase) {
    for (std::size_t start = 0; start + phrase.size() <= forms.size(); ++start) {
      std::size_t k = 0;
      while (k < phrase.size() && has(start + k, phrase[k])) ++k;
      if (k == phrase.size()) return true;
    }
    return false;
  };

  for (std::size_t i = 0; i < rules_.size(); ++i) {
    const auto& rule = rules_[i];
    if (std::find(tags.begin(), tags.end(), rule.tag) != tags.end()) continue;
    if (word_hit[i] || std::any_of(rule.phrases.begin(), rule.phrases.end(), matches)) tags.push_back(rule.tag);
  }
  if (tags.empty()) tags.emplace_back(fallback_tag);
  return tags;
}

std::vector<std::string> tag(std::string_view text, const std::vector<tag_rule>& rules) { return tagger{rules}(text); }

}  // namespace kentongan::intake
