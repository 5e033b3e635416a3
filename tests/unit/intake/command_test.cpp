#include <doctest/doctest.h>

#include "intake/command.hpp"
#include "intake/reply.hpp"

#include <ostream>
#include <string>

using namespace kentongan::intake;

namespace {

// Readable CAPTURE / CHECK output for the command variant.
std::string describe(const command& c) {
  struct visitor {
    std::string operator()(const subscribe& x) const { return "subscribe{" + x.group + "}"; }
    std::string operator()(const unsubscribe& x) const { return "unsubscribe{" + x.group.value_or("<all>") + "}"; }
    std::string operator()(const aspiration& x) const {
      return "aspiration{" + x.text + ", " + std::string(to_string(x.kind)) + "}";
    }
    std::string operator()(const check& x) const {
      return "check{" + (x.ticket ? std::to_string(*x.ticket) : "-") + ", " + x.argument + "}";
    }
    std::string operator()(const info& x) const { return "info{" + x.topic + "}"; }
    std::string operator()(const hoax& x) const { return "hoax{" + x.text + "}"; }
    std::string operator()(const relay& x) const { return "relay{" + x.group + ", " + x.text + "}"; }
    std::string operator()(const help&) const { return "help{}"; }
    std::string operator()(const officer_reply& x) const {
      return "officer_reply{" + std::to_string(x.ticket) + ", " + x.text + "}";
    }
    std::string operator()(const officer_close& x) const {
      return "officer_close{" + std::to_string(x.ticket) + ", " + x.text + "}";
    }
    std::string operator()(const officer_approve& x) const { return "officer_approve{" + x.id + "}"; }
    std::string operator()(const incomplete& x) const { return "incomplete{" + std::string(to_string(x.which)) + "}"; }
    std::string operator()(const unmatched& x) const {
      return "unmatched{" + x.text + ", " + std::string(to_string(x.kind)) + "}";
    }
  };
  return std::visit(visitor{}, c);
}

struct row {
  const char* label;
  const char* input;
  command expected;
};

void run(const std::vector<row>& rows, sender_role role) {
  const settings s = default_settings();
  for (const auto& r : rows) {
    CAPTURE(r.label);
    CAPTURE(r.input);
    CHECK(describe(parse(r.input, s, role)) == describe(r.expected));
  }
}

using kind = aspiration_kind;

}  // namespace

TEST_CASE("every resident keyword, alias and typo parses to its command") {
  run({
          // DAFTAR / REG and typos
          {"daftar", "DAFTAR petani-kakao", subscribe{"petani-kakao"}},
          {"daftar lower", "daftar petani-kakao", subscribe{"petani-kakao"}},
          {"daftar mixed case, name with space", "Daftar Petani Kakao", subscribe{"petani-kakao"}},
          {"reg", "REG warga-dusun-1", subscribe{"warga-dusun-1"}},
          {"gabung", "gabung pemuda", subscribe{"pemuda"}},
          {"join", "JOIN pemuda", subscribe{"pemuda"}},
          {"typo dafar", "DAFAR petani-kakao", subscribe{"petani-kakao"}},
          {"typo daftr", "daftr petani-kakao", subscribe{"petani-kakao"}},
          {"typo dftar", "DFTAR petani-kakao", subscribe{"petani-kakao"}},
          {"colon", "DAFTAR: petani-kakao", subscribe{"petani-kakao"}},
          {"underscore group", "DAFTAR warga_dusun_1", subscribe{"warga_dusun_1"}},
          {"daftar without group", "DAFTAR", incomplete{keyword::subscribe}},
          {"daftar with only punctuation", "DAFTAR !!", incomplete{keyword::subscribe}},
          // BERHENTI / STOP / UNREG
          {"berhenti all", "BERHENTI", unsubscribe{}},
          {"berhenti group", "BERHENTI petani-kakao", unsubscribe{"petani-kakao"}},
          {"stop", "STOP", unsubscribe{}},
          {"stop lower with bang", "stop!", unsubscribe{}},
          {"stop group", "Stop pemuda", unsubscribe{"pemuda"}},
          {"unreg", "UNREG", unsubscribe{}},
          {"berhenti semua", "BERHENTI semua", unsubscribe{}},
          {"stop all", "STOP ALL", unsubscribe{}},
          {"typo BERHENTl (l for I)", "BERHENTl", unsubscribe{}},
          {"typo berenti", "berenti", unsubscribe{}},
          {"typo brhenti", "BRHENTI petani-kakao", unsubscribe{"petani-kakao"}},
          {"typo stopp", "STOPP", unsubscribe{}},
          // ASPIRASI / LAPOR / TANYA
          {"aspirasi", "ASPIRASI mohon perbaikan jalan desa", aspiration{"mohon perbaikan jalan desa", kind::aspirasi}},
          {"usul", "usul pasang lampu di pertigaan", aspiration{"pasang lampu di pertigaan", kind::aspirasi}},
          {"saran", "Saran: adakan pelatihan pupuk organik", aspiration{"adakan pelatihan pupuk organik", kind::aspirasi}},
          {"typo asprasi", "ASPRASI jalan rusak", aspiration{"jalan rusak", kind::aspirasi}},
          {"lapor", "LAPOR irigasi di subak timur tersumbat #air",
           aspiration{"irigasi di subak timur tersumbat #air", kind::pengaduan}},
          {"lapor lower", "lapor lampu jalan mati di dusun 2", aspiration{"lampu jalan mati di dusun 2", kind::pengaduan}},
          {"aduan", "ADUAN sampah menumpuk", aspiration{"sampah menumpuk", kind::pengaduan}},
          {"keluhan", "Keluhan: air PDAM tidak mengalir", aspiration{"air PDAM tidak mengalir", kind::pengaduan}},
          {"typo lpr", "LPR jalan berlubang", aspiration{"jalan berlubang", kind::pengaduan}},
          {"typo lapr", "lapr jalan berlubang", aspiration{"jalan berlubang", kind::pengaduan}},
          {"whatsapp bold", "*LAPOR* jembatan retak", aspiration{"jembatan retak", kind::pengaduan}},
          {"lapor alone", "LAPOR", incomplete{keyword::complaint}},
          {"aspirasi alone", "aspirasi ", incomplete{keyword::aspiration}},
          {"tanya", "TANYA kapan pupuk subsidi datang?",
           aspiration{"kapan pupuk subsidi datang?", kind::permintaan_informasi}},
          {"tanya alone", "TANYA", incomplete{keyword::question}},
          {"keyword glued to text is not a keyword", "LAPORjalan rusak",
           unmatched{"LAPORjalan rusak", kind::aspirasi}},
          // CEK
          {"cek ticket", "CEK A0123", check{123, "A0123"}},
          {"cek lower", "cek a0123", check{123, "a0123"}},
          {"cek digits only", "CEK 0123", check{123, "0123"}},
          {"cek dash", "Cek A-0123", check{123, "A-0123"}},
          {"cek hash", "CEK #A0123", check{123, "#A0123"}},
          {"cek glued hash", "CEK#A0123", check{123, "#A0123"}},
          {"cek five digits", "CEK A12345", check{12345, "A12345"}},
          {"cek with trailing words", "CEK A0123 tolong", check{123, "A0123 tolong"}},
          {"cek with period", "CEK A0123.", check{123, "A0123"}},
          {"cek no ticket", "CEK", check{}},
          {"cek other prefix", "CEK B0123", check{std::nullopt, "B0123"}},
          {"cek nonsense", "CEK jalan", check{std::nullopt, "jalan"}},
          {"check", "CHECK A0007", check{7, "A0007"}},
          {"typo cekk", "CEKK A0123", check{123, "A0123"}},
          // INFO
          {"info index", "INFO", info{""}},
          {"info harga", "INFO HARGA", info{"harga"}},
          {"info lower", "info harga kakao", info{"harga kakao"}},
          {"typo infoo", "INFOO harga", info{"harga"}},
          // HOAKS
          {"hoaks", "HOAKS ada pesan berantai vaksin berbahaya", hoax{"ada pesan berantai vaksin berbahaya"}},
          {"hoax english", "hoax bantuan 5 juta lewat link", hoax{"bantuan 5 juta lewat link"}},
          {"hoaks alone", "HOAKS", incomplete{keyword::hoax}},
          // KIRIM
          {"kirim", "KIRIM petani-kakao rapat besok jam 8 di balai", relay{"petani-kakao", "rapat besok jam 8 di balai"}},
          {"kirim case", "Kirim Pemuda kerja bakti minggu pagi", relay{"pemuda", "kerja bakti minggu pagi"}},
          {"kirim without text", "KIRIM pemuda", incomplete{keyword::relay}},
          {"kirim alone", "KIRIM", incomplete{keyword::relay}},
          {"typo krim", "KRIM pemuda kumpul jam 7", relay{"pemuda", "kumpul jam 7"}},
          // BANTUAN / HELP
          {"bantuan", "BANTUAN", help{}},
          {"help", "help", help{}},
          {"menu", "Menu", help{}},
          {"help with text", "HELP saya bingung", help{}},
          {"typo bantun", "BANTUN", help{}},
      },
      sender_role::resident);
}

TEST_CASE("whitespace, invisible characters and case do not hide a keyword") {
  run({
          {"leading spaces", "   DAFTAR   petani-kakao  ", subscribe{"petani-kakao"}},
          {"tabs and newlines", "\tLAPOR\njalan\r\nrusak ", aspiration{"jalan rusak", kind::pengaduan}},
          {"non-breaking space", "LAPOR\xC2\xA0jalan rusak", aspiration{"jalan rusak", kind::pengaduan}},
          {"zero-width space before keyword", "\xE2\x80\x8B" "CEK A0123", check{123, "A0123"}},
          {"byte-order mark", "\xEF\xBB\xBFSTOP", unsubscribe{}},
          {"alternating case", "lApOr got macet", aspiration{"got macet", kind::pengaduan}},
          {"comma after keyword", "daftar, petani-kakao", subscribe{"petani-kakao"}},
      },
      sender_role::resident);
}

TEST_CASE("officer keywords work only for officers") {
  run({
          {"balas", "BALAS A0123 Perbaikan dijadwalkan Senin", officer_reply{123, "Perbaikan dijadwalkan Senin"}},
          {"balas lower, digits only", "balas 0123 sudah dicek", officer_reply{123, "sudah dicek"}},
          {"balas spaced ticket", "BALAS A 0123 sudah dicek", officer_reply{123, "sudah dicek"}},
          {"balas hash and colon", "BALAS #A0123: sudah dicek", officer_reply{123, "sudah dicek"}},
          {"jawab", "JAWAB A0042 petugas datang besok", officer_reply{42, "petugas datang besok"}},
          {"typo bls", "BLS A0042 ok", officer_reply{42, "ok"}},
          {"balas without text", "BALAS A0123", incomplete{keyword::officer_reply}},
          {"balas without ticket", "BALAS terima kasih", incomplete{keyword::officer_reply}},
          {"selesai with text", "SELESAI A0123 lampu sudah diganti", officer_close{123, "lampu sudah diganti"}},
          {"selesai without text", "selesai A0123", officer_close{123, ""}},
          {"tutup", "TUTUP A0123", officer_close{123, ""}},
          {"selesai without ticket", "SELESAI", incomplete{keyword::officer_close}},
          {"setuju", "SETUJU 12", officer_approve{"12"}},
          {"setuju hash", "setuju #12", officer_approve{"12"}},
          {"setuju alone", "SETUJU", incomplete{keyword::officer_approve}},
          {"officers use resident keywords too", "CEK A0123", check{123, "A0123"}},
      },
      sender_role::officer);
  run({
          {"balas from resident", "BALAS A0123 ok", unmatched{"BALAS A0123 ok", kind::aspirasi}},
          {"selesai from resident", "Selesai, terima kasih", unmatched{"Selesai, terima kasih", kind::aspirasi}},
          {"setuju from resident", "SETUJU 12", unmatched{"SETUJU 12", kind::aspirasi}},
      },
      sender_role::resident);
}

TEST_CASE("unmatched text keeps the whole message and guesses questions") {
  run({
          {"plain request", "jalannya rusak parah dekat SD", unmatched{"jalannya rusak parah dekat SD", kind::aspirasi}},
          {"question mark", "pupuk subsidi kapan datang?", unmatched{"pupuk subsidi kapan datang?", kind::permintaan_informasi}},
          {"question word", "Kapan posyandu buka", unmatched{"Kapan posyandu buka", kind::permintaan_informasi}},
          {"mohon info", "mohon info jadwal vaksin", unmatched{"mohon info jadwal vaksin", kind::permintaan_informasi}},
          {"tolong is a request, not help", "Tolong perbaiki jembatan", unmatched{"Tolong perbaiki jembatan", kind::aspirasi}},
          {"batal is not stop", "Batal panen karena hama", unmatched{"Batal panen karena hama", kind::aspirasi}},
          {"a ticket alone", "A0123", unmatched{"A0123", kind::aspirasi}},
          {"empty", "", unmatched{"", kind::aspirasi}},
          {"only spaces", "   \n ", unmatched{"", kind::aspirasi}},
          {"emoji", "\xF0\x9F\x91\x8D", unmatched{"\xF0\x9F\x91\x8D", kind::aspirasi}},
      },
      sender_role::resident);
}

TEST_CASE("unmatched text becomes an aspiration or help as configured") {
  settings s = default_settings();
  const unmatched u{"jalan rusak", aspiration_kind::aspirasi};
  CHECK(describe(resolve_unmatched(u, s)) == describe(aspiration{"jalan rusak", aspiration_kind::aspirasi}));
  CHECK(describe(resolve_unmatched(unmatched{}, s)) == describe(help{}));
  s.unmatched = unmatched_policy::help;
  CHECK(describe(resolve_unmatched(u, s)) == describe(help{}));
}

TEST_CASE("overridden keywords replace the defaults") {
  overrides o;
  o.keywords["daftar"] = {"IKUT", "DAFTAR"};
  o.keywords["complaint"] = {"ADUKAN"};
  const auto m = merge(default_settings(), o);
  REQUIRE(m.errors.empty());
  CHECK(describe(parse("ikut pemuda", m.value)) == describe(subscribe{"pemuda"}));
  CHECK(describe(parse("ADUKAN jalan rusak", m.value)) == describe(aspiration{"jalan rusak", aspiration_kind::pengaduan}));
  CHECK(describe(parse("LAPOR jalan rusak", m.value)) == describe(unmatched{"LAPOR jalan rusak", aspiration_kind::aspirasi}));
  CHECK(render(m.value, reply_id::usage(keyword::subscribe)).rfind("Format: IKUT <nama grup>", 0) == 0);
}

TEST_CASE("ticket prefix from settings is used by CEK and BALAS") {
  settings s = default_settings();
  s.ticket_prefix = "ASP-";
  CHECK(describe(parse("CEK ASP-000123", s)) == describe(check{123, "ASP-000123"}));
  CHECK(describe(parse("cek asp-0007", s)) == describe(check{7, "asp-0007"}));
  CHECK(describe(parse("BALAS ASP-0007 oke", s, sender_role::officer)) == describe(officer_reply{7, "oke"}));
}

TEST_CASE("parse never throws on arbitrary bytes") {
  const settings s = default_settings();
  std::uint32_t x = 12345;
  for (int i = 0; i < 2000; ++i) {
    std::string junk;
    const int n = static_cast<int>(x % 64);
    for (int j = 0; j < n; ++j) {
      x = x * 1103515245u + 12345u;
      junk.push_back(static_cast<char>((x >> 16) & 0xFF));
    }
    CAPTURE(junk);
    CHECK_NOTHROW((void)parse("CEK " + junk, s, sender_role::officer));
    CHECK_NOTHROW((void)parse(junk, s, sender_role::officer));
    CHECK_NOTHROW((void)parse("BALAS " + junk, s, sender_role::officer));
  }
}
