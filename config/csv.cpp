#include "config/csv.hpp"

#include <cstddef>
#include <cstdint>

namespace kentongan::config {
namespace {

void trim_in_place(std::string& s) {
  std::size_t end = s.size();
  while (end > 0 && (s[end - 1] == ' ' || s[end - 1] == '\t')) --end;
  s.erase(end);
  std::size_t start = 0;
  while (start < s.size() && (s[start] == ' ' || s[start] == '\t')) ++start;
  s.erase(0, start);
}

// The header decides the separator: whichever of ',', ';', tab occurs most outside quotes on the
// first line (a European-locale spreadsheet writes ';' because ',' is its decimal mark).
char detect_separator(std::string_view text) {
  std::size_t comma = 0, semicolon = 0, tab = 0;
  bool quoted = false;
  for (char c : text) {
    if (c == '"') quoted = !quoted;
    if (quoted) continue;
    if (c == '\n' || c == '\r') break;
    if (c == ',') ++comma;
    if (c == ';') ++semicolon;
    if (c == '\t') ++tab;
  }
  if (semicolon > comma && semicolon >= tab) return ';';
  if (tab > comma && tab > semicolon) return '\t';
  return ',';
}

struct record {
  int line = 0;
  std::vector<std::string> fields;
  std::string error;
  int error_field = 0;
  bool blank = true;
};

// Reads one record starting at `pos`; advances `pos` past its line break and counts lines.
record read_record(std::string_view text, std::size_t& pos, int& line, char sep) {
  record r;
  r.line = line;
  std::string field;
  bool field_started = false;
  while (true) {
    if (pos >= text.size()) {
      r.fields.push_back(std::move(field));
      return r;
    }
    char c = text[pos];
    if (c == '"' && !field_started) {
      // Quoted field (RFC 4180 §2.5-2.7).
      r.blank = false;
      field_started = true;
      const int start_line = line;
      ++pos;
      bool closed = false;
      while (pos < text.size()) {
        c = text[pos];
        if (c == '"') {
          if (pos + 1 < text.size() && text[pos + 1] == '"') {
            field += '"';
            pos += 2;
            continue;
          }
          ++pos;
          closed = true;
          break;
        }
        if (c == '\n') ++line;
        field += c;
        ++pos;
      }
      if (!closed) {
        r.error = "quote opened on line " + std::to_string(start_line) + " is never closed";
        r.error_field = static_cast<int>(r.fields.size()) + 1;
        r.fields.push_back(std::move(field));
        return r;
      }
      // Only spaces may follow the closing quote before the separator.
      while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t') && text[pos] != sep) ++pos;
      if (pos < text.size() && text[pos] != sep && text[pos] != '\n' && text[pos] != '\r') {
        if (r.error.empty()) {
          r.error = "text after the closing quote";
          r.error_field = static_cast<int>(r.fields.size()) + 1;
        }
        // Skip to the next separator or line end so the rest of the row still splits.
        while (pos < text.size() && text[pos] != sep && text[pos] != '\n' && text[pos] != '\r') ++pos;
      }
      continue;
    }
    if (c == sep) {
      r.blank = false;
      r.fields.push_back(std::move(field));
      field.clear();
      field_started = false;
      ++pos;
      continue;
    }
    if (c == '\r' || c == '\n') {
      ++pos;
      if (c == '\r' && pos < text.size() && text[pos] == '\n') ++pos;
      ++line;
      r.fields.push_back(std::move(field));
      return r;
    }
    if (c == '"' && r.error.empty()) {
      r.error = "quote inside an unquoted field (quote the whole field and double the quote)";
      r.error_field = static_cast<int>(r.fields.size()) + 1;
    }
    if (c != ' ' && c != '\t') r.blank = false;
    field_started = true;
    field += c;
    ++pos;
  }
}

}  // namespace

bool is_valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (b < 0x80) { ++i; continue; }
    if ((b & 0xE0) == 0xC0) { n = 1; cp = b & 0x1Fu; }
    else if ((b & 0xF0) == 0xE0) { n = 2; cp = b & 0x0Fu; }
    else if ((b & 0xF8) == 0xF0) { n = 3; cp = b & 0x07u; }
    else return false;
    for (std::size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return false;
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3Fu);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000)) return false;
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

char read_csv(std::string_view text, const std::function<void(std::vector<std::string>&)>& on_header,
              const std::function<void(csv_row&)>& on_row, const std::function<void(csv_error)>& on_error) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  const char separator = detect_separator(text);

  std::size_t pos = 0;
  int line = 1;
  std::size_t header_size = 0;
  bool have_header = false;
  csv_row row;
  while (pos < text.size()) {
    record r = read_record(text, pos, line, separator);
    if (r.blank && r.error.empty() && r.fields.size() <= 1) continue;
    if (r.error.empty()) {
      for (std::size_t k = 0; k < r.fields.size(); ++k) {
        if (!is_valid_utf8(r.fields[k])) {
          r.error = "not UTF-8 text (save the spreadsheet as \"CSV UTF-8\")";
          r.error_field = static_cast<int>(k) + 1;
          break;
        }
      }
    }
    if (!r.error.empty()) {
      on_error({r.line, r.error_field, std::move(r.error)});
      if (!have_header) return separator;  // without a header nothing else can be read
      continue;
    }
    if (!have_header) {
      std::vector<std::string> header = std::move(r.fields);
      for (auto& f : header) trim_in_place(f);
      header_size = header.size();
      have_header = true;
      on_header(header);
      continue;
    }
    if (r.fields.size() != header_size) {
      on_error({r.line, 0,
                "row has " + std::to_string(r.fields.size()) + " fields, the header has " + std::to_string(header_size)});
      continue;
    }
    for (auto& f : r.fields) trim_in_place(f);
    row.line = r.line;
    row.fields = std::move(r.fields);
    on_row(row);
  }
  return separator;
}

csv_table parse_csv(std::string_view text) {
  csv_table t;
  t.separator = read_csv(
      text, [&](std::vector<std::string>& header) { t.header = std::move(header); },
      [&](csv_row& row) { t.rows.push_back(std::move(row)); }, [&](csv_error e) { t.errors.push_back(std::move(e)); });
  return t;
}

}  // namespace kentongan::config
