// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

namespace uidsync::cli {

// Runs the command line and returns the process exit code (core::ExitCode).
// Never throws.
int run(int argc, char** argv);

} // namespace uidsync::cli
