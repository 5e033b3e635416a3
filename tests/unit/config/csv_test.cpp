#include <doctest/doctest.h>

#include "config/csv.hpp"

#include <string>
#include <vector>

using namespace kentongan;

namespace {

using fields = std::vector<std::string>;

std::string describe(const config::csv_table& t) {
  std::string out = std::string("sep=") + t.separator + " header=";
  for (const auto& h : t.header) out += "[" + h + "]";
  for (const auto& r : t.rows) {
    out += " | " + std::to_string(r.line) + ":";
    for (const auto& f : r.fields) out += "[" + f + "]";
  }
  for (const auto& e : t.errors) out += " ! " + std::to_string(e.line) + ":" + std::to_string(e.column) + " " + e.message;
  return out;
}

}  // namespace

TEST_CASE("CSV files as spreadsheets export them") {
  struct row {
    std::string label;
    std::string input;
    std::string expected;  // describe() of the table
  };
  const row rows[] = {
      {"plain comma", "phone,name\n0812,Wayan\n", "sep=, header=[phone][name] | 2:[0812][Wayan]"},
      {"no final newline", "phone,name\n0812,Wayan", "sep=, header=[phone][name] | 2:[0812][Wayan]"},
      {"CRLF", "phone,name\r\n0812,Wayan\r\n0813,Made\r\n",
       "sep=, header=[phone][name] | 2:[0812][Wayan] | 3:[0813][Made]"},
      {"BOM", "\xEF\xBB\xBFphone,name\n0812,Wayan\n", "sep=, header=[phone][name] | 2:[0812][Wayan]"},
      {"semicolon (Excel, Indonesian locale)", "phone;name;saldo\n0812;Wayan;1,5\n",
       "sep=; header=[phone][name][saldo] | 2:[0812][Wayan][1,5]"},
      {"tab", "phone\tname\n0812\tWayan\n", "sep=\t header=[phone][name] | 2:[0812][Wayan]"},
      {"quoted separator", "phone,name\n0812,\"Irwan, Sutan Mudo\"\n",
       "sep=, header=[phone][name] | 2:[0812][Irwan, Sutan Mudo]"},
      {"doubled quote", "phone,name\n0812,\"Ratna \"\"Ina\"\" Dewi\"\n",
       "sep=, header=[phone][name] | 2:[0812][Ratna \"Ina\" Dewi]"},
      {"line break in a quoted field", "phone,note\n0812,\"two\nlines\"\n0813,x\n",
       "sep=, header=[phone][note] | 2:[0812][two\nlines] | 4:[0813][x]"},
      {"empty fields", "phone,name,rt\n0812,,\n", "sep=, header=[phone][name][rt] | 2:[0812][][]"},
      {"blank lines skipped", "phone,name\n\n0812,Wayan\n   \n0813,Made\n",
       "sep=, header=[phone][name] | 3:[0812][Wayan] | 5:[0813][Made]"},
      {"cells trimmed", " phone , name \n 0812 , Wayan \n", "sep=, header=[phone][name] | 2:[0812][Wayan]"},
      {"header quoted", "\"phone\";\"name\"\n\"0812\";\"Wayan\"\n", "sep=; header=[phone][name] | 2:[0812][Wayan]"},
      {"UTF-8 names", "phone,name\n0812,Ni Luh Ayu \xC3\x89ka\n", "sep=, header=[phone][name] | 2:[0812][Ni Luh Ayu \xC3\x89ka]"},
      {"empty file", "", "sep=, header="},
      {"too many fields", "phone,name\n0812,Wayan,extra\n0813,Made\n",
       "sep=, header=[phone][name] | 3:[0813][Made] ! 2:0 row has 3 fields, the header has 2"},
      {"too few fields", "phone,name,rt\n0812,Wayan\n", "sep=, header=[phone][name][rt] ! 2:0 row has 2 fields, the header has 3"},
      {"unterminated quote", "phone,name\n0812,\"Wayan\n0813,Made\n",
       "sep=, header=[phone][name] ! 2:2 quote opened on line 2 is never closed"},
      {"text after closing quote", "phone,name\n0812,\"Wayan\"x\n0813,Made\n",
       "sep=, header=[phone][name] | 3:[0813][Made] ! 2:2 text after the closing quote"},
      {"stray quote", "phone,name\n0812,Wa\"yan\n",
       "sep=, header=[phone][name] ! 2:2 quote inside an unquoted field (quote the whole field and double the quote)"},
      {"Latin-1 export", "phone,name\n0812,Ni Luh \xC9ka\n0813,Made\n",
       "sep=, header=[phone][name] | 3:[0813][Made] ! 2:2 not UTF-8 text (save the spreadsheet as \"CSV UTF-8\")"},
      {"bad header stops", "\"phone,name\n0812,Wayan\n", "sep=, header= ! 1:1 quote opened on line 1 is never closed"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    CHECK(describe(config::parse_csv(r.input)) == r.expected);
  }
}

TEST_CASE("UTF-8 validation") {
  CHECK(config::is_valid_utf8("Desa Ekasari"));
  CHECK(config::is_valid_utf8("\xF0\x9F\x8C\xBE"));      // 🌾
  CHECK_FALSE(config::is_valid_utf8("\xC0\xAF"));         // overlong '/'
  CHECK_FALSE(config::is_valid_utf8("\xED\xA0\x80"));     // surrogate
  CHECK_FALSE(config::is_valid_utf8("\xE2\x82"));         // truncated
  CHECK_FALSE(config::is_valid_utf8("\xF4\x90\x80\x80"));  // above U+10FFFF
}

TEST_CASE("read_csv streams header, rows and errors in line order") {
  std::vector<std::string> events;
  const char separator = config::read_csv(
      "phone;name\n0812;Wayan;extra\n 0813 ; Made \n0814;\"open\n",
      [&](std::vector<std::string>& header) { events.push_back("header " + header[0] + "," + header[1]); },
      [&](config::csv_row& row) {
        events.push_back("row " + std::to_string(row.line) + " [" + row.fields[0] + "][" + row.fields[1] + "]");
      },
      [&](config::csv_error e) { events.push_back("error " + std::to_string(e.line) + ":" + std::to_string(e.column)); });
  CHECK(separator == ';');
  CHECK(events == std::vector<std::string>{"header phone,name", "error 2:0", "row 3 [0813][Made]", "error 4:2"});
}
