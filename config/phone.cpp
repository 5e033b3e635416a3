#include "config/phone.hpp"

#include <phonenumbers/phonenumberutil.h>

#include <array>
#include <cstdint>
#include <optional>
#include <unordered_map>

namespace kentongan::config {
namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

struct parsed {
  PhoneNumber number;
  PhoneNumberUtil::ErrorType error = PhoneNumberUtil::NO_PARSING_ERROR;
  bool valid = false;
};

parsed parse(const std::string& text, const std::string& region) {
  const auto& util = *PhoneNumberUtil::GetInstance();
  parsed p;
  p.error = util.Parse(text, region, &p.number);
  p.valid = p.error == PhoneNumberUtil::NO_PARSING_ERROR && util.IsValidNumber(p.number);
  return p;
}

std::string parse_reason(PhoneNumberUtil::ErrorType e) {
  switch (e) {
    case PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR: return "unknown country code";
    case PhoneNumberUtil::TOO_SHORT_AFTER_IDD:
    case PhoneNumberUtil::TOO_SHORT_NSN: return "too short";
    case PhoneNumberUtil::TOO_LONG_NSN: return "too long";
    default: return "not a phone number";
  }
}

std::string reason(const PhoneNumber& n, const std::string& region) {
  const auto& util = *PhoneNumberUtil::GetInstance();
  std::string where;
  util.GetRegionCodeForCountryCode(n.country_code(), &where);
  switch (util.IsPossibleNumberWithReason(n)) {
    case PhoneNumberUtil::TOO_SHORT: return "too short";
    case PhoneNumberUtil::TOO_LONG: return "too long";
    case PhoneNumberUtil::INVALID_LENGTH: return "wrong number of digits";
    case PhoneNumberUtil::INVALID_COUNTRY_CODE: return "unknown country code";
    default: break;
  }
  // A number shaped like the region's mobiles ("8…" in ID) but of the wrong length is far more
  // often a digit too few or too many than a local fixed-line number.
  PhoneNumber example;
  std::string example_nsn, nsn;
  if (util.GetExampleNumberForType(where, PhoneNumberUtil::MOBILE, &example)) {
    util.GetNationalSignificantNumber(example, &example_nsn);
    util.GetNationalSignificantNumber(n, &nsn);
    // libphonenumber keeps the trunk "0" when what follows is too short to be a number.
    if (nsn.size() > 1 && nsn.front() == '0') nsn.erase(0, 1);
    if (!example_nsn.empty() && !nsn.empty() && nsn.front() == example_nsn.front()) {
      switch (util.IsPossibleNumberForTypeWithReason(n, PhoneNumberUtil::MOBILE)) {
        case PhoneNumberUtil::TOO_SHORT: return "too short for a mobile number";
        case PhoneNumberUtil::TOO_LONG: return "too long for a mobile number";
        default: break;
      }
    }
  }
  if (where.empty() || where == "ZZ" || where == "001") where = region;
  return "not a number in use in " + where;
}

/// Indonesian mobiles as networks and phones spell them ("+62812…", "62812…", "0812…"), answered
/// without libphonenumber's parser (a dozen regexes per call, a visible share of the I/O thread at
/// thousands of inbound messages a second). Only when the number is valid per libphonenumber's own
/// metadata, and only for shapes where its parser would read exactly this national number (one that
/// starts with 8: no trunk prefix or leading zero left to strip); anything else takes the full path.
std::optional<phone_result> indonesian_mobile(std::string_view digits, bool plus, std::string_view region) {
  std::string_view national;
  if (plus || region == "ID") {
    if (digits.starts_with("628")) national = digits.substr(2);
    else if (!plus && digits.starts_with("08")) national = digits.substr(1);
  }
  if (national.size() < 9 || national.size() > 13) return std::nullopt;
  std::uint64_t value = 0;
  for (const char c : national) value = value * 10 + static_cast<std::uint64_t>(c - '0');
  const auto& util = *PhoneNumberUtil::GetInstance();
  PhoneNumber n;
  n.set_country_code(62);
  n.set_national_number(value);
  // +62 belongs to one region only, so IsValidNumber is "its type is known": one pass over the
  // metadata's patterns instead of two.
  const auto type = util.GetNumberType(n);
  if (type == PhoneNumberUtil::UNKNOWN) return std::nullopt;
  phone_result r;
  r.e164.reserve(national.size() + 3);
  r.e164 = "+62";
  r.e164 += national;
  r.fixed_line = type == PhoneNumberUtil::FIXED_LINE;
  return r;
}

}  // namespace

bool is_known_region(std::string_view region) {
  const auto& util = *PhoneNumberUtil::GetInstance();
  return region.size() == 2 && util.GetCountryCodeForRegion(std::string(region)) != 0;
}

namespace {

phone_result normalise(std::string_view input, std::string_view default_region, bool fast_path) {
  const std::string_view text = trim(input);
  if (text.empty()) return {.e164 = {}, .error = "empty"};

  // Only what people type between digits; libphonenumber would turn letters into keypad digits.
  std::string digits;
  bool plus = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (is_digit(c)) {
      digits += c;
    } else if (c == '+' && digits.empty() && !plus) {
      plus = true;
    } else if (is_letter(c)) {
      return {.e164 = {}, .error = "contains letters"};
    } else if (c != ' ' && c != '-' && c != '.' && c != '(' && c != ')' && c != '/') {
      const auto byte = static_cast<unsigned char>(c);
      if (byte >= 0x80 || byte < 0x20) return {.e164 = {}, .error = "contains a character that is not a digit"};
      return {.e164 = {}, .error = std::string("contains '") + c + "'"};
    }
  }
  if (digits.empty()) return {.e164 = {}, .error = "has no digits"};
  if (digits.size() > 17) return {.e164 = {}, .error = "too long"};

  if (fast_path)
    if (auto fast = indonesian_mobile(digits, plus, default_region)) return *std::move(fast);

  const std::string region(default_region);
  const auto& util = *PhoneNumberUtil::GetInstance();
  const int home_code = region.empty() ? 0 : util.GetCountryCodeForRegion(region);
  if (!plus && home_code == 0 && !(digits.size() > 2 && digits.starts_with("00")))
    return {.e164 = {}, .error = "has no country code and no default region is set"};

  // Interpretations in order of preference; the first valid one wins. protocols.md §5.2: libphonenumber
  // reads "0062…" as a national number and "62 21…" as a 0622 landline, so the
  // international readings are tried before its own.
  std::array<std::string, 3> tries{};
  if (plus) {
    tries[0] = "+" + digits;
  } else {
    const std::string home = home_code == 0 ? std::string{} : std::to_string(home_code);
    tries[0] = digits;  // libphonenumber's reading: trunk 0, IDD 008/009, bare national number
    if (digits.starts_with("00")) tries[1] = "+" + digits.substr(2);
    if (!home.empty() && digits.starts_with(home) && !digits.starts_with("0")) {
      tries[1] = tries[0];
      tries[0] = "+" + digits;
    }
  }
  std::optional<parsed> first;
  for (const auto& t : tries) {
    if (t.empty()) continue;
    auto p = parse(t, region.empty() ? std::string("ZZ") : region);
    if (!first) first = p;
    if (p.valid) {
      phone_result r;
      util.Format(p.number, PhoneNumberUtil::E164, &r.e164);
      r.fixed_line = util.GetNumberType(p.number) == PhoneNumberUtil::FIXED_LINE;
      return r;
    }
  }
  if (first->error != PhoneNumberUtil::NO_PARSING_ERROR) return {.e164 = {}, .error = parse_reason(first->error)};
  return {.e164 = {}, .error = reason(first->number, region)};
}

}  // namespace

phone_result normalise_phone(std::string_view input, std::string_view default_region) {
  // Senders recur (a village texts from a few thousand numbers) and one message's sender is normalised
  // more than once on its way in, while libphonenumber's type check runs a dozen regexes: a small memo
  // per thread, keyed by region and spelling. The answer for its own E.164 is the same answer
  // (phone_test checks it), so that spelling is remembered too.
  thread_local std::unordered_map<std::string, phone_result> known;
  const auto key_of = [default_region](std::string_view spelling) {
    std::string key;
    key.reserve(default_region.size() + 1 + spelling.size());
    key.append(default_region).append(1, '|').append(spelling);
    return key;
  };
  auto key = key_of(input);
  if (const auto it = known.find(key); it != known.end()) return it->second;
  auto result = normalise(input, default_region, true);
  if (known.size() >= 4096) known.clear();  // bounded; refilled by the senders that recur
  if (result.ok() && result.e164 != input) known.emplace(key_of(result.e164), result);
  known.emplace(std::move(key), result);
  return result;
}

phone_result normalise_phone_without_fast_path(std::string_view input, std::string_view default_region) {
  return normalise(input, default_region, false);
}

namespace {

struct prefix_range {
  int first, last;  // four national digits, inclusive: 811..813 → 0811-0813
  std::string_view name;
};

constexpr prefix_range operator_ranges[] = {
    {811, 813, "telkomsel"}, {821, 823, "telkomsel"}, {851, 853, "telkomsel"},
    {814, 816, "indosat"},   {855, 858, "indosat"},
    {817, 819, "xl"},        {859, 859, "xl"},        {877, 879, "xl"},
    {831, 833, "axis"},      {838, 838, "axis"},
    {895, 899, "tri"},
    {881, 889, "smartfren"},
};

}  // namespace

std::string_view mobile_operator(std::string_view e164) {
  // "+62" then the national significant number without its trunk 0: "812…" is 0812.
  if (!e164.starts_with("+628") || e164.size() < 6) return {};
  int prefix = 0;
  for (std::size_t i = 3; i < 6; ++i) {
    const char c = e164[i];
    if (c < '0' || c > '9') return {};
    prefix = prefix * 10 + (c - '0');
  }
  for (const auto& r : operator_ranges)
    if (prefix >= r.first && prefix <= r.last) return r.name;
  return {};
}

const std::vector<std::string>& known_operators() {
  static const std::vector<std::string> names{"telkomsel", "indosat", "xl", "axis", "tri", "smartfren"};
  return names;
}

}  // namespace kentongan::config
