// SPDX-License-Identifier: GPL-3.0-or-later
// Local folder listing, both layouts: the reverse of folder_path().
#include "support/table.hpp"
#include "support/temp_dir.hpp"

#include <uidsync/maildir/layout.hpp>
#include <uidsync/maildir/listing.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

namespace uidsync::maildir {
namespace {

namespace fs = std::filesystem;

struct ListingRow {
  std::string name;
  Layout layout;
  std::vector<std::string> maildirs;   // relative paths made into Maildirs (cur/new/tmp)
  std::vector<std::string> plain_dirs; // relative paths made as plain directories
  std::vector<std::string> files;      // relative paths of plain files
  std::vector<std::string> expected;   // folder names, sorted
};

void PrintTo(const ListingRow& row, std::ostream* os) {
  *os << row.name;
}

const std::vector<ListingRow> k_rows{
    {"fs_empty_root", Layout::fs, {}, {}, {}, {}},
    {"fs_flat", Layout::fs, {"INBOX", "Sent", "Archive"}, {}, {}, {"Archive", "INBOX", "Sent"}},
    {"fs_nested_under_plain_parent",
     Layout::fs,
     {"Work/Projects", "Work/Old/2020"},
     {},
     {},
     {"Work/Old/2020", "Work/Projects"}},
    {"fs_nested_under_maildir_parent",
     Layout::fs,
     {"INBOX", "INBOX/Lists"},
     {},
     {},
     {"INBOX", "INBOX/Lists"}},
    {"fs_maildir_own_dirs_are_not_folders",
     Layout::fs,
     {"INBOX"},
     {"INBOX/cur/odd", "INBOX/new/odd", "INBOX/tmp/odd"},
     {"INBOX/cur/123.host:2,S"},
     {"INBOX"}},
    {"fs_plain_dirs_and_notmuch_are_not_folders",
     Layout::fs,
     {"Mail"},
     {".notmuch/xapian", "Empty", "OnlyCur/cur"},
     {"notes.txt"},
     {"Mail"}},
    {"fs_utf8_and_dots_kept",
     Layout::fs,
     {"Entwürfe", "v1.2 notes"},
     {},
     {},
     {"Entwürfe", "v1.2 notes"}},
    {"pp_inbox_and_dotted",
     Layout::maildir_plus_plus,
     {"INBOX", ".Sent", ".Work.Projects"},
     {},
     {},
     {"INBOX", "Sent", "Work/Projects"}},
    {"pp_ignores_undotted_and_empty_components",
     Layout::maildir_plus_plus,
     {"Other", ".a..b", "..x", ".y.", ".Good"},
     {".notmuch"},
     {".file"},
     {"Good"}},
    {"pp_dotted_plain_dir_is_not_a_folder",
     Layout::maildir_plus_plus,
     {".Real"},
     {".Plain"},
     {},
     {"Real"}},
};

class MaildirListFolders : public ::testing::TestWithParam<ListingRow> {};

TEST_P(MaildirListFolders, FindsTheMaildirsAndNothingElse) {
  const auto& row = GetParam();
  test::TempDir tmp;
  const fs::path root = tmp / "Mail";
  fs::create_directories(root);
  for (const auto& m : row.maildirs) {
    for (const char* sub : {"cur", "new", "tmp"}) {
      fs::create_directories(root / m / sub);
    }
  }
  for (const auto& d : row.plain_dirs) {
    fs::create_directories(root / d);
  }
  for (const auto& f : row.files) {
    test::write_file(root / f, "x");
  }
  const auto listed = list_folders(root, row.layout);
  ASSERT_TRUE(listed) << listed.error().what();
  std::vector<std::string> names;
  for (const auto& f : *listed) {
    names.push_back(f.name);
    // Each name maps back onto the directory it was found in.
    const auto back = folder_path(root, f.name, '/', row.layout);
    ASSERT_TRUE(back) << back.error().what();
    EXPECT_EQ(*back, f.path) << f.name;
  }
  EXPECT_EQ(names, row.expected);
}

INSTANTIATE_TEST_SUITE_P(Rows, MaildirListFolders, ::testing::ValuesIn(k_rows), test::RowName{});

TEST(MaildirListFolders, MissingRootIsEmpty) {
  test::TempDir tmp;
  const auto listed = list_folders(tmp / "absent", Layout::fs);
  ASSERT_TRUE(listed) << listed.error().what();
  EXPECT_TRUE(listed->empty());
}

} // namespace
} // namespace uidsync::maildir
