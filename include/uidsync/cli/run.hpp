// SPDX-License-Identifier: GPL-3.0-or-later
// The command line: parses it with CLI11 and dispatches to one cmd_* function.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace uidsync::cli {

// Runs the command line and returns the process exit code (core::ExitCode).
// Never throws.
int run(int argc, char** argv);

// The same with `args` (without the program name) and explicit streams for what
// the commands print; log lines still go to stderr. For tests and embedding.
int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

} // namespace uidsync::cli
