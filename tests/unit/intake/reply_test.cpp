#include <doctest/doctest.h>

#include "intake/reply.hpp"

#include <algorithm>
#include <map>
#include <string>
#include <string_view>

using namespace kentongan::intake;

namespace {

// Septets a text takes in GSM 03.38 (3GPP TS 23.038 §6.2.1), or -1 when it needs UCS-2.
// Kept here rather than linking protocol/gsm so intake's tests stand alone.
int gsm7_septets(std::string_view text) {
  constexpr std::string_view basic =
      "@$\n\r _!\"#%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  constexpr std::string_view extension = "^{}\\[~]|";
  int n = 0;
  for (char c : text) {
    if (basic.find(c) != std::string_view::npos) {
      n += 1;
    } else if (extension.find(c) != std::string_view::npos) {
      n += 2;
    } else {
      return -1;  // non-ASCII or a character outside the basic table: would force UCS-2
    }
  }
  return n;
}

// Typical values: a five-digit ticket, a two-word name, a long group id, a short answer.
const std::map<std::string, std::string> example{
    {"ticket", "A01234"},
    {"kind", "pengaduan"},
    {"group", "warga-dusun-kaja"},
    {"groups", "petani-kakao, warga-dusun-1, pemuda"},
    {"name", "Pak Wayan"},
    {"status", "diproses"},
    {"received", "2026-03-06"},
    {"answer", "Perbaikan jalan dijadwalkan hari Senin oleh PU."},
    {"topic", "harga"},
    {"topics", "harga, jadwal, posyandu"},
    {"id", "12"},
    {"count", "3"},
    {"tickets", "A0120, A0121, A0123"},
    {"option", "Sabtu"},
    {"number", "1"},
    {"question", "Jadwal gotong royong?"},
    {"tags", "infrastruktur, air"},
    {"text", "Irigasi subak timur tersumbat."},
    {"phone", "+62812*****890"},
    {"prefix", "A"},
    {"kim", "Merta Abadi"},
};

}  // namespace

TEST_CASE("every default reply fits one GSM-7 SMS with typical values") {
  const settings s = default_settings();
  for (const auto id : reply_ids()) {
    const std::string text = render(s, id, example);
    CAPTURE(id);
    CAPTURE(text);
    const int septets = gsm7_septets(text);
    CHECK(septets > 0);
    CHECK(septets <= 160);
    for (const auto& p : placeholders(s.replies.at(std::string(id)))) {
      CAPTURE(p);
      const auto known = reply_variables(id);
      REQUIRE(known.has_value());
      CHECK(std::find(known->begin(), known->end(), p) != known->end());
    }
  }
}

TEST_CASE("there is a usage reply for every keyword that needs an argument") {
  const settings s = default_settings();
  for (auto k : {keyword::subscribe, keyword::aspiration, keyword::complaint, keyword::question, keyword::hoax, keyword::relay,
                 keyword::officer_reply, keyword::officer_close, keyword::officer_approve}) {
    CAPTURE(to_string(k));
    CHECK_FALSE(render(s, reply_id::usage(k)).empty());
  }
}

TEST_CASE("the exact texts residents see most") {
  const settings s = default_settings();
  CHECK(render(s, reply_id::ack_aspiration, {{"ticket", "A0123"}}) ==
        "Terima kasih, aspirasi Anda dicatat dengan nomor A0123. Cek status: kirim CEK A0123");
  CHECK(render(s, reply_id::subscribed, {{"group", "petani-kakao"}}) ==
        "Anda terdaftar di grup petani-kakao. Untuk berhenti kirim BERHENTI petani-kakao");
  CHECK(render(s, reply_id::help) ==
        "Perintah: DAFTAR <grup>, BERHENTI, LAPOR <pesan>, ASPIRASI <pesan>, TANYA <pesan>, CEK <tiket>, "
        "INFO <topik>, HOAKS <pesan>, KIRIM <grup> <pesan>");
  settings asp = s;
  asp.ticket_prefix = "ASP-";
  CHECK(render(asp, reply_id::usage(keyword::officer_close)) ==
        "Format: SELESAI <tiket> <catatan>. Contoh: SELESAI ASP-0123 sudah diperbaiki");
  CHECK(render(s, reply_id::status_answered,
               {{"ticket", "A0123"}, {"status", "diproses"}, {"name", "Kadus Kaja"}, {"answer", "Besok diperbaiki."}}) ==
        "Aspirasi A0123: diproses. Jawaban Kadus Kaja: Besok diperbaiki.");
}

TEST_CASE("the overdue reminder names what fits in one SMS and counts the rest") {
  const settings s = default_settings();
  auto tickets = [](int n) {
    std::vector<std::string> out;
    for (int i = 0; i < n; ++i) out.push_back("A0" + std::to_string(120 + i));
    return out;
  };
  struct reminder_case {
    std::string label;
    int tickets;
    std::size_t max_chars;
    std::string expected;
  };
  for (const auto& c : std::vector<reminder_case>{
           {"none: nothing to send", 0, 160, ""},
           {"one", 1, 160, "Pengingat: 1 aspirasi lewat batas waktu: A0120. Jawab: BALAS <tiket> <jawaban>"},
           {"three", 3, 160,
            "Pengingat: 3 aspirasi lewat batas waktu: A0120, A0121, A0122. Jawab: BALAS <tiket> <jawaban>"},
           {"twenty: the rest counted", 20, 160,
            "Pengingat: 20 aspirasi lewat batas waktu: A0120, A0121, A0122, A0123, A0124, A0125, A0126, A0127, "
            "A0128, A0129, A0130 +9 lagi. Jawab: BALAS <tiket> <jawaban>"},
           {"a tiny limit still names one ticket", 5, 10,
            "Pengingat: 5 aspirasi lewat batas waktu: A0120 +4 lagi. Jawab: BALAS <tiket> <jawaban>"},
       }) {
    CAPTURE(c.label);
    const auto text = render_overdue_reminder(s, tickets(c.tickets), c.max_chars);
    CHECK(text == c.expected);
    if (c.max_chars == 160) CHECK(gsm7_septets(text) <= 160);
  }
}

TEST_CASE("render substitutes, escapes and falls back") {
  settings s = default_settings();
  s.replies["t"] = "{{literal}} {ticket} {missing} {kw_check} {prefix} {kw_nothing} {Bad} {unclosed";
  CHECK(render(s, "t", {{"ticket", "A0001"}}) == "{literal} A0001  CEK A  {Bad} {unclosed");
  CHECK(render(s, "no-such-reply") == "");
  s.ticket_prefix = "B";
  CHECK(render(s, "t", {{"prefix", "X"}}) == "{literal}   CEK X  {Bad} {unclosed");
}

TEST_CASE("placeholders lists variable names in order") {
  CHECK(placeholders("a {x} {{y}} {z_1}") == std::vector<std::string>{"x", "z_1"});
  CHECK(placeholders("no braces").empty());
  CHECK(placeholders("{").empty());
  CHECK(placeholders("}{").empty());
}
