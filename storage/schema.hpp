#pragma once
/// The schema as numbered migrations: migrations()[i] takes a database from user_version i to i + 1.
/// Append only: a released migration is never edited, a change is a new migration.

#include <span>
#include <string_view>

namespace kentongan::storage {

std::span<const std::string_view> migrations();

}  // namespace kentongan::storage
