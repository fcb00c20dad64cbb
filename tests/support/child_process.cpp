// SPDX-License-Identifier: GPL-3.0-or-later
// Runs a program with a changed environment and, optionally, kills it after a delay.
#include "support/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <string_view>

namespace uidsync::test {

namespace {

bool overridden(std::string_view entry, const ChildOptions& options) {
  const auto name = entry.substr(0, entry.find('='));
  const auto same = [&](const std::string& n) { return n == name; };
  return std::any_of(options.unset_env.begin(), options.unset_env.end(), same) ||
         std::any_of(options.set_env.begin(), options.set_env.end(),
                     [&](const auto& kv) { return kv.first == name; });
}

} // namespace

ChildResult run_child(const std::vector<std::string>& argv, const ChildOptions& options) {
  using Clock = std::chrono::steady_clock;
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (!overridden(*e, options)) {
      env.emplace_back(*e);
    }
  }
  for (const auto& [name, value] : options.set_env) {
    env.push_back(name + "=" + value);
  }
  std::vector<char*> args;
  for (const auto& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));
  }
  args.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& e : env) {
    envp.push_back(e.data());
  }
  envp.push_back(nullptr);

  ChildResult result;
  int pipefd[2];
  if (argv.empty() || ::pipe2(pipefd, O_CLOEXEC) != 0) {
    result.output = "cannot start the program";
    return result;
  }
  const auto start = Clock::now();
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, 0);
    ::dup2(pipefd[1], 1);
    ::dup2(pipefd[1], 2);
    ::execve(args[0], args.data(), envp.data());
    ::_exit(127);
  }
  ::close(pipefd[1]);
  if (pid < 0) {
    ::close(pipefd[0]);
    result.output = "fork() failed";
    return result;
  }
  bool signalled = false;
  char buf[8192];
  for (;;) {
    const auto now = Clock::now();
    auto deadline = start + options.timeout;
    const bool want_kill = options.kill_after.count() > 0 && !signalled;
    if (want_kill) {
      deadline = std::min(deadline, start + options.kill_after);
    }
    if (!signalled && now >= deadline) {
      ::kill(pid, SIGKILL);
      signalled = true;
      (want_kill && now < start + options.timeout ? result.killed : result.timed_out) = true;
    }
    const auto wait_ms =
        signalled ? 1000
                  : std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
    pollfd pfd{pipefd[0], POLLIN, 0};
    const int ready = ::poll(&pfd, 1, static_cast<int>(std::max<long>(wait_ms, 1)));
    if (ready > 0) {
      const auto n = ::read(pipefd[0], buf, sizeof buf);
      if (n <= 0) {
        break;
      }
      result.output.append(buf, static_cast<std::size_t>(n));
    }
  }
  ::close(pipefd[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  if (WIFEXITED(status)) {
    result.status = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.signal = WTERMSIG(status);
  }
  return result;
}

} // namespace uidsync::test
