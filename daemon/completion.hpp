#pragma once
/// Shell completion for the kentongan CLI: `kentongan completion bash` prints bash_completion().
/// The script lists the commands and options of daemon/cli.cpp; keep the two in step.
#include <string>

namespace kentongan::daemon {

/// A bash script that registers completion for `kentongan` (source it, or install it as
/// /usr/share/bash-completion/completions/kentongan). Pure: no I/O.
std::string bash_completion();

}  // namespace kentongan::daemon
