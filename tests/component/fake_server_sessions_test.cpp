// SPDX-License-Identifier: GPL-3.0-or-later
// The fake IMAP server across connections: session blocks, anomalies, counters,
// transcript, hostile answers, shutdown, and the fake-imapd program.
#include "support/curl_imap_client.hpp"
#include "support/fake_imap_server.hpp"
#include "support/table.hpp"
#include "support/temp_dir.hpp"

#include <curl/curl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace uidsync::test {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<CurlImapClient> login(const FakeImapServer& server) {
  auto client = connect_plain(server.url(), "alice", "secret");
  if (client->result() != CURLE_OK) {
    throw std::runtime_error("login to the fake server failed");
  }
  return client;
}

// Opens and closes connections until the next one is the `session`-th.
void skip_sessions(const FakeImapServer& server, int session) {
  while (server.connections_accepted() < session - 1) {
    login(server)->command("x", "LOGOUT");
  }
}

// ---- on session N ----------------------------------------------------------

struct SessionRow {
  std::string name;
  int session;
  std::string search;
  std::string fetch_7_starts_with; // the answer to UID FETCH 7 (BODY.PEEK[])
};

const std::vector<SessionRow> k_heal_rows = {
    {"FirstSessionPoisoned", 1, "* SEARCH 1 2 3 4 5 6 7 8 9 10\r\nt1 OK Search completed.\r\n",
     "t2 NO Server Unavailable. 15\r\n"},
    {"SecondSessionExpungedNine", 2, "* SEARCH 1 2 3 4 5 6 7 8 10\r\nt1 OK Search completed.\r\n",
     "t2 NO Server Unavailable. 15\r\n"},
    {"ThirdSessionHealedWithNewMail", 3, "* SEARCH 1 2 3 4 5 6 7 8 10 11\r\nt1 OK Search completed.\r\n",
     "* 7 FETCH (UID 7 BODY[] {600}\r\nMessage-ID: <7.77@fake.example>\r\n"},
    {"FourthSessionStillHealed", 4, "* SEARCH 1 2 3 4 5 6 7 8 10 11\r\nt1 OK Search completed.\r\n",
     "* 7 FETCH (UID 7 BODY[] {600}\r\nMessage-ID: <7.77@fake.example>\r\n"},
};

class FakeServerSessions : public ::testing::TestWithParam<SessionRow> {};

TEST_P(FakeServerSessions, BlocksApplyFromTheirSession) {
  const SessionRow& row = GetParam();
  FakeImapServer server(must_load_scenario("heals.scn"));
  skip_sessions(server, row.session);
  auto client = login(server);
  client->command("s", "SELECT INBOX");
  EXPECT_EQ(client->command("t1", "UID SEARCH ALL"), row.search);
  const std::string answer = client->command("t2", "UID FETCH 7 (BODY.PEEK[])");
  EXPECT_EQ(answer.substr(0, row.fetch_7_starts_with.size()), row.fetch_7_starts_with) << answer;
  EXPECT_EQ(server.connections_accepted(), row.session);
  EXPECT_EQ(server.body_fetches("INBOX", 7), 1);
}

INSTANTIATE_TEST_SUITE_P(Rows, FakeServerSessions, ::testing::ValuesIn(k_heal_rows), RowName{});

TEST(FakeServerSessions, UidvalidityChangeRenumbersTheSameMessages) {
  FakeImapServer server(must_load_scenario("uidvalidity_change.scn"));
  auto first = login(server);
  EXPECT_NE(first->command("s", "SELECT INBOX").find("* OK [UIDVALIDITY 100] "), std::string::npos);
  EXPECT_EQ(first->command("t", "UID SEARCH ALL"), "* SEARCH 501 502 503 504 505 506 507 508 509 510\r\nt OK Search completed.\r\n");
  const std::string old_id = first->command("m", "UID FETCH 501 (BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])");
  auto second = login(server);
  const std::string selected = second->command("s", "SELECT INBOX");
  EXPECT_NE(selected.find("* OK [UIDVALIDITY 101] "), std::string::npos) << selected;
  EXPECT_NE(selected.find("* OK [UIDNEXT 11] "), std::string::npos) << selected;
  EXPECT_EQ(second->command("t", "UID SEARCH ALL"), "* SEARCH 1 2 3 4 5 6 7 8 9 10\r\nt OK Search completed.\r\n");
  const std::string new_id = second->command("m", "UID FETCH 1 (BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])");
  EXPECT_EQ(new_id.substr(new_id.find('{')), old_id.substr(old_id.find('{')));
  EXPECT_NE(old_id.find("Message-ID: <501.100@fake.example>"), std::string::npos) << old_id;
}

TEST(FakeServerAnomalies, StaleExistsAfterExpungeSeed) {
  FakeImapServer server(must_load_scenario("stale_exists.scn"));
  auto client = login(server);
  EXPECT_NE(client->command("s", "SELECT INBOX").find("* 147 EXISTS\r\n"), std::string::npos);
  EXPECT_EQ(client->command("e", "EXPUNGE"), "* 147 EXPUNGE\r\ne OK Expunge completed.\r\n");
  EXPECT_EQ(client->command("n", "NOOP"), "* 147 EXISTS\r\nn OK NOOP completed.\r\n");
  EXPECT_EQ(client->command("f", "UID FETCH 3193:* (UID FLAGS)"),
            "* 147 FETCH (UID 3193 FLAGS (\\Deleted))\r\nf OK Fetch completed.\r\n");
  EXPECT_EQ(client->command("n2", "NOOP"), "n2 OK NOOP completed.\r\n");
  // The server itself no longer has it: a new session sees 146 messages.
  auto fresh = login(server);
  EXPECT_NE(fresh->command("s", "SELECT INBOX").find("* 146 EXISTS\r\n"), std::string::npos);
}

struct AnomalyRow {
  std::string name;
  std::string folder;
  std::string exists;
  std::string uidnext;
  std::string search;
};

const std::vector<AnomalyRow> k_anomaly_rows = {
    {"DuplicateUid", "Duplicate", "* 6 EXISTS", "[UIDNEXT 6]", "* SEARCH 1 2 3 3 4 5"},
    {"DescendingUids", "Descending", "* 5 EXISTS", "[UIDNEXT 6]", "* SEARCH 5 4 3 2 1"},
    {"UidZero", "Zero", "* 4 EXISTS", "[UIDNEXT 4]", "* SEARCH 0 1 2 3"},
    {"UidAtUidnext", "AboveNext", "* 6 EXISTS", "[UIDNEXT 6]", "* SEARCH 1 2 3 4 5 6"},
    {"UidnextBelowMax", "NextBelowMax", "* 5 EXISTS", "[UIDNEXT 5]", "* SEARCH 1 2 3 4 5"},
    {"ExistsMismatch", "ExistsMismatch", "* 7 EXISTS", "[UIDNEXT 6]", "* SEARCH 1 2 3 4 5"},
};

class FakeServerAnomalies : public ::testing::TestWithParam<AnomalyRow> {};

TEST_P(FakeServerAnomalies, SelectAndSearchShowTheAnomaly) {
  const AnomalyRow& row = GetParam();
  FakeImapServer server(must_load_scenario("anomalies.scn"));
  auto client = login(server);
  const std::string selected = client->command("s", "SELECT " + row.folder);
  EXPECT_NE(selected.find("\r\n" + row.exists + "\r\n"), std::string::npos) << selected;
  EXPECT_NE(selected.find("* OK " + row.uidnext + " "), std::string::npos) << selected;
  EXPECT_EQ(client->command("t", "UID SEARCH ALL"), row.search + "\r\nt OK Search completed.\r\n");
}

INSTANTIATE_TEST_SUITE_P(Rows, FakeServerAnomalies, ::testing::ValuesIn(k_anomaly_rows), RowName{});

TEST(FakeServerAnomalies, UidReuseChangesSizeAndMessageIdOnALaterSession) {
  FakeImapServer server(must_load_scenario("anomalies.scn"));
  const std::string command = "UID FETCH 2 (RFC822.SIZE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])";
  auto first = login(server);
  first->command("s", "SELECT Reused");
  EXPECT_EQ(first->command("t", command), "* 2 FETCH (UID 2 RFC822.SIZE 1000 BODY[HEADER.FIELDS (MESSAGE-ID)] {34}\r\n"
                                          "Message-ID: <2.8@fake.example>\r\n\r\n)\r\nt OK Fetch completed.\r\n");
  auto second = login(server);
  second->command("s", "SELECT Reused");
  EXPECT_EQ(second->command("t", command),
            "* 2 FETCH (UID 2 RFC822.SIZE 1123 BODY[HEADER.FIELDS (MESSAGE-ID)] {41}\r\n"
            "Message-ID: <reused-2.8@fake.example>\r\n\r\n)\r\nt OK Fetch completed.\r\n");
}

// ---- Hostile answers -------------------------------------------------------

struct HostileRow {
  std::string name;
  std::string scenario;
  std::string command; // sent with tag "t" after login
  std::string expected;
  bool closed;
};

const std::string k_select_head = "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
                                  "* 2 EXISTS\r\n"
                                  "* 0 RECENT\r\n"
                                  "* OK [UIDVALIDITY 1] UIDs valid\r\n"
                                  "* OK [UIDNEXT 3] Predicted next UID\r\n"
                                  "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] "
                                  "Flags permitted.\r\n";

const std::vector<HostileRow> k_hostile_rows = {
    {"HugeLiteral", "hostile_huge_literal.scn", "UID FETCH 1 (BODY.PEEK[])",
     "* 1 FETCH (UID 1 BODY[] {99999999999}\r\n", false},
    {"LongLine", "hostile_long_line.scn", "NOOP",
     "* OK " + std::string(10485760, 'x') + "\r\nt OK NOOP completed.\r\n", false},
    {"DeepNesting", "hostile_deep_nesting.scn", "UID FETCH 1 (FLAGS)",
     "* 1 FETCH (UID 1 FLAGS ())\r\n* 1 FETCH (UID 1 X-NEST " + std::string(10000, '(') + std::string(10000, ')') +
         ")\r\nt OK Fetch completed.\r\n",
     false},
    {"FolderNames", "hostile_folder_names.scn", "LIST \"\" *",
     "* LIST (\\HasNoChildren) \"/\" \"INBOX\"\r\n"
     "* LIST (\\HasNoChildren) \"/\" \"bad\xff\xfeutf8\"\r\n"
     "* LIST (\\HasNoChildren) \"/\" \"&Jjo\"\r\n"
     "* LIST (\\HasNoChildren) \"/\" \"&AGE-\"\r\n"
     "* LIST (\\HasNoChildren) \"/\" \"../../x\"\r\n"
     "* LIST (\\HasNoChildren) \"/\" \"/etc\"\r\n"
     "* LIST (\\HasNoChildren) \"/\" {3}\r\na" +
         std::string(1, '\0') +
         "b\r\n"
         "* LIST (\\HasNoChildren) \"/\" \"bell\x07name\"\r\n"
         "t OK LIST completed.\r\n",
     false},
    {"UnsolicitedFetch", "hostile_unsolicited.scn", "UID FETCH 1 (FLAGS)",
     "* 1 FETCH (UID 1 FLAGS ())\r\n* 999 FETCH (UID 999999 FLAGS (\\Seen))\r\nt OK Fetch completed.\r\n", false},
    {"TagNeverSent", "hostile_unsolicited.scn", "NOOP", "t OK NOOP completed.\r\nzz99 OK this tag was never sent\r\n",
     false},
    {"ByeMidSelect", "hostile_bye_select.scn", "SELECT INBOX", k_select_head + "* BYE Server shutting down\r\n", true},
};

class FakeServerHostile : public ::testing::TestWithParam<HostileRow> {};

TEST_P(FakeServerHostile, SendsTheScriptedBytes) {
  const HostileRow& row = GetParam();
  FakeImapServer server(must_load_scenario(row.scenario));
  auto client = login(server);
  if (row.command.find("SELECT") == std::string::npos) {
    ASSERT_NE(client->command("s", "SELECT INBOX").find("s OK"), std::string::npos);
  }
  client->send("t " + row.command + "\r\n");
  // Up to the tagged line (or the close), then whatever follows within 300 ms.
  // A never-ending literal (HugeLiteral) hides the tagged line: wait less for it.
  std::string answer = client->read_until_tagged("t", row.expected.find("{99999999999}") != std::string::npos ? 700ms : 10s);
  answer += client->read_all(300ms);
  EXPECT_EQ(answer.size(), row.expected.size());
  // Not EXPECT_EQ: a failure would print megabytes.
  EXPECT_TRUE(answer == row.expected) << server.transcript(1);
  EXPECT_EQ(client->closed(), row.closed);
}

INSTANTIATE_TEST_SUITE_P(Rows, FakeServerHostile, ::testing::ValuesIn(k_hostile_rows), RowName{});

struct HandshakeRow {
  std::string name;
  std::string scenario;
  std::string last_client_line; // the transcript's last C: line before the BYE
};

const std::vector<HandshakeRow> k_handshake_rows = {
    {"ByeAtGreeting", "hostile_bye_greeting.scn", ""},
    {"ByeAfterCapability", "hostile_bye_capability.scn", "C: A001 CAPABILITY\n"},
    {"ByeAfterAuthenticate", "hostile_bye_authenticate.scn", "C: A002 AUTHENTICATE PLAIN <redacted>\n"},
};

class FakeServerHandshake : public ::testing::TestWithParam<HandshakeRow> {};

TEST_P(FakeServerHandshake, ByeFailsLibcurlConnect) {
  const HandshakeRow& row = GetParam();
  FakeImapServer server(must_load_scenario(row.scenario));
  auto client = connect_plain(server.url(), "alice", "secret");
  EXPECT_NE(client->result(), CURLE_OK);
  const std::string transcript = server.transcript(1);
  const std::string tail = row.last_client_line + "S: * BYE Server shutting down\n";
  ASSERT_GE(transcript.size(), tail.size()) << transcript;
  EXPECT_EQ(transcript.substr(transcript.size() - tail.size()), tail) << transcript;
}

INSTANTIATE_TEST_SUITE_P(Rows, FakeServerHandshake, ::testing::ValuesIn(k_handshake_rows), RowName{});

TEST(FakeServerConcurrency, ServesEightClientsAtOnce) {
  FakeImapServer server(must_load_scenario("healthy.scn"));
  constexpr int k_clients = 8;
  std::vector<std::string> answers(k_clients);
  std::vector<std::thread> threads;
  for (int i = 0; i < k_clients; ++i) {
    threads.emplace_back([&server, &answers, i] {
      auto client = connect_plain(server.url(), "alice", "secret");
      client->command("s", "EXAMINE INBOX");
      answers[static_cast<std::size_t>(i)] = client->command("f", "UID FETCH 1:* (UID BODY.PEEK[])");
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  for (const auto& answer : answers) {
    std::size_t fetches = 0;
    for (auto at = answer.find(" FETCH (UID "); at != std::string::npos; at = answer.find(" FETCH (UID ", at + 1)) {
      ++fetches;
    }
    EXPECT_EQ(fetches, 10U);
    const std::string done = "\r\nf OK Fetch completed.\r\n";
    ASSERT_GE(answer.size(), done.size());
    EXPECT_EQ(answer.substr(answer.size() - done.size()), done);
  }
  EXPECT_EQ(server.connections_accepted(), k_clients);
  for (std::uint32_t uid = 1; uid <= 10; ++uid) {
    EXPECT_EQ(server.body_fetches("INBOX", uid), k_clients) << uid;
  }
}

// `once`, `${tag}` and a raw greeting suffix, from an inline scenario.
TEST(FakeServerRaw, OnceAndTagSubstitution) {
  auto parsed = parse_scenario("user alice secret\n"
                               "folder INBOX\n"
                               "raw GREETING after text=* OK [ALERT] scripted greeting\\r\\n\n"
                               "raw NOOP after once text=* OK [ALERT] after ${tag}\\r\\n\n",
                               "inline.scn", ".");
  ASSERT_TRUE(parsed) << parsed.error().what();
  FakeImapServer server(std::move(*parsed));
  auto client = login(server);
  EXPECT_EQ(client->command("n1", "NOOP"), "n1 OK NOOP completed.\r\n");
  EXPECT_EQ(client->read_all(300ms), "* OK [ALERT] after n1\r\n");
  EXPECT_EQ(client->command("n2", "NOOP"), "n2 OK NOOP completed.\r\n");
  EXPECT_EQ(client->read_all(300ms), "");
  EXPECT_NE(server.transcript(1).find("S: * OK [ALERT] scripted greeting\n"), std::string::npos)
      << server.transcript(1);
}

// ---- Counters and transcript ---------------------------------------------------

TEST(FakeServerCounters, CountConnectionsVerbsAndBodyFetches) {
  FakeImapServer server(must_load_scenario("healthy.scn"));
  for (int i = 0; i < 3; ++i) {
    auto client = login(server);
    client->command("s", "SELECT INBOX");
    client->command("f", "UID FETCH 1:3 (BODY.PEEK[])");
    client->command("g", "UID FETCH 3 (BODY.PEEK[HEADER] RFC822.SIZE)");
    if (i == 0) {
      client->command("h", "UID FETCH 2 (BINARY.PEEK[])");
    }
  }
  EXPECT_EQ(server.connections_accepted(), 3);
  EXPECT_EQ(server.commands("SELECT"), 3);
  EXPECT_EQ(server.commands("UID FETCH"), 7);
  EXPECT_EQ(server.commands("CAPABILITY"), 3);
  EXPECT_EQ(server.body_fetches("INBOX", 1), 3);
  EXPECT_EQ(server.body_fetches("INBOX", 2), 4);
  EXPECT_EQ(server.body_fetches("INBOX", 3), 3);
  EXPECT_EQ(server.body_fetches("INBOX", 4), 0);
  EXPECT_EQ(server.all_body_fetches().size(), 3U);
}

TEST(FakeServerTranscript, ElidesLiteralsAndRedactsPasswords) {
  TempDir dir;
  const auto file = dir / "transcript.txt";
  {
    FakeImapServer server(must_load_scenario("healthy.scn"));
    server.set_transcript_file(file.string());
    auto client = login(server);
    client->command("a", "APPEND INBOX {5+}\r\nHello");
    client->command("s", "EXAMINE INBOX");
    client->command("f", "UID FETCH 1 (RFC822.SIZE BODY.PEEK[])");
    client->command("z", "LOGOUT");
    const std::string transcript = server.transcript(1);
    const std::string expected_part = "C: a APPEND INBOX {5+}\n"
                                      "C: {5 bytes}\n"
                                      "S: a OK [APPENDUID 1700000000 11] Append completed.\n";
    EXPECT_NE(transcript.find(expected_part), std::string::npos) << transcript;
    EXPECT_NE(transcript.find("C: f UID FETCH 1 (RFC822.SIZE BODY.PEEK[])\n"
                              "S: * 1 FETCH (UID 1 RFC822.SIZE 194 BODY[] {194}\n"
                              "S: {194 bytes})\n"
                              "S: f OK Fetch completed.\n"),
              std::string::npos)
        << transcript;
    EXPECT_EQ(transcript.find("secret"), std::string::npos);
    EXPECT_EQ(transcript.find("Hello"), std::string::npos);
    EXPECT_EQ(server.transcript(0).rfind("#1 S: z OK Logout completed.\n"),
              server.transcript(0).size() - std::string("#1 S: z OK Logout completed.\n").size());
  }
  EXPECT_NE(read_file(file).find("#1 S: z OK Logout completed.\n"), std::string::npos);
}

// ---- Shutdown ------------------------------------------------------------------

std::size_t count_entries(const char* dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir)) {
    ++n;
  }
  return n;
}

TEST(FakeServerShutdown, DestructorLeavesNoThreadsOrDescriptors) {
  const std::size_t threads_before = count_entries("/proc/self/task");
  const std::size_t fds_before = count_entries("/proc/self/fd");
  {
    std::vector<std::unique_ptr<CurlImapClient>> clients;
    FakeImapServer server(must_load_scenario("exchange_poison.scn"));
    for (int i = 0; i < 4; ++i) {
      clients.push_back(login(server));
    }
    clients[0]->command("s", "SELECT INBOX");
    clients[0]->send("h UID FETCH 15901 (BODY.PEEK[])\r\n"); // parked forever by `hang`
    clients[1]->send("x IDLE\r\n");                           // parked in IDLE
    clients[2]->command("z", "LOGOUT");
    EXPECT_GE(count_entries("/proc/self/task"), threads_before + 4);
    EXPECT_GE(server.live_connections(), 3);
    server.stop();
    EXPECT_EQ(server.live_connections(), 0);
    EXPECT_EQ(count_entries("/proc/self/task"), threads_before);
  }
  EXPECT_EQ(count_entries("/proc/self/task"), threads_before);
  EXPECT_EQ(count_entries("/proc/self/fd"), fds_before);
}

// ---- fake-imapd ----------------------------------------------------------------

TEST(FakeImapdBinary, PrintsPortServesAndStopsOnSigterm) {
  TempDir dir;
  const auto transcript = dir / "t.txt";
  int out[2];
  ASSERT_EQ(::pipe(out), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  const std::string scenario_path = std::string(UIDSYNC_TEST_DATA_DIR) + "/scenarios/healthy.scn";
  const std::string transcript_path = transcript.string();
  std::vector<char*> argv = {const_cast<char*>(UIDSYNC_FAKE_IMAPD), const_cast<char*>(scenario_path.c_str()),
                             const_cast<char*>("--transcript"), const_cast<char*>(transcript_path.c_str()), nullptr};
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, UIDSYNC_FAKE_IMAPD, &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  std::string first_line;
  char c = 0;
  while (::read(out[0], &c, 1) == 1 && c != '\n') {
    first_line += c;
  }
  ::close(out[0]);
  ASSERT_EQ(first_line.rfind("PORT=", 0), 0U) << first_line;
  const std::string url = "imap://127.0.0.1:" + first_line.substr(5) + "/";
  {
    auto client = connect_plain(url, "alice", "secret");
    ASSERT_EQ(client->result(), CURLE_OK);
    EXPECT_EQ(client->command("t", "STATUS INBOX (MESSAGES)"), "* STATUS \"INBOX\" (MESSAGES 10)\r\nt OK Status completed.\r\n");
    client->command("z", "LOGOUT");
  }
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_NE(read_file(transcript).find("#1 C: t STATUS INBOX (MESSAGES)\n"), std::string::npos);
}

} // namespace
} // namespace uidsync::test
