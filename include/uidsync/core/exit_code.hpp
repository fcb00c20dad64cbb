// SPDX-License-Identifier: GPL-3.0-or-later
// The process exit codes, documented in README.md and uidsync(1). Scripts rely on
// them: never renumber.
#pragma once

namespace uidsync::core {

enum class ExitCode : int {
  ok = 0,         // everything synced
  failed = 1,     // the run (or an account) failed
  usage = 2,      // bad command line or config, or a command not built yet
  attention = 3,  // completed, but with new quarantines, held deletions or anomalies
  tempfail = 75,  // EX_TEMPFAIL: account locked by another run, or server unavailable
};

constexpr int to_int(ExitCode c) { return static_cast<int>(c); }

} // namespace uidsync::core
