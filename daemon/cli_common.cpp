#include "daemon/cli_common.hpp"

#include <filesystem>
#include <fstream>
#include <iostream>

#include "config/config.hpp"
#include "daemon/http_client.hpp"
#include "daemon/http_server.hpp"
#include "daemon/service.hpp"

namespace kentongan::daemon {

std::string default_config_file() {
  if (const char* env = std::getenv("KENTONGAN_CONFIG"); env && *env) return env;
  return "/etc/kentongan/kentongan.json";
}

daemon_address locate_daemon(const global_options& g) {
  std::string listen = g.listen;
  std::string storage_path = "kentongan.db";
  const std::filesystem::path config_file = g.config_file;
  if (std::filesystem::exists(config_file)) {
    auto loaded = config::load(config_file);
    if (loaded.config) {
      if (listen.empty()) listen = loaded.config->http.listen;
      storage_path = loaded.config->storage.path;
    }
  }
  if (listen.empty()) listen = "127.0.0.1:8787";
  const auto [host, port] = split_host_port(listen);
  std::optional<std::filesystem::path> flag;
  if (!g.state_dir.empty()) flag = g.state_dir;
  const auto state = resolve_state_dir(flag, config_file, storage_path);
  const auto token_file = state / "admin.token";
  std::ifstream in(token_file);
  std::string token;
  if (!in || !std::getline(in, token) || token.empty())
    throw std::runtime_error("cannot read the admin token " + token_file.string() +
                             ": run this as the daemon's user, or pass the daemon's --state-dir");
  return {host, port, token};
}

std::optional<json> call(const global_options& g, const std::string& method, const std::string& target,
                         const json& body) {
  const auto where = locate_daemon(g);
  const auto reply = http_call(where.host, where.port, method, target, body.is_null() ? "" : body.dump(), where.token);
  json parsed = json::parse(reply.body, nullptr, false);
  if (reply.status / 100 != 2) {
    std::string message = parsed.is_object() && parsed.contains("error") ? parsed["error"].get<std::string>() : reply.body;
    std::cerr << "kentongan: " << message << "\n";
    return std::nullopt;
  }
  if (parsed.is_discarded()) throw std::runtime_error("the daemon answered something that is not JSON");
  return parsed;
}

std::string database_path(const global_options& g) {
  std::string storage_path = "kentongan.db";
  const std::filesystem::path config_file = g.config_file;
  if (std::filesystem::exists(config_file)) {
    auto loaded = config::load(config_file);
    if (loaded.config) storage_path = loaded.config->storage.path;
  }
  std::optional<std::filesystem::path> flag;
  if (!g.state_dir.empty()) flag = g.state_dir;
  return database_file(resolve_state_dir(flag, config_file, storage_path), storage_path).string();
}

}  // namespace kentongan::daemon
