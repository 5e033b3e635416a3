#pragma once
/// Phone numbers as people write them → E.164, with the Indonesian forms libphonenumber alone gets
/// wrong ("0062…", "62 21…") handled first. Pure functions, thread-safe, never throw.

#include <string>
#include <string_view>

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

/// True when libphonenumber knows the two-letter region code ("ID", "MY").
bool is_known_region(std::string_view region);

}  // namespace kentongan::config
