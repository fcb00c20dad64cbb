// SPDX-License-Identifier: GPL-3.0-or-later
// notmuch indexes a Maildir we delivered, without complaint, and reads our flags.
#include "support/temp_dir.hpp"

#include <uidsync/maildir/folder.hpp>
#include <uidsync/maildir/layout.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <sys/wait.h>

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
  test::write_file(
      dir / "notmuch-config",
      fmt::format("[database]\npath={}\n[user]\nname=Test\nprimary_email=test@example.org\n"
                  "[new]\ntags=unread;inbox;\nignore=\n[search]\nexclude_tags=\n"
                  "[maildir]\nsynchronize_flags=true\n",
                  root.string()));

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

} // namespace
} // namespace uidsync::maildir
