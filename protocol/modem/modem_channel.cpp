#include "protocol/modem/modem_channel.hpp"

#include <algorithm>
#include <array>
#include <deque>
#include <map>
#include <set>
#include <vector>

#include "protocol/gsm/gsm.hpp"
#include "protocol/modem/errors.hpp"
#include "protocol/modem/pdu.hpp"

namespace kentongan::modem {

namespace asio = boost::asio;
namespace chan = kentongan::channel;
using steady = std::chrono::steady_clock;

namespace {

struct message_job {
  chan::outbound message;
  std::vector<submit_request> parts;
  std::size_t next = 0;
  std::vector<int> references;       ///< TP-MR of each part sent
  steady::time_point queued_at;
};

// The parts of one message, whose final status reports make one delivery report. It stays known
// until that report is stored, so a stored report read again after ack(false) finishes it then.
struct report_group {
  std::string provider_id;
  std::string recipient;             ///< recipient_key of the number it went to
  std::vector<int> references;       ///< TP-MR of each part
  std::set<int> seen;                ///< parts whose final report came (a re-read counts once)
  chan::report_status worst = chan::report_status::delivered;
  std::string reason;
  std::vector<int> indexes;          ///< stored reports (+CDSI, sweep) deleted once it is stored
  bool storing = false;
};

struct partial_message {
  std::vector<std::optional<std::string>> parts;
  std::vector<int> indexes;
  std::string from;
  std::optional<timestamp> time;
  steady::time_point first_seen;
};

/// One opened port: the serial port and its write queue. Handlers hold it, so that a reopened port
/// never sees the completions of the old one.
struct link {
  explicit link(asio::io_context& io) : port(io) {}
  asio::serial_port port;
  std::string out;
  std::string sending;
  bool writing = false;
  bool broken = false;
  std::string reason;
};

std::string hex_upper(std::uint8_t v) {
  constexpr char digits[] = "0123456789ABCDEF";
  return {digits[v >> 4], digits[v & 0x0F]};
}

// The last nine digits: the same whether the network writes TP-RA in international (62812…) or in
// national (0812…) form, and with the TP-MR plenty to tell a village's messages apart. Hashed (FNV-1a)
// because provider ids go into logs and exports, where phone numbers are masked.
std::string recipient_key(std::string_view number) {
  std::string digits;
  for (const char c : number)
    if (c >= '0' && c <= '9') digits.push_back(c);
  if (digits.size() > 9) digits.erase(0, digits.size() - 9);
  std::uint32_t h = 2166136261u;
  for (const char c : digits) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619u;
  }
  std::string out(8, '0');
  constexpr char hex_digits[] = "0123456789abcdef";
  for (std::size_t i = 0; i < 8; ++i) out[7 - i] = hex_digits[(h >> (4 * i)) & 0xFu];
  return out;
}

chan::report_status report_status_of(std::uint8_t st) {
  if (st == 0x46) return chan::report_status::expired;  // 23.040 §9.2.3.15 "SM Validity Period Expired"
  return classify_status(st) == delivery_status::delivered ? chan::report_status::delivered : chan::report_status::failed;
}

}  // namespace

std::string report_provider_id(int message_reference, std::string_view recipient) {
  return "mr" + std::to_string(message_reference) + "-" + recipient_key(recipient);
}

std::optional<double> parse_balance_amount(std::string_view text) {
  std::size_t pos = std::string_view::npos;
  for (std::size_t i = 0; i + 1 < text.size(); ++i)
    if ((text[i] == 'R' || text[i] == 'r') && (text[i + 1] == 'p' || text[i + 1] == 'P')) {
      pos = i + 2;
      break;
    }
  if (pos == std::string_view::npos) pos = 0;
  while (pos < text.size() && !(text[pos] >= '0' && text[pos] <= '9')) ++pos;
  if (pos >= text.size()) return std::nullopt;
  // Indonesian notation: "." groups thousands, "," starts the decimals.
  double value = 0;
  for (; pos < text.size(); ++pos) {
    const char c = text[pos];
    if (c >= '0' && c <= '9') value = value * 10 + (c - '0');
    else if (c == '.' && pos + 1 < text.size() && text[pos + 1] >= '0' && text[pos + 1] <= '9') continue;
    else break;
  }
  return value;
}

using event_sink = chan::event_sink;

struct modem_channel::impl : std::enable_shared_from_this<impl> {
  impl(asio::io_context& io_context, modem_settings s, chan::events& ev)
      : io(io_context), settings(std::move(s)), events{&ev}, command_timer(io_context), wake_timer(io_context),
        backoff_timer(io_context) {
    mo_prefix = settings.name + ":";
  }

  asio::io_context& io;
  modem_settings settings;
  event_sink events;
  std::string kind_name = "modem";
  at_engine engine;
  std::shared_ptr<link> current;
  std::optional<at_response> reply;
  asio::steady_timer command_timer;
  asio::steady_timer wake_timer;
  asio::steady_timer backoff_timer;
  bool up = false;
  bool stopping = false;
  bool running = false;
  bool hung = false;
  bool reset_pending = false;
  bool pin_rejected = false;
  bool just_reset = false;
  std::string state = "starting";
  std::string down_reason;
  steady::time_point down_since = steady::now();

  std::deque<std::shared_ptr<message_job>> queue;
  double tokens = 1.0;
  steady::time_point tokens_at = steady::now();
  std::uint8_t concat_reference = 0;
  std::map<int, std::shared_ptr<report_group>> reports;  // TP-MR → the message it belongs to
  std::uint64_t submit_counter = 0;

  std::set<int> to_read;
  std::set<int> to_delete;
  std::set<int> in_hand;       // handed to the daemon, waiting for ack()
  std::map<std::string, partial_message> partial;
  std::string mo_prefix;

  std::vector<std::function<void(bool, std::string)>> balance_waiters;
  bool balance_wanted = false;
  bool ussd_cancel = false;
  std::optional<steady::time_point> ussd_deadline;
  steady::time_point next_sweep{};
  steady::time_point next_health{};
  steady::time_point next_balance = steady::time_point::max();

  modem_health status;

  static asio::awaitable<void> run(std::shared_ptr<impl> self);
  static asio::awaitable<void> reader(std::shared_ptr<impl> self, std::shared_ptr<link> l);
  static asio::awaitable<at_response> exec(std::shared_ptr<impl> self, std::string command, std::chrono::milliseconds timeout,
                                           std::optional<std::string> data = {});
  static asio::awaitable<bool> startup(std::shared_ptr<impl> self);
  static asio::awaitable<void> work(std::shared_ptr<impl> self);
  static asio::awaitable<void> send_part(std::shared_ptr<impl> self);
  static asio::awaitable<void> read_stored(std::shared_ptr<impl> self, int index);
  static asio::awaitable<void> sweep(std::shared_ptr<impl> self);
  static asio::awaitable<void> refresh_health(std::shared_ptr<impl> self);
  static asio::awaitable<void> pause(std::shared_ptr<impl> self, std::chrono::milliseconds d);

  bool alive() const { return current && !current->broken && !stopping && !hung; }
  void wake() { wake_timer.cancel(); }

  void send(const std::shared_ptr<link>& l, std::string bytes) {
    if (l->broken) return;
    l->out += bytes;
    if (!l->writing) write_next(l);
  }
  void write_next(const std::shared_ptr<link>& l) {
    if (l->out.empty() || l->broken) {
      l->writing = false;
      return;
    }
    l->writing = true;
    l->sending = std::move(l->out);
    l->out.clear();
    asio::async_write(l->port, asio::buffer(l->sending), [self = shared_from_this(), l](const boost::system::error_code& ec, std::size_t) {
      if (ec) {
        self->break_link(l, "write failed: " + ec.message());
        return;
      }
      self->write_next(l);
    });
  }
  void break_link(const std::shared_ptr<link>& l, std::string reason) {
    if (l->broken) return;
    l->broken = true;
    l->writing = false;
    l->reason = std::move(reason);
    boost::system::error_code ignored;
    l->port.close(ignored);
    if (l == current) {
      command_timer.cancel();
      wake();
    }
  }

  void handle(at_output out);
  void handle_urc(const urc& u);
  void process_stored(const stored_message& m);
  /// True when it keeps the stored report at `index` (deleted once the daemon stored the report).
  bool on_report(const sms_status_report& r, std::optional<int> index);
  bool on_unmatched_report(const sms_status_report& r, std::optional<int> index);
  void on_deliver(const sms_deliver& d, std::optional<int> index);
  void deliver_inbound(std::string from, std::string text, std::optional<timestamp> time, std::vector<int> indexes, std::string key);
  void check_reassembly(steady::time_point now);
  void finish_balance(bool ok, const std::string& text);
  void fail_job(const std::shared_ptr<message_job>& job, chan::submit_outcome outcome, std::string reason,
                bool maybe_sent = false);
  void go_down(const std::string& reason);
  void submit(chan::outbound message);
  void stop();
};

// ---- serial port ------------------------------------------------------------------------------

asio::awaitable<void> modem_channel::impl::reader(std::shared_ptr<impl> self, std::shared_ptr<link> l) {
  std::array<char, 512> buffer{};
  while (!l->broken) {
    boost::system::error_code ec;
    const std::size_t n = co_await l->port.async_read_some(asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, ec));
    if (ec || n == 0) {
      self->break_link(l, ec ? "read failed: " + ec.message() : std::string("modem closed the port"));
      break;
    }
    if (l != self->current) break;
    self->handle(self->engine.feed(std::string_view(buffer.data(), n)));
    if (!self->current) break;
  }
}

void modem_channel::impl::handle(at_output out) {
  if (!out.write.empty() && current) send(current, std::move(out.write));
  for (const auto& u : out.urcs) handle_urc(u);
  if (out.done) {
    reply = std::move(out.done);
    command_timer.cancel();
  }
}

asio::awaitable<at_response> modem_channel::impl::exec(std::shared_ptr<impl> self, std::string command, std::chrono::milliseconds timeout,
                                                       std::optional<std::string> data) {
  at_response failed;
  failed.command = command;
  failed.result = final_code::timeout;
  if (!self->alive()) co_return failed;
  self->reply.reset();
  auto l = self->current;
  self->send(l, self->engine.start(std::move(command), steady::now() + timeout, std::move(data)));
  for (;;) {
    if (self->reply) {
      auto r = std::move(*self->reply);
      self->reply.reset();
      co_return r;
    }
    if (l->broken || l != self->current || self->stopping) {
      self->engine.reset();
      co_return failed;
    }
    const auto deadline = self->engine.deadline();
    if (!deadline) co_return failed;
    if (auto expired = self->engine.expire(steady::now())) {
      ++self->status.counters.hangs;
      self->hung = true;  // 27.005 gives no way to resynchronise a silent modem: reopen it
      co_return std::move(*expired);
    }
    self->command_timer.expires_at(*deadline);
    boost::system::error_code ec;
    co_await self->command_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

asio::awaitable<void> modem_channel::impl::pause(std::shared_ptr<impl> self, std::chrono::milliseconds d) {
  self->wake_timer.expires_after(d);
  boost::system::error_code ec;
  co_await self->wake_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

// ---- the link's life ----------------------------------------------------------------------------

asio::awaitable<void> modem_channel::impl::run(std::shared_ptr<impl> self) {
  if (self->running) co_return;
  self->running = true;
  auto backoff = self->settings.reopen_min;
  while (!self->stopping) {
    auto l = std::make_shared<link>(self->io);
    boost::system::error_code ec;
    l->port.open(self->settings.device, ec);
    if (!ec) {
      using sp = asio::serial_port_base;
      boost::system::error_code ignored;
      l->port.set_option(sp::baud_rate(self->settings.baud), ignored);
      l->port.set_option(sp::character_size(8), ignored);
      l->port.set_option(sp::parity(sp::parity::none), ignored);
      l->port.set_option(sp::stop_bits(sp::stop_bits::one), ignored);
      l->port.set_option(sp::flow_control(sp::flow_control::none), ignored);
    }
    bool reset_done = false;
    if (ec) {
      ++self->status.counters.open_failures;
      self->go_down("cannot open " + self->settings.device + ": " + ec.message());
    } else {
      ++self->status.counters.opens;
      self->current = l;
      self->hung = false;
      self->engine.reset();
      asio::co_spawn(self->io, reader(self, l), asio::detached);
      const bool ready = co_await startup(self);
      reset_done = std::exchange(self->just_reset, false);
      if (ready) {
        backoff = self->settings.reopen_min;
        self->up = true;
        self->state = "up";
        self->events.on_link_state(self->settings.name, true, "registered" + (self->status.operator_name.empty() ? std::string() : " on " + self->status.operator_name));
        co_await work(self);
      }
      std::string reason = l->broken ? l->reason : self->hung ? std::string("modem does not answer") : self->down_reason;
      if (self->hung && self->settings.reset_on_hang) self->reset_pending = true;
      self->break_link(l, reason);
      self->current.reset();
      self->engine.reset();
      self->go_down(reason.empty() ? "closed" : reason);
      if (!self->balance_waiters.empty() || self->ussd_deadline) self->finish_balance(false, "modem down: " + self->down_reason);
    }
    if (self->stopping) break;
    // Messages wait for the modem to come back, but not for ever (modem_settings::queue_hold).
    if (!self->queue.empty() && steady::now() - self->down_since > self->settings.queue_hold) {
      auto waiting = std::move(self->queue);
      self->queue.clear();
      for (auto& job : waiting) self->fail_job(job, chan::submit_outcome::retryable, "modem down: " + self->down_reason);
    }
    self->backoff_timer.expires_after(reset_done ? self->settings.reset_wait : backoff);
    boost::system::error_code wait_ec;
    co_await self->backoff_timer.async_wait(asio::redirect_error(asio::use_awaitable, wait_ec));
    if (!reset_done) backoff = std::min(backoff * 2, std::max(self->settings.reopen_max, self->settings.reopen_min));
  }
  self->running = false;
}

void modem_channel::impl::go_down(const std::string& reason) {
  down_reason = reason;
  state = "down: " + reason;
  if (up) {
    up = false;
    down_since = steady::now();
    events.on_link_state(settings.name, false, reason);
  }
}

asio::awaitable<bool> modem_channel::impl::startup(std::shared_ptr<impl> self) {
  const auto t = self->settings.command_timeout;
  auto fail = [&](std::string reason) {
    self->down_reason = std::move(reason);
    self->state = "down: " + self->down_reason;
    return false;
  };
  self->state = "starting";
  // A modem left waiting for PDU input takes ESC as "abort" (27.005 §3.5.1); let its answer pass.
  self->send(self->current, "\x1B\r");
  co_await pause(self, self->settings.settle);
  self->engine.reset();
  if (!self->alive()) co_return fail(self->current->reason);

  bool answered = false;
  for (int attempt = 0; attempt < 3 && !answered && self->current && !self->current->broken && !self->stopping; ++attempt) {
    self->hung = false;
    const auto r = co_await exec(self, "AT", std::min(t, std::chrono::milliseconds(2000)));
    answered = r.ok();
  }
  if (!answered) {
    self->hung = false;
    co_return fail("no answer to AT");
  }
  if (self->reset_pending) {
    self->reset_pending = false;
    const auto r = co_await exec(self, "AT+CFUN=1,1", t);
    self->hung = false;
    if (r.ok()) {
      ++self->status.counters.resets;
      self->just_reset = true;
      co_return fail("reset with AT+CFUN=1,1");
    }
  }
  if (!(co_await exec(self, "ATE0", t)).ok()) co_return fail("ATE0 refused");
  co_await exec(self, "AT+CMEE=1", t);

  if (self->pin_rejected) co_return fail("SIM PIN was rejected before; not trying again (PUK risk)");
  const auto cpin = co_await exec(self, "AT+CPIN?", t);
  if (!self->alive()) co_return fail("no answer to AT+CPIN?");
  if (cpin.result == final_code::cme_error) co_return fail(std::string("SIM: ") + std::string(cme_error_text(cpin.error)));
  const auto pin_state = parse_cpin(cpin).value_or("");
  if (pin_state == "SIM PIN") {
    if (self->settings.pin.empty()) co_return fail("SIM PIN required and no pin_file configured");
    const auto quoted = at_quote(self->settings.pin);
    if (!quoted) co_return fail("SIM PIN has characters AT cannot carry");
    const auto r = co_await exec(self, "AT+CPIN=" + *quoted, t);
    if (!r.ok()) {
      if (self->alive()) self->pin_rejected = true;
      co_return fail("SIM PIN rejected: " + r.describe());
    }
  } else if (pin_state != "READY" && !pin_state.empty()) {
    co_return fail("SIM needs " + pin_state);
  }

  // 27.007 §7.2: wait for home (1) or roaming (5) registration.
  self->state = "registering";
  const auto until = steady::now() + self->settings.registration_timeout;
  for (;;) {
    const auto r = co_await exec(self, "AT+CREG?", t);
    if (!self->alive()) co_return fail("no answer to AT+CREG?");
    const auto stat = parse_creg(r).value_or(4);
    if (stat == 1 || stat == 5) break;
    if (stat == 3) co_return fail("network registration denied");
    if (steady::now() >= until) co_return fail("not registered after " + std::to_string(self->settings.registration_timeout.count()) + " ms");
    co_await pause(self, self->settings.registration_poll);
    if (!self->alive()) co_return fail("closed while registering");
  }
  if (!(co_await exec(self, "AT+CMGF=0", t)).ok()) co_return fail("PDU mode (AT+CMGF=0) refused");
  if (const auto r = co_await exec(self, "AT+CSCA?", t); r.ok()) self->status.smsc = parse_csca(r).value_or("");
  // 27.005 §3.4.1: store MT messages and announce them (+CMTI); status reports straight (+CDS),
  // else stored and announced (+CDSI); the sweep catches anything a modem does not announce.
  if (!(co_await exec(self, "AT+CNMI=2,1,0,1,0", t)).ok())
    if (!(co_await exec(self, "AT+CNMI=2,1,0,2,0", t)).ok()) co_await exec(self, "AT+CNMI=2,1", t);
  if (!self->alive()) co_return fail("no answer during start-up");
  co_await refresh_health(self);
  if (!self->alive()) co_return fail("no answer during start-up");
  const auto now = steady::now();
  self->next_sweep = now;
  self->next_health = now + self->settings.health_interval;
  if (!self->settings.ussd_balance_code.empty() && self->settings.balance_interval.count() > 0 && self->next_balance == steady::time_point::max())
    self->next_balance = now;
  co_return true;
}

asio::awaitable<void> modem_channel::impl::refresh_health(std::shared_ptr<impl> self) {
  const auto t = self->settings.command_timeout;
  if (const auto r = co_await exec(self, "AT+CSQ", t); r.ok()) self->status.signal = parse_csq(r);
  if (const auto r = co_await exec(self, "AT+COPS?", t); r.ok()) self->status.operator_name = parse_cops(r).value_or("");
  self->next_health = steady::now() + self->settings.health_interval;
}

asio::awaitable<void> modem_channel::impl::work(std::shared_ptr<impl> self) {
  const auto t = self->settings.command_timeout;
  while (self->alive()) {
    auto now = steady::now();
    self->check_reassembly(now);
    if (self->ussd_deadline && now >= *self->ussd_deadline) self->finish_balance(false, "no USSD answer");
    if (now >= self->next_balance) {
      self->balance_wanted = true;
      self->next_balance = now + self->settings.balance_interval;
    }

    if (!self->to_delete.empty()) {
      const int index = *self->to_delete.begin();
      self->to_delete.erase(self->to_delete.begin());
      const auto r = co_await exec(self, "AT+CMGD=" + std::to_string(index), t);
      if (r.ok()) ++self->status.counters.deleted;
      continue;
    }
    if (!self->to_read.empty()) {
      const int index = *self->to_read.begin();
      self->to_read.erase(self->to_read.begin());
      co_await read_stored(self, index);
      continue;
    }
    if (self->ussd_cancel) {
      self->ussd_cancel = false;
      co_await exec(self, "AT+CUSD=2", t);
      continue;
    }
    if (self->balance_wanted) {
      self->balance_wanted = false;
      const auto code = at_quote(self->settings.ussd_balance_code);
      if (!code) {
        self->finish_balance(false, "ussd_balance_code has characters AT cannot carry");
        continue;
      }
      self->ussd_deadline = steady::now() + self->settings.ussd_timeout;
      // 27.007 §7.15: <n>=1 enables the +CUSD result; dcs 15 = GSM-7, language unspecified.
      const auto r = co_await exec(self, "AT+CUSD=1," + *code + ",15", t);
      if (!r.ok() && self->ussd_deadline) self->finish_balance(false, "AT+CUSD: " + r.describe());
      continue;
    }
    if (!self->queue.empty()) {
      if (self->settings.tps > 0) {
        const double burst = 1.0;
        self->tokens = std::min(burst, self->tokens + std::chrono::duration<double>(now - self->tokens_at).count() * self->settings.tps);
        self->tokens_at = now;
      }
      if (self->settings.tps <= 0 || self->tokens >= 1.0) {
        if (self->settings.tps > 0) self->tokens -= 1.0;
        co_await send_part(self);
        continue;
      }
    }
    if (now >= self->next_sweep) {
      co_await sweep(self);
      continue;
    }
    if (now >= self->next_health) {
      co_await refresh_health(self);
      continue;
    }
    auto next = std::min({self->next_sweep, self->next_health, self->next_balance});
    if (self->ussd_deadline) next = std::min(next, *self->ussd_deadline);
    if (!self->queue.empty() && self->settings.tps > 0)
      next = std::min(next, now + std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>((1.0 - self->tokens) / self->settings.tps)));
    if (!self->partial.empty()) next = std::min(next, now + std::chrono::seconds(1));
    self->wake_timer.expires_at(next);
    boost::system::error_code ec;
    co_await self->wake_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

// ---- sending ----------------------------------------------------------------------------------

void modem_channel::impl::submit(chan::outbound message) {
  chan::submit_result result;
  result.id = message.id;
  if (stopping || !up) {
    result.outcome = chan::submit_outcome::retryable;
    result.reason = stopping ? "channel stopping" : "modem down: " + down_reason;
    // Posted, so that the dispatcher is never re-entered from inside its own submit() call.
    asio::post(io, [weak = weak_from_this(), result = std::move(result)]() mutable {
      if (auto self = weak.lock()) self->events.on_submit_result(self->settings.name, std::move(result));
    });
    return;
  }
  const auto plan = gsm::plan_message(message.text);
  result.parts = static_cast<int>(std::max<std::size_t>(1, plan.parts.size()));
  submit_request base;
  base.destination = make_address(message.to);
  base.enc = plan.enc;
  base.validity = settings.validity;
  base.status_report = message.want_report && settings.status_reports;
  if (!settings.smsc.empty()) base.smsc = make_address(settings.smsc);
  auto parts = submits_for(plan, base, ++concat_reference);
  if (parts.empty()) {
    result.outcome = chan::submit_outcome::permanent;
    result.reason = "text needs more than 255 parts";
    asio::post(io, [weak = weak_from_this(), result = std::move(result)]() mutable {
      if (auto self = weak.lock()) self->events.on_submit_result(self->settings.name, std::move(result));
    });
    return;
  }
  auto job = std::make_shared<message_job>();
  job->message = std::move(message);
  job->parts = std::move(parts);
  job->queued_at = steady::now();
  queue.push_back(std::move(job));
  wake();
}

void modem_channel::impl::fail_job(const std::shared_ptr<message_job>& job, chan::submit_outcome outcome, std::string reason,
                                   bool maybe_sent) {
  ++status.counters.submit_errors;
  chan::submit_result r;
  r.id = job->message.id;
  r.outcome = outcome;
  r.parts = static_cast<int>(job->parts.size());
  r.reason = std::move(reason);
  // Parts already sent will reach the phone; a retry sends them again.
  if (job->next > 0) r.reason += " (" + std::to_string(job->next) + " of " + std::to_string(job->parts.size()) + " parts sent)";
  r.maybe_sent = job->next > 0 || maybe_sent;
  events.on_submit_result(settings.name, std::move(r));
}

asio::awaitable<void> modem_channel::impl::send_part(std::shared_ptr<impl> self) {
  auto job = self->queue.front();
  const auto encoded = encode_submit(job->parts[job->next]);
  if (!encoded) {
    self->queue.pop_front();
    self->fail_job(job, chan::submit_outcome::permanent, "cannot encode SMS-SUBMIT: " + std::string(to_string(encoded.error)));
    co_return;
  }
  // 27.005 §3.5.1: <length> counts TPDU octets only; the PDU line carries the SMSC part too.
  const auto r = co_await exec(self, "AT+CMGS=" + std::to_string(encoded.value.tpdu_length), self->settings.send_timeout, encoded.value.hex);
  const auto mr = parse_cmgs(r);
  if (r.ok() && mr) {
    ++self->status.counters.parts_sent;
    job->references.push_back(*mr);
    if (++job->next < job->parts.size()) co_return;
    self->queue.pop_front();
    chan::submit_result result;
    result.id = job->message.id;
    result.outcome = chan::submit_outcome::accepted;
    result.parts = static_cast<int>(job->parts.size());
    const bool wants_report = job->parts.front().status_report;
    // A status report carries the TP-MR and the recipient (23.040 §9.2.2.3): the id is made of them
    // only, so a report that comes after a restart (the TP-MR map below lives in memory) finds the
    // row again. Without a report the time makes the id unique although TP-MRs wrap at 256.
    result.provider_id = wants_report ? report_provider_id(job->references.front(), job->message.to)
                                      : std::to_string(job->references.front()) + "-" +
                                            std::to_string(core::to_millis(core::now())) + "-" +
                                            std::to_string(++self->submit_counter);
    if (wants_report) {
      auto group = std::make_shared<report_group>();
      group->provider_id = result.provider_id;
      group->recipient = recipient_key(job->message.to);
      group->references = job->references;
      for (const int ref : job->references) self->reports[ref] = group;  // a wrapped MR replaces an old, unmatched one
    }
    self->events.on_submit_result(self->settings.name, std::move(result));
    co_return;
  }
  self->queue.pop_front();
  if (r.result == final_code::timeout) {
    self->fail_job(job, chan::submit_outcome::retryable, "modem did not answer AT+CMGS (the part may have gone out)", true);
    co_return;
  }
  if (r.result == final_code::cms_error) {
    const auto info = describe_cms_error(r.error);
    self->fail_job(job, info.retryable ? chan::submit_outcome::retryable : chan::submit_outcome::permanent,
                   "+CMS ERROR: " + std::to_string(r.error) + " " + std::string(info.name));
    if (info.link_problem) {
      self->down_reason = "+CMS ERROR: " + std::to_string(r.error) + " " + std::string(info.text);
      if (self->current) self->break_link(self->current, self->down_reason);
    }
    co_return;
  }
  self->fail_job(job, chan::submit_outcome::retryable, r.ok() ? std::string("no +CMGS reference in the answer") : "AT+CMGS: " + r.describe());
}

// ---- receiving --------------------------------------------------------------------------------

void modem_channel::impl::handle_urc(const urc& u) {
  ++status.counters.urcs;
  switch (u.kind) {
    case urc_kind::new_message:
    case urc_kind::stored_report:
      if (u.index >= 0 && !in_hand.contains(u.index)) {
        to_read.insert(u.index);
        wake();
      }
      return;
    case urc_kind::status_report: {
      const auto d = decode_pdu(u.pdu);
      // Routed, not stored: with AT+CSMS=0 there is nothing to acknowledge and nothing to keep.
      if (d && std::holds_alternative<sms_status_report>(d.value)) on_report(std::get<sms_status_report>(d.value), std::nullopt);
      else ++status.counters.undecodable;
      return;
    }
    case urc_kind::direct_message: {
      // Routed (+CMT) rather than stored: nothing to delete, and with AT+CSMS=0 nothing to acknowledge.
      const auto d = decode_pdu(u.pdu);
      if (d && std::holds_alternative<sms_deliver>(d.value)) on_deliver(std::get<sms_deliver>(d.value), std::nullopt);
      else ++status.counters.undecodable;
      return;
    }
    case urc_kind::ussd: {
      const auto ussd = parse_cusd(u.line);
      if (!ussd) return;
      if (ussd->status == 1) ussd_cancel = true;  // the network wants an answer we do not give
      if (ussd->status == 0 || ussd->status == 1) finish_balance(true, ussd->text);
      else finish_balance(false, "USSD ended with status " + std::to_string(ussd->status));
      wake();
      return;
    }
    case urc_kind::ring:
    case urc_kind::noise:
      ++status.counters.noise;
      return;
  }
}

asio::awaitable<void> modem_channel::impl::read_stored(std::shared_ptr<impl> self, int index) {
  if (self->in_hand.contains(index)) co_return;
  const auto r = co_await exec(self, "AT+CMGR=" + std::to_string(index), self->settings.command_timeout);
  if (!r.ok()) co_return;  // +CMS ERROR: 321, an empty index: nothing there
  auto m = parse_cmgr(r);
  if (!m) co_return;
  m->index = index;
  self->process_stored(*m);
}

asio::awaitable<void> modem_channel::impl::sweep(std::shared_ptr<impl> self) {
  // 27.005 §3.4.2: stat 4 = all; catches what arrived while we were down or was never announced.
  const auto r = co_await exec(self, "AT+CMGL=4", std::max(self->settings.command_timeout, std::chrono::milliseconds(30000)));
  self->next_sweep = steady::now() + self->settings.sweep_interval;
  if (!r.ok()) co_return;
  for (const auto& m : parse_cmgl(r)) self->process_stored(m);
}

void modem_channel::impl::process_stored(const stored_message& m) {
  if (m.index < 0 || in_hand.contains(m.index) || to_delete.contains(m.index)) return;
  if (m.stat == 2 || m.stat == 3) return;  // STO UNSENT / STO SENT: not ours
  const auto d = decode_pdu(m.pdu);
  if (!d) {
    // Unreadable: it can never be stored, and left on the SIM it would fill the memory.
    ++status.counters.undecodable;
    to_delete.insert(m.index);
    return;
  }
  if (const auto* report = std::get_if<sms_status_report>(&d.value)) {
    if (!on_report(*report, m.index)) to_delete.insert(m.index);  // of no use: deleted at once
    return;
  }
  if (const auto* deliver = std::get_if<sms_deliver>(&d.value)) {
    on_deliver(*deliver, m.index);
    return;
  }
}

bool modem_channel::impl::on_report(const sms_status_report& r, std::optional<int> index) {
  ++status.counters.status_reports;
  const auto band = classify_status(r.status);
  if (band == delivery_status::pending || band == delivery_status::unknown) return false;  // not final yet
  const auto it = reports.find(r.message_reference);
  if (it == reports.end() || it->second->recipient != recipient_key(r.recipient.number)) return on_unmatched_report(r, index);
  auto group = it->second;
  if (group->seen.insert(r.message_reference).second) {
    const auto st = report_status_of(r.status);
    if (st != chan::report_status::delivered && group->worst == chan::report_status::delivered) {
      group->worst = st;
      group->reason = "TP-ST 0x" + hex_upper(r.status);
    }
    if (group->reason.empty() && group->seen.size() == group->references.size()) group->reason = "TP-ST 0x" + hex_upper(r.status);
  }
  if (index) {
    group->indexes.push_back(*index);
    in_hand.insert(*index);
  }
  if (group->seen.size() < group->references.size() || group->storing) return index.has_value();
  group->storing = true;
  // DESIGN.md "Nothing lost": a stored report is deleted (AT+CMGD) only once the daemon has stored
  // it; ack(false) leaves it on the SIM, and the next sweep reads it and reports the message again.
  auto ack = [weak = weak_from_this(), group](bool stored) {
    auto self = weak.lock();
    if (!self) return;
    group->storing = false;
    for (const int i : group->indexes) {
      self->in_hand.erase(i);
      if (stored) self->to_delete.insert(i);
    }
    group->indexes.clear();
    if (stored)
      for (const int ref : group->references)
        if (auto at = self->reports.find(ref); at != self->reports.end() && at->second == group) self->reports.erase(at);
    self->wake();
  };
  events.on_delivery_report(settings.name, chan::delivery_report{group->provider_id, group->worst, group->reason}, std::move(ack));
  return index.has_value();
}

bool modem_channel::impl::on_unmatched_report(const sms_status_report& r, std::optional<int> index) {
  // Of no message sent in this run: the daemon restarted after the submit, or a later message took
  // its TP-MR over. Its provider id is built again from the report alone and the store finds the
  // row by it (report_provider_id). Of a multi-part message only the first part's report matches;
  // it then stands for the whole message. A stored report is deleted once the report is stored.
  ++status.counters.unmatched_reports;
  if (index) in_hand.insert(*index);
  auto ack = [weak = weak_from_this(), index](bool stored) {
    auto self = weak.lock();
    if (!self || !index) return;
    self->in_hand.erase(*index);
    if (stored) self->to_delete.insert(*index);
    self->wake();
  };
  events.on_delivery_report(settings.name,
                            chan::delivery_report{report_provider_id(r.message_reference, r.recipient.number),
                                                  report_status_of(r.status), "TP-ST 0x" + hex_upper(r.status)},
                            std::move(ack));
  return index.has_value();
}

void modem_channel::impl::on_deliver(const sms_deliver& d, std::optional<int> index) {
  ++status.counters.inbound_parts;
  std::vector<int> indexes;
  if (index) {
    indexes.push_back(*index);
    in_hand.insert(*index);
  }
  const auto concat = d.ud.header ? d.ud.header->concat : std::nullopt;
  const std::string time_key = d.service_centre_time ? std::to_string(d.service_centre_time->utc.time_since_epoch().count()) : "0";
  if (!concat || concat->total <= 1) {
    deliver_inbound(d.originator.number, d.ud.text, d.service_centre_time, std::move(indexes),
                    d.originator.number + "@" + time_key + "#" + (index ? std::to_string(*index) : std::string("cmt")));
    return;
  }
  const std::string key = d.originator.number + "|" + std::to_string(concat->reference) + "|" + std::to_string(concat->total);
  auto [it, fresh] = partial.try_emplace(key);
  auto& p = it->second;
  if (fresh) {
    p.parts.resize(concat->total);
    p.from = d.originator.number;
    p.first_seen = steady::now();
  }
  if (concat->sequence == 1 || !p.time) p.time = d.service_centre_time;
  p.parts[concat->sequence - 1u] = d.ud.text;
  p.indexes.insert(p.indexes.end(), indexes.begin(), indexes.end());
  if (std::all_of(p.parts.begin(), p.parts.end(), [](const auto& part) { return part.has_value(); })) {
    std::string joined;
    for (auto& part : p.parts) joined += *part;
    auto done = std::move(p);
    partial.erase(it);
    const std::string t = done.time ? std::to_string(done.time->utc.time_since_epoch().count()) : "0";
    deliver_inbound(done.from, std::move(joined), done.time, done.indexes, done.from + "@" + t + "#" + std::to_string(concat->reference));
  }
}

void modem_channel::impl::check_reassembly(steady::time_point now) {
  for (auto it = partial.begin(); it != partial.end();) {
    if (now - it->second.first_seen < settings.reassembly_timeout) {
      ++it;
      continue;
    }
    // A part lost for good: deliver what arrived rather than keep it on the SIM for ever.
    std::string joined;
    for (auto& part : it->second.parts)
      if (part) joined += *part;
    auto done = std::move(it->second);
    const std::string key = it->first;
    it = partial.erase(it);
    deliver_inbound(done.from, std::move(joined), done.time, done.indexes, key + "#partial");
  }
}

void modem_channel::impl::deliver_inbound(std::string from, std::string text, std::optional<timestamp> time, std::vector<int> indexes,
                                          std::string key) {
  ++status.counters.inbound_messages;
  chan::inbound message;
  // Stable across a re-read of the same stored message, so the daemon's inbox dedupes it.
  message.provider_id = mo_prefix + key;
  message.from = std::move(from);
  message.text = std::move(text);
  message.received_at = time ? std::chrono::time_point_cast<std::chrono::milliseconds>(time->utc) : core::now();
  // DESIGN.md "Nothing lost": AT+CMGD only after the daemon has stored it; ack(false) leaves it on
  // the SIM for the next sweep.
  auto ack = [weak = weak_from_this(), indexes = std::move(indexes)](bool stored) {
    auto self = weak.lock();
    if (!self) return;
    for (const int i : indexes) {
      self->in_hand.erase(i);
      if (stored) self->to_delete.insert(i);
    }
    self->wake();
  };
  events.on_inbound(settings.name, std::move(message), std::move(ack));
}

// ---- balance ----------------------------------------------------------------------------------

void modem_channel::impl::finish_balance(bool ok, const std::string& text) {
  ussd_deadline.reset();
  if (ok) {
    status.balance = text;
    status.balance_at = core::now();
    status.balance_amount = parse_balance_amount(text);
    status.balance_low = settings.balance_warning > 0 && status.balance_amount && *status.balance_amount < settings.balance_warning;
  }
  auto waiters = std::move(balance_waiters);
  balance_waiters.clear();
  for (auto& w : waiters) w(ok, text);
}

void modem_channel::impl::stop() {
  if (stopping) return;
  stopping = true;
  backoff_timer.cancel();
  auto waiting = std::move(queue);
  queue.clear();
  for (auto& job : waiting) fail_job(job, chan::submit_outcome::retryable, "channel stopping");
  finish_balance(false, "channel stopping");
  if (current) break_link(current, "stopping");
  command_timer.cancel();
  wake();
}

// ---- the channel facade -----------------------------------------------------------------------

modem_channel::modem_channel(asio::io_context& io, modem_settings settings, chan::events& events)
    : impl_(std::make_shared<impl>(io, std::move(settings), events)) {}

modem_channel::~modem_channel() {
  impl_->stopping = true;
  impl_->events.to = nullptr;
  impl_->balance_waiters.clear();
  if (impl_->current) impl_->break_link(impl_->current, "destroyed");
  impl_->backoff_timer.cancel();
  impl_->command_timer.cancel();
  impl_->wake_timer.cancel();
}

const std::string& modem_channel::name() const { return impl_->settings.name; }
const std::string& modem_channel::kind() const { return impl_->kind_name; }

chan::rate_limits modem_channel::limits() const {
  chan::rate_limits l;
  l.messages_per_second = impl_->settings.tps > 0 ? impl_->settings.tps : 1.0;
  l.window = std::max(1u, impl_->settings.window);
  l.hourly_cap = impl_->settings.hourly_cap;
  l.daily_cap = impl_->settings.daily_cap;
  return l;
}

bool modem_channel::is_up() const { return impl_->up && !impl_->stopping; }
asio::awaitable<void> modem_channel::run() { return impl::run(impl_); }
void modem_channel::submit(chan::outbound message) { impl_->submit(std::move(message)); }
void modem_channel::stop() { impl_->stop(); }
const modem_settings& modem_channel::settings() const { return impl_->settings; }

void modem_channel::check_balance(std::function<void(bool ok, std::string text)> done) {
  auto& self = *impl_;
  std::string refusal;
  if (self.settings.ussd_balance_code.empty()) refusal = "no ussd_balance_code configured";
  else if (!self.up || self.stopping) refusal = "modem down: " + self.down_reason;
  if (!refusal.empty()) {
    asio::post(self.io, [done = std::move(done), refusal]() { done(false, refusal); });
    return;
  }
  self.balance_waiters.push_back(std::move(done));
  self.balance_wanted = true;
  self.wake();
}

modem_health modem_channel::health() const {
  auto h = impl_->status;
  h.up = is_up();
  h.state = impl_->state;
  return h;
}

}  // namespace kentongan::modem
