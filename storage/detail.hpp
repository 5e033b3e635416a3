#pragma once
/// Private helpers shared by the storage sources; not part of the public API.

#include <SQLiteCpp/SQLiteCpp.h>
#include <pthread.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/model.hpp"

namespace kentongan::storage {
class store;
}

namespace kentongan::storage::detail {

constexpr int code(core::message_state s) { return static_cast<int>(s); }

inline std::int64_t now_ms() { return core::to_millis(core::now()); }

/// Names the calling thread (at most 15 characters) so that `top -H`, perf and the benchmarks' CPU
/// report tell the storage threads apart.
inline void name_this_thread(const char* name) { pthread_setname_np(pthread_self(), name); }

/// Resets a cached statement when the use ends, so that no half-read statement keeps a read transaction open.
class use {
 public:
  explicit use(SQLite::Statement& s) : s_(s) {}
  ~use() { s_.tryReset(); }
  use(const use&) = delete;
  use& operator=(const use&) = delete;
  SQLite::Statement* operator->() { return &s_; }
  SQLite::Statement& operator*() { return s_; }

 private:
  SQLite::Statement& s_;
};

/// RAII savepoint: every multi-statement operation is atomic on its own and nests inside the writer's batch.
/// It also settles the store's pending broadcast counts: written before the savepoint opens and before it
/// is released, dropped when it is rolled back (their rows' changes are undone with it).
class atomic_op {
 public:
  /// The three statements come prepared from the store's cache (store::atomic): every inbound message
  /// opens one or more of these, and parsing them each time showed in the writer's profile.
  atomic_op(const store& owner, SQLite::Statement& open, SQLite::Statement& release, SQLite::Statement& rollback_to);
  ~atomic_op();
  atomic_op(const atomic_op&) = delete;
  atomic_op& operator=(const atomic_op&) = delete;
  void commit();

 private:
  static void run(SQLite::Statement& s) {
    s.tryReset();  // a nested operation or a failed step may have left it unreset
    s.exec();
    s.tryReset();
  }
  const store& owner_;
  SQLite::Statement& release_;
  SQLite::Statement& rollback_to_;
  bool done_ = false;
};

inline std::optional<std::int64_t> opt_int(const SQLite::Column& c) {
  if (c.isNull()) return std::nullopt;
  return c.getInt64();
}
inline std::optional<core::time_point> opt_time(const SQLite::Column& c) {
  if (c.isNull()) return std::nullopt;
  return core::from_millis(c.getInt64());
}
inline void bind_opt_time(SQLite::Statement& s, const char* name, const std::optional<core::time_point>& t) {
  if (t) s.bind(name, static_cast<std::int64_t>(core::to_millis(*t)));
  else s.bind(name);
}

}  // namespace kentongan::storage::detail
