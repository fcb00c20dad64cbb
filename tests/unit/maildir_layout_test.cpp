// SPDX-License-Identifier: GPL-3.0-or-later
// Folder name -> directory, with a table of hostile server-provided names.
#include "support/table.hpp"
#include "support/temp_dir.hpp"

#include <uidsync/maildir/folder.hpp>
#include <uidsync/maildir/layout.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

namespace uidsync::maildir {
namespace {

namespace fs = std::filesystem;
using namespace std::string_literals;

struct GoodRow {
  std::string name;
  std::string folder;
  char separator;
  Layout layout;
  std::string expected; // relative to the root
};

void PrintTo(const GoodRow& row, std::ostream* os) {
  *os << row.name;
}

const std::vector<GoodRow> k_good_rows{
    {"inbox", "INBOX", '/', Layout::fs, "INBOX"},
    {"inbox_any_case", "inbox", '/', Layout::fs, "INBOX"},
    {"nested_fs", "Work/Projects", '/', Layout::fs, "Work/Projects"},
    {"dot_separator_fs", "Work.Projects", '.', Layout::fs, "Work/Projects"},
    {"inbox_child_fs", "INBOX.Lists", '.', Layout::fs, "INBOX/Lists"},
    {"utf8_fs", "Entwürfe/Ärger", '/', Layout::fs, "Entwürfe/Ärger"},
    {"flat_namespace_keeps_slashless_name", "Archive 2024", '\0', Layout::fs, "Archive 2024"},
    {"dots_inside_fs_component", "v1.2 notes", '/', Layout::fs, "v1.2 notes"},
    {"leading_dot_fs_component", ".hidden", '/', Layout::fs, ".hidden"},
    {"top_level_tmp_fs", "tmp", '/', Layout::fs, "tmp"},
    {"inbox_maildirpp", "INBOX", '/', Layout::maildir_plus_plus, "INBOX"},
    {"nested_maildirpp", "Work/Projects", '/', Layout::maildir_plus_plus, ".Work.Projects"},
    {"inbox_child_maildirpp", "INBOX/Sub", '/', Layout::maildir_plus_plus, ".INBOX.Sub"},
    {"nested_cur_maildirpp", "Work/cur", '/', Layout::maildir_plus_plus, ".Work.cur"},
};

class MaildirLayoutGood : public ::testing::TestWithParam<GoodRow> {};

TEST_P(MaildirLayoutGood, MapsBelowTheRoot) {
  const auto& row = GetParam();
  const fs::path root = "/home/u/Mail";
  const auto path = folder_path(root, row.folder, row.separator, row.layout);
  ASSERT_TRUE(path) << path.error().what();
  EXPECT_EQ(*path, root / row.expected);
}

INSTANTIATE_TEST_SUITE_P(Rows, MaildirLayoutGood, ::testing::ValuesIn(k_good_rows),
                         test::RowName{});

struct HostileRow {
  std::string name;
  std::string folder;
  char separator;
  Layout layout;
  std::string reason; // part of the error message
};

void PrintTo(const HostileRow& row, std::ostream* os) {
  *os << row.name;
}

const std::vector<HostileRow> k_hostile_rows{
    {"empty", "", '/', Layout::fs, "the name is empty"},
    {"dotdot", "..", '/', Layout::fs, "\"..\" component"},
    {"dotdot_nested", "Work/../../etc", '/', Layout::fs, "\"..\" component"},
    {"dotdot_with_dot_separator", "INBOX...etc", '.', Layout::fs, "empty component"},
    {"dot_component", "Work/./x", '/', Layout::fs, "\".\" component"},
    {"absolute", "/etc/passwd", '/', Layout::fs, "starts with the hierarchy separator"},
    {"absolute_flat", "/etc", '\0', Layout::fs, "it is an absolute path"},
    {"slash_with_dot_separator", "a/../../b", '.', Layout::fs, "a component contains '/'"},
    {"slash_in_flat_namespace", "../x", '\0', Layout::fs, "a component contains '/'"},
    {"dotdot_flat", "..", '\0', Layout::fs, "\"..\" component"},
    {"doubled_separator", "Work//Projects", '/', Layout::fs, "empty component"},
    {"trailing_separator", "Work/", '/', Layout::fs, "empty component"},
    {"only_separator", "/", '/', Layout::fs, "starts with the hierarchy separator"},
    {"nul", "Work\0x"s, '/', Layout::fs, "contains NUL"},
    {"newline", "Work\nx", '/', Layout::fs, "control character"},
    {"escape", "Work\x1b[31m", '/', Layout::fs, "control character"},
    {"delete_char", "Work\x7f", '/', Layout::fs, "control character"},
    {"c1_control", "Work\xc2\x85x", '/', Layout::fs, "control character"},
    {"invalid_utf8", "Work\xff", '/', Layout::fs, "not valid UTF-8"},
    {"overlong_slash", "Work\xc0\xafx", '/', Layout::fs, "not valid UTF-8"},
    {"overlong_dot", "\xc0\xae\xc0\xae", '/', Layout::fs, "not valid UTF-8"},
    {"surrogate", "Work\xed\xa0\x80", '/', Layout::fs, "not valid UTF-8"},
    {"truncated_sequence", "Work\xe2\x82", '/', Layout::fs, "not valid UTF-8"},
    {"too_long_component", std::string(256, 'a'), '/', Layout::fs, "longer than 255 bytes"},
    {"nested_cur", "INBOX/cur", '/', Layout::fs, "would be inside the parent's Maildir"},
    {"nested_new", "Work.new", '.', Layout::fs, "would be inside the parent's Maildir"},
    {"nested_tmp", "a/tmp", '/', Layout::fs, "would be inside the parent's Maildir"},
    {"dot_in_maildirpp_component", "Work/a.b", '/', Layout::maildir_plus_plus,
     "Maildir++ separator"},
    {"dotdot_maildirpp", "..", '/', Layout::maildir_plus_plus, "\"..\" component"},
    {"absolute_maildirpp", "/x", '/', Layout::maildir_plus_plus,
     "starts with the hierarchy separator"},
    {"too_long_maildirpp_join", std::string(200, 'a') + "/" + std::string(200, 'b'), '/',
     Layout::maildir_plus_plus, "longer than 255 bytes"},
};

class MaildirLayoutHostile : public ::testing::TestWithParam<HostileRow> {};

TEST_P(MaildirLayoutHostile, IsRefusedWithTheFolderNamed) {
  const auto& row = GetParam();
  const auto path = folder_path("/home/u/Mail", row.folder, row.separator, row.layout);
  ASSERT_FALSE(path) << "mapped to " << path->string();
  EXPECT_EQ(path.error().scope, core::Scope::folder);
  EXPECT_NE(path.error().message.find(row.reason), std::string::npos) << path.error().message;
  EXPECT_NE(path.error().message.find("folder \""), std::string::npos);
  EXPECT_FALSE(path.error().hint.empty());
}

INSTANTIATE_TEST_SUITE_P(Rows, MaildirLayoutHostile, ::testing::ValuesIn(k_hostile_rows),
                         test::RowName{});

// Lists everything below `dir` (recursively, not following links).
std::vector<fs::path> tree(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    out.push_back(entry.path());
  }
  return out;
}

TEST(MaildirLayoutSandbox, NothingIsCreatedOutsideTheRoot) {
  test::TempDir dir;
  const auto root = dir / "root";
  std::size_t opened = 0;
  for (const auto& rows : {k_hostile_rows}) {
    for (const auto& row : rows) {
      for (const auto layout : {Layout::fs, Layout::maildir_plus_plus}) {
        for (const char sep : {'/', '.', '\0'}) {
          auto path = folder_path(root, row.folder, sep, layout);
          if (path && Folder::open(root, *path, true)) {
            ++opened;
          }
        }
      }
    }
  }
  EXPECT_GT(opened, 0U); // some names are fine with another separator or layout
  for (const auto& p : tree(dir.path())) {
    const auto rel = p.lexically_relative(root);
    EXPECT_FALSE(rel.empty() || *rel.begin() == "..") << p << " was created outside the root";
  }
}

TEST(MaildirLayoutSandbox, SymlinkBelowTheRootIsNotFollowed) {
  test::TempDir dir;
  const auto root = dir / "root";
  fs::create_directories(root);
  fs::create_directories(dir / "outside");
  fs::create_directory_symlink(dir / "outside", root / "Evil");
  auto path = folder_path(root, "Evil/Inner", '/', Layout::fs);
  ASSERT_TRUE(path);
  auto folder = Folder::open(root, *path, true);
  ASSERT_FALSE(folder);
  EXPECT_NE(folder.error().message.find("is a symbolic link"), std::string::npos)
      << folder.error().message;
  EXPECT_TRUE(fs::is_empty(dir / "outside"));
}

TEST(MaildirLayoutSandbox, OpenRefusesADirectoryOutsideTheRoot) {
  test::TempDir dir;
  auto folder = Folder::open(dir / "root", dir / "root/../elsewhere", true);
  ASSERT_FALSE(folder);
  EXPECT_NE(folder.error().message.find("is not below the root"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir / "elsewhere"));
}

} // namespace
} // namespace uidsync::maildir
