// The daemon's admin HTTP API (JSON over HTTP on --listen) used by the CLI, the demo and the tests.
// Every route but the health checks needs the bearer token from STATE_DIR/admin.token.
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>
#include <string_view>

#include "config/phone.hpp"
#include "daemon/service_impl.hpp"
#include "protocol/gsm/gsm.hpp"
#include "protocol/modem/modem_channel.hpp"
#include "protocol/sim/sim_channel.hpp"
#include "storage/disk_full.hpp"
#include "core/json_depth.hpp"
#include "core/utf8.hpp"
#include "storage/backup.hpp"

namespace kentongan::daemon {
namespace {

using json = nlohmann::json;

http_response json_reply(unsigned status, const json& body) {
  // Text from the database came through channels that may have let a stray byte through: a reply
  // shows it as U+FFFD rather than failing the whole request (dump() throws on invalid UTF-8).
  return http_response{status, "application/json", body.dump(-1, ' ', false, json::error_handler_t::replace) + "\n", {}};
}

http_response error_reply(unsigned status, const std::string& message) {
  return json_reply(status, json{{"error", message}});
}

bool token_matches(const std::string& header, const std::string& token) {
  const std::string prefix = "Bearer ";
  if (header.size() != prefix.size() + token.size() || header.compare(0, prefix.size(), prefix) != 0) return false;
  // Constant time: the token is the only thing between the network and the broadcast button.
  return CRYPTO_memcmp(header.data() + prefix.size(), token.data(), token.size()) == 0;
}

json counts_json(const storage::state_counts& c) {
  return json{{"recipients", c.recipients}, {"queued", c.queued},       {"sending", c.sending},
              {"submitted", c.submitted},   {"delivered", c.delivered}, {"failed", c.failed},
              {"expired", c.expired},       {"cancelled", c.cancelled}, {"in_doubt", c.in_doubt}};
}

std::string public_state(const std::string& db_state) {
  // The CLI speaks of scheduled, sending, done and cancelled; expansion is a detail of sending.
  if (db_state == "expanding") return "sending";
  return db_state;
}

std::optional<std::int64_t> parse_id(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  std::int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

/// The admin routes and the methods each answers, for the 405's Allow header (RFC 9110 §15.5.6).
/// The dispatch in service::handle_http and handle_intake_http stays the authority: this table is
/// read only when no route took a request. '*' is one path segment (an id, a ticket, a name).
struct route_methods {
  std::string_view pattern;
  bool get;
  bool post;
};
constexpr std::array<route_methods, 15> admin_routes{{
    {"api/broadcasts", true, true},
    {"api/broadcasts/*", true, false},
    {"api/broadcasts/*/cancel", false, true},
    {"api/broadcasts/*/resend", false, true},
    {"api/sim/inbound", false, true},
    {"api/subscribers/forget", false, true},
    {"api/modems/*/balance", false, true},
    {"api/backup", false, true},
    {"api/reload", false, true},
    {"api/aspirations", true, false},
    {"api/aspirations/remind", false, true},
    {"api/aspirations/*", true, false},
    {"api/aspirations/*/*", false, true},  // kind, reply, reject, tags
    {"api/polls", false, true},
    {"api/polls/*", true, false},
}};

bool pattern_matches(std::string_view pattern, const std::vector<std::string>& parts) {
  std::size_t i = 0;
  for (const auto& part : parts) {
    if (pattern.empty()) return false;
    const auto slash = pattern.find('/');
    const auto want = pattern.substr(0, slash);
    if (want != "*" && want != part) return false;
    pattern = slash == std::string_view::npos ? std::string_view{} : pattern.substr(slash + 1);
    ++i;
  }
  return i > 0 && pattern.empty();
}

/// The Allow header's value for an admin path, or empty when no route has that path (a 404).
/// HEAD is answered wherever GET is (the HTTP server sends the headers only).
std::string allowed_methods(const std::vector<std::string>& parts) {
  bool get = false, post = false;
  for (const auto& r : admin_routes)
    if (pattern_matches(r.pattern, parts)) {
      get = get || r.get;
      post = post || r.post;
    }
  if (get && post) return "GET, HEAD, POST";
  if (get) return "GET, HEAD";
  return post ? "POST" : "";
}

/// At most 200 bytes of a path for a log line (the server refused control characters already).
std::string_view log_path(const std::string& path) { return std::string_view(path).substr(0, 200); }

http_response method_not_allowed(const std::string& method, const std::string& path, const std::string& allow) {
  return http_response{405, "application/json",
                       json{{"error", method.substr(0, 20) + " is not allowed on " + std::string(log_path(path)) +
                                          "; use " + allow},
                            {"allow", allow}}
                               .dump(-1, ' ', false, json::error_handler_t::replace) +
                           "\n",
                       {{"Allow", allow}}};
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t i = 0;
  while (i < path.size()) {
    const auto j = path.find('/', i);
    const auto part = path.substr(i, j == std::string::npos ? std::string::npos : j - i);
    if (!part.empty()) parts.push_back(part);
    if (j == std::string::npos) break;
    i = j + 1;
  }
  return parts;
}

}  // namespace

std::string read_broadcast_targets(const json& body, const std::vector<core::group>& groups,
                                   storage::broadcast_spec& spec) {
  spec.all = body.value("all", false);
  // A lone value would be iterated as a one-item list by the JSON library: refuse it, as the config does.
  if (body.contains("groups") && !body["groups"].is_array())
    return "\"groups\" must be a list of group names, like [\"petani\"]";
  if (body.contains("where") && !body["where"].is_array())
    return "\"where\" must be a list of ATTRIBUTE=VALUE texts, like [\"dusun=Kaja\"]";
  for (const auto& g : body.value("groups", json::array())) {
    if (!g.is_string()) return "\"groups\" must be a list of group names";
    const auto name = g.get<std::string>();
    const bool known = std::any_of(groups.begin(), groups.end(), [&](const core::group& cg) { return cg.id == name; });
    if (!known) {
      std::string names;
      for (const auto& cg : groups) names += (names.empty() ? "" : ", ") + cg.id;
      return "no group named '" + name + "'; the groups are: " + names;
    }
    spec.groups.push_back(name);
  }
  if (!spec.all && spec.groups.empty()) return "choose at least one --group, or --all";
  for (const auto& w : body.value("where", json::array())) {
    const auto text = w.is_string() ? w.get<std::string>() : std::string{};
    const auto eq = text.find('=');
    if (eq == std::string::npos || eq == 0)
      return "--where takes ATTRIBUTE=VALUE, for example dusun=Kaja (got '" + text + "')";
    spec.where.emplace_back(text.substr(0, eq), text.substr(eq + 1));
  }
  const auto prio = core::parse_priority(body.value("priority", std::string("normal")));
  if (!prio) return "priority must be normal or urgent";
  spec.priority = *prio;
  return {};
}

/// The routes, as friends of the service: each runs on the I/O thread, database work through query().
struct admin_api {
  service& svc;

  asio::awaitable<http_response> create_broadcast(const json& body) {
    storage::broadcast_spec spec;
    if (!body.contains("text") || !body["text"].is_string() || body["text"].get<std::string>().empty())
      co_return error_reply(400, "a broadcast needs a non-empty \"text\"");
    spec.text = body["text"].get<std::string>();
    if (const auto problem = read_broadcast_targets(body, svc.config_.groups, spec); !problem.empty())
      co_return error_reply(400, problem);
    const auto now = std::chrono::system_clock::now();
    if (const auto at = body.value("at", std::string{}); !at.empty()) {
      const auto t = parse_send_time(at, now, svc.utc_offset_);
      if (!t)
        co_return error_reply(400, "cannot read the send time '" + at +
                                       "': write 08:00, 2026-12-01 08:00 or +30m (village time)");
      spec.send_at = std::chrono::time_point_cast<std::chrono::milliseconds>(*t);
    }
    if (const auto ex = body.value("expires", std::string{}); !ex.empty()) {
      const auto d = parse_duration(ex);
      if (!d) co_return error_reply(400, "cannot read the expiry '" + ex + "': write for example 30m, 6h or 2d");
      spec.expires_at = std::chrono::time_point_cast<std::chrono::milliseconds>(spec.send_at.value_or(core::now()) + *d);
    }
    spec.created_by = body.value("created_by", std::string("admin"));

    if (body.value("dry_run", false)) {
      const auto count_job = [spec](storage::store& s) { return s.count_recipients(spec); };
      const auto recipients = co_await svc.query<std::int64_t>(count_job);
      bool transliterate = false;
      double price = 0;
      for (const auto& slot : svc.channels_)
        if (is_sms_kind(slot->settings.type)) {
          transliterate = slot->settings.transliterate;
          price = slot->settings.price_per_part;
          break;
        }
      const auto plan = gsm::plan_message(spec.text, {transliterate});
      const auto parts = static_cast<std::int64_t>(plan.parts.size());
      co_return json_reply(200, json{{"recipients", recipients},
                                     {"encoding", std::string(gsm::to_string(plan.enc))},
                                     {"parts_per_message", parts},
                                     {"units", plan.units},
                                     {"remaining", plan.remaining},
                                     {"total_parts", parts * recipients},
                                     {"estimated_cost", static_cast<double>(parts * recipients) * price},
                                     {"currency", "IDR"}});
    }
    const auto create_job = [spec](storage::store& s) { return s.create_broadcast(spec); };
    const auto id = co_await svc.query<std::int64_t>(create_job);
    svc.log_->info("broadcast created id={} groups={} priority={} scheduled={}", id, spec.groups.size(),
                   core::to_string(spec.priority), spec.send_at.has_value());
    svc.wake_scheduler();
    co_return json_reply(201, json{{"id", id}});
  }

  asio::awaitable<http_response> broadcast_status(std::int64_t id, const std::string& by) {
    using result = std::tuple<std::optional<storage::broadcast_row>, storage::state_counts,
                              std::map<std::string, storage::state_counts>>;
    const auto job = [id, by](storage::store& s) {
      auto b = s.get_broadcast(id);
      if (!b) return result{};
      return result{b, s.counts(id), by.empty() ? std::map<std::string, storage::state_counts>{} : s.counts_by(id, by)};
    };
    const auto [row, counts, breakdown] = co_await svc.read_query<result>(job);
    if (!row) co_return error_reply(404, "no broadcast with id " + std::to_string(id));
    json out = counts_json(counts);
    out["id"] = id;
    // A broadcast whose rows are all final is done even before the scheduler marks it.
    out["state"] = public_state(row->state);
    out["text"] = row->spec.text;
    out["priority"] = core::to_string(row->spec.priority);
    out["created_at"] = format_local_time(row->created_at, svc.utc_offset_);
    if (row->spec.send_at) out["send_at"] = format_local_time(*row->spec.send_at, svc.utc_offset_);
    if (!by.empty()) {
      json b = json::object();
      for (const auto& [value, c] : breakdown) b[value.empty() ? "(none)" : value] = counts_json(c);
      out["by"] = b;
      out["by_attribute"] = by;
    }
    co_return json_reply(200, out);
  }

  asio::awaitable<http_response> list_broadcasts(std::size_t limit) {
    using row_counts = std::vector<std::pair<storage::broadcast_row, storage::state_counts>>;
    const auto job = [limit](storage::store& s) {
      row_counts out;
      for (auto& b : s.list_broadcasts(limit)) {
        auto c = s.counts(b.id);
        out.emplace_back(std::move(b), c);
      }
      return out;
    };
    const auto rows = co_await svc.read_query<row_counts>(job);
    json list = json::array();
    for (const auto& [b, c] : rows) {
      json item = counts_json(c);
      item["id"] = b.id;
      item["state"] = public_state(b.state);
      item["text"] = b.spec.text;
      item["priority"] = core::to_string(b.spec.priority);
      item["created_at"] = format_local_time(b.created_at, svc.utc_offset_);
      list.push_back(item);
    }
    co_return json_reply(200, json{{"broadcasts", list}});
  }

  asio::awaitable<http_response> cancel(std::int64_t id) {
    using result = std::optional<std::int64_t>;
    const auto job = [id](storage::store& s) -> result {
      if (!s.get_broadcast(id)) return std::nullopt;
      return s.cancel_broadcast(id);
    };
    const auto n = co_await svc.query<result>(job);
    if (!n) co_return error_reply(404, "no broadcast with id " + std::to_string(id));
    // Rows already handed to a channel finish; rows waiting in memory go back and get cancelled.
    for (auto& slot : svc.channels_) {
      std::deque<storage::outbox_row> keep;
      for (auto& row : slot->backlog) {
        if (row.broadcast_id == id) {
          const auto rid = row.id;
          svc.change([rid](storage::store& s) { s.requeue(rid, core::now(), "broadcast cancelled"); },
                     [&svc = svc, id](std::exception_ptr) {
                       svc.change([id](storage::store& s) { s.cancel_broadcast(id); });
                     });
        } else {
          keep.push_back(std::move(row));
        }
      }
      slot->backlog.swap(keep);
    }
    svc.log_->info("broadcast cancelled id={} rows={}", id, *n);
    co_return json_reply(200, json{{"id", id}, {"cancelled", *n}});
  }

  asio::awaitable<http_response> resend(std::int64_t id, const json& body) {
    const auto only = body.value("only", std::string("undelivered"));
    if (only != "failed" && only != "undelivered") co_return error_reply(400, "--only takes failed or undelivered");
    const bool only_failed = only == "failed";
    using result = std::optional<std::int64_t>;
    const auto job = [id, only_failed](storage::store& s) -> result {
      if (!s.get_broadcast(id)) return std::nullopt;
      return s.resend(id, only_failed);
    };
    const auto new_id = co_await svc.query<result>(job);
    if (!new_id) co_return error_reply(404, "no broadcast with id " + std::to_string(id));
    svc.wake_scheduler();
    co_return json_reply(201, json{{"id", *new_id}, {"resend_of", id}});
  }

  asio::awaitable<http_response> sim_inbound(const json& body) {
    const auto from = body.value("from", std::string{});
    const auto text = body.value("text", std::string{});
    const auto phone = config::normalise_phone(from, svc.config_.village.country);
    if (!phone.ok()) co_return error_reply(400, "cannot use '" + from + "' as a phone number: " + phone.error);
    const auto wanted = body.value("channel", std::string{});
    for (auto& slot : svc.channels_) {
      if (slot->link->kind() != "sim" || (!wanted.empty() && slot->link->name() != wanted)) continue;
      auto* sim_link = static_cast<sim::sim_channel*>(slot->link.get());
      const auto id = sim_link->inject(phone.e164, text);
      co_return json_reply(202, json{{"provider_id", id}, {"from", phone.e164}});
    }
    co_return error_reply(404, "no simulated channel is configured (add {\"type\": \"sim\"} to channels)");
  }

  asio::awaitable<http_response> forget(const json& body) {
    const auto phone = config::normalise_phone(body.value("phone", std::string{}), svc.config_.village.country);
    if (!phone.ok()) co_return error_reply(400, "not a phone number: " + phone.error);
    const auto e164 = phone.e164;
    const auto job = [e164](storage::store& s) { return s.forget(e164); };
    const auto r = co_await svc.query<storage::forget_report>(job);
    co_return json_reply(200, json{{"subscribers", r.subscribers},
                                   {"memberships", r.memberships},
                                   {"opt_outs", r.opt_outs},
                                   {"outbox", r.outbox},
                                   {"inbox", r.inbox},
                                   {"aspirations", r.aspirations}});
  }

  /// POST /api/backup {"file": "/abs/path"}: SQLite's online backup, one step per writer job so that
  /// the dispatcher's changes go on between steps; the copy is checked and renamed into place.
  asio::awaitable<http_response> backup(const json& body) {
    const auto file = body.value("file", std::string{});
    if (file.empty() || file.front() != '/') co_return error_reply(400, "give the backup file as an absolute path");
    if (svc.backup_running_) co_return error_reply(409, "a backup is already running; try again when it is done");
    svc.backup_running_ = true;
    constexpr int pages_per_step = 256;  // about 1 MiB: a few milliseconds of the writer's time
    auto holder = std::make_shared<std::unique_ptr<storage::online_backup>>();
    const std::filesystem::path source = svc.db_file_, target = file;
    storage::backup_report report;
    std::string failure;
    try {
      const auto open_job = [holder, source, target](storage::store&) {
        *holder = std::make_unique<storage::online_backup>(source, target);
        return true;
      };
      co_await svc.query<bool>(open_job);
      const auto step_job = [holder](storage::store&) { return (*holder)->step(pages_per_step); };
      bool done = false;
      while (!done) {
        if (svc.stopping_) throw std::runtime_error("the daemon is stopping; the backup was abandoned");
        done = co_await svc.query<bool>(step_job);
      }
      const auto finish_job = [holder](storage::store&) {
        auto r = (*holder)->finish();
        holder->reset();
        return r;
      };
      report = co_await svc.query<storage::backup_report>(finish_job);
    } catch (const std::exception& e) {
      failure = e.what();
    }
    svc.backup_running_ = false;
    if (!failure.empty()) {
      svc.log_->error("backup failed file={} error=\"{}\"", file, failure);
      co_return error_reply(500, "backup failed: " + failure);
    }
    svc.log_->info("backup written file={} pages={} bytes={} steps={}", file, report.pages, report.bytes, report.steps);
    co_return json_reply(200, json{{"file", report.file.string()},
                                   {"pages", report.pages},
                                   {"bytes", report.bytes},
                                   {"steps", report.steps},
                                   {"integrity", "ok"}});
  }

  /// POST /api/modems/NAME/balance: the SIM's USSD balance, asked now (kentongan modem balance NAME).
  asio::awaitable<http_response> modem_balance(const std::string& name) {
    auto* slot = svc.find_slot(name);
    const auto* modem = slot ? as_modem(slot->link.get()) : nullptr;
    if (!modem) co_return error_reply(404, "no modem channel named '" + name + "'");
    const auto answer = co_await svc.ask_modem_balance(name);
    if (!answer.ok) co_return error_reply(503, "no balance from " + name + ": " + answer.text);
    auto reply = modem_health_json(*modem);
    reply["channel"] = name;
    reply["balance"] = answer.text;
    co_return json_reply(200, reply);
  }

  asio::awaitable<http_response> health(bool ready) {
    json channels = json::array();
    bool any_up = false;
    for (const auto& slot : svc.channels_) {
      channels.push_back(json{{"name", slot->link->name()},
                              {"kind", slot->link->kind()},
                              {"up", slot->link->is_up()},
                              {"in_flight", slot->in_flight},
                              {"backlog", slot->backlog.size()}});
      if (const auto* modem = as_modem(slot->link.get())) channels.back()["modem"] = modem_health_json(*modem);
      any_up = any_up || slot->link->is_up();
    }
    if (!ready) co_return json_reply(200, json{{"status", "ok"}});
    bool db_ok = true;
    try {
      const auto job = [](storage::store& s) { return s.schema_version(); };
      co_await svc.query<int>(job);
    } catch (const std::exception&) {
      db_ok = false;
    }
    const bool disk_full = storage::disk_full();
    const bool ok = db_ok && !disk_full && any_up && !svc.stopping_;
    co_return json_reply(ok ? 200 : 503, json{{"status", ok ? "ready" : "not ready"},
                                               {"database", db_ok},
                                               {"disk_full", disk_full},
                                               {"channels", channels},
                                               {"in_doubt_recovered", svc.in_doubt_recovered_}});
  }
};

namespace {

/// Prometheus text format 0.0.4: label values escape backslash, double quote and line feed.
std::string label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

/// Upper bounds (seconds) of the submit latency histogram: an SMSC answers in milliseconds, a WhatsApp
/// API call in a second or so, a link that stalls in tens of seconds.
constexpr std::array<double, 10> submit_latency_bounds{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
constexpr auto db_metrics_ttl = std::chrono::seconds{5};

std::string number(double v) { return fmt::format("{}", v); }

/// Which refusal a webhook answer is (GET is the subscription check, POST a notification).
std::string webhook_reject_reason(const std::string& method, unsigned status) {
  switch (status) {
    case 400: return "malformed";
    case 401: return "missing_signature";
    case 403: return method == "GET" ? "bad_verify_token" : "bad_signature";
    case 404: return "unknown_webhook";
    case 405: return "bad_method";
    default: return status >= 500 ? "server_error" : "other";
  }
}

http_response with_webhook_allow(http_response reply, const http_request& request) {
  // Webhooks take GET (Meta's verification, Kannel-style callbacks) and POST (notifications):
  // a 405 says so (RFC 9110 §15.5.6), and the operator sees who knocked with what.
  if (reply.status != 405) return reply;
  const bool has_allow = std::any_of(reply.headers.begin(), reply.headers.end(), [](const auto& h) {
    return h.first == "Allow" || h.first == "allow";
  });
  if (!has_allow) reply.headers.emplace_back("Allow", "GET, HEAD, POST");
  if (auto log = spdlog::get("http"))
    log->warn("webhook rejected reason=bad_method method={} path={}", request.method.substr(0, 20), log_path(request.path));
  return reply;
}

}  // namespace

void service::note_submit_result(const std::string& channel_name, std::chrono::steady_clock::duration took) {
  const double seconds = std::chrono::duration<double>(took).count();
  auto& h = submit_latency_[channel_name];
  if (h.buckets.empty()) h.buckets.assign(submit_latency_bounds.size(), 0);
  for (std::size_t i = 0; i < submit_latency_bounds.size(); ++i)
    if (seconds <= submit_latency_bounds[i]) {
      ++h.buckets[i];
      break;
    }
  ++h.count;
  h.sum += seconds;
}

void service::count_webhook_reply(const http_request& request, unsigned status) {
  if (status < 400) return;
  ++webhook_rejects_[webhook_reject_reason(request.method, status)];
}

asio::awaitable<http_response> service::handle_webhook_counted(const http_request& request) {
  auto reply = co_await handle_webhook_only(request);
  if (request.path.rfind("/webhooks/", 0) == 0) count_webhook_reply(request, reply.status);
  co_return with_webhook_allow(std::move(reply), request);
}

asio::awaitable<http_response> service::metrics() {
  // The database's figures cost the writer a pass over the outbox: at most once per db_metrics_ttl,
  // and never two queries at once however many scrapers there are.
  const auto now = std::chrono::steady_clock::now();
  if ((!db_metrics_ || now - db_metrics_at_ > db_metrics_ttl) && !db_metrics_querying_) {
    db_metrics_querying_ = true;
    try {
      const auto job = [](storage::store& s) { return s.metrics(); };
      db_metrics_ = co_await query<storage::db_metrics>(job);
      db_metrics_at_ = std::chrono::steady_clock::now();
    } catch (const std::exception& e) {
      log_->warn("metrics query failed error=\"{}\"", e.what());
    }
    db_metrics_querying_ = false;
  }

  std::string out;
  auto family = [&](const char* name, const char* type, const char* help) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  };
  auto sample = [&](const char* name, std::initializer_list<std::pair<const char*, std::string_view>> labels,
                    const std::string& value) {
    out += name;
    if (labels.size() > 0) {
      out += '{';
      bool first = true;
      for (const auto& [k, v] : labels) {
        out += (first ? "" : ",") + std::string(k) + "=\"" + label_value(v) + "\"";
        first = false;
      }
      out += '}';
    }
    out += " " + value + "\n";
  };

  family("kentongan_channel_up", "gauge", "1 when the channel's link is up");
  for (const auto& slot : channels_)
    sample("kentongan_channel_up", {{"channel", slot->link->name()}, {"kind", slot->link->kind()}},
           slot->link->is_up() ? "1" : "0");
  family("kentongan_channel_downs_total", "counter", "Times the channel's link went down since the daemon started");
  for (const auto& [name, st] : link_stats_) sample("kentongan_channel_downs_total", {{"channel", name}}, std::to_string(st.downs));
  family("kentongan_channel_reconnects_total", "counter", "Times the channel's link came back up after its first connection");
  for (const auto& [name, st] : link_stats_)
    sample("kentongan_channel_reconnects_total", {{"channel", name}}, std::to_string(st.ups > 0 ? st.ups - 1 : 0));
  family("kentongan_messages_submitted_total", "counter", "Messages the network accepted, by channel");
  for (const auto& slot : channels_)
    sample("kentongan_messages_submitted_total", {{"channel", slot->link->name()}}, std::to_string(slot->submitted));
  family("kentongan_messages_refused_total", "counter", "Messages a channel refused for good, by channel");
  for (const auto& slot : channels_)
    sample("kentongan_messages_refused_total", {{"channel", slot->link->name()}}, std::to_string(slot->failed));
  family("kentongan_messages_in_flight", "gauge", "Messages handed to a channel without an answer yet");
  for (const auto& slot : channels_)
    sample("kentongan_messages_in_flight", {{"channel", slot->link->name()}}, std::to_string(slot->in_flight));
  family("kentongan_messages_waiting", "gauge", "Messages claimed from the outbox waiting for the channel's rate or window");
  for (const auto& slot : channels_)
    sample("kentongan_messages_waiting", {{"channel", slot->link->name()}}, std::to_string(slot->backlog.size()));
  family("kentongan_channel_rate_factor", "gauge", "Share of the configured rate in use (below 1 while throttled)");
  for (const auto& slot : channels_)
    sample("kentongan_channel_rate_factor", {{"channel", slot->link->name()}}, number(slot->throttle_factor));

  family("kentongan_submit_latency_seconds", "histogram", "Time from handing a message to a channel to the network's answer");
  for (const auto& [name, h] : submit_latency_) {
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < submit_latency_bounds.size(); ++i) {
      cumulative += h.buckets[i];
      sample("kentongan_submit_latency_seconds_bucket", {{"channel", name}, {"le", number(submit_latency_bounds[i])}},
             std::to_string(cumulative));
    }
    sample("kentongan_submit_latency_seconds_bucket", {{"channel", name}, {"le", "+Inf"}}, std::to_string(h.count));
    sample("kentongan_submit_latency_seconds_sum", {{"channel", name}}, number(h.sum));
    sample("kentongan_submit_latency_seconds_count", {{"channel", name}}, std::to_string(h.count));
  }

  std::vector<const modem::modem_channel*> modems;
  for (const auto& slot : channels_)
    if (const auto* modem = as_modem(slot->link.get())) modems.push_back(modem);
  out += modem_metrics(modems);
  family("kentongan_inbound_total", "counter", "Inbound messages received from every channel since the daemon started");
  sample("kentongan_inbound_total", {}, std::to_string(inbound_count_));
  family("kentongan_webhook_rejects_total", "counter", "Webhook requests refused, by reason");
  for (const auto& [reason, n] : webhook_rejects_) sample("kentongan_webhook_rejects_total", {{"reason", reason}}, std::to_string(n));
  family("kentongan_in_doubt_recovered", "gauge", "Rows found in sending at start-up that may have reached the network (may reach a phone twice)");
  sample("kentongan_in_doubt_recovered", {}, std::to_string(in_doubt_recovered_));

  if (db_metrics_) {
    const auto& m = *db_metrics_;
    family("kentongan_messages", "gauge", "Outbox rows by channel (empty before a channel took them) and state");
    for (const auto& [key, n] : m.messages)
      sample("kentongan_messages", {{"channel", key.first}, {"state", key.second}}, std::to_string(n));
    family("kentongan_queue_depth", "gauge", "Outbox rows queued (due now or waiting for a retry)");
    sample("kentongan_queue_depth", {}, std::to_string(m.queued));
    family("kentongan_queue_oldest_age_seconds", "gauge", "Age of the oldest queued outbox row (0 when none)");
    const double age = m.oldest_queued ? std::max(0.0, std::chrono::duration<double>(core::now() - *m.oldest_queued).count()) : 0.0;
    sample("kentongan_queue_oldest_age_seconds", {}, number(std::floor(age * 1000) / 1000));
    family("kentongan_inbound_messages", "gauge", "Inbox messages by channel and the keyword the intake recognised");
    for (const auto& [key, n] : m.inbound)
      sample("kentongan_inbound_messages", {{"channel", key.first}, {"keyword", key.second.empty() ? "unrouted" : key.second}},
             std::to_string(n));
    family("kentongan_aspirations", "gauge", "Aspirations by status (baru, diproses, selesai, ditolak)");
    for (const auto& [status, n] : m.aspirations) sample("kentongan_aspirations", {{"status", status}}, std::to_string(n));
    family("kentongan_db_metrics_age_seconds", "gauge", "How old the database figures above are (they are cached)");
    sample("kentongan_db_metrics_age_seconds", {},
           number(std::floor(std::chrono::duration<double>(std::chrono::steady_clock::now() - db_metrics_at_).count() * 1000) / 1000));
  }
  co_return http_response{200, "text/plain; version=0.0.4; charset=utf-8", out, {}};
}

asio::awaitable<http_response> service::handle_http(const http_request& request) {
  admin_api api{*this};
  const auto parts = split_path(request.path);
  if (request.path == "/healthz" || request.path == "/readyz" || request.path == "/metrics") {
    if (request.method != "GET") {
      log_->warn("http request refused reason=bad_method method={} path={} allow=\"GET, HEAD\"", request.method,
                 request.path);
      co_return method_not_allowed(request.method, request.path, "GET, HEAD");
    }
    if (request.path == "/healthz") co_return co_await api.health(false);
    if (request.path == "/readyz") co_return co_await api.health(true);
    co_return co_await metrics();
  }
  if (request.path.rfind("/webhooks/", 0) == 0) {
    auto webhook_reply = co_await handle_webhook(request);
    if (webhook_reply) count_webhook_reply(request, webhook_reply->status);
    if (webhook_reply) co_return with_webhook_allow(std::move(*webhook_reply), request);
    co_return error_reply(404, "no such webhook: " + request.path);
  }
  if (parts.empty() || parts[0] != "api") co_return error_reply(404, "no such path: " + request.path);
  if (!token_matches(request.header("authorization"), admin_token_)) {
    log_->warn("admin api request refused reason=bad_token path={}", request.path);
    co_return error_reply(401, "missing or wrong admin token (the CLI reads it from STATE_DIR/admin.token)");
  }
  if (storage::disk_full() && request.method != "GET") {
    // New work would be refused by the database anyway; say why before it is half done.
    log_->warn("admin api request refused reason=disk_full path={} (disk full: free space on the database's file system)",
               request.path);
    co_return http_response{503, "application/json",
                            json{{"error", "disk full: the database cannot be written; free space on its file system "
                                           "(the daemon resumes by itself)"},
                                 {"reason", "disk_full"}}.dump() + "\n",
                            {{"Retry-After", "30"}}};
  }
  json body = json::object();
  if (!request.body.empty()) {
    if (core::json_nesting_exceeds(request.body))
      co_return error_reply(400, "the request body nests deeper than " + std::to_string(core::max_json_depth) + " levels");
    // JSON text is UTF-8 (RFC 8259 §8.1): a stray byte, an overlong form or an encoded surrogate is
    // refused here with its offset, so that nothing but well-formed text reaches the database.
    if (const auto at = core::first_invalid_utf8(request.body)) {
      log_->warn("admin api request refused reason=invalid_utf8 path={} offset={}", log_path(request.path), *at);
      co_return error_reply(400, "the request body is not valid JSON: invalid UTF-8 at byte " + std::to_string(*at) +
                                     " (JSON text must be UTF-8)");
    }
    try {
      body = json::parse(request.body);
    } catch (const json::exception& e) {
      // parse_error, e.g. "parse error at line 1, column 9: … invalid string: surrogate U+D800..U+DBFF
      // must be followed by U+DC00..U+DFFF" (a lone surrogate written as \ud800), or out_of_range for a
      // number beyond a double's range ("number overflow parsing '1e999'").
      std::string why = e.what();
      if (const auto bracket = why.find("] "); bracket != std::string::npos) why.erase(0, bracket + 2);
      co_return error_reply(400, "the request body is not valid JSON: " + why);
    }
    if (!body.is_object()) co_return error_reply(400, "the request body must be a JSON object {…}");
  }
  const auto& m = request.method;
  try {
    if (parts.size() == 2 && parts[1] == "broadcasts") {
      if (m == "POST") co_return co_await api.create_broadcast(body);
      if (m == "GET") {
        const auto limit = parse_id(request.query.count("limit") ? request.query.at("limit") : "20").value_or(20);
        co_return co_await api.list_broadcasts(static_cast<std::size_t>(std::clamp<std::int64_t>(limit, 1, 1000)));
      }
    }
    if (parts.size() >= 3 && parts[1] == "broadcasts") {
      const auto id = parse_id(parts[2]);
      if (!id) co_return error_reply(400, "a broadcast id is a number, not '" + parts[2] + "'");
      {
        const std::string by = request.query.count("by") ? request.query.at("by") : std::string{};
        if (parts.size() == 3 && m == "GET") co_return co_await api.broadcast_status(*id, by);
      }
      if (parts.size() == 4 && parts[3] == "cancel" && m == "POST") co_return co_await api.cancel(*id);
      if (parts.size() == 4 && parts[3] == "resend" && m == "POST") co_return co_await api.resend(*id, body);
    }
    if (parts.size() == 3 && parts[1] == "sim" && parts[2] == "inbound" && m == "POST")
      co_return co_await api.sim_inbound(body);
    if (parts.size() == 3 && parts[1] == "subscribers" && parts[2] == "forget" && m == "POST")
      co_return co_await api.forget(body);
    if (parts.size() == 4 && parts[1] == "modems" && parts[3] == "balance" && m == "POST")
      co_return co_await api.modem_balance(parts[2]);
    if (parts.size() == 2 && parts[1] == "backup" && m == "POST") co_return co_await api.backup(body);
    if (parts.size() == 2 && parts[1] == "reload" && m == "POST") {
      const auto outcome = co_await reload();
      if (!outcome.refused.empty()) co_return error_reply(422, outcome.refused);
      const auto& r = outcome.synced;
      json reply{{"reloaded", true}};
      if (!outcome.sync_failed.empty()) {
        reply["sync_failed"] = outcome.sync_failed;
      } else {
        reply["subscribers"] = {{"added", r.added}, {"changed", r.changed}, {"removed", r.removed}};
        reply["groups"] = {{"added", r.groups_added}, {"changed", r.groups_changed}, {"removed", r.groups_removed}};
        reply["officers"] = r.officers;
      }
      co_return json_reply(200, reply);
    }
    auto intake_reply = co_await handle_intake_http(request, body);
    if (intake_reply) co_return std::move(*intake_reply);
  } catch (const json::exception& e) {
    co_return error_reply(400, std::string("bad request: ") + e.what());
  }
  // No route took it: a known path with another method is a 405 naming the right ones.
  if (const auto allow = allowed_methods(parts); !allow.empty()) {
    log_->warn("admin api request refused reason=bad_method method={} path={} allow=\"{}\"", m, log_path(request.path),
               allow);
    co_return method_not_allowed(m, request.path, allow);
  }
  log_->info("admin api request refused reason=unknown_route method={} path={}", m, log_path(request.path));
  co_return error_reply(404, "no such route: " + m + " " + request.path);
}

}  // namespace kentongan::daemon
