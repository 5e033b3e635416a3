#include "protocol/http/codec.hpp"

namespace kentongan::http {

namespace {

constexpr std::string_view hex_upper = "0123456789ABCDEF";

bool unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

bool name_char(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'; }

// A placeholder candidate at pattern[i] == '{': its inner text when it looks like {word} or
// {secret:word}, else nullopt (a literal brace, as in a JSON template).
std::optional<std::string_view> placeholder_at(std::string_view pattern, std::size_t i) {
  const auto close = pattern.find('}', i + 1);
  if (close == std::string_view::npos || close == i + 1) return std::nullopt;
  const std::string_view inner = pattern.substr(i + 1, close - i - 1);
  std::string_view word = inner;
  if (word.starts_with("secret:")) word.remove_prefix(7);
  if (word.empty()) return std::nullopt;
  for (char c : word)
    if (!name_char(c)) return std::nullopt;
  return inner;
}

}  // namespace

std::string url_encode(std::string_view text) {
  std::string out;
  out.reserve(text.size() * 3);
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (unreserved(c)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(hex_upper[c >> 4]);
      out.push_back(hex_upper[c & 0x0F]);
    }
  }
  return out;
}

std::string url_decode(std::string_view text, bool plus_as_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      const int hi = hex_value(text[i + 1]);
      const int lo = hex_value(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_as_space && c == '+' ? ' ' : c);
  }
  return out;
}

std::map<std::string, std::string> parse_form(std::string_view text) {
  std::map<std::string, std::string> out;
  while (!text.empty()) {
    const auto amp = text.find('&');
    const std::string_view pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view{} : text.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    std::string name = url_decode(pair.substr(0, eq), true);
    if (name.empty()) continue;
    out[std::move(name)] = eq == std::string_view::npos ? std::string{} : url_decode(pair.substr(eq + 1), true);
  }
  return out;
}

std::string format_number(std::string_view e164, number_format format, std::string_view country_code) {
  std::string_view digits = e164;
  if (digits.starts_with('+')) digits.remove_prefix(1);
  switch (format) {
    case number_format::e164:
      return all_digits(digits) ? "+" + std::string(digits) : std::string(e164);
    case number_format::msisdn:
      return std::string(digits);
    case number_format::national:
      // Only numbers of our own country have a national form; others go out as msisdn.
      if (!country_code.empty() && digits.starts_with(country_code) && digits.size() > country_code.size())
        return "0" + std::string(digits.substr(country_code.size()));
      return std::string(digits);
  }
  return std::string(digits);
}

std::string normalise_sender(std::string_view number, std::string_view country_code) {
  std::string_view n = number;
  while (!n.empty() && (n.front() == ' ' || n.front() == '\t')) n.remove_prefix(1);
  while (!n.empty() && (n.back() == ' ' || n.back() == '\t')) n.remove_suffix(1);
  if (n.starts_with('+') && all_digits(n.substr(1))) return std::string(n);
  if (!all_digits(n)) return std::string(number);
  if (n.starts_with("00") && n.size() > 4) return "+" + std::string(n.substr(2));
  if (n.starts_with('0') && n.size() > 1 && !country_code.empty()) return "+" + std::string(country_code) + std::string(n.substr(1));
  if (!country_code.empty() && n.starts_with(country_code)) return "+" + std::string(n);
  return std::string(number);
}

expansion expand(std::string_view pattern, const placeholder_values& values, escaping how) {
  expansion out;
  out.text.reserve(pattern.size() + values.text.size());
  const auto put = [&](std::string_view v) { out.text += how == escaping::url ? url_encode(v) : std::string(v); };
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '{' && i + 1 < pattern.size() && pattern[i + 1] == '{') {
      out.text.push_back(c);
      ++i;
      continue;
    }
    if (c != '{') {
      out.text.push_back(c);
      continue;
    }
    const auto inner = placeholder_at(pattern, i);
    if (!inner) {
      out.text.push_back(c);
      continue;
    }
    if (*inner == "to") put(values.to);
    else if (*inner == "text") put(values.text);
    else if (*inner == "id") put(values.id);
    else if (*inner == "from") put(values.from);
    else if (*inner == "callback_secret") put(values.callback_secret);
    else if (inner->starts_with("secret:")) {
      const std::string key(inner->substr(7));
      const std::string* secret = nullptr;
      if (values.secrets != nullptr)
        if (const auto it = values.secrets->find(key); it != values.secrets->end()) secret = &it->second;
      if (secret == nullptr) {
        out.error = "no secret named \"" + key + "\" for {secret:" + key + "}";
        return out;
      }
      put(*secret);
    } else {
      out.error = "unknown placeholder {" + std::string(*inner) + "} (known: {to} {text} {id} {from} {callback_secret} {secret:NAME})";
      return out;
    }
    i += inner->size() + 1;
  }
  out.ok = true;
  return out;
}

expansion check_placeholders(std::string_view pattern, const std::map<std::string, std::string>& secrets) {
  placeholder_values v;
  v.secrets = &secrets;
  auto e = expand(pattern, v, escaping::none);
  e.text.clear();
  return e;
}

}  // namespace kentongan::http
