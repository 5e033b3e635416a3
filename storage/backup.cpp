// `kentongan backup FILE` (issue 8): SQLite's online backup API, one snapshot, copied a step at a time.
#include "storage/backup.hpp"

#include <SQLiteCpp/Backup.h>
#include <SQLiteCpp/SQLiteCpp.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "storage/store.hpp"

namespace kentongan::storage {

namespace {

std::string errno_text() { return std::strerror(errno); }

/// fsync a file or a directory by path; the rename below is durable only once both are synced.
void sync_path(const std::filesystem::path& p, bool directory) {
  const int fd = ::open(p.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) throw storage_error("cannot open " + p.string() + " to sync it: " + errno_text());
  const int rc = ::fsync(fd);
  const std::string why = rc != 0 ? errno_text() : std::string{};
  ::close(fd);
  if (rc != 0) throw storage_error("cannot sync " + p.string() + ": " + why);
}

}  // namespace

struct online_backup::impl {
  std::filesystem::path target, tmp;
  std::unique_ptr<SQLite::Database> source, dest;
  std::unique_ptr<SQLite::Backup> backup;
  backup_report report;
  bool done = false, finished = false;
};

online_backup::online_backup(const std::filesystem::path& source, const std::filesystem::path& target)
    : impl_(std::make_unique<impl>()) {
  auto& b = *impl_;
  b.target = target;
  b.tmp = target;
  b.tmp += ".tmp";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(source, ec))
    throw storage_error("no database at " + source.string() + " (check --state-dir or storage.path)");
  const auto dir = target.parent_path().empty() ? std::filesystem::path(".") : target.parent_path();
  if (!std::filesystem::is_directory(dir, ec))
    throw storage_error("cannot write the backup " + target.string() + ": the folder " + dir.string() + " does not exist");
  if (std::filesystem::exists(target, ec) && std::filesystem::equivalent(source, target, ec))
    throw storage_error("the backup file " + target.string() + " is the live database itself: choose another file");

  try {
    b.source = std::make_unique<SQLite::Database>(source, SQLite::OPEN_READONLY);
    b.source->setBusyTimeout(2000);
    // The read transaction pins one snapshot for every step: in WAL mode the writer carries on, and
    // the backup never restarts because of it (sqlite3_backup_step keeps an open read transaction).
    b.source->exec("BEGIN");
    SQLite::Statement pin(*b.source, "SELECT count(*) FROM sqlite_schema");
    pin.executeStep();
  } catch (const SQLite::Exception& e) {
    throw storage_error("cannot read the database " + source.string() + ": " + e.what());
  }

  // Created 0600 before SQLite opens it: the copy holds phone numbers and residents' texts.
  std::filesystem::remove(b.tmp, ec);
  const int fd = ::open(b.tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) throw storage_error("cannot create " + b.tmp.string() + ": " + errno_text());
  ::fchmod(fd, 0600);
  ::close(fd);
  try {
    b.dest = std::make_unique<SQLite::Database>(b.tmp, SQLite::OPEN_READWRITE);
    b.backup = std::make_unique<SQLite::Backup>(*b.dest, *b.source);
  } catch (const SQLite::Exception& e) {
    std::filesystem::remove(b.tmp, ec);
    throw storage_error("cannot start the backup to " + b.tmp.string() + ": " + e.what());
  }
}

online_backup::~online_backup() {
  if (!impl_) return;
  impl_->backup.reset();
  impl_->dest.reset();
  impl_->source.reset();
  if (!impl_->finished) {
    std::error_code ec;
    std::filesystem::remove(impl_->tmp, ec);
    std::filesystem::remove(impl_->tmp.string() + "-journal", ec);
  }
}

bool online_backup::step(int pages) {
  auto& b = *impl_;
  if (b.done) return true;
  int rc = SQLITE_OK;
  try {
    rc = b.backup->executeStep(pages <= 0 ? -1 : pages);
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) sqlite3_sleep(5);
  } catch (const SQLite::Exception& e) {
    throw storage_error("backup to " + b.tmp.string() + " failed: " + e.what());
  }
  // BUSY/LOCKED are passing: the next step tries again.
  if (rc == SQLITE_OK || rc == SQLITE_DONE) ++b.report.steps;
  b.report.pages = b.backup->getTotalPageCount();
  b.done = rc == SQLITE_DONE;
  return b.done;
}

backup_report online_backup::finish() {
  auto& b = *impl_;
  if (!b.done) throw storage_error("backup to " + b.tmp.string() + " finished before its last step");
  b.backup.reset();
  b.dest.reset();
  try {
    b.source->exec("COMMIT");
  } catch (const SQLite::Exception&) {  // a read transaction: nothing to lose
  }
  b.source.reset();
  try {
    SQLite::Database copy(b.tmp, SQLite::OPEN_READWRITE);
    // The live database is in WAL mode; the copy becomes one self-contained file.
    SQLite::Statement mode(copy, "PRAGMA journal_mode = DELETE");
    mode.executeStep();
    SQLite::Statement check(copy, "PRAGMA integrity_check");
    std::string first;
    int problems = 0;
    while (check.executeStep()) {
      const std::string line = check.getColumn(0).getString();
      if (line == "ok") continue;
      if (problems++ == 0) first = line;
    }
    if (problems > 0)
      throw storage_error("the copy " + b.tmp.string() + " failed PRAGMA integrity_check (" + std::to_string(problems) +
                          " problem(s), first: " + first + "); " + b.target.string() + " was not replaced");
  } catch (const SQLite::Exception& e) {
    throw storage_error("cannot check the copy " + b.tmp.string() + ": " + e.what());
  }
  sync_path(b.tmp, false);
  std::error_code ec;
  std::filesystem::rename(b.tmp, b.target, ec);
  if (ec) throw storage_error("cannot rename " + b.tmp.string() + " to " + b.target.string() + ": " + ec.message());
  b.finished = true;
  sync_path(b.target.parent_path().empty() ? std::filesystem::path(".") : b.target.parent_path(), true);
  b.report.file = b.target;
  b.report.bytes = static_cast<std::int64_t>(std::filesystem::file_size(b.target, ec));
  return b.report;
}

backup_report backup_database(const std::filesystem::path& source, const std::filesystem::path& target,
                              int pages_per_step) {
  online_backup b(source, target);
  while (!b.step(pages_per_step)) {
  }
  return b.finish();
}

}  // namespace kentongan::storage
