#pragma once
/// `kentongan smsc-sim`: the SMPP server for tests, demos and benchmarks, as a command.

#include <cstdint>
#include <string>

namespace kentongan::daemon {

struct smsc_sim_options {
  std::string listen = "127.0.0.1:2775";
  std::uint32_t dlr_delay_ms = 100;
  double fail_rate = 0.0;
  std::uint32_t throttle_after = 0;
  std::uint32_t drop_every = 0;
  std::string mo_file;     ///< lines "FROM TEXT", sent to the first receiver that binds
  std::string password;    ///< empty: any password binds
  std::string mo_style = "udh8";  ///< how long MO texts are split: udh8, udh16, sar, payload
  bool mo_lose_first_ack = false; ///< drop the link at each MO's first deliver_sm_resp and redeliver it
  std::string malformed;   ///< "", unknown-command, bad-length, bad-deliver-sm: sent once after the first bind
  std::string record;      ///< append one JSON line per event to this file (flushed per line)
};

/// Runs until SIGINT or SIGTERM, then prints its counters; returns the exit code.
int run_smsc_sim(const smsc_sim_options& options);

}  // namespace kentongan::daemon
