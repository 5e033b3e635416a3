#pragma once
/// The HTTP SMS aggregator channel: sends each message as one request built from http_settings
/// over the libcurl multi client, judges the answer with the success rule and error table, and
/// turns callbacks into inbound messages and delivery reports for the daemon to store. Runs on
/// the io_context it was built with (channel.hpp threading rule); `events` must outlive it.
/// Secrets (auth_value, secrets, callback.secret) are never logged or put in a reason.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/channel/channel.hpp"
#include "protocol/http/callback.hpp"
#include "protocol/http/settings.hpp"

namespace kentongan::http {

namespace chan = kentongan::channel;

struct counters {
  std::uint64_t requests = 0, accepted = 0, retryable = 0, permanent = 0, rate_limited = 0, auth_failures = 0,
                missing_ids = 0, callbacks = 0, callbacks_rejected = 0, inbound = 0, reports = 0;
};

/// What the daemon does with a callback: on error answer `http_status` with `reason` and store
/// nothing; otherwise store `messages` and `reports`, then (only then) answer 200 with `reply`.
struct callback_outcome {
  callback_error error = callback_error::none;
  unsigned http_status = 200;
  std::string reason;
  std::string reply;                          ///< body for the 200 answer (callback.reply)
  std::vector<chan::inbound> messages;        ///< provider_id never empty (derived when the provider gives none)
  std::vector<chan::delivery_report> reports;
  std::vector<std::string> skipped;           ///< for a log line; the callback is still answered 200
  bool ok() const { return error == callback_error::none; }
};

/// "/webhooks/http/<name>": the path the daemon routes to a channel's handle_callback.
std::string callback_path(std::string_view channel_name);

/// The pure part of handle_callback: the parse result as channel values. An inbound message
/// without a provider id gets "h:" + a hash of (from, to, text, timestamp) when a timestamp was
/// given (so a redelivery dedupes), else "r:<received_at ms>.<sequence>", `sequence` counting up
/// from `first_sequence` (the channel keeps it growing, so two such messages never share an id).
callback_outcome to_outcome(callback_result parsed, const callback_settings& s, core::time_point received_at,
                            std::uint64_t first_sequence = 0);

class http_channel final : public chan::channel {
 public:
  /// Throws std::invalid_argument listing validate()'s problems when `s` is unusable (start-up error).
  http_channel(boost::asio::io_context& io, http_settings s, chan::events& events);
  ~http_channel() override;
  http_channel(const http_channel&) = delete;
  http_channel& operator=(const http_channel&) = delete;

  const std::string& name() const override;
  const std::string& kind() const override;
  chan::rate_limits limits() const override;
  /// False for settings.down_time after the aggregator refused our credentials.
  bool is_up() const override;
  boost::asio::awaitable<void> run() override;
  void submit(chan::outbound message) override;
  void stop() override;

  /// Verifies the secret and maps the fields (see callback_outcome). Synchronous, no I/O.
  callback_outcome handle_callback(const callback_request& request);

  /// New credentials (the daemon re-read auth_file): brings a channel down for auth up again.
  void set_auth(std::string auth_value);
  const http_settings& settings() const;
  const std::string& down_reason() const;
  counters stats() const;
  std::size_t in_flight() const;

  struct impl;

 private:
  std::shared_ptr<impl> impl_;
};

}  // namespace kentongan::http
