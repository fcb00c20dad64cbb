// SPDX-License-Identifier: GPL-3.0-or-later
// Folder::set_uid: a new local file gets its server UID in its name, keeping its flags and tags.
#include "support/table.hpp"
#include "support/temp_dir.hpp"

#include <uidsync/maildir/folder.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace uidsync::maildir {
namespace {

namespace fs = std::filesystem;

struct SetUidRow {
  std::string name;
  std::string file; // the file before, relative to the folder
  core::Uid uid = 0;
  std::string expected; // the new name; empty: the call fails with Scope::message
  bool present = true;  // false: the file is not there (another program moved it)
};

class MaildirSetUid : public ::testing::TestWithParam<SetUidRow> {};

TEST_P(MaildirSetUid, RenamesIntoCurWithTheUid) {
  const auto& row = GetParam();
  test::TempDir dir;
  auto folder = Folder::open(dir / "Mail", dir / "Mail" / "INBOX", true);
  ASSERT_TRUE(folder) << folder.error().what();
  const auto before = dir / "Mail" / "INBOX" / row.file;
  if (row.present) {
    test::write_file(before, "Subject: x\n\nbody\n");
  }

  auto renamed = folder->set_uid(row.file, row.uid);
  if (row.expected.empty()) {
    ASSERT_FALSE(renamed);
    EXPECT_EQ(renamed.error().scope, core::Scope::message);
    EXPECT_NE(renamed.error().message.find(before.string()), std::string::npos)
        << renamed.error().message;
    EXPECT_EQ(fs::exists(before), row.present) << "a refused file stays where it was";
    return;
  }
  ASSERT_TRUE(renamed) << renamed.error().what();
  EXPECT_EQ(*renamed, row.expected);
  EXPECT_FALSE(fs::exists(before));
  EXPECT_EQ(test::read_file(dir / "Mail" / "INBOX" / *renamed), "Subject: x\n\nbody\n");
  auto scan = folder->scan();
  ASSERT_TRUE(scan);
  ASSERT_EQ(scan->messages.size(), 1u);
  EXPECT_EQ(scan->messages[0].uid, row.uid);
  EXPECT_EQ(scan->messages[0].name, row.expected);
}

INSTANTIATE_TEST_SUITE_P(
    Rows, MaildirSetUid,
    ::testing::Values(
        SetUidRow{"new_without_info", "new/1700.P1Q1.host", 7, "cur/1700.P1Q1.host,U=7:2,"},
        SetUidRow{"cur_with_flags", "cur/1700.P1Q1.host:2,FS", 42, "cur/1700.P1Q1.host,U=42:2,FS"},
        SetUidRow{"cur_without_info", "cur/1700.P1Q1.host", 3, "cur/1700.P1Q1.host,U=3:2,"},
        SetUidRow{"other_tags_and_letters_kept", "cur/1700.P1Q1.host,FMD5=abc:2,Sa", 9,
                  "cur/1700.P1Q1.host,FMD5=abc,U=9:2,Sa"},
        SetUidRow{"already_has_a_uid", "cur/1700.P1Q1.host,U=5:2,S", 6, ""},
        SetUidRow{"uid_zero", "cur/1700.P1Q1.host:2,S", 0, ""},
        SetUidRow{"vanished", "cur/1700.P1Q1.host:2,S", 4, "", false}),
    test::RowName{});

} // namespace
} // namespace uidsync::maildir
