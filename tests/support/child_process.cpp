// SPDX-License-Identifier: GPL-3.0-or-later
// A child process with its umask, environment, peak memory and separate outputs.
#include "support/child_process.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <string>
#include <stdexcept>
#include <thread>

namespace uidsync::test {
namespace {

int capture_file(const char* name) {
  const int fd = ::memfd_create(name, MFD_CLOEXEC);
  if (fd < 0) {
    throw std::runtime_error(std::string("memfd_create failed for the child's ") + name);
  }
  return fd;
}

std::string read_all(int fd) {
  std::string text;
  ::lseek(fd, 0, SEEK_SET);
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) {
      break;
    }
    text.append(buf, static_cast<std::size_t>(n));
  }
  return text;
}

[[noreturn]] void exec_child(const std::vector<std::string>& argv, const ChildOptions& options,
                             int out, int err) {
  ::umask(options.umask);
  if (!options.cwd.empty() && ::chdir(options.cwd.c_str()) != 0) {
    ::_exit(127);
  }
  for (const auto& name : options.unset_env) {
    ::unsetenv(name.c_str());
  }
  for (const auto& e : options.env) {
    const auto eq = e.find('=');
    ::setenv(e.substr(0, eq).c_str(), eq == std::string::npos ? "" : e.c_str() + eq + 1, 1);
  }
  const int in = ::open("/dev/null", O_RDONLY);
  ::dup2(in, STDIN_FILENO);
  ::dup2(out, STDOUT_FILENO);
  ::dup2(err, STDERR_FILENO);
  std::vector<char*> args;
  for (const auto& a : argv) {
    args.push_back(const_cast<char*>(a.c_str())); // NOLINT: execv's signature
  }
  args.push_back(nullptr);
  ::execv(args[0], args.data());
  ::_exit(127);
}

// VmHWM of `pid` in KiB, or 0 when it cannot be read (the process is a zombie).
long high_water_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) {
      return std::strtol(line.c_str() + 6, nullptr, 10);
    }
  }
  return 0;
}

} // namespace

Child::Child(const std::vector<std::string>& argv, const ChildOptions& options)
    : m_out(capture_file("stdout")), m_err(capture_file("stderr")),
      m_start(std::chrono::steady_clock::now()), m_deadline(m_start + options.timeout),
      m_kill_after(options.kill_after) {
  if (argv.empty()) {
    throw std::runtime_error("Child: empty argv");
  }
  m_pid = ::fork();
  if (m_pid < 0) {
    throw std::runtime_error("fork failed for " + argv[0]);
  }
  if (m_pid == 0) {
    exec_child(argv, options, m_out, m_err);
  }
}

Child::~Child() {
  if (m_pid > 0) {
    ::kill(m_pid, SIGKILL);
    ::waitpid(m_pid, nullptr, 0);
  }
  ::close(m_out);
  ::close(m_err);
}

bool Child::exited() const {
  siginfo_t info{};
  return ::waitid(P_PID, static_cast<id_t>(m_pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
         info.si_pid == m_pid;
}

ChildResult Child::wait() {
  ChildResult r;
  int status = 0;
  rusage usage{};
  for (;;) {
    // The last sample counts: the first ones may come before exec, from the copy of
    // this process; after exec the mark starts again and only grows.
    if (const long hwm = high_water_kib(m_pid); hwm > 0) {
      r.max_rss_kib = hwm;
    }
    const pid_t got = ::wait4(m_pid, &status, WNOHANG, &usage);
    if (got == m_pid) {
      break;
    }
    if (got < 0 && errno != EINTR) {
      throw std::runtime_error("wait4 failed for pid " + std::to_string(m_pid));
    }
    const auto now = std::chrono::steady_clock::now();
    if (now > m_deadline && !r.timed_out && !r.killed) {
      r.timed_out = true;
      ::kill(m_pid, SIGKILL);
    }
    if (m_kill_after.count() > 0 && now >= m_start + m_kill_after && !r.killed && !r.timed_out) {
      r.killed = true;
      ::kill(m_pid, SIGKILL);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  m_pid = -1;
  if (WIFEXITED(status)) {
    r.status = WEXITSTATUS(status);
    r.killed = false; // it ended on its own just before the SIGKILL
  } else if (WIFSIGNALED(status)) {
    r.signal = WTERMSIG(status);
  }
  r.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - m_start);
  r.out = read_all(m_out);
  r.err = read_all(m_err);
  r.output = r.out + r.err;
  return r;
}

ChildResult run_child(const std::vector<std::string>& argv, const ChildOptions& options) {
  Child child(argv, options);
  return child.wait();
}

} // namespace uidsync::test
