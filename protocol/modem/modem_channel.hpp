#pragma once
/// The GSM modem channel: AT commands in PDU mode over a Boost.Asio serial port (27.005, 27.007).
/// Runs on the io_context it was built with (channel.hpp threading rule); `events` must outlive it.
/// A hung or unplugged modem makes the channel down; it reopens (and resets) with backoff and resumes.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/model.hpp"
#include "protocol/channel/channel.hpp"
#include "protocol/modem/at.hpp"

namespace kentongan::modem {

/// The "modem" entry of the config, as config/ parsed it (the PIN already read from pin_file).
struct modem_settings {
  std::string name = "modem";
  std::string device = "/dev/ttyUSB0";
  unsigned baud = 115200;
  std::string pin;                                  ///< empty: the SIM must not ask for one
  std::string smsc;                                 ///< "+62…" put into every PDU; empty: the SIM's default
  double tps = 0.5;                                 ///< parts per second; 0 = as fast as the modem answers
  unsigned window = 1;                              ///< AT allows one command in flight
  bool status_reports = true;                       ///< TP-SRR when the message wants a report
  std::string ussd_balance_code;                    ///< "*888#"; empty: no balance checks
  std::chrono::seconds balance_interval{0};         ///< 0: balance only on demand
  double balance_warning = 0.0;                     ///< health warns below this amount (0: never)
  double price_per_part = 0.0;                      ///< for cost estimates; not used by the link
  std::uint32_t hourly_cap = 0;                     ///< 0 = no cap (enforced by the dispatcher)
  std::uint32_t daily_cap = 0;
  std::optional<std::chrono::minutes> validity{};   ///< TP-VP; nullopt: none
  bool reset_on_hang = true;                        ///< AT+CFUN=1,1 after a hang, where the modem takes it
  std::chrono::milliseconds command_timeout{std::chrono::seconds(10)};
  std::chrono::milliseconds send_timeout{std::chrono::seconds(60)};   ///< AT+CMGS waits for the network
  std::chrono::milliseconds registration_timeout{std::chrono::seconds(120)};
  std::chrono::milliseconds registration_poll{std::chrono::seconds(2)};
  std::chrono::milliseconds sweep_interval{std::chrono::seconds(60)}; ///< AT+CMGL=4
  std::chrono::milliseconds health_interval{std::chrono::seconds(60)};///< AT+CSQ, AT+COPS?
  std::chrono::milliseconds ussd_timeout{std::chrono::seconds(30)};
  std::chrono::milliseconds reopen_min{std::chrono::seconds(1)};
  std::chrono::milliseconds reopen_max{std::chrono::seconds(60)};
  std::chrono::milliseconds reset_wait{std::chrono::seconds(15)};     ///< after AT+CFUN=1,1, before reopening
  std::chrono::milliseconds settle{std::chrono::milliseconds(200)};   ///< after ESC on a fresh port
  std::chrono::milliseconds queue_hold{std::chrono::minutes(5)};      ///< queued messages wait this long while down
  std::chrono::milliseconds reassembly_timeout{std::chrono::minutes(10)};
  bool operator==(const modem_settings&) const = default;
};

struct modem_counters {
  std::uint64_t opens = 0;
  std::uint64_t open_failures = 0;
  std::uint64_t hangs = 0;            ///< commands that timed out
  std::uint64_t resets = 0;           ///< AT+CFUN=1,1 accepted
  std::uint64_t parts_sent = 0;       ///< +CMGS: <mr> received
  std::uint64_t submit_errors = 0;
  std::uint64_t status_reports = 0;
  std::uint64_t unmatched_reports = 0;  ///< of no message of this run: handed over by TP-MR + recipient
  std::uint64_t inbound_parts = 0;
  std::uint64_t inbound_messages = 0;
  std::uint64_t deleted = 0;          ///< AT+CMGD that succeeded
  std::uint64_t undecodable = 0;      ///< stored PDUs we could not read (deleted)
  std::uint64_t urcs = 0;
  std::uint64_t noise = 0;
  bool operator==(const modem_counters&) const = default;
};

/// What health and metrics show.
struct modem_health {
  bool up = false;
  std::string state;                            ///< "up", "registering", "down: no answer to AT"…
  std::optional<signal_quality> signal;
  std::string operator_name;
  std::string smsc;                             ///< from AT+CSCA?
  std::string balance;                          ///< last USSD answer
  std::optional<double> balance_amount;         ///< parsed from it ("Rp 12.500" → 12500)
  bool balance_low = false;                     ///< below modem_settings::balance_warning
  std::optional<core::time_point> balance_at;
  modem_counters counters;
};

/// The provider id of a message that asked for a status report: "mr<TP-MR of its first part>-<8 hex
/// digits hashing the recipient's last nine digits>". Built again from a status report alone (its
/// TP-MR and TP-RA), so a report that arrives after a restart still finds its outbox row.
std::string report_provider_id(int message_reference, std::string_view recipient);

/// "Sisa pulsa Rp 12.500,00 …" → 12500; the first amount after "Rp", else the first number.
std::optional<double> parse_balance_amount(std::string_view text);

class modem_channel final : public kentongan::channel::channel {
 public:
  modem_channel(boost::asio::io_context& io, modem_settings settings, kentongan::channel::events& events);
  ~modem_channel() override;
  modem_channel(const modem_channel&) = delete;
  modem_channel& operator=(const modem_channel&) = delete;

  const std::string& name() const override;
  const std::string& kind() const override;
  kentongan::channel::rate_limits limits() const override;
  bool is_up() const override;
  boost::asio::awaitable<void> run() override;
  void submit(kentongan::channel::outbound message) override;
  void stop() override;

  /// Sends the USSD balance code; `done(ok, text)` gets the network's answer or the reason it failed.
  void check_balance(std::function<void(bool ok, std::string text)> done);
  modem_health health() const;
  const modem_settings& settings() const;

  struct impl;

 private:
  std::shared_ptr<impl> impl_;
};

}  // namespace kentongan::modem
