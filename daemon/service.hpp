#pragma once
/// `kentongan serve`: the long-running service. Threading rule: one I/O thread runs every channel,
/// the HTTP server, the scheduler and the dispatcher; one storage writer thread owns the database
/// and runs every query and state change in group-committed batches. Results cross back to the
/// I/O thread by asio::post; nothing on the I/O thread blocks on SQLite.

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace kentongan::daemon {

struct serve_options {
  std::filesystem::path config_file;
  std::optional<std::filesystem::path> state_dir;  ///< --state-dir, else $STATE_DIRECTORY, else storage.path's folder
  std::optional<std::string> listen;               ///< --listen, else the config's http.listen
  std::string sim_record_file;                     ///< tests: append every message the simulated phones receive
  /// Called once the service is ready (database open, config synced, listener bound), on the I/O thread.
  std::function<void(unsigned short port)> on_ready;
};

/// Runs until SIGTERM or SIGINT; returns the process exit code. Throws for start-up problems
/// (invalid config, unusable database, address in use) with a message that says what to do.
int serve(const serve_options& options);

/// Where the database and admin token live, by the rule in serve_options::state_dir.
std::filesystem::path resolve_state_dir(const std::optional<std::filesystem::path>& flag,
                                        const std::filesystem::path& config_file, const std::string& storage_path);
/// The database file for a state dir (the file name from storage.path, default "kentongan.db").
std::filesystem::path database_file(const std::filesystem::path& state_dir, const std::string& storage_path);

}  // namespace kentongan::daemon
