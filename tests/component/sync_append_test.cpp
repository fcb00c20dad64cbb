// SPDX-License-Identifier: GPL-3.0-or-later
// `uidsync sync` uploading new local mail to the fake IMAP server: each new file
// reaches the server exactly once, byte for byte, with its flags, with and without
// UIDPLUS and with and without a Message-ID; a run killed after any step of an
// upload is resumed without a second copy; a refused APPEND costs only its message;
// a pull account writes nothing to the server.
#include "support/crash_step.hpp"
#include "support/fake_imap_server.hpp"
#include "support/table.hpp"
#include "support/temp_dir.hpp"

#include <uidsync/core/error.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace uidsync::test {
namespace {

namespace fs = std::filesystem;

// 03-Jan-2024 09:00:00 UTC: the mtime of the dropped files, so the date the
// server gets (INTERNALDATE) is known.
constexpr std::time_t k_mtime = 1704272400;

// A new local message as a mail client writes it (LF line ends, which must reach
// the server unchanged).
std::string new_message(const std::string& id, bool with_message_id) {
  return "From: Carol <carol@example.org>\nTo: alice@example.org\nSubject: draft " + id + "\n" +
         (with_message_id ? "Message-ID: <" + id + "@example.org>\n" : std::string()) +
         "Date: Wed, 03 Jan 2024 09:00:00 +0000\n\nwritten locally: " + id + "\n";
}

// The server-side messages of INBOX whose bytes are `bytes`.
std::vector<FakeMessage> copies_on_server(const FakeImapServer& server, const std::string& bytes) {
  std::vector<FakeMessage> out;
  const World world = server.world();
  for (const auto& m : world.folders.at("INBOX").messages) {
    if (m->body == bytes) {
      out.push_back(*m);
    }
  }
  return out;
}

// The local file names ("cur/…", "new/…") of INBOX whose bytes are `bytes`.
std::vector<std::string> local_copies(const fs::path& inbox, const std::string& bytes) {
  std::vector<std::string> out;
  for (const char* sub : {"cur", "new"}) {
    for (const auto& e : fs::directory_iterator(inbox / sub)) {
      if (read_file(e.path()) == bytes) {
        out.push_back(std::string(sub) + "/" + e.path().filename().string());
      }
    }
  }
  return out;
}

// A fake server with one old message in INBOX, an account for it, and the binary.
class SyncAppend {
public:
  SyncAppend(const std::string& capabilities, const std::string& extra_scenario = {},
             const std::string& direction = "two-way") {
    const std::string text = "user alice secret\ncapabilities " + capabilities +
                             "\nfolder INBOX uidvalidity=77\nmessage 1 flags=\\Seen inline\n"
                             "Message-ID: <old-1@example.org>\nSubject: old\n\nold one\n.\n" +
                             extra_scenario;
    auto scenario = parse_scenario(text, "append.scn", m_dir);
    if (!scenario) {
      throw core::Failure(scenario.error());
    }
    m_server = std::make_unique<FakeImapServer>(std::move(*scenario));
    std::ofstream(m_dir / "password") << "secret\n";
    std::ofstream(m_dir / "config.toml")
        << "[general]\nstate_dir = \"" << (m_dir / "state").string()
        << "\"\n\n[accounts.fake]\nhost = \"127.0.0.1\"\nport = " << m_server->port()
        << "\ntls = \"none\"\nallow_plaintext = true\nuser = \"alice\"\n"
        << "password_cmd = [\"cat\", \"" << (m_dir / "password").string() << "\"]\nmaildir = \""
        << (m_dir / "Mail").string() << "\"\nfolders = [\"INBOX\"]\ndirection = \"" << direction
        << "\"\n";
  }

  CommandResult sync(int crash_after = 0, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv{UIDSYNC_BINARY, "-c", (m_dir / "config.toml").string(), "sync",
                                  "-v"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run_crashing_after(argv, crash_after);
  }

  fs::path inbox() const { return m_dir / "Mail" / "INBOX"; }

  // Writes `bytes` as a new file (no ",U=") in `sub` ("cur" or "new") with `info`.
  std::string drop(const std::string& sub, const std::string& base, const std::string& bytes,
                   const std::string& info = ":2,") {
    const std::string name = sub + "/" + base + (sub == "new" ? "" : info);
    write_file(inbox() / name, bytes);
    const timespec times[2] = {{k_mtime, 0}, {k_mtime, 0}};
    ::utimensat(AT_FDCWD, (inbox() / name).c_str(), times, 0);
    return name;
  }

  TempDir m_temp;
  fs::path m_dir = m_temp.path();
  std::unique_ptr<FakeImapServer> m_server;
};

// A row for the suites that differ only by the server's capabilities.
struct ServerRow {
  std::string name;
  std::string capabilities;
};

// ---------------------------------------------------------------------------
// New files are uploaded once, with their bytes and flags.

class SyncAppendUpload : public ::testing::TestWithParam<ServerRow> {};

TEST_P(SyncAppendUpload, NewFilesReachTheServerOnceWithBytesAndFlags) {
  const auto& row = GetParam();
  SyncAppend world(row.capabilities);
  auto first = world.sync();
  ASSERT_EQ(first.status, 0) << first.output;

  const auto with_id = new_message("with-id", true);
  const auto without_id = new_message("no-id", false);
  world.drop("cur", "1700000100.local1.host", with_id, ":2,FS");
  world.drop("new", "1700000101.local2.host", without_id);
  auto second = world.sync();
  ASSERT_EQ(second.status, 0) << second.output;

  const std::map<std::string, std::set<std::string>> expected_flags{
      {with_id, {"\\Flagged", "\\Seen"}}, {without_id, {}}};
  for (const auto& [bytes, flags] : expected_flags) {
    const auto server = copies_on_server(*world.m_server, bytes);
    ASSERT_EQ(server.size(), 1u) << bytes << second.output << world.m_server->transcript();
    EXPECT_EQ(server[0].flags, flags) << bytes;
    EXPECT_EQ(server[0].internaldate, "03-Jan-2024 09:00:00 +0000") << "the file's mtime";
    EXPECT_GT(server[0].uid, 1u);
    const auto local = local_copies(world.inbox(), bytes);
    ASSERT_EQ(local.size(), 1u) << bytes;
    EXPECT_NE(local[0].find(",U=" + std::to_string(server[0].uid) + ":2,"), std::string::npos)
        << local[0];
  }
  const int appends = world.m_server->commands("APPEND");
  EXPECT_EQ(appends, 2);

  // A third run uploads and fetches nothing.
  auto third = world.sync();
  ASSERT_EQ(third.status, 0) << third.output;
  EXPECT_EQ(world.m_server->commands("APPEND"), appends);
  EXPECT_EQ(world.m_server->world().folders.at("INBOX").messages.size(), 3u);
  EXPECT_NE(third.output.find("0 new, 0 flags, 0 deleted"), std::string::npos) << third.output;
}

INSTANTIATE_TEST_SUITE_P(Rows, SyncAppendUpload,
                         ::testing::Values(ServerRow{"uidplus_literal_plus", "UIDPLUS LITERAL+"},
                                           ServerRow{"uidplus_synchronizing_literals", "UIDPLUS"},
                                           ServerRow{"no_uidplus", "none"},
                                           ServerRow{"no_uidplus_with_esearch",
                                                     "ESEARCH LITERAL+"}),
                         RowName{});

// ---------------------------------------------------------------------------
// A run killed after each step of an upload, then resumed: one copy.

struct CrashRow {
  std::string name;
  std::string capabilities;
  bool with_message_id = true;
  int step = 1; // 1 journal, 2 APPEND answered, 3 renamed, 4 state row, 5 journal closed
  int appends_at_crash = 0; // APPEND commands the server got before the crash
};

class SyncAppendCrash : public ::testing::TestWithParam<CrashRow> {};

TEST_P(SyncAppendCrash, ResumedRunLeavesExactlyOneCopy) {
  const auto& row = GetParam();
  SyncAppend world(row.capabilities);
  ASSERT_EQ(world.sync().status, 0);
  const auto bytes = new_message("crash", row.with_message_id);
  world.drop("cur", "1700000200.crash.host", bytes, ":2,S");

  const auto crashed = world.sync(row.step);
  ASSERT_EQ(crashed.status, k_crash_exit) << "the crash hook must end the run: " << crashed.output;
  EXPECT_EQ(world.m_server->commands("APPEND"), row.appends_at_crash)
      << world.m_server->transcript();

  const auto resumed = world.sync();
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  const auto server = copies_on_server(*world.m_server, bytes);
  ASSERT_EQ(server.size(), 1u) << resumed.output << world.m_server->transcript();
  EXPECT_EQ(server[0].flags, std::set<std::string>{"\\Seen"});
  const auto local = local_copies(world.inbox(), bytes);
  ASSERT_EQ(local.size(), 1u) << resumed.output;
  EXPECT_NE(local[0].find(",U=" + std::to_string(server[0].uid) + ":2,S"), std::string::npos)
      << local[0];
  EXPECT_EQ(world.m_server->commands("APPEND"), 1);

  // Settled: the next run changes nothing on either side.
  const auto again = world.sync();
  ASSERT_EQ(again.status, 0) << again.output;
  EXPECT_EQ(world.m_server->commands("APPEND"), 1);
  EXPECT_EQ(local_copies(world.inbox(), bytes), local);
  EXPECT_NE(again.output.find("0 new, 0 flags, 0 deleted"), std::string::npos) << again.output;
}

// `server` names the rows, `capabilities` are the fake server's.
std::vector<CrashRow> crash_rows(const std::string& server, const std::string& capabilities,
                                 bool with_id) {
  std::vector<CrashRow> rows;
  for (int step = 1; step <= 5; ++step) {
    rows.push_back(
        {server + (with_id ? "_message_id" : "_no_message_id") + "_step" + std::to_string(step),
         capabilities, with_id, step, step == 1 ? 0 : 1});
  }
  return rows;
}

// One ctest test per server kind and Message-ID case (each row runs the binary
// four times), so that each stays well inside the time limit on a busy machine.
INSTANTIATE_TEST_SUITE_P(Uidplus, SyncAppendCrash,
                         ::testing::ValuesIn(crash_rows("uidplus", "UIDPLUS LITERAL+", true)),
                         RowName{});
INSTANTIATE_TEST_SUITE_P(UidplusNoId, SyncAppendCrash,
                         ::testing::ValuesIn(crash_rows("uidplus", "UIDPLUS LITERAL+", false)),
                         RowName{});
INSTANTIATE_TEST_SUITE_P(NoUidplus, SyncAppendCrash,
                         ::testing::ValuesIn(crash_rows("no_uidplus", "none", true)), RowName{});
INSTANTIATE_TEST_SUITE_P(NoUidplusNoId, SyncAppendCrash,
                         ::testing::ValuesIn(crash_rows("no_uidplus", "none", false)), RowName{});

// ---------------------------------------------------------------------------
// A refused APPEND (over quota) is the message's problem only.

class SyncAppendRefused : public ::testing::TestWithParam<ServerRow> {};

TEST_P(SyncAppendRefused, OtherFilesAreStillUploaded) {
  const auto& row = GetParam();
  // The first APPEND of each connection is refused, as a full mailbox would.
  SyncAppend world(row.capabilities,
                   "raw APPEND instead once text=${tag} NO [OVERQUOTA] Quota exceeded (mailbox "
                   "for user is full)\\r\\n\n");
  ASSERT_EQ(world.sync().status, 0);
  const auto refused = new_message("refused", true);
  const auto accepted = new_message("accepted", true);
  const auto refused_name = world.drop("cur", "1700000300.a.host", refused, ":2,S");
  world.drop("cur", "1700000301.b.host", accepted, ":2,S");

  const auto r = world.sync();
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("1700000300.a.host"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Quota exceeded"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("1 failed"), std::string::npos) << r.output;
  EXPECT_TRUE(copies_on_server(*world.m_server, refused).empty());
  EXPECT_EQ(local_copies(world.inbox(), refused), std::vector<std::string>{refused_name})
      << "kept as it was, for the next run";
  ASSERT_EQ(copies_on_server(*world.m_server, accepted).size(), 1u) << r.output;
  const auto local = local_copies(world.inbox(), accepted);
  ASSERT_EQ(local.size(), 1u);
  EXPECT_NE(local[0].find(",U="), std::string::npos) << local[0];
}

INSTANTIATE_TEST_SUITE_P(Rows, SyncAppendRefused,
                         ::testing::Values(ServerRow{"uidplus", "UIDPLUS LITERAL+"},
                                           ServerRow{"no_uidplus", "none"}),
                         RowName{});

// ---------------------------------------------------------------------------
// direction = "pull" never writes to the server.

class SyncAppendPull : public ::testing::TestWithParam<ServerRow> {};

TEST_P(SyncAppendPull, NeverSendsAppendStoreExpungeOrCreate) {
  const auto& row = GetParam();
  SyncAppend world(row.capabilities, "message 2 size=700\nmessage 3 size=800\n", "pull");
  ASSERT_EQ(world.sync().status, 0);
  // Every kind of local change a two-way sync would push: a new file, a flag
  // change, a deleted file.
  world.drop("cur", "1700000400.pull.host", new_message("pull", true), ":2,S");
  std::vector<fs::path> paired; // UID 1 (\Seen) in cur/, UIDs 2 and 3 in new/
  for (const char* sub : {"cur", "new"}) {
    for (const auto& e : fs::directory_iterator(world.inbox() / sub)) {
      if (e.path().filename().string().find(",U=") != std::string::npos) {
        paired.push_back(e.path());
      }
    }
  }
  ASSERT_EQ(paired.size(), 3u);
  ASSERT_EQ(paired[0].parent_path().filename(), "cur");
  fs::rename(paired[0], paired[0].string() + "F");
  fs::remove(paired[1]);

  const auto trace = world.m_dir / "trace.txt";
  const auto r = world.sync(0, {"--trace", trace.string()});
  ASSERT_EQ(r.status, 0) << r.output;
  const auto text = read_file(trace);
  ASSERT_NE(text.find("SELECT"), std::string::npos) << "the trace is written: " << text;
  for (const char* verb : {"APPEND", "STORE", "EXPUNGE", "CREATE"}) {
    EXPECT_EQ(world.m_server->commands(verb), 0) << verb;
    EXPECT_EQ(world.m_server->commands(std::string("UID ") + verb), 0) << verb;
    EXPECT_EQ(text.find(verb), std::string::npos) << verb << " in the trace:\n" << text;
  }
  EXPECT_EQ(world.m_server->world().folders.at("INBOX").messages.size(), 3u);
}

INSTANTIATE_TEST_SUITE_P(Rows, SyncAppendPull,
                         ::testing::Values(ServerRow{"uidplus", "UIDPLUS LITERAL+"},
                                           ServerRow{"no_uidplus", "none"}),
                         RowName{});

} // namespace
} // namespace uidsync::test
