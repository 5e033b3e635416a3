#pragma once
/// Disk full (issue 9): a storage writer whose write fails with SQLITE_FULL hands its jobs a
/// storage_error starting "disk full:", and reports it here until a write succeeds again.

#include <exception>

namespace kentongan::storage {

/// Whether the daemon's storage writer last found the database's file system full. Process-wide:
/// a daemon has one writer; it probes about once a second while full and clears this on success.
bool disk_full() noexcept;

/// Whether `e` (as a writer job's completion receives it) means the disk is full.
bool is_disk_full(const std::exception& e) noexcept;
bool is_disk_full(const std::exception_ptr& e) noexcept;

}  // namespace kentongan::storage
