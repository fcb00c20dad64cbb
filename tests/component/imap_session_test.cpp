// SPDX-License-Identifier: GPL-3.0-or-later
// Conversations between Session and a scripted server over FakeTransport:
// pipelining, literals both ways, continuation requests, IDLE, BYE mid-command.
#include <uidsync/imap/session.hpp>

#include "support/fake_transport.hpp"
#include "support/table.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <sstream>
#include <string>
#include <vector>

namespace uidsync::imap {
namespace {

using namespace std::chrono_literals;
using test::FakeTransport;

Command cmd(std::string_view verb, std::string_view args = {},
            LiteralMode mode = LiteralMode::synchronizing) {
  CommandBuilder b(verb, mode);
  if (!args.empty()) {
    b.raw(args);
  }
  return b.build().value();
}

// Records completions and routed data per command.
struct Recorder {
  std::vector<Tagged> done;
  std::vector<Response> data;
  CompletionHandler on_done() {
    return [this](const Tagged& t) { done.push_back(t); };
  }
  DataHandler on_data() {
    return [this](const Response& r) { data.push_back(r); };
  }
};

// Steps until `done` or the script runs dry (the fake never blocks).
void pump(Session& s, const std::function<bool()>& done) {
  for (int i = 0; i < 100 && !done(); ++i) {
    if (!s.step(0ms)) {
      return;
    }
  }
}

// ---- One command, many endings: the completion handler sees each one right.

struct EndingRow {
  std::string name;
  std::string server;  // the server's reply to "u1 NOOP"
  bool eof = false;    // the server closes after its reply
  Status status;
  std::string text_contains;
  bool closed;
};

void PrintTo(const EndingRow& row, std::ostream* os) { *os << row.name; }

class ImapSessionEnding : public ::testing::TestWithParam<EndingRow> {};

TEST_P(ImapSessionEnding, CompletionHandlerSeesTheOutcome) {
  const auto& row = GetParam();
  FakeTransport t;
  t.reply_to("u1 NOOP\r\n", row.server);
  if (row.eof) {
    t.eof();
  }
  Session s(t);
  Recorder r;
  s.submit(cmd("NOOP"), r.on_done());
  pump(s, [&] { return !r.done.empty(); });
  ASSERT_EQ(r.done.size(), 1u);
  EXPECT_EQ(r.done[0].tag, "u1");
  EXPECT_EQ(r.done[0].status, row.status);
  EXPECT_NE(r.done[0].text.find(row.text_contains), std::string::npos) << r.done[0].text;
  EXPECT_EQ(s.closed(), row.closed);
}

INSTANTIATE_TEST_SUITE_P(
    Rows, ImapSessionEnding,
    ::testing::Values(
        EndingRow{"ok", "u1 OK NOOP done\r\n", false, Status::ok, "NOOP done", false},
        EndingRow{"no", "u1 NO not now\r\n", false, Status::no, "not now", false},
        EndingRow{"bad", "u1 BAD Command Error. 10\r\n", false, Status::bad, "Error. 10", false},
        EndingRow{"bye_then_eof", "* BYE shutting down\r\n", true, Status::bye, "shutting down",
                  true},
        EndingRow{"eof_without_bye", "", true, Status::bye, "connection closed by the server",
                  true},
        EndingRow{"fatal_parse_error", "* 1 FETCH (BODY[] {99999999999}\r\n", false, Status::bye,
                  "max_literal_size", true},
        EndingRow{"skips_bad_response_then_ok", "* 1 FOO\r\nu1 OK fine\r\n", false, Status::ok,
                  "fine", false}),
    test::RowName{});

TEST(ImapSessionEndingPieces, IncompleteResponseThenEofFailsTheCommand) {
  FakeTransport t;
  t.reply_to("u1 NOOP\r\n", "* 3 EXISTS\r\nu1 OK");
  t.eof();
  Session s(t);
  Recorder r;
  s.submit(cmd("NOOP"), r.on_done());
  pump(s, [&] { return !r.done.empty(); });
  ASSERT_EQ(r.done.size(), 1u);
  EXPECT_EQ(r.done[0].status, Status::bye);
  EXPECT_EQ(s.mailbox().exists, 3u);
}

// ---- Pipelining: all commands go out before any answer; answers may come in any order.

TEST(ImapSessionPipeline, ManyCommandsInFlightEachGetsItsData) {
  FakeTransport t;
  Session s(t);
  Recorder a;
  Recorder b;
  Recorder c;
  s.submit(cmd("UID FETCH", "1:2 (UID FLAGS)"), a.on_done(), a.on_data());
  s.submit(cmd("UID SEARCH", "UNSEEN"), b.on_done(), b.on_data());
  s.submit(cmd("LIST", "\"\" *"), c.on_done(), c.on_data());
  ASSERT_TRUE(s.step(0ms));
  EXPECT_EQ(t.client(), "u1 UID FETCH 1:2 (UID FLAGS)\r\nu2 UID SEARCH UNSEEN\r\nu3 LIST \"\" *\r\n");
  EXPECT_EQ(s.in_flight(), 3u);
  t.server("* LIST () \"/\" INBOX\r\n* 1 FETCH (UID 1 FLAGS ())\r\n* SEARCH 2\r\n"
           "u3 OK LIST done\r\n* 2 FETCH (UID 2 FLAGS (\\Seen))\r\nu2 OK\r\nu1 OK\r\n");
  pump(s, [&] { return s.in_flight() == 0; });
  ASSERT_EQ(a.done.size(), 1u);
  ASSERT_EQ(b.done.size(), 1u);
  ASSERT_EQ(c.done.size(), 1u);
  ASSERT_EQ(a.data.size(), 2u);
  EXPECT_EQ(std::get<Fetch>(a.data[1].value).uid, 2u);
  ASSERT_EQ(b.data.size(), 1u);
  EXPECT_EQ(std::get<Search>(b.data[0].value).numbers, std::vector<std::uint32_t>{2});
  ASSERT_EQ(c.data.size(), 1u);
  EXPECT_EQ(std::get<MailboxList>(c.data[0].value).name, "INBOX");
  EXPECT_EQ(c.done[0].text, "LIST done");
}

TEST(ImapSessionPipeline, HandlersMaySubmitMoreCommands) {
  FakeTransport t;
  t.reply_to("u1 NOOP\r\n", "u1 OK\r\n");
  t.reply_to("u2 CHECK\r\n", "u2 OK checked\r\n");
  Session s(t);
  std::vector<std::string> order;
  s.submit(cmd("NOOP"), [&](const Tagged&) {
    order.push_back("noop");
    s.submit(cmd("CHECK"), [&](const Tagged& tg) { order.push_back(tg.text); });
  });
  pump(s, [&] { return order.size() == 2; });
  EXPECT_EQ(order, (std::vector<std::string>{"noop", "checked"}));
}

// ---- Literals, client to server.

TEST(ImapSessionLiteral, SynchronizingLiteralWaitsForContinuation) {
  FakeTransport t;
  Session s(t);
  Recorder append;
  Recorder noop;
  CommandBuilder b("APPEND");
  b.mailbox("INBOX").raw("(\\Seen)").literal("Hello");
  s.submit(b.build().value(), append.on_done());
  s.submit(cmd("NOOP"), noop.on_done());
  ASSERT_TRUE(s.step(0ms));
  // Only the part up to the literal header, and nothing after it, before "+".
  EXPECT_EQ(t.client(), "u1 APPEND INBOX (\\Seen) {5}\r\n");
  t.server("+ Ready for literal data\r\n");
  ASSERT_TRUE(s.step(0ms));
  EXPECT_EQ(t.client(), "u1 APPEND INBOX (\\Seen) {5}\r\nHello\r\nu2 NOOP\r\n");
  t.server("u1 OK [APPENDUID 7 42] APPEND done\r\nu2 OK\r\n");
  pump(s, [&] { return s.in_flight() == 0; });
  ASSERT_EQ(append.done.size(), 1u);
  EXPECT_EQ(append.done[0].code.kind, ResponseCode::Kind::appenduid);
  EXPECT_EQ(append.done[0].code.uids, UidSet::of({42}));
  ASSERT_EQ(noop.done.size(), 1u);
}

TEST(ImapSessionLiteral, LiteralPlusGoesInOneWrite) {
  FakeTransport t;
  t.server("* CAPABILITY IMAP4rev1 LITERAL+\r\n");
  Session s(t);
  ASSERT_TRUE(s.step(0ms));
  ASSERT_EQ(s.literal_mode(), LiteralMode::plus);
  CommandBuilder b("APPEND", s.literal_mode());
  b.mailbox("Entwürfe").literal("Hello");
  s.submit(b.build().value(), {});
  ASSERT_TRUE(s.step(0ms));
  ASSERT_EQ(t.writes().size(), 1u);
  EXPECT_EQ(t.writes()[0], "u1 APPEND Entw&APw-rfe {5+}\r\nHello\r\n");
}

TEST(ImapSessionLiteral, RefusedLiteralCompletesAndUnblocksTheQueue) {
  FakeTransport t;
  t.reply_to("{5}\r\n", "u1 NO [OVERQUOTA] too big\r\n");
  t.reply_to("u2 NOOP\r\n", "u2 OK\r\n");
  Session s(t);
  Recorder append;
  Recorder noop;
  CommandBuilder b("APPEND");
  b.mailbox("INBOX").literal("Hello");
  s.submit(b.build().value(), append.on_done());
  s.submit(cmd("NOOP"), noop.on_done());
  pump(s, [&] { return s.in_flight() == 0; });
  ASSERT_EQ(append.done.size(), 1u);
  EXPECT_EQ(append.done[0].status, Status::no);
  EXPECT_EQ(append.done[0].code.kind, ResponseCode::Kind::overquota);
  EXPECT_EQ(t.client().find("Hello"), std::string::npos) << "literal sent despite NO";
  ASSERT_EQ(noop.done.size(), 1u);
}

// ---- Literals, server to client, split at every possible place.

class ImapSessionServerLiteral : public ::testing::TestWithParam<std::size_t> {};

TEST_P(ImapSessionServerLiteral, FetchBodyArrivesWhole) {
  FakeTransport t;
  t.set_max_read(GetParam());
  t.reply_to("u1 UID FETCH 42 (BODY.PEEK[])\r\n",
             "* 1 FETCH (UID 42 BODY[] {12}\r\nHi\r\n\r\nthere!)\r\nu1 OK done\r\n");
  Session s(t);
  Recorder r;
  s.submit(cmd("UID FETCH", "42 (BODY.PEEK[])"), r.on_done(), r.on_data());
  pump(s, [&] { return !r.done.empty(); });
  ASSERT_EQ(r.data.size(), 1u);
  const auto& f = std::get<Fetch>(r.data[0].value);
  EXPECT_EQ(f.uid, 42u);
  ASSERT_EQ(f.bodies.size(), 1u);
  EXPECT_EQ(f.bodies[0].data, "Hi\r\n\r\nthere!");
}

INSTANTIATE_TEST_SUITE_P(ReadSizes, ImapSessionServerLiteral, ::testing::Values(1, 2, 3, 7, 64),
                         [](const ::testing::TestParamInfo<std::size_t>& p) {
                           return "max_read_" + std::to_string(p.param);
                         });

class CollectingSink : public BodySink {
public:
  void begin(std::uint32_t, std::string_view, std::uint64_t) override {}
  void chunk(std::string_view bytes) override { body.append(bytes); }
  void finish(const Fetch& fetch) override { uid = fetch.uid.value_or(0); }
  void abort(std::string_view) override {}
  std::string body;
  core::Uid uid = 0;
};

TEST(ImapSessionSink, LargeBodyGoesToTheSinkNotTheHandler) {
  FakeTransport t;
  std::string body(300000, 'm');
  t.reply_to("u1 UID FETCH", "* 1 FETCH (BODY[] {300000}\r\n" + body + " UID 7)\r\nu1 OK\r\n");
  CollectingSink sink;
  SessionOptions options;
  options.body_sink = &sink;
  Session s(t, options);
  Recorder r;
  s.submit(cmd("UID FETCH", "7 (BODY.PEEK[] UID)"), r.on_done(), r.on_data());
  pump(s, [&] { return !r.done.empty(); });
  EXPECT_EQ(sink.body, body);
  EXPECT_EQ(sink.uid, 7u);
  ASSERT_EQ(r.data.size(), 1u);
  EXPECT_TRUE(std::get<Fetch>(r.data[0].value).bodies.at(0).streamed);
}

// ---- BYE in the middle of commands.

TEST(ImapSessionBye, ByeMidCommandFailsEveryPendingCommand) {
  FakeTransport t;
  Session s(t);
  Recorder a;
  Recorder b;
  s.submit(cmd("UID FETCH", "1:* (FLAGS)"), a.on_done(), a.on_data());
  s.submit(cmd("NOOP"), b.on_done());
  ASSERT_TRUE(s.step(0ms));
  t.server("* 1 FETCH (UID 1 FLAGS ())\r\n* BYE Server shutting down\r\n");
  t.eof();
  auto result = s.step(0ms);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().scope, core::Scope::account);
  EXPECT_NE(result.error().message.find("Server shutting down"), std::string::npos);
  ASSERT_EQ(a.done.size(), 1u);
  ASSERT_EQ(b.done.size(), 1u);
  EXPECT_EQ(a.done[0].status, Status::bye);
  EXPECT_EQ(b.done[0].status, Status::bye);
  EXPECT_EQ(a.data.size(), 1u) << "data before the BYE is still delivered";
  EXPECT_TRUE(s.closed());
  EXPECT_TRUE(t.closed());
  // Later submissions complete at once, with the reason.
  Recorder late;
  s.submit(cmd("NOOP"), late.on_done());
  ASSERT_EQ(late.done.size(), 1u);
  EXPECT_EQ(late.done[0].status, Status::bye);
}

TEST(ImapSessionBye, WriteFailureFailsTheCommands) {
  FakeTransport t;
  t.fail_writes();
  Session s(t);
  Recorder r;
  s.submit(cmd("NOOP"), r.on_done());
  EXPECT_FALSE(s.step(0ms));
  ASSERT_EQ(r.done.size(), 1u);
  EXPECT_EQ(r.done[0].status, Status::bye);
}

TEST(ImapSessionLogout, ByeAfterLogoutIsNotAnError) {
  FakeTransport t;
  t.reply_to("u1 LOGOUT\r\n", "* BYE Logging out\r\nu1 OK Logout completed.\r\n");
  t.eof();
  Session s(t);
  auto result = s.logout(1s);
  EXPECT_TRUE(result) << result.error().what();
  EXPECT_TRUE(s.closed());
}

TEST(ImapSessionLogout, ZeroTimeoutSendsLogoutAndClosesWithoutWaiting) {
  FakeTransport t; // never answers
  Session s(t);
  auto result = s.logout(0ms);
  EXPECT_TRUE(result) << result.error().what();
  EXPECT_EQ(t.client(), "u1 LOGOUT\r\n");
  EXPECT_TRUE(s.closed());
}

// ---- Capabilities taken from the login reply.

struct AdoptRow {
  std::string name;
  std::string list;
  bool adopted;
  std::vector<std::string> has; // after adoption (upper case)
  std::vector<std::string> lacks;
};

class ImapSessionAdopt : public ::testing::TestWithParam<AdoptRow> {};

TEST_P(ImapSessionAdopt, TakesTheLoginListOrKeepsTheOldOne) {
  const auto& row = GetParam();
  FakeTransport t;
  t.server("* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n");
  Session s(t);
  ASSERT_TRUE(s.step(0ms));
  ASSERT_TRUE(s.has_capability("AUTH=PLAIN"));
  EXPECT_EQ(s.adopt_capabilities(row.list), row.adopted);
  for (const auto& c : row.has) {
    EXPECT_TRUE(s.has_capability(c)) << c;
  }
  for (const auto& c : row.lacks) {
    EXPECT_FALSE(s.has_capability(c)) << c;
  }
  EXPECT_EQ(t.client(), ""); // nothing asked
}

INSTANTIATE_TEST_SUITE_P(
    Rows, ImapSessionAdopt,
    ::testing::Values(
        AdoptRow{"ReplacesThePreLoginList", "IMAP4rev1 UIDPLUS QRESYNC", true,
                 {"IMAP4REV1", "UIDPLUS", "QRESYNC"}, {"AUTH=PLAIN"}},
        AdoptRow{"UpperCasesAndSkipsExtraSpaces", "imap4rev1  compress=deflate ", true,
                 {"IMAP4REV1", "COMPRESS=DEFLATE"}, {"AUTH=PLAIN", ""}},
        AdoptRow{"EmptyKeepsTheOldList", "", false, {"AUTH=PLAIN"}, {"UIDPLUS"}},
        AdoptRow{"SpacesOnlyKeepTheOldList", "   ", false, {"AUTH=PLAIN"}, {"UIDPLUS"}}),
    test::RowName{});

// ---- Continuation requests: IDLE.

TEST(ImapSessionIdle, IdleDeliversUpdatesAndHoldsCommandsUntilDone) {
  FakeTransport t;
  Session s(t);
  Recorder idle;
  Recorder noop;
  s.idle(idle.on_done(), idle.on_data());
  ASSERT_TRUE(s.step(0ms));
  EXPECT_EQ(t.client(), "u1 IDLE\r\n");
  s.submit(cmd("NOOP"), noop.on_done());
  t.server("+ idling\r\n* 5 EXISTS\r\n");
  ASSERT_TRUE(s.step(0ms));
  EXPECT_TRUE(s.idling());
  EXPECT_EQ(s.mailbox().exists, 5u);
  EXPECT_EQ(t.client(), "u1 IDLE\r\n") << "nothing may follow IDLE before DONE";
  s.idle_done();
  t.reply_to("DONE\r\n", "u1 OK Idle completed\r\n");
  t.reply_to("u2 NOOP\r\n", "u2 OK\r\n");
  pump(s, [&] { return s.in_flight() == 0; });
  EXPECT_EQ(t.client(), "u1 IDLE\r\nDONE\r\nu2 NOOP\r\n");
  ASSERT_EQ(idle.done.size(), 1u);
  EXPECT_EQ(idle.done[0].status, Status::ok);
  EXPECT_FALSE(s.idling());
  ASSERT_EQ(noop.done.size(), 1u);
}

TEST(ImapSessionIdle, DoneBeforeContinuationWaitsForIt) {
  FakeTransport t;
  Session s(t);
  Recorder idle;
  s.idle(idle.on_done());
  s.idle_done();
  ASSERT_TRUE(s.step(0ms));
  EXPECT_EQ(t.client(), "u1 IDLE\r\n");
  t.server("+ idling\r\n");
  t.reply_to("DONE\r\n", "u1 OK\r\n");
  pump(s, [&] { return !idle.done.empty(); });
  EXPECT_EQ(t.client(), "u1 IDLE\r\nDONE\r\n");
}

// ---- Capabilities, ENABLE, SELECT with QRESYNC.

TEST(ImapSessionSetup, CapabilitiesRefreshedAndQresyncEnabled) {
  FakeTransport t;
  t.reply_to("u1 CAPABILITY\r\n",
             "* CAPABILITY IMAP4rev1 ENABLE CONDSTORE QRESYNC LITERAL-\r\nu1 OK\r\n");
  t.reply_to("u2 ENABLE CONDSTORE QRESYNC\r\n", "* ENABLED CONDSTORE QRESYNC\r\nu2 OK\r\n");
  Session s(t);
  ASSERT_TRUE(s.refresh_capabilities(1s));
  EXPECT_TRUE(s.has_capability("QRESYNC"));
  EXPECT_EQ(s.literal_mode(), LiteralMode::minus);
  auto enabled = s.enable_qresync(1s);
  ASSERT_TRUE(enabled) << enabled.error().what();
  EXPECT_EQ(*enabled, (std::set<std::string>{"CONDSTORE", "QRESYNC"}));
}

TEST(ImapSessionSetup, NoEnableWithoutCondstore) {
  FakeTransport t;
  t.reply_to("u1 CAPABILITY\r\n", "u1 OK [CAPABILITY IMAP4rev1 IDLE] ok\r\n");
  Session s(t);
  ASSERT_TRUE(s.refresh_capabilities(1s));
  EXPECT_TRUE(s.has_capability("IDLE"));
  auto enabled = s.enable_qresync(1s);
  ASSERT_TRUE(enabled);
  EXPECT_TRUE(enabled->empty());
  EXPECT_EQ(t.client(), "u1 CAPABILITY\r\n");
}

TEST(ImapSessionSelect, QresyncSelectFillsMailboxStateAndRoutesVanished) {
  FakeTransport t;
  auto command = select_command("Entwürfe", false, QresyncParams{67890007, 20050715194045000,
                                                                 UidSet::of({1, 2, 3, 9})},
                                false, LiteralMode::synchronizing);
  ASSERT_TRUE(command);
  t.reply_to("u1 SELECT Entw&APw-rfe (QRESYNC (67890007 20050715194045000 1:3,9))\r\n",
             "* 10 EXISTS\r\n* OK [UIDVALIDITY 67890007] ok\r\n* OK [UIDNEXT 30] ok\r\n"
             "* OK [HIGHESTMODSEQ 20050715194045001] ok\r\n* VANISHED (EARLIER) 2\r\n"
             "* 3 FETCH (UID 9 FLAGS (\\Seen) MODSEQ (20050715194045001))\r\n"
             "u1 OK [READ-WRITE] selected\r\n");
  Session s(t);
  std::vector<Response> data;
  auto done = s.execute(*command, 1s, [&](const Response& r) { data.push_back(r); });
  ASSERT_TRUE(done) << done.error().what();
  EXPECT_EQ(s.mailbox().exists, 10u);
  EXPECT_EQ(s.mailbox().uidvalidity, 67890007u);
  EXPECT_EQ(s.mailbox().uidnext, 30u);
  EXPECT_EQ(s.mailbox().highestmodseq, 20050715194045001u);
  EXPECT_FALSE(s.mailbox().read_only);
  std::size_t vanished = 0;
  std::size_t fetches = 0;
  for (const auto& r : data) {
    vanished += std::holds_alternative<Vanished>(r.value);
    fetches += std::holds_alternative<Fetch>(r.value);
  }
  EXPECT_EQ(vanished, 1u);
  EXPECT_EQ(fetches, 1u);
}

TEST(ImapSessionSelect, NoIsAFolderError) {
  FakeTransport t;
  t.reply_to("u1 EXAMINE", "u1 NO [TRYCREATE] Mailbox doesn't exist: Nope\r\n");
  Session s(t);
  auto done = s.execute(select_command("Nope", true, std::nullopt, true,
                                       LiteralMode::synchronizing)
                            .value(),
                        1s);
  ASSERT_FALSE(done);
  EXPECT_EQ(done.error().scope, core::Scope::folder);
  EXPECT_NE(done.error().message.find("Mailbox doesn't exist"), std::string::npos);
  EXPECT_NE(t.client().find("EXAMINE Nope (CONDSTORE)"), std::string::npos);
}

TEST(ImapSessionUnsolicited, UpdatesNobodyAskedForGoToTheUnsolicitedHandler) {
  FakeTransport t;
  t.reply_to("u1 NOOP\r\n", "* 4 EXISTS\r\n* 2 FETCH (FLAGS (\\Seen))\r\nu1 OK\r\n");
  Session s(t);
  std::vector<Response> unsolicited;
  s.on_unsolicited([&](const Response& r) { unsolicited.push_back(r); });
  Recorder r;
  s.noop(r.on_done());
  pump(s, [&] { return !r.done.empty(); });
  ASSERT_EQ(unsolicited.size(), 2u);
  EXPECT_EQ(s.mailbox().exists, 4u);
}

TEST(ImapSessionTimeout, ExecuteTimesOutAsAccountError) {
  FakeTransport t;
  Session s(t);
  auto done = s.execute(cmd("NOOP"), 20ms);
  ASSERT_FALSE(done);
  EXPECT_EQ(done.error().scope, core::Scope::account);
  EXPECT_NE(done.error().message.find("no answer within 20 ms"), std::string::npos);
}

TEST(ImapSessionTrace, TranscriptIsRedacted) {
  FakeTransport t;
  t.reply_to("u1 UID FETCH", "* 1 FETCH (UID 5 BODY[] {11}\r\nsecret body)\r\nu1 OK\r\n");
  std::ostringstream out;
  Trace trace(out);
  SessionOptions options;
  options.trace = &trace;
  Session s(t, options);
  Recorder r;
  s.submit(cmd("UID FETCH", "5 BODY.PEEK[]"), r.on_done(), r.on_data());
  pump(s, [&] { return !r.done.empty(); });
  EXPECT_EQ(out.str(), "C: u1 UID FETCH 5 BODY.PEEK[]\n"
                       "S: * 1 FETCH (UID 5 BODY[] {11} <11 bytes>\n"
                       "S: )\n"
                       "S: u1 OK\n");
}

} // namespace
} // namespace uidsync::imap
