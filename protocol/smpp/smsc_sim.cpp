#include "protocol/smpp/smsc_sim.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <deque>
#include <optional>
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

struct mo_delivery {
  mo_message message;
  std::uint16_t reference = 0;     // kept for a redelivery: the same PDUs go out again
  std::uint8_t parts = 0;
  std::uint8_t acked = 0;          // parts answered OK in the current attempt
  bool redelivered = false;
};

struct link_state;

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

struct outstanding_item {
  enum class kind { receipt, mo, malformed } what = kind::receipt;
  std::shared_ptr<mo_delivery> mo;
  std::uint8_t part = 1;
  std::string text;                // this MO part's text
  std::optional<pending_receipt> receipt;  // kept until answered OK, sent again otherwise
};

struct link_state {
  std::uint64_t id = 0;
  std::shared_ptr<connection> conn;
  bool bound = false;
  bool can_transmit = false;  // the ESME may submit
  bool can_receive = false;   // we may deliver
  std::uint32_t next_sequence = 1;
  std::unordered_map<std::uint32_t, outstanding_item> outstanding;  // by deliver_sm sequence

  std::uint32_t take_sequence() {
    const auto s = next_sequence;
    next_sequence = next_sequence >= 0x7FFFFFFF ? 1 : next_sequence + 1;
    return s;
  }
};


std::string receipt_date(std::chrono::system_clock::time_point t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%02d%02d%02d%02d%02d", tm.tm_year % 100, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min);
  return buf;
}

// The text of a submit_sm as the handset would show it: UDH stripped, message_payload preferred.
void describe_user_data(const sm_body& sm, smsc_event& e) {
  std::vector<std::uint8_t> data = sm.short_message;
  if (data.empty())
    if (auto payload = sm.tlvs.message_payload()) data = std::move(*payload);
  std::size_t skip = 0;
  if ((sm.esm_class & 0x40) != 0) {
    if (const auto udh = gsm::parse_udh(data)) {
      skip = std::min(udh->length, data.size());
      if (udh->concat) {
        e.udh_ref = udh->concat->reference;
        e.part = udh->concat->sequence;
        e.parts = udh->concat->total;
      }
    }
  }
  if (!e.udh_ref) {
    const auto ref = sm.tlvs.sar_msg_ref_num();
    const auto total = sm.tlvs.sar_total_segments();
    const auto seq = sm.tlvs.sar_segment_seqnum();
    if (ref && total && seq) {
      e.udh_ref = *ref;
      e.parts = *total;
      e.part = *seq;
    }
  }
  const std::span<const std::uint8_t> body(data.data() + skip, data.size() - skip);
  e.data_coding = sm.data_coding;
  switch (sm.data_coding) {
    case 0x00: e.text = gsm::decode_gsm7(body); break;  // unpacked, one septet per octet
    case 0x08: e.text = gsm::decode_ucs2(body); break;
    default: e.text = gsm::decode_latin1(body); break;
  }
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
    for (auto& m : settings.mo) queue_mo(m);
  }

  asio::io_context& io;
  smsc_settings settings;
  smsc_counters counts;
  std::optional<tcp::acceptor> acceptor;
  std::vector<std::shared_ptr<link_state>> links;
  std::deque<pending_receipt> receipts;
  asio::steady_timer receipt_timer;
  std::deque<std::shared_ptr<mo_delivery>> mo_queue;
  std::function<void(const smsc_event&)> sink;
  std::uint64_t next_link = 0;
  bool malformed_done = false;
  // Ids start from the clock in microseconds, so a restarted simulator never hands out an id an
  // earlier run gave (a receipt must not finish someone else's message), as long as a run submits
  // fewer messages than microseconds pass between runs.
  std::uint64_t next_id = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
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
  void send_mo_parts(link_state& link, const std::shared_ptr<mo_delivery>& d);
  void queue_mo(mo_message m) {
    auto d = std::make_shared<mo_delivery>();
    d->message = std::move(m);
    d->reference = ++mo_reference;
    mo_queue.push_back(std::move(d));
  }
  void record(const smsc_event& e) {
    if (sink) sink(e);
  }
  void on_deliver_sm_resp(link_state& link, const pdu& p);
  void send_malformed(link_state& link);
  // §4.6.2: an SMSC keeps a receipt until it is answered OK; an error or a lost link means later.
  void resend_receipt(pending_receipt r) {
    r.due = steady::now() + settings.receipt_retry;
    r.origin = {};
    const auto at = std::find_if(receipts.begin(), receipts.end(), [&](const auto& q) { return q.due > r.due; });
    receipts.insert(at, std::move(r));
    receipt_timer.cancel();
  }
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
  impl_->queue_mo(std::move(message));
  impl_->flush_mo();
}

void smsc_simulator::send_raw(std::vector<std::uint8_t> bytes) {
  for (auto& l : impl_->links) {
    if (!l->bound) continue;
    l->conn->send_bytes(bytes);
  }
}

smsc_counters smsc_simulator::counters() const { return impl_->counts; }

void smsc_simulator::on_event(std::function<void(const smsc_event&)> sink) { impl_->sink = std::move(sink); }

std::string_view to_string(smsc_event::kind k) {
  switch (k) {
    case smsc_event::kind::bind: return "bind";
    case smsc_event::kind::closed: return "closed";
    case smsc_event::kind::submit: return "submit";
    case smsc_event::kind::mo_acked: return "mo_acked";
    case smsc_event::kind::mo_rejected: return "mo_rejected";
    case smsc_event::kind::mo_ack_lost: return "mo_ack_lost";
    case smsc_event::kind::generic_nack: return "generic_nack";
    case smsc_event::kind::malformed_sent: return "malformed_sent";
    case smsc_event::kind::malformed_answered: return "malformed_answered";
  }
  return "unknown";
}

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
    link->id = ++self->next_link;
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
  const bool was_bound = link->bound;
  link->bound = false;
  std::erase(self->links, link);
  for (auto& [seq, item] : link->outstanding)
    if (item.receipt) self->resend_receipt(std::move(*item.receipt));
  link->outstanding.clear();
  if (was_bound || link->conn) {
    smsc_event e;
    e.what = smsc_event::kind::closed;
    e.session = link->id;
    self->record(e);
  }
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
      {
        smsc_event e;
        e.what = smsc_event::kind::bind;
        e.session = link.id;
        e.message_id = std::string(command_name(static_cast<std::uint32_t>(p.id)).value_or("bind"));
        record(e);
      }
      if (settings.malformed != malformed_kind::none && !malformed_done) {
        malformed_done = true;
        send_malformed(link);
      }
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
    case command::deliver_sm_resp:
      on_deliver_sm_resp(link, p);
      return;
    case command::unbind_resp:
      link.conn->close();
      return;
    case command::generic_nack: {
      smsc_event e;
      e.what = smsc_event::kind::generic_nack;
      e.session = link.id;
      e.status = p.status;
      e.sequence = p.sequence;
      record(e);
      return;
    }
    case command::enquire_link_resp:
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
  if (sink) {
    smsc_event e;
    e.what = smsc_event::kind::submit;
    e.session = link.id;
    e.message_id = id;
    e.source = sm.source_addr;
    e.dest = sm.destination_addr;
    describe_user_data(sm, e);
    record(e);
  }
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
      outstanding_item item;
      item.receipt = r;
      to->outstanding.emplace(seq, std::move(item));
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
    const auto d = mo_queue.front();
    send_mo_parts(*to, d);
    mo_queue.pop_front();
  }
}

void smsc_simulator::impl::send_mo_parts(link_state& link, const std::shared_ptr<mo_delivery>& d) {
  const auto& m = d->message;
  const auto plan = gsm::plan_message(m.text);
  const std::uint8_t coding = plan.enc == gsm::encoding::gsm7 ? 0x00 : 0x08;
  const auto total = static_cast<std::uint8_t>(std::min<std::size_t>(plan.parts.size(), 255));
  const std::uint16_t reference = d->reference;
  d->acked = 0;
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
  auto emit = [&](sm_body b, std::uint8_t part, std::string text) {
    const auto seq = link.take_sequence();
    link.outstanding.emplace(seq, outstanding_item{outstanding_item::kind::mo, d, part, std::move(text), std::nullopt});
    link.conn->send(pdu{command::deliver_sm, 0, seq, std::move(b)});
    ++counts.mo_parts;
  };
  if (total <= 1 || m.style == concat_style::payload) {
    d->parts = 1;
    auto b = base();
    std::vector<std::uint8_t> all;
    for (const auto& part : plan.parts) all.insert(all.end(), part.payload.begin(), part.payload.end());
    if (total <= 1) b.short_message = std::move(all);
    else b.tlvs.set(tag::message_payload, std::move(all));
    emit(std::move(b), 1, m.text);
    return;
  }
  d->parts = total;
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
    emit(std::move(b), seq, plan.parts[i].text);
  }
}

void smsc_simulator::impl::on_deliver_sm_resp(link_state& link, const pdu& p) {
  const auto it = link.outstanding.find(p.sequence);
  if (it == link.outstanding.end()) return;
  auto item = std::move(it->second);
  link.outstanding.erase(it);
  smsc_event e;
  e.session = link.id;
  e.status = p.status;
  e.sequence = p.sequence;
  switch (item.what) {
    case outstanding_item::kind::receipt:
      if (p.status == status::ok) {
        ++counts.receipts_acked;
      } else {
        ++counts.receipts_rejected;
        if (item.receipt) resend_receipt(std::move(*item.receipt));
      }
      return;
    case outstanding_item::kind::malformed:
      e.what = smsc_event::kind::malformed_answered;
      e.message_id = "deliver_sm_resp";
      record(e);
      return;
    case outstanding_item::kind::mo:
      break;
  }
  const auto& d = item.mo;
  e.source = d->message.from;
  e.dest = d->message.to;
  e.text = item.text;
  e.message = d->message.text;
  e.part = item.part;
  e.parts = d->parts;
  if (d->parts > 1 && d->message.style != concat_style::payload) e.udh_ref = d->reference;
  if (p.status != status::ok) {
    ++counts.mo_rejected;
    e.what = smsc_event::kind::mo_rejected;
    record(e);
    return;
  }
  if (settings.mo_lose_first_ack && !d->redelivered && ++d->acked >= d->parts) {
    // The answer "never arrived": drop the link and deliver the very same PDUs again later.
    d->redelivered = true;
    e.what = smsc_event::kind::mo_ack_lost;
    record(e);
    mo_queue.push_front(d);
    link.conn->close();
    return;
  }
  if (settings.mo_lose_first_ack && !d->redelivered) {
    // An earlier part of a message whose last answer will be "lost": not counted yet.
    e.what = smsc_event::kind::mo_ack_lost;
    record(e);
    return;
  }
  ++counts.mo_acked;
  e.what = smsc_event::kind::mo_acked;
  record(e);
}

void smsc_simulator::impl::send_malformed(link_state& link) {
  smsc_event e;
  e.what = smsc_event::kind::malformed_sent;
  e.session = link.id;
  const auto seq = link.take_sequence();
  e.sequence = seq;
  std::vector<std::uint8_t> bytes;
  auto put32 = [&](std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<std::uint8_t>(v >> shift));
  };
  switch (settings.malformed) {
    case malformed_kind::none:
      return;
    case malformed_kind::unknown_command:
      e.message_id = "unknown-command";
      put32(16);
      put32(0x00000099);
      put32(0);
      put32(seq);
      break;
    case malformed_kind::bad_length:
      e.message_id = "bad-length";
      put32(8);
      put32(static_cast<std::uint32_t>(command::enquire_link));
      break;
    case malformed_kind::bad_deliver_sm: {
      e.message_id = "bad-deliver-sm";
      // service_type "" then TON, NPI and a source_addr that runs to the end without its NUL.
      const std::vector<std::uint8_t> fields{0x00, 0x01, 0x01, '6', '2', '8', '1'};
      put32(static_cast<std::uint32_t>(header_size + fields.size()));
      put32(static_cast<std::uint32_t>(command::deliver_sm));
      put32(0);
      put32(seq);
      bytes.insert(bytes.end(), fields.begin(), fields.end());
      link.outstanding.emplace(seq, outstanding_item{outstanding_item::kind::malformed, {}, 1, {}, std::nullopt});
      break;
    }
  }
  record(e);
  link.conn->send_bytes(bytes);
}

}  // namespace kentongan::smpp
