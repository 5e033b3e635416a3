#pragma once
/// Poll replies (issue 5 "Polls"): recognising a vote among a broadcast's numbered options.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kentongan::intake {

/// The option number as shown to residents (1 .. options.size()) that `text` votes for:
/// "2", " 2 ", "2.", "PILIH 2", "pilih sabtu", the option's text or a word only that option has
/// ("sabtu"), or a number word ("dua"). Anything else, or an ambiguous reply, is nullopt and goes
/// on to the normal intake.
std::optional<int> parse_vote(std::string_view text, const std::vector<std::string>& options);

}  // namespace kentongan::intake
