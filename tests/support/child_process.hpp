// SPDX-License-Identifier: GPL-3.0-or-later
// A child process for tests that check what the real binary does to the system: its
// umask, its environment, its peak memory (wait4 rusage) and its separate stdout/stderr.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace uidsync::test {

struct ChildOptions {
  mode_t umask = 022;                            // set in the child before exec
  std::vector<std::string> env;                  // "NAME=value" added to (or replacing in) the environment
  std::filesystem::path cwd;                     // empty: the test's working directory
  std::chrono::seconds timeout{60};              // then SIGKILL, and `timed_out` is set
};

struct ChildResult {
  int status = -1;        // the exit status; -1 when it did not exit normally
  int signal = 0;         // the signal that killed it, 0 if none
  bool timed_out = false; // killed after ChildOptions::timeout
  // Peak resident set size: the last VmHWM read from /proc/<pid>/status while it ran
  // (sampled every 2 ms; after exec the high-water mark only grows, so the last
  // sample holds the earlier peaks). Not wait4's ru_maxrss: a child forked from a big test process
  // inherits the parent's high-water mark through fork and exec.
  long max_rss_kib = 0;
  std::string out;
  std::string err;
};

// A started child. The destructor kills (SIGKILL) and reaps it if wait() was not called.
class Child {
public:
  // Forks and execs `argv` (argv[0] is a path; no shell). Throws std::runtime_error
  // when the fork or the capture files fail; an exec failure shows as status 127.
  Child(const std::vector<std::string>& argv, const ChildOptions& options = {});
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return m_pid; }
  // True once the child has ended (it is not reaped: wait() still reports it).
  bool exited() const;
  // Waits for the end (at most the timeout), then returns what it did. Call once.
  ChildResult wait();

private:
  pid_t m_pid = -1;
  int m_out = -1; // memfds holding stdout and stderr
  int m_err = -1;
  std::chrono::steady_clock::time_point m_deadline;
};

// Child(argv, options).wait().
ChildResult run_child(const std::vector<std::string>& argv, const ChildOptions& options = {});

} // namespace uidsync::test
