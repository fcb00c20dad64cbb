// SPDX-License-Identifier: GPL-3.0-or-later
// AccountLock between real processes: conflicts name the holder, dead holders
// never block.
#include "support/table.hpp"
#include "support/temp_dir.hpp"

#include <uidsync/util/lock.hpp>

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <string>

namespace uidsync::util {
namespace {

// A child process that takes the lock, reports it, and holds it until told to
// exit (or exits at once, leaving the file behind, with `exit_at_once`).
class Holder {
public:
  Holder(const std::filesystem::path& path, bool exit_at_once) {
    EXPECT_EQ(::pipe(m_ready.data()), 0);
    EXPECT_EQ(::pipe(m_done.data()), 0);
    m_pid = ::fork();
    if (m_pid == 0) {
      auto lock = AccountLock::acquire(path);
      const char ok = lock.has_value() ? 'y' : 'n';
      (void)!::write(m_ready[1], &ok, 1);
      if (!exit_at_once) {
        char go = 0;
        (void)!::read(m_done[0], &go, 1);
      }
      ::_exit(0); // no destructors: the lock dies with the process
    }
    char ok = 0;
    EXPECT_EQ(::read(m_ready[0], &ok, 1), 1);
    m_locked = ok == 'y';
  }
  Holder(const Holder&) = delete;
  Holder& operator=(const Holder&) = delete;
  ~Holder() {
    release();
    for (int fd : {m_ready[0], m_ready[1], m_done[0], m_done[1]}) {
      ::close(fd);
    }
  }

  void release() {
    if (m_pid > 0) {
      (void)!::write(m_done[1], "x", 1);
      int status = 0;
      ::waitpid(m_pid, &status, 0);
      m_pid = -1;
    }
  }
  pid_t pid() const { return m_pid; }
  bool locked() const { return m_locked; }

private:
  std::array<int, 2> m_ready{-1, -1};
  std::array<int, 2> m_done{-1, -1};
  pid_t m_pid = -1;
  bool m_locked = false;
};

TEST(LockAccount, SecondProcessGetsTheHoldersPid) {
  test::TempDir tmp;
  const auto path = tmp / "work.lock";
  Holder holder(path, false);
  ASSERT_TRUE(holder.locked());
  const pid_t holder_pid = holder.pid();

  const auto conflict = AccountLock::acquire(path);
  ASSERT_FALSE(conflict.has_value());
  EXPECT_EQ(conflict.error().kind, LockError::Kind::held);
  EXPECT_EQ(conflict.error().holder, holder_pid);
  EXPECT_NE(conflict.error().message.find("account lock " + path.string() + " is held by pid " +
                                          std::to_string(holder_pid)),
            std::string::npos)
      << conflict.error().message;
  EXPECT_EQ(test::read_file(path), std::to_string(holder_pid) + "\n");

  holder.release();
  const auto after = AccountLock::acquire(path);
  ASSERT_TRUE(after.has_value()) << after.error().message;
  EXPECT_EQ(test::read_file(path), std::to_string(::getpid()) + "\n");
}

TEST(LockAccount, HolderThatDiedNeverBlocks) {
  test::TempDir tmp;
  const auto path = tmp / "work.lock";
  Holder crashed(path, true);
  ASSERT_TRUE(crashed.locked());
  crashed.release();
  ASSERT_TRUE(std::filesystem::exists(path)) << "the dead run leaves its file behind";
  const auto lock = AccountLock::acquire(path);
  ASSERT_TRUE(lock.has_value()) << lock.error().message;
}

struct StaleRow {
  std::string name;
  std::string content;
};

void PrintTo(const StaleRow& row, std::ostream* os) {
  *os << row.name;
}

class LockAccountStaleFile : public ::testing::TestWithParam<StaleRow> {};

TEST_P(LockAccountStaleFile, ContentIsNeverTrusted) {
  test::TempDir tmp;
  const auto path = tmp / "work.lock";
  test::write_file(path, GetParam().content);
  const auto lock = AccountLock::acquire(path);
  ASSERT_TRUE(lock.has_value()) << lock.error().message;
  EXPECT_EQ(test::read_file(path), std::to_string(::getpid()) + "\n");
}

INSTANTIATE_TEST_SUITE_P(Rows, LockAccountStaleFile,
                         ::testing::Values(StaleRow{"empty", ""},
                                           StaleRow{"live_pid_of_init", "1\n"},
                                           StaleRow{"dead_pid", "4194303\n"},
                                           StaleRow{"garbage", "not a pid, and a long line\n"}),
                         test::RowName{});

TEST(LockAccount, SameProcessTwiceIsAConflictAndKeepsTheLock) {
  test::TempDir tmp;
  const auto path = tmp / "work.lock";
  auto first = AccountLock::acquire(path);
  ASSERT_TRUE(first.has_value()) << first.error().message;
  const auto second = AccountLock::acquire(path);
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().holder, ::getpid());

  // The failed attempt must not have dropped the kernel lock: another process
  // still sees it held by us.
  Holder other(path, true);
  EXPECT_FALSE(other.locked());
}

TEST(LockAccount, ReleasedOnDestructionAndMove) {
  test::TempDir tmp;
  const auto path = tmp / "work.lock";
  {
    auto lock = AccountLock::acquire(path);
    ASSERT_TRUE(lock.has_value());
    AccountLock moved = std::move(*lock);
    EXPECT_EQ(moved.path(), path);
    Holder while_held(path, true);
    EXPECT_FALSE(while_held.locked());
  }
  Holder after(path, true);
  EXPECT_TRUE(after.locked());
}

TEST(LockAccount, MissingDirectoryIsAnIoError) {
  test::TempDir tmp;
  const auto lock = AccountLock::acquire(tmp / "absent/work.lock");
  ASSERT_FALSE(lock.has_value());
  EXPECT_EQ(lock.error().kind, LockError::Kind::io);
  EXPECT_NE(lock.error().message.find("cannot open: No such file or directory"), std::string::npos)
      << lock.error().message;
}

} // namespace
} // namespace uidsync::util
