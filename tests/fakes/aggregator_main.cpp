// fake_aggregator: the fake HTTP SMS aggregator as its own process, for integration tests that
// start the real daemon. Prints "listening http://127.0.0.1:<port>" and runs until SIGINT/SIGTERM.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "tests/fakes/aggregator.hpp"

namespace asio = boost::asio;

int main(int argc, char** argv) {
  kentongan::fakes::aggregator_settings settings;
  std::string address = "127.0.0.1", port_file;
  unsigned long port = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help") {
      std::puts("usage: fake_aggregator [--listen ADDR] [--port N] [--port-file PATH] [--to-field NAME] [--default BEHAVIOUR]\n"
                "Takes sends on any path (GET query, form or JSON body); the recipient is the parameter --to-field (\"to\").\n"
                "behaviours: ok_json ok_kannel queued_kannel refused_json rate_limited server_error bad_gateway\n"
                "            bad_request unauthorized hang\n"
                "control: GET /_fake/requests  (every send, in order: method, path, headers, body, params, answer)\n"
                "         POST /_fake/behaviour {\"to\",\"behaviour\"[,\"times\"]}  (\"to\" empty: the default)\n"
                "         POST /_fake/callback {\"url\"[,\"method\",\"content_type\",\"body\",\"headers\":{}]}  (202 at once)\n"
                "         GET /_fake/callbacks  (each callback sent: url, the daemon's HTTP status (0 = unreachable), body)\n"
                "         POST /_fake/clear  (forget requests and callbacks)\n"
                "         GET /_fake/health");
      return 0;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "fake_aggregator: %s needs a value (see --help)\n", arg.c_str());
      return 2;
    }
    const std::string value = argv[++i];
    if (arg == "--listen") address = value;
    else if (arg == "--port") port = std::strtoul(value.c_str(), nullptr, 10);
    else if (arg == "--port-file") port_file = value;
    else if (arg == "--to-field") settings.to_field = value;
    else if (arg == "--default") {
      const auto b = kentongan::fakes::parse_aggregator_behaviour(value);
      if (!b) {
        std::fprintf(stderr, "fake_aggregator: unknown behaviour %s\n", value.c_str());
        return 2;
      }
      settings.default_behaviour = *b;
    } else {
      std::fprintf(stderr, "fake_aggregator: unknown option %s (see --help)\n", arg.c_str());
      return 2;
    }
  }
  if (port > 65535) {
    std::fprintf(stderr, "fake_aggregator: port out of range\n");
    return 2;
  }
  asio::io_context io;
  kentongan::fakes::aggregator fake(io, settings);
  try {
    fake.start(address, static_cast<std::uint16_t>(port));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fake_aggregator: cannot listen: %s\n", e.what());
    return 1;
  }
  if (!port_file.empty()) std::ofstream(port_file) << fake.port() << "\n";
  std::printf("listening http://%s:%u\n", address.c_str(), static_cast<unsigned>(fake.port()));
  std::fflush(stdout);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) {
    fake.stop();
    io.stop();
  });
  io.run();
  return 0;
}
