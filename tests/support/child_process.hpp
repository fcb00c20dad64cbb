// SPDX-License-Identifier: GPL-3.0-or-later
// Runs a program with a changed environment and, optionally, kills it (SIGKILL) after a delay.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace uidsync::test {

struct ChildOptions {
  // NAME, value pairs set in the child's environment (replacing inherited ones).
  std::vector<std::pair<std::string, std::string>> set_env;
  // Names removed from the child's environment.
  std::vector<std::string> unset_env;
  // When positive: SIGKILL the child this long after it started, if still running.
  std::chrono::milliseconds kill_after{0};
  // The child is killed (and the result says timed_out) when it runs longer.
  std::chrono::milliseconds timeout{std::chrono::minutes(5)};
};

struct ChildResult {
  int status = -1;          // exit status; -1 when it did not exit normally
  int signal = 0;           // the signal that ended it, 0 if it exited
  bool killed = false;      // we sent SIGKILL because kill_after passed
  bool timed_out = false;   // we sent SIGKILL because timeout passed
  std::string output;       // stdout and stderr, interleaved
  std::chrono::milliseconds elapsed{0};
};

// Runs `argv` (argv[0] is a path, no PATH lookup, no shell) with stdin from
// /dev/null. Safe to call while the test has threads: the child only calls
// execve() after fork(). `status` is 127 when the program cannot be started.
ChildResult run_child(const std::vector<std::string>& argv, const ChildOptions& options = {});

} // namespace uidsync::test
