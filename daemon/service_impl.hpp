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
#include <unordered_set>
#include <vector>

#include "config/config.hpp"
#include "daemon/channel_factory.hpp"
#include "daemon/http_server.hpp"
#include "daemon/policy.hpp"
#include "daemon/service.hpp"
#include "protocol/asio/asio.hpp"
#include "protocol/channel/channel.hpp"
#include "storage/store.hpp"

namespace kentongan::sim {
class sim_channel;
}
namespace kentongan::whatsapp {
class whatsapp_channel;
}

namespace kentongan::daemon {

namespace asio = boost::asio;

/// A channel with the dispatcher's bookkeeping for it.
struct channel_slot {
  channel_slot(config::channel_settings s, token_bucket b) : settings(std::move(s)), bucket(std::move(b)) {}
  std::unique_ptr<channel::channel> link;
  config::channel_settings settings;
  token_bucket bucket;
  std::size_t in_flight = 0;            ///< handed to the channel, no submit_result yet
  std::deque<storage::outbox_row> backlog;  ///< claimed (state sending), waiting for window or tokens
  double throttle_factor = 1.0;         ///< < 1 while the network asks us to slow down
  /// Carriers block SIMs that burst: hourly and daily caps, counted per village-local hour/day.
  std::int64_t cap_hour = -1, cap_day = -1;
  std::uint32_t sent_this_hour = 0, sent_today = 0;
  std::uint64_t submitted = 0, failed = 0;
  /// Accepted by the network, its `submitted` state not yet durable: with in_flight, what a crash could
  /// re-send without the database knowing it was sent (at most window_of + durable_lag_of).
  std::size_t undurable = 0;
  // The dispatch fence (issue 9, P2): a row goes to the link only once a durable fence names it, so
  // that after a crash the rows counted in doubt are those that may have reached the network (at most
  // window_of + durable_lag_of), not every row claimed ahead into the backlog.
  std::string fence_key;                    ///< name#serial: a rebuilt channel never overwrites the old one's
  std::unordered_set<std::int64_t> handed;  ///< given to the link, its answer not yet queued for the writer
  // Fences are sorted id lists, searched by bisection: one is built for every few hundred rows handed,
  // and with a durable_lag it names thousands; a hash set of them cost 7 % of the I/O thread (perf).
  std::shared_ptr<const std::vector<std::int64_t>> fence_durable;  ///< the last fence committed
  std::shared_ptr<const std::vector<std::int64_t>> fence_posted;   ///< the last fence given to the writer
  std::size_t fenced_ahead = 0;  ///< leading backlog rows the posted fence names
  bool fence_wanted = false;     ///< pump stopped at a row no fence names yet
};

template <typename R>
struct query_initiation;

/// Reads a broadcast's targets from an admin API body — "groups" (checked against the config),
/// "all", "where" (ATTRIBUTE=VALUE) and "priority" — into `spec`; returns what is wrong, or "".
std::string read_broadcast_targets(const nlohmann::json& body, const std::vector<core::group>& groups,
                                   storage::broadcast_spec& spec);

/// A modem's answer to a USSD balance request, or why there is none (ok false).
struct balance_answer {
  bool ok = false;
  std::string text;
};

using chan_inbound = channel::inbound;
using chan_report = channel::delivery_report;

class service final : public channel::events {
 public:
  service(const serve_options& options, config::village_config config);
  ~service() override;
  int run();

  // channel::events
  void on_submit_result(const std::string& channel, channel::submit_result result) override;
  void on_delivery_report(const std::string& channel, channel::delivery_report report,
                          std::function<void(bool)> ack) override;
  void on_inbound(const std::string& channel, channel::inbound message, std::function<void(bool)> ack) override;
  void on_link_state(const std::string& channel, bool up, const std::string& reason) override;

  /// Runs fn(store&) on the writer thread; resumes the caller on the I/O thread with its result.
  /// Callers pass a named lambda, never a temporary (see the note at the definition).
  template <typename R, typename Fn>
  asio::awaitable<R> query(const Fn& fn);
  /// As query(), for reads that may take long (counts over a broadcast's rows): run on the reader
  /// thread once every change queued before it is committed, so the writer never waits for them.
  template <typename R, typename Fn>
  asio::awaitable<R> read_query(const Fn& fn);
  /// Fire-and-forget state change; `after` runs on the I/O thread once it is committed.
  void change(std::function<void(storage::store&)> fn, std::function<void(std::exception_ptr)> after = {});

 private:
  friend struct admin_api;
  template <typename R>
  friend struct query_initiation;
  void build_channels();
  /// WhatsApp (webhooks.cpp): opens the 24-hour window of everyone who wrote within it, from the inbox,
  /// so that a restart does not turn free texts into templates. Blocks on the writer: start-up only.
  void seed_whatsapp_windows();
  /// WhatsApp (webhooks.cpp): re-reads each channel's token, app secret and verify token files
  /// (rotated tokens); a changed token brings a channel stopped by an invalid token back up.
  void reload_whatsapp_secrets(const config::village_config& cfg);
  void start();
  void begin_shutdown();
  asio::awaitable<void> dispatch_loop();
  asio::awaitable<void> scheduler_loop();
  /// The daily overdue reminder to officers (reminders.cpp), at limits.reminder_time on working days.
  asio::awaitable<void> reminder_loop();
  asio::awaitable<void> run_channel(channel_slot* slot);
  asio::awaitable<void> shutdown_sequence();
  /// WATCHDOG=1 from the event loop itself (a hung loop stops it) and a STATUS= line for systemctl.
  asio::awaitable<void> watchdog_loop();
  /// GET /metrics (admin_api.cpp): the I/O thread's counters plus the database's figures, queried on the
  /// writer thread at most once per `db_metrics_ttl` (scrapes in between get the cached figures).
  asio::awaitable<http_response> metrics();
  /// The separate webhook listener's handler, counting refusals for /metrics (admin_api.cpp).
  asio::awaitable<http_response> handle_webhook_counted(const http_request& request);
  /// A webhook answer: a refusal is counted by reason for /metrics.
  void count_webhook_reply(const http_request& request, unsigned status);
  /// The submit latency histogram: a row handed to a channel, and its submit_result.
  void note_submit_result(const std::string& channel, std::chrono::steady_clock::duration took);
  asio::awaitable<http_response> handle_http(const http_request& request);
  /// Provider webhooks (webhooks.cpp); nullopt when the path is not a webhook.
  asio::awaitable<std::optional<http_response>> handle_webhook(const http_request& request);
  /// POST/GET /webhooks/http/<channel>: an HTTP aggregator's callbacks (webhooks.cpp).
  asio::awaitable<http_response> handle_http_callback(const http_request& request);
  /// The separate webhook listener serves webhooks only, never the admin API.
  asio::awaitable<http_response> handle_webhook_only(const http_request& request);
  /// Aspiration, export and poll routes (aspirations_api.cpp); nullopt when the route is not theirs.
  asio::awaitable<std::optional<http_response>> handle_intake_http(const http_request& request, const nlohmann::json& body);
  void wake_dispatcher();
  /// After rows were queued: wakes the dispatcher only if it would claim them now.
  void wake_dispatcher_for_new_rows();
  /// How many rows the dispatch loop claims now: 0 while a claim runs or its backlog is above half.
  std::size_t claim_limit();
  void wake_scheduler();
  void pump(channel_slot& slot);
  std::size_t backlog_size() const;
  void route(storage::outbox_row row, const std::vector<std::string>& excluded = {});
  void retry_or_fail(const storage::outbox_row& row, const std::string& reason, bool maybe_sent = false);
  void recover_from_throttling(channel_slot& slot);
  channel_slot* find_slot(const std::string& name);
  std::vector<channel_choice_input> channel_view();
  bool normal_allowed_now() const;
  /// What a reload did: `refused` (with every error) when the config did not load; otherwise the
  /// subscriber sync's counts, or `sync_failed` when the database refused the sync (the rest of the
  /// config is applied all the same).
  struct reload_outcome {
    std::string refused;
    std::string sync_failed;
    storage::sync_report synced;
  };
  /// SIGHUP and `POST /api/reload`: reads and validates the config off the I/O thread (a district's
  /// CSV takes seconds), syncs its lists into the database, then applies the rest here. A refused
  /// config leaves the previous one running.
  asio::awaitable<reload_outcome> reload();
  /// SIGHUP: reload between systemd's RELOADING=1 and READY=1.
  asio::awaitable<void> reload_on_signal();
  /// config::load of the config file on file_work_; completes on the I/O thread.
  asio::awaitable<config::load_result> load_config_off_io();
  /// Posts the sync of `cfg`'s groups, subscribers (moved out of `cfg`) and officers as a change held
  /// while the disk is full; completes on the I/O thread once it is committed, or with its error.
  asio::awaitable<storage::sync_report> sync_reloaded(config::village_config& cfg);
  /// The I/O thread's half of a reload, after the sync: channels, keywords, replies, limits.
  void apply_reload(const config::village_config& cfg);
  /// Reload, channels (service.cpp): starts channels new in `cfg`, stops removed ones, rebuilds those
  /// whose settings or secret files changed, updates rates in place for the rest.
  void reload_channels(const config::village_config& cfg);
  /// A slot for `cs` with its channel built (not started); nullptr when this build cannot run the type.
  /// Throws std::runtime_error for an unreadable secret file.
  std::unique_ptr<channel_slot> make_slot(const config::channel_settings& cs);
  /// Stops a channel politely: its claimed rows go back to the queue, rows it holds without an answer
  /// are requeued after the grace period; the slot is kept (its run() may still be finishing).
  void retire_channel(std::unique_ptr<channel_slot> slot, const std::string& why);
  /// Rebuilds the intake settings from config_ and swaps them in on the writer thread.
  void reload_intake();
  /// Writer thread only: what an inbound message does (keywords, aspirations, replies), in the
  /// same transaction that stored it. Defined in inbound.cpp.
  void handle_inbound_locked(storage::store& s, const std::string& channel, const channel::inbound& message,
                             std::int64_t inbox_id, struct inbound_effects& effects);
  /// I/O thread: what an inbound message changed that the dispatcher holds in memory.
  void apply_inbound_effects(const struct inbound_effects& effects);
  /// Whether a channel's hourly or daily cap still allows a message now.
  bool under_caps(channel_slot& slot);
  /// Messages a channel may hold that the database has not recorded as submitted (window × sessions).
  static std::size_t window_of(const channel_slot& slot);
  static std::size_t durable_lag_of(const channel_slot& slot);
  /// A place for one more submit: in the window, and within the window plus the durable lag
  /// counting the accepted submits whose `submitted` is not yet durable.
  static bool has_room(const channel_slot& slot);
  /// Start-up: each capped channel's counts of this village hour and day, from the outbox.
  void seed_caps();
  std::string render(const storage::outbox_row& row) const;
  /// Modems (service.cpp): the USSD balance of channel `name`, logged (a warning below
  /// balance_warn_below); `then` gets the answer on the I/O thread.
  void check_modem_balance(const std::string& name, std::function<void(bool ok, std::string text)> then);
  /// The same for a coroutine (the admin API); `name` must outlive the wait.
  asio::awaitable<balance_answer> ask_modem_balance(const std::string& name);
  /// Every modem with a ussd_balance: a check once it is up, then every balance_check_h hours.
  asio::awaitable<void> modem_balance_loop();

  serve_options options_;
  /// The running config. Its `subscribers` is empty: the list lives in the database once synced, and
  /// keeping it here (and in the intake's copy) would hold about a kilobyte per subscriber for the
  /// daemon's life (a gigabyte for a district-sized list of a million).
  config::village_config config_;
  /// The config's subscribers until start() hands them to the sync job.
  std::shared_ptr<const std::vector<core::subscriber>> subscribers_to_sync_;
  std::filesystem::path state_dir_;
  std::filesystem::path db_file_;
  std::string admin_token_;
  asio::io_context io_;
  /// One thread for file work too slow for the I/O thread: reading a reloaded config and its CSV
  /// files. Declared after io_ so that it is joined while io_ still exists.
  asio::thread_pool file_work_{1};
  std::unique_ptr<storage::writer> writer_;
  std::unique_ptr<storage::reader> reader_;
  std::vector<std::unique_ptr<channel_slot>> channels_;
  std::vector<std::unique_ptr<channel_slot>> retired_channels_;  ///< stopped by a reload, kept until exit
  /// By channel name: digest of the secret files' contents when the channel was built; a reload rebuilds
  /// the channel when it changes (WhatsApp tokens excepted: reload_whatsapp_secrets swaps them in place).
  std::map<std::string, std::string> secrets_digests_;
  struct in_flight_row {
    storage::outbox_row row;
    std::chrono::steady_clock::time_point handed_at;  ///< for the submit latency in /metrics
  };
  std::unordered_map<std::int64_t, in_flight_row> in_flight_;  ///< by outbox id, until submit_result
  std::unordered_map<std::int64_t, std::vector<std::string>> excluded_;  ///< channels that refused a row for good
  std::unique_ptr<http_server> http_;
  std::unique_ptr<http_server> webhook_http_;
  std::vector<whatsapp_endpoint> whatsapp_;
  std::map<std::string, std::chrono::steady_clock::time_point> balance_due_;  ///< modem name → next check
  asio::steady_timer dispatch_timer_;
  asio::steady_timer scheduler_timer_;
  asio::signal_set signals_;
  bool dispatch_woken_ = false;
  bool scheduler_woken_ = false;
  bool stopping_ = false;
  bool claiming_ = false;
  bool backup_running_ = false;  ///< one `kentongan backup` at a time
  std::chrono::minutes utc_offset_{7 * 60};
  int quiet_start_ = 0, quiet_end_ = 0;
  std::mt19937_64 random_;
  std::shared_ptr<spdlog::logger> log_;
  std::shared_ptr<spdlog::logger> dispatch_log_;
  std::int64_t in_doubt_recovered_ = 0;
  std::chrono::steady_clock::time_point disk_full_logged_{};
  /// Submit results and delivery reports, in arrival order, written as one writer job (issue 3: a job
  /// per message made the writer the bottleneck). While one such job is in the writer the next batch
  /// gathers, so a busy writer takes bigger batches; every other write and every query flushes them
  /// first, so the writer sees all changes in the order they happened.
  struct outcome_update {
    /// submitted_final: a submit result whose report is already known (same batch, or the channel
    /// answered "delivered"): one row write. merged: a report folded into its submit result.
    enum class what { submitted, report, submitted_final, merged } kind = what::submitted;
    std::int64_t id = 0;
    std::string channel;
    std::string provider_id;
    int parts = 1;
    core::message_state state = core::message_state::delivered;
    std::string reason;
    std::function<void(bool)> ack;   ///< a report's: the channel acknowledges the network
    /// An accepted submit's channel: its place among the not-yet-durable is freed once durable. Slots
    /// live until exit (a reload retires, never frees them), so the pointer stays valid.
    channel_slot* window_slot = nullptr;
    bool has_reason = false;  ///< submitted_final: `reason` replaces the row's (a report's)
  };
  std::vector<outcome_update> pending_updates_;
  /// A fence to commit with the next batch of results: the rows `slot` may hand over until the next one.
  struct fence_write {
    channel_slot* slot = nullptr;
    std::shared_ptr<const std::vector<std::int64_t>> ids;  ///< sorted, no repeats
  };
  /// The fences the next batch carries: a slot whose pump waits for one, or whose fenced rows ahead run low.
  std::vector<fence_write> fences_due();
  static bool may_hand(const channel_slot& slot, std::int64_t id);
  void want_fence(channel_slot& slot);
  std::uint64_t fence_serial_ = 0;
  bool fence_wanted_ = false;  ///< some slot's pump waits for a fence
  bool updates_flush_posted_ = false;
  std::size_t update_batches_in_writer_ = 0;
  void queue_update(outcome_update u);
  /// Posts the pending results now (before any other change or query, to keep order).
  void flush_updates();
  /// The I/O loop's turn: posts them unless a batch is in the writer (its completion posts them).
  void flush_updates_when_idle();
  std::uint64_t pending_batch_ = 1;  ///< numbers pending_updates_: one more each time it goes to the writer
  std::uint64_t inbound_count_ = 0;
  // ---- /metrics (issue 8) ----
  struct latency_histogram {
    std::vector<std::uint64_t> buckets;  ///< per bound of submit_latency_bounds, not cumulative
    std::uint64_t count = 0;
    double sum = 0;
  };
  struct link_stats {
    std::uint64_t ups = 0, downs = 0;  ///< reconnects = ups after the first
  };
  std::map<std::string, latency_histogram> submit_latency_;  ///< by channel: submit → submit_result
  /// Accepted submits still waiting for their final report, by channel and then provider id as the store
  /// compares it (core::normalise_provider_id): the report then updates its row by primary key
  /// (store::mark_reported by row) instead of searching by provider id, which cost half a report's
  /// write; and when its submit result has not yet gone to the writer, the report is folded into it
  /// (one row write, not two: with receipts on an SMSC often reports within a millisecond of its
  /// submit_sm_resp). The newest submit of an id wins, as in the search. Bounded per channel, oldest out
  /// first; a report that misses (an old entry, a submit from before a restart) takes the search.
  struct awaiting_report {
    std::int64_t id = 0;
    std::uint64_t batch = 0;          ///< pending_batch_ when its submit result was queued
    std::size_t pending_index = 0;    ///< that result's place in pending_updates_
  };
  struct awaiting_reports {
    std::unordered_map<std::string, awaiting_report> by_provider_id;
    std::deque<std::pair<std::string, std::int64_t>> order;
  };
  std::unordered_map<std::string, awaiting_reports> awaiting_report_;  ///< by channel name
  static constexpr std::size_t awaiting_report_limit = 65536;
  void remember_awaiting_report(const std::string& channel, std::string provider_id, awaiting_report a);
  /// The submit a final report is for, if remembered.
  std::optional<awaiting_report> take_awaiting_report(const std::string& channel, const std::string& provider_id);
  std::map<std::string, link_stats> link_stats_;       ///< by channel name; survives a channel's rebuild
  std::map<std::string, std::uint64_t> webhook_rejects_;  ///< by reason
  std::optional<storage::db_metrics> db_metrics_;
  std::chrono::steady_clock::time_point db_metrics_at_{};
  bool db_metrics_querying_ = false;
  int exit_code_ = 0;
  /// Touched only inside writer jobs (the storage thread): intake settings and flood control.
  std::unique_ptr<struct intake_state> intake_;
};

/// Completes the awaiting coroutine on the I/O thread with the job's result or exception.
template <typename R>
struct query_initiation {
  service* self;
  std::function<R(storage::store&)> fn;
  bool on_reader = false;  ///< read_query: on the reader thread, once everything queued before it is committed
  template <typename Handler>
  void operator()(Handler handler) const {
    auto shared_handler = std::make_shared<Handler>(std::move(handler));
    auto result = std::make_shared<R>();
    auto* svc = self;
    auto f = fn;
    const auto answer = [svc, shared_handler, result](std::exception_ptr e) {
      asio::post(svc->io_, [shared_handler, result, e]() { (*shared_handler)(e, std::move(*result)); });
    };
    self->flush_updates();  // a query sees every change that happened before it
    if (!on_reader) {
      self->writer_->post([f, result](storage::store& s) { *result = f(s); }, answer);
      return;
    }
    // An empty writer job marks "everything queued before this read": the read starts once that is
    // committed, so a caller always sees its own earlier changes.
    self->writer_->post([](storage::store&) {}, [svc, f, result, answer](std::exception_ptr) {
      try {
        svc->reader_->post([f, result](storage::store& s) { *result = f(s); }, answer);
      } catch (...) {
        answer(std::current_exception());
      }
    });
  }
};

// g++ 12 trap (verified here): a temporary with a non-trivial destructor inside a co_await
// expression -- a lambda with captured strings, a by-value std::string argument -- is destroyed
// twice. So query() is not a coroutine, takes the job by reference, and callers name their lambdas.
template <typename R, typename Fn>
asio::awaitable<R> service::query(const Fn& fn) {
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(std::exception_ptr, R)>(
      query_initiation<R>{this, std::function<R(storage::store&)>(fn)}, asio::use_awaitable);
}

template <typename R, typename Fn>
asio::awaitable<R> service::read_query(const Fn& fn) {
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(std::exception_ptr, R)>(
      query_initiation<R>{this, std::function<R(storage::store&)>(fn), true}, asio::use_awaitable);
}

}  // namespace kentongan::daemon
