#include "intake/reply.hpp"

#include <algorithm>
#include <array>

namespace kentongan::intake {
namespace {

struct reply_spec {
  std::string_view id;
  std::string_view text;
  std::string_view variables;  // space-separated, besides the common ones
};

// Indonesian defaults, ASCII only (GSM-7 basic set: no [ ] { } ~ ^ | \), short enough that with
// typical values each fits one SMS (tests/unit/intake/reply_test.cpp checks every one).
constexpr std::array<reply_spec, 42> specs{{
    {"ack_aspiration", "Terima kasih, aspirasi Anda dicatat dengan nomor {ticket}. Cek status: kirim {kw_check} {ticket}",
     "ticket kind"},
    {"ack_hoax", "Terima kasih, laporan dugaan hoaks dicatat dengan nomor {ticket}. Tim KIM akan memeriksanya. Cek: kirim {kw_check} {ticket}",
     "ticket"},
    {"subscribed", "Anda terdaftar di grup {group}. Untuk berhenti kirim {kw_unsubscribe} {group}", "group name"},
    {"already_subscribed", "Anda sudah terdaftar di grup {group}.", "group name"},
    {"subscribe_closed", "Grup {group} tidak menerima pendaftaran lewat pesan. Silakan hubungi pengurus KIM.", "group"},
    {"unknown_group", "Grup {group} tidak ditemukan. Grup yang bisa diikuti: {groups}", "group groups"},
    {"unsubscribed", "Anda berhenti dari grup {group}. Untuk daftar lagi kirim {kw_subscribe} {group}", "group"},
    {"unsubscribed_all", "Anda tidak akan menerima pesan KIM lagi. Untuk daftar lagi kirim {kw_subscribe} <nama grup>", ""},
    {"not_subscribed", "Anda tidak terdaftar di grup {group}.", "group"},
    {"status", "Aspirasi {ticket}: {status}. Mohon tunggu jawaban petugas.", "ticket status kind received"},
    {"status_answered", "Aspirasi {ticket}: {status}. Jawaban {name}: {answer}", "ticket status kind received name answer"},
    {"ticket_not_found", "Nomor {ticket} tidak ditemukan. Periksa kembali nomor tiket Anda.", "ticket"},
    {"no_aspirations", "Anda belum punya aspirasi. Kirim {kw_complaint} <pesan> untuk menyampaikan aspirasi.", ""},
    {"answer", "Jawaban aspirasi {ticket} ({status}) dari {name}: {answer}", "ticket name answer status"},
    {"status_changed", "Aspirasi {ticket} kini {status}. {answer}", "ticket status name answer"},
    {"info_index", "Kirim {kw_info} <topik>. Topik: {topics}", "topics"},
    {"info_unknown", "Info {topic} tidak tersedia. Topik: {topics}", "topic topics"},
    {"relay_sent", "Pesan Anda dikirim ke grup {group}.", "group count"},
    {"relay_pending", "Pesan Anda ke grup {group} menunggu persetujuan pengurus.", "group id"},
    {"relay_closed", "Grup {group} tidak menerima kiriman dari anggota.", "group"},
    {"relay_not_member", "Anda bukan anggota grup {group}. Untuk daftar kirim {kw_subscribe} {group}", "group"},
    {"help",
     "Perintah: {kw_subscribe} <grup>, {kw_unsubscribe}, {kw_complaint} <pesan>, {kw_aspiration} <pesan>, "
     "{kw_question} <pesan>, {kw_check} <tiket>, {kw_info} <topik>, {kw_hoax} <pesan>, {kw_relay} <grup> <pesan>",
     ""},
    {"officer_help",
     "Petugas: {kw_officer_reply} <tiket> <jawaban>, {kw_officer_close} <tiket> <catatan>, {kw_officer_approve} <nomor kiriman>",
     "name"},
    {"officer_forward", "Aspirasi baru {ticket} ({tags}): {text} -- Jawab: {kw_officer_reply} {ticket} <jawaban>",
     "ticket tags text kind phone name"},
    {"officer_reply_sent", "Jawaban untuk {ticket} terkirim ke warga. Status: {status}.", "ticket status"},
    {"officer_closed", "Aspirasi {ticket} ditutup dengan status {status}.", "ticket status"},
    {"officer_ticket_not_found", "Tiket {ticket} tidak ditemukan.", "ticket"},
    {"officer_ticket_final", "Aspirasi {ticket} sudah {status} dan tidak bisa diubah lagi.", "ticket status"},
    {"moderation_request", "Kiriman {id} dari {name} ke grup {group}: {text} -- Setujui: kirim {kw_officer_approve} {id}",
     "id name phone group text"},
    {"approved", "Kiriman {id} disetujui dan dikirim ke grup {group}.", "id group count"},
    {"approve_not_found", "Kiriman {id} tidak ditemukan atau sudah diproses.", "id"},
    {"vote_ack", "Terima kasih, pilihan Anda ({option}) sudah dicatat.", "option number question"},
    {"overdue_reminder", "Pengingat: {count} aspirasi lewat batas waktu: {tickets}. Jawab: {kw_officer_reply} <tiket> <jawaban>",
     "count tickets"},
    {"usage_subscribe", "Format: {kw_subscribe} <nama grup>. Contoh: {kw_subscribe} petani-kakao", ""},
    {"usage_aspiration", "Format: {kw_aspiration} <pesan>. Contoh: {kw_aspiration} mohon perbaikan jalan di dusun 2", ""},
    {"usage_complaint", "Format: {kw_complaint} <pesan>. Contoh: {kw_complaint} lampu jalan di dusun 2 mati", ""},
    {"usage_question", "Format: {kw_question} <pertanyaan>. Contoh: {kw_question} kapan pupuk subsidi datang?", ""},
    {"usage_hoax", "Format: {kw_hoax} <isi pesan yang diragukan>. Tim KIM akan memeriksanya.", ""},
    {"usage_relay", "Format: {kw_relay} <grup> <pesan>. Contoh: {kw_relay} petani-kakao rapat besok jam 8", ""},
    {"usage_officer_reply", "Format: {kw_officer_reply} <tiket> <jawaban>. Contoh: {kw_officer_reply} {prefix}0123 perbaikan dijadwalkan Senin", ""},
    {"usage_officer_close", "Format: {kw_officer_close} <tiket> <catatan>. Contoh: {kw_officer_close} {prefix}0123 sudah diperbaiki", ""},
    {"usage_officer_approve", "Format: {kw_officer_approve} <nomor kiriman>. Contoh: {kw_officer_approve} 12", ""},
}};

constexpr std::array<std::string_view, 3> common_variables{"prefix", "kim", "phone"};

const reply_spec* find_spec(std::string_view id) {
  const auto it = std::find_if(specs.begin(), specs.end(), [&](const reply_spec& r) { return r.id == id; });
  return it == specs.end() ? nullptr : &*it;
}

std::vector<std::string_view> split_words(std::string_view s) {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    const auto space = s.find(' ');
    if (space != 0) out.push_back(s.substr(0, space));
    if (space == std::string_view::npos) break;
    s.remove_prefix(space + 1);
  }
  return out;
}

// Walks a template, calling on_text for literal runs and on_var for {name}.
template <typename Text, typename Var>
void walk(std::string_view t, Text on_text, Var on_var) {
  std::size_t i = 0;
  while (i < t.size()) {
    const char c = t[i];
    if ((c == '{' || c == '}') && i + 1 < t.size() && t[i + 1] == c) {
      on_text(t.substr(i, 1));
      i += 2;
      continue;
    }
    if (c == '{') {
      const auto close = t.find('}', i + 1);
      const auto name = close == std::string_view::npos ? std::string_view{} : t.substr(i + 1, close - i - 1);
      const bool valid = !name.empty() && std::all_of(name.begin(), name.end(), [](char n) {
        return (n >= 'a' && n <= 'z') || (n >= '0' && n <= '9') || n == '_';
      });
      if (valid) {
        on_var(name);
        i = close + 1;
        continue;
      }
    }
    const auto next = t.find_first_of("{}", i + 1);
    const auto end = next == std::string_view::npos ? t.size() : next;
    on_text(t.substr(i, end - i));
    i = end;
  }
}

}  // namespace

std::string reply_id::usage(keyword k) { return "usage_" + std::string(to_string(k)); }

std::vector<std::string_view> reply_ids() {
  std::vector<std::string_view> out;
  out.reserve(specs.size());
  for (const auto& r : specs) out.push_back(r.id);
  return out;
}

std::string_view default_reply(std::string_view id) {
  const reply_spec* r = find_spec(id);
  return r == nullptr ? std::string_view{} : r->text;
}

std::optional<std::vector<std::string_view>> reply_variables(std::string_view id) {
  const reply_spec* r = find_spec(id);
  if (r == nullptr) return std::nullopt;
  std::vector<std::string_view> out = split_words(r->variables);
  out.insert(out.end(), common_variables.begin(), common_variables.end());
  for (std::size_t k = 0; k < keyword_count; ++k) {
    static const std::array<std::string, keyword_count> kw_names = [] {
      std::array<std::string, keyword_count> names;
      for (std::size_t j = 0; j < keyword_count; ++j) names[j] = "kw_" + std::string(to_string(static_cast<keyword>(j)));
      return names;
    }();
    out.push_back(kw_names[k]);
  }
  return out;
}

std::vector<std::string> placeholders(std::string_view tmpl) {
  std::vector<std::string> out;
  walk(tmpl, [](std::string_view) {}, [&](std::string_view name) { out.emplace_back(name); });
  return out;
}

std::string render(const settings& s, std::string_view id, const std::map<std::string, std::string>& vars) {
  const auto it = s.replies.find(std::string(id));
  if (it == s.replies.end()) return {};
  std::string out;
  out.reserve(it->second.size() + 32);
  walk(
      it->second, [&](std::string_view text) { out.append(text); },
      [&](std::string_view name) {
        if (const auto v = vars.find(std::string(name)); v != vars.end()) {
          out.append(v->second);
        } else if (name == "prefix") {
          out.append(s.ticket_prefix);
        } else if (name.substr(0, 3) == "kw_") {
          if (const auto k = parse_keyword(name.substr(3)); k && !s.aliases(*k).empty())
            out.append(s.aliases(*k).front());
        }
      });
  return out;
}

namespace {

// Characters as a phone counts them (UTF-8 code points), not bytes.
std::size_t char_count(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

}  // namespace

std::string render_overdue_reminder(const settings& s, const std::vector<std::string>& tickets, std::size_t max_chars) {
  if (tickets.empty()) return {};
  const std::string count = std::to_string(tickets.size());
  std::string text;
  // Fewest tickets named last: an officer with forty overdue tickets still gets one SMS that fits.
  for (std::size_t shown = tickets.size(); shown >= 1; --shown) {
    std::string list;
    for (std::size_t i = 0; i < shown; ++i) list += (i ? ", " : "") + tickets[i];
    if (shown < tickets.size()) list += " +" + std::to_string(tickets.size() - shown) + " lagi";
    text = render(s, reply_id::overdue_reminder, {{"count", count}, {"tickets", list}});
    if (char_count(text) <= max_chars) break;
  }
  return text;
}

}  // namespace kentongan::intake
