#include "daemon/smsc_sim_cmd.hpp"

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "daemon/http_server.hpp"
#include "protocol/asio/asio.hpp"
#include "protocol/smpp/smsc_sim.hpp"

namespace kentongan::daemon {
namespace asio = boost::asio;

namespace {

smpp::concat_style parse_style(const std::string& s) {
  if (s == "udh8") return smpp::concat_style::udh8;
  if (s == "udh16") return smpp::concat_style::udh16;
  if (s == "sar") return smpp::concat_style::sar;
  if (s == "payload") return smpp::concat_style::payload;
  throw std::runtime_error("--mo-style must be udh8, udh16, sar or payload, not '" + s + "'");
}

smpp::malformed_kind parse_malformed(const std::string& s) {
  if (s.empty()) return smpp::malformed_kind::none;
  if (s == "unknown-command") return smpp::malformed_kind::unknown_command;
  if (s == "bad-length") return smpp::malformed_kind::bad_length;
  if (s == "bad-deliver-sm") return smpp::malformed_kind::bad_deliver_sm;
  throw std::runtime_error("--malformed must be unknown-command, bad-length or bad-deliver-sm, not '" + s + "'");
}

// One JSON object per line; invalid UTF-8 (a broken submit) is replaced, never fatal.
std::string event_line(const smpp::smsc_event& e) {
  using kind = smpp::smsc_event::kind;
  nlohmann::json j;
  j["event"] = std::string(smpp::to_string(e.what));
  j["session"] = e.session;
  switch (e.what) {
    case kind::submit:
      j["message_id"] = e.message_id;
      j["dest"] = e.dest;
      j["source"] = e.source;
      j["text"] = e.text;
      j["data_coding"] = e.data_coding;
      j["udh_ref"] = e.udh_ref ? nlohmann::json(*e.udh_ref) : nlohmann::json(nullptr);
      j["part"] = e.part;
      j["parts"] = e.parts;
      break;
    case kind::mo_acked:
    case kind::mo_rejected:
    case kind::mo_ack_lost:
      j["source"] = e.source;
      j["dest"] = e.dest;
      j["text"] = e.text;
      j["message"] = e.message;
      j["udh_ref"] = e.udh_ref ? nlohmann::json(*e.udh_ref) : nlohmann::json(nullptr);
      j["part"] = e.part;
      j["parts"] = e.parts;
      j["status"] = e.status;
      break;
    case kind::bind:
      j["command"] = e.message_id;
      break;
    case kind::generic_nack:
    case kind::malformed_answered:
      if (!e.message_id.empty()) j["command"] = e.message_id;
      j["status"] = e.status;
      j["sequence"] = e.sequence;
      break;
    case kind::malformed_sent:
      j["kind"] = e.message_id;
      j["sequence"] = e.sequence;
      break;
    case kind::closed:
      break;
  }
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

struct file_closer {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

}  // namespace

int run_smsc_sim(const smsc_sim_options& o) {
  smpp::smsc_settings s;
  s.dlr_delay = std::chrono::milliseconds{o.dlr_delay_ms};
  s.fail_rate = o.fail_rate;
  s.throttle_after = o.throttle_after;
  s.drop_every = o.drop_every;
  s.password = o.password;
  s.mo_lose_first_ack = o.mo_lose_first_ack;
  s.malformed = parse_malformed(o.malformed);
  const auto style = parse_style(o.mo_style);
  if (!o.mo_file.empty()) {
    std::ifstream in(o.mo_file);
    if (!in) throw std::runtime_error("cannot read the MO file " + o.mo_file);
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
      ++n;
      if (line.empty() || line.front() == '#') continue;
      const auto space = line.find(' ');
      if (space == std::string::npos)
        throw std::runtime_error(o.mo_file + ":" + std::to_string(n) + ": expected 'FROM TEXT', e.g. '6281234567890 LAPOR jalan rusak'");
      smpp::mo_message m;
      m.from = line.substr(0, space);
      m.text = line.substr(space + 1);
      m.style = style;
      s.mo.push_back(std::move(m));
    }
  }
  asio::io_context io;
  smpp::smsc_simulator sim(io, s);
  std::unique_ptr<std::FILE, file_closer> record;
  if (!o.record.empty()) {
    record.reset(std::fopen(o.record.c_str(), "a"));
    if (!record) throw std::runtime_error("cannot open the record file " + o.record);
    // Flushed per line: tests read it while we run and after a SIGKILL.
    sim.on_event([f = record.get()](const smpp::smsc_event& e) {
      const auto line = event_line(e);
      std::fwrite(line.data(), 1, line.size(), f);
      std::fflush(f);
    });
  }
  const auto [host, port] = split_host_port(o.listen);
  sim.start(asio::ip::tcp::endpoint{asio::ip::make_address(host), port});
  std::cout << "smsc-sim listening on " << host << ":" << sim.local_port() << std::endl;
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) {
    sim.stop();
    io.stop();
  });
  io.run();
  const auto c = sim.counters();
  std::cout << "smsc-sim: connections " << c.connections << ", binds " << c.binds << ", submits " << c.submits
            << ", accepted " << c.accepted << ", throttled " << c.throttled << ", dropped links " << c.drops
            << ", receipts " << c.receipts << " (" << c.failed_receipts << " failed), MO parts " << c.mo_parts
            << " (" << c.mo_acked << " acknowledged), generic_nack " << c.generic_nacks << std::endl;
  return 0;
}

}  // namespace kentongan::daemon
