// SPDX-License-Identifier: GPL-3.0-or-later
// Runs a program on a real pseudo-terminal, to test what it writes to a terminal.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace uidsync::test {

struct PtyResult {
  int exit_status = -1; // the program's exit status; 128 + signal when killed
  std::string output;   // every byte it wrote to the terminal (stdout and stderr)
};

// Runs `argv` (argv[0] a path) with stdin, stdout and stderr on a new pseudo-
// terminal whose controlling process it is. `columns` sets the terminal's width
// (0: no size, so TIOCGWINSZ reports 0 columns). Output is raw: the terminal
// adds no "\r" before "\n". `env` changes the inherited environment: "NAME=VALUE"
// sets, "NAME" removes. Kills the program after `timeout`. Throws
// std::runtime_error when the terminal or the process cannot be made.
PtyResult run_in_pty(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                     unsigned short columns,
                     std::chrono::seconds timeout = std::chrono::seconds(120));

} // namespace uidsync::test
