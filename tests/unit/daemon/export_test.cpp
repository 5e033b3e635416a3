#include <doctest/doctest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>

#include "daemon/export.hpp"

using namespace kentongan;
using namespace kentongan::daemon;
using namespace std::chrono_literals;

namespace {

constexpr auto wib = std::chrono::minutes{7 * 60};

/// A village-local (WIB) time as a UTC instant.
core::time_point wib_time(int y, unsigned m, unsigned d, int hh, int mm) {
  return core::time_point{std::chrono::sys_days{std::chrono::year{y} / std::chrono::month{m} / std::chrono::day{d}}} + std::chrono::hours{hh} +
         std::chrono::minutes{mm} - wib;
}

storage::aspiration_row sample() {
  storage::aspiration_row a;
  a.number = 123;
  a.ticket = "A0123";
  a.kind = "aspirasi";
  a.status = "baru";
  a.phone = "+6281234567890";
  a.name = "Rosmaniar";
  a.text = "irigasi di subak timur tersumbat #air";
  a.channel = "sim";
  a.tags = {"air", "infrastruktur"};
  a.received_at = wib_time(2026, 11, 2, 8, 15);  // a Monday
  return a;
}

}  // namespace

TEST_CASE("csv fields: RFC 4180 quoting") {
  struct row {
    const char* label;
    std::string in, out;
  };
  for (const auto& r : {row{"plain", "jalan rusak", "jalan rusak"},
                        row{"empty", "", ""},
                        row{"comma", "jalan, jembatan", "\"jalan, jembatan\""},
                        row{"quote", "kata \"pak\" kades", "\"kata \"\"pak\"\" kades\""},
                        row{"newline", "baris 1\nbaris 2", "\"baris 1\nbaris 2\""},
                        row{"crlf", "a\r\nb", "\"a\r\nb\""},
                        row{"utf-8 untouched", "Pak Kadus — jalan ü", "Pak Kadus — jalan ü"},
                        row{"semicolon is not special", "a;b", "a;b"}}) {
    CAPTURE(r.label);
    CHECK(csv_field(r.in) == r.out);
  }
}

TEST_CASE("csv fields: formulas are neutralised") {
  struct row {
    const char* label;
    std::string in, out;
  };
  for (const auto& r : {row{"equals", "=HYPERLINK(\"http://x\")", "\"'=HYPERLINK(\"\"http://x\"\")\""},
                        row{"plus", "+6281234567890", "'+6281234567890"},
                        row{"minus", "-1+2", "'-1+2"},
                        row{"at", "@SUM(A1)", "'@SUM(A1)"},
                        row{"tab", "\t=1", "'\t=1"},
                        row{"carriage return", "\r=1", "\"'\r=1\""},
                        row{"formula char later is fine", "a=b", "a=b"},
                        row{"masked phone", "+62812*****890", "'+62812*****890"},
                        row{"apostrophe kept", "'quoted", "'quoted"}}) {
    CAPTURE(r.label);
    CHECK(csv_field(r.in) == r.out);
  }
  CHECK(neutralise_formula("=1") == "'=1");
  CHECK(neutralise_formula("1") == "1");
}

TEST_CASE("csv record ends with CRLF") {
  std::ostringstream out;
  write_csv_record(out, {"a", "b,c", ""});
  CHECK(out.str() == "a,\"b,c\",\r\n");
}

TEST_CASE("aspiration CSV: header, BOM, masking, local time") {
  export_options o;
  o.now = wib_time(2026, 11, 3, 9, 0);
  {
    std::ostringstream out;
    aspiration_writer w(out, o);
    w.row(sample());
    CHECK(w.rows() == 1);
    CHECK(out.str() ==
          "ticket,received_at,phone,name,text,tags,status,last_answer,overdue\r\n"
          "A0123,2026-11-02 08:15,'+62812*****890,Rosmaniar,irigasi di subak timur tersumbat #air,air|infrastruktur,baru,,no\r\n");
  }
  {
    o.bom = true;
    o.with_phone = true;
    std::ostringstream out;
    aspiration_writer w(out, o);
    w.row(sample());
    const auto s = out.str();
    CHECK(s.rfind("\xEF\xBB\xBFticket,", 0) == 0);
    CHECK(s.find(",'+6281234567890,") != std::string::npos);
  }
  {
    export_options none;
    std::ostringstream out;
    aspiration_writer w(out, none);
    CHECK(w.rows() == 0);
    CHECK(out.str() == "ticket,received_at,phone,name,text,tags,status,last_answer,overdue\r\n");
  }
}

TEST_CASE("aspiration JSON Lines: one object per line, no formula escaping, masked") {
  export_options o;
  o.format = export_format::jsonl;
  o.bom = true;  // ignored for JSON Lines
  o.now = wib_time(2026, 11, 3, 9, 0);
  auto a = sample();
  a.text = "=1+1, \"kutip\"\nbaris";
  a.last_answer = "sudah dicek";
  a.first_answer_at = wib_time(2026, 11, 2, 10, 0);
  std::ostringstream out;
  aspiration_writer w(out, o);
  w.row(a);
  w.row(sample());
  const auto s = out.str();
  REQUIRE(std::count(s.begin(), s.end(), '\n') == 2);
  const auto first = nlohmann::json::parse(s.substr(0, s.find('\n')));
  CHECK(first["ticket"] == "A0123");
  CHECK(first["text"] == "=1+1, \"kutip\"\nbaris");
  CHECK(first["phone"] == "+62812*****890");
  CHECK(first["received_at"] == "2026-11-02T08:15:00+07:00");
  CHECK(first["first_answer_at"] == "2026-11-02T10:00:00+07:00");
  CHECK(first["closed_at"].is_null());
  CHECK(first["tags"] == nlohmann::json::array({"air", "infrastruktur"}));
  CHECK(first["overdue"] == false);
  CHECK(first["last_answer"] == "sudah dicek");
}

TEST_CASE("JSON Lines survive invalid UTF-8 in a message") {
  export_options o;
  o.format = export_format::jsonl;
  auto a = sample();
  a.text = std::string("rusak \xC3\x28 jalan");
  std::ostringstream out;
  aspiration_writer w(out, o);
  CHECK_NOTHROW(w.row(a));
  CHECK(nlohmann::json::parse(out.str())["text"].get<std::string>().find("jalan") != std::string::npos);
}

TEST_CASE("overdue: 3 working days to a first answer, 5 more to close") {
  // Received Monday 2026-11-02: first answer due by Thursday 11-05, resolution by Thursday 11-12.
  struct row {
    const char* label;
    const char* status;
    bool answered;
    core::time_point now;
    bool overdue;
  };
  for (const auto& r : {row{"new, day of deadline", "baru", false, wib_time(2026, 11, 5, 23, 0), false},
                        row{"new, day after deadline", "baru", false, wib_time(2026, 11, 6, 0, 30), true},
                        row{"answered, before resolution", "diproses", true, wib_time(2026, 11, 12, 12, 0), false},
                        row{"answered, after resolution", "diproses", true, wib_time(2026, 11, 13, 8, 0), true},
                        row{"done is never overdue", "selesai", true, wib_time(2027, 1, 1, 8, 0), false},
                        row{"rejected is never overdue", "ditolak", false, wib_time(2027, 1, 1, 8, 0), false},
                        // 17:00 UTC on the 5th is already the 6th in WIB.
                        row{"village day, not UTC day", "baru", false, core::time_point{std::chrono::sys_days{
                                                                            std::chrono::year{2026} / 11 / 5}} + 17h + 30min,
                            true}}) {
    CAPTURE(r.label);
    auto a = sample();
    a.status = r.status;
    if (r.answered) a.first_answer_at = a.received_at + 1h;
    CHECK(is_overdue(a, {}, wib, r.now) == r.overdue);
  }
}

TEST_CASE("deliveries CSV") {
  storage::delivery_row d;
  d.outbox_id = 7;
  d.phone = "+6281200000101";
  d.name = "Rosmaniar";
  d.state = "delivered";
  d.channel = "sim";
  d.attempts = 1;
  d.created_at = wib_time(2026, 11, 2, 8, 0);
  d.submitted_at = wib_time(2026, 11, 2, 8, 0) + 2s;
  std::ostringstream out;
  delivery_writer w(out, export_options{});
  w.row(d);
  CHECK(out.str() ==
        "outbox_id,phone,name,state,channel,attempts,in_doubt,created_at,submitted_at,finished_at,reason\r\n"
        "7,'+62812*****101,Rosmaniar,delivered,sim,1,no,2026-11-02T08:00:00+07:00,2026-11-02T08:00:02+07:00,,\r\n");
}

TEST_CASE("dates, months and spans") {
  CHECK(parse_local_date("2026-11-28", wib) == wib_time(2026, 11, 28, 0, 0));
  CHECK_FALSE(parse_local_date("2026-02-30", wib).has_value());
  CHECK_FALSE(parse_local_date("28-11-2026", wib).has_value());
  CHECK_FALSE(parse_local_date("2026-1-2", wib).has_value());
  const auto dec = month_range("2026-12", wib);
  REQUIRE(dec.has_value());
  CHECK(dec->first == wib_time(2026, 12, 1, 0, 0));
  CHECK(dec->second == wib_time(2027, 1, 1, 0, 0));
  CHECK_FALSE(month_range("2026-13", wib).has_value());
  CHECK_FALSE(month_range("2026/11", wib).has_value());
  CHECK(format_span(45min) == "45 min");
  CHECK(format_span(3h + 20min) == "3 h 20 min");
  CHECK(format_span(std::chrono::hours{52}) == "2 d 4 h");
  CHECK(format_span(0ms) == "0 min");
  CHECK(iso_local_time(wib_time(2026, 11, 2, 8, 15), wib) == "2026-11-02T08:15:00+07:00");
  CHECK(parse_export_format("csv") == export_format::csv);
  CHECK(parse_export_format("jsonl") == export_format::jsonl);
  CHECK_FALSE(parse_export_format("xlsx").has_value());
}

TEST_CASE("monthly report text") {
  month_report r;
  r.month = "2026-11";
  r.counts = {{"air", "baru", 2}, {"air", "selesai", 1}, {"infrastruktur", "diproses", 3}};
  r.by_status = {{"baru", 2}, {"diproses", 3}, {"selesai", 1}};
  r.aspirations = 6;
  r.overdue = 1;
  r.median_first_answer = 3h + 20min;
  r.broadcasts = 2;
  r.deliveries.recipients = 200;
  r.deliveries.delivered = 190;
  r.deliveries.failed = 10;
  const auto text = format_report(r);
  CAPTURE(text);
  CHECK(text.find("Laporan bulan 2026-11") != std::string::npos);
  CHECK(text.find("air                         2        0        1        0        3") != std::string::npos);
  CHECK(text.find("infrastruktur               0        3        0        0        3") != std::string::npos);
  CHECK(text.find("3 h 20 min") != std::string::npos);
  CHECK(text.find("95.0%") != std::string::npos);
  CHECK(text.find("terlambat (lewat tenggat)            1") != std::string::npos);
  month_report empty;
  empty.month = "2026-10";
  const auto e = format_report(empty);
  CHECK(e.find("(tidak ada aspirasi)") != std::string::npos);
  CHECK(e.find("tingkat keterkiriman                 -") != std::string::npos);
}
