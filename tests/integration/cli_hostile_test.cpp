// SPDX-License-Identifier: GPL-3.0-or-later
// `uidsync sync` (the real binary, ASan-built in CI) against hostile or broken servers
// scripted by tests/data/scenarios/hostile_*.scn: no crash, a documented exit code, a
// stderr line saying what happened, nothing written outside the Maildir and the state
// dir, and bounded memory (peak RSS of the child from wait4).
#include "support/fake_account.hpp"
#include "support/fake_imap_server.hpp"
#include "support/scenario.hpp"
#include "support/table.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

namespace uidsync::test {
namespace {

namespace fs = std::filesystem;

// Peak RSS allowed to a sync of a few small messages. The ASan build peaks at about
// 120 MiB on a healthy server (its shadow memory and quarantine); a client that
// believed `{99999999999}` or kept copies of a 10 MiB line would be far above.
constexpr long k_max_rss_kib = 200 * 1024;

struct HostileRow {
  std::string name;
  std::string scenario;                 // in tests/data/scenarios
  int status;                           // the documented exit code (core/exit_code.hpp)
  std::vector<std::string> stderr_has;  // each must appear in stderr
  int inbox_files = -1;                 // local INBOX messages afterwards; -1: not checked
  bool local_message = false;           // a new local message in INBOX/new (drives APPEND)
};

// Exit codes: 0 synced (warnings only), 1 the account failed (retried on the next
// run), 3 completed with anomalies to look at.
const std::vector<HostileRow> k_rows = {
    {"HugeLiteral", "hostile_huge_literal.scn", 1,
     {"account fake: folder INBOX: IMAP connection lost", "literal of 99999999999 bytes exceeds"}},
    {"LongLine", "hostile_long_line.scn", 1,
     {"account fake: folder INBOX: IMAP connection lost", "line longer than max_line_length"}},
    {"DeepNesting", "hostile_deep_nesting.scn", 0, {"nested deeper than max_list_depth (32)"}, 3},
    {"BadUtf8", "hostile_bad_utf8.scn", 0,
     {"server alert: caf\\xE9 \\xFF\\xFE broken \\xC3"}, 2},
    {"FolderNames", "hostile_folder_names.scn", 1,
     {"mailbox name \"bad\\xFF\\xFEutf8\" is not valid modified UTF-7",
      "mailbox name \"&Jjo\" is not valid modified UTF-7",
      "mailbox name \"&AGE-\" is not valid modified UTF-7",
      "mailbox name \"a\\x00b\" is not valid modified UTF-7",
      "mailbox name \"bell\\x07name\" is not valid modified UTF-7",
      "account fake: folder \"../../x\": unsafe name for a local directory",
      "account fake: folder \"/etc\": unsafe name for a local directory"},
     1},
    {"UnsolicitedFetch", "hostile_unsolicited.scn", 3,
     {"folder INBOX: server anomaly: UID 999999 is at or above UIDNEXT"}, 3},
    {"TagNeverSent", "hostile_unknown_tag.scn", 0,
     {"ignoring a completion for unknown tag zz99", "ignoring a completion for unknown tag zz98"}, 3},
    {"ByeAtGreeting", "hostile_bye_greeting.scn", 1,
     {"account fake: server 127.0.0.1:", "ended the session before the login finished: BYE Server shutting down"}},
    {"ByeAtCapability", "hostile_bye_capability.scn", 1,
     {"account fake: server 127.0.0.1:", "ended the session before the login finished: BYE Server shutting down"}},
    {"ByeAtAuthenticate", "hostile_bye_authenticate.scn", 1,
     {"account fake: server 127.0.0.1:", "ended the session before the login finished: BYE Server shutting down"}},
    {"ByeAfterLogin", "hostile_bye_after_login.scn", 1,
     {"account fake: IMAP connection lost: connection closed by the server 127.0.0.1:"}},
    {"ByeDuringList", "hostile_bye_list.scn", 1,
     {"account fake: IMAP connection lost: connection closed by the server 127.0.0.1:",
      "(server said: Server shutting down)"}},
    {"ByeDuringSelect", "hostile_bye_select.scn", 1,
     {"account fake: folder INBOX: IMAP connection lost: connection closed by the server",
      "(server said: Server shutting down)"}},
    {"ByeInsideFetchLiteral", "hostile_bye_fetch_literal.scn", 1,
     {"account fake: folder INBOX: IMAP connection lost: connection closed by the server"}, 0},
    {"ByeDuringAppend", "hostile_bye_append.scn", 1,
     {"account fake: folder INBOX: IMAP connection lost", "(server said: Server shutting down)"}, -1, true},
    {"ByeDuringLogout", "hostile_bye_logout.scn", 0, {}, 2},
};

// Files and directories under `root` that are neither the Maildir, the state dir,
// nor the files the test wrote itself.
std::vector<std::string> strays(const FakeAccount& account) {
  std::vector<std::string> out;
  for (auto it = fs::recursive_directory_iterator(account.dir()); it != fs::recursive_directory_iterator();
       ++it) {
    const auto& p = it->path();
    if (p == account.maildir() || p == account.state()) {
      it.disable_recursion_pending();
      continue;
    }
    if (account.maildir().string().rfind(p.string() + "/", 0) == 0) { // a/ and a/b/: look inside
      continue;
    }
    const auto name = p.filename().string();
    if (p.parent_path() == account.dir() && (name == "config.toml" || name == "password")) {
      continue;
    }
    out.push_back(p.string());
  }
  return out;
}

class CliHostile : public ::testing::TestWithParam<HostileRow> {};

TEST_P(CliHostile, FailsCleanlyWithinBounds) {
  const auto& row = GetParam();
  FakeImapServer server(must_load_scenario(fs::path(UIDSYNC_TEST_DATA_DIR) / "scenarios" / row.scenario));
  // The Maildir two levels down, so that "../../x" would land inside the scratch dir.
  FakeAccountOptions options;
  options.maildir_rel = "a/b/Mail";
  FakeAccount account(server.port(), options);
  if (row.local_message) {
    write_file(account.maildir() / "INBOX" / "new" / "1700000000.local.host",
               "Message-ID: <local@example.org>\r\nSubject: local\r\n\r\nlocal\r\n");
  }
  ChildOptions child;
  child.cwd = account.dir();
  const auto r = account.run({"sync"}, child);
  const std::string context = "stderr:\n" + r.err + "\nstdout:\n" + r.out;
  EXPECT_EQ(r.signal, 0) << context;
  EXPECT_FALSE(r.timed_out) << context;
  EXPECT_EQ(r.status, row.status) << context;
  EXPECT_EQ(r.err.find("AddressSanitizer"), std::string::npos) << context;
  EXPECT_EQ(r.err.find("runtime error"), std::string::npos) << context;
  for (const auto& part : row.stderr_has) {
    EXPECT_NE(r.err.find(part), std::string::npos) << "no '" << part << "' in " << context;
  }
  EXPECT_EQ(strays(account), std::vector<std::string>{});
  for (const char* sub : {"cur", "new", "tmp"}) { // the folder "/etc" taken as a path
    EXPECT_FALSE(fs::exists(fs::path("/etc") / sub)) << "/etc/" << sub;
  }
  if (row.inbox_files >= 0) {
    EXPECT_EQ(static_cast<int>(account.inbox_uids().size()), row.inbox_files) << context;
  }
  EXPECT_LT(r.max_rss_kib, k_max_rss_kib) << context;
  RecordProperty("max_rss_kib", std::to_string(r.max_rss_kib));
}

INSTANTIATE_TEST_SUITE_P(Rows, CliHostile, ::testing::ValuesIn(k_rows), RowName{});

} // namespace
} // namespace uidsync::test
