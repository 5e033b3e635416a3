#pragma once
/// The Channel seam. Threading rule: every method of a channel and every callback of
/// channel_events runs on the daemon's single I/O thread (the io_context the channel was built
/// with). Channels never block that thread and never touch the database.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/model.hpp"
#include "protocol/asio/asio.hpp"

namespace kentongan::channel {

/// What a channel can carry and how fast; the dispatcher enforces these.
struct rate_limits {
  double messages_per_second = 10.0;   ///< token bucket rate (SMPP tps, WhatsApp throughput)
  std::size_t window = 10;             ///< maximum submits in flight
  std::uint32_t hourly_cap = 0;        ///< 0 = no cap
  std::uint32_t daily_cap = 0;         ///< 0 = no cap
  bool operator==(const rate_limits&) const = default;
};

/// One message to one recipient, as the dispatcher hands it to a channel.
struct outbound {
  std::int64_t id = 0;          ///< outbox row id; the channel echoes it in submit_result
  std::string to;               ///< E.164
  std::string text;             ///< UTF-8, the whole message; the channel segments it
  bool want_report = true;      ///< ask the network for a delivery report
  std::string template_name;    ///< WhatsApp: template to use when outside the 24-hour window
};

enum class submit_outcome {
  accepted,    ///< the network took it; provider_id identifies it for delivery reports
  delivered,   ///< final delivery confirmed synchronously (some simulators/HTTP APIs)
  retryable,   ///< try again later (throttled, link down, 5xx)
  permanent,   ///< will never succeed (invalid number, rejected content)
};

struct submit_result {
  std::int64_t id = 0;
  submit_outcome outcome = submit_outcome::accepted;
  std::string provider_id;      ///< empty unless accepted/delivered
  std::string reason;           ///< human text for failures ("ESME_RTHROTTLED (0x58)")
  int parts = 1;                ///< segments the message used on this channel
  bool slow_down = false;       ///< the network asked us to reduce the rate
  /// Retryable only: the request left us and its answer never came (response timeout, link lost),
  /// so the network may have taken it; a resubmit is then counted in doubt, never silently twice.
  bool maybe_sent = false;
};

enum class report_status { delivered, failed, expired };

struct delivery_report {
  std::string provider_id;
  report_status status = report_status::delivered;
  std::string reason;
};

struct inbound {
  std::string provider_id;      ///< unique per channel (SMPP message id, wamid, modem index+time)
  std::string from;             ///< E.164 when it could be normalised, else as received
  std::string text;             ///< UTF-8
  std::string profile_name;     ///< WhatsApp profile name, if any
  core::time_point received_at{};
};

/// Implemented by the daemon. `ack` is called once the inbound message or delivery report is
/// durably stored (true) or could not be stored (false); channels acknowledge the provider only
/// after it, so a report or message the network handed over survives a crash (it is sent again).
class events {
 public:
  virtual ~events() = default;
  virtual void on_submit_result(const std::string& channel, submit_result result) = 0;
  virtual void on_delivery_report(const std::string& channel, delivery_report report,
                                  std::function<void(bool stored)> ack) = 0;
  virtual void on_inbound(const std::string& channel, inbound message, std::function<void(bool stored)> ack) = 0;
  virtual void on_link_state(const std::string& channel, bool up, const std::string& reason) = 0;
};

/// A network through which messages reach phones. About four hooks, as Kannel's SMSC drivers.
class channel {
 public:
  virtual ~channel() = default;
  /// Instance name from the config ("sim", "telkomsel").
  virtual const std::string& name() const = 0;
  /// Kind ("sim", "smpp", "whatsapp", "modem", "http"), used for subscriber channel preferences.
  virtual const std::string& kind() const = 0;
  virtual rate_limits limits() const = 0;
  /// Whether the link can take a submit now.
  virtual bool is_up() const = 0;
  /// Connects, keeps the link alive and reconnects until stop(); completes after a polite close.
  virtual boost::asio::awaitable<void> run() = 0;
  /// Hands over one message; the result comes back through events::on_submit_result.
  virtual void submit(outbound message) = 0;
  /// Asks run() to finish.
  virtual void stop() = 0;
};

using core::normalise_provider_id;

/// The daemon's events, cut off (to = nullptr) when a channel object goes away while its
/// coroutines unwind; every channel forwards through one of these.
struct event_sink {
  events* to = nullptr;
  void on_submit_result(const std::string& n, submit_result r) const {
    if (to) to->on_submit_result(n, std::move(r));
  }
  void on_delivery_report(const std::string& n, delivery_report r, std::function<void(bool)> ack = {}) const {
    if (to) to->on_delivery_report(n, std::move(r), std::move(ack));
  }
  void on_inbound(const std::string& n, inbound m, std::function<void(bool)> ack) const {
    if (to) to->on_inbound(n, std::move(m), std::move(ack));
  }
  void on_link_state(const std::string& n, bool up, const std::string& reason) const {
    if (to) to->on_link_state(n, up, reason);
  }
};

}  // namespace kentongan::channel
