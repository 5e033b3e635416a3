// The group-commit writer (issue 3, "records every transition durably"): one fsync'd COMMIT per batch of jobs.
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Exception.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <sqlite3.h>
#include <string_view>
#include <vector>

#include "storage/detail.hpp"
#include "storage/disk_full.hpp"
#include "storage/store.hpp"

namespace kentongan::storage {
namespace {

constexpr std::string_view disk_full_prefix = "disk full: ";
std::atomic<bool> disk_full_flag{false};

/// SQLITE_FULL (a write that found no space: the WAL or the database could not grow) becomes a
/// storage_error the daemon recognises; everything else passes unchanged.
std::exception_ptr classify(std::exception_ptr e) {
  if (!e) return e;
  try {
    std::rethrow_exception(e);
  } catch (const SQLite::Exception& x) {
    if ((x.getErrorCode() & 0xff) == SQLITE_FULL) {
      disk_full_flag = true;
      return std::make_exception_ptr(storage_error(std::string(disk_full_prefix) + x.what() +
                                                   " (free space on the database's file system; the daemon resumes by itself)"));
    }
  } catch (const std::exception& x) {
    if (std::string_view(x.what()).find("database or disk is full") != std::string_view::npos) {
      disk_full_flag = true;
      return std::make_exception_ptr(storage_error(std::string(disk_full_prefix) + x.what()));
    }
  } catch (...) {
  }
  return e;
}

/// Copies the WAL back into the database on its own connection and thread, so that no COMMIT waits
/// for a checkpoint. SQLite's automatic checkpoint runs inside the COMMIT that crosses its threshold
/// and syncs the whole database file there: every such commit (and every job queued behind it) was
/// late by that much. PASSIVE never blocks the writer. Durability is unchanged: a commit is durable
/// when its WAL frames are synced (synchronous=FULL), before and after this.
///
/// The WAL starts again from its first frame only when a write transaction begins on a WAL that is
/// copied entirely (SQLite's walRestartLog). Under steady single-message commits (1,000 a second,
/// ~16 frames each) the thread never sees that: every pass ends with the frames appended while it
/// copied still to do. The WAL then grew to the inline threshold in about 5 s, each commit appended
/// to a growing file (ext4 allocates blocks, and fdatasync commits the new size to the journal), and
/// the inline checkpoint of 8,000 pages stopped the writer for ~300 ms. So the thread copies until
/// only a short tail is left, then stops and leaves the tail to the writer: right after its next
/// COMMIT it copies those few frames inline (a millisecond or two), and its next transaction starts
/// the WAL again from the beginning, overwriting the same file blocks.
class wal_checkpointer {
 public:
  /// Past this many WAL pages a checkpoint is requested from the thread.
  static constexpr int request_pages = 1000;
  /// The thread leaves at most this many pages for the writer to copy inline, or up to
  /// longest_tail_pages (4 MiB) when its passes stop shortening the tail (a slow disk).
  static constexpr int tail_pages = 256;
  static constexpr int longest_tail_pages = 1024;
  /// Past this many (32 MiB) the writer checkpoints itself, whatever is left: a long read (a report
  /// over a million rows on the reader thread) can keep the thread from copying the WAL's end, and
  /// the WAL must stay bounded (reads and crash recovery stay fast).
  static constexpr int inline_pages = 8000;

  explicit wal_checkpointer(const std::filesystem::path& file) {
    if (sqlite3_open_v2(file.string().c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
      sqlite3_close(db_);
      db_ = nullptr;
      return;
    }
    sqlite3_exec(db_, "PRAGMA synchronous = FULL", nullptr, nullptr, nullptr);
    thread_ = std::thread([this] {
      detail::name_this_thread("kt-checkpoint");
      run();
    });
  }
  ~wal_checkpointer() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
    sqlite3_close(db_);
  }
  wal_checkpointer(const wal_checkpointer&) = delete;
  wal_checkpointer& operator=(const wal_checkpointer&) = delete;

  bool running() const { return db_ != nullptr; }

  /// SQLite's WAL hook (after every commit, on the writer thread); replaces the automatic checkpoint.
  static int on_commit(void* self, sqlite3* writer_db, const char* schema, int pages) {
    auto* c = static_cast<wal_checkpointer*>(self);
    if (c->tail_ready_.load() || pages >= inline_pages) {
      // The thread is idle (it stopped after leaving the tail), so this PASSIVE does not meet its
      // checkpoint lock; a reader's old snapshot may still stop it short, and then the thread goes on.
      c->tail_ready_ = false;
      sqlite3_wal_checkpoint_v2(writer_db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
      return SQLITE_OK;
    }
    if (pages >= request_pages) {
      {
        std::lock_guard lock(c->mutex_);
        c->requested_ = true;
      }
      c->wake_.notify_one();
    }
    return SQLITE_OK;
  }

 private:
  void run() {
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return stopping_ || requested_; });
      if (stopping_) return;
      requested_ = false;
      lock.unlock();
      // Each pass copies what the previous one left, so the passes shorten until the tail is short.
      // Failures (a full disk, a reader in the way) leave the WAL as it is; the next commit asks again.
      for (int before = -1, gap_before = inline_pages;;) {
        int log = 0, copied = 0;  // copied: frames of this WAL in the database so far, not in this pass
        if (sqlite3_wal_checkpoint_v2(db_, "main", SQLITE_CHECKPOINT_PASSIVE, &log, &copied) != SQLITE_OK) break;
        // A pass lasts about one fsync of the database, so what is left after it is what the writer
        // appended meanwhile: when a slow disk keeps that from shrinking, a somewhat longer tail
        // is handed over rather than none (the WAL would grow to the inline threshold).
        const int gap = log - copied;
        if (gap <= tail_pages || (gap <= longest_tail_pages && gap * 4 > gap_before * 3)) {
          tail_ready_ = true;  // the writer takes it from here; its next commit asks again if needed
          break;
        }
        gap_before = gap;
        // A reader's snapshot holds the rest back (a long read on the reader thread): wait for the
        // next commit rather than spin.
        if (copied <= before) break;
        before = copied;
        std::lock_guard stop(mutex_);
        if (stopping_) break;
      }
      lock.lock();
    }
  }

  sqlite3* db_ = nullptr;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool requested_ = false;
  bool stopping_ = false;
  std::atomic<bool> tail_ready_{false};
  std::thread thread_;
};

}  // namespace

sqlite3* store::connection_handle() const { return db_->getHandle(); }

bool disk_full() noexcept { return disk_full_flag.load(); }

bool is_disk_full(const std::exception& e) noexcept {
  return std::string_view(e.what()).substr(0, disk_full_prefix.size()) == disk_full_prefix;
}

bool is_disk_full(const std::exception_ptr& e) noexcept {
  if (!e) return false;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return is_disk_full(x);
  } catch (...) {
    return false;
  }
}

writer::writer(std::filesystem::path file, std::size_t max_batch) : max_batch_(max_batch == 0 ? 1 : max_batch) {
  std::promise<void> opened;
  auto ready = opened.get_future();
  thread_ = std::thread([this, f = std::move(file), p = &opened]() mutable { run(std::move(f), p); });
  try {
    ready.get();
  } catch (...) {
    thread_.join();
    throw;
  }
}

writer::~writer() { stop(); }

void writer::post(job j, completion done) { enqueue({std::move(j), std::move(done), false}); }

void writer::post_held_while_full(job j, completion done) { enqueue({std::move(j), std::move(done), true}); }

void writer::enqueue(item i) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) throw storage_error("storage writer is stopped");
    queue_.push_back(std::move(i));
  }
  wake_.notify_one();
}

void writer::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

std::uint64_t writer::commits() const { return commits_.load(); }

void writer::run(std::filesystem::path file, std::promise<void>* opened) {
  detail::name_this_thread("kt-writer");
  std::unique_ptr<store> db;
  try {
    db = std::make_unique<store>(file);
  } catch (...) {
    opened->set_exception(std::current_exception());
    return;
  }
  opened->set_value();  // `opened` dies with the constructor: not touched after this
  // Every job runs in a savepoint, so SQLite keeps the original of each page a job changes in a
  // sub-journal; past 64 KiB (16 pages; an inbound message changes about 20) it went to a temporary
  // file, one pwrite per page: 38 pwrites per stored message in a burst (strace, 10,000 messages),
  // 1.7 without (the WAL frames). In memory it is a copy, emptied whenever a job's savepoint is
  // released, so it holds one job's pages at a time.
  sqlite3_exec(db->connection_handle(), "PRAGMA temp_store = MEMORY", nullptr, nullptr, nullptr);
  auto checkpoints = std::make_unique<wal_checkpointer>(file);
  if (checkpoints->running())
    sqlite3_wal_hook(db->connection_handle(), &wal_checkpointer::on_commit, checkpoints.get());

  std::vector<item> batch;
  std::vector<std::exception_ptr> results;
  // Changes to accepted work that found the disk full, oldest first. They run again, before
  // anything newer, once a write succeeds: a state change retried out of order would leave a
  // message `submitted` after its delivery report (issue 9, disk full).
  std::deque<item> held;
  auto last_probe = std::chrono::steady_clock::time_point{};
  for (;;) {
    batch.clear();
    {
      std::unique_lock lock(mutex_);
      if (disk_full_flag && std::chrono::steady_clock::now() - last_probe >= std::chrono::seconds{1}) {
        // Only a write shows that space has returned, and the daemon may have none to do while it
        // refuses new work: about once a second, write one audit event.
        lock.unlock();
        last_probe = std::chrono::steady_clock::now();
        try {
          db->begin();
          db->log_event("disk_space_returned", "storage", "a write succeeded again after the disk was full");
          db->commit();
          commits_.fetch_add(1);
          disk_full_flag = false;
        } catch (...) {
          try {
            db->rollback();
          } catch (...) {
          }
        }
        continue;
      }
      if (disk_full_flag)
        wake_.wait_for(lock, std::chrono::seconds{1}, [&] { return stopping_ || !queue_.empty(); });
      else if (held.empty())
        wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (disk_full_flag) {
        // Held changes wait for the probe; everything else runs (reads succeed, new writes hear
        // "disk full" at once and are refused by their posters).
        while (!queue_.empty() && batch.size() < max_batch_) {
          if (queue_.front().hold_while_full)
            held.push_back(std::move(queue_.front()));
          else
            batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
        if (batch.empty()) {
          if (!stopping_ || !queue_.empty()) continue;
          // Stopping with the disk still full: what is held is lost like any change unwritten at a
          // crash (the rows are recovered in doubt at the next start).
          lock.unlock();
          const auto e = std::make_exception_ptr(storage_error(std::string(disk_full_prefix) +
                                                               "the daemon stopped before space returned"));
          for (auto& h : held)
            if (h.done) try {
                h.done(e);
              } catch (...) {
              }
          held.clear();
          break;
        }
      } else {
        if (queue_.empty() && held.empty() && !stopping_) continue;  // the probe's second came round
        if (queue_.empty() && held.empty()) break;  // stopping, and everything posted has run
        while (!held.empty() && batch.size() < max_batch_) {
          batch.push_back(std::move(held.front()));
          held.pop_front();
        }
        // Whatever piled up while the previous COMMIT was syncing goes into this one.
        while (held.empty() && !queue_.empty() && batch.size() < max_batch_) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
    }
    results.assign(batch.size(), nullptr);
    std::exception_ptr batch_error;
    // A job's savepoint makes SQLite copy the original of every page the job changes (an inbound
    // message changes about 20): 15-27 % of bench_intake's throughput. Changes to accepted work may
    // run again by contract (a full disk re-runs them already), so a batch of only those runs without
    // savepoints; should one of its jobs fail, the whole transaction is rolled back and the batch runs
    // again job by job, each in its savepoint, so that the failing job alone is lost.
    bool job_by_job = !std::all_of(batch.begin(), batch.end(), [](const item& b) { return b.hold_while_full; });
    for (;;) {
      bool run_again = false;
      try {
        db->begin();
        for (std::size_t i = 0; i < batch.size(); ++i) {
          if (job_by_job) db->savepoint();
          try {
            batch[i].work(*db);
            if (job_by_job) db->release();
          } catch (...) {
            results[i] = classify(std::current_exception());
            if (is_disk_full(results[i])) throw;  // the whole batch waits, in order
            if (!job_by_job) {
              run_again = true;
              break;
            }
            db->rollback_to();
            db->release();
          }
        }
        if (run_again) {
          db->rollback();
          job_by_job = true;
          results.assign(batch.size(), nullptr);
          continue;
        }
        db->commit();
        commits_.fetch_add(1);
      } catch (...) {
        // The COMMIT (or the database) failed: nothing of this batch is durable.
        batch_error = classify(std::current_exception());
        try {
          db->rollback();
        } catch (...) {
        }
      }
      break;
    }
    if (batch_error && is_disk_full(batch_error)) {
      // Held changes go back, in their order and ahead of newer ones; the rest hear "disk full".
      std::deque<item> again;
      for (auto& b : batch) {
        if (b.hold_while_full) {
          again.push_back(std::move(b));
        } else if (b.done) {
          try {
            b.done(batch_error);
          } catch (...) {
          }
        }
      }
      for (auto& h : held) again.push_back(std::move(h));
      held = std::move(again);
      last_probe = std::chrono::steady_clock::now();
      continue;
    }
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (!batch[i].done) continue;
      try {
        batch[i].done(batch_error ? batch_error : results[i]);
      } catch (...) {  // a completion's failure is its poster's business, not the writer's
      }
    }
  }
  sqlite3_wal_hook(db->connection_handle(), nullptr, nullptr);
  checkpoints.reset();
  try {
    db->checkpoint();
  } catch (...) {
  }
}

}  // namespace kentongan::storage
