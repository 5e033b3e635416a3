#pragma once
/// Online backups of the live database with SQLite's backup API (https://sqlite.org/backup.html): one
/// consistent snapshot copied in steps, so the writer thread runs other jobs between them. The copy is
/// written to TARGET.tmp (mode 0600), checked with PRAGMA integrity_check, synced, then renamed to TARGET.

#include <cstdint>
#include <filesystem>
#include <memory>

namespace kentongan::storage {

struct backup_report {
  std::filesystem::path file;     ///< the finished copy
  std::int64_t pages = 0;         ///< pages copied
  std::int64_t bytes = 0;         ///< size of the copy
  int steps = 0;                  ///< step() calls that copied pages
  bool operator==(const backup_report&) const = default;
};

/// One backup in progress. Uses its own two connections (never the writer's), so it may run on any one
/// thread at a time; the daemon runs it on the writer thread. Throws storage_error naming the file.
class online_backup {
 public:
  /// Opens `source` read-only and pins a snapshot (a read transaction: in WAL mode writers carry on);
  /// creates TARGET.tmp, replacing a stale one. Refuses a target that is the source itself.
  online_backup(const std::filesystem::path& source, const std::filesystem::path& target);
  ~online_backup();  ///< removes TARGET.tmp unless finish() succeeded
  online_backup(const online_backup&) = delete;
  online_backup& operator=(const online_backup&) = delete;

  /// Copies up to `pages` more pages; true once the whole snapshot is copied.
  bool step(int pages);
  /// After the last step: checks the copy, makes it a self-contained file (journal_mode DELETE), syncs it
  /// and renames it over TARGET. The copy is never renamed when the check fails.
  backup_report finish();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// Every step in a row: `kentongan backup` when the daemon is not running, and tests.
backup_report backup_database(const std::filesystem::path& source, const std::filesystem::path& target,
                              int pages_per_step = 1024);

}  // namespace kentongan::storage
