#pragma once
/// `kentongan demo`: the example village on the simulated network, end to end, through the same
/// admin API the CLI uses.

#include <string>

namespace kentongan::daemon {

struct demo_options {
  std::string example_dir;   ///< empty = look beside the binary, in the source tree, then /usr/share
  std::string listen;        ///< empty = the example config's http.listen
  std::string state_dir;     ///< empty = a fresh temporary folder
  bool exit_when_done = false;
};

int run_demo(const demo_options& options, const char* argv0);

}  // namespace kentongan::daemon
