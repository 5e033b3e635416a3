#include "config/json_index.hpp"

#include <nlohmann/json.hpp>


namespace kentongan::config {
namespace {

class scanner {
 public:
  explicit scanner(std::string_view text) : text_(text) {
    if (text_.starts_with("\xEF\xBB\xBF")) pos_ = 3;
  }

  json_index run() {
    skip_space();
    value("", {});
    return std::move(index_);
  }

 private:
  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }

  void advance() {
    if (at_end()) return;
    const auto c = static_cast<unsigned char>(text_[pos_]);
    ++pos_;
    if (c == '\n') {
      ++line_;
      column_ = 1;
    } else if ((c & 0xC0) != 0x80) {
      // A UTF-8 continuation byte belongs to the character already counted.
      ++column_;
    }
  }

  text_position here() const { return {line_, column_}; }

  void skip_space() {
    while (!at_end() && ok_) {
      const char c = peek();
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        advance();
      } else if (c == '/' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '/') {
        // As nlohmann's lexer: a line comment ends at CR, LF or a NUL byte, and the NUL is consumed
        // with it (what follows on that line is JSON again, and must have its positions).
        while (!at_end() && peek() != '\n' && peek() != '\r' && peek() != '\0') advance();
        if (!at_end() && peek() == '\0') advance();
      } else if (c == '/' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '*') {
        advance();
        advance();
        while (!at_end() && !(peek() == '*' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '/')) advance();
        advance();
        advance();
      } else {
        return;
      }
    }
  }

  // Returns the raw token including its quotes.
  std::string_view string_token() {
    const std::size_t start = pos_;
    advance();  // opening quote
    while (!at_end() && peek() != '"') {
      if (peek() == '\\') advance();
      advance();
    }
    if (at_end()) {
      ok_ = false;
      return {};
    }
    advance();  // closing quote
    return text_.substr(start, pos_ - start);
  }

  void value(const std::string& pointer, text_position key) {
    if (!ok_ || depth_ > 512) {
      ok_ = false;
      return;
    }
    index_.at[pointer] = {key, here()};
    const char c = peek();
    if (c == '{') {
      ++depth_;
      object(pointer);
      --depth_;
    } else if (c == '[') {
      ++depth_;
      array(pointer);
      --depth_;
    } else if (c == '"') {
      string_token();
    } else if (c != '\0') {
      // number, true, false, null
      while (!at_end()) {
        const char d = peek();
        if (d == ',' || d == '}' || d == ']' || d == ' ' || d == '\t' || d == '\n' || d == '\r' || d == '/') break;
        advance();
      }
    } else {
      ok_ = false;
    }
  }

  void object(const std::string& pointer) {
    advance();  // '{'
    std::map<std::string, text_position> seen;
    skip_space();
    if (peek() == '}') {
      advance();
      return;
    }
    while (ok_) {
      skip_space();
      if (peek() != '"') {
        ok_ = false;
        return;
      }
      const text_position key_at = here();
      const std::string_view raw = string_token();
      if (!ok_) return;
      std::string key;
      try {
        key = nlohmann::json::parse(raw).get<std::string>();
      } catch (const nlohmann::json::exception&) {
        ok_ = false;
        return;
      }
      const std::string child = pointer + "/" + pointer_token(key);
      if (auto [it, fresh] = seen.emplace(key, key_at); !fresh)
        index_.duplicates.push_back({child, it->second, key_at});
      skip_space();
      if (peek() != ':') {
        ok_ = false;
        return;
      }
      advance();
      skip_space();
      value(child, key_at);
      skip_space();
      if (peek() == ',') {
        advance();
        continue;
      }
      if (peek() == '}') {
        advance();
        return;
      }
      ok_ = false;
    }
  }

  void array(const std::string& pointer) {
    advance();  // '['
    skip_space();
    if (peek() == ']') {
      advance();
      return;
    }
    for (std::size_t i = 0; ok_; ++i) {
      skip_space();
      value(pointer + "/" + std::to_string(i), {});
      skip_space();
      if (peek() == ',') {
        advance();
        continue;
      }
      if (peek() == ']') {
        advance();
        return;
      }
      ok_ = false;
    }
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  int line_ = 1;
  int column_ = 1;
  int depth_ = 0;
  bool ok_ = true;
  json_index index_;
};

}  // namespace

json_index index_json(std::string_view text) { return scanner(text).run(); }

text_position position_of_byte(std::string_view text, std::size_t offset) {
  text_position p{1, 1};
  std::size_t i = text.starts_with("\xEF\xBB\xBF") ? 3 : 0;
  for (; i < offset && i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++p.line;
      p.column = 1;
    } else if ((c & 0xC0) != 0x80) {
      ++p.column;
    }
  }
  return p;
}

std::string pointer_token(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

}  // namespace kentongan::config
