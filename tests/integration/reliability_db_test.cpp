// SPDX-License-Identifier: GPL-3.0-or-later
// A damaged or locked state DB with the real binary and a real Dovecot: a clear
// error naming the file and what to do, nothing deleted on either side; then the
// documented rebuild path (move the DB aside, sync again) re-pairs the Maildir by
// its ,U= names without downloading a body again and without duplicates.
#include "support/reliability.hpp"
#include "support/sync_cli.hpp"
#include "support/table.hpp"
#include "support/temp_dir.hpp"

#include <uidsync/core/exit_code.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace uidsync::test {
namespace {

namespace fs = std::filesystem;

enum class Damage { truncated, garbage, empty, sqlite_write_lock, account_lock };

struct DbRow {
  std::string name;
  std::string folder;
  Damage damage;
  core::ExitCode exit;
  std::string names;     // the path the message must name: "db" or "lock"
  std::string says;      // part of what the message tells the user to do
};

// A second process holding a lock until the object goes away.
class Holder {
public:
  // Forks a child that runs `take` (returns false when it could not lock), tells
  // the parent, and then waits to be killed.
  template <class F>
  explicit Holder(F take) {
    int fds[2];
    if (::pipe(fds) != 0) {
      throw std::runtime_error("pipe() failed");
    }
    m_pid = ::fork();
    if (m_pid == 0) {
      ::close(fds[0]);
      const char ok = take() ? '1' : '0';
      (void)!::write(fds[1], &ok, 1);
      for (;;) {
        ::pause();
      }
    }
    ::close(fds[1]);
    char ok = '0';
    (void)!::read(fds[0], &ok, 1);
    ::close(fds[0]);
    m_locked = ok == '1';
  }
  ~Holder() {
    ::kill(m_pid, SIGKILL);
    ::waitpid(m_pid, nullptr, 0);
  }
  Holder(const Holder&) = delete;
  Holder& operator=(const Holder&) = delete;
  bool locked() const { return m_locked; }

private:
  pid_t m_pid = -1;
  bool m_locked = false;
};

// A write transaction on the DB at `path`, held open (SQLite's own file locks).
bool hold_write_transaction(const fs::path& path) {
  sqlite3* db = nullptr;
  return sqlite3_open(path.c_str(), &db) == SQLITE_OK &&
         sqlite3_exec(db, "BEGIN IMMEDIATE; UPDATE folder SET last_sync = last_sync;", nullptr,
                      nullptr, nullptr) == SQLITE_OK;
}

// The account lock as a running sync holds it (a POSIX record lock on the file).
bool hold_account_lock(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  struct flock lock {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  return fd >= 0 && ::fcntl(fd, F_SETLK, &lock) == 0;
}

class ReliabilityDb : public DovecotSuite, public ::testing::WithParamInterface<DbRow> {
protected:
  TempDir m_temp;
};

TEST_P(ReliabilityDb, ClearErrorNothingDeletedAndRebuildWithoutDownload) {
  const auto& row = GetParam();
  std::mt19937_64 rng(11);
  seed_folder(*s_dovecot, row.folder, corpus(row.folder, 20, 4000, rng), "S");
  AccountDir account(*s_dovecot, m_temp.path() / "acct", {row.folder});
  const auto first = account.run();
  ASSERT_EQ(first.status, 0) << first.output;
  const auto local_before = local_files(account.maildir() / row.folder);
  ASSERT_EQ(local_before.size(), 20u);
  const auto db = account.db();
  const auto size = fs::file_size(db);

  std::unique_ptr<Holder> holder;
  switch (row.damage) {
  case Damage::truncated:
    fs::resize_file(db, size / 2);
    break;
  case Damage::garbage: {
    std::fstream f(db, std::ios::in | std::ios::out | std::ios::binary);
    std::string junk(4096, '\0');
    for (auto& c : junk) {
      c = static_cast<char>(rng());
    }
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
    break;
  }
  case Damage::empty:
    fs::resize_file(db, 0);
    break;
  case Damage::sqlite_write_lock:
    holder = std::make_unique<Holder>([&] { return hold_write_transaction(db); });
    break;
  case Damage::account_lock:
    holder = std::make_unique<Holder>(
        [&] { return hold_account_lock(account.dir() / "state" / "rel.lock"); });
    break;
  }
  if (holder) {
    ASSERT_TRUE(holder->locked());
  }

  const auto damaged = account.run();
  EXPECT_EQ(damaged.status, core::to_int(row.exit)) << damaged.output;
  const auto named = row.names == "lock" ? (account.dir() / "state" / "rel.lock").string()
                                         : db.string();
  EXPECT_NE(damaged.output.find(named), std::string::npos) << damaged.output;
  EXPECT_NE(damaged.output.find(row.says), std::string::npos) << damaged.output;
  EXPECT_EQ(local_files(account.maildir() / row.folder), local_before) << "nothing deleted locally";
  EXPECT_EQ(server_messages(*s_dovecot, row.folder).size(), 20u) << "nothing deleted on the server";

  if (holder) {
    holder.reset();
  } else {
    // The documented rebuild path: move the DB aside and sync again.
    fs::rename(db, db.string() + ".broken");
    for (const char* side : {"-wal", "-shm"}) {
      fs::remove(db.string() + side);
    }
  }
  const auto trace = m_temp.path() / "trace.log";
  const auto rebuilt = account.run({"sync", "--trace", trace.string()});
  ASSERT_EQ(rebuilt.status, 0) << rebuilt.output;
  const auto transcript = read_file(trace);
  EXPECT_EQ(transcript.find("BODY.PEEK[]"), std::string::npos) << "no body downloaded again";
  EXPECT_EQ(transcript.find("BODY[]"), std::string::npos) << "no body downloaded again";
  EXPECT_EQ(local_files(account.maildir() / row.folder), local_before);
  const auto report = account.verify({row.folder});
  EXPECT_TRUE(report.clean()) << report.text();
  EXPECT_EQ(report.db_rows, 20u);
}

INSTANTIATE_TEST_SUITE_P(
    Damage, ReliabilityDb,
    ::testing::Values(
        DbRow{"truncated", "DbTruncated", Damage::truncated, core::ExitCode::failed, "db",
              "move it aside"},
        DbRow{"garbage", "DbGarbage", Damage::garbage, core::ExitCode::failed, "db",
              "move it aside"},
        DbRow{"empty", "DbEmpty", Damage::empty, core::ExitCode::failed, "db", "move it aside"},
        DbRow{"sqlite_write_lock", "DbLocked", Damage::sqlite_write_lock, core::ExitCode::failed,
              "db", "close the other program"},
        DbRow{"account_lock", "DbAccountLock", Damage::account_lock, core::ExitCode::tempfail,
              "lock", "pid"}),
    RowName{});

} // namespace
} // namespace uidsync::test
