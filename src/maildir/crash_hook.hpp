// SPDX-License-Identifier: GPL-3.0-or-later
// Test-only crash points in the delivery protocol (internal to src/maildir).
#pragma once

namespace uidsync::maildir::detail {

// Counts one completed step of a delivery. When the environment variable
// UIDSYNC_TEST_CRASH_AFTER_STEP=N is set, the process ends with _exit(100)
// right after the Nth counted step, without unwinding or flushing anything, as
// a crash would. Steps are only counted while the variable is set, so a test
// forks, sets it in the child, and delivers. Costs one getenv() per step.
void crash_point();

} // namespace uidsync::maildir::detail
