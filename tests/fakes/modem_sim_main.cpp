// modem_sim: a GSM modem on a pseudo-terminal for the daemon's integration tests. Prints the device
// path on stdout, then reads control lines on stdin:
//   deliver <from> <text…>    store an SMS and announce it with +CMTI
//   fail <cms-code> [count]   the next AT+CMGS get +CMS ERROR
//   urc <line>                an unsolicited line
//   hang | unhang | unplug | replug
//   reports                   send the status reports held since start (--hold-reports)
// and prints "sent <mr> <to> <text>" for every SMS-SUBMIT it accepts.
#include <csignal>
#include <iostream>
#include <sstream>

#include "tests/fakes/modem_sim.hpp"

namespace asio = boost::asio;

int main(int argc, char** argv) {
  kentongan::fakes::modem_sim_settings settings;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : std::string(); };
    if (arg == "--pin") settings.pin = next();
    else if (arg == "--link") settings.link_path = next();
    else if (arg == "--operator") settings.operator_name = next();
    else if (arg == "--interleave") settings.interleave_urcs = true;
    else if (arg == "--hold-reports") settings.hold_reports = true;
    else if (arg == "--stored-reports") settings.report_as_cds = false;
    else if (arg == "--report-status") settings.report_status = static_cast<std::uint8_t>(std::stoi(next(), nullptr, 0));
    else if (arg == "--help" || arg == "-h") {
      std::cout << "usage: modem_sim [--pin PIN] [--link PATH] [--operator NAME] [--interleave] [--report-status N] [--hold-reports] [--stored-reports]\n";
      return 0;
    } else {
      std::cerr << "modem_sim: unknown argument " << arg << "\n";
      return 2;
    }
  }
  try {
    asio::io_context io;
    kentongan::fakes::modem_simulator sim(io, settings);
    std::cout << sim.device() << std::endl;
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code&, int) { io.stop(); });
    asio::posix::stream_descriptor input(io, ::dup(0));
    asio::streambuf buffer;
    std::size_t reported = 0;
    std::function<void()> read_line = [&]() {
      asio::async_read_until(input, buffer, '\n', [&](const boost::system::error_code& ec, std::size_t) {
        if (ec) return;  // stdin closed: keep serving until a signal
        std::istream in(&buffer);
        std::string line;
        std::getline(in, line);
        std::istringstream words(line);
        std::string verb;
        words >> verb;
        std::string rest;
        std::getline(words >> std::ws, rest);
        if (verb == "deliver") {
          const auto space = rest.find(' ');
          sim.deliver(rest.substr(0, space), space == std::string::npos ? std::string() : rest.substr(space + 1));
        } else if (verb == "fail") {
          std::istringstream args(rest);
          int code = 500, count = 1;
          args >> code >> count;
          sim.fail_submits(code, count);
        } else if (verb == "urc") sim.send_urc(rest);
        else if (verb == "hang") sim.hang();
        else if (verb == "unhang") sim.unhang();
        else if (verb == "unplug") sim.unplug();
        else if (verb == "replug") sim.replug();
        else if (verb == "reports") {
          sim.release_reports();
          std::cout << "released" << std::endl;
        }
        read_line();
      });
    };
    read_line();
    asio::steady_timer ticker(io);
    std::function<void()> tick = [&]() {
      for (; reported < sim.sent().size(); ++reported) {
        const auto& s = sim.sent()[reported];
        std::cout << "sent " << s.mr << " " << s.to << " " << s.text << std::endl;
      }
      ticker.expires_after(std::chrono::milliseconds(50));
      ticker.async_wait([&](const boost::system::error_code& ec) { if (!ec) tick(); });
    };
    tick();
    io.run();
  } catch (const std::exception& e) {
    std::cerr << "modem_sim: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
