#pragma once
/// The `kentongan` command line (CLI11). main() only calls run_cli; tests may call it in-process.
/// Exit codes: 0 success, 1 failure (invalid config, refused request), 2 usage error,
/// 3 the daemon could not be reached.

namespace kentongan::daemon {

int run_cli(int argc, char** argv);

}  // namespace kentongan::daemon
