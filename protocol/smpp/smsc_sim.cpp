#include "protocol/smpp/smsc_sim.hpp"

#include <cstdio>
#include <ctime>
#include <deque>
#include <random>
#include <unordered_map>

#include "protocol/gsm/gsm.hpp"
#include "protocol/smpp/connection.hpp"
#include "protocol/smpp/pdu.hpp"

namespace kentongan::smpp {

namespace asio = boost::asio;
using asio::ip::tcp;
using steady = std::chrono::steady_clock;

namespace {

struct link_state {
  std::shared_ptr<connection> conn;
  bool bound = false;
  bool can_transmit = false;  // the ESME may submit
  bool can_receive = false;   // we may deliver
  std::uint32_t next_sequence = 1;
  std::unordered_map<std::uint32_t, bool> outstanding;  // deliver_sm sequence → is MO (else receipt)

  std::uint32_t take_sequence() {
    const auto s = next_sequence;
    next_sequence = next_sequence >= 0x7FFFFFFF ? 1 : next_sequence + 1;
    return s;
  }
};

struct pending_receipt {
  steady::time_point due;
  std::string id;
  std::string source;       // of the original submit
  std::string destination;  // of the original submit
  std::string text;         // first 20 characters
  std::string submit_date;
  bool failed = false;
  std::weak_ptr<link_state> origin;
};

std::string receipt_date(std::chrono::system_clock::time_point t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%02d%02d%02d%02d%02d", tm.tm_year % 100, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min);
  return buf;
}

asio::awaitable<void> write_raw(std::shared_ptr<connection> c, std::vector<std::uint8_t> bytes) {
  boost::system::error_code ec;
  co_await asio::async_write(c->socket(), asio::buffer(bytes), asio::redirect_error(asio::use_awaitable, ec));
}

std::optional<command> response_for(command request) {
  switch (request) {
    case command::bind_receiver: return command::bind_receiver_resp;
    case command::bind_transmitter: return command::bind_transmitter_resp;
    case command::bind_transceiver: return command::bind_transceiver_resp;
    case command::submit_sm: return command::submit_sm_resp;
    case command::deliver_sm: return command::deliver_sm_resp;
    case command::data_sm: return command::data_sm_resp;
    case command::unbind: return command::unbind_resp;
    case command::enquire_link: return command::enquire_link_resp;
    default: return std::nullopt;
  }
}

}  // namespace

struct smsc_simulator::impl : std::enable_shared_from_this<impl> {
  impl(asio::io_context& io_context, smsc_settings s)
      : io(io_context), settings(std::move(s)), receipt_timer(io_context), rng(settings.seed) {
    for (auto& m : settings.mo) mo_queue.push_back(m);
  }

  asio::io_context& io;
  smsc_settings settings;
  smsc_counters counts;
  std::optional<tcp::acceptor> acceptor;
  std::vector<std::shared_ptr<link_state>> links;
  std::deque<pending_receipt> receipts;
  asio::steady_timer receipt_timer;
  std::deque<mo_message> mo_queue;
  std::uint64_t next_id = 0x10000;
  std::mt19937 rng;
  steady::time_point throttle_window{};
  std::uint32_t throttle_count = 0;
  std::uint16_t mo_reference = 0;
  std::uint64_t generation = 0;
  bool running = false;
  std::uint16_t port = 0;

  static asio::awaitable<void> accept_loop(std::shared_ptr<impl> self, std::uint64_t gen);
  static asio::awaitable<void> serve(std::shared_ptr<impl> self, std::shared_ptr<link_state> link);
  static asio::awaitable<void> receipt_loop(std::shared_ptr<impl> self, std::uint64_t gen);

  void handle(link_state& link, const std::shared_ptr<link_state>& link_ptr, const pdu& p);
  void on_submit(link_state& link, const std::shared_ptr<link_state>& link_ptr, const pdu& p);
  void respond(link_state& link, command id, std::uint32_t sequence, std::uint32_t status, body b = empty_body{}) {
    if (!std::holds_alternative<empty_body>(b) || default_body(id).index() == b.index())
      link.conn->send(pdu{id, status, sequence, std::move(b)});
    else
      link.conn->send(pdu{id, status, sequence, default_body(id)});
  }
  link_state* receiver(const std::weak_ptr<link_state>& preferred) {
    if (auto p = preferred.lock(); p && p->bound && p->can_receive && p->conn->is_open()) return p.get();
    for (auto& l : links)
      if (l->bound && l->can_receive && l->conn->is_open()) return l.get();
    return nullptr;
  }
  void flush_mo();
  void send_mo_parts(link_state& link, const mo_message& m);
};

smsc_simulator::smsc_simulator(asio::io_context& io, smsc_settings settings)
    : impl_(std::make_shared<impl>(io, std::move(settings))) {}

smsc_simulator::~smsc_simulator() { stop(); }

void smsc_simulator::start(const tcp::endpoint& endpoint) {
  auto& s = *impl_;
  if (s.running) return;
  s.acceptor.emplace(s.io);
  s.acceptor->open(endpoint.protocol());
  s.acceptor->set_option(tcp::acceptor::reuse_address(true));
  s.acceptor->bind(endpoint);
  s.acceptor->listen();
  s.port = s.acceptor->local_endpoint().port();
  s.running = true;
  ++s.generation;
  asio::co_spawn(s.io, impl::accept_loop(impl_, s.generation), asio::detached);
  asio::co_spawn(s.io, impl::receipt_loop(impl_, s.generation), asio::detached);
}

std::uint16_t smsc_simulator::local_port() const { return impl_->port; }

void smsc_simulator::stop() {
  auto& s = *impl_;
  if (!s.running) return;
  s.running = false;
  ++s.generation;
  boost::system::error_code ignored;
  if (s.acceptor) s.acceptor->close(ignored);
  for (auto& l : s.links) l->conn->close();
  s.links.clear();
  s.receipt_timer.cancel();
}

void smsc_simulator::send_mo(mo_message message) {
  impl_->mo_queue.push_back(std::move(message));
  impl_->flush_mo();
}

void smsc_simulator::send_raw(std::vector<std::uint8_t> bytes) {
  for (auto& l : impl_->links) {
    if (!l->bound) continue;
    auto copy = bytes;
    asio::co_spawn(impl_->io, write_raw(l->conn, std::move(copy)), asio::detached);
  }
}

smsc_counters smsc_simulator::counters() const { return impl_->counts; }

std::size_t smsc_simulator::bound_links() const {
  std::size_t n = 0;
  for (const auto& l : impl_->links)
    if (l->bound && l->conn->is_open()) ++n;
  return n;
}

asio::awaitable<void> smsc_simulator::impl::accept_loop(std::shared_ptr<impl> self, std::uint64_t gen) {
  while (self->running && self->generation == gen) {
    boost::system::error_code ec;
    tcp::socket socket = co_await self->acceptor->async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (!self->running || self->generation != gen) break;
      continue;
    }
    auto link = std::make_shared<link_state>();
    link->conn = std::make_shared<connection>(std::move(socket));
    self->links.push_back(link);
    ++self->counts.connections;
    asio::co_spawn(self->io, serve(self, link), asio::detached);
  }
}

asio::awaitable<void> smsc_simulator::impl::serve(std::shared_ptr<impl> self, std::shared_ptr<link_state> link) {
  for (;;) {
    auto in = co_await link->conn->receive();
    if (in.what == connection::incoming::kind::closed) break;
    if (in.what == connection::incoming::kind::bad_length) {
      // [SMPP34] §4.3: an invalid command_length cannot be skipped; nack and close.
      ++self->counts.generic_nacks;
      link->conn->send(pdu{command::generic_nack, status::invalid_command_length, in.result.head.sequence, empty_body{}});
      link->conn->close_after_flush();
      break;
    }
    if (!in.result) {
      ++self->counts.generic_nacks;
      const auto st = error_status(in.result.error);
      const auto resp = is_response(in.result.head.id) ? std::nullopt : response_for(static_cast<command>(in.result.head.id));
      if (in.result.error != decode_error::unknown_command && resp)
        link->conn->send(pdu{*resp, st, in.result.head.sequence, default_body(*resp)});
      else if (!is_response(in.result.head.id))
        link->conn->send(pdu{command::generic_nack, st, in.result.head.sequence, empty_body{}});
      continue;
    }
    self->handle(*link, link, in.result.value);
  }
  link->bound = false;
  std::erase(self->links, link);
}

void smsc_simulator::impl::handle(link_state& link, const std::shared_ptr<link_state>& link_ptr, const pdu& p) {
  switch (p.id) {
    case command::bind_transceiver:
    case command::bind_transmitter:
    case command::bind_receiver: {
      const auto resp = *response_for(p.id);
      const auto& b = std::get<bind_body>(p.body);
      if (link.bound) {
        respond(link, resp, p.sequence, status::already_bound, bind_resp_body{});
        return;
      }
      if (!settings.password.empty() && b.password != settings.password) {
        ++counts.bind_failures;
        respond(link, resp, p.sequence, status::invalid_password, bind_resp_body{});
        return;
      }
      link.bound = true;
      link.can_transmit = p.id != command::bind_receiver;
      link.can_receive = p.id != command::bind_transmitter;
      ++counts.binds;
      bind_resp_body rb{settings.system_id, {}};
      rb.tlvs.set_u8(tag::sc_interface_version, 0x34);
      respond(link, resp, p.sequence, status::ok, std::move(rb));
      if (link.can_receive) {
        flush_mo();
        receipt_timer.cancel();
      }
      return;
    }
    case command::unbind:
      ++counts.unbinds;
      link.bound = false;
      respond(link, command::unbind_resp, p.sequence, status::ok);
      link.conn->close_after_flush();
      return;
    case command::enquire_link:
      ++counts.enquire_links;
      respond(link, command::enquire_link_resp, p.sequence, status::ok);
      return;
    case command::submit_sm:
      on_submit(link, link_ptr, p);
      return;
    case command::data_sm:
      if (!link.bound || !link.can_transmit) {
        respond(link, command::data_sm_resp, p.sequence, status::invalid_bind_status);
        return;
      }
      respond(link, command::data_sm_resp, p.sequence, status::ok, message_id_body{std::to_string(next_id++), {}});
      return;
    case command::deliver_sm_resp: {
      const auto it = link.outstanding.find(p.sequence);
      if (it == link.outstanding.end()) return;
      const bool is_mo = it->second;
      link.outstanding.erase(it);
      if (is_mo) {
        if (p.status == status::ok) ++counts.mo_acked; else ++counts.mo_rejected;
      } else if (p.status == status::ok) {
        ++counts.receipts_acked;
      }
      return;
    }
    case command::unbind_resp:
      link.conn->close();
      return;
    case command::enquire_link_resp:
    case command::generic_nack:
      return;
    default:
      // An ESME has no business sending deliver_sm, outbind or responses we did not ask for.
      if (!is_response(static_cast<std::uint32_t>(p.id))) {
        ++counts.generic_nacks;
        link.conn->send(pdu{command::generic_nack, status::invalid_command_id, p.sequence, empty_body{}});
      }
      return;
  }
}

void smsc_simulator::impl::on_submit(link_state& link, const std::shared_ptr<link_state>& link_ptr, const pdu& p) {
  if (!link.bound || !link.can_transmit) {
    respond(link, command::submit_sm_resp, p.sequence, status::invalid_bind_status);
    return;
  }
  ++counts.submits;
  if (settings.drop_every != 0 && counts.submits % settings.drop_every == 0) {
    ++counts.drops;
    link.conn->close();
    return;
  }
  if (settings.throttle_after != 0) {
    const auto now = steady::now();
    if (now - throttle_window >= std::chrono::seconds(1)) {
      throttle_window = now;
      throttle_count = 0;
    }
    if (++throttle_count > settings.throttle_after) {
      ++counts.throttled;
      respond(link, command::submit_sm_resp, p.sequence, status::throttled);
      return;
    }
  }
  const auto& sm = std::get<sm_body>(p.body);
  char id[24];
  std::snprintf(id, sizeof id, "%llX", static_cast<unsigned long long>(next_id));
  const auto numeric_id = next_id++;
  ++counts.accepted;
  respond(link, command::submit_sm_resp, p.sequence, status::ok, message_id_body{id, {}});
  if ((sm.registered_delivery & 0x03) == 0) return;
  pending_receipt r;
  r.due = steady::now() + settings.dlr_delay;
  r.id = id;
  // Appendix B example form: a 10-digit decimal id, while submit_sm_resp gave hexadecimal (the
  // radix trap of protocols.md §1.8); receipted_message_id carries the submit_sm_resp form.
  char decimal[24];
  std::snprintf(decimal, sizeof decimal, "%010llu", static_cast<unsigned long long>(numeric_id));
  r.text = decimal;
  r.source = sm.source_addr;
  r.destination = sm.destination_addr;
  r.submit_date = receipt_date(std::chrono::system_clock::now());
  if (settings.fail_rate > 0.0) r.failed = std::bernoulli_distribution(std::min(1.0, settings.fail_rate))(rng);
  r.origin = link_ptr;
  const bool was_empty = receipts.empty();
  receipts.push_back(std::move(r));
  if (was_empty) receipt_timer.cancel();
}

asio::awaitable<void> smsc_simulator::impl::receipt_loop(std::shared_ptr<impl> self, std::uint64_t gen) {
  while (self->running && self->generation == gen) {
    const auto now = steady::now();
    link_state* target = nullptr;
    if (!self->receipts.empty() && self->receipts.front().due <= now) target = self->receiver(self->receipts.front().origin);
    if (target == nullptr) {
      self->receipt_timer.expires_at(self->receipts.empty() || self->receipts.front().due <= now ? steady::time_point::max()
                                                                                                  : self->receipts.front().due);
      boost::system::error_code ec;
      co_await self->receipt_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    // Send what is due in one go; yield now and then so submits keep flowing.
    std::size_t sent = 0;
    while (!self->receipts.empty() && self->receipts.front().due <= now && sent < 512) {
      auto& r = self->receipts.front();
      link_state* to = self->receiver(r.origin);
      if (to == nullptr) break;
      receipt text;
      text.id = r.text;
      text.sub = "001";
      text.dlvrd = r.failed ? "000" : "001";
      text.submit_date = r.submit_date;
      text.done_date = receipt_date(std::chrono::system_clock::now());
      text.stat = r.failed ? "UNDELIV" : "DELIVRD";
      text.err = r.failed ? "001" : "000";
      text.text = "";
      sm_body b;
      b.source_addr_ton = 1;
      b.source_addr_npi = 1;
      b.source_addr = r.destination;
      b.dest_addr_ton = 1;
      b.dest_addr_npi = 1;
      b.destination_addr = r.source;
      b.esm_class = 0x04;
      const auto t = format_receipt(text);
      b.short_message.assign(t.begin(), t.end());
      if (self->settings.receipt_tlvs) {
        b.tlvs.set_cstring(tag::receipted_message_id, r.id);
        b.tlvs.set_u8(tag::message_state, static_cast<std::uint8_t>(r.failed ? message_state::undeliverable : message_state::delivered));
      }
      const auto seq = to->take_sequence();
      to->outstanding.emplace(seq, false);
      to->conn->send(pdu{command::deliver_sm, 0, seq, std::move(b)});
      ++self->counts.receipts;
      if (r.failed) ++self->counts.failed_receipts;
      self->receipts.pop_front();
      ++sent;
    }
    co_await asio::post(self->io, asio::use_awaitable);
  }
}

void smsc_simulator::impl::flush_mo() {
  while (!mo_queue.empty()) {
    link_state* to = receiver({});
    if (to == nullptr) return;
    send_mo_parts(*to, mo_queue.front());
    mo_queue.pop_front();
  }
}

void smsc_simulator::impl::send_mo_parts(link_state& link, const mo_message& m) {
  const auto plan = gsm::plan_message(m.text);
  const std::uint8_t coding = plan.enc == gsm::encoding::gsm7 ? 0x00 : 0x08;
  const auto total = static_cast<std::uint8_t>(std::min<std::size_t>(plan.parts.size(), 255));
  const std::uint16_t reference = ++mo_reference;
  auto base = [&]() {
    sm_body b;
    b.source_addr_ton = 1;
    b.source_addr_npi = 1;
    b.source_addr = m.from;
    b.dest_addr_ton = 0;
    b.dest_addr_npi = 1;
    b.destination_addr = m.to;
    b.data_coding = coding;
    return b;
  };
  auto emit = [&](sm_body b) {
    const auto seq = link.take_sequence();
    link.outstanding.emplace(seq, true);
    link.conn->send(pdu{command::deliver_sm, 0, seq, std::move(b)});
    ++counts.mo_parts;
  };
  if (total <= 1 || m.style == concat_style::payload) {
    auto b = base();
    std::vector<std::uint8_t> all;
    for (const auto& part : plan.parts) all.insert(all.end(), part.payload.begin(), part.payload.end());
    if (total <= 1) b.short_message = std::move(all);
    else b.tlvs.set(tag::message_payload, std::move(all));
    emit(std::move(b));
    return;
  }
  for (std::uint8_t i = 0; i < total; ++i) {
    auto b = base();
    const auto& payload = plan.parts[i].payload;
    const auto seq = static_cast<std::uint8_t>(i + 1);
    switch (m.style) {
      case concat_style::udh8:
        b.esm_class = 0x40;
        b.short_message = gsm::concat_udh(static_cast<std::uint8_t>(reference), total, seq);
        break;
      case concat_style::udh16:
        b.esm_class = 0x40;
        b.short_message = {0x06, 0x08, 0x04, static_cast<std::uint8_t>(reference >> 8), static_cast<std::uint8_t>(reference), total, seq};
        break;
      case concat_style::sar:
        b.tlvs.set_u16(tag::sar_msg_ref_num, reference);
        b.tlvs.set_u8(tag::sar_total_segments, total);
        b.tlvs.set_u8(tag::sar_segment_seqnum, seq);
        break;
      case concat_style::payload:
        break;
    }
    b.short_message.insert(b.short_message.end(), payload.begin(), payload.end());
    emit(std::move(b));
  }
}

}  // namespace kentongan::smpp
