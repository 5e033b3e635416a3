// fake_aggregator: the fake HTTP SMS aggregator as its own process, for integration tests that
// start the real daemon. Prints "listening http://127.0.0.1:<port>" and runs until SIGINT/SIGTERM.
#include <optional>
#include <string>

#include "tests/fakes/aggregator.hpp"
#include "tests/fakes/fake_main.hpp"

namespace fakes = kentongan::fakes;

namespace {

constexpr const char* usage =
    "usage: fake_aggregator [--listen ADDR] [--port N] [--port-file PATH] [--to-field NAME] [--default BEHAVIOUR]\n"
    "Takes sends on any path (GET query, form or JSON body); the recipient is the parameter --to-field (\"to\").\n"
    "behaviours: ok_json ok_kannel queued_kannel refused_json rate_limited server_error bad_gateway\n"
    "            bad_request unauthorized hang\n"
    "control: GET /_fake/requests  (every send, in order: method, path, headers, body, params, answer)\n"
    "         POST /_fake/behaviour {\"to\",\"behaviour\"[,\"times\"]}  (\"to\" empty: the default)\n"
    "         POST /_fake/callback {\"url\"[,\"method\",\"content_type\",\"body\",\"headers\":{}]}  (202 at once)\n"
    "         GET /_fake/callbacks  (each callback sent: url, the daemon's HTTP status (0 = unreachable), body)\n"
    "         POST /_fake/clear  (forget requests and callbacks)\n"
    "         GET /_fake/health";

}  // namespace

int main(int argc, char** argv) {
  fakes::aggregator_settings settings;
  fakes::fake_options options;
  const auto own = [&](const std::string& name, const std::string& value) -> std::optional<std::string> {
    if (name == "--to-field") {
      settings.to_field = value;
    } else if (name == "--default") {
      const auto b = fakes::parse_aggregator_behaviour(value);
      if (!b) return "unknown behaviour " + value;
      settings.default_behaviour = *b;
    } else {
      return std::nullopt;
    }
    return std::string{};
  };
  if (const auto exit_code = fakes::parse_fake_options(argc, argv, "fake_aggregator", usage, options, own)) return *exit_code;
  boost::asio::io_context io;
  fakes::aggregator fake(io, settings);
  return fakes::serve_fake("fake_aggregator", options, io, fake);
}
