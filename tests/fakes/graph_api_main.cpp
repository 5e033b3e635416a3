// fake_graph_api: the fake Graph API as its own process, for integration tests that start the
// real daemon. Prints "listening http://127.0.0.1:<port>" and runs until SIGINT/SIGTERM.
#include <optional>
#include <string>

#include "tests/fakes/fake_main.hpp"
#include "tests/fakes/graph_api.hpp"

namespace fakes = kentongan::fakes;

namespace {

constexpr const char* usage =
    "usage: fake_graph_api [--listen ADDR] [--port N] [--port-file PATH] [--token T]\n"
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
    "         GET /_fake/health";

}  // namespace

int main(int argc, char** argv) {
  fakes::graph_api_settings settings;
  fakes::fake_options options;
  const auto own = [&](const std::string& name, const std::string& value) -> std::optional<std::string> {
    if (name == "--token") {
      settings.token = value;
    } else if (name == "--phone-number-id") {
      settings.phone_number_id = value;
    } else if (name == "--app-secret") {
      settings.app_secret = value;
    } else if (name == "--default") {
      const auto b = fakes::parse_behaviour(value);
      if (!b) return "unknown behaviour " + value;
      settings.default_behaviour = *b;
    } else {
      return std::nullopt;
    }
    return std::string{};
  };
  if (const auto exit_code = fakes::parse_fake_options(argc, argv, "fake_graph_api", usage, options, own)) return *exit_code;
  boost::asio::io_context io;
  fakes::graph_api fake(io, settings);
  return fakes::serve_fake("fake_graph_api", options, io, fake);
}
