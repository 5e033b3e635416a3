#pragma once
/// Private to daemon/: what the CLI commands share — global options, reaching the running daemon.

#include <CLI/CLI.hpp>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace kentongan::daemon {

using json = nlohmann::json;

inline constexpr int exit_ok = 0, exit_failed = 1, exit_usage = 2, exit_unreachable = 3;

struct global_options {
  std::string config_file;
  std::string state_dir;
  std::string listen;
  std::string log_level = "info";
  bool log_phones = false;
};

/// Where a CLI command finds the running daemon: --listen, else the config's http.listen.
struct daemon_address {
  std::string host;
  std::uint16_t port = 0;
  std::string token;
};

std::string default_config_file();
daemon_address locate_daemon(const global_options& g);
/// Calls the daemon's admin API; prints its error and returns nullopt when the answer is not 2xx.
std::optional<json> call(const global_options& g, const std::string& method, const std::string& target,
                         const json& body = nullptr);
/// The database file the daemon uses, for commands that read it directly (exports, reports).
std::string database_path(const global_options& g);

/// A group of subcommands registers itself and returns a runner; the runner gives an exit code
/// when one of its subcommands was parsed, nullopt otherwise.
using command_runner = std::function<std::optional<int>()>;
/// Aspirations, exports, reports and polls (aspirations_cli.cpp).
void add_aspiration_commands(CLI::App& app, global_options& g, std::vector<command_runner>& runners);

}  // namespace kentongan::daemon
