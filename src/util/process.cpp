// SPDX-License-Identifier: GPL-3.0-or-later
// run_process: posix_spawnp + poll on two pipes, with a deadline.
#include <uidsync/util/process.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

extern char** environ; // NOLINT: POSIX provides no header declaration

namespace uidsync::util {

namespace {

class Fd {
public:
  Fd() = default;
  explicit Fd(int fd) : m_fd(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const { return m_fd; }
  void reset() {
    if (m_fd >= 0) {
      ::close(m_fd);
    }
    m_fd = -1;
  }
  int* out() { return &m_fd; }

private:
  int m_fd = -1;
};

struct Pipe {
  Fd read_end;
  Fd write_end;
};

bool make_pipe(Pipe& p) {
  std::array<int, 2> fds{};
  if (::pipe2(fds.data(), O_CLOEXEC) != 0) {
    return false;
  }
  *p.read_end.out() = fds[0];
  *p.write_end.out() = fds[1];
  return true;
}

std::string errno_text(int err) {
  return std::strerror(err);
}

class SpawnActions {
public:
  SpawnActions() { ::posix_spawn_file_actions_init(&m_actions); }
  SpawnActions(const SpawnActions&) = delete;
  SpawnActions& operator=(const SpawnActions&) = delete;
  ~SpawnActions() { ::posix_spawn_file_actions_destroy(&m_actions); }
  posix_spawn_file_actions_t* get() { return &m_actions; }

private:
  posix_spawn_file_actions_t m_actions{};
};

// Reads what is available on `fd` into `sink` (up to `limit` bytes kept).
// Returns false at end of file.
bool drain(int fd, std::string& sink, std::size_t limit) {
  std::array<char, 4096> buf{};
  const ssize_t n = ::read(fd, buf.data(), buf.size());
  if (n < 0) {
    return errno == EINTR || errno == EAGAIN;
  }
  if (n == 0) {
    return false;
  }
  const auto got = static_cast<std::size_t>(n);
  if (sink.size() < limit) {
    sink.append(buf.data(), std::min(got, limit - sink.size()));
  }
  return true;
}

int wait_child(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

} // namespace

Expected<ProcessResult, std::string> run_process(const std::vector<std::string>& argv,
                                                 const ProcessOptions& options) {
  if (argv.empty() || argv.front().empty()) {
    return unexpected(std::string("empty command"));
  }
  const std::string& program = argv.front();
  Pipe out_pipe;
  Pipe err_pipe;
  if (!make_pipe(out_pipe) || !make_pipe(err_pipe)) {
    return unexpected("cannot run '" + program + "': pipe: " + errno_text(errno));
  }
  SpawnActions actions;
  ::posix_spawn_file_actions_addopen(actions.get(), 0, "/dev/null", O_RDONLY, 0);
  ::posix_spawn_file_actions_adddup2(actions.get(), out_pipe.write_end.get(), 1);
  ::posix_spawn_file_actions_adddup2(actions.get(), err_pipe.write_end.get(), 2);

  std::vector<char*> cargv;
  cargv.reserve(argv.size() + 1);
  for (const auto& arg : argv) {
    cargv.push_back(const_cast<char*>(arg.c_str())); // posix_spawn's signature is not const-correct
  }
  cargv.push_back(nullptr);

  pid_t pid = 0;
  const int spawn_error =
      ::posix_spawnp(&pid, program.c_str(), actions.get(), nullptr, cargv.data(), environ);
  if (spawn_error != 0) {
    return unexpected("cannot run '" + program + "': " + errno_text(spawn_error));
  }
  out_pipe.write_end.reset();
  err_pipe.write_end.reset();

  ProcessResult result;
  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  bool out_open = true;
  bool err_open = true;
  while (out_open || err_open) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ::kill(pid, SIGKILL);
      wait_child(pid);
      return unexpected("'" + program + "' did not finish within " +
                        std::to_string(options.timeout.count()) + " ms and was killed");
    }
    std::array<pollfd, 2> fds{pollfd{out_open ? out_pipe.read_end.get() : -1, POLLIN, 0},
                              pollfd{err_open ? err_pipe.read_end.get() : -1, POLLIN, 0}};
    const int ready = ::poll(fds.data(), fds.size(), static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) {
      ::kill(pid, SIGKILL);
      wait_child(pid);
      return unexpected("waiting for '" + program + "': poll: " + errno_text(errno));
    }
    if (ready <= 0) {
      continue;
    }
    if (out_open && fds[0].revents != 0) {
      out_open = drain(out_pipe.read_end.get(), result.out, options.max_output);
    }
    if (err_open && fds[1].revents != 0) {
      err_open = drain(err_pipe.read_end.get(), result.err, options.max_output);
    }
  }
  // Both pipes are closed; a child that closed them but keeps running still
  // has to respect the deadline.
  for (;;) {
    int status = 0;
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      if (WIFSIGNALED(status)) {
        result.signaled = true;
        result.exit_status = 128 + WTERMSIG(status);
      } else {
        result.exit_status = WEXITSTATUS(status);
      }
      return result;
    }
    if (done < 0 && errno != EINTR) {
      return unexpected("waiting for '" + program + "': " + errno_text(errno));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      wait_child(pid);
      return unexpected("'" + program + "' did not finish within " +
                        std::to_string(options.timeout.count()) + " ms and was killed");
    }
    ::usleep(2000);
  }
}

namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// "sh -c SCRIPT" written by the user: keep SCRIPT as one argument.
bool split_shell_form(std::string_view text, std::vector<std::string>& argv) {
  for (std::string_view shell : {std::string_view("sh"), std::string_view("bash")}) {
    const std::string prefix = std::string(shell) + " -c ";
    if (text.substr(0, prefix.size()) != prefix) {
      continue;
    }
    std::string_view script = text.substr(prefix.size());
    while (!script.empty() && is_blank(script.front())) {
      script.remove_prefix(1);
    }
    while (!script.empty() && is_blank(script.back())) {
      script.remove_suffix(1);
    }
    if (script.size() >= 2 && (script.front() == '\'' || script.front() == '"') &&
        script.back() == script.front() &&
        script.substr(1, script.size() - 2).find(script.front()) == std::string_view::npos) {
      script = script.substr(1, script.size() - 2);
    }
    argv = {std::string(shell), "-c", std::string(script)};
    return true;
  }
  return false;
}

} // namespace

Expected<std::vector<std::string>, std::string> split_command(std::string_view text) {
  std::vector<std::string> argv;
  if (split_shell_form(text, argv)) {
    if (argv.back().empty()) {
      return unexpected(std::string("empty script after '") + argv.front() + " -c'");
    }
    return argv;
  }
  std::string word;
  bool in_word = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (is_blank(c)) {
      if (in_word) {
        argv.push_back(std::move(word));
        word.clear();
        in_word = false;
      }
      continue;
    }
    in_word = true;
    if (c == '\\') {
      if (i + 1 >= text.size()) {
        return unexpected(std::string("trailing backslash"));
      }
      word.push_back(text[++i]);
    } else if (c == '\'') {
      const auto end = text.find('\'', i + 1);
      if (end == std::string_view::npos) {
        return unexpected("unterminated ' quote at character " + std::to_string(i + 1));
      }
      word.append(text.substr(i + 1, end - i - 1));
      i = end;
    } else if (c == '"') {
      std::size_t j = i + 1;
      for (; j < text.size() && text[j] != '"'; ++j) {
        if (text[j] == '\\' && j + 1 < text.size() &&
            std::string_view("\"\\$`").find(text[j + 1]) != std::string_view::npos) {
          ++j;
        }
        word.push_back(text[j]);
      }
      if (j >= text.size()) {
        return unexpected("unterminated \" quote at character " + std::to_string(i + 1));
      }
      i = j;
    } else {
      word.push_back(c);
    }
  }
  if (in_word) {
    argv.push_back(std::move(word));
  }
  if (argv.empty()) {
    return unexpected(std::string("empty command"));
  }
  return argv;
}

} // namespace uidsync::util
