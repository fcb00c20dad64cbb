// SPDX-License-Identifier: GPL-3.0-or-later
// Against a real Dovecot: a changed UIDVALIDITY (doveadm mailbox update) is
// re-paired without downloading a body, deleting or duplicating anything, and
// `uidsync doctor` gives a clean report with the TLS details.
#include "support/dovecot.hpp"
#include "support/sync_cli.hpp"
#include "support/table.hpp"
#include "support/temp_dir.hpp"

#include <uidsync/state/db.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace uidsync::test {
namespace {

// The exit code of a run that recorded an anomaly (core::ExitCode::attention).
constexpr int k_attention = 3;

namespace fs = std::filesystem;

class AnomalyDovecot : public DovecotSuite {
protected:
  void SetUp() override {
    DovecotSuite::SetUp();
    s_dovecot->write_config(m_dir, "demo", "");
  }

  CommandResult uidsync(const std::vector<std::string>& args) {
    return uidsync_command(m_dir, args);
  }

  std::string doveadm(const std::vector<std::string>& args) {
    return doveadm_as_user(*s_dovecot, args);
  }

  TempDir m_temp;
  fs::path m_dir = m_temp.path();
};

TEST_F(AnomalyDovecot, ChangedUidvalidityIsRepairedWithoutDownloads) {
  s_dovecot->fill("Reval", {message("v1"), message("v2"), message("v3")});
  s_dovecot->fill("RevalOther", {message("o1")});
  ASSERT_EQ(uidsync({"sync", "-f", "Reval*"}).status, 0);
  const auto dir = m_dir / "Mail" / "Reval";
  const auto before = local_files(dir);
  ASSERT_EQ(before.size(), 3u);

  doveadm({"mailbox", "update", "--uid-validity", "4242", "Reval"});
  s_dovecot->fill("RevalOther", {message("o2")});
  const auto trace = m_dir / "trace.txt";
  const auto r = uidsync({"sync", "-v", "-f", "Reval*", "--trace", trace.string()});
  ASSERT_EQ(r.status, k_attention) << r.output;
  EXPECT_NE(r.output.find("folder Reval: UIDVALIDITY changed from "), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("to 4242 (the server renumbered the folder): 3 message(s) re-paired "
                          "without download, 0 new on the server, 0 local file(s) kept"),
            std::string::npos)
      << r.output;
  // Only RevalOther's new message was downloaded.
  EXPECT_NE(r.output.find("account demo: 1 new, 0 flags, 0 deleted"), std::string::npos)
      << r.output;
  const std::string text = read_file(trace);
  ASSERT_NE(text.find("BODY.PEEK[])"), std::string::npos) << text;
  EXPECT_EQ(text.find("BODY.PEEK[])"), text.rfind("BODY.PEEK[])")) << "one body fetch only";
  EXPECT_EQ(local_files(dir), before) << "Dovecot keeps the UIDs: same names, same contents";

  const auto again = uidsync({"sync", "-v", "-f", "Reval*"});
  ASSERT_EQ(again.status, 0) << again.output;
  EXPECT_NE(again.output.find("account demo: 0 new, 0 flags, 0 deleted\n"), std::string::npos)
      << again.output;
  EXPECT_EQ(local_files(dir), before);
}

TEST_F(AnomalyDovecot, ChangedUidvalidityNeverDeletesWhatNoLongerMatches) {
  s_dovecot->fill("Reval2", {message("w1"), message("w2")});
  ASSERT_EQ(uidsync({"sync", "-f", "Reval2"}).status, 0);
  const auto dir = m_dir / "Mail" / "Reval2";
  const auto before = local_files(dir);
  ASSERT_EQ(before.size(), 2u);

  doveadm({"mailbox", "update", "--uid-validity", "777", "Reval2"});
  doveadm({"expunge", "mailbox", "Reval2", "uid", "1"});
  const auto r = uidsync({"sync", "-v", "-f", "Reval2"});
  ASSERT_EQ(r.status, k_attention) << r.output;
  EXPECT_NE(r.output.find("1 message(s) re-paired without download, 0 new on the server, 1 "
                          "local file(s) kept as new local mail; nothing was deleted"),
            std::string::npos)
      << r.output;
  const auto after = local_files(dir);
  ASSERT_EQ(after.size(), 2u);
  std::vector<std::string> contents;
  for (const auto& [name, content] : after) {
    contents.push_back(content);
    if (content.find("<w1@example.org>") != std::string::npos) {
      // Kept as new local mail and uploaded again: a new UID, never the old one.
      EXPECT_EQ(name.find(",U=1:"), std::string::npos) << name << " keeps an old UID";
    }
  }
  std::vector<std::string> old_contents;
  for (const auto& [name, content] : before) {
    old_contents.push_back(content);
  }
  std::sort(contents.begin(), contents.end());
  std::sort(old_contents.begin(), old_contents.end());
  EXPECT_EQ(contents, old_contents);
}

struct DoctorRow {
  std::string name;
  std::vector<std::string> extra;
  std::vector<std::string> expected;
};

void PrintTo(const DoctorRow& row, std::ostream* os) {
  *os << row.name;
}

const std::vector<DoctorRow> k_doctor_rows = {
    {"Text",
     {},
     {"Greeting: * OK [CAPABILITY IMAP4rev1", "TLS: TLSv1.3, certificate CN=", "expires ",
      "Authentication mechanisms: LOGIN OAUTHBEARER PLAIN XOAUTH2\n", "ID: (\"name\" \"Dovecot\"",
      "Round trip: ",
      "Folder CleanText:\n  EXISTS 3, UID SEARCH ALL 3: consistent\n  UIDNEXT 4, highest UID 3: "
      "consistent\n  Sample fetch: 3 message(s), 0 problem(s)\n",
      "On record: 0 entries\n", "Summary for the mail server's administrators:\n  No problem found",
      "Transcript (passwords removed): "}},
    {"Json",
     {"--json"},
     {"\"tls\": {\"version\": \"TLSv1.3\"", "\"exists\": 3, \"search_count\": 3, \"uidnext\": 4",
      "\"summary\": [\"No problem found"}},
};

class AnomalyDovecotDoctor : public AnomalyDovecot,
                             public ::testing::WithParamInterface<DoctorRow> {};

TEST_P(AnomalyDovecotDoctor, CleanServerGivesACleanReport) {
  const auto& row = GetParam();
  const std::string folder = "Clean" + row.name;
  s_dovecot->fill(folder, {message("c1"), message("c2"), message("c3")});
  std::vector<std::string> args{"doctor", "demo", folder};
  args.insert(args.end(), row.extra.begin(), row.extra.end());
  const auto r = uidsync(args);
  EXPECT_EQ(r.status, 0) << r.output;
  for (const auto& text : row.expected) {
    EXPECT_NE(r.output.find(text), std::string::npos) << "missing: " << text << "\n" << r.output;
  }
  EXPECT_EQ(r.output.find(s_dovecot->password()), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Rows, AnomalyDovecotDoctor, ::testing::ValuesIn(k_doctor_rows), RowName{});

} // namespace
} // namespace uidsync::test
