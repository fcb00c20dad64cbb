// SPDX-License-Identifier: GPL-3.0-or-later
// AccountLock: one non-blocking fcntl(F_SETLK) write lock per account, so two runs
// never sync the same account at once.
#pragma once

#include <uidsync/util/expected.hpp>

#include <sys/types.h>

#include <filesystem>
#include <string>

namespace uidsync::util {

struct LockError {
  enum class Kind { held, io };
  Kind kind = Kind::io;
  // The process holding the lock (Kind::held), as the kernel reports it; 0 if it
  // could not be found out.
  pid_t holder = 0;
  // One line naming the lock file and, when held, the holder's pid.
  std::string message;
};

// The lock is the kernel's record lock on the file, not the file's existence: it
// dies with its process, so a file left behind by a crashed run never blocks. The
// file stays in place on release (removing it would race with a new run).
// The holder's pid is also written into the file, for people reading it.
class AccountLock {
public:
  // Opens (creating with mode 0600) and locks `path` without waiting. Fails with
  // Kind::held naming the holder's pid (from F_GETLK, which is authoritative)
  // when another process holds it, or when this process already holds it (fcntl
  // locks are per process, so this is tracked here); with Kind::io when the file
  // cannot be opened or locked. The directory must exist.
  static Expected<AccountLock, LockError> acquire(const std::filesystem::path& path);

  AccountLock(AccountLock&& other) noexcept;
  AccountLock& operator=(AccountLock&& other) noexcept;
  AccountLock(const AccountLock&) = delete;
  AccountLock& operator=(const AccountLock&) = delete;
  // Releases the lock.
  ~AccountLock();

  const std::filesystem::path& path() const { return m_path; }

private:
  AccountLock(int fd, std::filesystem::path path) : m_fd(fd), m_path(std::move(path)) {}
  void release();

  int m_fd = -1;
  std::filesystem::path m_path;
};

} // namespace uidsync::util
