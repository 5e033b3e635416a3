#pragma once
/// The SQLite store: schema migrations, subscribers, broadcasts, the outbox state machine, the inbox,
/// aspirations, polls and the audit trail. All SQL of the project lives behind this header; every statement
/// binds its values. A `store` is one connection: use one per thread, never share one. Every method is atomic
/// (a savepoint), and throws storage_error or SQLite::Exception (both std::runtime_error) when the database fails.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/model.hpp"

struct sqlite3;

namespace SQLite {
class Database;
class Statement;
}  // namespace SQLite

namespace kentongan::storage {

namespace detail {
class atomic_op;
}

/// A broken, unreadable or too-new database, or a misuse of the store. Thrown, never returned.
struct storage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The schema version this build writes (`PRAGMA user_version`); a database above it is refused.
inline constexpr int latest_schema_version = 5;

/// Outbox ids as sorted ranges, "3-7,9,12-13" (a broadcast's rows are mostly consecutive, so a fence of
/// thousands of rows stays a few bytes); duplicates are dropped.
std::string encode_id_ranges(std::vector<std::int64_t> ids);
/// The inverse; nullopt for anything that is not such a list (a fence is read back after a crash).
std::optional<std::vector<std::int64_t>> decode_id_ranges(std::string_view text);

struct sync_report {
  int added = 0, changed = 0, removed = 0, groups_added = 0, groups_changed = 0, groups_removed = 0, officers = 0;
  bool operator==(const sync_report&) const = default;
};

struct broadcast_spec {
  std::string text;
  std::vector<std::string> groups;
  bool all = false;
  std::vector<std::pair<std::string, std::string>> where;  ///< attribute=value filters (AND)
  core::priority priority = core::priority::normal;
  std::optional<core::time_point> send_at, expires_at;
  std::string created_by;
  std::string template_name;
};

struct state_counts {
  std::int64_t recipients = 0, queued = 0, sending = 0, submitted = 0, delivered = 0, failed = 0, expired = 0,
               cancelled = 0, in_doubt = 0;
  bool operator==(const state_counts&) const = default;
};

struct broadcast_row {
  std::int64_t id = 0;
  broadcast_spec spec;
  std::string state;  ///< scheduled|expanding|sending|done|cancelled
  core::time_point created_at{};
  std::int64_t recipients = 0;
  std::int64_t resend_of = 0;  ///< 0 = an original broadcast
};

struct outbox_row {
  std::int64_t id = 0;
  std::int64_t broadcast_id = 0;  ///< 0 = reply/direct
  std::string phone, text, name;
  core::priority priority = core::priority::normal;
  std::string channel_pref;  ///< subscriber's preferred channel
  std::string channel;       ///< channel it was sent on
  int attempts = 0;
  std::optional<core::time_point> expires_at;
  bool in_doubt = false;  ///< was in `sending` when the daemon died: may reach the phone twice
};

struct forget_report {
  std::int64_t subscribers = 0, memberships = 0, opt_outs = 0, outbox = 0, inbox = 0, aspirations = 0;
  bool operator==(const forget_report&) const = default;
};

/// One recipient of a broadcast, for `export deliveries` (issue 5).
struct delivery_row {
  std::int64_t outbox_id = 0;
  std::string phone, name, state, channel, reason;
  int attempts = 0;
  bool in_doubt = false;
  core::time_point created_at{};
  std::optional<core::time_point> submitted_at, finished_at;
};

struct inbound_row {
  std::int64_t id = 0;
  std::string channel, provider_id, phone, text;
  core::time_point received_at{};
};

// ---- aspirations (issue 5) ----

// Ticket texts are core/ticket.hpp's: format_ticket, and parse_ticket_any_prefix for lookups.

/// Aspiration statuses (issue 5): baru → diproses → selesai | ditolak.
inline constexpr std::string_view status_new = "baru", status_in_progress = "diproses", status_done = "selesai",
                                  status_rejected = "ditolak";

struct aspiration_spec {
  std::string prefix = "A";
  std::string kind = "aspirasi";  ///< aspirasi | pengaduan | permintaan-informasi
  std::string phone, name, text, channel;
  std::vector<std::string> tags;
  std::optional<std::int64_t> inbox_id;
  core::time_point received_at{};
};

struct aspiration_row {
  std::int64_t number = 0;
  std::string ticket, kind, status, phone, name, text, channel;
  std::vector<std::string> tags;  ///< sorted
  core::time_point received_at{};
  std::optional<core::time_point> first_answer_at, closed_at;
  std::string last_answer;
  std::optional<std::int64_t> inbox_id;
  std::optional<core::time_point> reminded_at;  ///< last overdue reminder to the officers
};

/// Aspirations received in a period, per tag and status (`kentongan report`).
struct tag_status_count {
  std::string tag, status;
  std::int64_t count = 0;
  bool operator==(const tag_status_count&) const = default;
};

// ---- polls (issue 5) ----

struct poll_spec {
  std::string question;
  std::vector<std::string> options;  ///< shown to residents as 1 .. n
  core::time_point until{};          ///< votes received before this count
  bool operator==(const poll_spec&) const = default;
};
struct poll_row {
  std::int64_t broadcast_id = 0;
  poll_spec spec;
};
/// Votes per option number, per value of a subscriber attribute ("" for everyone when no attribute is asked,
/// or for voters without it).
using poll_tally = std::map<std::string, std::map<int, std::int64_t>>;

struct aspiration_event {
  core::time_point at{};
  std::string actor, action, status, text;  ///< action: created|answer|status|tag|kind
};

struct aspiration_filter {
  std::optional<std::string> status, tag;
  bool open_only = false;  ///< baru or diproses (overdue lists and reminders)
  std::optional<core::time_point> since, until;  ///< received_at in [since, until)
  std::size_t limit = 0;                         ///< 0 = no limit
};

// ---- metrics (issue 8; storage/metrics.cpp) ----

/// What only the database knows for GET /metrics. Grouped counts: the outbox and inbox by channel are one
/// pass each; queued rows come from the partial index of due rows, aspirations from their status index.
struct db_metrics {
  /// (channel, state) → rows; channel "" for rows not yet handed to a channel.
  std::map<std::pair<std::string, std::string>, std::int64_t> messages;
  std::int64_t queued = 0;                        ///< rows in state queued (due or waiting for a retry)
  std::optional<core::time_point> oldest_queued;  ///< created_at of the oldest queued row
  /// (channel, outcome) → messages received; the outcome is the keyword the intake recognised
  /// ("subscribe", "aspiration", "flood" …), "" until a message is routed.
  std::map<std::pair<std::string, std::string>, std::int64_t> inbound;
  std::map<std::string, std::int64_t> aspirations;  ///< status → count, every status present
  bool operator==(const db_metrics&) const = default;
};

/// How long a network's redelivery of an inbound message is recognised by its provider id (SMSCs retry an
/// unacknowledged deliver_sm for hours; content-derived ids must not swallow next week's identical "1").
inline constexpr std::int64_t inbound_redelivery_window_ms = 24LL * 60 * 60 * 1000;

class store {  // one instance per thread; not thread-safe
 public:
  /// Opens (creating if needed) and migrates; read_only opens an existing database without migrating.
  /// Throws storage_error for a database written by a newer version, before changing anything.
  explicit store(const std::filesystem::path& file, bool read_only = false);
  ~store();
  store(const store&) = delete;
  store& operator=(const store&) = delete;

  int schema_version() const;

  /// Transaction helpers for the writer; the savepoint is named, so they nest one level (a job inside a batch).
  void begin();
  void commit();
  void rollback();
  void savepoint();
  void release();
  void rollback_to();
  void checkpoint();  ///< WAL checkpoint (TRUNCATE), at shutdown
  /// The connection, for storage/writer.cpp only: it moves WAL checkpoints off the commit path.
  sqlite3* connection_handle() const;

  // ---- subscribers and groups ----
  /// One transaction; config-listed subscribers and groups mirror the config, SMS subscriptions and opt-outs survive.
  sync_report sync_config(const std::vector<core::group>&, const std::vector<core::subscriber>&,
                          const std::vector<core::officer>&);
  /// Creates the subscriber if new (consent recorded now); clears that opt-out (and an "all" opt-out).
  void subscribe(const std::string& phone, const std::string& group, core::consent_source source);
  /// nullopt = all groups; cancels that phone's queued broadcast rows it is no longer eligible for; returns rows cancelled.
  std::int64_t opt_out(const std::string& phone, std::optional<std::string> group);
  bool is_opted_out(const std::string& phone, const std::string& group) const;  ///< true also for an "all" opt-out
  /// Erases the number and its texts everywhere (UU 27/2022), keeps anonymous rows for counts.
  forget_report forget(const std::string& phone);
  std::optional<core::subscriber> get_subscriber(const std::string& phone) const;
  std::optional<core::group> get_group(const std::string& id) const;
  std::vector<core::group> list_groups() const;
  std::vector<core::officer> list_officers() const;
  std::int64_t member_count(const std::string& group) const;  ///< before opt-outs

  // ---- broadcasts ----
  std::int64_t create_broadcast(const broadcast_spec&);
  std::int64_t count_recipients(const broadcast_spec&) const;  ///< after opt-outs, for --dry-run
  std::vector<broadcast_row> due_broadcasts(core::time_point now) const;  ///< scheduled/expanding, send_at <= now
  /// Streams recipients into the outbox: at most `batch` rows per call, keyset cursor kept in the broadcast row
  /// (resumes after a crash, never inserts a recipient twice); returns rows inserted; sets state sending when done.
  std::size_t expand_broadcast(std::int64_t id, std::size_t batch);
  std::optional<broadcast_row> get_broadcast(std::int64_t id) const;
  std::vector<broadcast_row> list_broadcasts(std::size_t limit) const;  ///< newest first
  state_counts counts(std::int64_t broadcast_id) const;
  /// Counts per value of a subscriber attribute ("" for recipients without it).
  std::map<std::string, state_counts> counts_by(std::int64_t broadcast_id, const std::string& attribute) const;
  std::int64_t cancel_broadcast(std::int64_t id);  ///< queued rows → cancelled; state cancelled; returns rows
  /// A new broadcast to the recipients of `id` that were not delivered (failed, expired, cancelled, or submitted
  /// without a report), or only the failed ones; same text and targets; opt-outs still apply.
  std::int64_t resend(std::int64_t id, bool only_failed);
  void finish_broadcasts();  ///< sending broadcasts with no queued/sending rows left → done
  /// Streams one row per recipient in outbox order; constant memory. The callback must not use this store.
  void export_deliveries(std::int64_t broadcast_id, const std::function<void(const delivery_row&)>& row) const;

  // ---- outbox (the dispatcher) ----
  /// queued, next_attempt_at <= now, not expired; urgent first then id; → sending, attempts+1.
  /// Skips normal rows when !normal_allowed (quiet hours).
  std::vector<outbox_row> claim_due(core::time_point now, std::size_t limit, bool normal_allowed);
  void mark_submitted(std::int64_t id, const std::string& channel, const std::string& provider_id, int parts);
  /// By provider id (case and leading zeros ignored); false if no row has that id.
  bool mark_reported(const std::string& channel, const std::string& provider_id, core::message_state final_state,
                     const std::string& reason);
  /// The same, for a report whose row the caller knows (the dispatcher remembers its recent submits):
  /// row `id` by primary key if it is still unfinished with that channel and provider id, else the
  /// search above. A final state only.
  bool mark_reported(std::int64_t id, const std::string& channel, const std::string& provider_id,
                     core::message_state final_state, const std::string& reason);
  void mark_failed(std::int64_t id, const std::string& reason);
  void mark_delivered(std::int64_t id);
  /// Submitted and already finished (its report came with the submit result, or in the same batch of
  /// results): one row write instead of two. Same guards as mark_submitted then mark_reported; a reason
  /// replaces the row's last one (a report's), none keeps it (mark_delivered's).
  void mark_submitted_final(std::int64_t id, const std::string& channel, const std::string& provider_id, int parts,
                            core::message_state final_state, const std::optional<std::string>& reason);
  /// Back to the queue for another attempt. `in_doubt`: the last attempt may have reached the
  /// network (its answer was lost), so the next one may be a duplicate and is counted as such.
  void requeue(std::int64_t id, core::time_point next_attempt_at, const std::string& reason, bool in_doubt = false);
  /// Back to the queue without having been handed to any channel (no channel up, all at their caps, a
  /// stop or reload): as requeue, and the claim's attempt is given back.
  void release_claim(std::int64_t id, core::time_point next_attempt_at, const std::string& reason);
  std::int64_t expire_due(core::time_point now);  ///< queued rows past expires_at → expired
  /// Start-up, after a crash: rows left in `sending` go back to the queue; those a channel's dispatch fence
  /// names may have reached the network and are flagged in doubt (returned count), the others were
  /// claimed but never handed over and get their attempt back. Clears the fences.
  std::int64_t recover_in_doubt();
  /// Replaces the fence of one dispatcher `key` (a channel instance): the rows in `sending` it may have
  /// handed to the network, or may hand before its next fence is durable (issue 9, P2).
  void set_dispatch_fence(const std::string& key, const std::vector<std::int64_t>& ids);
  std::int64_t enqueue_direct(const std::string& phone, const std::string& text, core::priority,
                              const std::string& channel_pref);  ///< replies, officer forwards
  std::optional<core::message_state> outbox_state(std::int64_t id) const;
  /// Messages `channel` handed to the network (submitted_at set) at or after `since`, whatever their state
  /// now; one per message, not per part. Seeds the hourly/daily caps at start, so a restart does not forget
  /// what a SIM card already sent this hour or day (issue 3).
  std::int64_t count_submitted_since(const std::string& channel, core::time_point since) const;

  // ---- inbox ----
  /// nullopt = duplicate (same channel + provider_id within `inbound_redelivery_window_ms`); an empty
  /// provider_id is never a duplicate; an id seen longer ago is stored again under a suffixed id.
  std::optional<std::int64_t> store_inbound(const std::string& channel, const std::string& provider_id,
                                            const std::string& from, const std::string& text,
                                            core::time_point received_at);
  /// Routing done (or deliberately not done: outcome "flood", "duplicate"); until then the row is unhandled.
  void mark_inbound_handled(std::int64_t id, const std::string& outcome);
  /// Stored but never marked handled (the daemon died in between), oldest first.
  std::vector<inbound_row> unhandled_inbound(std::size_t limit) const;
  /// Messages from `phone` received at or after `since` (flood control).
  std::int64_t inbound_count(const std::string& phone, core::time_point since) const;
  /// An earlier message (id < before_id) with the same sender and text received at or after `since`.
  std::optional<std::int64_t> find_repeat(const std::string& phone, const std::string& text, core::time_point since,
                                          std::int64_t before_id) const;
  /// Direct (non-broadcast) messages queued to `phone` at or after `since` (auto-reply cap).
  std::int64_t direct_count(const std::string& phone, core::time_point since) const;
  /// Per sender on `channel`, the latest received_at at or after `since`, in phone order: who has the
  /// WhatsApp 24-hour window open after a restart (issue 6; storage/whatsapp.cpp).
  std::vector<std::pair<std::string, core::time_point>> latest_inbound(const std::string& channel,
                                                                       core::time_point since) const;
  std::int64_t log_event(std::string_view kind, std::string_view subject, std::string_view detail);

  // ---- aspirations (issue 5) ----
  /// Returns the ticket; the number comes from a sequence that never reuses a value.
  std::string create_aspiration(const aspiration_spec&);
  std::optional<aspiration_row> find_aspiration(std::string_view ticket) const;
  /// The newest aspiration sent from `phone` (`CEK` without a ticket), by received_at then number; reads
  /// only that phone's rows (by its index), whatever the table's size.
  std::optional<aspiration_row> latest_aspiration_of(const std::string& phone) const;
  /// The name a subscriber gave (config or DAFTAR), "" for an unknown number: what an aspiration records.
  std::string subscriber_name(const std::string& phone) const;
  /// Records an official's answer; a `baru` aspiration becomes `diproses`. Throws storage_error for an unknown ticket.
  void add_answer(std::string_view ticket, const std::string& actor, const std::string& text);
  /// Any of baru|diproses|selesai|ditolak, with a history entry. Throws storage_error for an unknown ticket or status.
  void set_status(std::string_view ticket, std::string_view status, const std::string& actor, const std::string& text);
  void add_tags(std::string_view ticket, const std::vector<std::string>& tags, const std::string& actor);
  /// aspirasi | pengaduan | permintaan-informasi, with a history entry (action "kind", text "old -> new"); false
  /// when it already had that kind (nothing recorded). Throws storage_error for an unknown ticket or kind.
  bool set_kind(std::string_view ticket, std::string_view kind, const std::string& actor);
  std::vector<aspiration_event> aspiration_history(std::string_view ticket) const;
  std::vector<aspiration_row> list_aspirations(const aspiration_filter&) const;  ///< oldest first
  /// Streams matching aspirations oldest first, one callback per row, constant memory. The callback must not
  /// use this store (the statement is still stepping); use a read-only store on its own thread for big exports.
  void export_aspirations(const aspiration_filter&, const std::function<void(const aspiration_row&)>& row) const;
  /// Records that the officers were reminded of this overdue aspiration at `at` (at most one reminder a day).
  void mark_reminded(std::string_view ticket, core::time_point at);
  /// Received in [since, until), counted once per tag (an aspiration with two tags counts under both).
  std::vector<tag_status_count> aspiration_counts(core::time_point since, core::time_point until) const;
  /// Median of first_answer_at - received_at over aspirations received in [since, until) and answered.
  std::optional<std::chrono::milliseconds> median_first_answer(core::time_point since, core::time_point until) const;
  /// Broadcasts created in [since, until): how many, and their recipients' states summed.
  std::pair<std::int64_t, state_counts> broadcast_summary(core::time_point since, core::time_point until) const;

  // ---- polls (issue 5) ----
  /// Attaches a poll to a broadcast (create both in one job). Throws storage_error for an unknown broadcast.
  void create_poll(std::int64_t broadcast_id, const poll_spec&);
  std::optional<poll_row> get_poll(std::int64_t broadcast_id) const;
  /// The newest poll open at `now` whose broadcast has an outbox row for `phone`.
  std::optional<poll_row> open_poll_for(const std::string& phone, core::time_point now) const;
  /// One vote per person, the latest replaces the earlier; false (nothing stored) when `at` is past the deadline
  /// or the option is not 1 .. n.
  bool record_vote(std::int64_t broadcast_id, const std::string& phone, int option, core::time_point at);
  poll_tally poll_results(std::int64_t broadcast_id, const std::string& by_attribute) const;
  /// Moves a scheduled broadcast's send time (nullopt = now), e.g. a moderated relay post once approved.
  /// False when the broadcast is not scheduled any more.
  bool reschedule(std::int64_t id, std::optional<core::time_point> send_at);

  // ---- metrics (issue 8) ----
  db_metrics metrics() const;

 private:
  SQLite::Statement& stmt(const std::string& sql) const;  ///< cached, reset, bindings cleared
  SQLite::Statement& stmt(const char* sql) const;  ///< the same, found by the literal's address first
  /// A savepoint for one multi-statement operation, its statements from the cache.
  detail::atomic_op atomic() const;
  void migrate();
  void back_to_queue(std::int64_t id, core::time_point next_attempt_at, const std::string& reason, bool in_doubt,
                     bool not_attempted);
  std::int64_t cancel_ineligible(const std::string& phone);
  /// A report's final state for row `id` if it is in flight on that channel with that provider id.
  bool finish_reported_row(std::int64_t id, const std::string& channel, const std::string& pid,
                           core::message_state final_state, const std::string& reason);
  /// A row's state and broadcast (0: a direct message), for the changes that may leave more than one state.
  std::optional<std::pair<int, std::int64_t>> state_of(std::int64_t id) const;
  /// A row's broadcast (0: a direct message or no such row): from claimed_broadcast_, else read by rowid.
  /// A row never changes broadcast, so the changes whose WHERE pins the state they leave need only this
  /// to count.
  std::int64_t broadcast_of(std::int64_t id) const;
  /// The broadcast (0: none) of each row this connection claimed, for broadcast_of without a read: the
  /// results of a claimed row come through the same connection (the storage writer's). Emptied when it
  /// holds claimed_broadcast_limit rows (reports that never come); a row not found is read.
  std::unordered_map<std::int64_t, std::int64_t> claimed_broadcast_;
  static constexpr std::size_t claimed_broadcast_limit = 262144;
  /// mark_reported's search, for a provider id already normalised.
  bool mark_reported_normalised(const std::string& channel, const std::string& pid, core::message_state final_state,
                                const std::string& reason);
  std::optional<std::int64_t> aspiration_id(std::string_view ticket) const;

  // ---- broadcast_counts (schema v5) ----
  // A broadcast's counts by state live in `broadcast_counts`, changed by every statement that inserts a
  // broadcast row or changes its state. The hot paths change a message's state two or three times, so
  // the changes are summed here and written as one upsert per (broadcast, state) when the transaction
  // or savepoint they belong to ends; a rollback drops the ones it undoes (see detail::atomic_op).
  struct count_delta {
    std::int64_t broadcast_id;
    int state;
    std::int64_t n;
  };
  void count_move(std::int64_t broadcast_id, int from, int to, std::int64_t n = 1);
  void count_add(std::int64_t broadcast_id, int state, std::int64_t n);
  /// The first column of every row a statement with `RETURNING broadcast_id` gives (0 for NULL).
  static std::vector<std::int64_t> returned_broadcasts(SQLite::Statement& q);
  friend class detail::atomic_op;
  void flush_counts() const;    ///< before a savepoint opens or ends, a COMMIT, and a read of the counts
  void discard_counts() const;  ///< before a rollback: the changes they counted are undone

  std::unique_ptr<SQLite::Database> db_;
  mutable std::vector<count_delta> pending_counts_;
  mutable std::unordered_map<std::string, std::unique_ptr<SQLite::Statement>> statements_;
  mutable std::unordered_map<const char*, SQLite::Statement*> by_address_;  ///< into statements_
  bool read_only_ = false;
};

/// One writer thread owning a `store`; jobs posted from any thread run in batches inside ONE transaction (each job
/// inside a SAVEPOINT so a throwing job is rolled back alone and reports its exception); completions run on the
/// writer thread after COMMIT returned, so "durable" is true when they run. A throwing completion is ignored.
class writer {
 public:
  /// Opens the store on the writer thread; rethrows its storage_error here.
  writer(std::filesystem::path file, std::size_t max_batch = 4096);
  ~writer();  ///< drains and joins
  writer(const writer&) = delete;
  writer& operator=(const writer&) = delete;

  using job = std::function<void(store&)>;
  using completion = std::function<void(std::exception_ptr)>;  ///< nullptr = committed
  /// Throws storage_error after stop().
  void post(job j, completion done = {});
  /// As post(), for a change to work already accepted (a message's state): while the disk is full
  /// it is held, in order with the other held changes, and committed once space returns; `done`
  /// hears of it then (or of the disk-full error if the writer stops first). Never reordered.
  /// Such a job may run more than once before it commits (after a full disk, or when another job of
  /// its batch fails, the batch runs again): it must leave nothing outside the database that a second
  /// run would double.
  void post_held_while_full(job j, completion done = {});
  void stop();  ///< finish queued jobs, checkpoint WAL, join
  std::uint64_t commits() const;  ///< for metrics and tests

 private:
  void run(std::filesystem::path file, std::promise<void>* opened);

  struct item {
    job work;
    completion done;
    bool hold_while_full = false;
  };
  void enqueue(item i);
  std::size_t max_batch_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<item> queue_;
  bool stopping_ = false;
  std::atomic<std::uint64_t> commits_{0};
  std::thread thread_;
};

/// Read-only queries on their own connection and thread: a status count over a million rows
/// (tens of milliseconds) no longer stops the writer (WAL: readers and the writer never block each
/// other). A job sees what was committed when it starts.
class reader {
 public:
  /// Opens the (already migrated) store read-only on the reader thread; rethrows its storage_error.
  explicit reader(std::filesystem::path file);
  ~reader();  ///< finishes queued jobs and joins
  reader(const reader&) = delete;
  reader& operator=(const reader&) = delete;

  using job = std::function<void(store&)>;
  /// `done` gets the job's exception, or nullptr. Throws storage_error after stop().
  void post(job j, std::function<void(std::exception_ptr)> done);
  void stop();

 private:
  struct item {
    job work;
    std::function<void(std::exception_ptr)> done;
  };
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<item> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace kentongan::storage
