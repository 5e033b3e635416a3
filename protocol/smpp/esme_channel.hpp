#pragma once
/// The SMPP 3.4 ESME channel: keeps `sessions` binds to one SMSC, submits with a window per bind,
/// turns receipts and MO deliver_sm into channel events. Everything runs on the io_context it was
/// built with (channel.hpp threading rule); `events` must outlive the channel.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "protocol/channel/channel.hpp"

namespace kentongan::smpp {

enum class bind_mode {
  transceiver,   ///< one bind_transceiver per session
  transmitter,   ///< submit only
  receiver,      ///< receive only
  pair,          ///< one bind_transmitter plus one bind_receiver per session
};

/// How the id in a receipt relates to the submit_sm_resp id (protocols.md §1.8); applied to the
/// receipt's text id only: the receipted_message_id TLV is taken to be in the submit_sm_resp form.
enum class receipt_id_form { same, decimal_to_hex, hex_to_decimal };

/// The "smpp" entry of the config, as config/ parsed it (the password already read from its file).
struct esme_settings {
  std::string name = "smpp";
  std::string host = "127.0.0.1";
  std::uint16_t port = 2775;
  std::string system_id;
  std::string password;
  std::string system_type;
  bind_mode bind = bind_mode::transceiver;
  unsigned sessions = 1;
  unsigned window = 10;                                  ///< outstanding requests per bind
  double tps = 0.0;                                      ///< submit_sm per second over all binds; 0 = no limit here
  std::string source_addr;
  int source_ton = -1;                                   ///< -1: 5 for alphanumeric, else 1
  int source_npi = -1;                                   ///< -1: 0 for alphanumeric, else 1
  std::chrono::milliseconds enquire_link{std::chrono::seconds(30)};
  std::chrono::milliseconds response_timeout{std::chrono::seconds(30)};
  std::chrono::milliseconds reconnect_min{std::chrono::seconds(1)};
  std::chrono::milliseconds reconnect_max{std::chrono::seconds(60)};
  std::chrono::milliseconds reassembly_timeout{std::chrono::seconds(60)};  ///< MO parts, then delivered as they are
  std::chrono::milliseconds throttle_pause{std::chrono::milliseconds(500)}; ///< sending pause after ESME_RTHROTTLED
  std::uint8_t registered_delivery = 0x01;               ///< used when a report is wanted
  bool gsm7_packed = false;                              ///< the SMSC wants packed septets for data_coding 0
  bool use_message_payload = false;                      ///< long texts as one message_payload TLV
  bool transliterate = false;                            ///< gsm::plan_options
  receipt_id_form receipt_ids = receipt_id_form::same;
  double price_per_part = 0.0;                           ///< for cost estimates; not used by the link
  bool operator==(const esme_settings&) const = default;
};

struct esme_counters {
  std::uint64_t binds = 0;
  std::uint64_t bind_failures = 0;
  std::uint64_t disconnects = 0;
  std::uint64_t submits = 0;          ///< submit_sm sent (parts)
  std::uint64_t submit_ok = 0;
  std::uint64_t submit_errors = 0;
  std::uint64_t throttled = 0;
  std::uint64_t timeouts = 0;
  std::uint64_t receipts = 0;
  std::uint64_t inbound_parts = 0;
  std::uint64_t inbound_messages = 0;
  std::uint64_t generic_nacks_sent = 0;
  bool operator==(const esme_counters&) const = default;
};

class esme_channel final : public kentongan::channel::channel {
 public:
  esme_channel(boost::asio::io_context& io, esme_settings settings, kentongan::channel::events& events);
  ~esme_channel() override;
  esme_channel(const esme_channel&) = delete;
  esme_channel& operator=(const esme_channel&) = delete;

  const std::string& name() const override;
  const std::string& kind() const override;
  kentongan::channel::rate_limits limits() const override;
  bool is_up() const override;
  boost::asio::awaitable<void> run() override;
  void submit(kentongan::channel::outbound message) override;
  void stop() override;

  esme_counters counters() const;
  /// Binds that are currently bound.
  std::size_t bound_sessions() const;

  struct impl;

 private:
  std::shared_ptr<impl> impl_;
};

}  // namespace kentongan::smpp
