#include <doctest/doctest.h>

#include "intake/settings.hpp"
#include "intake/tagging.hpp"

#include <algorithm>
#include <string>
#include <vector>

using namespace kentongan::intake;

namespace {

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

struct row {
  const char* input;
  const char* expected;  // comma-separated, in tag() order
};

}  // namespace

TEST_CASE("real-looking Indonesian messages get the expected tags") {
  const auto rules = default_settings().tags;
  const row rows[] = {
      {"LAPOR irigasi di subak timur tersumbat #air", "air,infrastruktur,pertanian"},
      {"jalannya rusak parah dekat SD", "infrastruktur,pendidikan"},
      {"lampu jalan mati di dusun 2", "infrastruktur"},
      {"pupuk subsidi belum datang", "pertanian"},
      {"anak saya demam tinggi", "kesehatan"},
      {"banjir setinggi lutut di RT 03, mohon bantuan", "bencana"},
      {"Longsor menutup jalan ke dusun Kaja", "infrastruktur,bencana"},
      {"desa kami kebanjiran lagi", "bencana"},
      {"KTP saya hilang, bagaimana mengurusnya?", "kependudukan"},
      {"e-KTP belum jadi sudah 3 bulan", "kependudukan"},
      {"mau buat kartu keluarga baru untuk anak", "kependudukan"},
      {"jembatan gantung di subak barat retak", "infrastruktur,pertanian"},
      {"jalan2 di dusun 3 berlubang semua", "infrastruktur"},
      {"jalan-jalan desa belum diaspal", "infrastruktur"},
      {"Perbaikan jalannya kapan pak?", "infrastruktur"},
      {"pengairan sawah kurang karena saluran tersumbat", "infrastruktur,air,pertanian"},
      {"air bersih tidak mengalir sejak kemarin", "air"},
      {"sumurnya kering, mohon dibantu", "air"},
      {"harga kakao turun terus, petani rugi", "pertanian,ekonomi"},
      {"hama tikus menyerang padi di sawah", "pertanian"},
      {"anak saya belum diimunisasi, posyandu kapan?", "kesehatan"},
      {"Ibu hamil perlu ambulans ke puskesmas", "kesehatan"},
      {"banyak nyamuk, takut DBD", "kesehatan"},
      {"guru SD sering tidak datang", "pendidikan"},
      {"beasiswa PIP anak saya belum cair", "pendidikan"},
      {"BLT belum diterima keluarga kami", "bantuan-sosial"},
      {"nama saya tidak ada di data bansos", "bantuan-sosial"},
      {"ada pencurian ternak semalam", "pertanian,keamanan"},
      {"Kemalingan motor di depan balai desa", "keamanan"},
      {"sampah menumpuk di pinggir sungai, bau", "lingkungan"},
      {"listriknya padam dari siang", "listrik"},
      {"Pemadaman listrik tiap malam", "listrik"},
      {"pesan berantai bantuan 5 juta itu bohong ya?", "hoaks"},
      {"ada penipuan atas nama kepala desa", "hoaks"},
      {"pohon tumbang menutup jalan", "infrastruktur,bencana"},
      {"Penyakit diare mewabah di dusun 1", "kesehatan"},
      {"terima kasih atas bantuannya", "lainnya"},
      {"selamat pagi pak kades", "lainnya"},
      {"#Gotong-Royong minggu depan jam 7", "gotong-royong"},
      {"#AIR #air #Air", "air"},
      {"#jalan rusak", "jalan,infrastruktur"},
      {"", "lainnya"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.input);
    CHECK(joined(tag(r.input, rules)) == r.expected);
  }
}

TEST_CASE("rule words match on word boundaries only") {
  const std::vector<tag_rule> rules{{"air", {"air"}}, {"sd", {"sd"}}};
  const row rows[] = {
      {"air mati", "air"},
      {"AIR mati", "air"},
      {"airnya keruh", "air"},
      {"mengairi sawah", "air"},
      {"pengairan", "air"},
      {"kairo", "lainnya"},
      {"bair", "lainnya"},
      {"sdm desa", "lainnya"},
      {"di SD 2", "sd"},
      {"SD.", "sd"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.input);
    CHECK(joined(tag(r.input, rules)) == r.expected);
  }
}

TEST_CASE("affixed and reduplicated forms reduce to their base word") {
  struct form_row {
    const char* word;
    const char* base;
  };
  const form_row rows[] = {
      {"jalannya", "jalan"},     {"diperbaiki", "baik"},    {"memperbaiki", "baik"},  {"perbaikannya", "baik"},
      {"kesehatan", "sehat"},    {"pengairan", "air"},      {"mengairi", "air"},      {"menulis", "tulis"},
      {"memukul", "pukul"},      {"menyapu", "sapu"},       {"mengirim", "kirim"},    {"penerangan", "terang"},
      {"tersumbat", "sumbat"},   {"berlubang", "lubang"},   {"dibangunkan", "bangun"}, {"sekolahlah", "sekolah"},
      {"jalan2", "jalan"},       {"jalan-jalan", "jalan"},  {"jalan2nya", "jalan"},   {"jalan-jalannya", "jalan"},
      {"rumahmu", "rumah"},      {"pupuknya", "pupuk"},     {"kebanjiran", "banjir"}, {"penyakit", "sakit"},
      {"merusak", "rusak"},      {"pelapor", "lapor"},      {"petani", "tani"},       {"ditebang", "tebang"},
      {"apapun", "apa"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.word);
    const auto forms = word_forms(r.word);
    CHECK(std::find(forms.begin(), forms.end(), r.base) != forms.end());
  }
}

TEST_CASE("phrases, several tags, deduplication and stable order") {
  const std::vector<tag_rule> rules{
      {"air", {"air bersih", "sumur"}},
      {"infrastruktur", {"jalan", "lampu jalan"}},
      {"listrik", {"mati lampu"}},
  };
  CHECK(joined(tag("air bersih dan jalan", rules)) == "air,infrastruktur");
  CHECK(joined(tag("jalan dan air bersih", rules)) == "air,infrastruktur");
  CHECK(joined(tag("airnya tidak bersih", rules)) == "lainnya");
  CHECK(joined(tag("sering mati lampu", rules)) == "listrik");
  CHECK(joined(tag("#listrik sering mati lampu", rules)) == "listrik");
  CHECK(joined(tag("#infrastruktur #air", rules)) == "infrastruktur,air");
  CHECK(joined(tag("Jalan jalan JALAN", rules)) == "infrastruktur");
}

TEST_CASE("hashtags: folded, trimmed, references ignored") {
  const std::vector<tag_rule> none;
  CHECK(joined(tag("#Jalan_Desa!", none)) == "jalan_desa");
  CHECK(joined(tag("#kesehatan, #Kesehatan.", none)) == "kesehatan");
  CHECK(joined(tag("cek #A0123 dan #2", none)) == "a0123");  // a ticket reference still has a letter
  CHECK(joined(tag("nomor #2 saja", none)) == "lainnya");
  CHECK(joined(tag("email a#b", none)) == "lainnya");
  CHECK(joined(tag("#", none)) == "lainnya");
  CHECK(joined(tag("#ÇEVRE", none)) == "çevre");
}

TEST_CASE("a prepared tagger gives the same tags as tag()") {
  const auto rules = default_settings().tags;
  const tagger prepared{rules};
  for (const char* text : {"LAPOR irigasi di subak timur tersumbat #air", "jalannya rusak parah dekat SD",
                           "air bersih tidak mengalir", "Pemadaman listrik tiap malam", "", "selamat pagi",
                           "Ca\xCC\x81" "fe\xCC\x81 #K\xC3\x96Y \xE2\x80\x8Bjalan"}) {
    CAPTURE(text);
    CHECK(prepared(text) == tag(text, rules));
  }
}
