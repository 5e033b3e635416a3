#include "daemon/service.hpp"

#include <fcntl.h>
#include <malloc.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

#include "daemon/channel_factory.hpp"
#include "daemon/inbound.hpp"
#include "daemon/service_impl.hpp"
#include "config/phone.hpp"
#include "protocol/modem/modem_channel.hpp"
#include "protocol/sim/sim_channel.hpp"
#include "protocol/smpp/esme_channel.hpp"
#include "protocol/whatsapp/whatsapp_channel.hpp"
#include "storage/disk_full.hpp"

namespace kentongan::daemon {

namespace {

constexpr std::size_t expand_batch = 5000;
constexpr auto idle_poll = std::chrono::milliseconds{250};
constexpr auto shutdown_grace = std::chrono::seconds{5};

/// The config's subscriber list on its way into the database, shared by the sync job. Whoever drops
/// the last reference frees it and gives its pages back to the system (a million subscribers are
/// about a gigabyte of small allocations, which glibc would otherwise keep for the daemon's life):
/// the writer, once the job is done for good. The job itself must not empty it, because a held job
/// may run again (after a full disk, or when another job of its batch fails).
std::shared_ptr<const std::vector<core::subscriber>> subscriber_list(std::vector<core::subscriber> list) {
  return {new std::vector<core::subscriber>(std::move(list)), [](const std::vector<core::subscriber>* p) {
            delete p;
            ::malloc_trim(0);
          }};
}

std::string random_token() {
  unsigned char bytes[24];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("cannot generate the admin token: no randomness");
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out.push_back(hex[b >> 4]);
    out.push_back(hex[b & 15]);
  }
  return out;
}

/// The admin token is created once, readable only by the daemon's user; the CLI reads it.
std::string load_or_create_token(const std::filesystem::path& file) {
  if (std::filesystem::exists(file)) {
    std::ifstream in(file);
    std::string token;
    std::getline(in, token);
    if (!token.empty()) return token;
  }
  const std::string token = random_token();
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot write the admin token to " + file.string() + ": check the state directory's permissions");
  const std::string line = token + "\n";
  const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ::fchmod(fd, 0600);
  ::close(fd);
  if (!ok) throw std::runtime_error("cannot write the admin token to " + file.string());
  return token;
}

/// Every *_file a channel type has, found by member name so that a new channel type's secrets count too.
std::vector<std::string> secret_files(const config::channel_settings& cs) {
  std::vector<std::string> files;
  std::visit(
      [&files](const auto& x) {
        if constexpr (requires { x.password_file; }) files.push_back(x.password_file);
        if constexpr (requires { x.token_file; }) files.push_back(x.token_file);
        if constexpr (requires { x.app_secret_file; }) files.push_back(x.app_secret_file);
        if constexpr (requires { x.verify_token_file; }) files.push_back(x.verify_token_file);
        if constexpr (requires { x.pin_file; }) files.push_back(x.pin_file);
        if constexpr (requires { x.secret_file; }) files.push_back(x.secret_file);
        if constexpr (requires { x.auth_file; }) files.push_back(x.auth_file);
        if constexpr (requires { x.callback_secret_file; }) files.push_back(x.callback_secret_file);
        if constexpr (requires { x.secret_files; })
          for (const auto& [key, file] : x.secret_files) files.push_back(file);
      },
      cs.settings);
  return files;
}

/// SHA-256 over the channel's secret files (paths and contents): compared, never logged nor kept in clear.
std::string secrets_digest(const config::channel_settings& cs) {
  std::string material;
  for (const auto& f : secret_files(cs)) {
    if (f.empty()) continue;
    material += f;
    material.push_back('\0');
    try {
      material += config::read_secret(f);
    } catch (const std::exception&) {
      material += "(unreadable)";
    }
    material.push_back('\0');
  }
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(material.data()), material.size(), digest);
  OPENSSL_cleanse(material.data(), material.size());
  return std::string(reinterpret_cast<const char*>(digest), sizeof digest);
}

/// Whether two configs of one channel build the same link. Rates, windows, caps and attempts are
/// applied in place; everything else the channel was built from (type, address, account, encoding,
/// price) needs a new link. A channel type without == is rebuilt on every reload, to be safe.
bool same_link(const config::channel_settings& a, const config::channel_settings& b) {
  if (a.type != b.type || a.settings.index() != b.settings.index() || a.transliterate != b.transliterate ||
      a.price_per_part != b.price_per_part)
    return false;
  return std::visit(
      [&b](const auto& x) {
        using type = std::decay_t<decltype(x)>;
        if constexpr (std::equality_comparable<type>)
          return x == std::get<type>(b.settings);
        else
          return false;
      },
      a.settings);
}

}  // namespace

std::filesystem::path resolve_state_dir(const std::optional<std::filesystem::path>& flag,
                                        const std::filesystem::path& config_file, const std::string& storage_path) {
  if (flag) return *flag;
  if (const char* env = std::getenv("STATE_DIRECTORY"); env && *env) {
    // systemd may list several directories separated by ':'; the first is ours.
    std::string first(env);
    return first.substr(0, first.find(':'));
  }
  std::filesystem::path p(storage_path.empty() ? "kentongan.db" : storage_path);
  if (p.is_relative()) p = config_file.parent_path() / p;
  return p.parent_path().empty() ? std::filesystem::path(".") : p.parent_path();
}

std::filesystem::path database_file(const std::filesystem::path& state_dir, const std::string& storage_path) {
  const std::filesystem::path p(storage_path.empty() ? "kentongan.db" : storage_path);
  return state_dir / p.filename();
}

service::service(const serve_options& options, config::village_config config)
    : options_(options),
      config_(std::move(config)),
      subscribers_to_sync_(subscriber_list(std::exchange(config_.subscribers, {}))),
      dispatch_timer_(io_),
      scheduler_timer_(io_),
      signals_(io_, SIGINT, SIGTERM, SIGHUP),
      random_(std::random_device{}()),
      log_(spdlog::get("daemon")),
      dispatch_log_(spdlog::get("dispatch")) {
  if (!log_) log_ = spdlog::default_logger();
  if (!dispatch_log_) dispatch_log_ = log_;
  state_dir_ = resolve_state_dir(options_.state_dir, config_.file, config_.storage.path);
  std::error_code ec;
  std::filesystem::create_directories(state_dir_, ec);
  if (ec) throw std::runtime_error("cannot create the state directory " + state_dir_.string() + ": " + ec.message());
  db_file_ = database_file(state_dir_, config_.storage.path);
  const auto offset = utc_offset_for(config_.village.timezone);
  if (!offset)
    throw std::runtime_error("village.timezone '" + config_.village.timezone +
                             "' is not supported: use Asia/Jakarta, Asia/Makassar or Asia/Jayapura");
  utc_offset_ = *offset;
  quiet_start_ = parse_clock_time(config_.limits.quiet_hours_start).value_or(0);
  quiet_end_ = parse_clock_time(config_.limits.quiet_hours_end).value_or(0);
  admin_token_ = load_or_create_token(state_dir_ / "admin.token");
  intake_ = std::make_unique<intake_state>(config_);
  writer_ = std::make_unique<storage::writer>(db_file_);
  reader_ = std::make_unique<storage::reader>(db_file_);
}

service::~service() {
  channels_.clear();
  retired_channels_.clear();
  if (reader_) reader_->stop();
  if (writer_) writer_->stop();
}

void service::build_channels() {
  for (const auto& cs : config_.channels)
    if (auto slot = make_slot(cs)) channels_.push_back(std::move(slot));
  if (channels_.empty()) log_->warn("no channel configured: messages stay queued until one is added");
}

channel_slot* service::find_slot(const std::string& name) {
  for (auto& s : channels_)
    if (s->link && s->link->name() == name) return s.get();
  return nullptr;
}

std::vector<channel_choice_input> service::channel_view() {
  std::vector<channel_choice_input> out;
  out.reserve(channels_.size());
  for (const auto& s : channels_) {
    // A channel at its hourly or daily cap takes nothing new: its share goes to the next capable one.
    out.push_back({s->link->name(), s->link->kind(), s->link->is_up() && under_caps(*s)});
    if (const auto* m = std::get_if<config::modem_channel>(&s->settings.settings)) out.back().operators = m->operators;
  }
  return out;
}

bool service::normal_allowed_now() const {
  return !in_quiet_hours(std::chrono::system_clock::now(), utc_offset_, quiet_start_, quiet_end_);
}

void service::queue_update(outcome_update u) {
  pending_updates_.push_back(std::move(u));
  if (updates_flush_posted_) return;
  updates_flush_posted_ = true;
  asio::post(io_, [this]() { flush_updates_when_idle(); });
}

void service::flush_updates_when_idle() {
  updates_flush_posted_ = false;
  if (update_batches_in_writer_ == 0) flush_updates();
}

bool service::may_hand(const channel_slot& slot, std::int64_t id) {
  // Named by the committed fence, and by the one in the writer (which, once committed, replaces it).
  return slot.fence_durable && std::binary_search(slot.fence_durable->begin(), slot.fence_durable->end(), id) &&
         slot.fence_posted && std::binary_search(slot.fence_posted->begin(), slot.fence_posted->end(), id);
}

void service::want_fence(channel_slot& slot) {
  slot.fence_wanted = true;
  fence_wanted_ = true;
  if (updates_flush_posted_) return;
  updates_flush_posted_ = true;
  asio::post(io_, [this]() { flush_updates_when_idle(); });
}

std::vector<service::fence_write> service::fences_due() {
  std::vector<fence_write> out;
  fence_wanted_ = false;
  for (auto& owned : channels_) {
    if (!owned) continue;  // a reload is replacing it (retire_channel's requeues flush)
    auto& slot = *owned;
    // The rows this link may take once the batch is durable: every result queued so far is in it, so
    // only the unanswered ones hold places then.
    const auto places = window_of(slot) + durable_lag_of(slot);
    const auto target = std::min(slot.backlog.size(), places - std::min(places, slot.in_flight));
    const bool runs_low = slot.fenced_ahead + target / 8 < target;
    if (!slot.fence_wanted && !runs_low) continue;
    // Never fewer than the posted fence still offers: the pump may hand those before this one commits.
    const auto ahead = std::min(slot.backlog.size(), std::max(target, slot.fenced_ahead));
    auto ids = std::make_shared<std::vector<std::int64_t>>();
    ids->reserve(slot.handed.size() + ahead);
    ids->assign(slot.handed.begin(), slot.handed.end());
    for (std::size_t i = 0; i < ahead; ++i) ids->push_back(slot.backlog[i].id);
    std::sort(ids->begin(), ids->end());
    ids->erase(std::unique(ids->begin(), ids->end()), ids->end());
    slot.fenced_ahead = ahead;
    slot.fence_wanted = false;
    slot.fence_posted = ids;
    out.push_back({&slot, std::move(ids)});
  }
  return out;
}

void service::flush_updates() {
  updates_flush_posted_ = false;
  auto fences = std::make_shared<std::vector<fence_write>>(fences_due());
  if (pending_updates_.empty() && fences->empty()) return;
  auto batch = std::make_shared<std::vector<outcome_update>>(std::move(pending_updates_));
  pending_updates_.clear();
  ++pending_batch_;  // remembered submits of this batch can no longer take their report in
  ++update_batches_in_writer_;
  auto* self = this;
  std::vector<std::pair<std::string, std::shared_ptr<const std::vector<std::int64_t>>>> fence_rows;
  for (const auto& f : *fences) fence_rows.emplace_back(f.slot->fence_key, f.ids);
  writer_->post_held_while_full(
      [self, batch, fence_rows = std::move(fence_rows)](storage::store& s) {
        // In the same transaction as the results: a row leaves the fence only as its result is stored.
        for (const auto& [key, ids] : fence_rows) s.set_dispatch_fence(key, *ids);
        for (const auto& u : *batch) {
          switch (u.kind) {
            case outcome_update::what::submitted:
              s.mark_submitted(u.id, u.channel, u.provider_id, u.parts);
              break;
            case outcome_update::what::submitted_final:
              s.mark_submitted_final(u.id, u.channel, u.provider_id, u.parts, u.state,
                                     u.has_reason ? std::optional<std::string>(u.reason) : std::nullopt);
              break;
            case outcome_update::what::report:
              // u.id: the row the dispatcher remembered for this submit (0: not remembered, search for it).
              if (!(u.id != 0 ? s.mark_reported(u.id, u.channel, u.provider_id, u.state, u.reason)
                              : s.mark_reported(u.channel, u.provider_id, u.state, u.reason))) {
                // Kept for the audit trail: an SMSC that reports ids we never saw is worth knowing about.
                s.log_event("unknown_receipt", u.channel, u.provider_id + " " + std::string(core::to_string(u.state)));
                self->dispatch_log_->warn("delivery report for an unknown message channel={} provider_id={}", u.channel,
                                          u.provider_id);
              }
              break;
            case outcome_update::what::merged:
              break;
          }
        }
      },
      [self, batch, fences](std::exception_ptr e) {
        if (e && !storage::is_disk_full(e)) {
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& ex) {
            self->log_->error("database change failed error=\"{}\" (submit results and reports, {} rows)", ex.what(),
                              batch->size());
          }
        }
        asio::post(self->io_, [self, batch, fences, e]() {
          bool freed = !fences->empty();
          for (const auto& f : *fences) {
            if (!e) {
              f.slot->fence_durable = f.ids;
            } else if (f.slot->fence_posted == f.ids) {
              // Not written: the committed fence stands; the pump asks again.
              f.slot->fence_posted = f.slot->fence_durable;
              f.slot->fenced_ahead = 0;
            }
          }
          for (const auto& u : *batch) {
            if (u.ack) u.ack(!e);
            if (u.window_slot && u.window_slot->undurable > 0) {
              --u.window_slot->undurable;
              freed = true;
            }
          }
          if (self->update_batches_in_writer_ > 0) --self->update_batches_in_writer_;
          if (self->update_batches_in_writer_ == 0 && (!self->pending_updates_.empty() || self->fence_wanted_))
            self->flush_updates();
          if (freed) self->wake_dispatcher();
        });
      });
}

void service::change(std::function<void(storage::store&)> fn, std::function<void(std::exception_ptr)> after) {
  auto* self = this;
  flush_updates();  // in order: a requeue or failure never overtakes an earlier result
  if (storage::disk_full() && std::chrono::steady_clock::now() - disk_full_logged_ > std::chrono::seconds{10}) {
    disk_full_logged_ = std::chrono::steady_clock::now();
    log_->error("database changes wait for disk space reason=disk_full (disk full: free space on the database's file "
                "system; accepted work is kept in order and written when space returns)");
  }
  // Disk full (issue 9): the writer holds the change, in order with the others, until space
  // returns; an accepted message's state change is never dropped nor reordered.
  writer_->post_held_while_full(std::move(fn), [self, after](std::exception_ptr e) {
    if (e && !storage::is_disk_full(e)) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        self->log_->error("database change failed error=\"{}\"", ex.what());
      }
    }
    if (after) asio::post(self->io_, [after, e]() { after(e); });
  });
}

std::size_t service::claim_limit() {
  if (claiming_ || channels_.empty()) return 0;
  std::size_t want = 0;
  for (const auto& slot : channels_) {
    // A channel at its hourly or daily cap claims nothing: the rows stay queued, not `sending`.
    if (!slot->link->is_up() || !under_caps(*slot)) continue;
    const auto per_quarter_second = static_cast<std::size_t>(slot->settings.tps * slot->throttle_factor / 4.0) + 1;
    want += std::max(window_of(*slot), per_quarter_second);
  }
  const auto have = backlog_size();
  if (want <= have || have > want / 2) return 0;
  return std::min<std::size_t>(want - have, 5000);
}

void service::wake_dispatcher_for_new_rows() {
  // Rows just queued change nothing for a loop whose backlog is full enough: it claims again only below
  // half. Waking it anyway re-arms its timer (a timerfd syscall) per inbound message, ~10 % of the I/O
  // thread in bench_intake. A claim under way may have missed the rows: the loop looks once more after it.
  if (claiming_) {
    dispatch_woken_ = true;
    return;
  }
  if (claim_limit() > 0) wake_dispatcher();
}

void service::wake_dispatcher() {
  // Already woken: the loop has not looked yet, and one cancel is enough (inbound bursts call this per message).
  if (dispatch_woken_) return;
  dispatch_woken_ = true;
  dispatch_timer_.cancel();
}

void service::wake_scheduler() {
  scheduler_woken_ = true;
  scheduler_timer_.cancel();
}

std::size_t service::backlog_size() const {
  std::size_t n = 0;
  for (const auto& s : channels_) n += s->backlog.size();
  return n;
}

std::string service::render(const storage::outbox_row& row) const {
  // Templates may greet the person by name; a missing name reads naturally as "Bapak/Ibu".
  std::string text = row.text;
  const std::string name = row.name.empty() ? "Bapak/Ibu" : row.name;
  for (const std::string key : {"{name}", "{nama}"}) {
    for (auto pos = text.find(key); pos != std::string::npos; pos = text.find(key, pos + name.size()))
      text.replace(pos, key.size(), name);
  }
  return text;
}

void service::route(storage::outbox_row row, const std::vector<std::string>& excluded) {
  const auto now = core::now();
  if (row.expires_at && *row.expires_at <= now) {
    const auto id = row.id;
    change([id](storage::store& s) { s.mark_failed(id, "expired before it could be sent"); });
    return;
  }
  const auto choice =
      choose_channel_for(channel_view(), row.channel_pref, row.phone, config::mobile_operator(row.phone), excluded);
  if (!choice) {
    const auto id = row.id;
    const auto next = now + std::chrono::seconds{5};
    // No link up (or every one at its cap): keep the message queued, it is not the message's fault,
    // and it was not an attempt.
    change([id, next](storage::store& s) { s.release_claim(id, next, "no channel up"); });
    return;
  }
  channels_[*choice]->backlog.push_back(std::move(row));
}

void service::seed_caps() {
  // The caps count what a SIM card or an account sent this village hour and day; a restart must
  // not forget it (a SIM's daily quota would be exceeded after a crash), so the counts start from
  // the outbox.
  using namespace std::chrono;
  const auto local_minutes = duration_cast<minutes>(system_clock::now().time_since_epoch()) + utc_offset_;
  const std::int64_t hour = local_minutes.count() / 60;
  const std::int64_t day = hour / 24;
  const auto to_time = [this](std::int64_t local_hours) {
    return core::time_point{duration_cast<core::time_point::duration>(hours{local_hours} - utc_offset_)};
  };
  for (auto& slot : channels_) {
    if (slot->settings.hourly_cap == 0 && slot->settings.daily_cap == 0) continue;
    const auto name = slot->link->name();
    const auto hour_start = to_time(hour), day_start = to_time(day * 24);
    std::promise<std::pair<std::int64_t, std::int64_t>> counted;
    auto counts = counted.get_future();
    writer_->post([&counted, name, hour_start, day_start](storage::store& s) {
      counted.set_value({s.count_submitted_since(name, hour_start), s.count_submitted_since(name, day_start)});
    }, [&counted](std::exception_ptr e) {
      if (e) try {
          counted.set_exception(e);
        } catch (...) {
        }
    });
    const auto [this_hour, today] = counts.get();
    slot->cap_hour = hour;
    slot->cap_day = day;
    slot->sent_this_hour = static_cast<std::uint32_t>(this_hour);
    slot->sent_today = static_cast<std::uint32_t>(today);
    if (this_hour > 0 || today > 0)
      dispatch_log_->info("channel caps resume name={} sent_this_hour={}/{} sent_today={}/{}", name, this_hour,
                          slot->settings.hourly_cap, today, slot->settings.daily_cap);
  }
}

std::size_t service::window_of(const channel_slot& slot) {
  // `window` is per SMPP session (SMPP 3.4 §2.5: each bind has its own window of unanswered submits).
  std::size_t sessions = 1;
  if (const auto* smpp = std::get_if<config::smpp_channel>(&slot.settings.settings))
    sessions = static_cast<std::size_t>(std::max(1, smpp->sessions));
  return std::max<std::size_t>(1, slot.settings.window) * sessions;
}

std::size_t service::durable_lag_of(const channel_slot& slot) {
  // What a crash can re-send unknowingly is what the network accepted whose `submitted` is not yet
  // durable plus what awaits an answer. By default both share the window (issue 9: duplicates per
  // crash at most the window); the channel's `durable_lag` lets accepted submits run that far ahead
  // of the disk, so a fast link is not held to one fsync per window.
  return slot.settings.durable_lag;
}

bool service::has_room(const channel_slot& slot) {
  return slot.in_flight < window_of(slot) && slot.in_flight + slot.undurable < window_of(slot) + durable_lag_of(slot);
}

bool service::under_caps(channel_slot& slot) {
  if (slot.settings.hourly_cap == 0 && slot.settings.daily_cap == 0) return true;
  const auto local_minutes =
      std::chrono::duration_cast<std::chrono::minutes>(std::chrono::system_clock::now().time_since_epoch()) + utc_offset_;
  const std::int64_t hour = local_minutes.count() / 60;
  const std::int64_t day = hour / 24;
  if (hour != slot.cap_hour) {
    slot.cap_hour = hour;
    slot.sent_this_hour = 0;
  }
  if (day != slot.cap_day) {
    slot.cap_day = day;
    slot.sent_today = 0;
  }
  const bool ok = (slot.settings.hourly_cap == 0 || slot.sent_this_hour < slot.settings.hourly_cap) &&
                  (slot.settings.daily_cap == 0 || slot.sent_today < slot.settings.daily_cap);
  return ok;
}

void service::pump(channel_slot& slot) {
  const auto now = std::chrono::steady_clock::now();
  while (!slot.backlog.empty() && slot.link->is_up() && has_room(slot)) {
    if (!under_caps(slot)) {
      // The cap was reached with rows still waiting here: they go to another capable channel, or back
      // to the queue (their attempt returned) until one has room, instead of waiting for the next hour.
      auto waiting = std::move(slot.backlog);
      slot.backlog.clear();
      slot.fenced_ahead = 0;
      const std::vector<std::string> excluded{slot.link->name()};
      for (auto& row : waiting) route(std::move(row), excluded);
      return;
    }
    if (!may_hand(slot, slot.backlog.front().id)) {
      want_fence(slot);
      break;
    }
    if (slot.bucket.take(1, now) == 0) break;
    ++slot.sent_this_hour;
    ++slot.sent_today;
    auto row = std::move(slot.backlog.front());
    slot.backlog.pop_front();
    if (slot.fenced_ahead > 0) --slot.fenced_ahead;
    slot.handed.insert(row.id);
    channel::outbound out;
    out.id = row.id;
    out.to = row.phone;
    out.text = render(row);
    out.want_report = true;
    row.channel = slot.link->name();
    const auto id = row.id;
    in_flight_[id] = {std::move(row), std::chrono::steady_clock::now()};
    ++slot.in_flight;
    slot.link->submit(std::move(out));
  }
}

asio::awaitable<void> service::dispatch_loop() {
  while (!stopping_) {
    for (auto& slot : channels_) pump(*slot);

    // Claim more only when the backlog runs low: the database, not memory, is the queue. The backlog
    // covers a quarter second of sending (or a window); it is refilled once half of it is gone, so a
    // claim is one writer commit per many messages, not one per few (each commit syncs the WAL).
    if (const auto limit = claim_limit(); limit > 0) {
      claiming_ = true;
      const bool normal_ok = normal_allowed_now();
      const auto now = core::now();
      std::vector<storage::outbox_row> rows;
      try {
        const auto job = [now, limit, normal_ok](storage::store& s) { return s.claim_due(now, limit, normal_ok); };
        rows = co_await query<std::vector<storage::outbox_row>>(job);
      } catch (const std::exception& e) {
        dispatch_log_->error("claim failed error=\"{}\"", e.what());
      }
      claiming_ = false;
      if (stopping_) {
        // Claimed while the daemon began to stop: back to the queue untouched, not left in sending.
        for (const auto& row : rows) {
          const auto id = row.id;
          change([id](storage::store& s) { s.release_claim(id, core::now(), "daemon stopping"); });
        }
        break;
      }
      for (auto& row : rows) route(std::move(row));
      for (auto& slot : channels_) pump(*slot);
      if (rows.size() == limit) continue;  // more is due: go again at once
    }

    // Sleep until a token is due for a channel with backlog, or something wakes us.
    auto until = std::chrono::steady_clock::now() + idle_poll;
    for (auto& slot : channels_)
      if (!slot->backlog.empty() && slot->link->is_up() && has_room(*slot) && under_caps(*slot))
        until = std::min(until, slot->bucket.next_token(std::chrono::steady_clock::now()));
    if (dispatch_woken_) {
      dispatch_woken_ = false;
      continue;
    }
    dispatch_timer_.expires_at(until);
    boost::system::error_code ec;
    co_await dispatch_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    dispatch_woken_ = false;
  }
}

asio::awaitable<void> service::scheduler_loop() {
  while (!stopping_) {
    const auto now = core::now();
    std::size_t inserted = 0;
    try {
      const auto job = [now](storage::store& s) {
        s.expire_due(now);
        std::size_t n = 0;
        for (const auto& b : s.due_broadcasts(now)) n += s.expand_broadcast(b.id, expand_batch);
        s.finish_broadcasts();
        return n;
      };
      inserted = co_await query<std::size_t>(job);
    } catch (const std::exception& e) {
      log_->error("scheduler step failed error=\"{}\"", e.what());
    }
    if (inserted > 0) {
      wake_dispatcher();
      continue;  // a broadcast is still being expanded: keep going, one batch per transaction
    }
    if (scheduler_woken_) {
      scheduler_woken_ = false;
      continue;
    }
    scheduler_timer_.expires_after(std::chrono::milliseconds{500});
    boost::system::error_code ec;
    co_await scheduler_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    scheduler_woken_ = false;
  }
}

void service::retry_or_fail(const storage::outbox_row& row, const std::string& reason, bool maybe_sent) {
  const auto id = row.id;
  const auto* slot = find_slot(row.channel);
  if (row.attempts >= std::max(1, slot ? slot->settings.max_attempts : 5)) {
    const std::string why = "gave up after " + std::to_string(row.attempts) + " attempts: " + reason;
    change([id, why](storage::store& s) { s.mark_failed(id, why); });
    return;
  }
  const auto delay = retry_delay(row.attempts, std::chrono::seconds{config_.limits.retry_base_s},
                                 std::chrono::seconds{config_.limits.retry_max_s}, random_);
  const auto next = core::now() + delay;
  if (maybe_sent)
    dispatch_log_->warn("resubmitting a message the network may already have id={} reason=\"{}\" (counted in doubt)", id, reason);
  change([id, next, reason, maybe_sent](storage::store& s) { s.requeue(id, next, reason, maybe_sent); });
}

void service::recover_from_throttling(channel_slot& slot) {
  // Halved on every throttling answer, won back a little with every accepted submit: a network that
  // throttled once for a minute must not keep the village at 5% of its rate until the next restart.
  slot.throttle_factor = std::min(1.0, slot.throttle_factor * 1.02);
  slot.bucket.set_rate(slot.settings.tps * slot.throttle_factor, std::max(1.0, slot.settings.tps / 10.0));
  if (slot.throttle_factor >= 1.0)
    dispatch_log_->info("channel back at its configured rate name={} rate={:.1f}/s", slot.link->name(), slot.settings.tps);
}

void service::on_submit_result(const std::string& channel_name, channel::submit_result result) {
  auto* slot = find_slot(channel_name);
  // An answered submit leaves the window; an accepted one is counted as not yet durable until its
  // `submitted` state is, and keeps a place in the window or the channel's durable lag meanwhile.
  if (slot && slot->in_flight > 0) --slot->in_flight;
  auto it = in_flight_.find(result.id);
  if (it == in_flight_.end()) {
    dispatch_log_->warn("submit result for a message not in flight channel={} id={}", channel_name, result.id);
    return;
  }
  storage::outbox_row row = std::move(it->second.row);
  note_submit_result(channel_name, std::chrono::steady_clock::now() - it->second.handed_at);
  in_flight_.erase(it);
  const auto id = row.id;
  if (slot && (result.outcome == channel::submit_outcome::accepted ||
               result.outcome == channel::submit_outcome::delivered))
    ++slot->undurable;
  switch (result.outcome) {
    case channel::submit_outcome::accepted: {
      if (slot) ++slot->submitted;
      if (slot && slot->throttle_factor < 1.0) recover_from_throttling(*slot);
      excluded_.erase(id);
      if (!result.provider_id.empty())
        remember_awaiting_report(channel_name, core::normalise_provider_id(result.provider_id),
                                 {id, pending_batch_, pending_updates_.size()});
      queue_update({outcome_update::what::submitted, id, channel_name, std::move(result.provider_id), result.parts, {}, {},
                    {}, slot});
      break;
    }
    case channel::submit_outcome::delivered: {
      if (slot) ++slot->submitted;
      excluded_.erase(id);
      queue_update({outcome_update::what::submitted_final, id, channel_name, std::move(result.provider_id),
                    result.parts, core::message_state::delivered, {}, {}, slot});
      break;
    }
    case channel::submit_outcome::retryable:
      if (result.slow_down && slot) {
        slot->throttle_factor = std::max(0.05, slot->throttle_factor * 0.5);
        slot->bucket.set_rate(slot->settings.tps * slot->throttle_factor, std::max(1.0, slot->settings.tps / 10.0));
        dispatch_log_->warn("channel throttled by the network name={} rate={:.1f}/s", channel_name,
                            slot->settings.tps * slot->throttle_factor);
      }
      retry_or_fail(row, result.reason, result.maybe_sent);
      break;
    case channel::submit_outcome::permanent: {
      if (slot) ++slot->failed;
      auto& excluded = excluded_[id];
      excluded.push_back(channel_name);
      // A refusal by one network (not on WhatsApp, a number the aggregator will not take) is not the
      // last word while another kind of channel can still reach the phone.
      const auto view = channel_view();
      const auto next = choose_channel(view, row.channel_pref, excluded);
      if (next && view[*next].kind != (slot ? slot->link->kind() : std::string{})) {
        dispatch_log_->info("falling back to another channel id={} from={} to={} reason=\"{}\"", id, channel_name,
                            view[*next].name, result.reason);
        route(std::move(row), excluded);
      } else {
        excluded_.erase(id);
        const auto reason = result.reason;
        change([id, reason](storage::store& s) { s.mark_failed(id, reason); });
      }
      break;
    }
  }
  // Its result (or requeue, or failure) is queued before any later fence: the row may leave the fence.
  if (slot) slot->handed.erase(id);
  wake_dispatcher();
}

void service::on_delivery_report(const std::string& channel_name, channel::delivery_report report,
                                 std::function<void(bool)> ack) {
  const auto state = report.status == channel::report_status::delivered ? core::message_state::delivered
                     : report.status == channel::report_status::expired ? core::message_state::expired
                                                                         : core::message_state::failed;
  const auto submit = report.provider_id.empty()
                          ? std::nullopt
                          : take_awaiting_report(channel_name, core::normalise_provider_id(report.provider_id));
  const auto id = submit ? submit->id : 0;
  if (submit && submit->batch == pending_batch_ && submit->pending_index < pending_updates_.size()) {
    auto& into = pending_updates_[submit->pending_index];
    if (into.id == id && into.kind == outcome_update::what::submitted && into.channel == channel_name) {
      // Its submit result has not gone to the writer yet: one row write for both. The report stays in
      // the batch, folded, for its acknowledgement once durable.
      into.kind = outcome_update::what::submitted_final;
      into.state = state;
      into.reason = report.reason;
      into.has_reason = true;
      queue_update({outcome_update::what::merged, id, channel_name, std::move(report.provider_id), 1, state,
                    std::move(report.reason), std::move(ack)});
      return;
    }
  }
  queue_update({outcome_update::what::report, id, channel_name, std::move(report.provider_id), 1, state,
                std::move(report.reason), std::move(ack)});
}

void service::remember_awaiting_report(const std::string& channel, std::string provider_id, awaiting_report a) {
  auto& table = awaiting_report_[channel];
  table.by_provider_id[provider_id] = a;
  table.order.emplace_back(std::move(provider_id), a.id);
  while (table.order.size() > awaiting_report_limit) {
    const auto& [old_provider_id, old_id] = table.order.front();
    // Only if that entry is still this submit's: a report took it, or a later submit reused the id.
    if (const auto it = table.by_provider_id.find(old_provider_id);
        it != table.by_provider_id.end() && it->second.id == old_id)
      table.by_provider_id.erase(it);
    table.order.pop_front();
  }
}

std::optional<service::awaiting_report> service::take_awaiting_report(const std::string& channel,
                                                                       const std::string& provider_id) {
  const auto table = awaiting_report_.find(channel);
  if (table == awaiting_report_.end()) return std::nullopt;
  const auto it = table->second.by_provider_id.find(provider_id);
  if (it == table->second.by_provider_id.end()) return std::nullopt;
  const auto a = it->second;
  table->second.by_provider_id.erase(it);
  return a;
}

void service::on_link_state(const std::string& channel_name, bool up, const std::string& reason) {
  auto& stats = link_stats_[channel_name];
  ++(up ? stats.ups : stats.downs);
  if (up)
    log_->info("channel up name={} detail=\"{}\"", channel_name, reason);
  else
    log_->warn("channel down name={} reason=\"{}\"", channel_name, reason);
  wake_dispatcher();
}

asio::awaitable<void> service::run_channel(channel_slot* slot) {
  try {
    co_await slot->link->run();
  } catch (const std::exception& e) {
    log_->error("channel stopped by an error name={} error=\"{}\"", slot->link->name(), e.what());
  }
}

void service::check_modem_balance(const std::string& name, std::function<void(bool ok, std::string text)> then) {
  auto* slot = find_slot(name);
  auto* modem = slot ? as_modem(slot->link.get()) : nullptr;
  if (!modem) {
    const std::string why = "no modem channel named '" + name + "'";
    if (then) asio::post(io_, [then, why]() { then(false, why); });
    return;
  }
  auto* self = this;
  modem->check_balance([self, name, then](bool ok, std::string text) {
    if (!ok) {
      self->log_->warn("modem balance check failed channel={} reason=\"{}\"", name, text);
    } else if (auto* s = self->find_slot(name); s && as_modem(s->link.get())) {
      const auto health = as_modem(s->link.get())->health();
      const auto* cfg = std::get_if<config::modem_channel>(&s->settings.settings);
      self->log_->info("modem balance channel={} balance=\"{}\"", name, text);
      if (health.balance_low && cfg)
        self->log_->warn("modem balance low channel={} amount={} warn_below={}: top up the SIM", name,
                         health.balance_amount.value_or(0), cfg->balance_warn_below);
    }
    if (then) then(ok, std::move(text));
  });
}

asio::awaitable<balance_answer> service::ask_modem_balance(const std::string& name) {
  auto* self = this;
  auto initiation = [self, name](auto handler) {
    using handler_type = decltype(handler);
    auto shared_handler = std::make_shared<handler_type>(std::move(handler));
    self->check_modem_balance(name, [self, shared_handler](bool ok, std::string text) {
      asio::post(self->io_, [shared_handler, ok, text]() { (*shared_handler)(nullptr, balance_answer{ok, text}); });
    });
  };
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(std::exception_ptr, balance_answer)>(
      std::move(initiation), asio::use_awaitable);
}

asio::awaitable<void> service::modem_balance_loop() {
  asio::steady_timer timer(io_);
  while (!stopping_) {
    const auto now = std::chrono::steady_clock::now();
    for (const auto& slot : channels_) {
      const auto* cfg = std::get_if<config::modem_channel>(&slot->settings.settings);
      if (!cfg || cfg->ussd_balance.empty() || cfg->balance_check_h <= 0 || !slot->link->is_up()) continue;
      const auto name = slot->link->name();
      auto [due, fresh] = balance_due_.try_emplace(name, now);
      if (due->second > now) continue;
      // Until the answer comes, the next try is a quarter of an hour away; an answer sets it to the period.
      due->second = now + std::chrono::minutes{15};
      auto* self = this;
      const auto period = std::chrono::hours{cfg->balance_check_h};
      check_modem_balance(name, [self, name, period](bool ok, std::string) {
        if (ok) self->balance_due_[name] = std::chrono::steady_clock::now() + period;
      });
    }
    timer.expires_after(std::chrono::seconds{30});
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

asio::awaitable<config::load_result> service::load_config_off_io() {
  const std::filesystem::path file = options_.config_file;
  auto* self = this;
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(std::exception_ptr, config::load_result)>(
      [self, file](auto handler) {
        auto shared_handler = std::make_shared<decltype(handler)>(std::move(handler));
        asio::post(self->file_work_, [self, file, shared_handler]() {
          auto loaded = std::make_shared<config::load_result>();
          std::exception_ptr failure;
          try {
            *loaded = config::load(file);
          } catch (...) {
            failure = std::current_exception();
          }
          asio::post(self->io_, [shared_handler, loaded, failure]() { (*shared_handler)(failure, std::move(*loaded)); });
        });
      },
      asio::use_awaitable);
}

asio::awaitable<service::reload_outcome> service::reload() {
  auto loaded = co_await load_config_off_io();
  reload_outcome outcome;
  if (!loaded.config) {
    log_->error("reload refused: the config has {} error(s); still running on the previous one", loaded.errors.size());
    outcome.refused = fmt::format("reload refused: the config has {} error(s); the daemon keeps running on the "
                                  "previous one. Mend them (`kentongan check-config` lists them) and reload again:",
                                  loaded.errors.size());
    constexpr std::size_t shown = 20;
    for (std::size_t i = 0; i < loaded.errors.size(); ++i) {
      const auto text = config::format(loaded.errors[i]);
      log_->error("config error {}", text);
      if (i < shown) outcome.refused += "\n  " + text;
    }
    if (loaded.errors.size() > shown) outcome.refused += fmt::format("\n  … and {} more", loaded.errors.size() - shown);
    co_return outcome;
  }
  config::village_config& cfg = *loaded.config;
  try {
    outcome.synced = co_await sync_reloaded(cfg);
    const auto& r = outcome.synced;
    log_->info("config reloaded subscribers_added={} changed={} removed={} groups_added={} groups_removed={}",
               r.added, r.changed, r.removed, r.groups_added, r.groups_removed);
  } catch (const std::exception& e) {
    outcome.sync_failed = e.what();
    log_->error("config reloaded without its subscriber and group lists: the database refused them error=\"{}\"", e.what());
  }
  apply_reload(cfg);
  co_return outcome;
}

asio::awaitable<void> service::reload_on_signal() {
  co_await reload();  // a refusal is logged; the previous config keeps running
  sd_notify(0, "READY=1");
}

asio::awaitable<storage::sync_report> service::sync_reloaded(config::village_config& cfg) {
  auto* self = this;
  // The list reaches the job through a box emptied when the job is posted, so that the job holds
  // the last reference and the writer frees the list (subscriber_list), not this thread.
  auto box = std::make_shared<std::shared_ptr<const std::vector<core::subscriber>>>(
      subscriber_list(std::move(cfg.subscribers)));
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(std::exception_ptr, storage::sync_report)>(
      [self, box, groups = cfg.groups, officers = cfg.officers](auto handler) {
        auto shared_handler = std::make_shared<decltype(handler)>(std::move(handler));
        auto report = std::make_shared<storage::sync_report>();
        self->change(
            [report, groups, officers, subscribers = std::move(*box)](storage::store& s) {
              *report = s.sync_config(groups, *subscribers, officers);
            },
            [shared_handler, report](std::exception_ptr e) { (*shared_handler)(e, *report); });
      },
      asio::use_awaitable);
}

void service::apply_reload(const config::village_config& cfg) {
  reload_channels(cfg);
  config_.channels = cfg.channels;
  config_.groups = cfg.groups;
  config_.officers = cfg.officers;
  config_.keywords = cfg.keywords;
  config_.replies = cfg.replies;
  config_.tags = cfg.tags;
  config_.info = cfg.info;
  config_.limits = cfg.limits;
  config_.unmatched = cfg.unmatched;
  config_.ticket_prefix = cfg.ticket_prefix;
  config_.village.holidays = cfg.village.holidays;  // deadlines and reminders count working days
  config_.village.holidays_file = cfg.village.holidays_file;
  try {
    reload_intake();
  } catch (const std::exception& e) {
    log_->error("reload kept the previous keywords and replies: {}", e.what());
  }
  reload_whatsapp_secrets(cfg);
}

std::unique_ptr<channel_slot> service::make_slot(const config::channel_settings& cs) {
  factory_options fo;
  fo.sim_record_file = options_.sim_record_file;
  fo.state_dir = state_dir_;
  fo.log = log_;
  auto slot = std::make_unique<channel_slot>(
      cs, token_bucket(cs.tps, std::max(1.0, cs.tps / 10.0), std::chrono::steady_clock::now()));
  auto built = make_channel(io_, cs, *this, fo);
  if (!built.link) {
    log_->warn("channel not started name={} type={} reason=\"{}\"", cs.name, cs.type, built.not_started);
    return nullptr;
  }
  if (built.whatsapp) whatsapp_.push_back(std::move(*built.whatsapp));
  slot->link = std::move(built.link);
  slot->fence_key = cs.name + "#" + std::to_string(++fence_serial_);
  secrets_digests_[cs.name] = secrets_digest(cs);
  return slot;
}

void service::retire_channel(std::unique_ptr<channel_slot> slot, const std::string& why) {
  const auto name = slot->link->name();
  // Claimed but not handed to the network: back to the queue now, for the other (or the new) link.
  std::size_t requeued = 0;
  slot->fenced_ahead = 0;
  while (!slot->backlog.empty()) {
    const auto id = slot->backlog.front().id;
    slot->backlog.pop_front();
    ++requeued;
    change([id](storage::store& s) { s.release_claim(id, core::now(), "channel stopped by a reload"); });
  }
  // Handed to this link without an answer yet: its answer may still come (the link stops politely);
  // what has none after the grace period is requeued as in a shutdown.
  auto pending = std::make_shared<std::vector<std::int64_t>>();
  for (const auto& [id, entry] : in_flight_)
    if (entry.row.channel == name) pending->push_back(id);
  // Its webhook endpoint goes with it (a rebuilt WhatsApp channel has registered its own already).
  if (auto* wa = dynamic_cast<whatsapp::whatsapp_channel*>(slot->link.get()))
    std::erase_if(whatsapp_, [wa](const whatsapp_endpoint& ep) { return ep.link == wa; });
  log_->info("channel stopping name={} reason=\"{}\" requeued={} awaiting_answer={}", name, why, requeued, pending->size());
  slot->link->stop();
  retired_channels_.push_back(std::move(slot));
  if (pending->empty()) return;
  auto timer = std::make_shared<asio::steady_timer>(io_, shutdown_grace);
  auto* self = this;
  timer->async_wait([self, timer, pending, name](const boost::system::error_code& ec) {
    if (ec || self->stopping_) return;
    for (const auto id : *pending) {
      const auto it = self->in_flight_.find(id);
      if (it == self->in_flight_.end() || it->second.row.channel != name) continue;
      const auto row = it->second.row;
      self->in_flight_.erase(it);
      self->retry_or_fail(row, "channel stopped by a reload before the network answered", true);
    }
    self->wake_dispatcher();
  });
}

void service::reload_channels(const config::village_config& cfg) {
  auto find_new = [&cfg](const std::string& name) -> const config::channel_settings* {
    for (const auto& cs : cfg.channels)
      if (cs.name == name) return &cs;
    return nullptr;
  };
  std::size_t added = 0, removed = 0, rebuilt = 0;
  for (auto it = channels_.begin(); it != channels_.end();) {
    auto& slot = **it;
    const auto name = slot.link->name();
    const auto* next = find_new(name);
    std::string why;
    if (!next)
      why = "removed from the config";
    else if (!same_link(slot.settings, *next))
      why = "settings changed";
    else if (slot.link->kind() != "whatsapp" && secrets_digest(*next) != secrets_digests_[name])
      why = "secret file changed";
    if (why.empty()) {
      // Same link: rates, windows and caps change in place.
      slot.settings = *next;
      slot.bucket.set_rate(next->tps * slot.throttle_factor, std::max(1.0, next->tps / 10.0));
      ++it;
      continue;
    }
    std::unique_ptr<channel_slot> replacement;
    if (next) {
      // Built before the old link stops: a new config that cannot be built keeps the old link running.
      try {
        replacement = make_slot(*next);
      } catch (const std::exception& e) {
        log_->error("channel kept on its previous settings name={} error=\"{}\"", name, e.what());
        ++it;
        continue;
      }
    }
    retire_channel(std::move(*it), why);
    if (replacement) {
      *it = std::move(replacement);
      asio::co_spawn(io_, run_channel(it->get()), asio::detached);
      log_->info("channel rebuilt name={} reason=\"{}\"", name, why);
      ++rebuilt;
      ++it;
    } else {
      it = channels_.erase(it);
      ++removed;
    }
  }
  for (const auto& cs : cfg.channels) {
    if (find_slot(cs.name)) continue;
    std::unique_ptr<channel_slot> slot;
    try {
      slot = make_slot(cs);
    } catch (const std::exception& e) {
      log_->error("channel not added name={} error=\"{}\"", cs.name, e.what());
      continue;
    }
    if (!slot) continue;
    channels_.push_back(std::move(slot));
    asio::co_spawn(io_, run_channel(channels_.back().get()), asio::detached);
    log_->info("channel added name={} type={}", cs.name, cs.type);
    ++added;
  }
  if (added + removed + rebuilt > 0)
    log_->info("channels reloaded added={} removed={} rebuilt={} running={}", added, removed, rebuilt, channels_.size());
  wake_dispatcher();
}

void service::begin_shutdown() {
  if (stopping_) return;
  stopping_ = true;
  log_->info("stopping: finishing messages in flight");
  sd_notify(0, "STOPPING=1");
  asio::co_spawn(io_, shutdown_sequence(), asio::detached);
}

asio::awaitable<void> service::shutdown_sequence() {
  if (http_) http_->stop();
  if (webhook_http_) webhook_http_->stop();
  dispatch_timer_.cancel();
  scheduler_timer_.cancel();
  // Claimed but never handed to a channel: back to the queue, untouched by any network.
  for (auto& slot : channels_) {
    slot->fenced_ahead = 0;
    while (!slot->backlog.empty()) {
      const auto id = slot->backlog.front().id;
      slot->backlog.pop_front();
      change([id](storage::store& s) { s.release_claim(id, core::now(), "daemon stopping"); });
    }
  }
  asio::steady_timer t(io_);
  const auto deadline = std::chrono::steady_clock::now() + shutdown_grace;
  while (!in_flight_.empty() && std::chrono::steady_clock::now() < deadline) {
    t.expires_after(std::chrono::milliseconds{20});
    boost::system::error_code ec;
    co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  if (!in_flight_.empty())
    log_->warn("stopping with messages unanswered by the network count={} (they are retried as in doubt at next start)",
               in_flight_.size());
  for (auto& slot : channels_) slot->link->stop();
  signals_.cancel();
  // Let the writer finish what the results above posted before the I/O loop ends.
  const auto barrier = [](storage::store&) { return true; };
  co_await query<bool>(barrier);
  io_.stop();
}

asio::awaitable<void> service::watchdog_loop() {
  std::uint64_t usec = 0;
  const bool watchdog = sd_watchdog_enabled(0, &usec) > 0 && usec > 0;
  const auto period = watchdog ? std::chrono::microseconds{usec / 2} : std::chrono::microseconds{std::chrono::seconds{10}};
  asio::steady_timer timer(io_);
  while (!stopping_) {
    std::uint64_t submitted = 0, backlog = 0;
    int up = 0;
    for (const auto& slot : channels_) {
      submitted += slot->submitted;
      backlog += slot->backlog.size();
      up += slot->link->is_up() ? 1 : 0;
    }
    const std::string status = "STATUS=channels up " + std::to_string(up) + "/" + std::to_string(channels_.size()) +
                               ", sent " + std::to_string(submitted) + ", in flight " + std::to_string(in_flight_.size()) +
                               ", waiting " + std::to_string(backlog) + ", received " + std::to_string(inbound_count_);
    sd_notify(0, status.c_str());
    if (watchdog) sd_notify(0, "WATCHDOG=1");
    timer.expires_after(period);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

void service::start() {
  // Start-up recovery before anything is sent: rows a crash left in `sending` may have reached the
  // network; they are retried and counted as possible duplicates.
  std::promise<storage::sync_report> synced;
  std::promise<std::int64_t> recovered;
  const auto groups = config_.groups;
  const auto officers = config_.officers;
  auto sync_future = synced.get_future();
  auto recover_future = recovered.get_future();
  writer_->post(
      [&synced, &recovered, groups, subscribers = std::move(subscribers_to_sync_), officers](storage::store& s) {
        recovered.set_value(s.recover_in_doubt());
        synced.set_value(s.sync_config(groups, *subscribers, officers));
      },
      [&synced](std::exception_ptr e) {
        if (e) {
          try {
            synced.set_exception(e);
          } catch (...) {
          }
        }
      });
  const auto report = sync_future.get();
  in_doubt_recovered_ = recover_future.get();
  log_->info("config synced subscribers_added={} changed={} removed={} groups_added={} groups_removed={} officers={}",
             report.added, report.changed, report.removed, report.groups_added, report.groups_removed, report.officers);
  if (in_doubt_recovered_ > 0)
    log_->warn("recovered after a crash in_doubt={} (these may reach a phone twice; counted in status)", in_doubt_recovered_);

  build_channels();
  seed_caps();
  seed_whatsapp_windows();
  http_ = std::make_unique<http_server>(io_, std::bind_front(&service::handle_http, this));
  const auto [host, port] = split_host_port(options_.listen.value_or(config_.http.listen));
  http_->listen(host, port);
  if (!config_.http.webhook_listen.empty()) {
    webhook_http_ = std::make_unique<http_server>(io_, std::bind_front(&service::handle_webhook_counted, this));
    const auto [wh_host, wh_port] = split_host_port(config_.http.webhook_listen);
    webhook_http_->listen(wh_host, wh_port);
    log_->info("webhooks listening listen={}:{}", wh_host, webhook_http_->port());
  }
  log_->info("ready village=\"{}\" listen={}:{} database={} channels={}", config_.village.name, host, http_->port(),
             db_file_.string(), channels_.size());

  for (auto& slot : channels_) asio::co_spawn(io_, run_channel(slot.get()), asio::detached);
  asio::co_spawn(io_, scheduler_loop(), asio::detached);
  asio::co_spawn(io_, dispatch_loop(), asio::detached);
  asio::co_spawn(io_, watchdog_loop(), asio::detached);
  asio::co_spawn(io_, reminder_loop(), asio::detached);
  asio::co_spawn(io_, modem_balance_loop(), asio::detached);

  auto* self = this;
  std::function<void(const boost::system::error_code&, int)> on_signal;
  on_signal = [self, &on_signal](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      self->log_->info("SIGHUP: reloading the config");
      sd_notify(0, "RELOADING=1");
      asio::co_spawn(self->io_, self->reload_on_signal(), asio::detached);
      self->signals_.async_wait(on_signal);
      return;
    }
    self->begin_shutdown();
  };
  signals_.async_wait(on_signal);
  sd_notify(0, "READY=1");
  if (options_.on_ready) options_.on_ready(http_->port());
  io_.run();
}

int service::run() {
  start();
  writer_->stop();
  log_->info("stopped");
  return exit_code_;
}

int serve(const serve_options& options) {
  auto loaded = config::load(options.config_file);
  if (!loaded.config) {
    std::ostringstream msg;
    msg << "the config has " << loaded.errors.size() << " error(s); run `kentongan check-config` for details:";
    for (const auto& e : loaded.errors) msg << "\n  " << config::format(e);
    throw std::runtime_error(msg.str());
  }
  service s(options, std::move(*loaded.config));
  return s.run();
}

}  // namespace kentongan::daemon
