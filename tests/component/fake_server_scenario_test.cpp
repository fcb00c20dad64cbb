// SPDX-License-Identifier: GPL-3.0-or-later
// The scenario language: what each line builds, and the error each bad line gives.
#include "support/scenario.hpp"
#include "support/table.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <functional>
#include <string>
#include <vector>

namespace uidsync::test {
namespace {

std::string uids(const FakeFolder& folder) {
  std::string out;
  for (const auto& message : folder.messages) {
    out += (out.empty() ? "" : " ") + std::to_string(message->uid);
  }
  return out;
}

std::string sizes(const FakeFolder& folder) {
  std::string out;
  for (const auto& message : folder.messages) {
    out += (out.empty() ? "" : " ") + std::to_string(message->body.size());
  }
  return out;
}

struct ParseRow {
  std::string name;
  std::string text;
  // A one-line summary of INBOX: "uids=... uidnext=N uidvalidity=V sizes=..."
  std::string inbox;
};

const std::vector<ParseRow> k_parse_rows = {
    {"Generate", "folder INBOX uidvalidity=9\ngenerate 3 size=500\n", "uids=1 2 3 uidnext=4 uidvalidity=9 sizes=500 500 500"},
    {"GenerateSizeRangeStaysInRange", "folder INBOX uidvalidity=9\ngenerate 2 start=10 size=300..301\n",
     "uids=10 11 uidnext=12 uidvalidity=9 sizes=300 301"},
    {"GenerateTinySize", "folder INBOX uidvalidity=9\ngenerate 1 size=1\n", "uids=1 uidnext=2 uidvalidity=9 sizes=152"},
    {"MessageInlineUnstuffsDots", "folder INBOX uidvalidity=9\nmessage 5 inline\nSubject: x\n\n..dot\n.\n",
     "uids=5 uidnext=6 uidvalidity=9 sizes=20"},
    {"ExplicitUidnextKeptIfHigher", "folder INBOX uidvalidity=9 uidnext=50\nmessage 5 size=300\n",
     "uids=5 uidnext=50 uidvalidity=9 sizes=300"},
    {"UidnextBelowMax", "folder INBOX uidvalidity=9\ngenerate 4\nuidnext_below_max\n",
     "uids=1 2 3 4 uidnext=4 uidvalidity=9 sizes=1000 1000 1000 1000"},
    {"DuplicateUid", "folder INBOX uidvalidity=9\ngenerate 3\nduplicate_uid 2\n",
     "uids=1 2 2 3 uidnext=4 uidvalidity=9 sizes=1000 1000 1000 1000"},
    {"UidZeroAndAboveUidnext", "folder INBOX uidvalidity=9\ngenerate 2\nuid_zero\nuid_at_or_above_uidnext\n",
     "uids=0 1 2 3 uidnext=3 uidvalidity=9 sizes=600 1000 1000 600"},
    {"Expunge", "folder INBOX uidvalidity=9\ngenerate 3\nexpunge 2\n", "uids=1 3 uidnext=4 uidvalidity=9 sizes=1000 1000"},
    {"Renumber", "folder INBOX uidvalidity=9\ngenerate 2 start=70\nrenumber\n",
     "uids=1 2 uidnext=3 uidvalidity=10 sizes=1000 1000"},
};

class FakeServerScenarioParse : public ::testing::TestWithParam<ParseRow> {};

TEST_P(FakeServerScenarioParse, BuildsTheMailbox) {
  const ParseRow& row = GetParam();
  auto scenario = parse_scenario(row.text, "t.scn", ".");
  ASSERT_TRUE(scenario) << scenario.error().what();
  const FakeFolder& inbox = scenario->world.folders.at("INBOX");
  EXPECT_EQ("uids=" + uids(inbox) + " uidnext=" + std::to_string(inbox.uidnext) +
                " uidvalidity=" + std::to_string(inbox.uidvalidity) + " sizes=" + sizes(inbox),
            row.inbox);
}

INSTANTIATE_TEST_SUITE_P(Rows, FakeServerScenarioParse, ::testing::ValuesIn(k_parse_rows), RowName{});

struct ErrorRow {
  std::string name;
  std::string text;
  std::string error; // the start of Error::message
};

const std::vector<ErrorRow> k_error_rows = {
    {"UnknownDirective", "folder INBOX\nbogus 1\n", "t.scn:2: unknown directive 'bogus'"},
    {"MessageWithoutFolder", "message 1\n", "t.scn:1: no folder selected: write 'folder NAME' first"},
    {"NoInbox", "folder Sent\n", "t.scn: the scenario has no INBOX folder"},
    {"BadUid", "folder INBOX\nno x\n", "t.scn:2: 'x' is not a UID"},
    {"MissingUid", "folder INBOX\nhang\n", "t.scn:2: 'hang' needs a UID"},
    {"ZeroDelta", "folder INBOX\nsize_mismatch 1 0\n", "t.scn:2: size_mismatch DELTA must be a non-zero number"},
    {"UnknownCapability", "capabilities IMAP5\nfolder INBOX\n", "t.scn:1: unknown capability 'IMAP5'"},
    {"UnknownOption", "folder INBOX colour=red\n", "t.scn:1: unknown option 'colour=red' for 'folder'"},
    {"InlineWithoutEnd", "folder INBOX\nmessage 1 inline\nSubject: x\n", "t.scn:3: inline message body has no terminating"},
    {"BlockWithoutEnd", "folder INBOX\non session 2:\nheal all\n", "t.scn:3: 'on session 2:' has no matching 'end'"},
    {"BadSessionNumber", "folder INBOX\non session 0:\nend\n", "t.scn:2: expected 'on session N:'"},
    {"BlockErrorFoundAtLoad", "folder INBOX\ngenerate 2\non session 3:\nexpunge 99\nend\n",
     "t.scn:4: folder 'INBOX' has no UID 99"},
    {"RawBadMode", "folder INBOX\nraw NOOP during text=x\n", "t.scn:2: raw: 'during' is not before, after or instead"},
    {"RawBadEscape", "folder INBOX\nraw NOOP after text=\\xZZ\n", "t.scn:2: bad \\x escape"},
    {"UidvalidityChangeNeedsSession", "folder INBOX\nuidvalidity_change x\n",
     "t.scn:2: expected 'uidvalidity_change SESSION [uidvalidity=V]'"},
};

class FakeServerScenarioError : public ::testing::TestWithParam<ErrorRow> {};

TEST_P(FakeServerScenarioError, NamesFileLineAndProblem) {
  const ErrorRow& row = GetParam();
  auto scenario = parse_scenario(row.text, "t.scn", ".");
  ASSERT_FALSE(scenario);
  EXPECT_EQ(scenario.error().message.substr(0, row.error.size()), row.error) << scenario.error().message;
  EXPECT_EQ(scenario.error().scope, core::Scope::fatal);
  EXPECT_FALSE(scenario.error().hint.empty());
}

INSTANTIATE_TEST_SUITE_P(Rows, FakeServerScenarioError, ::testing::ValuesIn(k_error_rows), RowName{});

struct RawRow {
  std::string name;
  std::string text;
  std::string bytes;
};

const std::vector<RawRow> k_raw_rows = {
    {"CrLf", "* OK\\r\\n", "* OK\r\n"},
    {"Nul", "a\\0b", std::string("a\0b", 3)},
    {"Hex", "\\xff\\x07", "\xff\x07"},
    {"FlagsStayAsWritten", "(\\Seen \\Noselect)", "(\\Seen \\Noselect)"},
    {"Repeat", "${repeat:3:ab}!", "ababab!"},
    {"RepeatWithEscape", "${repeat:2:\\r\\n}", "\r\n\r\n"},
    {"TagIsLeftForTheServer", "${tag} OK", "${tag} OK"},
};

class FakeServerRawText : public ::testing::TestWithParam<RawRow> {};

TEST_P(FakeServerRawText, ExpandsEscapes) {
  const RawRow& row = GetParam();
  auto bytes = expand_raw_text(row.text);
  ASSERT_TRUE(bytes) << bytes.error().what();
  EXPECT_EQ(*bytes, row.bytes);
}

INSTANTIATE_TEST_SUITE_P(Rows, FakeServerRawText, ::testing::ValuesIn(k_raw_rows), RowName{});

// Every shipped scenario file loads.
class FakeServerScenarioFiles : public ::testing::TestWithParam<std::string> {};

TEST_P(FakeServerScenarioFiles, Load) {
  auto scenario = load_scenario(GetParam());
  ASSERT_TRUE(scenario) << scenario.error().what();
  EXPECT_FALSE(scenario->world.folders.at("INBOX").name.empty());
}

std::vector<std::string> scenario_files() {
  std::vector<std::string> out;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(UIDSYNC_TEST_DATA_DIR) + "/scenarios")) {
    if (entry.path().extension() == ".scn") {
      out.push_back(entry.path().filename().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

INSTANTIATE_TEST_SUITE_P(Rows, FakeServerScenarioFiles, ::testing::ValuesIn(scenario_files()),
                         [](const ::testing::TestParamInfo<std::string>& param_info) {
                           return param_info.param.substr(0, param_info.param.size() - 4);
                         });

TEST(FakeServerScenario, ExchangePoisonHasOnePoisonPerFailureMode) {
  auto scenario = load_scenario("exchange_poison.scn");
  ASSERT_TRUE(scenario) << scenario.error().what();
  const FakeFolder& inbox = scenario->world.folders.at("INBOX");
  EXPECT_EQ(inbox.messages.size(), 1000U);
  std::set<std::string> kinds;
  for (const auto& fault : inbox.faults) {
    kinds.insert(std::string(to_string(fault.kind)));
    EXPECT_TRUE(std::any_of(inbox.messages.begin(), inbox.messages.end(),
                            [&](const auto& m) { return m->uid == fault.uid; }))
        << fault.uid;
  }
  EXPECT_EQ(kinds, (std::set<std::string>{"ok_no_data", "exchange_stub", "exchange_stub_body", "no", "bad", "nil_body",
                                          "size_mismatch", "drop_mid_literal", "hang"}));
  EXPECT_EQ(scenario->world.cut_after_errors, 10);
}

} // namespace
} // namespace uidsync::test
