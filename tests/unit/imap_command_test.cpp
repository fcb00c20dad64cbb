// SPDX-License-Identifier: GPL-3.0-or-later
// Command builder tables (atom / quoted / literal choice, LITERAL+/-, mUTF-7) and
// UID-set splitting under the 8 KB command-line limit.
#include <uidsync/imap/command.hpp>

#include "support/table.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

namespace uidsync::imap {
namespace {

struct BuildRow {
  std::string name;
  LiteralMode mode;
  std::function<void(CommandBuilder&)> args;
  std::vector<std::string> parts;
};

void PrintTo(const BuildRow& row, std::ostream* os) { *os << row.name; }

class ImapCommandBuild : public ::testing::TestWithParam<BuildRow> {};

TEST_P(ImapCommandBuild, ProducesParts) {
  CommandBuilder b("X", GetParam().mode);
  GetParam().args(b);
  auto command = b.build();
  ASSERT_TRUE(command) << command.error().what();
  EXPECT_EQ(command->parts, GetParam().parts);
}

using M = LiteralMode;
using B = CommandBuilder;
const std::string k_long(5000, 'a');

INSTANTIATE_TEST_SUITE_P(
    Rows, ImapCommandBuild,
    ::testing::Values(
        BuildRow{"no_args", M::synchronizing, [](B&) {}, {"X\r\n"}},
        BuildRow{"atom", M::synchronizing, [](B& b) { b.astring("Sent"); }, {"X Sent\r\n"}},
        BuildRow{"atom_with_bracket_is_quoted", M::synchronizing, [](B& b) { b.astring("a]b"); },
                 {"X \"a]b\"\r\n"}},
        BuildRow{"empty_is_quoted", M::synchronizing, [](B& b) { b.astring(""); }, {"X \"\"\r\n"}},
        BuildRow{"space_is_quoted", M::synchronizing, [](B& b) { b.astring("My Folder"); },
                 {"X \"My Folder\"\r\n"}},
        BuildRow{"quote_and_backslash_escaped", M::synchronizing,
                 [](B& b) { b.astring("a\"b\\c"); }, {"X \"a\\\"b\\\\c\"\r\n"}},
        BuildRow{"wildcards_are_quoted", M::synchronizing, [](B& b) { b.astring("a*%"); },
                 {"X \"a*%\"\r\n"}},
        BuildRow{"crlf_needs_literal_sync", M::synchronizing, [](B& b) { b.string("a\r\nb"); },
                 {"X {4}\r\n", "a\r\nb\r\n"}},
        BuildRow{"eight_bit_needs_literal", M::synchronizing, [](B& b) { b.string("caf\xc3\xa9"); },
                 {"X {5}\r\n", "caf\xc3\xa9\r\n"}},
        BuildRow{"literal_plus", M::plus, [](B& b) { b.string("a\r\nb"); },
                 {"X {4+}\r\na\r\nb\r\n"}},
        BuildRow{"literal_minus_small", M::minus, [](B& b) { b.literal("abc"); },
                 {"X {3+}\r\nabc\r\n"}},
        BuildRow{"literal_minus_large_waits", M::minus, [](B& b) { b.literal(k_long); },
                 {"X {5000}\r\n", k_long + "\r\n"}},
        BuildRow{"literal_plus_large", M::plus, [](B& b) { b.literal(k_long); },
                 {"X {5000+}\r\n" + k_long + "\r\n"}},
        BuildRow{"long_string_goes_literal", M::synchronizing,
                 [](B& b) { b.string(std::string(2000, 'q')); },
                 {"X {2000}\r\n", std::string(2000, 'q') + "\r\n"}},
        BuildRow{"two_literals_sync", M::synchronizing,
                 [](B& b) {
                   b.literal("a");
                   b.raw("(\\Seen)");
                   b.literal("b");
                 },
                 {"X {1}\r\n", "a (\\Seen) {1}\r\n", "b\r\n"}},
        BuildRow{"mailbox_inbox_any_case", M::synchronizing, [](B& b) { b.mailbox("inbox"); },
                 {"X INBOX\r\n"}},
        BuildRow{"mailbox_mutf7", M::synchronizing, [](B& b) { b.mailbox("Entwürfe"); },
                 {"X Entw&APw-rfe\r\n"}},
        BuildRow{"mailbox_mutf7_with_space", M::synchronizing,
                 [](B& b) { b.mailbox("Gesendete Objekte/Größe"); },
                 {"X \"Gesendete Objekte/Gr&APYA3w-e\"\r\n"}},
        BuildRow{"mailbox_ampersand", M::synchronizing, [](B& b) { b.mailbox("A&B"); },
                 {"X A&-B\r\n"}},
        BuildRow{"number_and_set", M::synchronizing,
                 [](B& b) {
                   b.number(42);
                   b.uid_set(UidSet::of({1, 2, 3, 7}));
                 },
                 {"X 42 1:3,7\r\n"}},
        BuildRow{"raw_list", M::synchronizing, [](B& b) { b.raw("(UID FLAGS)"); },
                 {"X (UID FLAGS)\r\n"}}),
    test::RowName{});

TEST(ImapCommandBuildErrors, InvalidUtf8MailboxFails) {
  CommandBuilder b("SELECT");
  b.mailbox("bad\xff");
  auto command = b.build();
  ASSERT_FALSE(command);
  EXPECT_EQ(command.error().scope, core::Scope::folder);
  EXPECT_NE(command.error().message.find("SELECT"), std::string::npos);
}

TEST(ImapCommandBuildErrors, NulInLiteralFails) {
  CommandBuilder b("APPEND");
  b.literal(std::string("a\0b", 3));
  EXPECT_FALSE(b.build());
}

struct SetRow {
  std::string name;
  std::vector<std::uint32_t> uids;
  std::string text;
  std::uint64_t count;
};

void PrintTo(const SetRow& row, std::ostream* os) { *os << row.name; }

class ImapUidSet : public ::testing::TestWithParam<SetRow> {};

TEST_P(ImapUidSet, CompactsAndParsesBack) {
  auto set = UidSet::of(GetParam().uids);
  EXPECT_EQ(set.to_string(), GetParam().text);
  EXPECT_EQ(set.count(), GetParam().count);
  if (!GetParam().text.empty()) {
    EXPECT_EQ(UidSet::parse(GetParam().text), set);
  }
  UidSet added;
  for (auto it = GetParam().uids.rbegin(); it != GetParam().uids.rend(); ++it) {
    added.add(*it);
  }
  EXPECT_EQ(added, set);
  for (auto uid : GetParam().uids) {
    EXPECT_TRUE(set.contains(uid));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Rows, ImapUidSet,
    ::testing::Values(SetRow{"empty", {}, "", 0}, SetRow{"one", {5}, "5", 1},
                      SetRow{"run", {3, 1, 2}, "1:3", 3},
                      SetRow{"gaps", {1, 2, 3, 7, 9, 10}, "1:3,7,9:10", 6},
                      SetRow{"duplicates", {4, 4, 5}, "4:5", 2},
                      SetRow{"max_uid", {4294967295u, 4294967294u}, "4294967294:4294967295", 2},
                      SetRow{"zero", {0, 1}, "0:1", 2}),
    test::RowName{});

TEST(ImapUidSetParse, RejectsGarbage) {
  EXPECT_FALSE(UidSet::parse(""));
  EXPECT_FALSE(UidSet::parse("1:*"));
  EXPECT_FALSE(UidSet::parse("1,,2"));
  EXPECT_FALSE(UidSet::parse("4294967296"));
  EXPECT_EQ(UidSet::parse("5:1"), UidSet::of({1, 2, 3, 4, 5}));
}

TEST(ImapUidSetContains, OutsideRanges) {
  auto set = UidSet::of({2, 3, 10});
  EXPECT_FALSE(set.contains(1));
  EXPECT_FALSE(set.contains(4));
  EXPECT_FALSE(set.contains(11));
}

// Every other UID from 1 to 40 000: 20 000 ranges, about 117 KB as one set.
TEST(ImapUidSetCommands, NoLineExceedsEightKilobytesAndNothingIsLost) {
  std::vector<std::uint32_t> uids;
  for (std::uint32_t u = 1; u <= 40000; u += 2) {
    uids.push_back(u);
  }
  auto set = UidSet::of(uids);
  auto commands = uid_set_commands("UID FETCH", set, "(UID FLAGS BODY.PEEK[])");
  ASSERT_GT(commands.size(), 10u);
  UidSet covered;
  std::uint32_t last = 0;
  for (const auto& c : commands) {
    ASSERT_EQ(c.parts.size(), 1u);
    auto line = "uidsync999999 " + c.parts[0];
    EXPECT_LE(line.size(), k_max_command_line);
    if (&c != &commands.back()) {
      EXPECT_GT(line.size(), k_max_command_line - 64) << "pieces should be nearly full";
    }
    auto set_text = c.parts[0].substr(10, c.parts[0].find(' ', 10) - 10);
    auto piece = UidSet::parse(set_text);
    ASSERT_TRUE(piece) << set_text;
    EXPECT_GT(piece->ranges().front().first, last);
    last = piece->ranges().back().last;
    for (const auto& r : piece->ranges()) {
      covered.add_range(r.first, r.last);
    }
  }
  EXPECT_EQ(covered, set);
}

TEST(ImapUidSetCommands, SmallSetIsOneCommand) {
  auto commands = uid_set_commands("UID STORE", UidSet::of({1, 2, 3}), "+FLAGS (\\Seen)");
  ASSERT_EQ(commands.size(), 1u);
  EXPECT_EQ(commands[0].parts[0], "UID STORE 1:3 +FLAGS (\\Seen)\r\n");
  EXPECT_TRUE(uid_set_commands("UID FETCH", UidSet{}, "(UID)").empty());
}

} // namespace
} // namespace uidsync::imap
