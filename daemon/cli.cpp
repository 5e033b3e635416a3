#include "daemon/cli.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string_view>
#include <thread>

#include "config/config.hpp"
#include "core/utf8.hpp"
#include "daemon/cli_common.hpp"
#include "daemon/completion.hpp"
#include "daemon/demo.hpp"
#include "daemon/http_client.hpp"
#include "daemon/http_server.hpp"
#include "daemon/logging.hpp"
#include "daemon/service.hpp"
#include "daemon/smsc_sim_cmd.hpp"
#include "protocol/gsm/gsm.hpp"
#include "storage/backup.hpp"

#ifndef KENTONGAN_VERSION
#define KENTONGAN_VERSION "0.0.0"
#endif

namespace kentongan::daemon {
namespace {

std::string progress_bar(std::int64_t done, std::int64_t total, int width = 30) {
  const double f = total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
  const int filled = static_cast<int>(f * width);
  std::string bar = "[";
  for (int i = 0; i < width; ++i) bar += i < filled ? "#" : ".";
  bar += "] " + std::to_string(static_cast<int>(f * 100)) + "%";
  return bar;
}

void print_status(const json& s, std::ostream& out) {
  const auto final_count = s["delivered"].get<std::int64_t>() + s["failed"].get<std::int64_t>() +
                           s["expired"].get<std::int64_t>() + s["cancelled"].get<std::int64_t>();
  out << "broadcast " << s["id"] << " (" << s["state"].get<std::string>() << ", " << s["priority"].get<std::string>()
      << ") " << progress_bar(final_count, s["recipients"].get<std::int64_t>()) << "\n"
      << "  recipients " << s["recipients"] << "  queued " << s["queued"] << "  sending " << s["sending"]
      << "  submitted " << s["submitted"] << "  delivered " << s["delivered"] << "  failed " << s["failed"]
      << "  expired " << s["expired"] << "  cancelled " << s["cancelled"];
  if (s.value("in_doubt", 0) > 0) out << "  in doubt " << s["in_doubt"];
  out << "\n";
  if (s.contains("by")) {
    out << "  by " << s["by_attribute"].get<std::string>() << ":\n";
    for (const auto& [value, c] : s["by"].items())
      out << "    " << value << ": " << c["delivered"] << "/" << c["recipients"] << " delivered, " << c["failed"]
          << " failed\n";
  }
}

bool is_finished(const json& s) {
  const auto st = s["state"].get<std::string>();
  return st == "done" || st == "cancelled";
}

int cmd_check_config(const global_options& g) {
  const auto loaded = config::load(g.config_file);
  if (!loaded.config) {
    for (const auto& e : loaded.errors) std::cout << config::format(e) << "\n";
    std::cout << loaded.errors.size() << " error(s) in " << g.config_file << "; nothing was changed.\n";
    return exit_failed;
  }
  std::cout << config::summary(*loaded.config);
  std::cout << "config OK: " << g.config_file << "\n";
  return exit_ok;
}

/// Exit code 2 and a message naming `name` when `text` is not UTF-8, before nlohmann's dump()
/// throws on it (JSON text is UTF-8, RFC 8259 §8.1); nullopt when `text` may go into a request.
std::optional<int> refuse_invalid_utf8(std::string_view name, std::string_view text) {
  const auto at = core::first_invalid_utf8(text);
  if (!at) return std::nullopt;
  std::cerr << "error: " << name << " is not valid UTF-8 at byte " << *at << " (save the text as UTF-8)\n";
  return exit_usage;
}

// Options naming local files: their bytes never go into a request (a path need not be UTF-8).
bool is_local_path_option(const std::string& name) {
  return name == "--file" || name == "--output" || name == "--sim-record" || name == "--record" ||
         name == "--mo-file" || name == "--example";
}

/// Every argument of the parsed (sub)commands that may go into a JSON request is checked here, so
/// commands added elsewhere (aspirations, polls, export) are covered without a check of their own.
std::optional<int> refuse_invalid_arguments(const CLI::App& command) {
  for (const CLI::App* sub : command.get_subcommands()) {
    const std::string sub_name = sub->get_name();
    if (sub_name == "serve" || sub_name == "smsc-sim" || sub_name == "demo" || sub_name == "completion") continue;
    for (const CLI::Option* opt : sub->get_options()) {
      const std::string name = opt->get_name();
      if (is_local_path_option(name)) continue;
      for (const std::string& value : opt->results())
        if (auto code = refuse_invalid_utf8(name, value)) return code;
    }
    if (auto code = refuse_invalid_arguments(*sub)) return code;
  }
  return std::nullopt;
}

struct broadcast_args {
  std::vector<std::string> groups;
  bool all = false;
  std::string text, file, at, priority = "normal", expires;
  std::vector<std::string> where;
  bool dry_run = false, json_out = false;
  std::int64_t resend = 0;
  std::string only = "undelivered";
};

int cmd_broadcast(const global_options& g, const broadcast_args& a) {
  if (a.resend > 0) {
    auto r = call(g, "POST", "/api/broadcasts/" + std::to_string(a.resend) + "/resend", json{{"only", a.only}});
    if (!r) return exit_failed;
    if (a.json_out)
      std::cout << r->dump() << "\n";
    else
      std::cout << "resending broadcast " << a.resend << " as broadcast " << (*r)["id"] << "\n";
    return exit_ok;
  }
  std::string text = a.text;
  if (!a.file.empty()) {
    std::ifstream in(a.file);
    if (!in) {
      std::cerr << "kentongan: cannot read " << a.file << "\n";
      return exit_failed;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    if (auto code = refuse_invalid_utf8("--file", text)) return *code;
  }
  if (text.empty()) {
    std::cerr << "kentongan: give the message with --text or --file\n";
    return exit_usage;
  }
  json body{{"text", text},       {"groups", a.groups},     {"all", a.all},          {"where", a.where},
            {"priority", a.priority}, {"dry_run", a.dry_run}, {"at", a.at},          {"expires", a.expires}};
  auto r = call(g, "POST", "/api/broadcasts", body);
  if (!r) return exit_failed;
  if (a.json_out) {
    std::cout << r->dump() << "\n";
  } else if (a.dry_run) {
    std::cout << "dry run, nothing sent\n"
              << "  recipients:        " << (*r)["recipients"] << " (after opt-outs)\n"
              << "  encoding:          " << (*r)["encoding"].get<std::string>() << "\n"
              << "  parts per message: " << (*r)["parts_per_message"] << " (" << (*r)["units"] << " units, "
              << (*r)["remaining"] << " left in the last part)\n"
              << "  total parts:       " << (*r)["total_parts"] << "\n"
              << "  estimated cost:    Rp " << static_cast<long long>((*r)["estimated_cost"].get<double>()) << "\n";
  } else {
    std::cout << (*r)["id"] << "\n";
  }
  return exit_ok;
}

int cmd_status(const global_options& g, std::int64_t id, bool watch, bool json_out, const std::string& by) {
  if (id == 0) {
    auto r = call(g, "GET", "/api/broadcasts?limit=20");
    if (!r) return exit_failed;
    if (json_out) {
      std::cout << r->dump() << "\n";
      return exit_ok;
    }
    if ((*r)["broadcasts"].empty()) std::cout << "no broadcasts yet\n";
    for (const auto& b : (*r)["broadcasts"]) {
      std::string text = b["text"].get<std::string>();
      if (text.size() > 40) text = text.substr(0, 37) + "...";
      std::printf("%6lld  %-9s %-16s %6lld/%-6lld delivered  %s\n", static_cast<long long>(b["id"].get<std::int64_t>()),
                  b["state"].get<std::string>().c_str(), b["created_at"].get<std::string>().c_str(),
                  static_cast<long long>(b["delivered"].get<std::int64_t>()),
                  static_cast<long long>(b["recipients"].get<std::int64_t>()), text.c_str());
    }
    return exit_ok;
  }
  const std::string target = "/api/broadcasts/" + std::to_string(id) + (by.empty() ? "" : "?by=" + by);
  std::optional<std::chrono::steady_clock::time_point> sent_all_at;
  for (;;) {
    auto r = call(g, "GET", target);
    if (!r) return exit_failed;
    if (json_out)
      std::cout << r->dump() << "\n";
    else
      print_status(*r, std::cout);
    if (!watch) return exit_ok;
    // Done sending is not yet done: keep watching while delivery reports come in, but not for
    // ever — some networks never report, and a submitted message is then as far as we can know.
    if (is_finished(*r)) {
      if (!sent_all_at) sent_all_at = std::chrono::steady_clock::now();
      if ((*r)["submitted"].get<std::int64_t>() == 0 ||
          std::chrono::steady_clock::now() - *sent_all_at > std::chrono::seconds{60})
        return exit_ok;
    }
    std::cout.flush();
    std::this_thread::sleep_for(std::chrono::milliseconds{500});
  }
}

/// `kentongan modem balance NAME`: the daemon sends the SIM's USSD balance code and waits for the
/// network's answer (up to the modem's USSD timeout), so this call waits longer than the others.
void add_modem_commands(CLI::App& app, global_options& g, std::vector<command_runner>& runners) {
  auto* modem_cmd = app.add_subcommand("modem", "GSM modems (prepaid SIM cards)");
  modem_cmd->require_subcommand(1);
  auto* balance = modem_cmd->add_subcommand("balance", "Ask the network for a modem's prepaid balance (USSD)");
  auto name = std::make_shared<std::string>();
  auto json_out = std::make_shared<bool>(false);
  balance->add_option("name", *name, "The modem channel's name")->required();
  balance->add_flag("--json", *json_out, "Answer as JSON");
  runners.push_back([&g, balance, name, json_out]() -> std::optional<int> {
    if (!balance->parsed()) return std::nullopt;
    const auto where = locate_daemon(g);
    const auto reply = http_call(where.host, where.port, "POST", "/api/modems/" + *name + "/balance", "", where.token,
                                 std::chrono::seconds{120});
    const json parsed = json::parse(reply.body, nullptr, false);
    if (reply.status / 100 != 2) {
      std::cerr << "kentongan: "
                << (parsed.is_object() && parsed.contains("error") ? parsed["error"].get<std::string>() : reply.body)
                << "\n";
      return exit_failed;
    }
    if (*json_out) {
      std::cout << parsed.dump() << "\n";
      return exit_ok;
    }
    std::cout << *name << ": " << parsed.value("balance", std::string{}) << "\n";
    if (parsed.contains("balance_amount")) std::cout << "amount: " << parsed["balance_amount"].dump() << "\n";
    if (parsed.value("balance_low", false)) std::cout << "warning: below the configured balance_warn_below\n";
    return exit_ok;
  });
}

int cmd_sms_info(const std::string& text, bool json_out, bool transliterate) {
  const auto plan = gsm::plan_message(text, {transliterate});
  if (json_out) {
    json segments = json::array();
    for (const auto& p : plan.parts) segments.push_back(p.text);
    std::cout << json{{"encoding", std::string(gsm::to_string(plan.enc))},
                      {"parts", plan.parts.size()},
                      {"units", plan.units},
                      {"remaining", plan.remaining},
                      {"segments", segments}}
                     .dump()
              << "\n";
    return exit_ok;
  }
  std::cout << "encoding:  " << gsm::to_string(plan.enc)
            << (plan.enc == gsm::encoding::ucs2 ? " (a character outside GSM 03.38 halves the room per part)" : "") << "\n"
            << "units:     " << plan.units << (plan.enc == gsm::encoding::gsm7 ? " septets" : " UTF-16 units") << "\n"
            << "parts:     " << plan.parts.size() << "\n"
            << "remaining: " << plan.remaining << " in the last part\n";
  for (std::size_t i = 0; i < plan.parts.size(); ++i)
    std::cout << "part " << (i + 1) << " (" << plan.parts[i].units << "): " << plan.parts[i].text << "\n";
  return exit_ok;
}

/// `kentongan backup FILE`: through the running daemon (its writer thread copies step by step), or,
/// when no daemon answers or with --direct, straight from the database file (WAL lets both run at once).
int cmd_backup(const global_options& g, const std::string& file, bool direct, bool json_out) {
  std::error_code ec;
  const auto target = std::filesystem::absolute(file, ec);
  if (ec || file.empty()) {
    std::cerr << "kentongan: cannot use '" << file << "' as the backup file\n";
    return exit_usage;
  }
  json result;
  if (!direct) {
    std::optional<daemon_address> where;
    std::string unreachable;
    try {
      where = locate_daemon(g);
    } catch (const std::exception& e) {
      unreachable = e.what();
    }
    if (where) {
      try {
        // A big database takes a while: the daemon answers when the copy is checked and in place.
        const auto reply = http_call(where->host, where->port, "POST", "/api/backup",
                                     json{{"file", target.string()}}.dump(), where->token, std::chrono::hours{6});
        const json parsed = json::parse(reply.body, nullptr, false);
        if (reply.status / 100 != 2) {
          const std::string why =
              parsed.is_object() && parsed.contains("error") ? parsed["error"].get<std::string>() : reply.body;
          std::cerr << "kentongan: " << why << "\n";
          if (why.find("Read-only file system") != std::string::npos || why.find("Permission denied") != std::string::npos)
            std::cerr << "kentongan: under systemd the daemon may write only to its state directory: back up into "
                         "/var/lib/kentongan/backup/, or add --direct to copy from this process\n";
          return exit_failed;
        }
        result = parsed;
      } catch (const std::exception& e) {
        if (std::string(e.what()).find("cannot reach the daemon") == std::string::npos) throw;
        unreachable = e.what();
      }
    }
    if (!unreachable.empty())
      std::cerr << "kentongan: no running daemon answered (" << unreachable << "); copying the database file directly\n";
  }
  if (result.is_null()) {
    const auto report = storage::backup_database(database_path(g), target);
    result = json{{"file", report.file.string()}, {"pages", report.pages}, {"bytes", report.bytes},
                  {"steps", report.steps}, {"integrity", "ok"}};
  }
  if (json_out)
    std::cout << result.dump() << "\n";
  else
    std::cout << "backup written to " << result["file"].get<std::string>() << " (" << result["bytes"] << " bytes, "
              << result["pages"] << " pages, integrity ok)\n";
  return exit_ok;
}

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{"Kentongan: village announcements by SMS and WhatsApp, and residents' aspirations back.", "kentongan"};
  app.set_version_flag("--version", std::string("kentongan ") + KENTONGAN_VERSION);
  app.require_subcommand(1);
  global_options g;
  g.config_file = default_config_file();
  app.add_option("--config", g.config_file, "Config file (default $KENTONGAN_CONFIG, else /etc/kentongan/kentongan.json)");
  app.add_option("--state-dir", g.state_dir, "Where the database and admin token live (default $STATE_DIRECTORY, else next to storage.path)");
  app.add_option("--listen", g.listen, "The daemon's local HTTP address HOST:PORT (default: the config's http.listen, 127.0.0.1:8787)");
  app.add_option("--log-level", g.log_level, "trace, debug, info, warn or error")->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  app.add_flag("--log-phones", g.log_phones, "Show phone numbers in logs unmasked");

  auto* serve = app.add_subcommand("serve", "Run the daemon until SIGTERM or SIGINT");
  std::string sim_record;
  serve->add_option("--sim-record", sim_record, "Append every message the simulated phones receive to this file (tests)");

  app.add_subcommand("check-config", "Validate the config and its CSV files; print a summary or every error");

  auto* broadcast = app.add_subcommand("broadcast", "Send an announcement to groups (through the running daemon)");
  broadcast_args ba;
  broadcast->add_option("--group,-g", ba.groups, "Target group (repeatable)");
  broadcast->add_flag("--all", ba.all, "Every subscriber");
  broadcast->add_option("--text,-t", ba.text, "The message; {name} is replaced by the subscriber's name");
  broadcast->add_option("--file,-f", ba.file, "Read the message from a file");
  broadcast->add_option("--where", ba.where, "Only subscribers with ATTRIBUTE=VALUE, e.g. dusun=Kaja (repeatable)");
  broadcast->add_option("--at", ba.at, "Send at a village-local time: 08:00, '2026-12-01 08:00' or +30m");
  broadcast->add_option("--priority", ba.priority, "normal or urgent (urgent jumps the queue and ignores quiet hours)")
      ->check(CLI::IsMember({"normal", "urgent"}));
  broadcast->add_option("--expires", ba.expires, "Give up on messages not sent within this time, e.g. 6h");
  broadcast->add_flag("--dry-run", ba.dry_run, "Send nothing; show recipients, encoding, parts and cost");
  broadcast->add_flag("--json", ba.json_out, "Answer as one JSON object");
  broadcast->add_option("--resend", ba.resend, "Send broadcast ID again to those it did not reach");
  broadcast->add_option("--only", ba.only, "With --resend: failed or undelivered")->check(CLI::IsMember({"failed", "undelivered"}));

  auto* status = app.add_subcommand("status", "Show recent broadcasts, or one broadcast's progress");
  std::int64_t status_id = 0;
  bool watch = false, status_json = false;
  std::string by;
  status->add_option("id", status_id, "Broadcast id");
  status->add_flag("--watch,-w", watch, "Keep updating until the broadcast is done");
  status->add_flag("--json", status_json, "Answer as JSON");
  status->add_option("--by", by, "Break the counts down by a subscriber attribute (e.g. rt)");

  auto* cancel = app.add_subcommand("cancel", "Stop what a broadcast has not sent yet");
  std::int64_t cancel_id = 0;
  cancel->add_option("id", cancel_id, "Broadcast id")->required();

  auto* sim = app.add_subcommand("sim", "Play a resident on the simulated network");
  sim->require_subcommand(1);
  auto* sim_send = sim->add_subcommand("send", "A resident texts the village number");
  std::string sim_from, sim_text;
  sim_send->add_option("--from", sim_from, "The resident's phone number")->required();
  sim_send->add_option("text", sim_text, "What they text")->required();

  auto* sms_info = app.add_subcommand("sms-info", "How a text is encoded and split into SMS parts");
  std::string info_text;
  bool info_json = false, info_translit = false;
  sms_info->add_option("text", info_text, "The text")->required();
  sms_info->add_flag("--json", info_json, "Answer as JSON");
  sms_info->add_flag("--transliterate", info_translit, "Replace curly quotes and dashes by GSM-7 look-alikes first");

  auto* subscribers = app.add_subcommand("subscribers", "Subscriber data");
  subscribers->require_subcommand(1);
  auto* forget = subscribers->add_subcommand("forget", "Erase a person's number and texts everywhere (UU 27/2022)");
  std::string forget_phone;
  forget->add_option("phone", forget_phone, "Their phone number")->required();

  app.add_subcommand("reload", "Make the running daemon re-read its config (as SIGHUP)");

  auto* backup = app.add_subcommand("backup", "Copy the live database to FILE (SQLite online backup, checked; mode 0600)");
  std::string backup_file;
  bool backup_direct = false, backup_json = false;
  backup->add_option("file", backup_file, "Where the copy goes (written as FILE.tmp, then renamed)")->required();
  backup->add_flag("--direct", backup_direct, "Copy the database file here instead of asking the daemon");
  backup->add_flag("--json", backup_json, "Answer as one JSON object");

  auto* demo = app.add_subcommand("demo", "Run the example village on the simulated network and show it working");
  demo_options demo_opts;
  demo->add_option("--example", demo_opts.example_dir, "The example village folder");
  demo->add_flag("--no-wait", demo_opts.exit_when_done, "Exit after the demo instead of serving until Ctrl-C");

  auto* smsc = app.add_subcommand("smsc-sim", "Run an SMPP 3.4 server (SMSC simulator) for tests, demos and benchmarks");
  smsc_sim_options smsc_opts;
  smsc->add_option("--listen", smsc_opts.listen, "HOST:PORT to listen on (port 0 picks a free one)");
  smsc->add_option("--dlr-delay", smsc_opts.dlr_delay_ms, "Milliseconds from submit to delivery receipt");
  smsc->add_option("--fail-rate", smsc_opts.fail_rate, "Share of messages whose receipt says UNDELIV (0..1)")->check(CLI::Range(0.0, 1.0));
  smsc->add_option("--throttle-after", smsc_opts.throttle_after, "Answer ESME_RTHROTTLED beyond N submits per second (0 = never)");
  smsc->add_option("--drop-every", smsc_opts.drop_every, "Drop the link instead of answering every Nth submit (0 = never)");
  smsc->add_option("--mo-file", smsc_opts.mo_file, "Messages to send to the first receiver: lines 'FROM TEXT' (a long TEXT goes as concatenated parts)");
  smsc->add_option("--mo-style", smsc_opts.mo_style, "How long MO texts are split: udh8 (default), udh16, sar or payload");
  smsc->add_flag("--mo-lose-first-ack", smsc_opts.mo_lose_first_ack, "Treat each MO's first deliver_sm_resp as lost: drop the link, deliver the same PDUs again");
  smsc->add_option("--malformed", smsc_opts.malformed, "Send one malformed PDU after the first bind: unknown-command, bad-length or bad-deliver-sm");
  smsc->add_option("--record", smsc_opts.record, "Append one JSON line per event (submit, mo_acked, ...) to FILE, flushed per line");
  smsc->add_option("--password", smsc_opts.password, "Require this bind password (default: any)");

  auto* completion = app.add_subcommand("completion", "Print a shell completion script");
  completion->require_subcommand(1);
  auto* completion_bash = completion->add_subcommand("bash", "bash completion: source <(kentongan completion bash)");

  std::vector<command_runner> runners;
  add_aspiration_commands(app, g, runners);
  add_modem_commands(app, g, runners);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? exit_ok : exit_usage;
  }

  if (auto code = refuse_invalid_arguments(app)) return *code;

  try {
    setup_logging(g.log_level, g.log_phones);
    if (serve->parsed()) {
      serve_options o;
      o.config_file = g.config_file;
      if (!g.state_dir.empty()) o.state_dir = g.state_dir;
      if (!g.listen.empty()) o.listen = g.listen;
      o.sim_record_file = sim_record;
      return daemon::serve(o);
    }
    if (app.got_subcommand("check-config")) return cmd_check_config(g);
    if (smsc->parsed()) return run_smsc_sim(smsc_opts);
    if (completion_bash->parsed()) {
      std::cout << bash_completion();
      return exit_ok;
    }
    if (sms_info->parsed()) return cmd_sms_info(info_text, info_json, info_translit);
    if (demo->parsed()) {
      demo_opts.listen = g.listen;
      demo_opts.state_dir = g.state_dir;
      return run_demo(demo_opts, argv[0]);
    }
    if (broadcast->parsed()) return cmd_broadcast(g, ba);
    if (status->parsed()) return cmd_status(g, status_id, watch, status_json, by);
    if (cancel->parsed()) {
      auto r = call(g, "POST", "/api/broadcasts/" + std::to_string(cancel_id) + "/cancel");
      if (!r) return exit_failed;
      std::cout << "broadcast " << cancel_id << " cancelled; " << (*r)["cancelled"] << " unsent message(s) will not go out\n";
      return exit_ok;
    }
    if (sim_send->parsed()) {
      auto r = call(g, "POST", "/api/sim/inbound", json{{"from", sim_from}, {"text", sim_text}});
      if (!r) return exit_failed;
      std::cout << "sent from " << (*r)["from"].get<std::string>() << " (" << (*r)["provider_id"].get<std::string>() << ")\n";
      return exit_ok;
    }
    if (forget->parsed()) {
      auto r = call(g, "POST", "/api/subscribers/forget", json{{"phone", forget_phone}});
      if (!r) return exit_failed;
      std::cout << "forgotten: " << (*r)["subscribers"] << " subscriber, " << (*r)["memberships"] << " memberships, "
                << (*r)["opt_outs"] << " opt-outs, " << (*r)["outbox"] << " sent messages, " << (*r)["inbox"]
                << " received messages, " << (*r)["aspirations"] << " aspirations (counts kept, number and texts erased)\n";
      return exit_ok;
    }
    if (backup->parsed()) return cmd_backup(g, backup_file, backup_direct, backup_json);
    if (app.got_subcommand("reload")) {
      auto r = call(g, "POST", "/api/reload");
      if (!r) return exit_failed;
      if (r->contains("sync_failed")) {
        std::cerr << "kentongan: the config was reloaded, but the database refused its subscriber and group lists ("
                  << (*r)["sync_failed"].get<std::string>() << "); they are as before: see the daemon's log\n";
        return exit_failed;
      }
      const auto& subs = (*r)["subscribers"];
      const auto& groups = (*r)["groups"];
      std::cout << "reloaded: subscribers " << subs.value("added", 0) << " added, " << subs.value("changed", 0)
                << " changed, " << subs.value("removed", 0) << " removed; groups " << groups.value("added", 0)
                << " added, " << groups.value("changed", 0) << " changed, " << groups.value("removed", 0)
                << " removed; " << r->value("officers", 0) << " officers\n";
      return exit_ok;
    }
    for (const auto& run : runners)
      if (auto code = run()) return *code;
    return exit_usage;
  } catch (const std::exception& e) {
    std::cerr << "kentongan: " << e.what() << "\n";
    const std::string what = e.what();
    return what.find("cannot reach the daemon") != std::string::npos ? exit_unreachable : exit_failed;
  }
}

}  // namespace kentongan::daemon
