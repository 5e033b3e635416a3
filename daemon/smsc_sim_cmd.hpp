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
};

/// Runs until SIGINT or SIGTERM, then prints its counters; returns the exit code.
int run_smsc_sim(const smsc_sim_options& options);

}  // namespace kentongan::daemon
