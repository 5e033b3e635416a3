#include "daemon/smsc_sim_cmd.hpp"

#include <csignal>
#include <fstream>
#include <iostream>

#include "daemon/http_server.hpp"
#include "protocol/asio/asio.hpp"
#include "protocol/smpp/smsc_sim.hpp"

namespace kentongan::daemon {
namespace asio = boost::asio;

int run_smsc_sim(const smsc_sim_options& o) {
  smpp::smsc_settings s;
  s.dlr_delay = std::chrono::milliseconds{o.dlr_delay_ms};
  s.fail_rate = o.fail_rate;
  s.throttle_after = o.throttle_after;
  s.drop_every = o.drop_every;
  s.password = o.password;
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
      s.mo.push_back(std::move(m));
    }
  }
  asio::io_context io;
  smpp::smsc_simulator sim(io, s);
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
