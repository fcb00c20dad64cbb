// SPDX-License-Identifier: GPL-3.0-or-later
// `uidsync quarantine …` and `uidsync sync` with poison messages, the real binary
// against the scripted fake server: list, show, retry, forget, expunge (with and
// without UIDPLUS, and its refusals), and exit code 3 for a run that quarantines.
#include "support/dovecot.hpp"
#include "support/fake_imap_server.hpp"
#include "support/json_shape.hpp"
#include "support/sync_harness.hpp"
#include "support/table.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

namespace uidsync::test {
namespace {

namespace fs = std::filesystem;

// The binary with a config for one account, "fake", on `server`.
class Cli {
public:
  explicit Cli(const FakeImapServer& server, const std::string& password = "pw-3x4mpl3") {
    write_file(m_dir / "password", password + "\n");
    write_file(
        m_dir / "config.toml",
        "[general]\nstate_dir = \"" + (m_dir / "state").string() +
            "\"\n\n[accounts.fake]\nhost = \"127.0.0.1\"\nport = " + std::to_string(server.port()) +
            "\ntls = \"none\"\nallow_plaintext = true\nuser = \"alice\"\n"
            "password_cmd = [\"cat\", \"" +
            (m_dir / "password").string() + "\"]\nmaildir = \"" + (m_dir / "Mail").string() +
            "\"\ntimeout = 1\n");
  }

  CommandResult operator()(std::vector<std::string> args) const {
    args.insert(args.begin(), {UIDSYNC_BINARY, "-c", (m_dir / "config.toml").string()});
    return run_command(args);
  }

  // UIDs of the local INBOX files.
  std::vector<std::uint32_t> local_uids() const {
    std::vector<std::uint32_t> out;
    for (const char* sub : {"cur", "new"}) {
      const auto dir = m_dir / "Mail" / "INBOX" / sub;
      if (!fs::is_directory(dir)) {
        continue;
      }
      for (const auto& e : fs::directory_iterator(dir)) {
        const auto name = e.path().filename().string();
        out.push_back(static_cast<std::uint32_t>(std::stoul(name.substr(name.find(",U=") + 3))));
      }
    }
    return out;
  }

  fs::path state() const { return m_dir / "state"; }

private:
  TempDir m_temp;
  fs::path m_dir = m_temp.path();
};

bool server_has(const FakeImapServer& server, std::uint32_t uid) {
  auto world = server.world();
  for (const auto& m : world.folder("INBOX")->messages) {
    if (m->uid == uid) {
      return true;
    }
  }
  return false;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

const std::string k_two_poison = "user alice pw-3x4mpl3\ncapabilities UIDPLUS\n"
                                 "folder INBOX uidvalidity=5\ngenerate 10 start=1\n"
                                 "no 4\nnil_body 8\n";

TEST(CliQuarantine, ListsShowsRetriesAndForgets) {
  FakeImapServer server(inline_scenario(k_two_poison));
  Cli uidsync(server);
  const auto synced = uidsync({"sync"});
  ASSERT_EQ(uidsync.local_uids().size(), 8u) << synced.output;

  const auto list = uidsync({"quarantine", "list"});
  ASSERT_EQ(list.status, 0) << list.output;
  EXPECT_TRUE(contains(list.output, "fake INBOX 4 refused active tries=1 next=")) << list.output;
  EXPECT_TRUE(contains(list.output, "fake INBOX 8 nil-body active tries=1 next=")) << list.output;
  const auto json = uidsync({"--json", "quarantine", "list", "fake"});
  EXPECT_TRUE(contains(json.output, "\"uid\": 4, \"uidvalidity\": 5, \"reason\": \"refused\""))
      << json.output;
  const auto differences =
      shape_differences(documented_fields(fs::path(UIDSYNC_SOURCE_DIR) / "docs" / "json.md",
                                          "`uidsync quarantine list --json`"),
                        json_shape(json.output));
  EXPECT_TRUE(differences.empty()) << differences.front() << "\n" << json.output;

  const auto show = uidsync({"quarantine", "show", "fake", "INBOX", "4"});
  ASSERT_EQ(show.status, 0) << show.output;
  const auto evidence = uidsync.state() / "evidence" / "fake" / "INBOX" / "5-4.txt";
  EXPECT_TRUE(contains(show.output, "reason:      refused")) << show.output;
  EXPECT_TRUE(contains(show.output, "evidence:    " + evidence.string())) << show.output;
  EXPECT_TRUE(contains(show.output, "uidsync quarantine expunge fake INBOX 4")) << show.output;
  ASSERT_TRUE(fs::exists(evidence));
  EXPECT_TRUE(contains(read_file(evidence), " NO ")) << read_file(evidence);
  EXPECT_FALSE(contains(read_file(evidence), "pw-3x4mpl3"));

  // Within the backoff, a sync leaves both alone; after retry, it tries UID 4 again.
  const int fetches = server.body_fetches("INBOX", 4);
  uidsync({"sync"});
  EXPECT_EQ(server.body_fetches("INBOX", 4), fetches);
  const auto retry = uidsync({"quarantine", "retry", "fake", "INBOX", "4"});
  ASSERT_EQ(retry.status, 0) << retry.output;
  uidsync({"sync"});
  EXPECT_EQ(server.body_fetches("INBOX", 4), fetches + 1);
  EXPECT_TRUE(
      contains(uidsync({"quarantine", "list"}).output, "fake INBOX 4 refused active tries=2"));

  // Forget wins over a retry: a forgotten UID is never fetched, and stays listed.
  const int nil_fetches = server.body_fetches("INBOX", 8);
  ASSERT_EQ(uidsync({"quarantine", "retry", "--account", "fake", "INBOX", "8"}).status, 0);
  ASSERT_EQ(uidsync({"quarantine", "forget", "fake", "INBOX", "8"}).status, 0);
  uidsync({"sync"});
  EXPECT_EQ(server.body_fetches("INBOX", 8), nil_fetches);
  EXPECT_TRUE(contains(uidsync({"quarantine", "list"}).output,
                       "fake INBOX 8 nil-body forgotten tries=1 next=never"));
}

struct ErrorRow {
  std::string name;
  std::vector<std::string> args;
  int status;
  std::string message;
};

const ErrorRow k_error_rows[] = {
    {"unknown_uid",
     {"quarantine", "show", "fake", "INBOX", "5"},
     1,
     "UID 5 is not in the quarantine"},
    {"show_without_uid", {"quarantine", "show", "fake", "INBOX"}, 2, "needs ACCOUNT FOLDER UID"},
    {"retry_without_uid", {"quarantine", "retry", "fake"}, 2, "or --all [ACCOUNT]"},
    {"not_a_uid", {"quarantine", "forget", "fake", "INBOX", "x4"}, 2, "'x4' is not a UID"},
    {"unknown_account", {"quarantine", "list", "nope"}, 2, "nope"},
};

class CliQuarantineErrors : public ::testing::TestWithParam<ErrorRow> {};

TEST_P(CliQuarantineErrors, SaysWhatIsWrong) {
  FakeImapServer server(inline_scenario(k_two_poison));
  Cli uidsync(server);
  uidsync({"sync"});
  const auto r = uidsync(GetParam().args);
  EXPECT_EQ(r.status, GetParam().status) << r.output;
  EXPECT_TRUE(contains(r.output, GetParam().message)) << r.output;
}

INSTANTIATE_TEST_SUITE_P(Rows, CliQuarantineErrors, ::testing::ValuesIn(k_error_rows), RowName{});

struct ExpungeRow {
  std::string name;
  std::string capabilities;
  std::string extra; // more scenario lines
  bool yes;
  int status;
  bool deleted; // UID 4 is gone from the server
  std::string message;
};

const ExpungeRow k_expunge_rows[] = {
    {"uidplus", "UIDPLUS", "", true, 0, true, "INBOX, UID 4: expunged on the server"},
    {"uidplus_ignores_other_deleted", "UIDPLUS", "message 11 flags=\\Deleted\n", true, 0, true,
     "expunged on the server"},
    {"no_uidplus_nothing_else_deleted", "none", "", true, 0, true, "expunged on the server"},
    {"no_uidplus_refuses_with_other_deleted", "none", "message 11 flags=\\Deleted\n", true, 1,
     false, "lacks UIDPLUS (RFC 4315)"},
    {"asks_first", "UIDPLUS", "", false, 2, false, "pass --yes to confirm"},
};

class CliQuarantineExpunge : public ::testing::TestWithParam<ExpungeRow> {};

TEST_P(CliQuarantineExpunge, DeletesOnlyTheQuarantinedMessage) {
  const auto& p = GetParam();
  FakeImapServer server(inline_scenario("user alice pw-3x4mpl3\ncapabilities " + p.capabilities +
                                        "\nfolder INBOX uidvalidity=5\ngenerate 10 start=1\n" +
                                        p.extra + "no 4\n"));
  Cli uidsync(server);
  uidsync({"sync"});
  ASSERT_TRUE(contains(uidsync({"quarantine", "list"}).output, "fake INBOX 4 refused active"));
  std::vector<std::string> args{"quarantine", "expunge", "fake", "INBOX", "4"};
  if (p.yes) {
    args.push_back("--yes");
  }
  const auto r = uidsync(args);
  EXPECT_EQ(r.status, p.status) << r.output;
  EXPECT_TRUE(contains(r.output, p.message)) << r.output;
  EXPECT_EQ(server_has(server, 4), !p.deleted);
  EXPECT_TRUE(server_has(server, 5));
  if (!p.extra.empty()) {
    EXPECT_TRUE(server_has(server, 11)) << "another client's \\Deleted message must stay";
  }
  const auto list = uidsync({"quarantine", "list"}).output;
  EXPECT_EQ(contains(list, "fake INBOX 4 "), !p.deleted) << list;
}

INSTANTIATE_TEST_SUITE_P(Rows, CliQuarantineExpunge, ::testing::ValuesIn(k_expunge_rows),
                         RowName{});

// Needs the account runner to reconnect after a dropped or stalled connection
// and to exit 3 when Stats::quarantined is not 0: one `uidsync sync` then gets
// through exchange_poison.scn.
TEST(CliQuarantine, SyncOfExchangePoisonDeliversTheRestAndExitsThree) {
  FakeImapServer server(must_load_scenario("exchange_poison.scn"));
  Cli uidsync(server, "secret");
  const auto r = uidsync({"sync"});
  EXPECT_EQ(r.status, 3) << r.output;
  EXPECT_EQ(uidsync.local_uids().size(), 1000u - 13u);
  EXPECT_TRUE(contains(r.output, "folder INBOX, UID 15541: quarantined (exchange-stub"))
      << r.output;
  const auto list = uidsync({"quarantine", "list"}).output;
  EXPECT_TRUE(contains(list, "fake INBOX 15901 timeout active")) << list;
  const auto again = uidsync({"sync"});
  EXPECT_EQ(again.status, 0) << again.output;
}

} // namespace
} // namespace uidsync::test
