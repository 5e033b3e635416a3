#include "protocol/whatsapp/whatsapp_channel.hpp"

#include <unordered_map>
#include <utility>

#include "protocol/curl/curl_multi.hpp"
#include "protocol/whatsapp/errors.hpp"
#include "protocol/whatsapp/message.hpp"

namespace kentongan::whatsapp {

namespace asio = boost::asio;

namespace {

enum class send_mode { text, template_message };

const std::string kind_name = "whatsapp";

}  // namespace

struct whatsapp_channel::impl : std::enable_shared_from_this<impl> {
  impl(asio::io_context& io_context, settings st, chan::events& ev)
      : io(io_context),
        s(std::move(st)),
        events(&ev),
        http(io_context, curl::client_options{.max_response_bytes = 64 * 1024,
                                              .max_host_connections = 8,
                                              .connect_timeout = std::chrono::seconds(10),
                                              .verify_tls = s.verify_tls,
                                              .user_agent = "kentongan/0.1"}),
        stop_timer(io_context) {}

  asio::io_context& io;
  settings s;
  chan::events* events;  // cut off by ~whatsapp_channel
  curl::client http;
  asio::steady_timer stop_timer;
  bool up = true;
  bool stopping = false;
  std::string down_reason;
  std::uint64_t token_generation = 0;
  counters stats;
  std::unordered_map<std::string, core::time_point> last_inbound;

  std::optional<template_spec> resolve_template(const std::string& key) const {
    const std::string& wanted = key.empty() ? s.default_template : key;
    if (wanted.empty()) return std::nullopt;
    if (const auto it = s.templates.find(wanted); it != s.templates.end()) return it->second;
    return template_spec{wanted, s.default_language, true};
  }

  bool window_open(const std::string& phone) const {
    const auto it = last_inbound.find(phone);
    return it != last_inbound.end() && core::now() - it->second < s.service_window;
  }

  void emit(chan::submit_result r) {
    if (r.outcome == chan::submit_outcome::retryable) ++stats.retryable;
    if (r.outcome == chan::submit_outcome::permanent) ++stats.permanent;
    if (events != nullptr) events->on_submit_result(s.name, std::move(r));
  }

  // Results are never given from inside submit(): the dispatcher may be iterating its queue.
  void emit_later(chan::submit_result r) {
    asio::post(io, [weak = weak_from_this(), r = std::move(r)]() mutable {
      if (auto self = weak.lock()) self->emit(std::move(r));
    });
  }

  void go_down(const std::string& reason) {
    ++stats.auth_failures;
    if (!up) return;
    up = false;
    down_reason = reason;
    if (events != nullptr) events->on_link_state(s.name, false, reason);
  }

  void submit(chan::outbound m) {
    if (stopping) return emit_later({m.id, chan::submit_outcome::retryable, {}, "whatsapp channel stopped", 1, false});
    if (!up) return emit_later({m.id, chan::submit_outcome::retryable, {}, "whatsapp channel down: " + down_reason, 1, false});
    const auto tmpl = resolve_template(m.template_name);
    const bool fits = utf8_length(m.text) <= max_text_characters;
    if (window_open(m.to) && fits) return send(std::move(m), send_mode::text);
    if (tmpl) return send(std::move(m), send_mode::template_message);
    ++stats.no_route;
    // Permanent here; the daemon falls back to SMS (or fails the row with this reason).
    emit_later({m.id, chan::submit_outcome::permanent, {},
                fits ? "outside the 24-hour WhatsApp window and no template for this message"
                     : "longer than 4096 characters and no template for this message",
                1, false});
  }

  void send(chan::outbound m, send_mode mode) {
    curl::http_request req;
    req.method = "POST";
    req.url = s.api_base + "/" + s.api_version + "/" + s.phone_number_id + "/messages";
    req.headers = {"Authorization: Bearer " + s.token, "Content-Type: application/json"};
    req.timeout = s.request_timeout;
    if (mode == send_mode::text) {
      req.body = text_body(m.to, m.text);
      ++stats.texts;
    } else {
      const auto tmpl = resolve_template(m.template_name).value_or(template_spec{});
      std::vector<std::string> params;
      if (tmpl.text_parameter && !m.text.empty()) params.push_back(template_parameter(m.text));
      req.body = template_body(m.to, tmpl.name, tmpl.language, params);
      ++stats.templates;
    }
    ++stats.requests;
    http.request(std::move(req), [weak = weak_from_this(), m = std::move(m), mode, generation = token_generation](
                                     curl::http_response r) mutable {
      if (auto self = weak.lock()) self->on_response(std::move(m), mode, generation, std::move(r));
    });
  }

  void on_response(chan::outbound m, send_mode mode, std::uint64_t generation, curl::http_response r) {
    chan::submit_result out{m.id, chan::submit_outcome::retryable, {}, {}, 1, false};
    if (!r.transport_ok()) {
      out.maybe_sent = r.may_have_arrived();
      out.reason = r.timed_out ? "no answer from the Graph API within " + std::to_string(s.request_timeout.count()) + " ms"
                               : "Graph API unreachable: " + r.error;
      return emit(std::move(out));
    }
    if (r.status >= 200 && r.status < 300) {
      ++stats.accepted;
      out.outcome = chan::submit_outcome::accepted;
      if (auto id = sent_message_id(r.body)) {
        out.provider_id = std::move(*id);
      } else {
        // Meta took it; sending again would duplicate the message on the phone.
        out.reason = "success answer without a message id";
      }
      return emit(std::move(out));
    }
    const graph_error e = parse_error_body(static_cast<int>(r.status), r.body);
    out.reason = describe(e);
    switch (classify(e)) {
      case error_action::retry:
        break;
      case error_action::slow_down_and_retry:
        ++stats.rate_limited;
        out.slow_down = true;
        break;
      case error_action::use_template:
        last_inbound.erase(m.to);  // Meta says the window is closed, whatever we believed
        if (mode == send_mode::text && resolve_template(m.template_name) && !stopping) {
          ++stats.template_retries;
          return send(std::move(m), send_mode::template_message);
        }
        out.outcome = chan::submit_outcome::permanent;
        out.reason = "outside the 24-hour WhatsApp window and no template: " + out.reason;
        break;
      case error_action::fallback_sms:
        out.outcome = chan::submit_outcome::permanent;
        out.reason = "not reachable on WhatsApp: " + out.reason;
        break;
      case error_action::stop_channel:
        // Nothing is lost: the message goes back to the queue while the channel is down.
        if (generation == token_generation) go_down("Graph API refused the token or account: " + out.reason);
        break;
      case error_action::permanent:
        out.outcome = chan::submit_outcome::permanent;
        break;
    }
    emit(std::move(out));
  }
};

whatsapp_channel::whatsapp_channel(asio::io_context& io, settings s, chan::events& events)
    : impl_(std::make_shared<impl>(io, std::move(s), events)) {}

whatsapp_channel::~whatsapp_channel() {
  impl_->events = nullptr;
  impl_->stop_timer.cancel();
}

const std::string& whatsapp_channel::name() const { return impl_->s.name; }
const std::string& whatsapp_channel::kind() const { return kind_name; }

chan::rate_limits whatsapp_channel::limits() const {
  return chan::rate_limits{impl_->s.tps, impl_->s.window, 0, 0};
}

bool whatsapp_channel::is_up() const { return impl_->up && !impl_->stopping; }

asio::awaitable<void> whatsapp_channel::run() {
  // No long-lived link: HTTP connections are pooled by the client. run() only marks the lifetime.
  const auto self = impl_;
  self->stopping = false;
  if (self->events != nullptr) self->events->on_link_state(self->s.name, self->up, self->up ? "ready" : self->down_reason);
  self->stop_timer.expires_at(asio::steady_timer::time_point::max());
  boost::system::error_code ec;
  co_await self->stop_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  if (self->events != nullptr) self->events->on_link_state(self->s.name, false, "stopped");
}

void whatsapp_channel::submit(chan::outbound message) { impl_->submit(std::move(message)); }

void whatsapp_channel::stop() {
  impl_->stopping = true;
  impl_->stop_timer.cancel();
}

void whatsapp_channel::note_inbound(const std::string& phone, core::time_point when) {
  auto& t = impl_->last_inbound[phone];
  if (when > t) t = when;
}

std::optional<core::time_point> whatsapp_channel::last_inbound(const std::string& phone) const {
  const auto it = impl_->last_inbound.find(phone);
  if (it == impl_->last_inbound.end()) return std::nullopt;
  return it->second;
}

bool whatsapp_channel::set_token(std::string token) {
  // Same token: Meta would refuse it again, so a channel it stopped stays down.
  if (token == impl_->s.token) return false;
  impl_->s.token = std::move(token);
  ++impl_->token_generation;
  if (!impl_->up) {
    impl_->up = true;
    impl_->down_reason.clear();
    if (impl_->events != nullptr) impl_->events->on_link_state(impl_->s.name, true, "token replaced");
  }
  return true;
}

const std::string& whatsapp_channel::down_reason() const { return impl_->down_reason; }
counters whatsapp_channel::stats() const { return impl_->stats; }
std::size_t whatsapp_channel::in_flight() const { return impl_->http.in_flight(); }

std::optional<chan::delivery_report> report_from_status(const status_update& status) {
  switch (status.status) {
    case status_kind::delivered:
    case status_kind::read:
      return chan::delivery_report{status.wamid, chan::report_status::delivered, {}};
    case status_kind::failed: {
      std::string reason;
      for (const auto& e : status.errors) {
        if (!reason.empty()) reason += "; ";
        reason += "(#" + std::to_string(e.code) + ") " + (e.title.empty() ? e.message : e.title);
        if (!e.details.empty()) reason += ": " + e.details;
      }
      if (reason.empty()) reason = "failed (no error given)";
      return chan::delivery_report{status.wamid, chan::report_status::failed, std::move(reason)};
    }
    case status_kind::sent:
    case status_kind::other:
      break;
  }
  return std::nullopt;
}

chan::inbound inbound_from_message(const inbound_message& message) {
  chan::inbound in;
  in.provider_id = message.wamid;
  in.from = message.from;
  in.text = message.text;
  in.profile_name = message.profile_name;
  in.received_at = message.timestamp > 0 ? core::time_point{std::chrono::seconds(message.timestamp)} : core::now();
  return in;
}

}  // namespace kentongan::whatsapp
