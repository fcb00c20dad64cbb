// SPDX-License-Identifier: GPL-3.0-or-later
// `uidsync sync` uploading new local mail to a real Dovecot: a file dropped into
// cur/ reaches the server with its text and flags and a second run does nothing;
// a run killed after each step of the upload, then resumed, leaves exactly one
// copy on the server and a local file that names its UID.
#include "support/crash_step.hpp"
#include "support/dovecot.hpp"
#include "support/dovecot_search.hpp"
#include "support/table.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

namespace uidsync::test {
namespace {

namespace fs = std::filesystem;

// The names in `dir`/cur and `dir`/new of files whose content is `bytes`.
std::vector<std::string> files_holding(const fs::path& dir, const std::string& bytes) {
  std::vector<std::string> out;
  for (const char* sub : {"cur", "new"}) {
    for (const auto& e : fs::directory_iterator(dir / sub)) {
      if (read_file(e.path()) == bytes) {
        out.push_back(e.path().filename().string());
      }
    }
  }
  return out;
}

struct AppendRow {
  std::string name;
  std::string folder;
  bool with_message_id = true;
  std::string info;       // the dropped file's ":2," part
  std::string imap_flags; // what doveadm shows for them
  int crash_step = 0;     // 0: no crash; 1..5: the upload step the first run dies after
};

class SyncAppendDovecot : public DovecotSuite, public ::testing::WithParamInterface<AppendRow> {
protected:
  void SetUp() override {
    DovecotSuite::SetUp();
    s_dovecot->write_config(m_dir, "up");
  }

  CommandResult sync(const std::string& folder, int crash_step = 0) {
    return run_crashing_after(
        {UIDSYNC_BINARY, "-c", (m_dir / "config.toml").string(), "sync", "-v", "-f", folder},
        crash_step);
  }

  std::string doveadm(const std::string& command, std::vector<std::string> args) {
    std::vector<std::string> full{command, "-u", s_dovecot->user()};
    full.insert(full.end(), args.begin(), args.end());
    return s_dovecot->doveadm(full);
  }

  // The UIDs of `folder` matching `query`.
  std::vector<std::string> search(const std::string& folder,
                                  const std::vector<std::string>& query) {
    return search_uids(*s_dovecot, folder, query);
  }

  TempDir m_temp;
  fs::path m_dir = m_temp.path();
};

TEST_P(SyncAppendDovecot, DroppedFileReachesTheServerOnce) {
  const auto& row = GetParam();
  s_dovecot->fill(row.folder, {"From: a@example.org\nSubject: old\nMessage-ID: <old-" + row.folder +
                               "@example.org>\n\nold\n"});
  auto first = sync(row.folder);
  ASSERT_EQ(first.status, 0) << first.output;
  const auto dir = m_dir / "Mail" / row.folder;
  ASSERT_TRUE(fs::is_directory(dir / "cur")) << first.output;

  // As a mail client writes it: LF line ends, flags in the name. Without a
  // Message-ID the header names the folder, so searching the body finds it.
  const std::string id = "up-" + row.folder;
  const std::string bytes =
      "From: Carol <carol@example.org>\nTo: someone@example.org\nSubject: " + id + "\n" +
      (row.with_message_id ? "Message-ID: <" + id + "@example.org>\n" : std::string()) +
      "\nwritten locally, " + std::string(3000, 'x') + "\n";
  write_file(dir / "cur" / ("1700000500.P1Q1.local" + row.info), bytes);

  if (row.crash_step != 0) {
    const auto crashed = sync(row.folder, row.crash_step);
    ASSERT_EQ(crashed.status, k_crash_exit) << crashed.output;
  }
  const auto r = sync(row.folder);
  ASSERT_EQ(r.status, 0) << r.output;

  const auto found = search(row.folder, {"subject", id});
  ASSERT_EQ(found.size(), 1u) << "exactly one copy on the server\n" << r.output;
  if (row.with_message_id) {
    EXPECT_EQ(search(row.folder, {"header", "Message-ID", "<" + id + "@example.org>"}), found);
  }
  auto text = doveadm("fetch", {"text", "mailbox", row.folder, "uid", found[0]});
  std::erase(text, '\r'); // doveadm may print the CRLF form
  EXPECT_NE(text.find(bytes), std::string::npos) << "the server holds the file's text:\n" << text;
  const auto flags = doveadm("fetch", {"flags", "mailbox", row.folder, "uid", found[0]});
  EXPECT_NE(flags.find("flags: " + row.imap_flags + "\n"), std::string::npos) << flags;

  const auto local = files_holding(dir, bytes);
  ASSERT_EQ(local.size(), 1u);
  EXPECT_EQ(local[0],
            "1700000500.P1Q1.local,U=" + found[0] + (row.info.empty() ? ":2," : row.info));

  // A second run uploads nothing and changes nothing.
  const auto again = sync(row.folder);
  ASSERT_EQ(again.status, 0) << again.output;
  EXPECT_NE(again.output.find("0 new, 0 flags, 0 deleted"), std::string::npos) << again.output;
  EXPECT_EQ(search(row.folder, {"all"}).size(), 2u) << "the old message and the uploaded one";
  EXPECT_EQ(files_holding(dir, bytes), local);
}

// Rows whose first run dies after upload step `1..5`; the second run resumes.
std::vector<AppendRow> crash_rows(bool with_id) {
  std::vector<AppendRow> rows;
  const std::string what = with_id ? "MessageId" : "NoId";
  for (int step = 1; step <= 5; ++step) {
    rows.push_back({"crash_" + what + "_after_step" + std::to_string(step),
                    "Crash" + what + std::to_string(step), with_id, ":2,S", "\\Seen", step});
  }
  return rows;
}

INSTANTIATE_TEST_SUITE_P(
    Upload, SyncAppendDovecot,
    ::testing::Values(AppendRow{"flagged_seen", "UpFlags", true, ":2,FS", "\\Flagged \\Seen", 0},
                      AppendRow{"no_flags", "UpPlain", true, "", "", 0},
                      AppendRow{"no_message_id", "UpNoId", false, ":2,S", "\\Seen", 0}),
    RowName{});
// One ctest test each, so that each stays well inside the time limit.
INSTANTIATE_TEST_SUITE_P(CrashMessageId, SyncAppendDovecot, ::testing::ValuesIn(crash_rows(true)),
                         RowName{});
INSTANTIATE_TEST_SUITE_P(CrashNoMessageId, SyncAppendDovecot,
                         ::testing::ValuesIn(crash_rows(false)), RowName{});

} // namespace
} // namespace uidsync::test
