// The group-commit writer (issue 3, "records every transition durably"): one fsync'd COMMIT per batch of jobs.
#include <vector>

#include "storage/store.hpp"

namespace kentongan::storage {

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

void writer::post(job j, completion done) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) throw storage_error("storage writer is stopped");
    queue_.push_back({std::move(j), std::move(done)});
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
  std::unique_ptr<store> db;
  try {
    db = std::make_unique<store>(file);
  } catch (...) {
    opened->set_exception(std::current_exception());
    return;
  }
  opened->set_value();  // `opened` dies with the constructor: not touched after this

  std::vector<item> batch;
  std::vector<std::exception_ptr> results;
  for (;;) {
    batch.clear();
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) break;  // stopping, and everything posted has run
      // Whatever piled up while the previous COMMIT was syncing goes into this one.
      while (!queue_.empty() && batch.size() < max_batch_) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    results.assign(batch.size(), nullptr);
    std::exception_ptr batch_error;
    try {
      db->begin();
      for (std::size_t i = 0; i < batch.size(); ++i) {
        db->savepoint();
        try {
          batch[i].work(*db);
          db->release();
        } catch (...) {
          results[i] = std::current_exception();
          db->rollback_to();
          db->release();
        }
      }
      db->commit();
      commits_.fetch_add(1);
    } catch (...) {
      // The COMMIT (or the database) failed: nothing of this batch is durable, every job hears so.
      batch_error = std::current_exception();
      try {
        db->rollback();
      } catch (...) {
      }
    }
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (!batch[i].done) continue;
      try {
        batch[i].done(batch_error ? batch_error : results[i]);
      } catch (...) {  // a completion's failure is its poster's business, not the writer's
      }
    }
  }
  try {
    db->checkpoint();
  } catch (...) {
  }
}

}  // namespace kentongan::storage
