#include "protocol/http/http_channel.hpp"

#include <stdexcept>
#include <utility>

#include <openssl/evp.h>

#include "protocol/curl/curl_multi.hpp"
#include "protocol/gsm/gsm.hpp"
#include "protocol/http/request.hpp"

namespace kentongan::http {

namespace asio = boost::asio;

namespace {

const std::string kind_name = "http";

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  static const unsigned char empty = 0;
  const auto* p = data.empty() ? &empty : reinterpret_cast<const unsigned char*>(data.data());
  if (EVP_Digest(p, data.size(), md, &length, EVP_sha256(), nullptr) != 1) return {};
  constexpr std::string_view hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length && i < 16; ++i) {
    out.push_back(hex[md[i] >> 4]);
    out.push_back(hex[md[i] & 0x0F]);
  }
  return out;
}

int parts_of(const std::string& text) {
  const auto plan = gsm::plan_message(text);
  return plan.parts.empty() ? 1 : static_cast<int>(plan.parts.size());
}

}  // namespace

std::string callback_path(std::string_view channel_name) { return "/webhooks/http/" + std::string(channel_name); }

callback_outcome to_outcome(callback_result parsed, const callback_settings& s, core::time_point received_at,
                            std::uint64_t first_sequence) {
  callback_outcome out;
  out.error = parsed.error;
  out.http_status = parsed.http_status();
  out.reason = std::move(parsed.reason);
  out.skipped = std::move(parsed.skipped);
  if (!parsed.ok()) return out;
  out.reply = s.reply;
  std::uint64_t sequence = first_sequence;
  for (auto& m : parsed.messages) {
    chan::inbound in;
    in.provider_id = std::move(m.provider_id);
    if (in.provider_id.empty()) {
      // The inbox dedupes on the provider id; with no id only a timestamp tells a redelivery apart.
      in.provider_id = m.timestamp > 0
                           ? "h:" + sha256_hex(m.from + '\n' + m.to + '\n' + m.text + '\n' + std::to_string(m.timestamp))
                           : "r:" + std::to_string(core::to_millis(received_at)) + "." + std::to_string(sequence);
    }
    in.from = std::move(m.from);
    in.text = std::move(m.text);
    in.received_at = m.timestamp > 0 ? core::time_point{std::chrono::seconds(m.timestamp)} : received_at;
    out.messages.push_back(std::move(in));
    ++sequence;
  }
  for (auto& r : parsed.reports) {
    const auto status = r.state == report_state::delivered ? chan::report_status::delivered
                        : r.state == report_state::expired ? chan::report_status::expired
                                                           : chan::report_status::failed;
    out.reports.push_back(chan::delivery_report{std::move(r.provider_id), status, std::move(r.reason)});
  }
  return out;
}

struct http_channel::impl : std::enable_shared_from_this<impl> {
  impl(asio::io_context& io_context, http_settings st, chan::events& ev)
      : io(io_context),
        s(std::move(st)),
        events(&ev),
        client(io_context, curl::client_options{.max_response_bytes = max_answer_bytes,
                                                .max_host_connections = static_cast<long>(std::max<std::size_t>(s.window, 1)),
                                                .connect_timeout = std::chrono::seconds(10),
                                                .verify_tls = s.verify_tls,
                                                .user_agent = "kentongan/0.1"}),
        stop_timer(io_context),
        down_timer(io_context) {}

  asio::io_context& io;
  http_settings s;
  chan::event_sink events;  // cut off by ~http_channel
  curl::client client;
  asio::steady_timer stop_timer;
  asio::steady_timer down_timer;
  bool up = true;
  bool stopping = false;
  std::string down_reason;
  std::uint64_t auth_generation = 0;
  std::uint64_t callback_sequence = 0;  // for inbound messages that come without any id
  counters stats;

  void emit(chan::submit_result r) {
    if (r.outcome == chan::submit_outcome::retryable) ++stats.retryable;
    if (r.outcome == chan::submit_outcome::permanent) ++stats.permanent;
    events.on_submit_result(s.name, std::move(r));
  }

  // Never from inside submit(): the dispatcher may be iterating its queue.
  void emit_later(chan::submit_result r) {
    asio::post(io, [weak = weak_from_this(), r = std::move(r)]() mutable {
      if (auto self = weak.lock()) self->emit(std::move(r));
    });
  }

  void set_up(const std::string& reason) {
    if (up) return;
    up = true;
    down_reason.clear();
    events.on_link_state(s.name, true, reason);
  }

  void go_down(const std::string& reason) {
    ++stats.auth_failures;
    if (!up) return;
    up = false;
    down_reason = reason;
    events.on_link_state(s.name, false, reason);
    // Credentials are often fixed on the provider's side (top-up, IP whitelist): try again later.
    down_timer.expires_after(s.down_time);
    down_timer.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
      if (ec) return;
      if (auto self = weak.lock(); self && !self->stopping) self->set_up("retrying after the credentials were refused");
    });
  }

  void submit(chan::outbound m) {
    const int parts = parts_of(m.text);
    if (stopping) return emit_later({m.id, chan::submit_outcome::retryable, {}, "http channel stopped", parts, false});
    if (!up) return emit_later({m.id, chan::submit_outcome::retryable, {}, "http channel down: " + down_reason, parts, false});
    const auto built = build_request(s, message_fields{m.id, m.to, m.text});
    if (!built.ok) return emit_later({m.id, chan::submit_outcome::permanent, {}, "cannot build the request: " + built.error, parts, false});
    curl::http_request req;
    req.method = built.method;
    req.url = built.url;
    req.headers = built.headers;
    req.body = built.body;
    req.timeout = s.request_timeout;
    ++stats.requests;
    client.request(std::move(req), [weak = weak_from_this(), id = m.id, parts, generation = auth_generation](curl::http_response r) mutable {
      if (auto self = weak.lock()) self->on_response(id, parts, generation, std::move(r));
    });
  }

  void on_response(std::int64_t id, int parts, std::uint64_t generation, curl::http_response r) {
    std::string transport;
    if (!r.transport_ok())
      transport = r.timed_out ? "no answer within " + std::to_string(s.request_timeout.count()) + " ms" : r.error;
    const auto v = classify_response(s, id, r.transport_ok() ? r.status : 0, r.body, transport);
    chan::submit_result out{id, chan::submit_outcome::retryable, {}, v.reason, parts, false};
    out.maybe_sent = r.may_have_arrived();
    if (v.success) {
      ++stats.accepted;
      if (!v.reason.empty()) ++stats.missing_ids;
      out.outcome = chan::submit_outcome::accepted;
      out.provider_id = v.provider_id;
      return emit(std::move(out));
    }
    switch (v.action) {
      case error_action::retry:
        break;
      case error_action::slow_down:
        ++stats.rate_limited;
        out.slow_down = true;
        if (const auto it = r.headers.find("retry-after"); it != r.headers.end() && it->second.size() < 40)
          out.reason += " (Retry-After: " + it->second + ")";
        break;
      case error_action::permanent:
        out.outcome = chan::submit_outcome::permanent;
        break;
      case error_action::stop_channel:
        // Nothing is lost: the message goes back to the queue while the channel is down.
        if (generation == auth_generation) go_down("aggregator refused the credentials: " + v.reason);
        break;
    }
    emit(std::move(out));
  }
};

namespace {

http_settings checked(http_settings s) {
  const auto problems = validate(s);
  if (problems.empty()) return s;
  std::string what = "http channel \"" + s.name + "\":";
  for (const auto& p : problems) what += " " + p + ";";
  what.pop_back();
  throw std::invalid_argument(what);
}

}  // namespace

http_channel::http_channel(asio::io_context& io, http_settings s, chan::events& events)
    : impl_(std::make_shared<impl>(io, checked(std::move(s)), events)) {}

http_channel::~http_channel() {
  impl_->events.to = nullptr;
  impl_->stop_timer.cancel();
  impl_->down_timer.cancel();
}

const std::string& http_channel::name() const { return impl_->s.name; }
const std::string& http_channel::kind() const { return kind_name; }

chan::rate_limits http_channel::limits() const {
  return chan::rate_limits{impl_->s.tps, impl_->s.window, impl_->s.hourly_cap, impl_->s.daily_cap};
}

bool http_channel::is_up() const { return impl_->up && !impl_->stopping; }

asio::awaitable<void> http_channel::run() {
  // No long-lived link: connections are pooled by the client; run() marks the channel's lifetime.
  const auto self = impl_;
  self->stopping = false;
  self->events.on_link_state(self->s.name, self->up, self->up ? "ready" : self->down_reason);
  self->stop_timer.expires_at(asio::steady_timer::time_point::max());
  boost::system::error_code ec;
  co_await self->stop_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  self->events.on_link_state(self->s.name, false, "stopped");
}

void http_channel::submit(chan::outbound message) { impl_->submit(std::move(message)); }

void http_channel::stop() {
  impl_->stopping = true;
  impl_->stop_timer.cancel();
  impl_->down_timer.cancel();
}

callback_outcome http_channel::handle_callback(const callback_request& request) {
  ++impl_->stats.callbacks;
  auto out = to_outcome(parse_callback(impl_->s.callback, request, impl_->s.country_code), impl_->s.callback, core::now(),
                        impl_->callback_sequence);
  impl_->callback_sequence += out.messages.size();
  if (!out.ok()) ++impl_->stats.callbacks_rejected;
  impl_->stats.inbound += out.messages.size();
  impl_->stats.reports += out.reports.size();
  return out;
}

void http_channel::set_auth(std::string auth_value) {
  impl_->s.auth_value = std::move(auth_value);
  ++impl_->auth_generation;
  impl_->down_timer.cancel();
  impl_->set_up("credentials replaced");
}

const http_settings& http_channel::settings() const { return impl_->s; }
const std::string& http_channel::down_reason() const { return impl_->down_reason; }
counters http_channel::stats() const { return impl_->stats; }
std::size_t http_channel::in_flight() const { return impl_->client.in_flight(); }

}  // namespace kentongan::http
