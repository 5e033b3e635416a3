#pragma once
/// Logging set-up: named spdlog loggers ("daemon", "http", "dispatch", "store", "intake", one per
/// channel) writing to journald when started by systemd (JOURNAL_STREAM set), else to stderr.
/// Phone numbers are masked unless log_phones is true; secrets are never handed to a logger.

#include <string>

namespace kentongan::daemon {

/// level: trace|debug|info|warn|error. Throws std::invalid_argument for an unknown level.
void setup_logging(const std::string& level, bool log_phones);
/// The phone as logs should show it: masked unless --log-phones.
std::string log_phone(const std::string& e164);

}  // namespace kentongan::daemon
