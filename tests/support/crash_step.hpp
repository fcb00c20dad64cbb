// SPDX-License-Identifier: GPL-3.0-or-later
// Runs the binary with its crash hook armed, for interrupt-and-resume tests.
#pragma once

#include "support/dovecot.hpp"

#include <string>
#include <vector>

namespace uidsync::test {

// The exit status of a run the crash hook ended (maildir::detail::crash_point()).
inline constexpr int k_crash_exit = 100;

// Runs `argv` (no shell) like run_command(), with UIDSYNC_TEST_CRASH_AFTER_STEP=`step`
// in its environment (`step` 0: the variable is removed), so the program ends with
// k_crash_exit right after its `step`-th counted state step. Safe to call while the
// test has threads (a fake server): the child only calls execve() after fork().
CommandResult run_crashing_after(const std::vector<std::string>& argv, int step);

} // namespace uidsync::test
