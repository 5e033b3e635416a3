#include <doctest/doctest.h>

#include "intake/reply.hpp"
#include "intake/settings.hpp"

#include <string>

using namespace kentongan::intake;

TEST_CASE("the defaults are consistent") {
  const settings s = default_settings();
  CHECK(s.keywords.size() == keyword_count);
  for (std::size_t i = 0; i < keyword_count; ++i) {
    const auto k = static_cast<keyword>(i);
    CAPTURE(to_string(k));
    CHECK_FALSE(s.aliases(k).empty());
    CHECK(parse_keyword(to_string(k)) == k);
  }
  // No alias starts two commands, and every default reply passes its own validation.
  overrides all_replies;
  for (const auto& [id, text] : s.replies) all_replies.replies[id] = text;
  const auto m = merge(s, all_replies);
  CHECK(m.errors.empty());
  CHECK(m.value == s);
  CHECK(s.ticket_prefix == "A");
  CHECK(s.unmatched == unmatched_policy::aspiration);
}

TEST_CASE("keyword names: English or the Indonesian default word, any case") {
  CHECK(parse_keyword("subscribe") == keyword::subscribe);
  CHECK(parse_keyword("DAFTAR") == keyword::subscribe);
  CHECK(parse_keyword("lapor") == keyword::complaint);
  CHECK(parse_keyword("officer_reply") == keyword::officer_reply);
  CHECK(parse_keyword("Balas") == keyword::officer_reply);
  CHECK_FALSE(parse_keyword("reg").has_value());
  CHECK(is_officer_only(keyword::officer_close));
  CHECK_FALSE(is_officer_only(keyword::check));
}

TEST_CASE("overrides are applied and every problem is reported") {
  struct row {
    const char* label;
    overrides in;
    std::vector<std::string> errors;
  };
  const std::vector<row> rows{
      {"valid keyword", {{{"cek", {"CEK", "LIHAT"}}}, {}, {}}, {}},
      {"unknown keyword",
       {{{"daftarr", {"X"}}}, {}, {}},
       {"keywords.daftarr: unknown keyword; expected one of subscribe (daftar), unsubscribe (berhenti), aspiration "
        "(aspirasi), complaint (lapor), question (tanya), check (cek), info, hoax (hoaks), relay (kirim), help (bantuan), "
        "officer_reply (balas), officer_close (selesai), officer_approve (setuju)"}},
      {"empty alias list", {{{"info", {}}}, {}, {}}, {"keywords.info: needs at least one word"}},
      {"two words", {{{"info", {"INFO HARGA"}}}, {}, {}},
       {"keywords.info: \"INFO HARGA\" is not a single word of letters and digits"}},
      {"alias clash", {{{"info", {"INFO", "cek"}}}, {}, {}}, {"keywords: \"CEK\" is used by both check and info"}},
      {"swap is fine", {{{"check", {"INFO"}}, {"info", {"CEK"}}}, {}, {}}, {}},
      {"valid reply", {{}, {{"ack_aspiration", "Nomor Anda {ticket}."}}, {}}, {}},
      {"unknown reply", {{}, {{"ack", "x"}}, {}}, {"replies.ack: unknown reply id"}},
      {"empty reply", {{}, {{"help", "  "}}, {}}, {"replies.help: must not be empty"}},
      {"unknown variable",
       {{}, {{"subscribed", "Grup {grup}"}}, {}},
       {"replies.subscribed: unknown variable {grup}; this reply knows {group}, {name}, {prefix}, {kim}, {phone}, "
        "{kw_subscribe}, {kw_unsubscribe}, {kw_aspiration}, {kw_complaint}, {kw_question}, {kw_check}, {kw_info}, "
        "{kw_hoax}, {kw_relay}, {kw_help}, {kw_officer_reply}, {kw_officer_close}, {kw_officer_approve}"}},
      {"new tag", {{}, {}, {{"pariwisata", {"wisata", "pantai"}}}}, {}},
      {"bad tag name", {{}, {}, {{"Pari Wisata", {"wisata"}}}}, {"tags.Pari Wisata: a tag is lower case letters, digits and '-', e.g. \"pari-wisata\""}},
      {"empty tag word", {{}, {}, {{"air", {""}}}}, {"tags.air: empty word"}},
  };
  for (const auto& r : rows) {
    CAPTURE(r.label);
    CHECK(merge(default_settings(), r.in).errors == r.errors);
  }
}

TEST_CASE("tag overrides replace, append and remove rules") {
  overrides o;
  o.tags = {{"air", {"air", "sumur"}}, {"pariwisata", {"wisata"}}, {"hoaks", {}}};
  const auto m = merge(default_settings(), o);
  REQUIRE(m.errors.empty());
  const auto find = [&](std::string_view tag) -> const tag_rule* {
    for (const auto& r : m.value.tags)
      if (r.tag == tag) return &r;
    return nullptr;
  };
  REQUIRE(find("air") != nullptr);
  CHECK(find("air")->words == std::vector<std::string>{"air", "sumur"});
  REQUIRE(find("pariwisata") != nullptr);
  CHECK(m.value.tags.back().tag == "pariwisata");
  CHECK(find("hoaks") == nullptr);
}

TEST_CASE("a reply override changes the rendered text") {
  overrides o;
  o.replies["ack_aspiration"] = "Nomor tiket: {ticket}. Ketik {kw_check} {ticket}.";
  const auto m = merge(default_settings(), o);
  REQUIRE(m.errors.empty());
  CHECK(render(m.value, reply_id::ack_aspiration, {{"ticket", "A0001"}}) == "Nomor tiket: A0001. Ketik CEK A0001.");
}
