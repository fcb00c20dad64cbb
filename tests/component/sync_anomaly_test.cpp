// SPDX-License-Identifier: GPL-3.0-or-later
// Server anomalies end to end: the real binary syncs from the fake IMAP server
// playing a broken server (a lagging index replica, UIDs out of the rules, a
// reused UID, a renumbered folder), and `uidsync doctor` reports an Exchange
// poison message. Observed through the state DB, the Maildir and the server's
// own counters.
#include "support/dovecot.hpp"
#include "support/fake_imap_server.hpp"
#include "support/sync_cli.hpp"
#include "support/table.hpp"
#include "support/temp_dir.hpp"

#include <uidsync/state/db.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace uidsync::test {
namespace {

// The exit code of a run that recorded an anomaly (core::ExitCode::attention).
constexpr int k_attention = 3;

namespace fs = std::filesystem;

// "kind:uid:open|resolved" for each anomaly of `folder`, in record order.
std::vector<std::string> anomalies(const fs::path& db_path, const std::string& folder) {
  auto db = state::Db::open(db_path);
  if (!db) {
    throw std::runtime_error(db.error().message);
  }
  auto row = db->folder(folder);
  std::vector<std::string> out;
  if (!row || !row->has_value()) {
    return out;
  }
  auto rows = db->anomalies((*row)->id);
  for (const auto& a : *rows) {
    out.push_back(std::to_string(static_cast<int>(a.kind)) + ":" + std::to_string(a.uid) + ":" +
                  (a.resolved_at == 0 ? "open" : "resolved"));
  }
  return out;
}

class FakeServerSync {
public:
  explicit FakeServerSync(const std::string& scenario)
      : FakeServerSync(
            must_load_scenario(fs::path(UIDSYNC_TEST_DATA_DIR) / "scenarios" / scenario)) {}
  explicit FakeServerSync(Scenario scenario) : m_server(std::move(scenario)) {
    write_file(m_dir / "password", "secret\n");
    write_file(m_dir / "config.toml",
               "[general]\nstate_dir = \"" + (m_dir / "state").string() +
                   "\"\n\n[accounts.demo]\nhost = \"127.0.0.1\"\nport = " +
                   std::to_string(m_server.port()) +
                   "\ntls = \"none\"\nallow_plaintext = true\nuser = \"alice\"\n"
                   "password_cmd = [\"cat\", \"" +
                   (m_dir / "password").string() + "\"]\nmaildir = \"" + (m_dir / "Mail").string() +
                   "\"\n");
  }

  CommandResult uidsync(const std::vector<std::string>& args) {
    return uidsync_command(m_dir, args);
  }
  CommandResult sync(const std::string& folder) { return uidsync({"sync", "-v", "-f", folder}); }
  std::map<std::string, std::string> files(const std::string& folder) {
    return local_files(m_dir / "Mail" / folder);
  }
  std::vector<std::string> anomalies(const std::string& folder) {
    return test::anomalies(m_dir / "state" / "demo.db", folder);
  }

  TempDir m_temp;
  fs::path m_dir = m_temp.path();
  FakeImapServer m_server;
};

// ---- one folder per listing anomaly (anomalies.scn) -----------------------

struct ListingRow {
  std::string name;
  std::string folder;
  std::string anomaly; // "kind:uid" expected among the records (empty: none at all)
  std::size_t files;   // messages stored locally after the first sync
};

void PrintTo(const ListingRow& row, std::ostream* os) {
  *os << row.name;
}

// Kinds: 0 exists_mismatch, 1 uid_reappeared, 2 uid_reused, 3 bad_uid.
const std::vector<ListingRow> k_listing_rows = {
    {"Consistent", "INBOX", "", 3},
    {"DuplicateUidIsHeldBack", "Duplicate", "3:3", 4},
    {"DescendingUids", "Descending", "3:0", 5},
    // UID FETCH 1:* cannot list UID 0: the message shows as one EXISTS too many.
    {"UidZeroShowsAsExistsMismatch", "Zero", "0:0", 3},
    {"UidAtUidnextIsHeldBack", "AboveNext", "3:6", 5},
    {"UidnextBelowMax", "NextBelowMax", "3:5", 4},
    {"ExistsAboveListing", "ExistsMismatch", "0:0", 5},
};

class SyncAnomalyListing : public ::testing::TestWithParam<ListingRow> {};

TEST_P(SyncAnomalyListing, RecordsTheAnomalyAndFetchesOnlySoundUids) {
  const auto& row = GetParam();
  FakeServerSync world("anomalies.scn");
  const auto first = world.sync(row.folder);
  ASSERT_EQ(first.status, row.anomaly.empty() ? 0 : k_attention) << first.output;
  EXPECT_EQ(world.files(row.folder).size(), row.files) << first.output;
  const auto recorded = world.anomalies(row.folder);
  if (row.anomaly.empty()) {
    EXPECT_TRUE(recorded.empty()) << recorded.front();
    return;
  }
  EXPECT_NE(std::find(recorded.begin(), recorded.end(), row.anomaly + ":open"), recorded.end())
      << first.output;
  EXPECT_NE(first.output.find("server anomaly"), std::string::npos) << first.output;
  // The server is still broken: the same records stay open, none is added.
  const auto second = world.sync(row.folder);
  ASSERT_EQ(second.status, 0) << second.output;
  EXPECT_EQ(world.anomalies(row.folder), recorded);
  EXPECT_EQ(world.files(row.folder).size(), row.files);
}

INSTANTIATE_TEST_SUITE_P(Rows, SyncAnomalyListing, ::testing::ValuesIn(k_listing_rows), RowName{});

// ---- the seed: EXPUNGE 147 -> 146, then NOOP says 147 again ---------------

TEST(SyncAnomalyStaleExists, ExpungedUidOfferedAgainIsNotNewMailAndResolves) {
  FakeServerSync world("stale_exists.scn");
  ASSERT_EQ(world.sync("INBOX").status, 0);
  auto files = world.files("INBOX");
  ASSERT_EQ(files.size(), 147u);
  // The user deletes UID 3193 locally: the next sync expunges it on the server
  // (147 -> 146), and the lagging replica answers the NOOP after it with
  // "* 147 EXISTS" and lists 3193 again.
  const auto victim = std::find_if(files.begin(), files.end(), [](const auto& f) {
    return f.first.find(",U=3193:") != std::string::npos;
  });
  ASSERT_NE(victim, files.end());
  fs::remove(world.m_dir / "Mail" / "INBOX" / victim->first);
  const auto expunge = world.sync("INBOX");
  ASSERT_EQ(expunge.status, k_attention) << expunge.output;
  EXPECT_NE(expunge.output.find("0 new, 0 flags, 1 deleted"), std::string::npos) << expunge.output;
  EXPECT_NE(expunge.output.find("UID 3193 is offered as new"), std::string::npos) << expunge.output;
  EXPECT_EQ(world.anomalies("INBOX"), std::vector<std::string>{"1:3193:open"});
  EXPECT_EQ(world.m_server.body_fetches("INBOX", 3193), 1) << "3193 fetched again as new mail";
  EXPECT_EQ(world.files("INBOX").size(), 146u);

  // A new connection sees the consistent server: nothing fetched or deleted, resolved.
  const auto healed = world.sync("INBOX");
  ASSERT_EQ(healed.status, 0) << healed.output;
  EXPECT_NE(healed.output.find("0 new, 0 flags, 0 deleted"), std::string::npos) << healed.output;
  EXPECT_EQ(world.anomalies("INBOX"), std::vector<std::string>{"1:3193:resolved"});
  EXPECT_EQ(world.m_server.body_fetches("INBOX", 3193), 1);
  EXPECT_EQ(world.files("INBOX").size(), 146u);
}

// ---- a reused UID: both messages are kept ---------------------------------

TEST(SyncAnomalyReusedUid, KeepsTheOldFileAndFetchesTheNewMessage) {
  FakeServerSync world("anomalies.scn");
  ASSERT_EQ(world.sync("Reused").status, 0);
  const auto before = world.files("Reused");
  ASSERT_EQ(before.size(), 3u);

  // 2nd connection: UID 2 is another message (123 bytes bigger, another Message-ID).
  const auto reused = world.sync("Reused");
  ASSERT_EQ(reused.status, k_attention) << reused.output;
  EXPECT_NE(reused.output.find("1 new, 0 flags, 0 deleted"), std::string::npos) << reused.output;
  EXPECT_EQ(world.anomalies("Reused"), std::vector<std::string>{"2:2:open"});
  const auto after = world.files("Reused");
  EXPECT_EQ(after.size(), 4u);
  for (const auto& [name, content] : before) {
    ASSERT_EQ(after.count(name), 1u) << name << " was overwritten or removed";
    EXPECT_EQ(after.at(name), content) << name;
  }
  EXPECT_EQ(
      std::count_if(after.begin(), after.end(),
                    [](const auto& f) { return f.second.find("<reused-") != std::string::npos; }),
      1);

  // Consistent from then on: resolved, nothing fetched again, both files kept.
  const auto third = world.sync("Reused");
  ASSERT_EQ(third.status, 0) << third.output;
  EXPECT_NE(third.output.find("0 new, 0 flags, 0 deleted"), std::string::npos) << third.output;
  EXPECT_EQ(world.anomalies("Reused"), std::vector<std::string>{"2:2:resolved"});
  EXPECT_EQ(world.files("Reused"), after);
}

// ---- UIDVALIDITY 100 -> 101, UIDs 501-510 -> 1-10 ---------------------------

TEST(SyncAnomalyUidvalidity, RenumberedFolderIsRepairedWithoutDownloads) {
  FakeServerSync world("uidvalidity_change.scn");
  ASSERT_EQ(world.sync("INBOX").status, 0);
  const auto before = world.files("INBOX");
  ASSERT_EQ(before.size(), 10u);
  const auto fetches_before = world.m_server.all_body_fetches();

  const auto repaired = world.sync("INBOX");
  ASSERT_EQ(repaired.status, k_attention) << repaired.output;
  EXPECT_NE(repaired.output.find("UIDVALIDITY changed from 100 to 101"), std::string::npos)
      << repaired.output;
  EXPECT_NE(repaired.output.find("0 new, 0 flags, 0 deleted"), std::string::npos)
      << repaired.output;
  EXPECT_EQ(world.m_server.all_body_fetches(), fetches_before) << "a body was downloaded again";
  EXPECT_EQ(world.anomalies("INBOX"), std::vector<std::string>{"4:0:resolved"});

  // Same contents, renamed to the new UIDs 1-10.
  const auto after = world.files("INBOX");
  ASSERT_EQ(after.size(), 10u);
  std::map<std::string, std::string> old_by_content;
  for (const auto& [name, content] : before) {
    old_by_content[content] = name;
  }
  for (const auto& [name, content] : after) {
    ASSERT_EQ(old_by_content.count(content), 1u) << name;
    const auto& old_name = old_by_content[content];
    ASSERT_NE(name.find(",U="), std::string::npos) << name;
    const auto old_uid = std::stoul(old_name.substr(old_name.find(",U=") + 3));
    EXPECT_EQ(std::stoul(name.substr(name.find(",U=") + 3)), old_uid - 500)
        << name << " (was " << old_name << ")";
  }

  const auto third = world.sync("INBOX");
  ASSERT_EQ(third.status, 0) << third.output;
  EXPECT_NE(third.output.find("0 new, 0 flags, 0 deleted"), std::string::npos) << third.output;
  EXPECT_EQ(world.files("INBOX"), after);
}

// A folder replaced by another one (new UIDVALIDITY, none of the old messages):
// nothing pairs, the new messages are downloaded, the old files stay as local mail.
TEST(SyncAnomalyUidvalidity, ReplacedFolderKeepsEveryOldFile) {
  auto scenario = parse_scenario("user alice secret\ncapabilities UIDPLUS\n"
                                 "folder INBOX uidvalidity=40\ngenerate 3 size=700\n"
                                 "on session 2:\nrenumber uidvalidity=41\n"
                                 "expunge 1\nexpunge 2\nexpunge 3\ngenerate 2 size=800\nend\n",
                                 "replaced.scn", UIDSYNC_TEST_DATA_DIR);
  ASSERT_TRUE(scenario) << scenario.error().message;
  FakeServerSync world(std::move(*scenario));
  ASSERT_EQ(world.sync("INBOX").status, 0);
  const auto before = world.files("INBOX");
  ASSERT_EQ(before.size(), 3u);

  const auto r = world.sync("INBOX");
  ASSERT_EQ(r.status, k_attention) << r.output;
  EXPECT_NE(r.output.find("UIDVALIDITY changed from 40 to 41 (the server renumbered the folder): "
                          "0 message(s) re-paired without download, 2 new on the server, 3 "
                          "local file(s) kept as new local mail; nothing was deleted"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("2 new, 0 flags, 0 deleted"), std::string::npos) << r.output;
  const auto after = world.files("INBOX");
  EXPECT_EQ(after.size(), 5u);
  std::size_t kept = 0;
  for (const auto& [name, content] : before) {
    for (const auto& [new_name, new_content] : after) {
      if (new_content == content) {
        ++kept;
        // Kept as new local mail, so uploaded again: a new UID, never an old one.
        for (const char* old_uid : {",U=1:", ",U=2:", ",U=3:"}) {
          EXPECT_EQ(new_name.find(old_uid), std::string::npos) << new_name << " keeps an old UID";
        }
      }
    }
  }
  EXPECT_EQ(kept, 3u);
}

// ---- doctor against Exchange with a poison message --------------------------

struct DoctorRow {
  std::string name;
  std::vector<std::string> extra; // options after "doctor demo INBOX"
  std::vector<std::string> expected;
};

void PrintTo(const DoctorRow& row, std::ostream* os) {
  *os << row.name;
}

const std::vector<DoctorRow> k_doctor_rows = {
    {"Text",
     {},
     {"Account demo: 127.0.0.1:", "TLS: none (plain IMAP)\n",
      "Authentication mechanisms: LOGIN PLAIN\n",
      "Folder INBOX:\n  EXISTS 1000, UID SEARCH ALL 1000: consistent\n  UIDNEXT 16001, highest "
      "UID 16000: consistent\n  Sample fetch: 11 message(s), 1 problem(s)\n  UID 15541 "
      "(quarantined): the server returns no data for it, and its header is Microsoft "
      "Exchange's stub",
      "On record: 1 entry\n  quarantined in INBOX: UID 15541 (no data; 2 tries)\n",
      "Summary for the mail server's administrators:\n  The server lists message UID 15541 in "
      "INBOX but returns no data for it, and its header is Microsoft Exchange's stub",
      "Transcript (passwords removed): "}},
    {"Json",
     {"--json"},
     {"{\"schema\": 1, \"account\": \"demo\"",
      "\"uid\": 15541, \"quarantined\": true, \"exchange_stub\": true",
      "\"summary\": [\"The server lists message UID 15541 in INBOX but returns no data for it",
      "\"transcript\": \""}},
};

class SyncAnomalyDoctor : public ::testing::TestWithParam<DoctorRow> {};

TEST_P(SyncAnomalyDoctor, ReportsThePoisonUidAndTheStub) {
  const auto& row = GetParam();
  FakeServerSync world("exchange_poison.scn");
  {
    fs::create_directories(world.m_dir / "state");
    auto db = state::Db::open(world.m_dir / "state" / "demo.db");
    ASSERT_TRUE(db) << db.error().message;
    state::FolderRow folder;
    folder.name = "INBOX";
    folder.uidvalidity = 14;
    auto id = db->put_folder(folder);
    ASSERT_TRUE(id);
    state::QuarantineRow q;
    q.folder_id = *id;
    q.uidvalidity = 14;
    q.uid = 15541;
    q.reason = "no data";
    q.tries = 2;
    ASSERT_TRUE(db->put_quarantine(q));
  }
  std::vector<std::string> args{"doctor", "demo", "INBOX"};
  args.insert(args.end(), row.extra.begin(), row.extra.end());
  const auto r = world.uidsync(args);
  EXPECT_EQ(r.status, 3) << r.output; // something to report
  for (const auto& text : row.expected) {
    EXPECT_NE(r.output.find(text), std::string::npos) << "missing: " << text << "\n" << r.output;
  }
  // Read-only: EXAMINE, never SELECT, STORE or EXPUNGE.
  EXPECT_EQ(world.m_server.commands("SELECT"), 0);
  EXPECT_EQ(world.m_server.commands("UID STORE"), 0);
  const auto logs =
      std::count_if(fs::directory_iterator(world.m_dir / "state"), fs::directory_iterator(),
                    [](const fs::directory_entry& e) {
                      return e.path().filename().string().rfind("doctor-demo-", 0) == 0;
                    });
  ASSERT_EQ(logs, 1);
  for (const auto& e : fs::directory_iterator(world.m_dir / "state")) {
    if (e.path().filename().string().rfind("doctor-demo-", 0) == 0) {
      const auto transcript = read_file(e.path());
      EXPECT_NE(transcript.find("UID FETCH 15541"), std::string::npos) << transcript;
      EXPECT_EQ(transcript.find("secret"), std::string::npos) << "password in the transcript";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Rows, SyncAnomalyDoctor, ::testing::ValuesIn(k_doctor_rows), RowName{});

} // namespace
} // namespace uidsync::test
