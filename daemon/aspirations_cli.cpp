// CLI commands for officials at a desk: aspirations, exports, reports, polls (issue 5).
// Changes go through the running daemon (its writer owns the database and sends the SMS);
// exports and the report read the database directly and read-only, so they work while it runs.
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <tuple>

#include "config/config.hpp"
#include "core/model.hpp"
#include "daemon/cli_common.hpp"
#include "daemon/export.hpp"
#include "daemon/inbound.hpp"
#include "daemon/policy.hpp"
#include "storage/store.hpp"

namespace kentongan::daemon {
namespace {

/// Cuts UTF-8 text to at most `max` bytes on a character boundary, marking the cut.
std::string shorten(const std::string& s, std::size_t max) {
  if (s.size() <= max) return s;
  std::size_t cut = max > 3 ? max - 3 : 0;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  std::string out = s.substr(0, cut) + "...";
  for (auto& c : out)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  return out;
}

std::string url_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string str(const json& j) { return j.is_string() ? j.get<std::string>() : std::string{}; }

std::string tags_text(const json& tags) {
  std::string out;
  for (const auto& t : tags) out += (out.empty() ? "" : ",") + str(t);
  return out;
}

/// The village's UTC offset and deadline policy from the config, for commands that read the database.
struct village_view {
  std::chrono::minutes utc_offset{7 * 60};
  intake::deadline_policy deadline;
  std::vector<std::chrono::sys_days> holidays;  ///< village.holidays: the daemon's lists and reminders skip them too
};

village_view village_of(const global_options& g) {
  village_view v;
  if (!std::filesystem::exists(g.config_file)) return v;
  const auto loaded = config::load(g.config_file);
  if (!loaded.config) throw std::runtime_error("the config " + g.config_file + " has errors; run kentongan check-config");
  const auto off = utc_offset_for(loaded.config->village.timezone);
  if (!off) throw std::runtime_error("unknown village timezone '" + loaded.config->village.timezone + "'");
  v.utc_offset = *off;
  v.deadline = intake_settings_from(*loaded.config).deadline;
  v.holidays = loaded.config->village.holidays;
  return v;
}

/// Writes to FILE through FILE.part, renamed when complete, so a half-written export never looks finished.
class output_target {
 public:
  explicit output_target(const std::string& file) : file_(file) {
    if (file_.empty()) return;
    part_ = file_ + ".part";
    out_.open(part_, std::ios::binary | std::ios::trunc);
    if (!out_) throw std::runtime_error("cannot write " + part_);
  }
  ~output_target() {
    if (!part_.empty() && !done_) {
      std::error_code ec;
      out_.close();
      std::filesystem::remove(part_, ec);
    }
  }
  output_target(const output_target&) = delete;
  output_target& operator=(const output_target&) = delete;
  std::ostream& stream() { return file_.empty() ? std::cout : out_; }
  void finish() {
    stream().flush();
    if (!stream()) throw std::runtime_error("writing " + (file_.empty() ? std::string("the output") : file_) + " failed");
    if (file_.empty()) return;
    out_.close();
    std::filesystem::rename(part_, file_);
    done_ = true;
  }

 private:
  std::string file_, part_;
  std::ofstream out_;
  bool done_ = false;
};

void print_aspiration_line(const json& a) {
  std::printf("%-8s %-16s %-9s %-3s %-15s %-24s %s\n", str(a["ticket"]).c_str(), str(a["received_at"]).c_str(),
              str(a["status"]).c_str(), a.value("overdue", false) ? "!" : "", core::mask_phone(str(a["phone"])).c_str(),
              shorten(tags_text(a["tags"]), 24).c_str(), shorten(str(a["text"]), 50).c_str());
}

void print_aspiration(const json& a) {
  std::cout << "aspiration " << str(a["ticket"]) << " (" << str(a["kind"]) << ")\n"
            << "  status:      " << str(a["status"]) << (a.value("overdue", false) ? "  (OVERDUE)" : "") << "\n"
            << "  received:    " << str(a["received_at"]) << " on " << str(a["channel"]) << "\n"
            << "  from:        " << str(a["phone"]) << (str(a["name"]).empty() ? "" : " (" + str(a["name"]) + ")") << "\n"
            << "  tags:        " << tags_text(a["tags"]) << "\n"
            << "  text:        " << str(a["text"]) << "\n";
  if (const auto first = a.value("first_answer_due", std::string{}); !first.empty())
    std::cout << "  due:         first answer by " << first << ", closed by " << a.value("resolution_due", std::string{})
              << " (working days; village.holidays skipped)\n";
  if (!str(a["last_answer"]).empty()) std::cout << "  last answer: " << str(a["last_answer"]) << "\n";
  if (!str(a["reminded_at"]).empty()) std::cout << "  reminded:    " << str(a["reminded_at"]) << "\n";
  if (a.contains("history")) {
    std::cout << "  history:\n";
    for (const auto& ev : a["history"]) {
      std::cout << "    " << str(ev["at"]) << "  " << str(ev["action"]);
      if (!str(ev["status"]).empty()) std::cout << " → " << str(ev["status"]);
      std::cout << "  by " << str(ev["actor"]);
      if (!str(ev["text"]).empty()) std::cout << ": " << str(ev["text"]);
      std::cout << "\n";
    }
  }
}

struct list_args {
  std::string status, tag, since, until;
  bool overdue = false, json_out = false;
  std::int64_t limit = 0;
};

int cmd_list(const global_options& g, const list_args& a) {
  std::string target = "/api/aspirations?limit=" + std::to_string(a.limit);
  if (!a.status.empty()) target += "&status=" + url_encode(a.status);
  if (!a.tag.empty()) target += "&tag=" + url_encode(a.tag);
  if (!a.since.empty()) target += "&since=" + url_encode(a.since);
  if (!a.until.empty()) target += "&until=" + url_encode(a.until);
  if (a.overdue) target += "&overdue=1";
  auto r = call(g, "GET", target);
  if (!r) return exit_failed;
  if (a.json_out) {
    std::cout << r->dump() << "\n";
    return exit_ok;
  }
  const auto& list = (*r)["aspirations"];
  if (list.empty()) {
    std::cout << "no aspirations match\n";
    return exit_ok;
  }
  std::printf("%-8s %-16s %-9s %-3s %-15s %-24s %s\n", "ticket", "received", "status", "", "phone", "tags", "text");
  for (const auto& item : list) print_aspiration_line(item);
  std::cout << list.size() << " aspiration(s); ! = overdue\n";
  return exit_ok;
}

int print_result(const std::optional<json>& r, bool json_out, const std::string& what) {
  if (!r) return exit_failed;
  if (json_out) {
    std::cout << r->dump() << "\n";
  } else {
    std::cout << what << "\n";
    print_aspiration(*r);
  }
  return exit_ok;
}

int cmd_remind(const global_options& g, bool json_out) {
  auto r = call(g, "POST", "/api/aspirations/remind", json::object());
  if (!r) return exit_failed;
  if (json_out) {
    std::cout << r->dump() << "\n";
    return exit_ok;
  }
  const auto& officers = (*r)["officers"];
  std::cout << (*r)["overdue"].get<std::int64_t>() << " overdue aspiration(s); " << (*r)["reminded"].get<std::int64_t>()
            << " named in reminders to " << officers.size() << " officer(s); "
            << (*r)["already_today"].get<std::int64_t>() << " already reminded today\n";
  for (const auto& o : officers)
    std::cout << "  " << str(o["name"]) << " (" << core::mask_phone(str(o["phone"])) << "): " << tags_text(o["tickets"])
              << "\n";
  if (!(*r)["unassigned"].empty())
    std::cout << "no officer handles " << tags_text((*r)["unassigned"])
              << ": give an officer their tags, or \"*\", in the config's officers\n";
  return exit_ok;
}

struct export_args {
  std::string what;  // aspirations | deliveries
  std::string since, until, tag, status, format, output;
  bool with_phone = false, bom = false;
  std::int64_t broadcast = 0;
};

int cmd_export(const global_options& g, const export_args& a) {
  const auto fmt = parse_export_format(a.format);
  if (!fmt) {
    std::cerr << "kentongan: --format takes csv or jsonl\n";
    return exit_usage;
  }
  const auto village = village_of(g);
  export_options opts;
  opts.format = *fmt;
  opts.with_phone = a.with_phone;
  opts.bom = a.bom;
  opts.utc_offset = village.utc_offset;
  opts.deadline = village.deadline;
  opts.holidays = village.holidays;
  opts.now = core::now();
  storage::aspiration_filter f;
  if (a.what == "aspirations") {
    if (!a.since.empty()) {
      f.since = parse_local_date(a.since, village.utc_offset);
      if (!f.since) throw std::runtime_error("cannot read --since '" + a.since + "': write YYYY-MM-DD");
    }
    if (!a.until.empty()) {
      const auto t = parse_local_date(a.until, village.utc_offset);
      if (!t) throw std::runtime_error("cannot read --until '" + a.until + "': write YYYY-MM-DD");
      f.until = *t + std::chrono::days{1};  // --until names the last day included
    }
    if (!a.status.empty()) {
      if (!intake::parse_aspiration_status(a.status))
        throw std::runtime_error("unknown --status '" + a.status + "': use baru, diproses, selesai or ditolak");
      f.status = a.status;
    }
    if (!a.tag.empty()) f.tag = a.tag.front() == '#' ? a.tag.substr(1) : a.tag;
  } else if (a.broadcast <= 0) {
    std::cerr << "kentongan: export deliveries needs --broadcast ID\n";
    return exit_usage;
  }
  const auto db = database_path(g);
  if (!std::filesystem::exists(db)) throw std::runtime_error("no database at " + db + " (has the daemon ever run?)");
  // Read-only: works beside the running daemon (WAL), never takes its write lock.
  storage::store store(db, true);
  output_target target(a.output);
  std::int64_t rows = 0;
  if (a.what == "aspirations") {
    aspiration_writer w(target.stream(), opts);
    store.export_aspirations(f, [&w](const storage::aspiration_row& row) { w.row(row); });
    rows = w.rows();
  } else {
    if (!store.get_broadcast(a.broadcast)) throw std::runtime_error("no broadcast with id " + std::to_string(a.broadcast));
    delivery_writer w(target.stream(), opts);
    store.export_deliveries(a.broadcast, [&w](const storage::delivery_row& row) { w.row(row); });
    rows = w.rows();
  }
  target.finish();
  if (!a.output.empty()) std::cerr << rows << " row(s) written to " << a.output << "\n";
  return exit_ok;
}

int cmd_report(const global_options& g, const std::string& month, bool json_out) {
  const auto village = village_of(g);
  const auto range = month_range(month, village.utc_offset);
  if (!range) {
    std::cerr << "kentongan: --month takes YYYY-MM, for example 2026-11\n";
    return exit_usage;
  }
  const auto db = database_path(g);
  if (!std::filesystem::exists(db)) throw std::runtime_error("no database at " + db + " (has the daemon ever run?)");
  storage::store store(db, true);
  month_report r;
  r.month = month;
  r.counts = store.aspiration_counts(range->first, range->second);
  r.median_first_answer = store.median_first_answer(range->first, range->second);
  std::tie(r.broadcasts, r.deliveries) = store.broadcast_summary(range->first, range->second);
  storage::aspiration_filter f;
  f.since = range->first;
  f.until = range->second;
  const auto now = core::now();
  store.export_aspirations(f, [&](const storage::aspiration_row& a) {
    ++r.aspirations;
    ++r.by_status[a.status];
    if (is_overdue(a, village.deadline, village.utc_offset, now, village.holidays)) ++r.overdue;
  });
  if (json_out) {
    json by_tag = json::array();
    for (const auto& c : r.counts) by_tag.push_back(json{{"tag", c.tag}, {"status", c.status}, {"count", c.count}});
    const auto& d = r.deliveries;
    std::cout << json{{"month", r.month},
                      {"aspirations", r.aspirations},
                      {"by_tag_status", by_tag},
                      {"by_status", r.by_status},
                      {"overdue", r.overdue},
                      {"median_first_answer_s",
                       r.median_first_answer ? json(std::chrono::duration_cast<std::chrono::seconds>(*r.median_first_answer).count())
                                             : json(nullptr)},
                      {"broadcasts", r.broadcasts},
                      {"recipients", d.recipients},
                      {"delivered", d.delivered},
                      {"failed", d.failed},
                      {"expired", d.expired},
                      {"cancelled", d.cancelled}}
                     .dump()
              << "\n";
    return exit_ok;
  }
  std::cout << format_report(r);
  return exit_ok;
}

struct poll_args {
  std::string question, until, priority = "normal";
  std::vector<std::string> options, groups, where;
  bool all = false, json_out = false;
  std::int64_t id = 0;
  std::string by;
};

int cmd_poll_create(const global_options& g, const poll_args& a) {
  json body{{"question", a.question}, {"options", a.options}, {"groups", a.groups}, {"all", a.all},
            {"where", a.where},       {"until", a.until},     {"priority", a.priority}};
  auto r = call(g, "POST", "/api/polls", body);
  if (!r) return exit_failed;
  if (a.json_out)
    std::cout << r->dump() << "\n";
  else
    std::cout << (*r)["id"] << "\n";
  return exit_ok;
}

int cmd_poll_results(const global_options& g, const poll_args& a) {
  auto r = call(g, "GET", "/api/polls/" + std::to_string(a.id) + (a.by.empty() ? "" : "?by=" + url_encode(a.by)));
  if (!r) return exit_failed;
  if (a.json_out) {
    std::cout << r->dump() << "\n";
    return exit_ok;
  }
  const auto total = (*r)["votes"].get<std::int64_t>();
  std::cout << "poll " << a.id << ": " << str((*r)["question"]) << "\n"
            << "  " << ((*r)["open"].get<bool>() ? "open until " : "closed at ") << str((*r)["until"]) << ", " << total
            << " vote(s)\n";
  for (const auto& o : (*r)["options"]) {
    const auto votes = o["votes"].get<std::int64_t>();
    std::printf("  %lld. %-30s %6lld  %5.1f%%\n", static_cast<long long>(o["number"].get<std::int64_t>()),
                str(o["text"]).c_str(), static_cast<long long>(votes),
                total > 0 ? 100.0 * static_cast<double>(votes) / static_cast<double>(total) : 0.0);
  }
  if (r->contains("by")) {
    std::cout << "  by " << str((*r)["by_attribute"]) << ":\n";
    for (const auto& [value, counts] : (*r)["by"].items()) {
      std::cout << "    " << value << ":";
      for (const auto& [number, n] : counts.items()) std::cout << "  " << number << "=" << n.get<std::int64_t>();
      std::cout << "\n";
    }
  }
  return exit_ok;
}

}  // namespace

void add_aspiration_commands(CLI::App& app, global_options& g, std::vector<command_runner>& runners) {
  // The parsed values outlive this function: the runners read them after app.parse().
  auto* asp = app.add_subcommand("aspirations", "Residents' aspirations: list, show, answer, tag, reject, classify, remind");
  asp->require_subcommand(1);
  auto la = std::make_shared<list_args>();
  auto* list = asp->add_subcommand("list", "List aspirations, oldest first");
  list->add_option("--status", la->status, "baru, diproses, selesai or ditolak")
      ->check(CLI::IsMember({"baru", "diproses", "selesai", "ditolak"}));
  list->add_option("--tag", la->tag, "Only this tag");
  list->add_option("--since", la->since, "Received on or after this day (YYYY-MM-DD, village time)");
  list->add_option("--until", la->until, "Received on or before this day (YYYY-MM-DD)");
  list->add_flag("--overdue", la->overdue, "Only those past their deadline");
  list->add_option("--limit", la->limit, "At most this many (0 = all)");
  list->add_flag("--json", la->json_out, "Answer as JSON");

  struct one_args {
    std::string ticket, text, actor = "petugas";
    std::vector<std::string> tags;
    bool close = false, json_out = false;
  };
  auto oa = std::make_shared<one_args>();
  auto* show = asp->add_subcommand("show", "One aspiration with its history");
  show->add_option("ticket", oa->ticket, "Ticket, e.g. A0123")->required();
  show->add_flag("--json", oa->json_out, "Answer as JSON");
  auto* reply = asp->add_subcommand("reply", "Answer an aspiration; the answer is sent to the resident's phone");
  reply->add_option("ticket", oa->ticket, "Ticket")->required();
  reply->add_option("text", oa->text, "The answer")->required();
  reply->add_flag("--close", oa->close, "Also mark it selesai (done)");
  reply->add_option("--as", oa->actor, "Who answers (shown to the resident)");
  reply->add_flag("--json", oa->json_out, "Answer as JSON");
  auto* tag = asp->add_subcommand("tag", "Add tags to an aspiration");
  tag->add_option("ticket", oa->ticket, "Ticket")->required();
  tag->add_option("tags", oa->tags, "Tags")->required();
  tag->add_option("--as", oa->actor, "Who tags it");
  tag->add_flag("--json", oa->json_out, "Answer as JSON");
  auto* reject = asp->add_subcommand("reject", "Reject an aspiration (ditolak); the resident is told why");
  reject->add_option("ticket", oa->ticket, "Ticket")->required();
  reject->add_option("reason", oa->text, "Why")->required();
  reject->add_option("--as", oa->actor, "Who rejects it");
  reject->add_flag("--json", oa->json_out, "Answer as JSON");
  auto* kind = asp->add_subcommand("kind", "Classify an aspiration: aspirasi, pengaduan or permintaan-informasi");
  kind->add_option("ticket", oa->ticket, "Ticket")->required();
  kind->add_option("kind", oa->text, "aspirasi, pengaduan or permintaan-informasi")
      ->required()
      ->check(CLI::IsMember({"aspirasi", "pengaduan", "permintaan-informasi"}));
  kind->add_option("--as", oa->actor, "Who classifies it");
  kind->add_flag("--json", oa->json_out, "Answer as JSON");
  auto* remind = asp->add_subcommand(
      "remind", "Send the overdue reminder to the officers now (it also runs daily at limits.reminder_time)");
  remind->add_flag("--json", oa->json_out, "Answer as JSON");

  auto* exp = app.add_subcommand("export", "Export for the district office (reads the database, read-only)");
  exp->require_subcommand(1);
  auto ea = std::make_shared<export_args>();
  auto* exp_asp = exp->add_subcommand("aspirations", "Every aspiration, one row each (CSV or JSON Lines)");
  exp_asp->add_option("--since", ea->since, "Received on or after this day (YYYY-MM-DD, village time)");
  exp_asp->add_option("--until", ea->until, "Received on or before this day (YYYY-MM-DD)");
  exp_asp->add_option("--tag", ea->tag, "Only this tag");
  exp_asp->add_option("--status", ea->status, "Only this status");
  auto* exp_del = exp->add_subcommand("deliveries", "One row per recipient of a broadcast, with its final state");
  exp_del->add_option("--broadcast", ea->broadcast, "Broadcast id")->required();
  for (auto* sub : {exp_asp, exp_del}) {
    sub->add_option("--format", ea->format, "csv or jsonl")->required()->check(CLI::IsMember({"csv", "jsonl"}));
    sub->add_option("--output,-o", ea->output, "Write to this file (default: standard output)");
    sub->add_flag("--with-phone", ea->with_phone, "Full phone numbers (default: masked, UU 27/2022)");
    sub->add_flag("--bom", ea->bom, "Start the CSV with a UTF-8 BOM (for Excel)");
  }

  auto* report = app.add_subcommand("report", "The monthly report: aspirations by tag and status, answer times, deliveries");
  auto month = std::make_shared<std::string>();
  auto report_json = std::make_shared<bool>(false);
  report->add_option("--month", *month, "YYYY-MM")->required();
  report->add_flag("--json", *report_json, "Answer as JSON");

  auto* poll = app.add_subcommand("poll", "Polls: a broadcast with numbered options, votes by reply");
  poll->require_subcommand(1);
  auto pa = std::make_shared<poll_args>();
  auto* create = poll->add_subcommand("create", "Send a question with numbered options to groups");
  create->add_option("--question,--poll,-q", pa->question, "The question")->required();
  create->add_option("--option", pa->options, "An option (repeat, 2 to 9)")->required();
  create->add_option("--group,-g", pa->groups, "Target group (repeatable)");
  create->add_flag("--all", pa->all, "Every subscriber");
  create->add_option("--where", pa->where, "Only subscribers with ATTRIBUTE=VALUE (repeatable)");
  create->add_option("--until", pa->until, "Last day of voting (YYYY-MM-DD, village time) or '2026-12-05 18:00'")->required();
  create->add_option("--priority", pa->priority, "normal or urgent")->check(CLI::IsMember({"normal", "urgent"}));
  create->add_flag("--json", pa->json_out, "Answer as JSON");
  auto* results = poll->add_subcommand("results", "The tally of a poll");
  results->add_option("id", pa->id, "The poll's broadcast id")->required();
  results->add_option("--by", pa->by, "Break down by a subscriber attribute, e.g. dusun");
  results->add_flag("--json", pa->json_out, "Answer as JSON");

  runners.push_back([&g, la, oa, ea, month, report_json, pa, list, show, reply, tag, reject, kind, remind, exp_asp,
                     exp_del, report, create, results]() -> std::optional<int> {
    const auto base = [&oa] { return "/api/aspirations/" + url_encode(oa->ticket); };
    if (list->parsed()) return cmd_list(g, *la);
    if (show->parsed()) {
      auto r = call(g, "GET", base());
      if (!r) return exit_failed;
      if (oa->json_out)
        std::cout << r->dump() << "\n";
      else
        print_aspiration(*r);
      return exit_ok;
    }
    if (reply->parsed()) {
      auto r = call(g, "POST", base() + "/reply", json{{"text", oa->text}, {"close", oa->close}, {"actor", oa->actor}});
      return print_result(r, oa->json_out, oa->close ? "answered and closed; the resident is told" : "answered; the answer is on its way to the resident");
    }
    if (tag->parsed()) {
      auto r = call(g, "POST", base() + "/tags", json{{"tags", oa->tags}, {"actor", oa->actor}});
      return print_result(r, oa->json_out, "tagged");
    }
    if (reject->parsed()) {
      auto r = call(g, "POST", base() + "/reject", json{{"reason", oa->text}, {"actor", oa->actor}});
      return print_result(r, oa->json_out, "rejected; the resident is told why");
    }
    if (kind->parsed()) {
      auto r = call(g, "POST", base() + "/kind", json{{"kind", oa->text}, {"actor", oa->actor}});
      return print_result(r, oa->json_out, "classified");
    }
    if (remind->parsed()) return cmd_remind(g, oa->json_out);
    if (exp_asp->parsed() || exp_del->parsed()) {
      ea->what = exp_asp->parsed() ? "aspirations" : "deliveries";
      return cmd_export(g, *ea);
    }
    if (report->parsed()) return cmd_report(g, *month, *report_json);
    if (create->parsed()) return cmd_poll_create(g, *pa);
    if (results->parsed()) return cmd_poll_results(g, *pa);
    return std::nullopt;
  });
}

}  // namespace kentongan::daemon
