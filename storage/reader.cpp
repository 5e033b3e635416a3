// The reader thread: read-only queries beside the group-commit writer (issue 3, status during a broadcast).
#include <future>

#include "storage/detail.hpp"
#include "storage/store.hpp"

namespace kentongan::storage {

reader::reader(std::filesystem::path file) {
  std::promise<void> opened;
  auto ready = opened.get_future();
  thread_ = std::thread([this, file = std::move(file), &opened]() {
    detail::name_this_thread("kt-reader");
    std::unique_ptr<store> db;
    try {
      db = std::make_unique<store>(file, true);
      opened.set_value();
    } catch (...) {
      opened.set_exception(std::current_exception());
      return;
    }
    for (;;) {
      item next;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, and everything asked was answered
        next = std::move(queue_.front());
        queue_.pop_front();
      }
      std::exception_ptr error;
      try {
        next.work(*db);
      } catch (...) {
        error = std::current_exception();
      }
      if (next.done) next.done(error);
    }
  });
  try {
    ready.get();
  } catch (...) {
    thread_.join();
    throw;
  }
}

reader::~reader() { stop(); }

void reader::post(job j, std::function<void(std::exception_ptr)> done) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) throw storage_error("the database reader has stopped");
    queue_.push_back({std::move(j), std::move(done)});
  }
  wake_.notify_one();
}

void reader::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

}  // namespace kentongan::storage
