#pragma once
/// RFC 4180 CSV as spreadsheets export it: UTF-8 with or without BOM, ',' ';' or tab separator
/// (detected from the header row), CRLF or LF, quoted fields with "" escapes and line breaks.
/// Pure and total: any bytes in, a table plus row-level errors out; never throws.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace kentongan::config {

struct csv_row {
  int line = 0;                     ///< 1-based line where the record starts (the header is line 1)
  std::vector<std::string> fields;
};

struct csv_error {
  int line = 0;                     ///< 1-based line of the record
  int column = 0;                   ///< 1-based field number; 0 = the whole row
  std::string message;
};

struct csv_table {
  char separator = ',';
  std::vector<std::string> header;  ///< trimmed cells of the first non-empty record
  std::vector<csv_row> rows;        ///< only rows that parsed and have as many fields as the header
  std::vector<csv_error> errors;
};

/// Streams the records of `text` in line order, so that a large file need not exist twice in memory:
/// `on_header` once with the trimmed cells of the first non-empty record, then `on_row` for each record
/// that parsed with as many fields as the header (cells trimmed; the callee may move them out) and
/// `on_error` for each that did not. Returns the separator. The same rules as parse_csv.
char read_csv(std::string_view text, const std::function<void(std::vector<std::string>& header)>& on_header,
              const std::function<void(csv_row& row)>& on_row, const std::function<void(csv_error error)>& on_error);

/// Splits `text` into records. Blank lines are skipped; a record whose field count differs from
/// the header, an unterminated quote, text after a closing quote or bytes that are not UTF-8 make
/// that record an error (the others still load).
csv_table parse_csv(std::string_view text);

/// True when `s` is well-formed UTF-8 (no overlongs, no surrogates).
bool is_valid_utf8(std::string_view s);

}  // namespace kentongan::config
