#pragma once
/// Builds one channel object from its config entry (secrets read here, never logged); used at
/// start-up and on reload. Nothing is started: the caller runs the channel's run() coroutine.

#include <filesystem>
#include <memory>
#include <spdlog/spdlog.h>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "protocol/asio/asio.hpp"
#include "protocol/channel/channel.hpp"

#include <nlohmann/json.hpp>

namespace kentongan::whatsapp {
class whatsapp_channel;
}
namespace kentongan::modem {
class modem_channel;
}
namespace kentongan::http {
class http_channel;
}

namespace kentongan::daemon {

/// A WhatsApp number: its channel and the secrets its webhooks are checked with.
struct whatsapp_endpoint {
  std::string name;
  std::string phone_number_id;
  std::string app_secret;
  std::string verify_token;
  whatsapp::whatsapp_channel* link = nullptr;
};

/// What the factory needs besides the channel's own settings.
struct factory_options {
  std::string sim_record_file;             ///< tests: the simulator's record of what phones received
  std::filesystem::path state_dir;         ///< the daemon's state directory (the simulator's reports journal)
  std::shared_ptr<spdlog::logger> log;     ///< for configuration warnings; may be null
};

/// The channel, or (link == nullptr) why this build cannot start it.
struct built_channel {
  std::unique_ptr<channel::channel> link;
  std::optional<whatsapp_endpoint> whatsapp;  ///< set for type "whatsapp": its webhook secrets
  std::string not_started;                    ///< when link is null
};

/// Throws std::runtime_error when a secret file cannot be read (the caller reports it).
built_channel make_channel(boost::asio::io_context& io, const config::channel_settings& cs, channel::events& events,
                           const factory_options& options);

/// The channel as an HTTP aggregator (its callbacks), or nullptr when it is another kind.
http::http_channel* as_http(channel::channel* link);

/// The channel as a GSM modem, or nullptr when it is another kind.
modem::modem_channel* as_modem(channel::channel* link);

/// A modem's health for /readyz and `status`: state, signal, operator, balance (and balance_low).
nlohmann::json modem_health_json(const modem::modem_channel& m);

/// The modem gauges for /metrics (Prometheus text, one family per line group), "" without modems.
std::string modem_metrics(const std::vector<const modem::modem_channel*>& modems);

}  // namespace kentongan::daemon
