#pragma once
/// Builds one channel object from its config entry (secrets read here, never logged); used at
/// start-up and on reload. Nothing is started: the caller runs the channel's run() coroutine.

#include <memory>
#include <spdlog/spdlog.h>
#include <string>

#include "config/config.hpp"
#include "protocol/asio/asio.hpp"
#include "protocol/channel/channel.hpp"

namespace kentongan::whatsapp {
class whatsapp_channel;
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

}  // namespace kentongan::daemon
