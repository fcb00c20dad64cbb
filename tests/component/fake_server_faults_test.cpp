// SPDX-License-Identifier: GPL-3.0-or-later
// Each fault of exchange_poison.scn produces exactly the bytes it is documented to produce.
#include "support/curl_imap_client.hpp"
#include "support/fake_imap_server.hpp"
#include "support/table.hpp"

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace uidsync::test {
namespace {

using namespace std::chrono_literals;

// A server for `scenario_name` and a client logged in with INBOX selected.
struct Fixture {
  explicit Fixture(const std::string& scenario_name) : server(must_load_scenario(scenario_name)) {
    client = connect_plain(server.url(), "alice", "secret");
    if (client->result() != CURLE_OK) {
      throw std::runtime_error("login failed");
    }
    selected = client->command("s1", "SELECT INBOX");
  }
  FakeImapServer server;
  std::unique_ptr<CurlImapClient> client;
  std::string selected;
};

const std::string k_stub_header_15541 = "From: Microsoft Exchange Server 2010\r\n"
                                        "To: user@example.org\r\n"
                                        "Subject: Retrieval using the IMAP4 protocol failed for the following "
                                        "message: 15541\r\n"
                                        "Date: Mon, 01 Jan 2024 00:00:00 +0000\r\n"
                                        "Content-Type: text/plain; charset=\"us-ascii\"\r\n"
                                        "\r\n";

const std::string k_stub_message_15542 =
    "From: Microsoft Exchange Server 2010\r\n"
    "To: user@example.org\r\n"
    "Subject: Retrieval using the IMAP4 protocol failed for the following message: 15542\r\n"
    "Date: Mon, 01 Jan 2024 00:00:00 +0000\r\n"
    "Content-Type: text/plain; charset=\"us-ascii\"\r\n"
    "\r\n"
    "The server couldn't retrieve the following message:\r\n"
    "\r\n"
    "Subject: \"Message 15542\"\r\n"
    "From: \"Sender\" (\"sender@example.org\")\r\n"
    "Sent date: 1/1/2024 12:00:00 AM\r\n"
    "\r\n"
    "The message hasn't been deleted. You might be able to view it using either Outlook or Outlook Web App. "
    "You can also try contacting the sender to find out what the message says.\r\n";

struct FaultRow {
  std::string name;
  std::string command; // sent with tag "t" after SELECT INBOX
  std::string expected;
};

const std::vector<FaultRow> k_fault_rows = {
    {"OkNoData", "UID FETCH 15101 (UID BODY.PEEK[])", "t OK Fetch completed.\r\n"},
    {"OkNoDataHeaderStillServed", "UID FETCH 15101 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])",
     "* 101 FETCH (UID 15101 BODY[HEADER.FIELDS (SUBJECT)] {26}\r\nSubject: Message 15101\r\n\r\n)\r\n"
     "t OK Fetch completed.\r\n"},
    {"ExchangeStubBodyHasNoData", "UID FETCH 15541 (BODY.PEEK[])", "t OK Fetch completed.\r\n"},
    {"ExchangeStubHeader", "UID FETCH 15541 (BODY.PEEK[HEADER])",
     "* 541 FETCH (UID 15541 BODY[HEADER] {232}\r\n" + k_stub_header_15541 + ")\r\nt OK Fetch completed.\r\n"},
    {"ExchangeStubServedAsBody", "UID FETCH 15542 (RFC822.SIZE BODY.PEEK[])",
     "* 542 FETCH (UID 15542 RFC822.SIZE 565 BODY[] {565}\r\n" + k_stub_message_15542 +
         ")\r\nt OK Fetch completed.\r\n"},
    {"ExchangeStubFoldedSubject", "UID FETCH 15543 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])",
     "* 543 FETCH (UID 15543 BODY[HEADER.FIELDS (SUBJECT)] {89}\r\n"
     "Subject: Retrieval using the IMAP4 protocol failed for the following\r\n message: 15543\r\n\r\n)\r\n"
     "t OK Fetch completed.\r\n"},
    {"ExchangeStubEncodedSubject", "UID FETCH 15544 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])",
     "* 544 FETCH (UID 15544 BODY[HEADER.FIELDS (SUBJECT)] {99}\r\n"
     "Subject: =?utf-8?Q?Retrieval_using_the_IMAP4_protocol_failed_for_the_following_message:_15544?=\r\n\r\n)\r\n"
     "t OK Fetch completed.\r\n"},
    {"ExchangeStubOtherUidInSubject", "UID FETCH 15545 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])",
     "* 545 FETCH (UID 15545 BODY[HEADER.FIELDS (SUBJECT)] {87}\r\n"
     "Subject: Retrieval using the IMAP4 protocol failed for the following message: 15546\r\n\r\n)\r\n"
     "t OK Fetch completed.\r\n"},
    {"NoFailsWholeBatch", "UID FETCH 15590:15610 (BODY.PEEK[])", "t NO Server Unavailable. 15\r\n"},
    {"NoOnlyForBodies", "UID FETCH 15601 (FLAGS)", "* 601 FETCH (UID 15601 FLAGS ())\r\nt OK Fetch completed.\r\n"},
    {"BadFailsWholeBatch", "UID FETCH 15602:15603 (BODY.PEEK[])", "t BAD Command Argument Error. 11\r\n"},
    {"NilBody", "UID FETCH 15701 (BODY.PEEK[])", "* 701 FETCH (UID 15701 BODY[] NIL)\r\nt OK Fetch completed.\r\n"},
    {"ListedBySearch", "UID SEARCH UID 15541,15601,15701,15801,15901",
     "* SEARCH 15541 15601 15701 15801 15901\r\nt OK Search completed.\r\n"},
};

class FakeServerFault : public ::testing::TestWithParam<FaultRow> {};

TEST_P(FakeServerFault, AnswersWithExactBytes) {
  const FaultRow& row = GetParam();
  Fixture f("exchange_poison.scn");
  EXPECT_EQ(f.client->command("t", row.command), row.expected) << f.server.transcript(1);
}

INSTANTIATE_TEST_SUITE_P(Rows, FakeServerFault, ::testing::ValuesIn(k_fault_rows), RowName{});

// The literal length differs from RFC822.SIZE by the scenario's delta.
struct SizeRow {
  std::string name;
  std::uint32_t uid;
  long long literal_minus_size;
};

const std::vector<SizeRow> k_size_rows = {
    {"LongerLiteral", 15702, 100},
    {"ShorterLiteral", 15703, -50},
    {"HealthyMessage", 15704, 0},
};

class FakeServerSizeMismatch : public ::testing::TestWithParam<SizeRow> {};

TEST_P(FakeServerSizeMismatch, LiteralDiffersFromRfc822Size) {
  const SizeRow& row = GetParam();
  Fixture f("exchange_poison.scn");
  const std::string answer = f.client->command("t", "UID FETCH " + std::to_string(row.uid) + " (RFC822.SIZE BODY.PEEK[])");
  const auto size_at = answer.find("RFC822.SIZE ");
  const auto literal_at = answer.find("BODY[] {");
  ASSERT_NE(size_at, std::string::npos) << answer;
  ASSERT_NE(literal_at, std::string::npos) << answer;
  const long long size = std::stoll(answer.substr(size_at + 12));
  const long long literal = std::stoll(answer.substr(literal_at + 8));
  EXPECT_EQ(literal - size, row.literal_minus_size);
  const auto body_start = answer.find("}\r\n", literal_at) + 3;
  EXPECT_EQ(answer.substr(body_start + static_cast<std::size_t>(literal)), ")\r\nt OK Fetch completed.\r\n");
}

INSTANTIATE_TEST_SUITE_P(Rows, FakeServerSizeMismatch, ::testing::ValuesIn(k_size_rows), RowName{});

TEST(FakeServerFault, DropMidLiteralClosesHalfwayThroughTheMessage) {
  Fixture f("exchange_poison.scn");
  f.client->send("t UID FETCH 15800:15802 (BODY.PEEK[])\r\n");
  const std::string answer = f.client->read_all(5s);
  EXPECT_TRUE(f.client->closed());
  const std::string head = "* 801 FETCH (UID 15801 BODY[] {";
  const auto at = answer.find(head);
  ASSERT_NE(at, std::string::npos) << answer.substr(0, 200);
  EXPECT_EQ(answer.find("* 800 FETCH (UID 15800 BODY[] {"), 0U); // the message before is complete
  const std::size_t literal = std::stoul(answer.substr(at + head.size()));
  const std::size_t body_start = answer.find("}\r\n", at) + 3;
  EXPECT_EQ(answer.size() - body_start, literal / 2);
  EXPECT_EQ(answer.find("* 802 FETCH"), std::string::npos);
  EXPECT_NE(f.server.transcript(1).find(" bytes, then the connection is closed}"), std::string::npos);
}

TEST(FakeServerFault, HangNeverAnswersAndKeepsTheConnectionOpen) {
  Fixture f("exchange_poison.scn");
  f.client->send("t UID FETCH 15900:15902 (BODY.PEEK[])\r\nu NOOP\r\n");
  EXPECT_EQ(f.client->read_all(700ms), "");
  EXPECT_FALSE(f.client->closed());
  EXPECT_EQ(f.server.live_connections(), 1);
  EXPECT_EQ(f.server.body_fetches("INBOX", 15901), 1);
}

TEST(FakeServerFault, CutAfterTenErrorsSendsByeAndCloses) {
  Fixture f("exchange_poison.scn");
  for (int i = 1; i <= 9; ++i) {
    const std::string tag = "e" + std::to_string(i);
    EXPECT_EQ(f.client->command(tag, "UID FETCH 15101 (BODY.PEEK[])"), tag + " OK Fetch completed.\r\n");
  }
  f.client->send("e10 UID FETCH 15601 (BODY.PEEK[])\r\n");
  EXPECT_EQ(f.client->read_all(5s), "e10 NO Server Unavailable. 15\r\n* BYE Too many errors, closing the connection.\r\n");
  EXPECT_TRUE(f.client->closed());
  EXPECT_EQ(f.server.body_fetches("INBOX", 15101), 9);
}

// The exchange_stub_only.scn seed: listed, not fetchable, the stub in the header.
TEST(FakeServerFault, ExchangeStubOnlySeed) {
  Fixture f("exchange_stub_only.scn");
  EXPECT_EQ(f.client->command("a4", "UID SEARCH ALL"), "* SEARCH 15539 15540 15541 15542 15543\r\na4 OK Search completed.\r\n");
  EXPECT_EQ(f.client->command("a5", "UID FETCH 15541 (BODY.PEEK[])"), "a5 OK Fetch completed.\r\n");
  EXPECT_EQ(f.client->command("a6", "UID FETCH 15541 (BODY.PEEK[HEADER])"),
            "* 3 FETCH (UID 15541 BODY[HEADER] {232}\r\n" + k_stub_header_15541 + ")\r\na6 OK Fetch completed.\r\n");
  const std::string batch = f.client->command("a7", "UID FETCH 15539:15543 (BODY.PEEK[])");
  for (const char* uid : {"15539", "15540", "15542", "15543"}) {
    EXPECT_NE(batch.find(std::string("(UID ") + uid + " BODY[] {1200}\r\n"), std::string::npos) << uid;
  }
  EXPECT_EQ(batch.find("(UID 15541 "), std::string::npos);
  EXPECT_EQ(f.server.body_fetches("INBOX", 15541), 2);
  EXPECT_EQ(f.server.body_fetches("INBOX", 15540), 1);
}

} // namespace
} // namespace uidsync::test
