#pragma once
/// The command line and run loop every fake server process shares: --listen ADDR, --port N,
/// --port-file PATH and --help, then the fake's own "--name value" options; it prints
/// "listening http://ADDR:PORT" and serves until SIGINT/SIGTERM.

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <fstream>
#include <functional>
#include <optional>
#include <string>

#include "protocol/asio/asio.hpp"

namespace kentongan::fakes {

struct fake_options {
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;  ///< 0 picks one
  std::string port_file;   ///< where the port is written once listening, when not empty
};

/// One of the fake's own options: nullopt when `name` is none of them, else an error message
/// ("" = taken).
using fake_option_fn = std::function<std::optional<std::string>(const std::string& name, const std::string& value)>;

/// Parses argv into `out` and `own`. Returns the exit code when main should end at once (0 after
/// --help prints `usage`; 2 with "<program>: why" on stderr), nullopt to go on.
std::optional<int> parse_fake_options(int argc, char** argv, const char* program, const char* usage, fake_options& out,
                                      const fake_option_fn& own);

/// Starts `fake` (anything with start(address, port), port() and stop()) on `io`, writes the port
/// file, prints where it listens and runs `io` until SIGINT/SIGTERM. Returns main's exit code.
template <class Fake>
int serve_fake(const char* program, const fake_options& options, boost::asio::io_context& io, Fake& fake) {
  try {
    fake.start(options.address, options.port);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: cannot listen: %s\n", program, e.what());
    return 1;
  }
  if (!options.port_file.empty()) std::ofstream(options.port_file) << fake.port() << "\n";
  std::printf("listening http://%s:%u\n", options.address.c_str(), static_cast<unsigned>(fake.port()));
  std::fflush(stdout);
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) {
    fake.stop();
    io.stop();
  });
  io.run();
  return 0;
}

}  // namespace kentongan::fakes
