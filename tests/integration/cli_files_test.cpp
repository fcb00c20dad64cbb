// SPDX-License-Identifier: GPL-3.0-or-later
// What the real binary leaves on disk and how it runs helpers: private modes under a
// permissive umask, password_cmd without a shell, and two runs of one account at
// once (the second exits 75 naming the first; nothing is corrupted).
#include "support/fake_account.hpp"
#include "support/fake_imap_server.hpp"
#include "support/sync_harness.hpp"
#include "support/table.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace uidsync::test {
namespace {

namespace fs = std::filesystem;

// Every path below `root` (and `root` itself) whose mode is not 0700 (directories)
// or 0600 (files), as "mode path".
std::vector<std::string> not_private(const fs::path& root) {
  std::vector<std::string> out;
  auto check = [&out](const fs::path& p) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) {
      out.push_back("missing " + p.string());
      return;
    }
    const unsigned mode = st.st_mode & 07777U;
    const unsigned want = S_ISDIR(st.st_mode) ? 0700U : 0600U;
    if (mode != want) {
      char text[8];
      std::snprintf(text, sizeof text, "%o", mode);
      out.push_back(std::string(text) + " " + p.string());
    }
  };
  check(root);
  if (fs::is_directory(root)) {
    for (const auto& e : fs::recursive_directory_iterator(root)) {
      check(e.path());
    }
  }
  return out;
}

struct UmaskRow {
  std::string name;
  mode_t umask;
};

const UmaskRow k_umask_rows[] = {{"Umask022", 022}, {"Umask000", 0}, {"Umask077", 077}};

class CliFileModes : public ::testing::TestWithParam<UmaskRow> {};

TEST_P(CliFileModes, MailStateAndTraceArePrivate) {
  // A nested folder, a quarantined UID (evidence file) and a trace file.
  FakeImapServer server(inline_scenario("user alice secret\ncapabilities UIDPLUS\n"
                                        "folder INBOX uidvalidity=5\ngenerate 6 start=1\nno 4\n"
                                        "folder Sub/Deep uidvalidity=7\ngenerate 2\n"));
  FakeAccountOptions options;
  options.maildir_rel = "home/Mail";
  FakeAccount account(server.port(), options);
  const auto trace = account.dir() / "trace.txt";
  ChildOptions child;
  child.umask = GetParam().umask;
  const auto r = account.run({"sync", "--trace", trace.string()}, child);
  ASSERT_EQ(r.status, 3) << r.err; // 3: completed with a quarantined message
  ASSERT_TRUE(fs::exists(account.state() / "evidence")) << r.err;
  ASSERT_EQ(account.inbox_uids().size(), 5u) << r.err;
  EXPECT_EQ(not_private(account.dir() / "home"), std::vector<std::string>{});
  EXPECT_EQ(not_private(account.state()), std::vector<std::string>{});
  EXPECT_EQ(not_private(trace), std::vector<std::string>{});
}

INSTANTIATE_TEST_SUITE_P(Rows, CliFileModes, ::testing::ValuesIn(k_umask_rows), RowName{});

struct PasswordCmdRow {
  std::string name;
  std::string password_cmd; // a TOML string; PWNED stands for the marker file's path
  int status;               // 0: logged in; 1: the (mangled) password was refused
};

// A shell would run the `touch` in the first four; without one they are arguments
// (and the password printf prints is wrong). The last one asks for a shell.
const PasswordCmdRow k_password_cmd_rows[] = {
    {"Semicolon", "printf %s secret; touch PWNED", 1},
    {"CommandSubstitution", "printf %s secret$(touch PWNED)", 1},
    {"Backticks", "printf %s secret`touch PWNED`", 1},
    {"Pipe", "printf %s secret | tee PWNED", 1},
    {"AndAnd", "printf %s secret && touch PWNED", 1},
    {"ExplicitShell", "sh -c 'printf %s secret; touch PWNED'", 0},
};

class CliPasswordCmd : public ::testing::TestWithParam<PasswordCmdRow> {};

TEST_P(CliPasswordCmd, RunsWithoutAShellUnlessAsked) {
  const auto& row = GetParam();
  FakeImapServer server(inline_scenario("user alice secret\nfolder INBOX uidvalidity=5\ngenerate 2\n"));
  TempDir scratch;
  const auto pwned = scratch.path() / "pwned";
  std::string cmd = row.password_cmd;
  cmd.replace(cmd.find("PWNED"), 5, pwned.string());
  FakeAccountOptions options;
  options.password_cmd = "\"" + cmd + "\"";
  FakeAccount account(server.port(), options);
  const auto r = account.run({"sync"});
  EXPECT_EQ(r.status, row.status) << r.err;
  EXPECT_EQ(fs::exists(pwned), row.status == 0) << "a shell ran: " << cmd;
}

INSTANTIATE_TEST_SUITE_P(Rows, CliPasswordCmd, ::testing::ValuesIn(k_password_cmd_rows), RowName{});

TEST(CliConcurrency, SecondRunExitsTempfailAndFirstCompletes) {
  // 1000 messages keep the first run busy for seconds, long enough for the second
  // to start (it reaches the lock within a fraction of a second).
  constexpr std::uint32_t k_messages = 1000;
  FakeImapServer server(inline_scenario("user alice secret\ncapabilities UIDPLUS\n"
                                        "folder INBOX uidvalidity=5\ngenerate " +
                                        std::to_string(k_messages) + " start=1 size=1000..4000\n"));
  FakeAccountOptions options;
  options.extra = "max_connections = 1\n";
  FakeAccount account(server.port(), options);
  ChildOptions slow;
  slow.timeout = std::chrono::seconds(240);
  auto first = account.start({"sync"}, slow);
  // The lock is taken before the first connection, so a connection means it is held.
  for (int i = 0; i < 2000 && server.connections_accepted() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(server.connections_accepted(), 1);
  const auto second = account.run({"sync"});
  const bool first_still_running = !first->exited();
  const pid_t first_pid = first->pid();
  const auto done = first->wait();
  EXPECT_TRUE(first_still_running) << "the first run ended before the second started; make it slower";
  EXPECT_EQ(second.status, 75) << second.err;
  EXPECT_NE(second.err.find("pid " + std::to_string(first_pid)), std::string::npos) << second.err;
  EXPECT_EQ(server.connections_accepted(), 1) << "the second run must not connect";
  ASSERT_EQ(done.status, 0) << done.err;
  // Verifier: the Maildir holds each server UID exactly once.
  std::vector<std::uint32_t> expected;
  for (std::uint32_t uid = 1; uid <= k_messages; ++uid) {
    expected.push_back(uid);
  }
  EXPECT_EQ(account.inbox_uids(), expected);
  // And a third run finds nothing to do.
  const auto again = account.run({"sync"}, slow);
  EXPECT_EQ(again.status, 0) << again.err;
  EXPECT_EQ(account.inbox_uids(), expected);
}

} // namespace
} // namespace uidsync::test
