// SPDX-License-Identifier: GPL-3.0-or-later
// A program on a pseudo-terminal: openpty, fork, exec, read until it exits.
#include "support/pty.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>

extern char** environ;

namespace uidsync::test {

namespace {

// The inherited environment with `changes` applied.
std::vector<std::string> environment(const std::vector<std::string>& changes) {
  std::vector<std::string> out;
  const auto changed = [&](const std::string& entry) {
    const auto name = entry.substr(0, entry.find('='));
    for (const auto& c : changes) {
      if (c.substr(0, c.find('=')) == name) {
        return true;
      }
    }
    return false;
  };
  for (char** e = environ; *e != nullptr; ++e) {
    if (!changed(*e)) {
      out.emplace_back(*e);
    }
  }
  for (const auto& c : changes) {
    if (c.find('=') != std::string::npos) {
      out.push_back(c);
    }
  }
  return out;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) {
    out.push_back(s.data());
  }
  out.push_back(nullptr);
  return out;
}

} // namespace

PtyResult run_in_pty(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                     unsigned short columns, std::chrono::seconds timeout) {
  // Everything the child needs is made before fork.
  std::vector<std::string> args = argv;
  std::vector<std::string> envs = environment(env);
  auto arg_ptrs = pointers(args);
  auto env_ptrs = pointers(envs);
  termios raw{};
  ::cfmakeraw(&raw);
  winsize size{};
  size.ws_row = 24;
  size.ws_col = columns;
  int master = -1;
  int slave = -1;
  if (::openpty(&master, &slave, nullptr, &raw, &size) != 0) {
    throw std::runtime_error(std::string("openpty: ") + std::strerror(errno));
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(master);
    ::close(slave);
    throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    ::setsid();
    ::ioctl(slave, TIOCSCTTY, 0);
    ::dup2(slave, STDIN_FILENO);
    ::dup2(slave, STDOUT_FILENO);
    ::dup2(slave, STDERR_FILENO);
    ::close(master);
    if (slave > STDERR_FILENO) {
      ::close(slave);
    }
    ::execve(arg_ptrs[0], arg_ptrs.data(), env_ptrs.data());
    ::_exit(127);
  }
  ::close(slave);
  PtyResult result;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::array<char, 4096> buffer{};
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ::kill(pid, SIGKILL);
      break;
    }
    pollfd p{master, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) < 0 && errno != EINTR) {
      break;
    }
    const ssize_t n = ::read(master, buffer.data(), buffer.size());
    if (n > 0) {
      result.output.append(buffer.data(), static_cast<std::size_t>(n));
    } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
      break; // EIO: every copy of the terminal's other side is closed
    }
  }
  ::close(master);
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

} // namespace uidsync::test
