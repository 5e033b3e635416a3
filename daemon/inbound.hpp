#pragma once
/// Private to daemon/: the intake state that lives on the storage writer thread.

#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "intake/rate_limiter.hpp"
#include "intake/settings.hpp"
#include "intake/tagging.hpp"

namespace kentongan::daemon {

/// Everything the intake router needs, touched only inside writer jobs. Rebuilt whole on a
/// reload and swapped in by a writer job, so a message is handled under one consistent config.
struct intake_state {
  intake::settings settings;
  intake::tagger tagger;
  intake::flood_control flood;
  config::village_config config;  ///< groups, officers, info pages as of the last (re)load

  explicit intake_state(const config::village_config& cfg);
};

/// What handling an inbound message changed that the I/O thread must know about.
struct inbound_effects {
  std::vector<std::string> opted_out;  ///< phones whose claimed broadcast rows must not go out
  bool new_broadcast = false;          ///< a relay post: wake the scheduler
  std::string outcome;                 ///< the command recognised, stored as the inbox row's outcome (metrics)
};

/// Builds the intake settings from the config; throws std::runtime_error listing every override
/// the intake rejected (an unknown reply variable, an unknown keyword).
intake::settings intake_settings_from(const config::village_config& cfg);

}  // namespace kentongan::daemon
