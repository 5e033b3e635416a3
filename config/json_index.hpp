#pragma once
/// Where each value of a JSON text sits, since nlohmann/json keeps no positions: JSON pointer →
/// line:column of the member's key and of its value. Also finds keys repeated in one object,
/// which nlohmann silently collapses. Columns count characters (UTF-8 code points), from 1.

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace kentongan::config {

struct text_position {
  int line = 0;    ///< 1-based; 0 = unknown
  int column = 0;  ///< 1-based, in code points
};

struct json_location {
  text_position key;    ///< the member's key; {0,0} for array elements and the root
  text_position value;  ///< first character of the value
};

struct json_duplicate_key {
  std::string pointer;  ///< JSON pointer of the member ("/groups/0/id")
  text_position first;
  text_position second;
};

struct json_index {
  std::map<std::string, json_location> at;  ///< by JSON pointer ("" = root)
  std::vector<json_duplicate_key> duplicates;
};

/// Scans `text` (JSON with // and /* */ comments, optional UTF-8 BOM). Meant for text nlohmann
/// accepted; on anything else it stops early and returns what it found. Never throws.
json_index index_json(std::string_view text);

/// Line and column of byte `offset` (0-based) in `text`.
text_position position_of_byte(std::string_view text, std::size_t offset);

/// "/a~1b" style escaping of one reference token (RFC 6901 §3).
std::string pointer_token(std::string_view key);

}  // namespace kentongan::config
