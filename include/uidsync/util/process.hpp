// SPDX-License-Identifier: GPL-3.0-or-later
// Runs a helper command (password_cmd, oauth2_token_cmd, post_sync_cmd) without a shell.
#pragma once

#include <uidsync/util/expected.hpp>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace uidsync::util {

struct ProcessResult {
  // The exit status when the program exited normally; 128 + signal number when a
  // signal killed it (the shell convention).
  int exit_status = 0;
  bool signaled = false;
  std::string out; // everything it wrote to stdout, up to the output limit
  std::string err; // everything it wrote to stderr, up to the output limit
};

struct ProcessOptions {
  // The child is killed (SIGKILL) and the call fails when it runs longer.
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
  // Bytes kept of each of stdout and stderr; the rest is read and dropped, so a
  // chatty child never blocks on a full pipe.
  std::size_t max_output = std::size_t{1} << 20;
};

// Runs `argv` (argv[0] is looked up in PATH) with stdin from /dev/null and stdout
// and stderr captured, and waits for it. No shell is involved: write
// {"sh", "-c", "..."} to get one. Returns the result whatever the exit status is;
// fails (with a one-line message naming argv[0], never the other arguments, which
// may hold secrets) when `argv` is empty, the program cannot be started, or it
// exceeds `options.timeout`. On timeout only the child itself is killed: it stays in
// our process group so that it can still prompt on the terminal (gpg, pinentry),
// and processes it started may outlive it.
Expected<ProcessResult, std::string> run_process(const std::vector<std::string>& argv,
                                                 const ProcessOptions& options = {});

// Splits a command written as one string into argv, like a POSIX shell splits
// simple words: blanks separate words, '...' quotes literally, "..." quotes with
// \" \\ \$ \` escapes, a backslash outside quotes escapes the next character.
// Nothing is expanded (no $VAR, no globs, no ~). A string that starts with
// "sh -c " or "bash -c " is taken as written: the rest becomes the shell's single
// script argument (one pair of surrounding quotes removed), so pipes work.
// Fails on an unterminated quote, a trailing backslash or an empty command.
Expected<std::vector<std::string>, std::string> split_command(std::string_view text);

} // namespace uidsync::util
