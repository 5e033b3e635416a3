// Webhooks from providers (WhatsApp Cloud API). Served without the admin token but only with a
// valid signature; answered 200 only after what they carried is durably stored.
#include <future>
#include <nlohmann/json.hpp>

#include "daemon/inbound.hpp"
#include "daemon/logging.hpp"
#include "daemon/service_impl.hpp"
#include "protocol/http/http_channel.hpp"
#include "protocol/whatsapp/signature.hpp"
#include "protocol/whatsapp/webhook.hpp"
#include "protocol/whatsapp/whatsapp_channel.hpp"

namespace kentongan::daemon {
namespace {

http_response plain(unsigned status, std::string body, std::string type = "text/plain") {
  return http_response{status, std::move(type), std::move(body), {}};
}

}  // namespace

asio::awaitable<std::optional<http_response>> service::handle_webhook(const http_request& request) {
  if (request.path.starts_with("/webhooks/http/")) co_return co_await handle_http_callback(request);
  if (request.path != "/webhooks/whatsapp") co_return std::nullopt;
  auto log = spdlog::get("http");  // one registry lookup (it takes a lock) per request
  if (!log) log = log_;
  if (whatsapp_.empty()) co_return plain(404, "no WhatsApp channel is configured\n");

  if (request.method == "GET") {
    // Meta's subscription handshake: echo the challenge only for our verify token.
    auto q = [&](const char* k) {
      auto it = request.query.find(k);
      return it == request.query.end() ? std::string{} : it->second;
    };
    for (const auto& wa : whatsapp_) {
      if (auto challenge = whatsapp::verify_subscription(q("hub.mode"), q("hub.verify_token"), q("hub.challenge"), wa.verify_token))
        co_return plain(200, *challenge);
    }
    log->warn("webhook verification refused channel=whatsapp reason=bad_verify_token");
    co_return plain(403, "verification failed\n");
  }
  if (request.method != "POST") co_return plain(405, "use GET for verification or POST for notifications\n");

  const auto signature = request.header("x-hub-signature-256");
  const whatsapp_endpoint* source = nullptr;
  for (const auto& wa : whatsapp_)
    if (whatsapp::verify_signature(request.body, signature, wa.app_secret)) source = &wa;
  if (!source) {
    log->warn("webhook rejected channel=whatsapp reason={} bytes={}", signature.empty() ? "missing_signature" : "bad_signature",
              request.body.size());
    co_return plain(signature.empty() ? 401 : 403, "invalid or missing X-Hub-Signature-256\n");
  }
  auto parsed = whatsapp::parse_webhook(request.body);
  if (!parsed) {
    log->warn("webhook rejected channel=whatsapp reason=malformed detail=\"{}\"", parsed.reason);
    co_return plain(400, "malformed webhook: " + parsed.reason + "\n");
  }

  // Route each item to the channel whose phone number it names (one daemon, several numbers).
  // The items travel to the writer in one shared block: the job is copied on its way there.
  struct routed {
    std::vector<std::pair<std::string, chan_inbound>> messages;
    std::vector<std::pair<std::string, chan_report>> reports;
    inbound_effects effects;
  };
  const auto work = std::make_shared<routed>();
  work->messages.reserve(parsed.value.messages.size());
  work->reports.reserve(parsed.value.statuses.size());
  const auto target_of = [&](const std::string& phone_number_id) {
    const auto* target = source;
    for (const auto& wa : whatsapp_)
      if (wa.phone_number_id == phone_number_id) target = &wa;
    return target;
  };
  for (const auto& m : parsed.value.messages) {
    const auto* target = target_of(m.phone_number_id);
    auto in = whatsapp::inbound_from_message(m);
    if (target->link) target->link->note_inbound(in.from, in.received_at);
    work->messages.emplace_back(target->name, std::move(in));
  }
  for (const auto& st : parsed.value.statuses)
    if (auto r = whatsapp::report_from_status(st)) work->reports.emplace_back(target_of(st.phone_number_id)->name, std::move(*r));
  auto* self = this;
  const auto store_all = [self, work](storage::store& s) {
    int stored = 0;
    for (const auto& [channel_name, m] : work->messages) {
      const auto id = s.store_inbound(channel_name, m.provider_id, m.from, m.text, m.received_at);
      if (!id) continue;  // a redelivered webhook changes nothing twice
      ++stored;
      self->handle_inbound_locked(s, channel_name, m, *id, work->effects);
    }
    for (const auto& [channel_name, r] : work->reports) {
      const auto state = r.status == channel::report_status::delivered ? core::message_state::delivered
                         : r.status == channel::report_status::expired ? core::message_state::expired
                                                                       : core::message_state::failed;
      if (!s.mark_reported(channel_name, r.provider_id, state, r.reason))
        s.log_event("unknown_receipt", channel_name, r.provider_id);
    }
    return stored;
  };
  const int stored = co_await query<int>(store_all);
  apply_inbound_effects(work->effects);
  log->info("webhook accepted channel=whatsapp messages={} new={} statuses={}", work->messages.size(), stored,
            work->reports.size());
  wake_dispatcher();
  co_return plain(200, "ok\n");
}

void service::seed_whatsapp_windows() {
  if (whatsapp_.empty()) return;
  using seen = std::vector<std::pair<std::string, core::time_point>>;
  std::vector<std::string> names;
  for (const auto& wa : whatsapp_) names.push_back(wa.name);
  // Meta's window is 24 hours from the resident's last message (protocols.md §4.6); the channel
  // checks the exact age, so the horizon only bounds what is read.
  const auto since = core::now() - std::chrono::hours{24};
  std::promise<std::vector<seen>> promise;
  auto future = promise.get_future();
  writer_->post(
      [&promise, names, since](storage::store& s) {
        std::vector<seen> all;
        for (const auto& name : names) all.push_back(s.latest_inbound(name, since));
        promise.set_value(std::move(all));
      },
      [&promise](std::exception_ptr e) {
        if (!e) return;
        try {
          promise.set_exception(e);
        } catch (...) {  // the job had already set a value
        }
      });
  try {
    const auto all = future.get();
    for (std::size_t i = 0; i < whatsapp_.size() && i < all.size(); ++i) {
      if (!whatsapp_[i].link) continue;
      for (const auto& [phone, when] : all[i]) whatsapp_[i].link->note_inbound(phone, when);
      log_->info("whatsapp window seeded from the inbox name={} open={}", whatsapp_[i].name, all[i].size());
    }
  } catch (const std::exception& e) {
    // Not fatal: without the seed, residents who wrote before the restart get the template.
    log_->warn("whatsapp window not seeded error=\"{}\"", e.what());
  }
}

void service::reload_whatsapp_secrets(const config::village_config& cfg) {
  for (auto& wa : whatsapp_) {
    const config::whatsapp_channel* settings = nullptr;
    for (const auto& cs : cfg.channels)
      if (cs.name == wa.name) settings = std::get_if<config::whatsapp_channel>(&cs.settings);
    if (settings == nullptr) continue;
    // Meta's long-lived tokens are rotated: the file changes, the daemon keeps running. Secrets are
    // never logged, only that they changed.
    try {
      if (wa.link && wa.link->set_token(config::read_secret(settings->token_file)))
        log_->info("whatsapp token replaced name={} up={}", wa.name, wa.link->is_up());
      if (!settings->app_secret_file.empty()) {
        auto secret = config::read_secret(settings->app_secret_file);
        if (secret != wa.app_secret) {
          wa.app_secret = std::move(secret);
          log_->info("whatsapp app secret replaced name={}", wa.name);
        }
      }
      if (!settings->verify_token_file.empty()) wa.verify_token = config::read_secret(settings->verify_token_file);
    } catch (const std::exception& e) {
      log_->error("whatsapp secrets not re-read, keeping the previous ones name={} error=\"{}\"", wa.name, e.what());
    }
  }
}

asio::awaitable<http_response> service::handle_http_callback(const http_request& request) {
  // /webhooks/http/<channel>: an aggregator's replies and delivery reports (docs/http-channel.md),
  // checked by the channel's shared secret, stored, and only then answered 200.
  auto log = spdlog::get("http") ? spdlog::get("http") : log_;
  const std::string name = request.path.substr(std::string_view("/webhooks/http/").size());
  auto* slot = find_slot(name);
  auto* link = slot ? as_http(slot->link.get()) : nullptr;
  if (!link) co_return plain(404, "no http channel named '" + name + "'\n");
  http::callback_request cb;
  cb.method = request.method;
  cb.content_type = request.header("content-type");
  cb.query = request.query;
  cb.headers = request.headers;
  cb.body = request.body;
  auto outcome = link->handle_callback(cb);
  if (!outcome.ok()) {
    log->warn("webhook rejected channel={} reason=\"{}\"", name, outcome.reason);
    co_return plain(outcome.http_status, outcome.reason + "\n");
  }
  for (const auto& skipped : outcome.skipped) log->info("webhook item skipped channel={} why=\"{}\"", name, skipped);
  auto* self = this;
  auto effects = std::make_shared<inbound_effects>();
  const auto messages = outcome.messages;
  const auto reports = outcome.reports;
  const auto store_all = [self, name, messages, reports, effects](storage::store& s) {
    int stored = 0;
    for (const auto& m : messages) {
      const auto id = s.store_inbound(name, m.provider_id, m.from, m.text, m.received_at);
      if (!id) continue;  // a repeated callback changes nothing twice
      ++stored;
      self->handle_inbound_locked(s, name, m, *id, *effects);
    }
    for (const auto& r : reports) {
      const auto state = r.status == channel::report_status::delivered ? core::message_state::delivered
                         : r.status == channel::report_status::expired ? core::message_state::expired
                                                                       : core::message_state::failed;
      if (!s.mark_reported(name, r.provider_id, state, r.reason)) s.log_event("unknown_receipt", name, r.provider_id);
    }
    return stored;
  };
  const int stored = co_await query<int>(store_all);
  apply_inbound_effects(*effects);
  log->info("webhook accepted channel={} messages={} new={} reports={}", name, messages.size(), stored, reports.size());
  wake_dispatcher();
  co_return plain(200, outcome.reply.empty() ? std::string("OK") : outcome.reply, "text/plain");
}

asio::awaitable<http_response> service::handle_webhook_only(const http_request& request) {
  auto reply = co_await handle_webhook(request);
  if (reply) co_return std::move(*reply);
  co_return http_response{404, "text/plain", "only webhooks are served on this address\n", {}};
}

}  // namespace kentongan::daemon
