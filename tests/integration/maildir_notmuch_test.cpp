// SPDX-License-Identifier: GPL-3.0-or-later
// notmuch indexes a Maildir we delivered, without complaint, and reads our flags:
// one delivered by the Maildir layer directly, one made by `uidsync sync` from a
// real Dovecot.
#include "support/dovecot.hpp"
#include "support/sync_cli.hpp"
#include "support/temp_dir.hpp"

#include <uidsync/maildir/folder.hpp>
#include <uidsync/maildir/layout.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <string>

namespace uidsync::maildir {
namespace {

namespace fs = std::filesystem;

struct Outcome {
  int status = -1;
  std::string out;
  std::string err;
};

// Runs notmuch with its config and HOME inside `dir`; stdout and stderr captured.
Outcome notmuch(const test::TempDir& dir, const std::string& args) {
  const auto cmd =
      fmt::format("env -i PATH=/usr/bin:/bin HOME='{0}' NOTMUCH_CONFIG='{0}/notmuch-config' "
                  "notmuch {1} >'{0}/out' 2>'{0}/err'",
                  dir.path().string(), args);
  const int rc = std::system(cmd.c_str());
  Outcome o;
  o.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  o.out = test::read_file(dir / "out");
  o.err = test::read_file(dir / "err");
  return o;
}

// Writes `dir`/notmuch-config for the Maildir `root`: new mail tagged unread and
// inbox, nothing excluded, Maildir flags synchronized with tags.
void write_notmuch_config(const test::TempDir& dir, const fs::path& root) {
  test::write_file(
      dir / "notmuch-config",
      fmt::format("[database]\npath={}\n[user]\nname=Test\nprimary_email=test@example.org\n"
                  "[new]\ntags=unread;inbox;\nignore=\n[search]\nexclude_tags=\n"
                  "[maildir]\nsynchronize_flags=true\n",
                  root.string()));
}

TEST(MaildirNotmuch, IndexesDeliveredMaildirWithoutComplaint) {
  test::TempDir dir;
  const auto root = dir / "Mail";
  constexpr int k_per_folder = 18;
  int unseen = 0;
  for (const std::string name : {"INBOX", "Work/Projects"}) {
    auto path = folder_path(root, name, '/', Layout::fs);
    ASSERT_TRUE(path);
    auto folder = Folder::open(root, *path, true);
    ASSERT_TRUE(folder) << folder.error().what();
    Batch batch(*folder);
    for (int i = 1; i <= k_per_folder; ++i) {
      const bool seen = i % 3 != 0;
      unseen += seen ? 0 : 1;
      const auto flags = core::Flags::from_maildir(seen ? (i % 5 == 0 ? "FS" : "S") : "");
      auto delivery = folder->begin_delivery(static_cast<core::Uid>(i), flags, 1600000000 + i * 60);
      ASSERT_TRUE(delivery);
      const auto message = fmt::format(
          "From: Sender {0} <sender{0}@example.org>\r\nTo: test@example.org\r\n"
          "Subject: {1} message {0}\r\nDate: Sun, 13 Sep 2020 12:{0:02}:00 +0000\r\n"
          "Message-ID: <{0}.{1}@notmuch.test>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
          "Body of message {0} in {1}. Grüße.\r\n",
          i, name == "INBOX" ? "inbox" : "work");
      ASSERT_TRUE(delivery->write(message));
      auto done = delivery->finish();
      ASSERT_TRUE(done);
      batch.add(std::move(*done));
    }
    ASSERT_TRUE(
        batch.commit([](const std::vector<Delivered>&) -> core::Result<void> { return {}; }));
  }
  write_notmuch_config(dir, root);

  const auto indexed = notmuch(dir, "new");
  ASSERT_EQ(indexed.status, 0) << "notmuch new failed (is notmuch installed?): " << indexed.err;
  EXPECT_EQ(indexed.err, "");
  EXPECT_NE(indexed.out.find("Added 36 new messages"), std::string::npos) << indexed.out;

  const auto all = notmuch(dir, "count '*'");
  ASSERT_EQ(all.status, 0) << all.err;
  EXPECT_EQ(all.out, "36\n");
  // Our ":2,S" names are what notmuch's flag sync reads.
  const auto unread = notmuch(dir, "count tag:unread");
  ASSERT_EQ(unread.status, 0) << unread.err;
  EXPECT_EQ(unread.out, std::to_string(unseen) + "\n");
  const auto flagged = notmuch(dir, "count tag:flagged");
  ASSERT_EQ(flagged.status, 0) << flagged.err;
  EXPECT_EQ(flagged.out, "4\n"); // i = 5 and 10 in each folder (15 is unseen)
  const auto work = notmuch(dir, "count folder:Work/Projects");
  ASSERT_EQ(work.status, 0) << work.err;
  EXPECT_EQ(work.out, "18\n");
}

class MaildirNotmuchAfterSync : public test::DovecotSuite {
protected:
  // The number of the server's messages in the folders under "Notmuch/" that
  // match the IMAP search `query` (doveadm search, RFC 3501 §6.4.4 keys).
  static int server_count(const std::string& query) {
    std::vector<std::string> args{"search", "mailbox", "Notmuch/*"};
    if (!query.empty()) {
      args.push_back(query);
    }
    const auto out = test::doveadm_as_user(*s_dovecot, args);
    return static_cast<int>(std::count(out.begin(), out.end(), '\n'));
  }
};

TEST_F(MaildirNotmuchAfterSync, CountsAndFlagTagsMatchTheServer) {
  for (const std::string folder : {"Notmuch/Inbox", "Notmuch/Lists/dev", "Notmuch/Archiv"}) {
    std::vector<std::string> messages;
    for (int i = 1; i <= 7; ++i) {
      messages.push_back(test::message(fmt::format("{}-{}", folder, i)));
    }
    s_dovecot->fill(folder, messages);
  }
  test::doveadm_as_user(*s_dovecot,
                        {"flags", "add", "\\Seen", "mailbox", "Notmuch/*", "uid", "1:5"});
  test::doveadm_as_user(*s_dovecot,
                        {"flags", "add", "\\Flagged", "mailbox", "Notmuch/Inbox", "uid", "2,6"});
  test::doveadm_as_user(*s_dovecot,
                        {"flags", "add", "\\Flagged", "mailbox", "Notmuch/Lists/dev", "uid", "3"});
  const int total = server_count("");
  const int unseen = server_count("UNSEEN");
  const int flagged = server_count("FLAGGED");
  ASSERT_EQ(total, 21);
  ASSERT_GT(unseen, 0);
  ASSERT_GT(flagged, 0);

  test::TempDir dir;
  test::write_sync_config(dir.path(), *s_dovecot);
  const auto synced = test::run_uidsync(dir.path(), {"sync", "-f", "Notmuch/*"});
  ASSERT_EQ(synced.exit_status, 0) << synced.err;
  write_notmuch_config(dir, dir / "Mail");

  const auto indexed = notmuch(dir, "new");
  ASSERT_EQ(indexed.status, 0) << "notmuch new failed: " << indexed.err;
  EXPECT_EQ(indexed.err, "");
  const auto all = notmuch(dir, "count '*'");
  ASSERT_EQ(all.status, 0) << all.err;
  EXPECT_EQ(all.out, fmt::format("{}\n", total));
  const auto unread = notmuch(dir, "search --output=messages tag:unread");
  ASSERT_EQ(unread.status, 0) << unread.err;
  EXPECT_EQ(std::count(unread.out.begin(), unread.out.end(), '\n'), unseen) << unread.out;
  const auto starred = notmuch(dir, "search --output=messages tag:flagged");
  ASSERT_EQ(starred.status, 0) << starred.err;
  EXPECT_EQ(std::count(starred.out.begin(), starred.out.end(), '\n'), flagged) << starred.out;
  const auto lists = notmuch(dir, "count folder:Notmuch/Lists/dev");
  ASSERT_EQ(lists.status, 0) << lists.err;
  EXPECT_EQ(lists.out, "7\n");
}

} // namespace
} // namespace uidsync::maildir
