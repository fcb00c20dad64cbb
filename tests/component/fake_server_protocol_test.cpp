// SPDX-License-Identifier: GPL-3.0-or-later
// The fake IMAP server speaks IMAP4rev1 to a real libcurl CONNECT_ONLY client.
#include "support/curl_imap_client.hpp"
#include "support/fake_imap_server.hpp"
#include "support/table.hpp"

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace uidsync::test {
namespace {

// ---- Login through libcurl's connect phase ---------------------------------

struct LoginRow {
  std::string name;
  std::string login_options;
  bool sasl_ir;
  std::string password;
  int expected_curl_code;
  std::string expected_auth_line; // as recorded in the server transcript
};

const std::vector<LoginRow> k_login_rows = {
    {"PlainWithInitialResponse", "AUTH=PLAIN", true, "secret", CURLE_OK, "C: A002 AUTHENTICATE PLAIN <redacted>"},
    {"PlainWithContinuation", "AUTH=PLAIN", false, "secret", CURLE_OK, "C: A002 AUTHENTICATE PLAIN <redacted>"},
    {"LoginMechanism", "AUTH=LOGIN", false, "secret", CURLE_OK, "C: A002 AUTHENTICATE LOGIN <redacted>"},
    {"WrongPassword", "AUTH=PLAIN", true, "wrong", CURLE_LOGIN_DENIED, "C: A002 AUTHENTICATE PLAIN <redacted>"},
    {"WrongPasswordLoginMechanism", "AUTH=LOGIN", false, "wrong", CURLE_LOGIN_DENIED,
     "C: A002 AUTHENTICATE LOGIN <redacted>"},
};

class FakeServerLogin : public ::testing::TestWithParam<LoginRow> {};

TEST_P(FakeServerLogin, AuthenticatesLibcurlConnectPhase) {
  const LoginRow& row = GetParam();
  FakeImapServer server(must_load_scenario("healthy.scn"));
  CurlImapClient::Options options;
  options.url = server.url();
  options.user = "alice";
  options.password = row.password;
  options.login_options = row.login_options;
  options.sasl_ir = row.sasl_ir;
  CurlImapClient client(options);
  EXPECT_EQ(client.result(), row.expected_curl_code);
  const std::string transcript = server.transcript(1);
  EXPECT_NE(transcript.find("S: * OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN AUTH=LOGIN"), std::string::npos)
      << transcript;
  EXPECT_NE(transcript.find("C: A001 CAPABILITY\n"), std::string::npos) << transcript;
  EXPECT_NE(transcript.find(row.expected_auth_line + "\n"), std::string::npos) << transcript;
  EXPECT_EQ(transcript.find(row.password), std::string::npos) << "the password leaked into:\n" << transcript;
  if (row.expected_curl_code == CURLE_OK) {
    EXPECT_EQ(client.command("t1", "LIST \"\" \"\""), "* LIST (\\Noselect) \"/\" \"\"\r\nt1 OK LIST completed.\r\n");
  } else {
    EXPECT_NE(transcript.find("S: A002 NO [AUTHENTICATIONFAILED] Authentication failed.\n"), std::string::npos)
        << transcript;
  }
  EXPECT_EQ(server.commands("AUTHENTICATE"), 1);
}

INSTANTIATE_TEST_SUITE_P(Rows, FakeServerLogin, ::testing::ValuesIn(k_login_rows), RowName{});

// ---- Raw IMAP after login (healthy.scn) ------------------------------------

struct ExchangeRow {
  std::string name;
  std::string scenario;
  std::vector<std::string> setup; // commands sent first (tags s1, s2, ...), answers ignored
  std::string command;            // sent with tag "t"
  std::string expected;           // every byte up to and including the tagged line
};

const std::string k_message_1 = "Message-ID: <hello-1@example.org>\r\n"
                                "From: Bob <bob@example.org>\r\n"
                                "To: Alice <alice@example.org>\r\n"
                                "Subject: Hello\r\n"
                                "Date: Tue, 02 Jan 2024 10:00:00 +0000\r\n"
                                "\r\n"
                                "Hi Alice,\r\n"
                                ".this line starts with a dot.\r\n";

const std::vector<ExchangeRow> k_exchange_rows = {
    {"ListAll", "healthy.scn", {}, "LIST \"\" \"*\"",
     "* LIST (\\HasChildren) \"/\" \"Archive\"\r\n"
     "* LIST (\\HasNoChildren) \"/\" \"Archive/2023\"\r\n"
     "* LIST (\\HasNoChildren) \"/\" \"INBOX\"\r\n"
     "* LIST (\\HasNoChildren) \"/\" \"Sent\"\r\n"
     "t OK LIST completed.\r\n"},
    {"ListPercentStopsAtSeparator", "healthy.scn", {}, "LIST \"\" \"%\"",
     "* LIST (\\HasChildren) \"/\" \"Archive\"\r\n"
     "* LIST (\\HasNoChildren) \"/\" \"INBOX\"\r\n"
     "* LIST (\\HasNoChildren) \"/\" \"Sent\"\r\n"
     "t OK LIST completed.\r\n"},
    {"Select", "healthy.scn", {}, "SELECT INBOX",
     "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
     "* 10 EXISTS\r\n"
     "* 0 RECENT\r\n"
     "* OK [UIDVALIDITY 1700000000] UIDs valid\r\n"
     "* OK [UIDNEXT 11] Predicted next UID\r\n"
     "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted.\r\n"
     "t OK [READ-WRITE] SELECT completed.\r\n"},
    {"SelectMissingFolder", "healthy.scn", {}, "SELECT Nope", "t NO [NONEXISTENT] Mailbox doesn't exist: Nope\r\n"},
    {"SelectWithCondstore", "condstore.scn", {}, "EXAMINE INBOX",
     "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
     "* 3 EXISTS\r\n"
     "* 0 RECENT\r\n"
     "* OK [UIDVALIDITY 42] UIDs valid\r\n"
     "* OK [UIDNEXT 4] Predicted next UID\r\n"
     "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted.\r\n"
     "* OK [HIGHESTMODSEQ 30] Highest\r\n"
     "t OK [READ-ONLY] EXAMINE completed.\r\n"},
    {"Status", "healthy.scn", {}, "STATUS Archive (MESSAGES UIDNEXT UIDVALIDITY UNSEEN)",
     "* STATUS \"Archive\" (MESSAGES 5 UIDNEXT 6 UIDVALIDITY 1700000001 UNSEEN 5)\r\nt OK Status completed.\r\n"},
    {"UidSearchAll", "healthy.scn", {"SELECT INBOX"}, "UID SEARCH ALL",
     "* SEARCH 1 2 3 4 5 6 7 8 9 10\r\nt OK Search completed.\r\n"},
    {"UidSearchUidRange", "healthy.scn", {"SELECT INBOX"}, "UID SEARCH UID 3:5,9:*",
     "* SEARCH 3 4 5 9 10\r\nt OK Search completed.\r\n"},
    {"UidSearchMessageId", "healthy.scn", {"SELECT INBOX"}, "UID SEARCH HEADER Message-ID <hello-1@example.org>",
     "* SEARCH 1\r\nt OK Search completed.\r\n"},
    {"SearchSeen", "healthy.scn", {"SELECT INBOX"}, "SEARCH SEEN", "* SEARCH 1 2\r\nt OK Search completed.\r\n"},
    {"Esearch", "healthy.scn", {"SELECT INBOX"}, "UID SEARCH RETURN (MIN MAX COUNT) ALL",
     "* ESEARCH (TAG \"t\") UID MIN 1 MAX 10 COUNT 10\r\nt OK Search completed.\r\n"},
    {"UidFetchBody", "healthy.scn", {"SELECT INBOX"}, "UID FETCH 1 (UID FLAGS RFC822.SIZE BODY.PEEK[])",
     "* 1 FETCH (UID 1 RFC822.SIZE 194 BODY[] {194}\r\n" + k_message_1 + " FLAGS (\\Seen))\r\nt OK Fetch completed.\r\n"},
    {"UidFetchSizesOfGeneratedMessages", "healthy.scn", {"SELECT INBOX"}, "UID FETCH 2:3 (RFC822.SIZE)",
     "* 2 FETCH (UID 2 RFC822.SIZE 2000)\r\n* 3 FETCH (UID 3 RFC822.SIZE 500)\r\nt OK Fetch completed.\r\n"},
    {"FetchMessageIdHeaderField", "healthy.scn", {"SELECT INBOX"}, "FETCH 1 (BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])",
     "* 1 FETCH (BODY[HEADER.FIELDS (MESSAGE-ID)] {37}\r\nMessage-ID: <hello-1@example.org>\r\n\r\n)\r\n"
     "t OK Fetch completed.\r\n"},
    {"UidFetchStarBeyondLastMatchesLast", "healthy.scn", {"SELECT INBOX"}, "UID FETCH 50:* (FLAGS)",
     "* 10 FETCH (UID 10 FLAGS ())\r\nt OK Fetch completed.\r\n"},
    {"FetchBodyWithoutPeekSetsSeen", "healthy.scn", {"SELECT INBOX"}, "FETCH 3 (BODY[]<0.10>)",
     "* 3 FETCH (BODY[]<0> {10}\r\nMessage-ID FLAGS (\\Seen))\r\nt OK Fetch completed.\r\n"},
    {"FetchWithModseq", "condstore.scn", {"SELECT INBOX"}, "UID FETCH 1:* (FLAGS) (CHANGEDSINCE 15)",
     "* 2 FETCH (UID 2 FLAGS (\\Seen) MODSEQ (20))\r\n* 3 FETCH (UID 3 FLAGS () MODSEQ (30))\r\n"
     "t OK Fetch completed.\r\n"},
    {"StoreAddsFlags", "healthy.scn", {"SELECT INBOX"}, "UID STORE 3:4 +FLAGS (\\Flagged)",
     "* 3 FETCH (UID 3 FLAGS (\\Flagged))\r\n* 4 FETCH (UID 4 FLAGS (\\Flagged))\r\nt OK Store completed.\r\n"},
    {"StoreSilent", "healthy.scn", {"SELECT INBOX"}, "STORE 1 -FLAGS.SILENT (\\Seen)", "t OK Store completed.\r\n"},
    {"ExpungeSendsAdjustedSequenceNumbers", "healthy.scn", {"SELECT INBOX", "STORE 2,3,7 +FLAGS.SILENT (\\Deleted)"},
     "EXPUNGE", "* 2 EXPUNGE\r\n* 2 EXPUNGE\r\n* 5 EXPUNGE\r\nt OK Expunge completed.\r\n"},
    {"UidExpungeOnlyInSet", "healthy.scn", {"SELECT INBOX", "STORE 2,3 +FLAGS.SILENT (\\Deleted)"}, "UID EXPUNGE 3",
     "* 3 EXPUNGE\r\nt OK Expunge completed.\r\n"},
    {"UidExpungeWithoutUidplus", "no_uidplus.scn", {"SELECT INBOX"}, "UID EXPUNGE 3",
     "t BAD Error in IMAP command UID EXPUNGE: Unknown command.\r\n"},
    {"AppendWithUidplus", "healthy.scn", {}, "APPEND Sent (\\Seen) {5+}\r\nHello",
     "t OK [APPENDUID 1700000003 1] Append completed.\r\n"},
    {"AppendWithoutUidplus", "no_uidplus.scn", {}, "APPEND Sent {5}\r\nHello", "+ Ready for literal data\r\n"
                                                                               "t OK Append completed.\r\n"},
    {"AppendToSelectedFolderAnnouncesExists", "healthy.scn", {"SELECT Sent"}, "APPEND Sent {5+}\r\nHello",
     "* 1 EXISTS\r\nt OK [APPENDUID 1700000003 1] Append completed.\r\n"},
    {"AppendToMissingFolder", "healthy.scn", {}, "APPEND Nope {5+}\r\nHello",
     "t NO [TRYCREATE] Mailbox doesn't exist: Nope\r\n"},
    {"LiteralPlusNotAdvertised", "no_uidplus.scn", {}, "APPEND Sent {5+}\r\nHello",
     "t BAD Error in IMAP command APPEND: LITERAL+ is not advertised.\r\n"},
    {"CreateThenList", "healthy.scn", {"CREATE Work/Projects"}, "LIST \"\" Work/*",
     "* LIST (\\HasNoChildren) \"/\" \"Work/Projects\"\r\nt OK LIST completed.\r\n"},
    {"UidMove", "healthy.scn", {"SELECT INBOX"}, "UID MOVE 2:3 Sent",
     "* OK [COPYUID 1700000003 2,3 1,2] Moved UIDs.\r\n* 2 EXPUNGE\r\n* 2 EXPUNGE\r\nt OK Move completed.\r\n"},
    {"EnableCondstore", "condstore.scn", {}, "ENABLE CONDSTORE", "* ENABLED CONDSTORE\r\nt OK Enabled.\r\n"},
    {"FetchNeedsSelect", "healthy.scn", {}, "UID FETCH 1 (FLAGS)",
     "t BAD Error in IMAP command UID FETCH: no mailbox selected.\r\n"},
    {"UnknownCommand", "healthy.scn", {}, "FROBNICATE", "t BAD Error in IMAP command FROBNICATE: Unknown command.\r\n"},
    {"Logout", "healthy.scn", {}, "LOGOUT", "* BYE Logging out\r\nt OK Logout completed.\r\n"},
};

class FakeServerExchange : public ::testing::TestWithParam<ExchangeRow> {};

TEST_P(FakeServerExchange, AnswersWithExactBytes) {
  const ExchangeRow& row = GetParam();
  FakeImapServer server(must_load_scenario(row.scenario));
  auto client = connect_plain(server.url(), "alice", "secret");
  ASSERT_EQ(client->result(), CURLE_OK);
  for (std::size_t i = 0; i < row.setup.size(); ++i) {
    const std::string tag = "s" + std::to_string(i + 1);
    const std::string answer = client->command(tag, row.setup[i]);
    ASSERT_NE(answer.find(tag + " OK"), std::string::npos) << answer;
  }
  // A synchronizing literal in the command waits for the continuation first.
  const auto brace = row.command.find("}\r\n");
  std::string answer;
  if (brace != std::string::npos && row.command[brace - 1] != '+') {
    client->send("t " + row.command.substr(0, brace + 3));
    answer = client->read_until_tagged("+", std::chrono::seconds(5)); // the continuation
    client->send(row.command.substr(brace + 3) + "\r\n");
    answer += client->read_until_tagged("t");
  } else {
    answer = client->command("t", row.command);
  }
  EXPECT_EQ(answer, row.expected) << server.transcript(1);
}

INSTANTIATE_TEST_SUITE_P(Rows, FakeServerExchange, ::testing::ValuesIn(k_exchange_rows), RowName{});

// ---- Pipelining --------------------------------------------------------------

TEST(FakeServerPipelining, AnswersTenCommandsFromOneWriteInOrder) {
  FakeImapServer server(must_load_scenario("healthy.scn"));
  auto client = connect_plain(server.url(), "alice", "secret");
  ASSERT_EQ(client->result(), CURLE_OK);
  std::string batch = "p1 SELECT INBOX\r\n";
  for (int i = 2; i <= 10; ++i) {
    batch += "p" + std::to_string(i) + " UID FETCH " + std::to_string(i) + " (UID RFC822.SIZE BODY.PEEK[])\r\n";
  }
  ASSERT_TRUE(client->send(batch));
  const std::string answer = client->read_until_tagged("p10");
  std::size_t at = 0;
  for (int i = 1; i <= 10; ++i) {
    const std::string tagged = "\r\np" + std::to_string(i) + " OK ";
    const auto found = answer.find(tagged, at);
    ASSERT_NE(found, std::string::npos) << "p" << i << " missing or out of order";
    at = found + tagged.size();
  }
  EXPECT_EQ(server.commands("UID FETCH"), 9);
  for (std::uint32_t uid = 2; uid <= 10; ++uid) {
    EXPECT_EQ(server.body_fetches("INBOX", uid), 1) << uid;
  }
  EXPECT_EQ(server.body_fetches("INBOX", 1), 0);
}

// Another connection's EXPUNGE and APPEND reach a selected session at its next
// NOOP, never in the middle of a FETCH (RFC 3501 7.4.1).
TEST(FakeServerUpdates, ExpungeWaitsForNoopExistsDoesNot) {
  FakeImapServer server(must_load_scenario("healthy.scn"));
  auto watcher = connect_plain(server.url(), "alice", "secret");
  auto actor = connect_plain(server.url(), "alice", "secret");
  ASSERT_EQ(watcher->result(), CURLE_OK);
  ASSERT_EQ(actor->result(), CURLE_OK);
  watcher->command("w1", "SELECT INBOX");
  actor->command("a1", "SELECT INBOX");
  EXPECT_EQ(actor->command("a2", "UID STORE 10 +FLAGS.SILENT (\\Deleted)"), "a2 OK Store completed.\r\n");
  EXPECT_EQ(actor->command("a3", "EXPUNGE"), "* 10 EXPUNGE\r\na3 OK Expunge completed.\r\n");
  EXPECT_EQ(actor->command("a4", "APPEND INBOX {5+}\r\nHello"),
            "* 10 EXISTS\r\na4 OK [APPENDUID 1700000000 11] Append completed.\r\n");
  EXPECT_EQ(watcher->command("w2", "FETCH 10 (UID)"),
            "* 10 FETCH (UID 10)\r\n* 11 EXISTS\r\nw2 OK Fetch completed.\r\n");
  EXPECT_EQ(watcher->command("w3", "NOOP"), "* 10 EXPUNGE\r\nw3 OK NOOP completed.\r\n");
  EXPECT_EQ(watcher->command("w4", "UID SEARCH ALL"), "* SEARCH 1 2 3 4 5 6 7 8 9 11\r\nw4 OK Search completed.\r\n");
}

TEST(FakeServerIdle, EndsOnDone) {
  FakeImapServer server(must_load_scenario("healthy.scn"));
  auto client = connect_plain(server.url(), "alice", "secret");
  ASSERT_EQ(client->result(), CURLE_OK);
  client->send("i1 IDLE\r\n");
  EXPECT_EQ(client->read_until_tagged("+", std::chrono::seconds(5)), "+ idling\r\n");
  client->send("DONE\r\n");
  EXPECT_EQ(client->read_until_tagged("i1"), "i1 OK Idle completed.\r\n");
}

TEST(FakeServerLogin, PlainLoginCommand) {
  FakeImapServer server(must_load_scenario("healthy.scn"));
  auto client = connect_plain(server.url(), "", "");
  // libcurl with no user name connects without authenticating (see the libcurl notes).
  ASSERT_EQ(client->result(), CURLE_OK);
  EXPECT_EQ(client->command("l1", "LOGIN alice wrong"), "l1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n");
  const std::string ok = client->command("l2", "LOGIN \"alice\" {6}\r\nsecret");
  EXPECT_EQ(ok.substr(0, 22), "+ Ready for literal da") << ok;
  EXPECT_NE(ok.find("l2 OK [CAPABILITY IMAP4rev1"), std::string::npos) << ok;
  EXPECT_EQ(server.transcript(1).find("secret"), std::string::npos) << server.transcript(1);
}

} // namespace
} // namespace uidsync::test
