// SPDX-License-Identifier: GPL-3.0-or-later
// `uidsync folders` against a real Dovecot: the folder list, the Maildir each maps
// to (non-ASCII names decoded), --json, and a --trace transcript without secrets.
#include "support/dovecot.hpp"
#include "support/sync_cli.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace uidsync::test {
namespace {

class CliFolders : public DovecotSuite {
protected:
  void SetUp() override {
    DovecotSuite::SetUp();
    static bool filled = false;
    if (!filled) {
      const std::string msg = "From: a@example.org\nSubject: hi\nMessage-ID: <1@x>\n\nhello\n";
      s_dovecot->fill("Lists/dev", {msg});
      s_dovecot->fill("Reisepläne", {msg});
      filled = true;
    }
    s_dovecot->write_config(m_dir, "demo", "");
  }

  CommandResult uidsync(const std::vector<std::string>& args) {
    return uidsync_command(m_dir, args);
  }

  TempDir m_temp;
  std::filesystem::path m_dir = m_temp.path();
};

TEST_F(CliFolders, ListsFoldersAndTheirMaildirs) {
  const auto r = uidsync({"folders"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("account demo ("), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("  INBOX\n    -> " + (m_dir / "Mail" / "INBOX").string()),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("  Lists/dev\n    -> " + (m_dir / "Mail" / "Lists" / "dev").string()),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("  Reisepläne\n    -> " + (m_dir / "Mail" / "Reisepläne").string()),
            std::string::npos)
      << r.output;
  // Listing changes nothing locally.
  EXPECT_FALSE(std::filesystem::exists(m_dir / "Mail"));
}

TEST_F(CliFolders, JsonOutput) {
  const auto r = uidsync({"--json", "folders", "demo"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output.rfind("{\"schema\": 1, \"accounts\": [{\"name\": \"demo\", \"folders\": [", 0),
            0u)
      << r.output;
  EXPECT_NE(r.output.find("{\"name\": \"Reisepläne\", \"attributes\": ["), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("\"maildir\": \"" + (m_dir / "Mail" / "Lists" / "dev").string() + "\""),
            std::string::npos)
      << r.output;
}

TEST_F(CliFolders, MuttMailboxesLineListsTheSyncedFolders) {
  // The account syncs everything but Lists/*; mutt gets the rest, relative to $folder.
  write_file(m_dir / "config.toml",
             read_file(m_dir / "config.toml") + "folders = [\"*\", \"!Lists/*\"]\n");
  const auto r = uidsync({"folders", "--mutt", "demo"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output.rfind("mailboxes \"+INBOX\"", 0), 0u) << r.output;
  EXPECT_NE(r.output.find(" \"+Reisepläne\""), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("Lists"), std::string::npos) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
}

TEST_F(CliFolders, TraceHasTheProtocolButNoSecret) {
  const auto trace = m_dir / "trace.txt";
  const auto r = uidsync({"folders", "--trace", trace.string()});
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string text = read_file(trace);
  EXPECT_NE(text.find("C: u1 LIST \"\" \"*\""), std::string::npos) << text;
  EXPECT_NE(text.find("S: * LIST"), std::string::npos) << text;
  EXPECT_NE(text.find("LOGOUT"), std::string::npos) << text;
  EXPECT_EQ(text.find(s_dovecot->password()), std::string::npos) << text;
  EXPECT_EQ(r.output.find(s_dovecot->password()), std::string::npos) << r.output;
}

TEST_F(CliFolders, WrongPasswordNamesTheAccountAndTheServersText) {
  write_file(m_dir / "password", "not-the-password\n");
  const auto r = uidsync({"folders"});
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("account demo: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Authentication failed"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("not-the-password"), std::string::npos) << r.output;
}

} // namespace
} // namespace uidsync::test
