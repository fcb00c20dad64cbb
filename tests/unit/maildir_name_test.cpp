// SPDX-License-Identifier: GPL-3.0-or-later
// Maildir file names: ours, mbsync's and OfflineIMAP's; flag changes; uniqueness.
#include "support/table.hpp"

#include <uidsync/maildir/name.hpp>

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace uidsync::maildir {
namespace {

struct ParseRow {
  std::string name;
  std::string file;
  bool is_message;
  ParsedName expected;
};

void PrintTo(const ParseRow& row, std::ostream* os) {
  *os << row.name;
}

ParsedName parsed(std::string base, core::Uid uid, std::string fmd5, std::string letters,
                  std::string other, bool has_info) {
  return ParsedName{std::move(base),  uid,     std::move(fmd5), core::Flags::from_maildir(letters),
                    std::move(other), has_info};
}

const std::vector<ParseRow> k_parse_rows{
    {"ours", "1700000000.P12Q3M456.host,U=42:2,FS", true,
     parsed("1700000000.P12Q3M456.host", 42, "", "FS", "", true)},
    {"ours_in_new_without_info", "1700000000.P12Q3M456.host,U=7", true,
     parsed("1700000000.P12Q3M456.host", 7, "", "", "", false)},
    {"mbsync", "1699999999.12345_7.laptop,U=1234:2,FS", true,
     parsed("1699999999.12345_7.laptop", 1234, "", "FS", "", true)},
    {"offlineimap", "1699999999_0.4242.laptop,U=88,FMD5=7e33429f656f1e6e9d79b29c3f82c57e:2,RS",
     true,
     parsed("1699999999_0.4242.laptop", 88, "7e33429f656f1e6e9d79b29c3f82c57e", "RS", "", true)},
    {"dovecot_size_tags", "1699999999.M1P2.host,S=1234,W=1260:2,Sa", true,
     parsed("1699999999.M1P2.host", 0, "", "S", "a", true)},
    {"plain_no_tags", "1699999999.123.host", true,
     parsed("1699999999.123.host", 0, "", "", "", false)},
    {"uid_zero_is_no_uid", "1.2.h,U=0:2,S", true, parsed("1.2.h", 0, "", "S", "", true)},
    {"uid_too_big", "1.2.h,U=4294967296:2,", true, parsed("1.2.h", 0, "", "", "", true)},
    {"uid_max", "1.2.h,U=4294967295:2,", true, parsed("1.2.h", 4294967295U, "", "", "", true)},
    {"uid_not_a_number", "1.2.h,U=12x:2,S", true, parsed("1.2.h", 0, "", "S", "", true)},
    {"escaped_host_colon", "1.2.h\\072x,U=5:2,T", true,
     parsed("1.2.h\\072x", 5, "", "T", "", true)},
    {"unknown_info_version", "1.2.h,U=5:1,xyz", true, parsed("1.2.h", 5, "", "", "", false)},
    {"dotfile", ".dovecot.index", false, {}},
    {"empty", "", false, {}},
};

class MaildirNameParse : public ::testing::TestWithParam<ParseRow> {};

TEST_P(MaildirNameParse, ReadsUidFlagsAndTags) {
  const auto& row = GetParam();
  const auto result = parse_name(row.file);
  ASSERT_EQ(result.has_value(), row.is_message);
  if (row.is_message) {
    EXPECT_EQ(*result, row.expected);
  }
}

INSTANTIATE_TEST_SUITE_P(Rows, MaildirNameParse, ::testing::ValuesIn(k_parse_rows),
                         test::RowName{});

struct FlagsRow {
  std::string name;
  std::string file;
  std::string letters;
  std::string expected;
};

class MaildirNameWithFlags : public ::testing::TestWithParam<FlagsRow> {};

TEST_P(MaildirNameWithFlags, ReplacesInfoKeepingTags) {
  const auto& row = GetParam();
  EXPECT_EQ(with_flags(row.file, core::Flags::from_maildir(row.letters)), row.expected);
}

INSTANTIATE_TEST_SUITE_P(
    Rows, MaildirNameWithFlags,
    ::testing::Values(FlagsRow{"add_seen", "1.2.h,U=5:2,F", "FS", "1.2.h,U=5:2,FS"},
                      FlagsRow{"clear_all", "1.2.h,U=5:2,FRS", "", "1.2.h,U=5:2,"},
                      FlagsRow{"from_new_without_info", "1.2.h,U=5", "S", "1.2.h,U=5:2,S"},
                      FlagsRow{"keeps_fmd5", "1_0.4.h,U=8,FMD5=abc:2,S", "RS",
                               "1_0.4.h,U=8,FMD5=abc:2,RS"},
                      FlagsRow{"keeps_foreign_letters", "1.2.h:2,Sab", "T", "1.2.h:2,Tab"},
                      FlagsRow{"sorts", "1.2.h,U=1:2,", "TSRPFD", "1.2.h,U=1:2,DFPRST"}),
    test::RowName{});

TEST(MaildirNameFormat, RoundTripsThroughParse) {
  const auto base = make_base(1700000000);
  const auto file = format_name(base, 99, core::Flags::from_maildir("SF"));
  EXPECT_EQ(file, base + ",U=99:2,FS");
  const auto back = parse_name(file);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->base, base);
  EXPECT_EQ(back->uid, 99U);
  EXPECT_EQ(back->flags.to_maildir(), "FS");
  EXPECT_TRUE(base.starts_with("1700000000.P"));
  EXPECT_EQ(base.find_first_of(",:/"), std::string::npos) << base;
}

TEST(MaildirNameUnique, AcrossThreadsAndProcesses) {
  constexpr int k_threads = 8;
  constexpr int k_per_thread = 2000;
  std::mutex mutex;
  std::set<std::string> names;
  std::vector<std::thread> threads;
  for (int t = 0; t < k_threads; ++t) {
    threads.emplace_back([&] {
      std::vector<std::string> mine;
      for (int i = 0; i < k_per_thread; ++i) {
        mine.push_back(make_base(1700000000));
      }
      std::lock_guard lock(mutex);
      names.insert(mine.begin(), mine.end());
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(names.size(), static_cast<std::size_t>(k_threads * k_per_thread));

  // A forked child continues the same counter in the same second: the pid keeps
  // its names apart.
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(fds[0]);
    for (int i = 0; i < 500; ++i) {
      const auto name = make_base(1700000000) + "\n";
      if (::write(fds[1], name.data(), name.size()) < 0) {
        ::_exit(2);
      }
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string from_child;
  char buf[4096];
  for (ssize_t n = 0; (n = ::read(fds[0], buf, sizeof buf)) > 0;) {
    from_child.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  for (int i = 0; i < 500; ++i) {
    names.insert(make_base(1700000000));
  }
  std::size_t lines = 0;
  for (std::size_t start = 0, end = 0; (end = from_child.find('\n', start)) != std::string::npos;
       start = end + 1) {
    names.insert(from_child.substr(start, end - start));
    ++lines;
  }
  EXPECT_EQ(lines, 500U);
  EXPECT_EQ(names.size(), static_cast<std::size_t>(k_threads * k_per_thread + 1000));
}

} // namespace
} // namespace uidsync::maildir
