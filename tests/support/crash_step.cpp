// SPDX-License-Identifier: GPL-3.0-or-later
// Runs the binary with the crash hook armed, for interrupt-and-resume tests.
#include "support/crash_step.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <string_view>
#include <vector>

namespace uidsync::test {

CommandResult run_crashing_after(const std::vector<std::string>& argv, int step) {
  const std::string k_var = "UIDSYNC_TEST_CRASH_AFTER_STEP=";
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (!std::string_view(*e).starts_with(k_var)) {
      env.emplace_back(*e);
    }
  }
  if (step > 0) {
    env.push_back(k_var + std::to_string(step));
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
  int pipefd[2];
  if (::pipe(pipefd) != 0) {
    return {-1, "pipe() failed"};
  }
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(pipefd[1], 1);
    ::dup2(pipefd[1], 2);
    ::close(pipefd[0]);
    ::close(pipefd[1]);
    ::execve(args[0], args.data(), envp.data());
    ::_exit(127);
  }
  ::close(pipefd[1]);
  std::string output;
  char buf[4096];
  for (ssize_t n; (n = ::read(pipefd[0], buf, sizeof buf)) > 0;) {
    output.append(buf, static_cast<std::size_t>(n));
  }
  ::close(pipefd[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

} // namespace uidsync::test
