#pragma once
/// Phone numbers as people write them → E.164, with the Indonesian forms libphonenumber alone gets
/// wrong ("0062…", "62 21…") handled first. Pure functions, thread-safe, never throw.

#include <string>
#include <string_view>
#include <vector>

namespace kentongan::config {

struct phone_result {
  std::string e164;        ///< "+6281234567890" when ok()
  std::string error;       ///< what is wrong, e.g. "too short"; empty when ok()
  bool fixed_line = false; ///< libphonenumber says FIXED_LINE: cannot receive SMS or WhatsApp
  bool ok() const { return error.empty(); }
};

/// "0812-3456-7890", "62812…", "+62 812-…", "812…", "0062812…", "+62 0812…" → "+62812…" (default region
/// "ID"); foreign numbers with "+" or "00" kept; invalid → error says what is wrong (no input echoed).
phone_result normalise_phone(std::string_view input, std::string_view default_region = "ID");

/// normalise_phone() with every input through libphonenumber's parser, skipping the fast path for
/// Indonesian mobiles: for the tests that show the two give the same answers.
phone_result normalise_phone_without_fast_path(std::string_view input, std::string_view default_region = "ID");

/// True when libphonenumber knows the two-letter region code ("ID", "MY").
bool is_known_region(std::string_view region);

/// Indonesian mobile operators by the number's prefix (the first four national digits, "0812"), from
/// libphonenumber's carrier data (resources/carrier/en/62.txt, 8.12.57; Debian ships no carrier
/// mapper) plus 0884-0886 (Smartfren). A hint only: numbers move between operators.
/// "+6281234567890" → "telkomsel"; "" when the number is not an Indonesian mobile we know.
std::string_view mobile_operator(std::string_view e164);

/// The operator names mobile_operator() gives: telkomsel, indosat, xl, axis, tri, smartfren.
const std::vector<std::string>& known_operators();

}  // namespace kentongan::config
