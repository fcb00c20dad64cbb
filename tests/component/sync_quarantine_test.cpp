// SPDX-License-Identifier: GPL-3.0-or-later
// The quarantine end to end through sync::sync_folder() and the scripted fake
// server: each failure mode alone in a pipelined folder, all of them together in
// exchange_poison.scn (with Exchange's ~10-errors session cut), the backoff, a
// retry, a server that heals, and a server that expunges the poison message.
// The harness reconnects after an account-scope error, as the account runner does.
#include "support/fake_imap_server.hpp"
#include "support/sync_harness.hpp"
#include "support/table.hpp"

#include <uidsync/sync/quarantine.hpp>

#include <gtest/gtest.h>

#include <ctime>
#include <set>
#include <string>

namespace uidsync::test {
namespace {

struct FaultRow {
  std::string name;
  std::string fault;    // the fault line for UID 50 (of 1..100)
  std::string reason;   // the quarantine reason
  bool anomaly = false; // the stub names another UID
  std::string size = "size=300..3000";
};

const FaultRow k_fault_rows[] = {
    {"ok_no_data", "ok_no_data 50", "no-data"},
    {"exchange_stub", "exchange_stub 50", "exchange-stub"},
    {"exchange_stub_folded", "exchange_stub 50 folded", "exchange-stub"},
    {"exchange_stub_encoded", "exchange_stub 50 encoded", "exchange-stub"},
    {"exchange_stub_other_uid", "exchange_stub 50 subject_uid=51", "exchange-stub", true},
    {"stub_served_as_body", "exchange_stub_body 50", "exchange-stub"},
    {"stub_served_as_body_other_uid", "exchange_stub_body 50 subject_uid=7", "exchange-stub", true},
    {"no_for_the_set", "no 50", "refused"},
    {"bad_for_the_set", "bad 50", "rejected"},
    {"nil_body", "nil_body 50", "nil-body"},
    {"literal_longer", "size_mismatch 50 +100", "size-mismatch"},
    {"literal_shorter", "size_mismatch 50 -50", "size-mismatch"},
    {"literal_longer_streamed", "size_mismatch 50 +100", "size-mismatch", false,
     "size=70000..70100"},
    {"drop_mid_literal", "drop_mid_literal 50", "connection-dropped"},
    {"drop_mid_streamed_literal", "drop_mid_literal 50", "connection-dropped", false,
     "size=70000..70100"},
    {"hang", "hang 50", "timeout"},
};

class SyncQuarantineFault : public ::testing::TestWithParam<FaultRow> {};

TEST_P(SyncQuarantineFault, QuarantinesTheOneUidAndDeliversTheRestOnce) {
  const auto& p = GetParam();
  FakeImapServer server(inline_scenario("user alice pw-3x4mpl3\ncapabilities UIDPLUS\n"
                                        "folder INBOX uidvalidity=9\ngenerate 100 start=1 " +
                                        p.size + "\n" + p.fault + "\n"));
  SyncHarness h(server.port(), "alice", "pw-3x4mpl3");
  const auto run = h.sync();
  ASSERT_FALSE(run.error) << run.error->what();

  const auto local = h.local_uids();
  EXPECT_EQ(local.size(), 99u);
  EXPECT_EQ(local.count(50), 0u) << "the poison message must not be stored";
  for (const auto& [uid, files] : local) {
    EXPECT_EQ(files.size(), 1u) << "UID " << uid;
  }
  auto messages = h.db().messages(h.row().id);
  ASSERT_TRUE(messages);
  EXPECT_EQ(messages->size(), 99u);
  EXPECT_EQ(run.stats.fetched, 99u);
  EXPECT_EQ(run.stats.quarantined, 1u);
  EXPECT_EQ(run.stats.anomalies, p.anomaly ? 1u : 0u);

  const auto q = h.quarantine();
  ASSERT_EQ(q.size(), 1u);
  const auto& row = q.at(50);
  EXPECT_EQ(row.reason, p.reason);
  EXPECT_EQ(row.state, state::QuarantineState::active);
  EXPECT_EQ(row.tries, 1);
  EXPECT_EQ(row.first_seen, row.last_try);
  EXPECT_EQ(row.next_try, row.last_try + 3600);
  EXPECT_FALSE(row.detail.empty());
  ASSERT_FALSE(row.evidence.empty());
  EXPECT_EQ(row.evidence.rfind(h.state_dir().string(), 0), 0u) << row.evidence;
  const auto evidence = read_file(row.evidence);
  EXPECT_NE(evidence.find("try 1"), std::string::npos) << evidence;
  EXPECT_NE(evidence.find(": " + p.reason + "\n"), std::string::npos) << evidence;
  EXPECT_NE(evidence.find("UID FETCH"), std::string::npos) << evidence;
  EXPECT_EQ(evidence.find("pw-3x4mpl3"), std::string::npos) << evidence;

  auto anomalies = h.db().anomalies(h.row().id);
  ASSERT_TRUE(anomalies);
  ASSERT_EQ(anomalies->size(), p.anomaly ? 1u : 0u);
  if (p.anomaly) {
    EXPECT_EQ(anomalies->front().kind, state::AnomalyKind::uid_reused);
    EXPECT_EQ(anomalies->front().uid, 50u);
  }

  // Within the backoff, the next sync does not ask for it again.
  const int fetches = server.body_fetches("INBOX", 50);
  const auto again = h.sync();
  ASSERT_FALSE(again.error) << again.error->what();
  EXPECT_EQ(server.body_fetches("INBOX", 50), fetches);
  EXPECT_EQ(again.stats.quarantine_waiting, 1u);
  EXPECT_EQ(again.stats.quarantined, 0u);
  EXPECT_EQ(again.stats.fetched, 0u);
  EXPECT_EQ(h.local_uids().size(), 99u);
}

INSTANTIATE_TEST_SUITE_P(Rows, SyncQuarantineFault, ::testing::ValuesIn(k_fault_rows), RowName{});

struct PoisonRow {
  std::string name;
  std::uint32_t uid;
  std::string reason;
};

const PoisonRow k_poison_rows[] = {
    {"ok_no_data", 15101, "no-data"},
    {"exchange_stub", 15541, "exchange-stub"},
    {"stub_as_body", 15542, "exchange-stub"},
    {"stub_folded", 15543, "exchange-stub"},
    {"stub_encoded", 15544, "exchange-stub"},
    {"stub_other_uid", 15545, "exchange-stub"},
    {"no", 15601, "refused"},
    {"bad", 15602, "rejected"},
    {"nil_body", 15701, "nil-body"},
    {"literal_longer", 15702, "size-mismatch"},
    {"literal_shorter", 15703, "size-mismatch"},
    {"drop_mid_literal", 15801, "connection-dropped"},
    {"hang", 15901, "timeout"},
};

// exchange_poison.scn synced once for the whole suite (it takes several
// connections: Exchange's session cut, the drop and the hang each end one).
struct Poisoned {
  Poisoned()
      : server(must_load_scenario("exchange_poison.scn")), h(server.port(), "alice", "secret") {
    run = h.sync(20);
  }
  FakeImapServer server;
  SyncHarness h;
  SyncHarness::Run run;
};

// Read by the table and EveryOtherMessageArrivesExactlyOnce; the test that syncs
// again has its own.
Poisoned& poisoned() {
  static Poisoned p;
  return p;
}

class SyncQuarantinePoison : public ::testing::TestWithParam<PoisonRow> {};

TEST_P(SyncQuarantinePoison, EachFailureModeIsQuarantinedWithItsReason) {
  auto& p = poisoned();
  ASSERT_FALSE(p.run.error) << p.run.error->what();
  const auto q = p.h.quarantine();
  ASSERT_EQ(q.count(GetParam().uid), 1u);
  const auto& row = q.at(GetParam().uid);
  EXPECT_EQ(row.reason, GetParam().reason) << row.detail;
  EXPECT_EQ(row.state, state::QuarantineState::active);
  EXPECT_EQ(row.tries, 1);
  EXPECT_TRUE(std::filesystem::exists(row.evidence)) << row.evidence;
  EXPECT_EQ(p.h.local_uids().count(GetParam().uid), 0u);
}

INSTANTIATE_TEST_SUITE_P(Rows, SyncQuarantinePoison, ::testing::ValuesIn(k_poison_rows), RowName{});

TEST(SyncQuarantineExchange, EveryOtherMessageArrivesExactlyOnce) {
  auto& p = poisoned();
  ASSERT_FALSE(p.run.error) << p.run.error->what();
  std::set<std::uint32_t> poison;
  for (const auto& r : k_poison_rows) {
    poison.insert(r.uid);
  }
  const auto local = p.h.local_uids();
  EXPECT_EQ(local.size(), 1000u - poison.size());
  for (std::uint32_t uid = 15001; uid <= 16000; ++uid) {
    if (poison.count(uid) == 0) {
      ASSERT_EQ(local.count(uid), 1u) << "UID " << uid << " missing";
      EXPECT_EQ(local.at(uid).size(), 1u) << "UID " << uid;
    }
  }
  EXPECT_EQ(p.run.stats.fetched, 1000u - poison.size());
  EXPECT_EQ(p.run.stats.quarantined, poison.size());
  // Only the 13 poison UIDs: no suspect left behind.
  EXPECT_EQ(p.h.quarantine().size(), poison.size());
  // Exchange's cut, the drop and the hang each cost a connection.
  EXPECT_GE(p.run.connections, 4);
  EXPECT_GE(p.server.connections_accepted(), 4);
}

TEST(SyncQuarantineExchange, SecondRunWithinTheBackoffFetchesNoPoisonAndRetryDoes) {
  Poisoned p;
  ASSERT_FALSE(p.run.error) << p.run.error->what();
  const auto before = p.server.all_body_fetches();
  const auto again = p.h.sync();
  ASSERT_FALSE(again.error) << again.error->what();
  EXPECT_EQ(again.connections, 1);
  EXPECT_EQ(again.stats.fetched, 0u);
  EXPECT_EQ(again.stats.quarantined, 0u);
  EXPECT_EQ(again.stats.quarantine_waiting, std::size(k_poison_rows));
  EXPECT_EQ(p.server.all_body_fetches(), before);

  // "uidsync quarantine retry": next_try = now. The next sync asks for it alone,
  // it fails again, and waits for the second step of the backoff (4 h).
  auto row = p.h.quarantine().at(15101);
  row.next_try = static_cast<std::int64_t>(std::time(nullptr));
  ASSERT_TRUE(p.h.db().put_quarantine(row));
  const auto retried = p.h.sync();
  ASSERT_FALSE(retried.error) << retried.error->what();
  EXPECT_EQ(p.server.body_fetches("INBOX", 15101), before.at({"INBOX", 15101}) + 1);
  EXPECT_EQ(retried.stats.quarantined, 0u) << "a retry that fails again is not a new quarantine";
  const auto after = p.h.quarantine().at(15101);
  EXPECT_EQ(after.tries, 2);
  EXPECT_EQ(after.next_try, after.last_try + 4 * 3600);
  EXPECT_EQ(after.first_seen, row.first_seen);
  EXPECT_NE(read_file(after.evidence).find("try 2: no-data"), std::string::npos);
}

TEST(SyncQuarantineHeal, AHealedMessageIsDeliveredAndReleased) {
  // heals.scn: UID 7 answers NO on connections 1 and 2, and is served from the 3rd.
  FakeImapServer server(must_load_scenario("heals.scn"));
  SyncHarness h(server.port(), "alice", "secret");
  h.options().quarantine.backoff = {std::chrono::seconds(0)}; // due again at once
  const auto first = h.sync();
  ASSERT_FALSE(first.error) << first.error->what();
  EXPECT_EQ(first.stats.quarantined, 1u);
  EXPECT_EQ(h.quarantine().at(7).reason, "refused");

  const auto second = h.sync(); // connection 2: still NO; UID 9 was expunged
  ASSERT_FALSE(second.error) << second.error->what();
  EXPECT_EQ(h.quarantine().at(7).tries, 2);
  EXPECT_EQ(h.local_uids().count(9), 0u);

  const auto third = h.sync(); // connection 3: healed, and UID 11 is new
  ASSERT_FALSE(third.error) << third.error->what();
  EXPECT_EQ(third.stats.released, 1u);
  EXPECT_EQ(third.stats.fetched, 2u);
  const auto released = h.quarantine().at(7);
  EXPECT_EQ(released.state, state::QuarantineState::released);
  ASSERT_EQ(h.local_uids().count(7), 1u);
  EXPECT_EQ(h.local_uids().at(7).size(), 1u);
  EXPECT_EQ(h.local_uids().count(11), 1u);
}

TEST(SyncQuarantineHeal, AMessageTheServerExpungedIsReleased) {
  FakeImapServer server(inline_scenario("user alice secret\nfolder INBOX uidvalidity=3\n"
                                        "generate 10 start=1\nno 5\n"
                                        "on session 2:\nexpunge 5\nend\n"));
  SyncHarness h(server.port(), "alice", "secret");
  ASSERT_FALSE(h.sync().error);
  EXPECT_EQ(h.quarantine().at(5).state, state::QuarantineState::active);
  const int fetches = server.body_fetches("INBOX", 5);
  const auto second = h.sync();
  ASSERT_FALSE(second.error) << second.error->what();
  EXPECT_EQ(second.stats.released, 1u);
  EXPECT_EQ(second.stats.quarantine_waiting, 0u);
  const auto row = h.quarantine().at(5);
  EXPECT_EQ(row.state, state::QuarantineState::released);
  EXPECT_NE(row.detail.find("no longer lists"), std::string::npos) << row.detail;
  EXPECT_EQ(server.body_fetches("INBOX", 5), fetches);
}

} // namespace
} // namespace uidsync::test
