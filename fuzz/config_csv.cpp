// libFuzzer target for the CSV subscriber-list parser: any bytes in, no crash, and the table it
// returns is self-consistent (rows as wide as the header, errors on lines that exist), and the
// streaming reader it is built on reports rows and errors in strictly increasing line order.
#include "config/csv.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto table = kentongan::config::parse_csv(text);
  int lines = 1;  // the parser's count: LF, CRLF and a lone CR each end a line
  for (std::size_t i = 0; i < text.size(); ++i)
    if (text[i] == '\n' || (text[i] == '\r' && (i + 1 == text.size() || text[i + 1] != '\n'))) ++lines;
  for (const auto& row : table.rows) {
    if (row.fields.size() != table.header.size()) std::abort();
    if (row.line < 2 || row.line > lines) std::abort();
    for (const auto& f : row.fields)
      if (!kentongan::config::is_valid_utf8(f)) std::abort();
  }
  for (const auto& e : table.errors)
    if (e.line < 1 || e.line > lines || e.column < 0) std::abort();
  if (table.separator != ',' && table.separator != ';' && table.separator != '\t') std::abort();

  int last_line = 0;
  bool header_seen = false;
  auto in_order = [&](int line) {
    if (line <= last_line) std::abort();
    last_line = line;
  };
  kentongan::config::read_csv(
      text, [&](std::vector<std::string>&) { header_seen = true; },
      [&](kentongan::config::csv_row& row) {
        if (!header_seen) std::abort();
        in_order(row.line);
      },
      [&](kentongan::config::csv_error e) { in_order(e.line); });
  return 0;
}
