// SPDX-License-Identifier: GPL-3.0-or-later
// A child process for tests that check what the real binary does to the system: its
// umask, its environment, its peak memory and its separate stdout/stderr; and for the
// crash tests, a SIGKILL after a chosen delay.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace uidsync::test {

struct ChildOptions {
  mode_t umask = 022;                  // set in the child before exec
  std::vector<std::string> env;        // "NAME=value" added to (or replacing in) the environment
  std::vector<std::string> unset_env;  // names removed from the environment
  std::filesystem::path cwd;           // empty: the test's working directory
  // When positive: SIGKILL the child this long after it started, and `killed` is set.
  std::chrono::milliseconds kill_after{0};
  std::chrono::milliseconds timeout{std::chrono::minutes(5)}; // then SIGKILL, `timed_out`
};

struct ChildResult {
  int status = -1;        // the exit status; -1 when it did not exit normally
  int signal = 0;         // the signal that killed it, 0 if none
  bool timed_out = false; // killed after ChildOptions::timeout
  bool killed = false;    // killed after ChildOptions::kill_after
  // Peak resident set size: the last VmHWM read from /proc/<pid>/status while it ran
  // (sampled every 2 ms; after exec the high-water mark only grows, so the last
  // sample holds the earlier peaks). Not wait4's ru_maxrss: a child forked from a big test process
  // inherits the parent's high-water mark through fork and exec.
  long max_rss_kib = 0;
  std::string out;
  std::string err;
  std::string output; // out, then err: for messages
  std::chrono::milliseconds elapsed{0};
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
  std::chrono::steady_clock::time_point m_start;
  std::chrono::steady_clock::time_point m_deadline;
  std::chrono::milliseconds m_kill_after;
};

// Child(argv, options).wait().
ChildResult run_child(const std::vector<std::string>& argv, const ChildOptions& options = {});

} // namespace uidsync::test
