// SPDX-License-Identifier: GPL-3.0-or-later
// The account runner's pure parts: which folders, in which order, with which
// special use.
#include "support/table.hpp"

#include <uidsync/sync/account.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace uidsync::sync {
namespace {

struct WantedRow {
  std::string name;
  std::string folder;
  std::vector<std::string> include;
  std::vector<std::string> restrict;
  bool expected;
};

void PrintTo(const WantedRow& row, std::ostream* os) {
  *os << row.name;
}

const std::vector<WantedRow> k_wanted_rows{
    {"star_takes_all", "Work/Projects", {"*"}, {}, true},
    {"exclusion_wins", "Trash", {"*", "!Trash"}, {}, false},
    {"exclusion_before_inclusion_wins", "Trash", {"!Trash", "*"}, {}, false},
    {"no_match", "Sent", {"INBOX"}, {}, false},
    {"restrict_narrows", "Sent", {"*"}, {"INBOX"}, false},
    {"restrict_matches", "INBOX", {"*"}, {"INBOX"}, true},
    {"restrict_cannot_widen", "Trash", {"*", "!Trash"}, {"Trash"}, false},
    {"star_crosses_hierarchy", "a/b/c", {"a/*"}, {}, true},
};

class SyncFolderWanted : public ::testing::TestWithParam<WantedRow> {};

TEST_P(SyncFolderWanted, AppliesConfigGlobsThenRestriction) {
  const auto& row = GetParam();
  EXPECT_EQ(folder_wanted(row.folder, row.include, row.restrict), row.expected);
}

INSTANTIATE_TEST_SUITE_P(Rows, SyncFolderWanted, ::testing::ValuesIn(k_wanted_rows),
                         test::RowName{});

struct OrderRow {
  std::string name;
  std::vector<std::string> input;
  std::vector<std::string> expected;
};

void PrintTo(const OrderRow& row, std::ostream* os) {
  *os << row.name;
}

const std::vector<OrderRow> k_order_rows{
    {"inbox_first", {"Archive", "INBOX", "Sent"}, {"INBOX", "Archive", "Sent"}},
    {"inbox_any_case_first", {"A", "inbox"}, {"inbox", "A"}},
    {"inbox_children_sort_by_name", {"INBOX/z", "B", "INBOX"}, {"INBOX", "B", "INBOX/z"}},
    {"no_inbox", {"b", "a"}, {"a", "b"}},
    {"empty", {}, {}},
};

class SyncSortForSync : public ::testing::TestWithParam<OrderRow> {};

TEST_P(SyncSortForSync, InboxThenByName) {
  auto names = GetParam().input;
  sort_for_sync(names);
  EXPECT_EQ(names, GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(Rows, SyncSortForSync, ::testing::ValuesIn(k_order_rows), test::RowName{});

struct SpecialRow {
  std::string name;
  std::vector<std::string> attributes;
  std::vector<std::string> expected;
};

void PrintTo(const SpecialRow& row, std::ostream* os) {
  *os << row.name;
}

const std::vector<SpecialRow> k_special_rows{
    {"none", {"\\HasNoChildren"}, {}},
    {"sent", {"\\HasNoChildren", "\\Sent"}, {"\\Sent"}},
    {"any_case_spelt_as_rfc", {"\\TRASH", "\\junk"}, {"\\Trash", "\\Junk"}},
    {"all_seven",
     {"\\All", "\\Archive", "\\Drafts", "\\Flagged", "\\Junk", "\\Sent", "\\Trash"},
     {"\\All", "\\Archive", "\\Drafts", "\\Flagged", "\\Junk", "\\Sent", "\\Trash"}},
    {"noselect_is_not_special", {"\\Noselect", "\\Marked"}, {}},
};

class SyncSpecialUse : public ::testing::TestWithParam<SpecialRow> {};

TEST_P(SyncSpecialUse, KeepsOnlyRfc6154Attributes) {
  EXPECT_EQ(special_use(GetParam().attributes), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(Rows, SyncSpecialUse, ::testing::ValuesIn(k_special_rows),
                         test::RowName{});

} // namespace
} // namespace uidsync::sync
