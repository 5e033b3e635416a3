#pragma once
/// Private to daemon/: the intake state that lives on the storage writer thread.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "intake/command.hpp"
#include "intake/rate_limiter.hpp"
#include "intake/settings.hpp"
#include "intake/tagging.hpp"

namespace kentongan::daemon {

/// The pure part of the intake's rules, immutable once built: the I/O thread parses and tags an
/// inbound message with it before posting the writer job, so the writer does only the SQL.
struct intake_rules {
  std::uint64_t generation = 0;  ///< which (re)load built it
  intake::settings settings;
  intake::tagger tagger;
  std::vector<std::string> officer_phones;

  intake_rules(std::uint64_t gen, intake::settings s, const std::vector<core::officer>& officers);
};

/// What the I/O thread worked out for one message under intake_rules of `generation`; the writer
/// uses it only when its own rules are of the same generation (a reload in between: it parses again).
struct prepared_inbound {
  std::uint64_t generation = 0;
  bool officer = false;
  intake::command command;
  std::string tagged_text;        ///< the aspiration text the tags are for ("" when none)
  std::vector<std::string> tags;  ///< tagger(tagged_text)
};

/// Everything the intake router needs. The fields above `io_rules` are touched only inside writer
/// jobs, rebuilt on a reload and assigned by a writer job, so a message is handled under one
/// consistent config; `io_rules` only on the I/O thread. The object itself lives as long as the service.
struct intake_state {
  intake::settings settings;
  intake::tagger tagger;
  intake::flood_control flood;
  config::village_config config;  ///< groups, officers, info pages as of the last (re)load
  std::uint64_t generation = 0;
  /// I/O thread only: read by on_inbound, replaced by reload_intake (same generation as the rest).
  std::shared_ptr<const intake_rules> io_rules;

  explicit intake_state(const config::village_config& cfg, std::uint64_t gen = 1);
};

/// What handling an inbound message changed that the I/O thread must know about.
struct inbound_effects {
  std::vector<std::string> opted_out;  ///< phones whose claimed broadcast rows must not go out
  bool new_broadcast = false;          ///< a relay post: wake the scheduler
  std::string outcome;                 ///< the command recognised, stored as the inbox row's outcome (metrics)
  /// In, not out: the I/O thread's parse of the message, when on_inbound made one (nullptr: parse here).
  const prepared_inbound* prepared = nullptr;
};

/// Parses `text` from `phone` as the writer would under `rules`, and tags the aspiration text it
/// carries. Pure: any thread.
prepared_inbound prepare_inbound(const intake_rules& rules, const std::string& phone, const std::string& text);

/// Builds the intake settings from the config; throws std::runtime_error listing every override
/// the intake rejected (an unknown reply variable, an unknown keyword).
intake::settings intake_settings_from(const config::village_config& cfg);

}  // namespace kentongan::daemon
