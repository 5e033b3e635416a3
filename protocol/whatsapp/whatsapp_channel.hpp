#pragma once
/// The WhatsApp Cloud API channel: sends text inside the 24-hour customer-service window and an
/// approved template outside it, maps Graph API errors through the table in errors.hpp, and turns
/// webhook statuses and messages into channel events. Runs on the io_context it was built with
/// (channel.hpp threading rule); `events` must outlive the channel. The token is never logged.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/model.hpp"
#include "protocol/channel/channel.hpp"
#include "protocol/whatsapp/webhook.hpp"

namespace kentongan::whatsapp {

namespace chan = kentongan::channel;

/// An approved template: its name at Meta, the language of the approved translation, and whether
/// the message text goes in as body parameter {{1}}.
struct template_spec {
  std::string name;
  std::string language = "id";
  bool text_parameter = true;
  bool operator==(const template_spec&) const = default;
};

/// The "whatsapp" config entry as the daemon built it (secrets already read from their files).
struct settings {
  std::string name = "whatsapp";
  std::string api_base = "https://graph.facebook.com";  ///< scheme://host[:port], no trailing slash
  std::string api_version = "v21.0";
  std::string phone_number_id;                           ///< Meta's numeric Phone Number ID
  std::string token;                                     ///< the bearer token itself
  /// outbound.template_name → approved template; a name not listed is used as it is, with default_language.
  std::map<std::string, template_spec> templates;
  std::string default_template;                          ///< used when outbound.template_name is empty ("" = none)
  std::string default_language = "id";
  double tps = 20.0;                                     ///< Meta allows 80/s per number by default (§4.6)
  std::size_t window = 20;                               ///< requests in flight
  std::chrono::hours service_window{24};                 ///< the customer-service window
  double price_per_message = 0.0;                        ///< for cost estimates only
  std::chrono::milliseconds request_timeout{std::chrono::seconds(20)};
  bool verify_tls = true;                                ///< off only for test servers
  bool operator==(const settings&) const = default;
};

struct counters {
  std::uint64_t requests = 0, accepted = 0, texts = 0, templates = 0, retryable = 0, permanent = 0,
                rate_limited = 0, template_retries = 0, auth_failures = 0, no_route = 0;
};

class whatsapp_channel final : public chan::channel {
 public:
  whatsapp_channel(boost::asio::io_context& io, settings s, chan::events& events);
  ~whatsapp_channel() override;
  whatsapp_channel(const whatsapp_channel&) = delete;
  whatsapp_channel& operator=(const whatsapp_channel&) = delete;

  const std::string& name() const override;
  const std::string& kind() const override;
  chan::rate_limits limits() const override;
  /// False after the Graph API refused the token or the account (until set_token()).
  bool is_up() const override;
  boost::asio::awaitable<void> run() override;
  void submit(chan::outbound message) override;
  void stop() override;

  /// Records that `phone` (E.164) wrote to us at `when`, opening the 24-hour window; the daemon
  /// calls it for every stored inbound WhatsApp message and may seed it from the inbox at start.
  void note_inbound(const std::string& phone, core::time_point when);
  /// When `phone` last wrote, if known.
  std::optional<core::time_point> last_inbound(const std::string& phone) const;
  /// A new token (the daemon re-read token_file): brings a channel stopped by an auth error up again.
  /// Returns false and changes nothing when `token` is the one in use (a down channel stays down).
  bool set_token(std::string token);
  /// The reason the channel is down, empty when up.
  const std::string& down_reason() const;
  counters stats() const;
  /// Requests sent and not yet answered.
  std::size_t in_flight() const;

  struct impl;

 private:
  std::shared_ptr<impl> impl_;
};

/// A webhook status as a delivery report: delivered/read → delivered, failed → failed with the
/// error's code and title; sent and others → nullopt (acceptance was already reported).
std::optional<chan::delivery_report> report_from_status(const status_update& status);

/// A webhook message as the intake sees it (text, or the note for other kinds).
chan::inbound inbound_from_message(const inbound_message& message);

}  // namespace kentongan::whatsapp
