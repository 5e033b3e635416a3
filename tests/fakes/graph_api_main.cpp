// fake_graph_api: the fake Graph API as its own process, for integration tests that start the
// real daemon. Prints "listening http://127.0.0.1:<port>" and runs until SIGINT/SIGTERM.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "tests/fakes/graph_api.hpp"

namespace asio = boost::asio;

int main(int argc, char** argv) {
  kentongan::fakes::graph_api_settings settings;
  std::string address = "127.0.0.1", port_file;
  unsigned long port = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--help") {
      std::puts("usage: fake_graph_api [--listen ADDR] [--port N] [--port-file PATH] [--token T]\n"
                "                      [--phone-number-id ID] [--app-secret S] [--default BEHAVIOUR]\n"
                "behaviours: ok not_on_whatsapp re_engagement rate_limited pair_rate_limit server_error\n"
                "            bad_gateway invalid_token hang\n"
                "control: GET /_fake/requests (every request to the API, in order, with its answer)\n"
                "         POST /_fake/behaviour {\"to\",\"behaviour\"}  (\"to\" empty: the default)\n"
                "         POST /_fake/script {\"sequence\":[{\"behaviour\",\"count\"},...]}  (the next requests,\n"
                "              whoever they are for, in order; then the per-recipient behaviours again)\n"
                "         POST /_fake/token {\"token\"}  (the bearer token accepted from now on)\n"
                "         POST /_fake/clear  (forget recorded requests and the script)\n"
                "         POST /_fake/webhook {\"url\", \"body\" | \"messages\":[{\"from\",\"name\",\"id\",\"text\",\"timestamp\"}]\n"
                "              and/or \"statuses\":[{\"id\",\"status\",\"recipient\",\"timestamp\",\"error_code\",\"error_title\"}]\n"
                "              [,\"signature\"] [,\"wait\":true]}  signed with the app secret; with wait the answer\n"
                "              is {\"status\": <the webhook's HTTP status, 0 if unreachable>}, else 202 at once\n"
                "         GET /_fake/health");
      return 0;
    }
    if (!has_value) {
      std::fprintf(stderr, "fake_graph_api: %s needs a value (see --help)\n", arg.c_str());
      return 2;
    }
    const std::string value = argv[++i];
    if (arg == "--listen") address = value;
    else if (arg == "--port") port = std::strtoul(value.c_str(), nullptr, 10);
    else if (arg == "--port-file") port_file = value;
    else if (arg == "--token") settings.token = value;
    else if (arg == "--phone-number-id") settings.phone_number_id = value;
    else if (arg == "--app-secret") settings.app_secret = value;
    else if (arg == "--default") {
      const auto b = kentongan::fakes::parse_behaviour(value);
      if (!b) {
        std::fprintf(stderr, "fake_graph_api: unknown behaviour %s\n", value.c_str());
        return 2;
      }
      settings.default_behaviour = *b;
    } else {
      std::fprintf(stderr, "fake_graph_api: unknown option %s (see --help)\n", arg.c_str());
      return 2;
    }
  }
  if (port > 65535) {
    std::fprintf(stderr, "fake_graph_api: port out of range\n");
    return 2;
  }
  asio::io_context io;
  kentongan::fakes::graph_api fake(io, settings);
  try {
    fake.start(address, static_cast<std::uint16_t>(port));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fake_graph_api: cannot listen: %s\n", e.what());
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
