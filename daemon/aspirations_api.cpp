// Admin API routes for aspirations and polls (issue 5), and the poll-vote step of the inbound path.
// Every change to an aspiration runs in one writer job together with the message that tells the
// resident, so the answer and its SMS are durable together or not at all.
#include <algorithm>
#include <cctype>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "daemon/export.hpp"
#include "daemon/inbound.hpp"
#include "daemon/polls.hpp"
#include "daemon/reminders.hpp"
#include "daemon/service_impl.hpp"
#include "intake/aspiration.hpp"
#include "intake/poll.hpp"
#include "intake/reply.hpp"

namespace kentongan::daemon {

bool try_poll_vote(storage::store& store, intake_state& state, const std::string& phone, const std::string& text,
                   std::string& reply_text) {
  const auto now = core::now();
  const auto poll = store.open_poll_for(phone, now);
  if (!poll) return false;
  const auto option = intake::parse_vote(text, poll->spec.options);
  if (!option || *option < 1 || static_cast<std::size_t>(*option) > poll->spec.options.size()) return false;
  if (!store.record_vote(poll->broadcast_id, phone, *option, now)) return false;
  reply_text = intake::render(state.settings, intake::reply_id::vote_ack,
                              {{"option", poll->spec.options[static_cast<std::size_t>(*option - 1)]},
                               {"number", std::to_string(*option)},
                               {"question", poll->spec.question}});
  return true;
}

std::string poll_broadcast_text(const std::string& question, const std::vector<std::string>& options,
                                const std::string& until_local) {
  std::string text = question;
  for (std::size_t i = 0; i < options.size(); ++i) text += "\n" + std::to_string(i + 1) + ". " + options[i];
  text += "\nBalas dengan angka pilihan Anda";
  if (!until_local.empty()) text += " sampai " + until_local;
  return text + ".";
}

namespace {

using json = nlohmann::json;

http_response reply_json(unsigned status, const json& body) {
  return http_response{status, "application/json", body.dump(-1, ' ', false, json::error_handler_t::replace) + "\n", {}};
}

http_response reply_error(unsigned status, const std::string& message) {
  return reply_json(status, json{{"error", message}});
}

std::vector<std::string> path_parts(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t i = 0;
  while (i <= path.size()) {
    const auto j = path.find('/', i);
    const auto part = path.substr(i, j == std::string::npos ? std::string::npos : j - i);
    if (!part.empty()) parts.push_back(part);
    if (j == std::string::npos) break;
    i = j + 1;
  }
  return parts;
}

std::optional<std::int64_t> parse_number(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  std::int64_t v = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

json opt_time(const std::optional<core::time_point>& t, std::chrono::minutes off) {
  return t ? json(format_local_time(*t, off)) : json(nullptr);
}

/// Whether an aspiration is overdue, and its two deadline days, in the village's calendar: working
/// days that skip weekends and the configured holidays (village.holidays), as exports and reminders do.
struct judged {
  bool overdue = false;
  intake::deadlines due{};
};

judged judge(const storage::aspiration_row& a, const intake_state& st, std::chrono::minutes off, core::time_point now) {
  const auto& holidays = st.config.village.holidays;
  return {is_overdue(a, st.settings.deadline, off, now, holidays),
          intake::deadlines_for(local_day(a.received_at, off), st.settings.deadline, holidays)};
}

std::string iso_day(std::chrono::sys_days d) {
  const std::chrono::year_month_day ymd{d};
  return fmt::format("{:04d}-{:02d}-{:02d}", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                     static_cast<unsigned>(ymd.day()));
}

json aspiration_json(const storage::aspiration_row& a, const judged& j, std::chrono::minutes off) {
  return json{{"ticket", a.ticket},
              {"kind", a.kind},
              {"status", a.status},
              {"phone", a.phone},
              {"name", a.name},
              {"text", a.text},
              {"channel", a.channel},
              {"tags", a.tags},
              {"received_at", format_local_time(a.received_at, off)},
              {"first_answer_at", opt_time(a.first_answer_at, off)},
              {"closed_at", opt_time(a.closed_at, off)},
              {"last_answer", a.last_answer},
              {"overdue", j.overdue},
              {"first_answer_due", iso_day(j.due.first_answer)},
              {"resolution_due", iso_day(j.due.resolution)},
              {"reminded_at", opt_time(a.reminded_at, off)}};
}

/// A tag as officials type it: "#Air" → "air". Empty when nothing usable is left.
std::string clean_tag(std::string t) {
  if (!t.empty() && t.front() == '#') t.erase(0, 1);
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const bool ok = !t.empty() && t.size() <= 40 && std::all_of(t.begin(), t.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_' || c >= 0x80;
  });
  return ok ? t : std::string{};
}

struct listed {
  std::vector<std::pair<storage::aspiration_row, judged>> rows;
};

struct shown {
  std::optional<storage::aspiration_row> row;
  judged overdue;
  std::vector<storage::aspiration_event> history;
};

/// The outcome of an official's action: an HTTP status and message when refused, else the row after it.
struct acted {
  unsigned status = 200;
  std::string error;
  std::optional<storage::aspiration_row> row;
  judged overdue;
};

struct poll_view {
  std::optional<storage::poll_row> poll;
  storage::poll_tally tally;
  std::string broadcast_state;
};

/// The final-state check every official action shares; fills `out` and returns false when refused.
bool may_change(const storage::aspiration_row& a, acted& out) {
  const auto st = intake::parse_aspiration_status(a.status);
  if (st && intake::is_final(*st)) {
    out.status = 409;
    out.error = "aspiration " + a.ticket + " is already " + a.status + "; nothing changes a closed aspiration";
    return false;
  }
  return true;
}

}  // namespace

asio::awaitable<std::optional<http_response>> service::handle_intake_http(const http_request& request,
                                                                         const nlohmann::json& body) {
  const auto parts = path_parts(request.path);
  const auto& m = request.method;
  if (parts.size() < 2 || parts[0] != "api" || (parts[1] != "aspirations" && parts[1] != "polls")) co_return std::nullopt;
  const auto off = utc_offset_;
  auto* const intake_slot = &intake_;  // read only inside writer jobs
  auto query_value = [&request](const char* key) {
    const auto it = request.query.find(key);
    return it == request.query.end() ? std::string{} : it->second;
  };

  // ---- aspirations ----
  if (parts[1] == "aspirations" && parts.size() == 2 && m == "GET") {
    storage::aspiration_filter f;
    if (const auto s = query_value("status"); !s.empty()) {
      if (!intake::parse_aspiration_status(s))
        co_return reply_error(400, "unknown status '" + s + "': use baru, diproses, selesai or ditolak");
      f.status = s;
    }
    if (const auto t = query_value("tag"); !t.empty()) f.tag = clean_tag(t);
    if (const auto s = query_value("since"); !s.empty()) {
      const auto t = parse_local_date(s, off);
      if (!t) co_return reply_error(400, "cannot read the date '" + s + "': write YYYY-MM-DD");
      f.since = *t;
    }
    if (const auto s = query_value("until"); !s.empty()) {
      const auto t = parse_local_date(s, off);
      if (!t) co_return reply_error(400, "cannot read the date '" + s + "': write YYYY-MM-DD");
      f.until = *t + std::chrono::days{1};
    }
    const bool only_overdue = query_value("overdue") == "1" || query_value("overdue") == "true";
    if (only_overdue) f.open_only = true;
    f.limit = static_cast<std::size_t>(std::clamp<std::int64_t>(parse_number(query_value("limit")).value_or(0), 0, 100000));
    const auto now = core::now();
    const auto job = [f, only_overdue, intake_slot, off, now](storage::store& s) {
      listed out;
      for (auto& a : s.list_aspirations(f)) {
        const auto late = judge(a, **intake_slot, off, now);
        if (!only_overdue || late.overdue) out.rows.emplace_back(std::move(a), late);
      }
      return out;
    };
    const auto result = co_await query<listed>(job);
    json list = json::array();
    for (const auto& [a, late] : result.rows) list.push_back(aspiration_json(a, late, off));
    co_return reply_json(200, json{{"aspirations", list}});
  }

  // The daily reminder, now (tests, or an official who wants it before the scheduled time); still at
  // most one reminder a day per aspiration.
  if (parts[1] == "aspirations" && parts.size() == 3 && parts[2] == "remind" && m == "POST") {
    const auto now = core::now();
    const auto job = [intake_slot, off, now](storage::store& s) { return remind_overdue(s, **intake_slot, off, now); };
    const auto r = co_await query<reminder_run>(job);
    json officers = json::array();
    for (const auto& o : r.officers)
      officers.push_back(json{{"phone", o.phone}, {"name", o.name}, {"tickets", o.tickets}, {"text", o.text}});
    log_->info("overdue reminder on request overdue={} reminded={} officers={}", r.overdue, r.reminded, r.officers.size());
    if (!r.officers.empty()) wake_dispatcher();
    co_return reply_json(200, json{{"overdue", r.overdue},
                                   {"reminded", r.reminded},
                                   {"already_today", r.already_today},
                                   {"unassigned", r.unassigned},
                                   {"officers", officers}});
  }

  if (parts[1] == "aspirations" && parts.size() == 3 && m == "GET") {
    const std::string ticket = parts[2];
    const auto now = core::now();
    const auto job = [ticket, intake_slot, off, now](storage::store& s) {
      shown out;
      out.row = s.find_aspiration(ticket);
      if (!out.row) return out;
      out.overdue = judge(*out.row, **intake_slot, off, now);
      out.history = s.aspiration_history(out.row->ticket);
      return out;
    };
    const auto result = co_await query<shown>(job);
    if (!result.row) co_return reply_error(404, "no aspiration with ticket " + ticket);
    auto out = aspiration_json(*result.row, result.overdue, off);
    json history = json::array();
    for (const auto& ev : result.history)
      history.push_back(json{{"at", format_local_time(ev.at, off)},
                             {"actor", ev.actor},
                             {"action", ev.action},
                             {"status", ev.status},
                             {"text", ev.text}});
    out["history"] = history;
    co_return reply_json(200, out);
  }

  if (parts[1] == "aspirations" && parts.size() == 4 && m == "POST" && parts[3] == "kind") {
    const std::string ticket = parts[2];
    const std::string actor = body.value("actor", std::string("petugas"));
    const std::string kind = body.value("kind", std::string{});
    if (actor.empty()) co_return reply_error(400, "\"actor\" must not be empty");
    if (!intake::parse_aspiration_kind(kind))
      co_return reply_error(400, "unknown kind '" + kind + "': use aspirasi, pengaduan or permintaan-informasi");
    const auto now = core::now();
    // The kind is a classification for the district office, not a status: the resident is not messaged.
    const auto job = [ticket, kind, actor, intake_slot, off, now](storage::store& s) {
      acted out;
      const auto a = s.find_aspiration(ticket);
      if (!a) {
        out.status = 404;
        out.error = "no aspiration with ticket " + ticket;
        return out;
      }
      s.set_kind(a->ticket, kind, actor);
      out.row = s.find_aspiration(a->ticket);
      if (out.row) out.overdue = judge(*out.row, **intake_slot, off, now);
      return out;
    };
    const auto result = co_await query<acted>(job);
    if (!result.row) co_return reply_error(result.status, result.error);
    log_->info("aspiration kind ticket={} actor=\"{}\" kind={}", result.row->ticket, actor, result.row->kind);
    co_return reply_json(200, aspiration_json(*result.row, result.overdue, off));
  }

  if (parts[1] == "aspirations" && parts.size() == 4 && m == "POST" &&
      (parts[3] == "reply" || parts[3] == "reject" || parts[3] == "tags")) {
    const std::string ticket = parts[2];
    const std::string action = parts[3];
    const std::string actor = body.value("actor", std::string("petugas"));
    if (actor.empty()) co_return reply_error(400, "\"actor\" must not be empty");
    std::string text;
    bool close = false;
    std::vector<std::string> tags;
    if (action == "reply") {
      text = body.value("text", std::string{});
      close = body.value("close", false);
      if (text.empty()) co_return reply_error(400, "an answer needs a non-empty \"text\"");
    } else if (action == "reject") {
      text = body.value("reason", std::string{});
      if (text.empty()) co_return reply_error(400, "a rejection needs a \"reason\": the resident is told why");
    } else {
      // A lone "air" would iterate as a one-element list (nlohmann): refused like the config's lists.
      if (body.contains("tags") && !body["tags"].is_array())
        co_return reply_error(400, "\"tags\" must be a list of tags, like [\"air\"]");
      for (const auto& t : body.value("tags", json::array())) {
        const auto tag = t.is_string() ? clean_tag(t.get<std::string>()) : std::string{};
        if (tag.empty()) co_return reply_error(400, "a tag is a word of letters, digits and '-' (got " + t.dump() + ")");
        tags.push_back(tag);
      }
      if (tags.empty()) co_return reply_error(400, "give at least one tag");
    }
    const auto now = core::now();
    const auto job = [ticket, action, actor, text, close, tags, intake_slot, off, now](storage::store& s) {
      acted out;
      auto a = s.find_aspiration(ticket);
      if (!a) {
        out.status = 404;
        out.error = "no aspiration with ticket " + ticket;
        return out;
      }
      const auto& st = **intake_slot;
      // The resident hears of every change on the channel they wrote from (issue 5 "Aspirations").
      auto push = [&](std::string_view reply_id, const std::map<std::string, std::string>& vars) {
        s.enqueue_direct(a->phone, intake::render(st.settings, reply_id, vars), core::priority::urgent, a->channel);
      };
      if (action == "tags") {
        s.add_tags(a->ticket, tags, actor);
      } else if (!may_change(*a, out)) {
        return out;
      } else if (action == "reply") {
        s.add_answer(a->ticket, actor, text);
        if (close) {
          s.set_status(a->ticket, storage::status_done, actor, "");
          push(intake::reply_id::status_changed, {{"ticket", a->ticket},
                                                  {"status", std::string(storage::status_done)},
                                                  {"name", actor},
                                                  {"answer", text}});
        } else {
          const auto now_status = s.find_aspiration(a->ticket)->status;
          push(intake::reply_id::answer, {{"ticket", a->ticket}, {"name", actor}, {"answer", text}, {"status", now_status}});
        }
      } else {  // reject
        s.set_status(a->ticket, storage::status_rejected, actor, text);
        push(intake::reply_id::status_changed, {{"ticket", a->ticket},
                                                {"status", std::string(storage::status_rejected)},
                                                {"name", actor},
                                                {"answer", text}});
      }
      out.row = s.find_aspiration(a->ticket);
      if (out.row) out.overdue = judge(*out.row, st, off, now);
      return out;
    };
    const auto result = co_await query<acted>(job);
    if (!result.row) co_return reply_error(result.status, result.error);
    log_->info("aspiration {} ticket={} actor=\"{}\" status={}", action, result.row->ticket, actor, result.row->status);
    if (action != "tags") wake_dispatcher();
    co_return reply_json(200, aspiration_json(*result.row, result.overdue, off));
  }

  // ---- polls ----
  if (parts[1] == "polls" && parts.size() == 2 && m == "POST") {
    storage::poll_spec poll;
    poll.question = body.value("question", std::string{});
    if (poll.question.empty()) co_return reply_error(400, "a poll needs a non-empty \"question\"");
    if (body.contains("options") && !body["options"].is_array())
      co_return reply_error(400, "\"options\" must be a list of texts, like [\"Sabtu\", \"Minggu\"]");
    for (const auto& o : body.value("options", json::array())) {
      if (!o.is_string() || o.get<std::string>().empty()) co_return reply_error(400, "every option must be a non-empty text");
      poll.options.push_back(o.get<std::string>());
    }
    // One keypad digit per option, so "1".."9" is always a whole vote.
    if (poll.options.size() < 2 || poll.options.size() > 9) co_return reply_error(400, "a poll needs 2 to 9 --option");
    const auto now = std::chrono::system_clock::now();
    const auto until_text = body.value("until", std::string{});
    std::string until_shown;
    if (const auto day = parse_local_date(until_text, off)) {
      poll.until = *day + std::chrono::days{1};  // the whole of that day, village time
      until_shown = until_text;
    } else if (const auto t = parse_send_time(until_text, now, off)) {
      poll.until = std::chrono::time_point_cast<std::chrono::milliseconds>(*t);
      until_shown = format_local_time(poll.until, off);
    } else {
      co_return reply_error(400, "cannot read --until '" + until_text + "': write 2026-12-05, '2026-12-05 18:00' or +2d");
    }
    if (poll.until <= core::now()) co_return reply_error(400, "--until is already past");

    storage::broadcast_spec spec;
    if (const auto problem = read_broadcast_targets(body, config_.groups, spec); !problem.empty())
      co_return reply_error(400, problem);
    spec.text = poll_broadcast_text(poll.question, poll.options, until_shown);
    spec.created_by = body.value("created_by", std::string("admin"));
    // Votes close with the poll: a message still queued then is of no use.
    spec.expires_at = poll.until;
    const auto job = [spec, poll](storage::store& s) {
      const auto id = s.create_broadcast(spec);
      s.create_poll(id, poll);
      return id;
    };
    const auto id = co_await query<std::int64_t>(job);
    log_->info("poll created broadcast={} options={} until=\"{}\"", id, poll.options.size(), format_local_time(poll.until, off));
    wake_scheduler();
    co_return reply_json(201, json{{"id", id}, {"text", spec.text}, {"until", format_local_time(poll.until, off)}});
  }

  if (parts[1] == "polls" && parts.size() == 3 && m == "GET") {
    const auto id = parse_number(parts[2]);
    if (!id) co_return reply_error(400, "a poll id is its broadcast's number, not '" + parts[2] + "'");
    const std::string by = query_value("by");
    const auto bid = *id;
    const auto job = [bid, by](storage::store& s) {
      poll_view out;
      out.poll = s.get_poll(bid);
      if (!out.poll) return out;
      out.tally = s.poll_results(bid, by);
      if (const auto b = s.get_broadcast(bid)) out.broadcast_state = b->state;
      return out;
    };
    const auto result = co_await query<poll_view>(job);
    if (!result.poll) co_return reply_error(404, "no poll with id " + parts[2]);
    const auto& spec = result.poll->spec;
    std::vector<std::int64_t> totals(spec.options.size(), 0);
    json groups = json::object();
    for (const auto& [value, per_option] : result.tally) {
      json g = json::object();
      for (const auto& [number, n] : per_option) {
        if (number >= 1 && static_cast<std::size_t>(number) <= totals.size()) totals[static_cast<std::size_t>(number - 1)] += n;
        g[std::to_string(number)] = n;
      }
      groups[value.empty() ? "(none)" : value] = g;
    }
    json options = json::array();
    std::int64_t total = 0;
    for (std::size_t i = 0; i < spec.options.size(); ++i) {
      options.push_back(json{{"number", i + 1}, {"text", spec.options[i]}, {"votes", totals[i]}});
      total += totals[i];
    }
    json out{{"id", bid},
             {"question", spec.question},
             {"until", format_local_time(spec.until, off)},
             {"open", spec.until > core::now()},
             {"broadcast_state", result.broadcast_state},
             {"options", options},
             {"votes", total}};
    if (!by.empty()) {
      out["by_attribute"] = by;
      out["by"] = groups;
    }
    co_return reply_json(200, out);
  }

  co_return std::nullopt;
}

}  // namespace kentongan::daemon
