#include "intake/poll.hpp"

#include "intake/text.hpp"

#include <algorithm>
#include <array>

namespace kentongan::intake {
namespace {

// Keypads make a dozen options impractical; beyond this a number is not a vote.
constexpr std::size_t max_number_digits = 3;

std::string_view trim(std::string_view s, std::string_view chars) {
  const auto first = s.find_first_not_of(chars);
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(chars);
  return s.substr(first, last - first + 1);
}

// A reply or an option reduced to folded words without punctuation.
std::string canonical(std::string_view text) {
  const std::string folded = fold_case(normalise_text(text));
  std::string out;
  bool pending_space = false;
  for (char c : folded) {
    if (is_word_byte(c)) {
      if (pending_space && !out.empty()) out.push_back(' ');
      pending_space = false;
      out.push_back(c);
    } else {
      pending_space = true;
    }
  }
  return out;
}

std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    const auto space = s.find(' ');
    out.push_back(s.substr(0, space));
    if (space == std::string_view::npos) break;
    s.remove_prefix(space + 1);
  }
  return out;
}

constexpr std::array<std::string_view, 5> vote_words{"pilih", "pilihan", "opsi", "nomor", "no"};
constexpr std::array<std::string_view, 10> number_words{"satu", "dua",   "tiga",     "empat",    "lima",
                                                        "enam", "tujuh", "delapan", "sembilan", "sepuluh"};

std::optional<int> in_range(std::size_t n, std::size_t count) {
  if (n < 1 || n > count) return std::nullopt;
  return static_cast<int>(n);
}

}  // namespace

std::optional<int> parse_vote(std::string_view text, const std::vector<std::string>& options) {
  if (options.empty()) return std::nullopt;
  std::string reply = canonical(text);
  if (const auto w = words(reply); w.size() >= 2 && std::find(vote_words.begin(), vote_words.end(), w[0]) != vote_words.end())
    reply = reply.substr(w[0].size() + 1);
  if (reply.empty()) return std::nullopt;

  const std::string_view r = trim(reply, " ");
  if (r.size() <= max_number_digits && std::all_of(r.begin(), r.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    std::size_t n = 0;
    for (char c : r) n = n * 10 + static_cast<std::size_t>(c - '0');
    return in_range(n, options.size());
  }

  std::vector<std::string> canon;
  canon.reserve(options.size());
  for (const auto& o : options) canon.push_back(canonical(o));

  // The whole option text, when exactly one option has it.
  std::optional<int> found;
  for (std::size_t i = 0; i < canon.size(); ++i) {
    if (canon[i] != r) continue;
    if (found) return std::nullopt;
    found = static_cast<int>(i + 1);
  }
  if (found) return found;

  // One word that only one option contains ("sabtu" for "Sabtu pagi").
  if (r.find(' ') == std::string_view::npos) {
    for (std::size_t i = 0; i < canon.size(); ++i) {
      const auto w = words(canon[i]);
      if (std::find(w.begin(), w.end(), r) == w.end()) continue;
      if (found) {
        found.reset();
        break;
      }
      found = static_cast<int>(i + 1);
    }
    if (found) return found;
    const auto number = std::find(number_words.begin(), number_words.end(), r);
    if (number != number_words.end())
      return in_range(static_cast<std::size_t>(number - number_words.begin()) + 1, options.size());
  }
  return std::nullopt;
}

}  // namespace kentongan::intake
