// SPDX-License-Identifier: GPL-3.0-or-later
// The executor's pure helpers: IMAP flags <-> Maildir letters, INTERNALDATE, file keys.
#include "support/table.hpp"

#include <uidsync/sync/executor.hpp>

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace uidsync::sync {
namespace {

struct FlagRow {
  std::string name;
  std::vector<std::string> imap;
  std::string letters; // Maildir letters of flags_from_imap(imap)
  std::string back;    // flags_to_imap of those letters
};

const FlagRow k_flag_rows[] = {
    {"none", {}, "", "()"},
    {"seen", {"\\Seen"}, "S", "(\\Seen)"},
    {"all_six",
     {"\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft", "$Forwarded"},
     "DFPRST",
     "(\\Draft \\Flagged $Forwarded \\Answered \\Seen \\Deleted)"},
    {"case_insensitive",
     {"\\SEEN", "\\flagged", "$forwarded"},
     "FPS",
     "(\\Flagged $Forwarded \\Seen)"},
    {"keywords_and_recent_ignored", {"\\Recent", "$Junk", "\\Answered"}, "R", "(\\Answered)"},
};

class SyncExecutorFlags : public ::testing::TestWithParam<FlagRow> {};

TEST_P(SyncExecutorFlags, MapsImapFlagsToLettersAndBack) {
  const auto& row = GetParam();
  const auto flags = flags_from_imap(row.imap);
  EXPECT_EQ(flags.to_maildir(), row.letters);
  EXPECT_EQ(flags_to_imap(flags), row.back);
}

INSTANTIATE_TEST_SUITE_P(Rows, SyncExecutorFlags, ::testing::ValuesIn(k_flag_rows),
                         test::RowName{});

struct DateRow {
  std::string name;
  std::string text;
  std::optional<std::int64_t> seconds;
};

const DateRow k_date_rows[] = {
    {"utc", "01-Jan-2020 00:00:00 +0000", 1577836800},
    {"rfc3501_example", "17-Jul-1996 02:44:25 -0700", 837596665},
    {"positive_zone", "01-Jan-2020 01:30:00 +0130", 1577836800},
    {"space_padded_day", " 1-Jan-2020 00:00:00 +0000", 1577836800},
    {"month_case", "01-JAN-2020 00:00:00 +0000", 1577836800},
    {"bad_month", "01-Foo-2020 00:00:00 +0000", std::nullopt},
    {"no_zone", "01-Jan-2020 00:00:00", std::nullopt},
    {"trailing_text", "01-Jan-2020 00:00:00 +0000 x", std::nullopt},
    {"empty", "", std::nullopt},
};

class SyncExecutorDate : public ::testing::TestWithParam<DateRow> {};

TEST_P(SyncExecutorDate, ParsesInternaldate) {
  EXPECT_EQ(parse_internaldate(GetParam().text), GetParam().seconds);
}

INSTANTIATE_TEST_SUITE_P(Rows, SyncExecutorDate, ::testing::ValuesIn(k_date_rows), test::RowName{});

struct KeyRow {
  std::string name;
  std::string local_name;
  std::string key;
};

const KeyRow k_key_rows[] = {
    {"cur_with_flags", "cur/1600.P1Q2M3.host,U=7:2,FS", "1600.P1Q2M3.host,U=7"},
    {"new_without_info", "new/1600.P1Q2M3.host,U=7", "1600.P1Q2M3.host,U=7"},
    {"no_uid", "cur/1600.x.host:2,", "1600.x.host"},
    {"bare_file", "1600.x.host:2,S", "1600.x.host"},
};

class SyncExecutorKey : public ::testing::TestWithParam<KeyRow> {};

TEST_P(SyncExecutorKey, KeyIsStableUnderFlagRenames) {
  EXPECT_EQ(message_key(GetParam().local_name), GetParam().key);
}

INSTANTIATE_TEST_SUITE_P(Rows, SyncExecutorKey, ::testing::ValuesIn(k_key_rows), test::RowName{});

} // namespace
} // namespace uidsync::sync
