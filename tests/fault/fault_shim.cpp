// SPDX-License-Identifier: GPL-3.0-or-later
// fault_shim: an LD_PRELOAD library that makes writes and syncs fail, for disk-full and I/O error tests.
//
// Environment (read once, at the first intercepted call):
//   UIDSYNC_FAULT_OP     "write" (write, pwrite, pwrite64, writev) or "fsync" (fsync,
//                        fdatasync, syncfs); nothing is injected when unset.
//   UIDSYNC_FAULT_ERRNO  "ENOSPC" (default) or "EIO".
//   UIDSYNC_FAULT_PATH   only calls on a file whose path contains this string count
//                        (the path comes from /proc/self/fd; writes count on regular
//                        files only, syncs on directories too); default: every file.
//   UIDSYNC_FAULT_AFTER  that many matching calls succeed; every later one fails,
//                        as a full disk stays full. Default 0.
// Each injected failure is reported on stderr once per file:
//   "fault_shim: <op> <path>: <errno name>".
#include <dlfcn.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

namespace {

enum class Op { none, write, fsync };

struct Config {
  Op op = Op::none;
  int error = ENOSPC;
  std::string path;
  long after = 0;
};

const Config& config() {
  static const Config c = [] {
    Config out;
    const char* op = std::getenv("UIDSYNC_FAULT_OP");
    if (op != nullptr && std::strcmp(op, "write") == 0) {
      out.op = Op::write;
    } else if (op != nullptr && std::strcmp(op, "fsync") == 0) {
      out.op = Op::fsync;
    }
    const char* err = std::getenv("UIDSYNC_FAULT_ERRNO");
    if (err != nullptr && std::strcmp(err, "EIO") == 0) {
      out.error = EIO;
    }
    if (const char* p = std::getenv("UIDSYNC_FAULT_PATH")) {
      out.path = p;
    }
    if (const char* a = std::getenv("UIDSYNC_FAULT_AFTER")) {
      out.after = std::strtol(a, nullptr, 10);
    }
    return out;
  }();
  return c;
}

std::atomic<long> g_matching_calls{0};
std::mutex g_report_mutex;
std::string g_last_reported;

// True (and errno set) when this call on `fd` must fail.
bool inject(Op op, int fd, const char* what) {
  const auto& c = config();
  if (c.op != op) {
    return false;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || (op == Op::write && !S_ISREG(st.st_mode))) {
    return false;
  }
  char link[64];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  char path[4096];
  const auto n = ::readlink(link, path, sizeof path - 1);
  if (n <= 0) {
    return false;
  }
  path[n] = '\0';
  if (!c.path.empty() && std::strstr(path, c.path.c_str()) == nullptr) {
    return false;
  }
  if (g_matching_calls.fetch_add(1) < c.after) {
    return false;
  }
  {
    std::lock_guard lock(g_report_mutex);
    if (g_last_reported != path) {
      g_last_reported = path;
      std::fprintf(stderr, "fault_shim: %s %s: %s\n", what, path,
                   c.error == EIO ? "EIO" : "ENOSPC");
    }
  }
  errno = c.error;
  return true;
}

template <class F>
F next(const char* name) {
  return reinterpret_cast<F>(::dlsym(RTLD_NEXT, name));
}

} // namespace

extern "C" {

ssize_t write(int fd, const void* buf, size_t count) {
  static const auto real = next<ssize_t (*)(int, const void*, size_t)>("write");
  return inject(Op::write, fd, "write") ? -1 : real(fd, buf, count);
}

ssize_t pwrite(int fd, const void* buf, size_t count, off_t offset) {
  static const auto real = next<ssize_t (*)(int, const void*, size_t, off_t)>("pwrite");
  return inject(Op::write, fd, "pwrite") ? -1 : real(fd, buf, count, offset);
}

ssize_t pwrite64(int fd, const void* buf, size_t count, off64_t offset) {
  static const auto real = next<ssize_t (*)(int, const void*, size_t, off64_t)>("pwrite64");
  return inject(Op::write, fd, "pwrite64") ? -1 : real(fd, buf, count, offset);
}

ssize_t writev(int fd, const struct iovec* iov, int iovcnt) {
  static const auto real = next<ssize_t (*)(int, const struct iovec*, int)>("writev");
  return inject(Op::write, fd, "writev") ? -1 : real(fd, iov, iovcnt);
}

int fsync(int fd) {
  static const auto real = next<int (*)(int)>("fsync");
  return inject(Op::fsync, fd, "fsync") ? -1 : real(fd);
}

int fdatasync(int fd) {
  static const auto real = next<int (*)(int)>("fdatasync");
  return inject(Op::fsync, fd, "fdatasync") ? -1 : real(fd);
}

int syncfs(int fd) {
  static const auto real = next<int (*)(int)>("syncfs");
  return inject(Op::fsync, fd, "syncfs") ? -1 : real(fd);
}

} // extern "C"
