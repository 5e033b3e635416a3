#include "daemon/logging.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/systemd_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdlib>
#include <stdexcept>

#include "core/model.hpp"

namespace kentongan::daemon {
namespace {
std::atomic<bool> phones_visible{false};
}

void setup_logging(const std::string& level, bool log_phones) {
  phones_visible = log_phones;
  const auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off")
    throw std::invalid_argument("unknown log level '" + level + "': use trace, debug, info, warn or error");
  spdlog::sink_ptr sink;
  const char* journal = std::getenv("JOURNAL_STREAM");
  if (journal && *journal) {
    // Under systemd: structured entries with PRIORITY from the level, no duplicate timestamps.
    sink = std::make_shared<spdlog::sinks::systemd_sink_mt>("kentongan");
  } else {
    sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  }
  sink->set_pattern(journal && *journal ? "%n: %v" : "%Y-%m-%d %H:%M:%S.%e %^%l%$ %n: %v");
  for (const char* name : {"daemon", "http", "dispatch", "store", "intake", "channel"}) {
    spdlog::drop(name);
    auto logger = std::make_shared<spdlog::logger>(name, sink);
    logger->set_level(lvl);
    spdlog::register_logger(logger);
  }
  auto def = std::make_shared<spdlog::logger>("kentongan", sink);
  def->set_level(lvl);
  spdlog::set_default_logger(def);
}

std::string log_phone(const std::string& e164) { return phones_visible ? e164 : core::mask_phone(e164); }

}  // namespace kentongan::daemon
