#include "protocol/smpp/esme_channel.hpp"

#include <algorithm>
#include <cctype>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <unordered_map>

#include "protocol/gsm/gsm.hpp"
#include "protocol/smpp/connection.hpp"
#include "protocol/smpp/pdu.hpp"

namespace kentongan::smpp {

namespace asio = boost::asio;
namespace ch = kentongan::channel;
using asio::ip::tcp;
using steady = std::chrono::steady_clock;

namespace {

enum class role { transceiver, transmitter, receiver };
enum class link_state { down, binding, bound, unbinding };
enum class request_kind { bind, submit, enquire_link, unbind };

struct message_job {
  ch::outbound message;
  int parts = 1;
  int pending = 0;
  std::vector<std::string> ids;
  bool failed = false;
  bool permanent = false;
  bool slow_down = false;
  bool maybe_sent = false;  // a part left us and its answer was lost: the SMSC may have it
  std::string reason;
};

struct part_job {
  std::shared_ptr<message_job> message;
  std::size_t index = 0;
  pdu request;
};

struct in_flight {
  request_kind kind = request_kind::submit;
  steady::time_point deadline;
  std::shared_ptr<part_job> job;
};

struct session {
  session(asio::io_context& io, role r, std::size_t i) : kind(r), index(i), backoff_timer(io) {}
  role kind;
  std::size_t index;
  link_state state = link_state::down;
  std::shared_ptr<connection> conn;
  std::uint64_t generation = 0;
  std::uint32_t next_sequence = 1;
  std::unordered_map<std::uint32_t, in_flight> requests;
  std::size_t window_used = 0;
  steady::time_point last_rx{};
  bool enquire_outstanding = false;
  asio::steady_timer backoff_timer;

  bool can_submit() const { return kind != role::receiver; }
  std::uint32_t take_sequence() {
    const auto s = next_sequence;
    next_sequence = next_sequence >= 0x7FFFFFFF ? 1 : next_sequence + 1;  // §5.1.4: 1..0x7FFFFFFF
    return s;
  }
};

struct pending_ack {
  std::weak_ptr<session> link;
  std::uint64_t generation = 0;
  std::uint32_t sequence = 0;
  command response = command::deliver_sm_resp;
};

struct reassembly {
  std::vector<std::optional<std::string>> parts;
  std::vector<std::string> fingerprints;  // per part, for the stable provider id
  std::vector<pending_ack> acks;
  std::string from;
  steady::time_point first_seen;
};

// The parts of one multipart message, whose receipts make one report (under the first part's id,
// the provider id the daemon stored). Only the first part's deliver_sm_resp waits for the store:
// after a crash this group is gone and the other parts' ids mean nothing to the daemon, so holding
// their answers would keep nothing safe and only tie up the SMSC's window; the first part's
// receipt, sent again, finishes the message on its own.
struct receipt_group {
  std::string main_id;
  std::vector<std::string> keys;  // normalised part ids, in part order
  std::vector<bool> seen;
  int remaining = 0;
  ch::report_status worst = ch::report_status::delivered;
  std::string reason;
  std::vector<pending_ack> held;  // first-part receipts awaiting the store
  bool storing = false;           // the group's report is with the daemon
};

std::string to_hex_id(std::string_view decimal) {
  if (decimal.empty() || decimal.size() > 19 || !std::all_of(decimal.begin(), decimal.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::string(decimal);
  char buf[24];
  std::snprintf(buf, sizeof buf, "%llx", std::stoull(std::string(decimal)));
  return buf;
}

std::string to_decimal_id(std::string_view hex) {
  if (hex.empty() || hex.size() > 15 || !std::all_of(hex.begin(), hex.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }))
    return std::string(hex);
  return std::to_string(std::stoull(std::string(hex), nullptr, 16));
}

bool is_alphanumeric_sender(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return !(c >= '0' && c <= '9') && c != '+'; });
}

std::string decode_text(std::uint8_t data_coding, std::span<const std::uint8_t> user_data, std::size_t udh_length, bool packed) {
  const auto body = user_data.subspan(std::min(udh_length, user_data.size()));
  auto gsm7 = [&]() {
    if (!packed) return gsm::decode_gsm7(body);
    // 23.040 §9.2.3.24: septets start on the septet boundary after the UDH.
    const unsigned fill = udh_length == 0 ? 0u : static_cast<unsigned>((7 - (udh_length * 8) % 7) % 7);
    const std::size_t count = (body.size() * 8 - std::min<std::size_t>(fill, body.size() * 8)) / 7;
    return gsm::decode_gsm7(gsm::unpack_septets(body, count, fill));
  };
  // [SMPP34] §5.2.19; 0xF0-0xFF is the GSM message-class group, bit 2 chooses 8-bit data.
  if (data_coding == 0x00) return gsm7();
  if (data_coding == 0x08) return gsm::decode_ucs2(body);
  if (data_coding >= 0xF0) return (data_coding & 0x04) != 0 ? gsm::decode_latin1(body) : gsm7();
  return gsm::decode_latin1(body);  // 1 IA5 (a subset), 3 Latin-1, 2/4 octets
}

std::string international(std::uint8_t ton, const std::string& addr) {
  if (ton == 1 && !addr.empty() && addr[0] != '+' && std::all_of(addr.begin(), addr.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return "+" + addr;
  return addr;
}

}  // namespace

using event_sink = ch::event_sink;

struct esme_channel::impl : std::enable_shared_from_this<impl> {
  impl(asio::io_context& io_context, esme_settings s, ch::events& ev)
      : io(io_context), settings(std::move(s)), events{&ev}, pump_timer(io_context), done_timer(io_context),
        rng(std::random_device{}()) {
    const unsigned n = std::max(1u, settings.sessions);
    for (unsigned i = 0; i < n; ++i) {
      switch (settings.bind) {
        case bind_mode::transceiver: sessions.push_back(std::make_shared<session>(io, role::transceiver, sessions.size())); break;
        case bind_mode::transmitter: sessions.push_back(std::make_shared<session>(io, role::transmitter, sessions.size())); break;
        case bind_mode::receiver: sessions.push_back(std::make_shared<session>(io, role::receiver, sessions.size())); break;
        case bind_mode::pair:
          sessions.push_back(std::make_shared<session>(io, role::transmitter, sessions.size()));
          sessions.push_back(std::make_shared<session>(io, role::receiver, sessions.size()));
          break;
      }
    }
  }

  asio::io_context& io;
  esme_settings settings;
  event_sink events;
  std::string kind_name = "smpp";
  std::vector<std::shared_ptr<session>> sessions;
  std::deque<std::shared_ptr<part_job>> queue;
  esme_counters counts;
  bool stopping = false;
  bool running = false;
  std::size_t live_sessions = 0;
  asio::steady_timer pump_timer;
  bool pump_scheduled = false;
  asio::steady_timer done_timer;
  double tokens = 1.0;
  steady::time_point tokens_at = steady::now();
  steady::time_point paused_until{};
  std::size_t round_robin = 0;
  std::uint8_t concat_reference = 0;
  std::map<std::string, reassembly> partial;
  // The last text planned: a broadcast hands the same text for every recipient, and planning it
  // (UTF-8 decoding, encoding, splitting) each time was a quarter of the link's CPU (bench_smpp).
  std::string planned_text;
  std::optional<gsm::plan> planned;

  const gsm::plan& plan_for(const std::string& text) {
    if (!planned || text != planned_text) {
      planned = gsm::plan_message(text, gsm::plan_options{settings.transliterate});
      planned_text = text;
    }
    return *planned;
  }
  std::unordered_map<std::string, std::pair<std::shared_ptr<receipt_group>, std::size_t>> part_receipts;  // id → group, part
  std::minstd_rand rng;

  static asio::awaitable<void> run(std::shared_ptr<impl> self);
  static asio::awaitable<void> session_loop(std::shared_ptr<impl> self, std::shared_ptr<session> s);
  static asio::awaitable<void> ticker(std::shared_ptr<impl> self, std::shared_ptr<session> s, std::uint64_t generation);

  std::chrono::milliseconds tick_period() const {
    const auto shortest = std::min(settings.enquire_link, settings.response_timeout);
    return std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(shortest / 4), std::chrono::milliseconds(10),
                      std::chrono::milliseconds(1000));
  }

  bool any_submit_link() const {
    return std::any_of(sessions.begin(), sessions.end(), [](const auto& s) { return s->state == link_state::bound && s->can_submit(); });
  }

  void send_request(session& s, pdu p, request_kind kind, std::shared_ptr<part_job> job = {},
                    std::chrono::milliseconds timeout = std::chrono::milliseconds::zero()) {
    const auto seq = s.take_sequence();
    p.sequence = seq;
    if (!s.conn || !s.conn->send(p)) {
      if (job) fail_part(job, "cannot encode submit_sm", true, false);
      return;
    }
    const auto limit = timeout == std::chrono::milliseconds::zero() ? settings.response_timeout : timeout;
    s.requests[seq] = in_flight{kind, steady::now() + limit, std::move(job)};
  }

  void respond(session& s, command id, std::uint32_t sequence, std::uint32_t st) {
    if (s.conn) s.conn->send(pdu{id, st, sequence, default_body(id)});
  }

  // ---- submit side --------------------------------------------------------------------------

  void submit(ch::outbound message);
  void pump();
  void schedule_pump(steady::time_point when);
  void accept_part(const std::shared_ptr<part_job>& job, std::string message_id);
  void fail_part(const std::shared_ptr<part_job>& job, std::string reason, bool permanent, bool slow_down,
                 bool maybe_sent = false);
  void finish(message_job& m);

  // ---- link side ----------------------------------------------------------------------------

  void handle(const std::shared_ptr<session>& s, const connection::incoming& in);
  void on_response(const std::shared_ptr<session>& s, const pdu& p);
  void on_deliver(const std::shared_ptr<session>& s, const pdu& p);
  void on_receipt(std::optional<std::string> id, std::optional<message_state> state, std::string reason, pending_ack ack);
  void report_group(const std::shared_ptr<receipt_group>& group);
  static void answer(const std::vector<pending_ack>& acks, bool stored);
  void deliver_inbound(std::string provider_id, std::string from, std::string text, std::vector<pending_ack> acks);
  void link_down(session& s, const std::string& reason);
  void check_timeouts(const std::shared_ptr<session>& s, steady::time_point now);
  void check_reassembly(steady::time_point now);
  void stop();
};

// ---- submit ---------------------------------------------------------------------------------

void esme_channel::impl::submit(ch::outbound message) {
  ch::submit_result result;
  result.id = message.id;
  if (stopping || !any_submit_link()) {
    result.outcome = ch::submit_outcome::retryable;
    result.reason = "link down";
    // Posted, so that the dispatcher is never re-entered from inside its own submit() call.
    asio::post(io, [weak = weak_from_this(), result = std::move(result)]() mutable {
      if (auto self = weak.lock()) self->events.on_submit_result(self->settings.name, std::move(result));
    });
    return;
  }
  const gsm::plan& plan = plan_for(message.text);
  if (plan.parts.size() > 255) {
    result.outcome = ch::submit_outcome::permanent;
    result.reason = "text needs more than 255 parts";
    result.parts = static_cast<int>(plan.parts.size());
    events.on_submit_result(settings.name, std::move(result));
    return;
  }
  const bool gsm7 = plan.enc == gsm::encoding::gsm7;
  sm_body base;
  base.source_addr = settings.source_addr;
  const bool alnum = is_alphanumeric_sender(settings.source_addr);
  base.source_addr_ton = static_cast<std::uint8_t>(settings.source_ton >= 0 ? settings.source_ton : (alnum ? 5 : 1));
  base.source_addr_npi = static_cast<std::uint8_t>(settings.source_npi >= 0 ? settings.source_npi : (alnum ? 0 : 1));
  // protocols.md §1.5: international MSISDN as TON 1 / NPI 1, digits only, no "+".
  if (!message.to.empty() && message.to[0] == '+') {
    base.destination_addr = message.to.substr(1);
    base.dest_addr_ton = 1;
    base.dest_addr_npi = 1;
  } else {
    base.destination_addr = message.to;
    base.dest_addr_ton = 0;
    base.dest_addr_npi = 1;
  }
  base.registered_delivery = message.want_report ? settings.registered_delivery : std::uint8_t{0};
  base.data_coding = gsm7 ? 0x00 : 0x08;

  auto job = std::make_shared<message_job>();
  job->message = std::move(message);
  const std::size_t total = plan.parts.size();
  auto payload_of = [&](const gsm::part& part, std::size_t udh_length) {
    if (gsm7 && settings.gsm7_packed) {
      const unsigned fill = udh_length == 0 ? 0u : static_cast<unsigned>((7 - (udh_length * 8) % 7) % 7);
      return gsm::pack_septets(part.payload, fill);
    }
    return part.payload;
  };
  std::vector<std::shared_ptr<part_job>> parts;
  if (total <= 1 || settings.use_message_payload) {
    auto p = std::make_shared<part_job>();
    p->message = job;
    sm_body b = base;
    std::vector<std::uint8_t> all;
    for (const auto& part : plan.parts) {
      auto bytes = payload_of(part, 0);
      all.insert(all.end(), bytes.begin(), bytes.end());
    }
    if (gsm7 && settings.gsm7_packed && total > 1) {  // pack the whole text once, not part by part
      std::vector<std::uint8_t> septets;
      for (const auto& part : plan.parts) septets.insert(septets.end(), part.payload.begin(), part.payload.end());
      all = gsm::pack_septets(septets);
    }
    if (total <= 1) b.short_message = std::move(all);
    else b.tlvs.set(tag::message_payload, std::move(all));  // §5.3.2.32: sm_length stays 0
    p->request = pdu{command::submit_sm, 0, 0, std::move(b)};
    parts.push_back(std::move(p));
  } else {
    const std::uint8_t reference = ++concat_reference;
    for (std::size_t i = 0; i < total; ++i) {
      auto p = std::make_shared<part_job>();
      p->message = job;
      p->index = i;
      sm_body b = base;
      b.esm_class = 0x40;  // §5.2.12 UDHI
      b.short_message = gsm::concat_udh(reference, static_cast<std::uint8_t>(total), static_cast<std::uint8_t>(i + 1));
      const auto bytes = payload_of(plan.parts[i], b.short_message.size());
      b.short_message.insert(b.short_message.end(), bytes.begin(), bytes.end());
      p->request = pdu{command::submit_sm, 0, 0, std::move(b)};
      parts.push_back(std::move(p));
    }
  }
  job->parts = static_cast<int>(std::max<std::size_t>(total, 1));
  job->pending = static_cast<int>(parts.size());
  job->ids.resize(parts.size());
  for (auto& p : parts) queue.push_back(std::move(p));
  pump();
}

void esme_channel::impl::schedule_pump(steady::time_point when) {
  if (pump_scheduled) return;
  pump_scheduled = true;
  pump_timer.expires_at(when);
  pump_timer.async_wait([weak = weak_from_this()](const boost::system::error_code&) {
    if (auto self = weak.lock()) {
      self->pump_scheduled = false;
      self->pump();
    }
  });
}

void esme_channel::impl::pump() {
  if (queue.empty() || stopping) return;
  const auto now = steady::now();
  if (now < paused_until) {
    schedule_pump(paused_until);
    return;
  }
  if (settings.tps > 0) {
    // Token bucket with a burst of a tenth of a second, so that the rate holds over any minute.
    const double burst = std::max(1.0, settings.tps / 10.0);
    tokens = std::min(burst, tokens + std::chrono::duration<double>(now - tokens_at).count() * settings.tps);
    tokens_at = now;
  }
  while (!queue.empty()) {
    session* target = nullptr;
    for (std::size_t i = 0; i < sessions.size(); ++i) {
      auto& s = *sessions[(round_robin + i) % sessions.size()];
      if (s.state == link_state::bound && s.can_submit() && s.window_used < settings.window && s.conn && s.conn->is_open()) {
        target = &s;
        round_robin = (round_robin + i + 1) % sessions.size();
        break;
      }
    }
    if (target == nullptr) return;  // a response or a bind calls pump() again
    if (settings.tps > 0) {
      if (tokens < 1.0) {
        const auto wait = std::chrono::duration<double>((1.0 - tokens) / settings.tps);
        schedule_pump(now + std::chrono::duration_cast<steady::duration>(wait));
        return;
      }
      tokens -= 1.0;
    }
    auto job = std::move(queue.front());
    queue.pop_front();
    ++target->window_used;
    ++counts.submits;
    pdu request = job->request;
    send_request(*target, std::move(request), request_kind::submit, std::move(job));
  }
}

void esme_channel::impl::accept_part(const std::shared_ptr<part_job>& job, std::string message_id) {
  auto& m = *job->message;
  ++counts.submit_ok;
  m.ids[job->index] = std::move(message_id);
  if (--m.pending == 0) finish(m);
}

void esme_channel::impl::fail_part(const std::shared_ptr<part_job>& job, std::string reason, bool permanent, bool slow_down,
                                   bool maybe_sent) {
  auto& m = *job->message;
  m.maybe_sent = m.maybe_sent || maybe_sent;
  ++counts.submit_errors;
  if (!m.failed || permanent) m.reason = std::move(reason);
  m.failed = true;
  m.permanent = m.permanent || permanent;
  m.slow_down = m.slow_down || slow_down;
  if (--m.pending == 0) finish(m);
}

void esme_channel::impl::finish(message_job& m) {
  ch::submit_result r;
  r.id = m.message.id;
  r.parts = m.parts;
  r.slow_down = m.slow_down;
  if (m.failed) {
    // A part accepted or unanswered may reach the phone: the daemon counts a resubmit in doubt.
    r.maybe_sent = m.maybe_sent || std::any_of(m.ids.begin(), m.ids.end(), [](const auto& id) { return !id.empty(); });
    // Parts already accepted will reach the phone; a retry may duplicate them (noted in the reason).
    r.outcome = m.permanent ? ch::submit_outcome::permanent : ch::submit_outcome::retryable;
    r.reason = m.reason;
    if (std::any_of(m.ids.begin(), m.ids.end(), [](const auto& id) { return !id.empty(); })) r.reason += " (some parts accepted)";
  } else {
    r.outcome = ch::submit_outcome::accepted;
    r.provider_id = m.ids.empty() ? std::string() : m.ids.front();
    if (m.ids.size() > 1 && m.message.want_report) {
      // One report per message: the first part's id stands for all, once every part has a receipt.
      auto group = std::make_shared<receipt_group>();
      group->main_id = m.ids.front();
      group->remaining = static_cast<int>(m.ids.size());
      group->seen.assign(m.ids.size(), false);
      for (std::size_t i = 0; i < m.ids.size(); ++i) {
        group->keys.push_back(ch::normalise_provider_id(m.ids[i]));
        part_receipts[group->keys.back()] = {group, i};
      }
    }
  }
  events.on_submit_result(settings.name, std::move(r));
}

// ---- link -----------------------------------------------------------------------------------

asio::awaitable<void> esme_channel::impl::run(std::shared_ptr<impl> self) {
  if (self->running) co_return;
  self->running = true;
  self->stopping = false;
  self->live_sessions = self->sessions.size();
  for (auto& s : self->sessions) asio::co_spawn(self->io, session_loop(self, s), asio::detached);
  while (self->live_sessions > 0) {
    self->done_timer.expires_at(steady::time_point::max());
    boost::system::error_code ec;
    co_await self->done_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  self->running = false;
}

asio::awaitable<void> esme_channel::impl::session_loop(std::shared_ptr<impl> self, std::shared_ptr<session> s) {
  auto backoff = self->settings.reconnect_min;
  while (!self->stopping) {
    bool was_bound = false;
    {
      tcp::resolver resolver(self->io);
      boost::system::error_code ec;
      const auto endpoints = co_await resolver.async_resolve(self->settings.host, std::to_string(self->settings.port),
                                                             asio::redirect_error(asio::use_awaitable, ec));
      tcp::socket socket(self->io);
      if (!ec) {
        asio::steady_timer deadline(self->io);
        deadline.expires_after(self->settings.response_timeout);
        deadline.async_wait([&socket](const boost::system::error_code& e) {
          if (!e) {
            boost::system::error_code ignored;
            socket.close(ignored);
          }
        });
        co_await asio::async_connect(socket, endpoints, asio::redirect_error(asio::use_awaitable, ec));
        deadline.cancel();
      }
      if (!ec && socket.is_open() && !self->stopping) {
        s->conn = std::make_shared<connection>(std::move(socket));
        ++s->generation;
        s->state = link_state::binding;
        s->last_rx = steady::now();
        s->enquire_outstanding = false;
        const command id = s->kind == role::transceiver ? command::bind_transceiver
                           : s->kind == role::transmitter ? command::bind_transmitter
                                                          : command::bind_receiver;
        self->send_request(*s, pdu{id, 0, 0, bind_body{self->settings.system_id, self->settings.password, self->settings.system_type, 0x34, 0, 0, ""}},
                           request_kind::bind);
        asio::co_spawn(self->io, ticker(self, s, s->generation), asio::detached);
        const auto conn = s->conn;
        for (;;) {
          auto in = co_await conn->receive();
          if (in.what == connection::incoming::kind::closed) break;
          if (s->state == link_state::bound) was_bound = true;
          if (in.what == connection::incoming::kind::bad_length) {
            // [SMPP34] §4.3: the stream cannot be resynchronised.
            ++self->counts.generic_nacks_sent;
            conn->send(pdu{command::generic_nack, status::invalid_command_length, in.result.head.sequence, empty_body{}});
            conn->close_after_flush();
            // Let the nack reach the SMSC before link_down closes the socket outright (at most 1 s).
            asio::steady_timer flush_wait(self->io);
            for (int i = 0; i < 100 && conn->is_open(); ++i) {
              flush_wait.expires_after(std::chrono::milliseconds{10});
              boost::system::error_code ignored;
              co_await flush_wait.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
            }
            break;
          }
          self->handle(s, in);
          if (s->state == link_state::bound) was_bound = true;
        }
        self->link_down(*s, "connection closed");
      }
    }
    if (self->stopping) break;
    if (was_bound) backoff = self->settings.reconnect_min;
    const double jitter = std::uniform_real_distribution<double>(0.8, 1.2)(self->rng);
    s->backoff_timer.expires_after(std::chrono::duration_cast<steady::duration>(backoff * jitter));
    boost::system::error_code ec;
    co_await s->backoff_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    backoff = std::min(backoff * 2, std::max(self->settings.reconnect_max, self->settings.reconnect_min));
  }
  if (--self->live_sessions == 0) self->done_timer.cancel();
}

asio::awaitable<void> esme_channel::impl::ticker(std::shared_ptr<impl> self, std::shared_ptr<session> s, std::uint64_t generation) {
  asio::steady_timer timer(self->io);
  while (s->generation == generation && s->conn && s->conn->is_open()) {
    timer.expires_after(self->tick_period());
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (s->generation != generation || !s->conn || !s->conn->is_open()) break;
    const auto now = steady::now();
    self->check_timeouts(s, now);
    self->check_reassembly(now);
    // §2.8 enquire_link when the link has been idle; a missing response drops it (check_timeouts).
    if (s->state == link_state::bound && !s->enquire_outstanding && now - s->last_rx >= self->settings.enquire_link) {
      s->enquire_outstanding = true;
      self->send_request(*s, pdu{command::enquire_link, 0, 0, empty_body{}}, request_kind::enquire_link);
    }
  }
}

void esme_channel::impl::check_timeouts(const std::shared_ptr<session>& s, steady::time_point now) {
  std::vector<std::uint32_t> expired;
  for (const auto& [seq, r] : s->requests)
    if (r.deadline <= now) expired.push_back(seq);
  bool drop = false;
  for (const auto seq : expired) {
    auto node = s->requests.extract(seq);
    auto& r = node.mapped();
    if (r.kind == request_kind::submit) {
      ++counts.timeouts;
      --s->window_used;
      // The SMSC may have taken it: a retry can duplicate (protocols.md §1.9).
      fail_part(r.job, "response timeout", false, false, true);
    } else {
      drop = true;  // bind, enquire_link or unbind unanswered: the link is dead
    }
  }
  if (drop && s->conn) s->conn->close();
  if (!expired.empty()) pump();
}

void esme_channel::impl::link_down(session& s, const std::string& reason) {
  const bool was_bound = s.state == link_state::bound || s.state == link_state::unbinding;
  if (s.state != link_state::down) ++counts.disconnects;
  s.state = link_state::down;
  if (s.conn) s.conn->close();
  auto requests = std::move(s.requests);
  s.requests.clear();
  s.window_used = 0;
  for (auto& [seq, r] : requests)
    if (r.kind == request_kind::submit) fail_part(r.job, "link lost before the response", false, false, true);
  if (!any_submit_link()) {
    auto queued = std::move(queue);
    queue.clear();
    for (auto& job : queued) fail_part(job, "link down", false, false);
  }
  if (was_bound) events.on_link_state(settings.name, any_submit_link(), reason);
  pump();
}

void esme_channel::impl::handle(const std::shared_ptr<session>& s, const connection::incoming& in) {
  s->last_rx = steady::now();
  const auto& r = in.result;
  if (!r) {
    const auto id = r.head.id;
    if (is_response(id)) {
      // A response we cannot read: fail what it answers, keep the link.
      auto it = s->requests.find(r.head.sequence);
      if (it != s->requests.end() && it->second.kind == request_kind::submit) {
        auto job = it->second.job;
        s->requests.erase(it);
        --s->window_used;
        fail_part(job, std::string("malformed response: ") + std::string(to_string(r.error)), false, false, true);
        pump();
      }
      return;
    }
    ++counts.generic_nacks_sent;
    const auto st = error_status(r.error);
    if (r.error == decode_error::unknown_command || r.error == decode_error::length_mismatch) {
      respond(*s, command::generic_nack, r.head.sequence, st);
    } else if (id == static_cast<std::uint32_t>(command::deliver_sm) || id == static_cast<std::uint32_t>(command::data_sm)) {
      respond(*s, id == static_cast<std::uint32_t>(command::deliver_sm) ? command::deliver_sm_resp : command::data_sm_resp, r.head.sequence, st);
    } else {
      respond(*s, command::generic_nack, r.head.sequence, st);
    }
    return;
  }
  const auto& p = r.value;
  if (is_response(static_cast<std::uint32_t>(p.id))) {
    on_response(s, p);
    return;
  }
  switch (p.id) {
    case command::enquire_link:
      respond(*s, command::enquire_link_resp, p.sequence, status::ok);
      return;
    case command::unbind:
      // §4.2: answer, stop submitting, close; the session loop reconnects with backoff.
      respond(*s, command::unbind_resp, p.sequence, status::ok);
      s->state = link_state::unbinding;
      s->conn->close_after_flush();
      return;
    case command::deliver_sm:
    case command::data_sm:
      if (s->kind == role::transmitter) {
        respond(*s, p.id == command::deliver_sm ? command::deliver_sm_resp : command::data_sm_resp, p.sequence, status::invalid_bind_status);
        return;
      }
      on_deliver(s, p);
      return;
    case command::outbind:
      return;  // we bind on our own schedule
    default:
      ++counts.generic_nacks_sent;
      respond(*s, command::generic_nack, p.sequence, status::invalid_command_id);
      return;
  }
}

void esme_channel::impl::on_response(const std::shared_ptr<session>& s, const pdu& p) {
  auto it = s->requests.find(p.sequence);
  if (it == s->requests.end()) return;  // late (already timed out) or never asked
  auto r = std::move(it->second);
  s->requests.erase(it);
  switch (r.kind) {
    case request_kind::bind:
      if (p.status == status::ok && p.id != command::generic_nack) {
        s->state = link_state::bound;
        ++counts.binds;
        events.on_link_state(settings.name, true, "bound");
        pump();
      } else {
        ++counts.bind_failures;
        events.on_link_state(settings.name, any_submit_link(), "bind failed: " + status_reason(p.status));
        s->conn->close();
      }
      return;
    case request_kind::enquire_link:
      s->enquire_outstanding = false;
      return;
    case request_kind::unbind:
      s->conn->close();
      return;
    case request_kind::submit: {
      --s->window_used;
      if (p.status == status::ok && p.id == command::submit_sm_resp) {
        accept_part(r.job, std::get<message_id_body>(p.body).message_id);
      } else {
        const std::uint32_t st = p.status == status::ok ? status::system_error : p.status;
        const auto info = describe_status(st);
        const bool throttle = info.kind == status_class::throttle;
        if (throttle) {
          ++counts.throttled;
          paused_until = steady::now() + settings.throttle_pause;
        }
        fail_part(r.job, status_reason(st), info.kind == status_class::permanent, throttle);
      }
      pump();
      return;
    }
  }
}

void esme_channel::impl::on_deliver(const std::shared_ptr<session>& s, const pdu& p) {
  // deliver_sm and data_sm carry the same facts; data_sm has no short_message (§4.7.1).
  const bool is_data = p.id == command::data_sm;
  const command resp = is_data ? command::data_sm_resp : command::deliver_sm_resp;
  std::uint8_t esm = 0, coding = 0, ton = 0;
  std::string from;
  const tlv_list* tlvs = nullptr;
  std::vector<std::uint8_t> user_data;
  if (is_data) {
    const auto& b = std::get<data_sm_body>(p.body);
    esm = b.esm_class; coding = b.data_coding; from = b.source_addr; ton = b.source_addr_ton; tlvs = &b.tlvs;
  } else {
    const auto& b = std::get<sm_body>(p.body);
    esm = b.esm_class; coding = b.data_coding; from = b.source_addr; ton = b.source_addr_ton; tlvs = &b.tlvs;
    user_data = b.short_message;
  }
  if (user_data.empty())
    if (auto payload = tlvs->message_payload()) user_data = std::move(*payload);

  if ((esm & 0x3C) == 0x04) {  // §5.2.12 SMSC delivery receipt
    ++counts.receipts;
    const std::string text(user_data.begin(), user_data.end());
    const auto parsed = parse_receipt(text);
    std::optional<std::string> id = tlvs->receipted_message_id();
    if (!id && parsed && parsed->id) {
      switch (settings.receipt_ids) {
        case receipt_id_form::same: id = parsed->id; break;
        case receipt_id_form::decimal_to_hex: id = to_hex_id(*parsed->id); break;
        case receipt_id_form::hex_to_decimal: id = to_decimal_id(*parsed->id); break;
      }
    }
    std::optional<message_state> state = tlvs->message_state();
    if (!state && parsed && parsed->stat) state = parse_receipt_stat(*parsed->stat);
    std::string reason;
    if (parsed && parsed->stat) reason = "stat:" + *parsed->stat;
    if (parsed && parsed->err) reason += (reason.empty() ? "" : " ") + std::string("err:") + *parsed->err;
    if (const auto ne = tlvs->network_error_code())
      reason += (reason.empty() ? "" : " ") + std::string("network_error:") + std::to_string(ne->type) + "/" + std::to_string(ne->code);
    // Pitfall 7 (protocols.md §6): every receipt is answered, matched or not, or it comes again;
    // a usable one only once the daemon has stored it (on_receipt).
    on_receipt(std::move(id), state, std::move(reason), pending_ack{s, s->generation, p.sequence, resp});
    return;
  }

  ++counts.inbound_parts;
  std::size_t udh_length = 0;
  std::optional<gsm::concat_info> concat;
  if ((esm & 0x40) != 0) {
    if (const auto udh = gsm::parse_udh(user_data)) {
      udh_length = udh->length;
      concat = udh->concat;
    }
  }
  if (!concat) {
    const auto ref = tlvs->sar_msg_ref_num();
    const auto total = tlvs->sar_total_segments();
    const auto seq = tlvs->sar_segment_seqnum();
    if (ref && total && seq) concat = gsm::concat_info{*ref, *total, *seq};
  }
  auto text = decode_text(coding, user_data, udh_length, settings.gsm7_packed && coding == 0x00);
  from = international(ton, from);
  pending_ack ack{s, s->generation, p.sequence, resp};
  if (!concat || concat->total <= 1 || concat->sequence == 0 || concat->sequence > concat->total) {
    deliver_inbound(inbound_message_id({inbound_fingerprint(p)}), std::move(from), std::move(text), {ack});
    return;
  }
  const std::string key = from + "|" + std::to_string(concat->reference) + "|" + std::to_string(concat->total);
  auto [it, fresh] = partial.try_emplace(key);
  auto& entry = it->second;
  if (fresh) {
    entry.parts.resize(concat->total);
    entry.fingerprints.resize(concat->total);
    entry.from = from;
    entry.first_seen = steady::now();
  }
  entry.parts[concat->sequence - 1u] = std::move(text);  // a duplicate replaces, and is acked with the rest
  entry.fingerprints[concat->sequence - 1u] = inbound_fingerprint(p);
  entry.acks.push_back(ack);
  if (std::all_of(entry.parts.begin(), entry.parts.end(), [](const auto& part) { return part.has_value(); })) {
    std::string joined;
    for (auto& part : entry.parts) joined += *part;
    auto acks = std::move(entry.acks);
    auto sender = std::move(entry.from);
    auto id = inbound_message_id(entry.fingerprints);
    partial.erase(it);
    deliver_inbound(std::move(id), std::move(sender), std::move(joined), std::move(acks));
  }
}

void esme_channel::impl::check_reassembly(steady::time_point now) {
  for (auto it = partial.begin(); it != partial.end();) {
    if (now - it->second.first_seen < settings.reassembly_timeout) {
      ++it;
      continue;
    }
    // Issue 4: after the timeout the parts received are delivered as they are.
    std::string joined;
    for (auto& part : it->second.parts)
      if (part) joined += *part;
    auto acks = std::move(it->second.acks);
    auto sender = std::move(it->second.from);
    auto id = inbound_message_id(it->second.fingerprints);
    it = partial.erase(it);
    deliver_inbound(std::move(id), std::move(sender), std::move(joined), std::move(acks));
  }
}

void esme_channel::impl::answer(const std::vector<pending_ack>& acks, bool stored) {
  // A link that went down meanwhile gets nothing: the SMSC delivers again after the rebind.
  for (const auto& a : acks) {
    auto s = a.link.lock();
    if (!s || s->generation != a.generation || !s->conn || !s->conn->is_open()) continue;
    s->conn->send(pdu{a.response, stored ? status::ok : status::receiver_temporary, a.sequence, default_body(a.response)});
  }
}

void esme_channel::impl::deliver_inbound(std::string provider_id, std::string from, std::string text, std::vector<pending_ack> acks) {
  ++counts.inbound_messages;
  ch::inbound message;
  // From the PDUs' content, not the link: an SMSC that delivers again after a lost
  // deliver_sm_resp sends the same PDUs, and the daemon stores (channel, provider_id) once.
  message.provider_id = std::move(provider_id);
  message.from = std::move(from);
  message.text = std::move(text);
  message.received_at = core::now();
  // deliver_sm_resp only once the daemon has stored the message (DESIGN.md "Nothing lost").
  auto ack = [weak = weak_from_this(), acks = std::move(acks)](bool stored) {
    if (weak.lock()) answer(acks, stored);
  };
  events.on_inbound(settings.name, std::move(message), std::move(ack));
}

void esme_channel::impl::on_receipt(std::optional<std::string> id, std::optional<message_state> state, std::string reason,
                                    pending_ack ack) {
  // Not a receipt we can use, or not the end yet (ENROUTE, ACCEPTD): nothing to store.
  const auto final = state ? to_final_state(*state) : std::nullopt;
  if (!id || !final) {
    answer({ack}, true);
    return;
  }
  ch::report_status st = *final == final_state::delivered ? ch::report_status::delivered
                              : *final == final_state::expired ? ch::report_status::expired
                                                               : ch::report_status::failed;
  if (auto it = part_receipts.find(ch::normalise_provider_id(*id)); it != part_receipts.end()) {
    const auto group = it->second.first;
    const auto part = it->second.second;
    if (!group->seen[part]) {  // a part's receipt sent again counts once
      group->seen[part] = true;
      --group->remaining;
      if (st != ch::report_status::delivered && group->worst == ch::report_status::delivered) {
        group->worst = st;
        group->reason = std::move(reason);
      }
    }
    if (part != 0) {
      answer({ack}, true);  // see receipt_group: only the first part's answer waits
    } else {
      group->held.push_back(ack);
    }
    if (group->remaining == 0 && !group->storing && !group->held.empty()) report_group(group);
    return;
  }
  auto done = [weak = weak_from_this(), ack](bool stored) {
    if (weak.lock()) answer({ack}, stored);
  };
  events.on_delivery_report(settings.name, ch::delivery_report{*id, st, std::move(reason)}, std::move(done));
}

void esme_channel::impl::report_group(const std::shared_ptr<receipt_group>& group) {
  group->storing = true;
  // The group stays known until its report is stored: a first-part receipt sent again after a
  // refused store (ESME_RX_T_APPN) or a lost answer reports the whole message again.
  auto done = [weak = weak_from_this(), group](bool stored) {
    auto self = weak.lock();
    if (!self) return;
    group->storing = false;
    auto held = std::move(group->held);
    group->held.clear();
    answer(held, stored);
    if (!stored) return;
    for (const auto& key : group->keys)
      if (auto it = self->part_receipts.find(key); it != self->part_receipts.end() && it->second.first == group)
        self->part_receipts.erase(it);
  };
  events.on_delivery_report(settings.name, ch::delivery_report{group->main_id, group->worst, group->reason}, std::move(done));
}

void esme_channel::impl::stop() {
  if (stopping) return;
  stopping = true;
  pump_timer.cancel();
  auto queued = std::move(queue);
  queue.clear();
  for (auto& job : queued) fail_part(job, "channel stopping", false, false);
  for (auto& s : sessions) {
    s->backoff_timer.cancel();
    if (s->state == link_state::bound && s->conn && s->conn->is_open()) {
      // §4.2 polite close: unbind and wait (bounded by the ticker) for unbind_resp.
      s->state = link_state::unbinding;
      send_request(*s, pdu{command::unbind, 0, 0, empty_body{}}, request_kind::unbind, {},
                   std::min(settings.response_timeout, std::chrono::milliseconds(2000)));
    } else if (s->conn) {
      s->conn->close();
    }
  }
}

// ---- the channel facade ---------------------------------------------------------------------

esme_channel::esme_channel(asio::io_context& io, esme_settings settings, ch::events& events)
    : impl_(std::make_shared<impl>(io, std::move(settings), events)) {}

esme_channel::~esme_channel() {
  impl_->stopping = true;
  impl_->events.to = nullptr;
  for (auto& s : impl_->sessions) {
    s->backoff_timer.cancel();
    if (s->conn) s->conn->close();
  }
  impl_->pump_timer.cancel();
  impl_->done_timer.cancel();
}

const std::string& esme_channel::name() const { return impl_->settings.name; }
const std::string& esme_channel::kind() const { return impl_->kind_name; }

ch::rate_limits esme_channel::limits() const {
  ch::rate_limits l;
  l.messages_per_second = impl_->settings.tps > 0 ? impl_->settings.tps : 1e6;
  std::size_t submitters = 0;
  for (const auto& s : impl_->sessions)
    if (s->can_submit()) ++submitters;
  l.window = std::max<std::size_t>(1, impl_->settings.window * submitters);
  return l;
}

bool esme_channel::is_up() const { return !impl_->stopping && impl_->any_submit_link(); }
asio::awaitable<void> esme_channel::run() { return impl::run(impl_); }
void esme_channel::submit(ch::outbound message) { impl_->submit(std::move(message)); }
void esme_channel::stop() { impl_->stop(); }
esme_counters esme_channel::counters() const { return impl_->counts; }

std::size_t esme_channel::bound_sessions() const {
  return static_cast<std::size_t>(std::count_if(impl_->sessions.begin(), impl_->sessions.end(),
                                                [](const auto& s) { return s->state == link_state::bound; }));
}

}  // namespace kentongan::smpp
