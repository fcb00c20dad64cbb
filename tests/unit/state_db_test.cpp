// SPDX-License-Identifier: GPL-3.0-or-later
// State DB: open, migrations from every older version, corrupt files, transactions.
#include "support/table.hpp"
#include "support/temp_dir.hpp"

#include <uidsync/state/db.hpp>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

namespace uidsync::state {
namespace {

namespace fs = std::filesystem;

// Runs raw SQL on a DB file, bypassing the Db class (to build old or odd files).
void raw_exec(const fs::path& path, const std::string& sql) {
  sqlite3* handle = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &handle), SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(handle, sql.c_str(), nullptr, nullptr, &err);
  const std::string message = err != nullptr ? err : "";
  sqlite3_free(err);
  sqlite3_close(handle);
  ASSERT_EQ(rc, SQLITE_OK) << message;
}

Db open_ok(const fs::path& path) {
  auto db = Db::open(path);
  if (!db) {
    ADD_FAILURE() << db.error().what();
    std::abort();
  }
  return std::move(db).value();
}

MessageRow message(std::int64_t folder_id, core::Uid uid) {
  MessageRow row;
  row.folder_id = folder_id;
  row.uid = uid;
  row.local_name =
      "cur/1700000000.P1Q" + std::to_string(uid) + ".host,U=" + std::to_string(uid) + ":2,S";
  row.flags = core::Flags::from_maildir("S");
  row.size = 1000 + uid;
  row.internaldate = 1690000000 + uid;
  row.message_id = "<" + std::to_string(uid) + "@example.org>";
  row.digest = std::string(64, 'a');
  return row;
}

TEST(StateDb, CreatesCurrentSchemaPrivately) {
  test::TempDir dir;
  const auto path = dir / "state/acct.db";
  auto db = open_ok(path);
  EXPECT_EQ(db.schema_version().value_or(-1), k_schema_version);
  EXPECT_EQ(fs::status(path).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(fs::status(dir / "state").permissions() & fs::perms::all, fs::perms::owner_all);
  // WAL mode is persistent: another connection sees it.
  sqlite3* handle = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &handle), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(handle, "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
  sqlite3_finalize(stmt);
  sqlite3_close(handle);
}

struct UpgradeRow {
  std::string name;
  std::string fixture;       // tests/data/state/<fixture>: a DB as that version wrote it
  std::size_t anomalies = 0; // anomaly rows the fixture holds
};

class StateDbUpgrade : public ::testing::TestWithParam<UpgradeRow> {};

TEST_P(StateDbUpgrade, KeepsEveryRow) {
  const auto& row = GetParam();
  test::TempDir dir;
  const auto path = dir / "old.db";
  raw_exec(path, test::read_file(fs::path(UIDSYNC_TEST_DATA_DIR) / "state" / row.fixture));

  auto db = open_ok(path);
  EXPECT_EQ(db.schema_version().value_or(-1), k_schema_version);
  auto inbox = db.folder("INBOX");
  ASSERT_TRUE(inbox && inbox->has_value());
  EXPECT_EQ(**inbox, (FolderRow{1, "INBOX", 1700000000, 4, 77, "INBOX", 1700000100, ""}));
  auto rows = db.messages((**inbox).id);
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 2U);
  EXPECT_EQ((*rows)[1].keywords, "$Junk");
  EXPECT_EQ((*rows)[1].local_name, "new/1700000000.P1Q2.host,U=3");
  auto work = db.folder("Work/Projects");
  ASSERT_TRUE(work && work->has_value());
  auto work_rows = db.messages((**work).id);
  ASSERT_TRUE(work_rows);
  ASSERT_EQ(work_rows->size(), 1U);
  EXPECT_EQ((*work_rows)[0].state, MessageState::expunged);
  EXPECT_EQ((*work_rows)[0].flags.to_maildir(), "FS");
  auto quarantined = db.quarantine((**inbox).id);
  ASSERT_TRUE(quarantined);
  ASSERT_EQ(quarantined->size(), 1U);
  EXPECT_EQ((*quarantined)[0].reason, "short-literal");

  // The tables and columns of later versions work after the upgrade.
  ASSERT_TRUE(db.add_anomaly(
      {(**inbox).id, AnomalyKind::uid_reused, "UID 3 changed size", 5, 0, "", 0, 0}));
  auto anomalies = db.anomalies((**inbox).id);
  ASSERT_TRUE(anomalies);
  ASSERT_EQ(anomalies->size(), row.anomalies + 1);
  EXPECT_EQ(anomalies->front().kind, AnomalyKind::uid_reused); // seen_at 5 sorts first
  auto folder_row = **inbox;
  folder_row.scan_stamp = "1.2:3.4";
  ASSERT_TRUE(db.put_folder(folder_row));
  EXPECT_EQ(db.folder("INBOX")->value().scan_stamp, "1.2:3.4");
}

INSTANTIATE_TEST_SUITE_P(Rows, StateDbUpgrade,
                         ::testing::Values(UpgradeRow{"from_v1", "v1.sql", 0},
                                           UpgradeRow{"from_v2", "v2.sql", 1}),
                         test::RowName{});

TEST(StateDb, ReopeningCurrentVersionChangesNothing) {
  test::TempDir dir;
  const auto path = dir / "a.db";
  {
    auto db = open_ok(path);
    auto id = db.put_folder({0, "INBOX", 1, 2, 3, "INBOX", 4, ""});
    ASSERT_TRUE(id);
    ASSERT_TRUE(db.put_message(message(*id, 7)));
  }
  auto db = open_ok(path);
  EXPECT_EQ(db.schema_version().value_or(-1), k_schema_version);
  auto inbox = db.folder("INBOX");
  ASSERT_TRUE(inbox && inbox->has_value());
  auto rows = db.messages((**inbox).id);
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1U);
  EXPECT_EQ((*rows)[0], message((**inbox).id, 7));
}

// ---- files that must be refused, each with its message ---------------------

struct BadFileRow {
  std::string name;
  std::function<void(const fs::path&)> damage;
  std::string expected; // a part of the error message
};

void PrintTo(const BadFileRow& row, std::ostream* os) {
  *os << row.name;
}

void make_full_db(const fs::path& path) {
  auto db = open_ok(path);
  auto id = db.put_folder({0, "INBOX", 1, 2, 3, "INBOX", 4, ""});
  ASSERT_TRUE(id);
  std::vector<MessageRow> rows;
  for (core::Uid uid = 1; uid <= 3000; ++uid) {
    rows.push_back(message(*id, uid));
  }
  ASSERT_TRUE(db.put_messages(rows));
}

void overwrite(const fs::path& path, std::uintmax_t offset, const std::string& bytes) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

const std::vector<BadFileRow> k_bad_files{
    {"empty_file", [](const fs::path& p) { test::write_file(p, ""); },
     "the file is empty (truncated)"},
    {"truncated_to_half",
     [](const fs::path& p) {
       make_full_db(p);
       fs::resize_file(p, fs::file_size(p) / 2);
     },
     "is unreadable or corrupt: "},
    {"truncated_inside_header",
     [](const fs::path& p) {
       make_full_db(p);
       fs::resize_file(p, 50);
     },
     "is unreadable or corrupt: "},
    {"garbage_header",
     [](const fs::path& p) {
       make_full_db(p);
       overwrite(p, 0, "this is not an SQLite header at all");
     },
     "is unreadable or corrupt: file is not a database"},
    {"plain_text_file", [](const fs::path& p) { test::write_file(p, std::string(8192, 'x')); },
     "is unreadable or corrupt: file is not a database"},
    {"foreign_sqlite_db", [](const fs::path& p) { raw_exec(p, "CREATE TABLE t (x);"); },
     "not a uidsync state DB"},
    {"newer_schema",
     [](const fs::path& p) {
       open_ok(p);
       raw_exec(p, "UPDATE schema_version SET version = 99;");
     },
     "has schema version 99, newer than this uidsync understands (4)"},
};

class StateDbBadFile : public ::testing::TestWithParam<BadFileRow> {};

TEST_P(StateDbBadFile, IsRefusedWithAClearErrorAndLeftAlone) {
  const auto& row = GetParam();
  test::TempDir dir;
  const auto path = dir / "acct.db";
  row.damage(path);
  const auto size_before = fs::file_size(path);

  auto db = Db::open(path);
  ASSERT_FALSE(db) << "opened a damaged DB";
  const auto& error = db.error();
  EXPECT_EQ(error.scope, core::Scope::account);
  EXPECT_NE(error.message.find(path.string()), std::string::npos) << error.message;
  EXPECT_NE(error.message.find(row.expected), std::string::npos) << error.message;
  EXPECT_NE(error.hint.find("mv '" + path.string() + "'"), std::string::npos) << error.hint;
  // Never recreated or "repaired" behind the user's back.
  EXPECT_EQ(fs::file_size(path), size_before);
  RecordProperty("error", error.what());
}

INSTANTIATE_TEST_SUITE_P(Rows, StateDbBadFile, ::testing::ValuesIn(k_bad_files), test::RowName{});

TEST(StateDb, LockedFileIsNamedAsLockedNotCorrupt) {
  test::TempDir dir;
  const auto path = dir / "acct.db";
  open_ok(path);
  sqlite3* holder = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &holder), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(holder, "PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE;", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  auto db = Db::open(path);
  sqlite3_exec(holder, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(holder);
  ASSERT_FALSE(db);
  EXPECT_NE(db.error().message.find("stayed locked by another program for 5 s"), std::string::npos)
      << db.error().message;
  EXPECT_EQ(db.error().message.find("corrupt"), std::string::npos) << db.error().message;
}

// ---- transactions ------------------------------------------------------------

TEST(StateDbTransaction, RollsBackUnlessCommitted) {
  test::TempDir dir;
  auto db = open_ok(dir / "a.db");
  auto id = db.put_folder({0, "INBOX", 1, 2, 3, "INBOX", 4, ""});
  ASSERT_TRUE(id);
  {
    auto tx = db.begin();
    ASSERT_TRUE(tx);
    ASSERT_TRUE(db.put_message(message(*id, 1)));
  }
  auto rows = db.messages(*id);
  ASSERT_TRUE(rows);
  EXPECT_TRUE(rows->empty());
  {
    auto tx = db.begin();
    ASSERT_TRUE(tx);
    ASSERT_TRUE(db.put_message(message(*id, 2)));
    ASSERT_TRUE(tx->commit());
  }
  rows = db.messages(*id);
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1U);
  EXPECT_EQ((*rows)[0].uid, 2U);
}

TEST(StateDbTransaction, RefusesNesting) {
  test::TempDir dir;
  auto db = open_ok(dir / "a.db");
  auto outer = db.begin();
  ASSERT_TRUE(outer);
  auto inner = db.begin();
  ASSERT_FALSE(inner);
  EXPECT_NE(inner.error().message.find("nested transaction"), std::string::npos);
}

TEST(StateDbTransaction, BatchIsAllOrNothing) {
  test::TempDir dir;
  auto db = open_ok(dir / "a.db");
  auto id = db.put_folder({0, "INBOX", 1, 2, 3, "INBOX", 4, ""});
  ASSERT_TRUE(id);
  // The last row names a folder that does not exist: the foreign key fails it,
  // and the whole batch is rolled back.
  std::vector<MessageRow> rows{message(*id, 1), message(*id, 2), message(*id + 100, 3)};
  ASSERT_FALSE(db.put_messages(rows));
  auto stored = db.messages(*id);
  ASSERT_TRUE(stored);
  EXPECT_TRUE(stored->empty());
}

TEST(StateDbMessage, FindsByMessageIdAndListsFolders) {
  test::TempDir dir;
  auto db = open_ok(dir / "a.db");
  auto inbox = db.put_folder({0, "INBOX", 1, 2, 3, "INBOX", 4, ""});
  auto archive = db.put_folder({0, "Archive", 1, 2, 3, "Archive", 4, ""});
  ASSERT_TRUE(inbox && archive);
  auto dup = message(*inbox, 5);
  dup.message_id = message(*inbox, 2).message_id;
  ASSERT_TRUE(db.put_messages({message(*inbox, 1), message(*inbox, 2), dup, message(*archive, 2)}));
  auto found = db.messages_with_id(*inbox, "<2@example.org>");
  ASSERT_TRUE(found);
  ASSERT_EQ(found->size(), 2U);
  EXPECT_EQ((*found)[0], message(*inbox, 2));
  EXPECT_EQ((*found)[1], dup);
  auto none = db.messages_with_id(*inbox, "<nope@example.org>");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  auto all = db.folders();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2U);
  EXPECT_EQ((*all)[0].name, "Archive");
  EXPECT_EQ((*all)[1].name, "INBOX");
}

TEST(StateDbFolder, UpdatesInPlace) {
  test::TempDir dir;
  auto db = open_ok(dir / "a.db");
  FolderRow row{0, "Work/Projects", 5, 6, 7, "Work/Projects", 0, ""};
  auto id = db.put_folder(row);
  ASSERT_TRUE(id);
  row.id = *id;
  row.uidnext = 60;
  row.highestmodseq = 1ULL << 40;
  ASSERT_TRUE(db.put_folder(row));
  auto back = db.folder("Work/Projects");
  ASSERT_TRUE(back && back->has_value());
  EXPECT_EQ(**back, row);
}

TEST(StateDbAppendJournal, KeepsAnUploadUntilItIsClosed) {
  test::TempDir dir;
  auto db = open_ok(dir / "a.db");
  auto inbox = db.put_folder({0, "INBOX", 1, 2, 3, "INBOX", 4, ""});
  ASSERT_TRUE(inbox);
  const AppendJournalRow a{*inbox, "1700000000.M1P2.host", "<a@example.org>", 120, "ab", 9};
  AppendJournalRow b{*inbox, "1700000001.M1P2.host", "", 7, "cd", 10};
  ASSERT_TRUE(db.put_append(b));
  ASSERT_TRUE(db.put_append(a));
  b.size = 8; // an upsert replaces
  ASSERT_TRUE(db.put_append(b));
  auto rows = db.appends(*inbox);
  ASSERT_TRUE(rows);
  EXPECT_EQ(*rows, (std::vector<AppendJournalRow>{a, b}));
  ASSERT_TRUE(db.delete_append(*inbox, a.local_key));
  rows = db.appends(*inbox);
  ASSERT_TRUE(rows);
  EXPECT_EQ(*rows, std::vector<AppendJournalRow>{b});
}

TEST(StateDbQuarantine, KeepsEvidenceAndReleases) {
  test::TempDir dir;
  auto db = open_ok(dir / "a.db");
  auto inbox = db.put_folder({0, "INBOX", 1, 2, 3, "INBOX", 4, ""});
  ASSERT_TRUE(inbox);
  QuarantineRow q;
  q.folder_id = *inbox;
  q.uidvalidity = 7;
  q.uid = 15541;
  q.reason = "no-data";
  q.first_seen = q.last_try = 100;
  q.tries = 1;
  q.next_try = 3700;
  q.evidence = "/state/evidence/a.txt";
  ASSERT_TRUE(db.put_quarantine(q));
  auto rows = db.quarantine(*inbox);
  ASSERT_TRUE(rows);
  EXPECT_EQ(*rows, std::vector<QuarantineRow>{q});
  ASSERT_TRUE(db.delete_quarantine(*inbox, 7, 15541));
  rows = db.quarantine(*inbox);
  ASSERT_TRUE(rows);
  EXPECT_TRUE(rows->empty());
}

TEST(StateDbAnomaly, ResolvesOnlyTheOpenOnesOfAKind) {
  test::TempDir dir;
  auto db = open_ok(dir / "a.db");
  auto inbox = db.put_folder({0, "INBOX", 1, 2, 3, "INBOX", 4, ""});
  ASSERT_TRUE(inbox);
  AnomalyRow stale{*inbox, AnomalyKind::exists_mismatch, "147 EXISTS, 146 UIDs", 10, 0, "ev", 0, 0};
  AnomalyRow reused{*inbox, AnomalyKind::uid_reused, "UID 3 changed size", 11, 3, "", 0, 0};
  ASSERT_TRUE(db.add_anomaly(stale));
  ASSERT_TRUE(db.add_anomaly(reused));
  ASSERT_TRUE(db.resolve_anomalies(*inbox, AnomalyKind::exists_mismatch, 20));
  auto rows = db.anomalies(*inbox);
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 2U);
  EXPECT_EQ((*rows)[0].resolved_at, 20);
  EXPECT_EQ((*rows)[0].uid, 0U);
  EXPECT_EQ((*rows)[0].evidence, "ev");
  EXPECT_EQ((*rows)[1].resolved_at, 0);
  EXPECT_EQ((*rows)[1].uid, 3U);
}

} // namespace
} // namespace uidsync::state
