// SPDX-License-Identifier: GPL-3.0-or-later
// One Maildir folder on a real file system: delivery, scan, flags, expunge, tmp/.
#include "support/table.hpp"
#include "support/temp_dir.hpp"

#include <uidsync/maildir/folder.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace uidsync::maildir {
namespace {

namespace fs = std::filesystem;

Folder open_folder(const test::TempDir& dir, const std::string& rel = "INBOX") {
  auto folder = Folder::open(dir / "Mail", dir / "Mail" / rel, true);
  if (!folder) {
    ADD_FAILURE() << folder.error().what();
    std::abort();
  }
  return std::move(folder).value();
}

core::Result<std::vector<Delivered>>
deliver(Folder& folder, const std::vector<std::pair<core::Uid, std::string>>& msgs,
        SyncMode mode = SyncMode::syncfs) {
  Batch batch(folder);
  for (const auto& [uid, letters] : msgs) {
    auto delivery =
        folder.begin_delivery(uid, core::Flags::from_maildir(letters), 1500000000 + uid);
    if (!delivery) {
      return util::unexpected(std::move(delivery).error());
    }
    UIDSYNC_TRY(delivery->write("Message-ID: <" + std::to_string(uid) + "@x>\n\nbody\n"));
    auto done = delivery->finish();
    if (!done) {
      return util::unexpected(std::move(done).error());
    }
    batch.add(std::move(*done));
  }
  std::vector<Delivered> recorded;
  UIDSYNC_TRY(batch.commit(
      [&](const std::vector<Delivered>& items) -> core::Result<void> {
        recorded = items;
        return {};
      },
      mode));
  return recorded;
}

fs::perms perms_of(const fs::path& p) {
  return fs::status(p).permissions() & fs::perms::all;
}

void age(const fs::path& path, std::int64_t seconds_ago) {
  const auto t =
      std::chrono::system_clock::to_time_t(std::chrono::system_clock::now()) - seconds_ago;
  const timespec times[2] = {{t, 0}, {t, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW), 0);
}

struct DeliveryRow {
  std::string name;
  std::string letters;
  std::string subdir;
  std::string suffix; // the end of the file name
};

class MaildirDelivery : public ::testing::TestWithParam<DeliveryRow> {};

TEST_P(MaildirDelivery, PlacesPrivateFileWithInternalDate) {
  const auto& row = GetParam();
  for (const auto mode : {SyncMode::syncfs, SyncMode::parallel_fsync}) {
    test::TempDir dir;
    auto folder = open_folder(dir, "Work/Projects");
    auto done = deliver(folder, {{17, row.letters}}, mode);
    ASSERT_TRUE(done) << done.error().what();
    ASSERT_EQ(done->size(), 1U);
    const auto& item = (*done)[0];
    EXPECT_TRUE(item.name.starts_with(row.subdir + "/")) << item.name;
    EXPECT_TRUE(item.name.ends_with(row.suffix)) << item.name;
    const auto path = folder.path() / item.name;
    EXPECT_EQ(test::read_file(path), "Message-ID: <17@x>\n\nbody\n");
    EXPECT_EQ(perms_of(path), fs::perms::owner_read | fs::perms::owner_write);
    for (const auto& d :
         {dir / "Mail/Work", dir / "Mail/Work/Projects", dir / "Mail/Work/Projects/cur",
          dir / "Mail/Work/Projects/new", dir / "Mail/Work/Projects/tmp"}) {
      EXPECT_EQ(perms_of(d), fs::perms::owner_all) << d;
    }
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mtim.tv_sec, 1500000017);
    EXPECT_EQ(item.content.message_id, "<17@x>");
    EXPECT_EQ(item.content.size, 25U);
    EXPECT_EQ(folder.content(item.name).value().digest, item.content.digest);
    EXPECT_TRUE(fs::is_empty(folder.path() / "tmp"));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Rows, MaildirDelivery,
    ::testing::Values(DeliveryRow{"unseen_goes_to_new", "", "new", ",U=17"},
                      DeliveryRow{"seen_goes_to_cur", "S", "cur", ",U=17:2,S"},
                      DeliveryRow{"flagged_unseen_to_cur", "FD", "cur", ",U=17:2,DF"},
                      DeliveryRow{"all_flags", "TSRPFD", "cur", ",U=17:2,DFPRST"}),
    test::RowName{});

TEST(MaildirBatch, RecorderFailureLeavesAdoptableFiles) {
  test::TempDir dir;
  auto folder = open_folder(dir);
  Batch batch(folder);
  auto delivery = folder.begin_delivery(31, core::Flags::from_maildir("S"), 0);
  ASSERT_TRUE(delivery);
  ASSERT_TRUE(delivery->write("x"));
  auto done = delivery->finish();
  ASSERT_TRUE(done);
  batch.add(std::move(*done));
  auto committed = batch.commit([](const std::vector<Delivered>&) -> core::Result<void> {
    return core::fail(core::Scope::account, "state DB full");
  });
  ASSERT_FALSE(committed);
  EXPECT_EQ(committed.error().message, "state DB full");
  EXPECT_EQ(batch.size(), 0U);
  auto scan = folder.scan();
  ASSERT_TRUE(scan);
  ASSERT_EQ(scan->messages.size(), 1U);
  EXPECT_EQ(scan->messages[0].uid, 31U);
  EXPECT_EQ(scan->messages[0].size, 1U);
}

TEST(MaildirDeliveryAbandon, RemovesTheTmpFile) {
  test::TempDir dir;
  auto folder = open_folder(dir);
  {
    auto delivery = folder.begin_delivery(5, {}, 0);
    ASSERT_TRUE(delivery);
    ASSERT_TRUE(delivery->write("partial"));
    EXPECT_FALSE(fs::is_empty(folder.path() / "tmp"));
  }
  EXPECT_TRUE(fs::is_empty(folder.path() / "tmp"));
}

TEST(MaildirScan, ReadsUidFlagsSizeAndSkipsDotfiles) {
  test::TempDir dir;
  auto folder = open_folder(dir);
  test::write_file(folder.path() / "cur/1.mbsync.h,U=3:2,FS", "abc");
  test::write_file(folder.path() / "cur/2_0.9.h,U=4,FMD5=ff00:2,R", "abcd");
  test::write_file(folder.path() / "new/3.other.h", "x");
  test::write_file(folder.path() / "cur/.dovecot.keywords", "junk");
  fs::create_directory(folder.path() / "cur/subdir");
  auto scan = folder.scan();
  ASSERT_TRUE(scan);
  const std::vector<LocalMessage> expected{
      {"cur/1.mbsync.h,U=3:2,FS", 3, core::Flags::from_maildir("FS"), "", 3,
       scan->messages[0].mtime},
      {"cur/2_0.9.h,U=4,FMD5=ff00:2,R", 4, core::Flags::from_maildir("R"), "ff00", 4,
       scan->messages[1].mtime},
      {"new/3.other.h", 0, {}, "", 1, scan->messages[2].mtime},
  };
  EXPECT_EQ(scan->messages, expected);
}

TEST(MaildirScan, SkipsUnchangedDirectoriesOnly) {
  test::TempDir dir;
  auto folder = open_folder(dir);
  test::write_file(folder.path() / "cur/1.a.h,U=1:2,S", "1");
  age(folder.path() / "cur", 3600);
  age(folder.path() / "new", 3600);

  auto first = folder.scan();
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->rescanned);
  auto second = folder.scan();
  ASSERT_TRUE(second);
  EXPECT_FALSE(second->rescanned);
  EXPECT_EQ(second->messages, first->messages);
  // The next run (a new Folder) can trust the stamp kept in the state DB.
  const auto stamp = folder.stamp();
  EXPECT_FALSE(stamp.empty());
  auto next_run = open_folder(dir);
  EXPECT_TRUE(next_run.unchanged_since(stamp).value_or(false));
  EXPECT_FALSE(next_run.unchanged_since("").value_or(true));

  // Another program delivers: new/'s mtime moves, so the folder is listed again.
  test::write_file(folder.path() / "new/2.b.h,U=2", "22");
  auto third = folder.scan();
  ASSERT_TRUE(third);
  EXPECT_TRUE(third->rescanned);
  EXPECT_EQ(third->messages.size(), 2U);
  EXPECT_FALSE(next_run.unchanged_since(stamp).value_or(true));
  EXPECT_TRUE(folder.stamp().empty()); // too recent to be trusted
  // new/ changed within the last 2 s: its mtime cannot be trusted yet.
  auto fourth = folder.scan();
  ASSERT_TRUE(fourth);
  EXPECT_TRUE(fourth->rescanned);
}

// settled_stamp(): a stamp right after this run's own changes, only for the exact
// listing the state records; any later change moves it.
struct SettledRow {
  std::string name;
  std::vector<std::string> expected; // what the state records
  bool stamped;                      // a stamp is given
};

const SettledRow k_settled_rows[] = {
    {"ExactListing", {"cur/1.a.h,U=1:2,S", "new/2.b.h,U=2"}, true},
    {"ExactListingAnyOrder", {"new/2.b.h,U=2", "cur/1.a.h,U=1:2,S"}, true},
    {"FileTheStateLacks", {"cur/1.a.h,U=1:2,S"}, false},
    {"FileThatIsGone", {"cur/1.a.h,U=1:2,S", "new/2.b.h,U=2", "cur/3.c.h,U=3:2,"}, false},
    {"RenamedSinceRecorded", {"cur/1.a.h,U=1:2,FS", "new/2.b.h,U=2"}, false},
};

class MaildirSettledStamp : public ::testing::TestWithParam<SettledRow> {};

TEST_P(MaildirSettledStamp, OnlyForTheRecordedListing) {
  const auto& row = GetParam();
  test::TempDir dir;
  auto folder = open_folder(dir);
  test::write_file(folder.path() / "cur/1.a.h,U=1:2,S", "1");
  test::write_file(folder.path() / "new/2.b.h,U=2", "22"); // written just now: must settle
  test::write_file(folder.path() / "cur/.hidden", "not a message");
  auto stamp = folder.settled_stamp(row.expected);
  ASSERT_TRUE(stamp) << stamp.error().what();
  EXPECT_EQ(!stamp->empty(), row.stamped) << *stamp;
  if (!row.stamped) {
    return;
  }
  auto next_run = open_folder(dir);
  EXPECT_TRUE(next_run.unchanged_since(*stamp).value_or(false));
  // A change right after the stamp (within the same second) still moves it.
  test::write_file(folder.path() / "new/3.c.h", "333");
  EXPECT_FALSE(next_run.unchanged_since(*stamp).value_or(true));
}

INSTANTIATE_TEST_SUITE_P(Rows, MaildirSettledStamp, ::testing::ValuesIn(k_settled_rows),
                         test::RowName{});

TEST(MaildirFlags, RenameIntoCurAndExpungeUnlinks) {
  test::TempDir dir;
  auto folder = open_folder(dir);
  auto done = deliver(folder, {{9, ""}});
  ASSERT_TRUE(done);
  const auto name = (*done)[0].name;
  ASSERT_TRUE(name.starts_with("new/"));

  auto renamed = folder.set_flags(name, core::Flags::from_maildir("RS"));
  ASSERT_TRUE(renamed);
  EXPECT_EQ(*renamed, "cur/" + name.substr(4) + ":2,RS");
  EXPECT_FALSE(fs::exists(folder.path() / name));
  EXPECT_TRUE(fs::exists(folder.path() / *renamed));

  auto again = folder.set_flags(*renamed, core::Flags::from_maildir("F"));
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->ends_with(",U=9:2,F")) << *again;
  auto scan = folder.scan();
  ASSERT_TRUE(scan);
  ASSERT_EQ(scan->messages.size(), 1U);
  EXPECT_EQ(scan->messages[0].flags, core::Flags::from_maildir("F"));

  auto gone = folder.set_flags(*renamed, core::Flags::from_maildir("S"));
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().scope, core::Scope::message);
  EXPECT_NE(gone.error().message.find("vanished"), std::string::npos);

  ASSERT_TRUE(folder.expunge(*again));
  scan = folder.scan();
  ASSERT_TRUE(scan);
  EXPECT_TRUE(scan->messages.empty());
}

struct TmpRow {
  std::string name;
  std::int64_t age_hours; // how far "now" is moved ahead of the files' times
  std::size_t removed;
};

class MaildirTmp : public ::testing::TestWithParam<TmpRow> {};

TEST_P(MaildirTmp, CleansOnlyFilesOlderThan36Hours) {
  const auto& row = GetParam();
  test::TempDir dir;
  auto folder = open_folder(dir);
  test::write_file(folder.path() / "tmp/a", "1");
  test::write_file(folder.path() / "tmp/b", "2");
  const auto now = std::chrono::system_clock::now() + std::chrono::hours(row.age_hours);
  auto removed = folder.clean_tmp(now);
  ASSERT_TRUE(removed);
  EXPECT_EQ(*removed, row.removed);
  EXPECT_EQ(fs::is_empty(folder.path() / "tmp"), row.removed == 2);
}

INSTANTIATE_TEST_SUITE_P(Rows, MaildirTmp,
                         ::testing::Values(TmpRow{"fresh", 0, 0}, TmpRow{"one_day", 24, 0},
                                           TmpRow{"thirty_five_hours", 35, 0},
                                           TmpRow{"thirty_seven_hours", 37, 2}),
                         test::RowName{});

TEST(MaildirFolderOpen, MissingFolderWithoutCreateIsAnError) {
  test::TempDir dir;
  auto folder = Folder::open(dir / "Mail", dir / "Mail/Nope", false);
  ASSERT_FALSE(folder);
  EXPECT_NE(folder.error().message.find("Mail/Nope does not exist"), std::string::npos)
      << folder.error().message;
  EXPECT_FALSE(fs::exists(dir / "Mail/Nope"));
}

} // namespace
} // namespace uidsync::maildir
