#pragma once
/// Private to daemon/: the service's parts, shared by service.cpp (lifecycle, scheduler,
/// dispatcher) and admin_api.cpp (HTTP routes). Every member is touched on the I/O thread only,
/// except `writer_`, whose jobs run on the storage thread and must capture only values.

#include <deque>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <spdlog/spdlog.h>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.hpp"
#include "daemon/http_server.hpp"
#include "daemon/policy.hpp"
#include "daemon/service.hpp"
#include "protocol/asio/asio.hpp"
#include "protocol/channel/channel.hpp"
#include "storage/store.hpp"

namespace kentongan::sim {
class sim_channel;
}

namespace kentongan::daemon {

namespace asio = boost::asio;

/// A channel with the dispatcher's bookkeeping for it.
struct channel_slot {
  std::unique_ptr<channel::channel> link;
  config::channel_settings settings;
  token_bucket bucket;
  std::size_t in_flight = 0;            ///< handed to the channel, no submit_result yet
  std::deque<storage::outbox_row> backlog;  ///< claimed (state sending), waiting for window or tokens
  double throttle_factor = 1.0;         ///< < 1 while the network asks us to slow down
  std::uint64_t submitted = 0, failed = 0;
};

class service final : public channel::events {
 public:
  service(const serve_options& options, config::village_config config);
  ~service() override;
  int run();

  // channel::events
  void on_submit_result(const std::string& channel, channel::submit_result result) override;
  void on_delivery_report(const std::string& channel, channel::delivery_report report) override;
  void on_inbound(const std::string& channel, channel::inbound message, std::function<void(bool)> ack) override;
  void on_link_state(const std::string& channel, bool up, const std::string& reason) override;

  /// Runs fn(store&) on the writer thread; resumes the caller on the I/O thread with its result.
  template <typename R>
  asio::awaitable<R> query(std::function<R(storage::store&)> fn);
  /// Fire-and-forget state change; `after` runs on the I/O thread once it is committed.
  void change(std::function<void(storage::store&)> fn, std::function<void(std::exception_ptr)> after = {});

 private:
  friend struct admin_api;
  void build_channels();
  void start();
  void begin_shutdown();
  asio::awaitable<void> dispatch_loop();
  asio::awaitable<void> scheduler_loop();
  asio::awaitable<void> run_channel(channel_slot* slot);
  asio::awaitable<void> shutdown_sequence();
  asio::awaitable<http_response> handle_http(http_request request);
  void wake_dispatcher();
  void wake_scheduler();
  void pump(channel_slot& slot);
  std::size_t backlog_size() const;
  void route(storage::outbox_row row, const std::vector<std::string>& excluded = {});
  void retry_or_fail(const storage::outbox_row& row, const std::string& reason);
  channel_slot* find_slot(const std::string& name);
  std::vector<channel_choice_input> channel_view() const;
  bool normal_allowed_now() const;
  void reload();
  /// Writer thread only: what an inbound message does (keywords, aspirations, replies), in the
  /// same transaction that stored it. Defined in inbound.cpp.
  void handle_inbound_locked(storage::store& s, const std::string& channel, const channel::inbound& message,
                             std::int64_t inbox_id);
  std::string render(const storage::outbox_row& row) const;

  serve_options options_;
  config::village_config config_;
  std::filesystem::path state_dir_;
  std::filesystem::path db_file_;
  std::string admin_token_;
  asio::io_context io_;
  std::unique_ptr<storage::writer> writer_;
  std::vector<std::unique_ptr<channel_slot>> channels_;
  std::unordered_map<std::int64_t, storage::outbox_row> in_flight_;  ///< by outbox id, until submit_result
  std::unordered_map<std::int64_t, std::vector<std::string>> excluded_;  ///< channels that refused a row for good
  std::unique_ptr<http_server> http_;
  asio::steady_timer dispatch_timer_;
  asio::steady_timer scheduler_timer_;
  asio::signal_set signals_;
  bool dispatch_woken_ = false;
  bool scheduler_woken_ = false;
  bool stopping_ = false;
  bool claiming_ = false;
  std::chrono::minutes utc_offset_{7 * 60};
  int quiet_start_ = 0, quiet_end_ = 0;
  std::mt19937_64 random_;
  std::shared_ptr<spdlog::logger> log_;
  std::shared_ptr<spdlog::logger> dispatch_log_;
  std::int64_t in_doubt_recovered_ = 0;
  int exit_code_ = 0;
};

template <typename R>
asio::awaitable<R> service::query(std::function<R(storage::store&)> fn) {
  auto result = std::make_shared<std::optional<R>>();
  auto error = std::make_shared<std::exception_ptr>();
  auto* self = this;
  co_await asio::async_initiate<const asio::use_awaitable_t<>&, void()>(
      [self, fn, result, error](auto handler) {
        auto shared_handler = std::make_shared<decltype(handler)>(std::move(handler));
        self->writer_->post([fn, result](storage::store& s) { result->emplace(fn(s)); },
                            [self, shared_handler, error](std::exception_ptr e) {
                              *error = e;
                              asio::post(self->io_, [shared_handler]() { (*shared_handler)(); });
                            });
      },
      asio::use_awaitable);
  if (*error) std::rethrow_exception(*error);
  co_return std::move(**result);
}

}  // namespace kentongan::daemon
