// SPDX-License-Identifier: GPL-3.0-or-later
// AccountLock on POSIX record locks (fcntl F_SETLK / F_GETLK).
#include <uidsync/util/lock.hpp>
#include <uidsync/util/log.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <set>
#include <utility>

namespace uidsync::util {

namespace {

// fcntl locks belong to the process: a second F_SETLK from this process would
// succeed, and closing any descriptor of the file would drop the lock. So the
// files this process holds are tracked by (device, inode).
std::mutex g_held_mutex;
std::set<std::pair<dev_t, ino_t>> g_held;

std::pair<dev_t, ino_t> identity(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return {0, 0};
  }
  return {st.st_dev, st.st_ino};
}

flock whole_file(short type) {
  flock fl{};
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = 0;
  fl.l_len = 0;
  return fl;
}

LockError held_by(const std::filesystem::path& path, pid_t pid) {
  std::string who = pid > 0 ? "pid " + std::to_string(pid) : "another process";
  return LockError{LockError::Kind::held, pid,
                   "account lock " + path.string() + " is held by " + who +
                       " (another uidsync run for this account); try again when it ends"};
}

LockError io_error(const std::filesystem::path& path, std::string_view what, int err) {
  return LockError{LockError::Kind::io, 0,
                   "account lock " + path.string() + ": " + std::string(what) + ": " +
                       std::strerror(err)};
}

} // namespace

Expected<AccountLock, LockError> AccountLock::acquire(const std::filesystem::path& path) {
  {
    // Checked before open(): opening and closing a second descriptor of a file
    // this process has locked would release that lock.
    struct stat st {};
    std::lock_guard guard(g_held_mutex);
    if (::stat(path.c_str(), &st) == 0 && g_held.count({st.st_dev, st.st_ino}) != 0) {
      return unexpected(held_by(path, ::getpid()));
    }
  }
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return unexpected(io_error(path, "cannot open", errno));
  }
  const auto id = identity(fd);
  for (int attempt = 0; attempt < 3; ++attempt) {
    flock fl = whole_file(F_WRLCK);
    if (::fcntl(fd, F_SETLK, &fl) == 0) {
      std::lock_guard guard(g_held_mutex);
      g_held.insert(id);
      // The pid in the file is for people; F_GETLK is authoritative, so the lock
      // stands even when this write fails.
      const std::string pid_line = std::to_string(::getpid()) + "\n";
      const bool written =
          ::ftruncate(fd, 0) == 0 && ::pwrite(fd, pid_line.data(), pid_line.size(), 0) ==
                                         static_cast<ssize_t>(pid_line.size());
      if (!written) {
        logger("util")->debug("account lock {}: cannot write the pid: {}", path.string(),
                              std::strerror(errno));
      }
      return AccountLock(fd, path);
    }
    const int err = errno;
    if (err != EACCES && err != EAGAIN) {
      ::close(fd);
      return unexpected(io_error(path, "cannot lock", err));
    }
    flock probe = whole_file(F_WRLCK);
    if (::fcntl(fd, F_GETLK, &probe) != 0) {
      const int probe_err = errno;
      ::close(fd);
      return unexpected(io_error(path, "cannot query lock", probe_err));
    }
    if (probe.l_type != F_UNLCK) {
      ::close(fd);
      return unexpected(held_by(path, probe.l_pid));
    }
    // The holder let go between F_SETLK and F_GETLK: try again.
  }
  ::close(fd);
  return unexpected(held_by(path, 0));
}

AccountLock::AccountLock(AccountLock&& other) noexcept
    : m_fd(std::exchange(other.m_fd, -1)), m_path(std::move(other.m_path)) {}

AccountLock& AccountLock::operator=(AccountLock&& other) noexcept {
  if (this != &other) {
    release();
    m_fd = std::exchange(other.m_fd, -1);
    m_path = std::move(other.m_path);
  }
  return *this;
}

AccountLock::~AccountLock() {
  release();
}

void AccountLock::release() {
  if (m_fd < 0) {
    return;
  }
  {
    std::lock_guard guard(g_held_mutex);
    g_held.erase(identity(m_fd));
  }
  ::close(m_fd); // closing the descriptor releases the record lock
  m_fd = -1;
}

} // namespace uidsync::util
