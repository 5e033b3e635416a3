#include "intake/settings.hpp"

#include "intake/reply.hpp"
#include "intake/text.hpp"

#include <algorithm>
#include <array>

namespace kentongan::intake {
namespace {

struct keyword_spec {
  keyword id;
  std::string_view name;        // config key and reply variable suffix
  std::string_view indonesian;  // also accepted as config key
  bool officer_only;
};

constexpr std::array<keyword_spec, keyword_count> keyword_specs{{
    {keyword::subscribe, "subscribe", "daftar", false},
    {keyword::unsubscribe, "unsubscribe", "berhenti", false},
    {keyword::aspiration, "aspiration", "aspirasi", false},
    {keyword::complaint, "complaint", "lapor", false},
    {keyword::question, "question", "tanya", false},
    {keyword::check, "check", "cek", false},
    {keyword::info, "info", "info", false},
    {keyword::hoax, "hoax", "hoaks", false},
    {keyword::relay, "relay", "kirim", false},
    {keyword::help, "help", "bantuan", false},
    {keyword::officer_reply, "officer_reply", "balas", true},
    {keyword::officer_close, "officer_close", "selesai", true},
    {keyword::officer_approve, "officer_approve", "setuju", true},
}};

// DESIGN.md keywords first (the first alias is the one replies show), then English and local
// synonyms, then typos seen on keypads: dropped or doubled letters, l for I. Words that often
// start an ordinary request are left out on purpose ("TOLONG perbaiki…", "BATAL panen…",
// "KELUAR air…"): a false STOP would opt a resident out.
std::vector<keyword_rule> default_keywords() {
  return {
      {keyword::subscribe, {"DAFTAR", "REG", "GABUNG", "JOIN", "DAFAR", "DAFTR", "DFTAR", "DAFTRA", "DAFTAAR", "DAFTAT"}},
      {keyword::unsubscribe, {"BERHENTI", "STOP", "UNREG", "BERHENTl", "BERENTI", "BRHENTI", "BERHNTI",
                              "BERHETI", "BERHENTII", "STOPP", "SETOP"}},
      {keyword::aspiration, {"ASPIRASI", "USUL", "USULAN", "SARAN", "ASPRASI", "ASPIRSI", "ASPIRAS", "ASPIRASl", "ASPIRSAI"}},
      {keyword::complaint, {"LAPOR", "ADUAN", "ADU", "PENGADUAN", "KELUHAN", "LAPORAN", "LPR", "LAPR", "LPOR", "LAPORR", "LAOPR"}},
      {keyword::question, {"TANYA", "PERTANYAAN", "TNY", "TANYAA"}},
      {keyword::check, {"CEK", "CEKSTATUS", "CHECK", "CEKK", "CK"}},
      {keyword::info, {"INFO", "INFOO", "IFNO", "INF0"}},
      {keyword::hoax, {"HOAKS", "HOAX", "HOKS", "HOAK", "HAOKS"}},
      {keyword::relay, {"KIRIM", "KRIM", "KIRM", "KIIRM"}},
      {keyword::help, {"BANTUAN", "HELP", "MENU", "BNTUAN", "BANTUN"}},
      {keyword::officer_reply, {"BALAS", "JAWAB", "BLS", "BALES"}},
      {keyword::officer_close, {"SELESAI", "TUTUP", "SLS", "SELSAI"}},
      {keyword::officer_approve, {"SETUJU", "SETUJUI", "STJ", "SETUJUU"}},
  };
}

// Tag rules for a village: base words, matched with their Indonesian affixed forms.
std::vector<tag_rule> default_tags() {
  return {
      {"infrastruktur", {"jalan", "jembatan", "irigasi", "lampu", "aspal", "gorong-gorong", "selokan", "drainase", "talud",
                         "saluran", "trotoar", "berlubang", "lubang"}},
      {"air", {"air", "air bersih", "pdam", "sumur", "pipa", "mata air", "kekeringan", "pamsimas"}},
      {"pertanian", {"pupuk", "benih", "bibit", "tani", "sawah", "subak", "panen", "hama", "kakao", "kebun", "ladang", "ternak",
                     "gabah", "padi", "jagung", "traktor", "penyuluh", "kopi", "cengkeh", "irigasi", "alsintan", "kelompok tani"}},
      {"kesehatan", {"sakit", "demam", "puskesmas", "pustu", "posyandu", "dokter", "bidan", "obat", "diare", "batuk", "stunting",
                     "gizi", "bpjs", "sehat", "ambulans", "dbd", "nyamuk", "imunisasi", "hamil", "vaksin", "rumah sakit"}},
      {"pendidikan", {"sekolah", "sd", "smp", "sma", "smk", "paud", "tk", "guru", "murid", "siswa", "beasiswa", "kip", "pip",
                      "seragam", "madrasah"}},
      {"kependudukan", {"ktp", "e-ktp", "kk", "kartu keluarga", "akta", "nik", "domisili", "dukcapil", "surat keterangan",
                        "surat pengantar", "pindah"}},
      {"bencana", {"banjir", "longsor", "gempa", "kebakaran", "terbakar", "puting beliung", "angin kencang", "tsunami", "erupsi",
                   "pohon tumbang", "tumbang", "evakuasi", "ungsi", "bencana", "abrasi"}},
      {"bantuan-sosial", {"bansos", "blt", "pkh", "sembako", "bpnt", "dtks", "bantuan sosial", "bantuan langsung", "rastra",
                          "miskin", "lansia", "disabilitas"}},
      {"keamanan", {"maling", "curi", "begal", "kelahi", "narkoba", "judi", "mabuk", "ronda", "siskamling", "keamanan",
                    "kriminal", "tawuran"}},
      {"lingkungan", {"sampah", "limbah", "bau", "cemar", "polusi", "asap", "tebang", "lingkungan"}},
      {"listrik", {"listrik", "pln", "token", "meteran", "padam", "mati lampu"}},
      {"ekonomi", {"harga", "pasar", "modal", "umkm", "koperasi", "pinjam", "bumdes", "lowongan", "kerja", "usaha"}},
      {"hoaks", {"hoaks", "hoax", "bohong", "palsu", "tipu", "disinformasi", "berita bohong"}},
  };
}

const keyword_spec* find_keyword_spec(keyword k) {
  for (const auto& s : keyword_specs)
    if (s.id == k) return &s;
  return nullptr;
}

bool is_single_word(std::string_view w) {
  return !w.empty() && std::all_of(w.begin(), w.end(), [](char c) { return is_word_byte(c); });
}

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

void merge_keywords(settings& s, const overrides& o, std::vector<std::string>& errors) {
  for (const auto& [key, aliases] : o.keywords) {
    const std::string where = "keywords." + key;
    const auto k = parse_keyword(key);
    if (!k) {
      errors.push_back(where + ": unknown keyword; expected one of subscribe (daftar), unsubscribe (berhenti), "
                               "aspiration (aspirasi), complaint (lapor), question (tanya), check (cek), info, hoax (hoaks), "
                               "relay (kirim), help (bantuan), officer_reply (balas), officer_close (selesai), "
                               "officer_approve (setuju)");
      continue;
    }
    if (aliases.empty()) {
      errors.push_back(where + ": needs at least one word");
      continue;
    }
    bool ok = true;
    for (const auto& a : aliases) {
      if (!is_single_word(a)) {
        errors.push_back(where + ": " + quoted(a) + " is not a single word of letters and digits");
        ok = false;
      }
    }
    if (!ok) continue;
    auto rule = std::find_if(s.keywords.begin(), s.keywords.end(), [&](const keyword_rule& r) { return r.command == *k; });
    if (rule == s.keywords.end()) rule = s.keywords.insert(s.keywords.end(), keyword_rule{*k, {}});
    rule->aliases = aliases;
  }
  // An alias may start only one command; checked after all overrides so swaps are allowed.
  for (std::size_t i = 0; i < s.keywords.size(); ++i)
    for (std::size_t j = i + 1; j < s.keywords.size(); ++j)
      for (const auto& a : s.keywords[i].aliases)
        for (const auto& b : s.keywords[j].aliases)
          if (equals_folded(a, b))
            errors.push_back("keywords: " + quoted(a) + " is used by both " + std::string(to_string(s.keywords[i].command)) +
                             " and " + std::string(to_string(s.keywords[j].command)));
}

void merge_replies(settings& s, const overrides& o, std::vector<std::string>& errors) {
  for (const auto& [id, text] : o.replies) {
    const std::string where = "replies." + id;
    const auto known = reply_variables(id);
    if (!known) {
      errors.push_back(where + ": unknown reply id");
      continue;
    }
    if (normalise_text(text).empty()) {
      errors.push_back(where + ": must not be empty");
      continue;
    }
    bool ok = true;
    for (const auto& name : placeholders(text)) {
      if (std::find(known->begin(), known->end(), name) == known->end()) {
        std::string list;
        for (const auto& v : *known) list += (list.empty() ? "{" : ", {") + std::string(v) + "}";
        errors.push_back(where + ": unknown variable {" + name + "}; this reply knows " + list);
        ok = false;
      }
    }
    if (ok) s.replies[id] = text;
  }
}

void merge_tags(settings& s, const overrides& o, std::vector<std::string>& errors) {
  for (const auto& [tag, words] : o.tags) {
    const std::string where = "tags." + tag;
    if (tag.empty() || slug(tag) != tag) {
      errors.push_back(where + ": a tag is lower case letters, digits and '-', e.g. " + quoted(slug(tag)));
      continue;
    }
    bool ok = true;
    for (const auto& w : words) {
      if (normalise_text(w).empty()) {
        errors.push_back(where + ": empty word");
        ok = false;
      }
    }
    if (!ok) continue;
    // clang 14 (the fuzz build) cannot capture a structured binding in a lambda.
    const std::string& wanted = tag;
    const auto rule = std::find_if(s.tags.begin(), s.tags.end(), [&wanted](const tag_rule& r) { return r.tag == wanted; });
    if (words.empty()) {
      if (rule != s.tags.end()) s.tags.erase(rule);
    } else if (rule != s.tags.end()) {
      rule->words = words;
    } else {
      s.tags.push_back({tag, words});
    }
  }
}

}  // namespace

std::string_view to_string(keyword k) {
  const keyword_spec* s = find_keyword_spec(k);
  return s == nullptr ? "?" : s->name;
}

std::optional<keyword> parse_keyword(std::string_view s) {
  for (const auto& spec : keyword_specs)
    if (equals_folded(s, spec.name) || equals_folded(s, spec.indonesian)) return spec.id;
  return std::nullopt;
}

bool is_officer_only(keyword k) {
  const keyword_spec* s = find_keyword_spec(k);
  return s != nullptr && s->officer_only;
}

const std::vector<std::string>& settings::aliases(keyword k) const {
  static const std::vector<std::string> none;
  for (const auto& r : keywords)
    if (r.command == k) return r.aliases;
  return none;
}

settings default_settings() {
  settings s;
  s.keywords = default_keywords();
  for (const auto id : reply_ids()) s.replies.emplace(id, default_reply(id));
  s.tags = default_tags();
  return s;
}

merge_result merge(const settings& base, const overrides& o) {
  merge_result r{base, {}};
  merge_keywords(r.value, o, r.errors);
  merge_replies(r.value, o, r.errors);
  merge_tags(r.value, o, r.errors);
  return r;
}

}  // namespace kentongan::intake
