// SPDX-License-Identifier: GPL-3.0-or-later
// Crash the delivery protocol after every step (fork, then _exit at step k), then
// restart: every message must be in the Maildir exactly once, adopted (same UID,
// same size) or fetched again, with the state DB agreeing with the files.
#include "support/table.hpp"
#include "support/temp_dir.hpp"

#include <uidsync/maildir/folder.hpp>
#include <uidsync/maildir/layout.hpp>
#include <uidsync/state/db.hpp>

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace uidsync::maildir {
namespace {

namespace fs = std::filesystem;
using std::chrono::hours;

constexpr std::size_t k_batch = 4; // messages in the crashing batch
constexpr int k_steps =
    2 * static_cast<int>(k_batch) + 3; // finish×M, durable, rename×M, dirs, record

struct ServerMessage {
  core::Flags flags;
  std::string body;
};

// What the fake server holds: UIDs 1..6; 1 and 2 were synced by an earlier run.
std::map<core::Uid, ServerMessage> server() {
  std::map<core::Uid, ServerMessage> out;
  for (core::Uid uid = 1; uid <= 6; ++uid) {
    std::string body = "Message-ID: <m" + std::to_string(uid) +
                       "@test>\r\nSubject: " + std::to_string(uid) + "\r\n\r\n";
    body += std::string(100 * uid, static_cast<char>('a' + uid));
    out[uid] = ServerMessage{core::Flags::from_maildir(uid % 2 == 0 ? "S" : ""), body};
  }
  return out;
}

struct Paths {
  fs::path root;
  fs::path folder_dir;
  fs::path db_path;
};

// Delivers `uids` in one batch and records them; what both the first run and
// the restart do. Returns false on any error.
bool deliver(const Paths& setup, const std::vector<core::Uid>& uids, SyncMode mode) {
  auto db = state::Db::open(setup.db_path);
  auto folder = Folder::open(setup.root, setup.folder_dir, true);
  if (!db || !folder) {
    return false;
  }
  auto folder_row = db->folder("INBOX");
  if (!folder_row || !folder_row->has_value()) {
    return false;
  }
  const auto folder_id = (**folder_row).id;
  const auto messages = server();
  Batch batch(*folder);
  for (const auto uid : uids) {
    const auto& msg = messages.at(uid);
    auto delivery = folder->begin_delivery(uid, msg.flags, 1600000000 + uid);
    if (!delivery) {
      return false;
    }
    // Stream in chunks, as the IMAP literal sink does.
    for (std::size_t pos = 0; pos < msg.body.size(); pos += 64) {
      if (!delivery->write(std::string_view(msg.body).substr(pos, 64))) {
        return false;
      }
    }
    auto done = delivery->finish();
    if (!done) {
      return false;
    }
    batch.add(std::move(*done));
  }
  auto& state_db = *db;
  auto committed = batch.commit(
      [&](const std::vector<Delivered>& items) -> core::Result<void> {
        auto tx = state_db.begin();
        if (!tx) {
          return util::unexpected(std::move(tx).error());
        }
        for (const auto& item : items) {
          state::MessageRow row{folder_id,
                                item.uid,
                                item.name,
                                item.flags,
                                "",
                                item.content.size,
                                item.internaldate,
                                item.content.message_id,
                                item.content.digest,
                                state::MessageState::present};
          UIDSYNC_TRY(state_db.put_message(row));
        }
        return tx->commit();
      },
      mode);
  return static_cast<bool>(committed);
}

struct Recovery {
  std::size_t adopted = 0;
  std::size_t refetched = 0;
};

// The restart: adopt ",U=" files the DB does not know (same UID and size as the
// server says), forget DB rows whose file is gone, fetch what is still missing.
Recovery restart(const Paths& setup, SyncMode mode) {
  Recovery out;
  const auto messages = server();
  std::vector<core::Uid> missing;
  {
    auto db = state::Db::open(setup.db_path);
    auto folder = Folder::open(setup.root, setup.folder_dir, false);
    EXPECT_TRUE(db && folder);
    const auto folder_id = (**db->folder("INBOX")).id;
    auto rows = db->messages(folder_id);
    auto scan = folder->scan();
    EXPECT_TRUE(rows && scan);
    std::map<core::Uid, std::string> known;
    for (const auto& row : *rows) {
      known[row.uid] = row.local_name;
    }
    std::set<std::string> on_disk;
    auto tx = db->begin();
    EXPECT_TRUE(tx);
    for (const auto& local : scan->messages) {
      on_disk.insert(local.name);
      if (local.uid == 0 || known.contains(local.uid)) {
        continue;
      }
      const auto it = messages.find(local.uid);
      EXPECT_NE(it, messages.end());
      EXPECT_EQ(local.size, it->second.body.size()); // RFC822.SIZE check before adopting
      auto content = folder->content(local.name);
      EXPECT_TRUE(content);
      EXPECT_TRUE(db->put_message({folder_id, local.uid, local.name, local.flags, "", content->size,
                                   local.mtime, content->message_id, content->digest,
                                   state::MessageState::present}));
      known[local.uid] = local.name;
      ++out.adopted;
    }
    for (const auto& row : *rows) {
      if (!on_disk.contains(row.local_name)) {
        EXPECT_TRUE(db->delete_message(folder_id, row.uid));
        known.erase(row.uid);
      }
    }
    EXPECT_TRUE(tx->commit());
    for (const auto& [uid, msg] : messages) {
      if (!known.contains(uid)) {
        missing.push_back(uid);
      }
    }
  }
  if (!missing.empty()) {
    EXPECT_TRUE(deliver(setup, missing, mode));
  }
  out.refetched = missing.size();
  return out;
}

std::size_t count_files(const fs::path& dir) {
  return static_cast<std::size_t>(
      std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

struct CrashRow {
  std::string name;
  int step; // crash right after this step; k_steps + 1 = no crash
  SyncMode mode;
};

std::vector<CrashRow> crash_rows() {
  std::vector<CrashRow> rows;
  for (const auto mode : {SyncMode::syncfs, SyncMode::parallel_fsync}) {
    for (int step = 1; step <= k_steps + 1; ++step) {
      rows.push_back({std::string(mode == SyncMode::syncfs ? "syncfs" : "fsync") + "_after_step_" +
                          std::to_string(step),
                      step, mode});
    }
  }
  return rows;
}

class MaildirCrash : public ::testing::TestWithParam<CrashRow> {};

TEST_P(MaildirCrash, RestartLeavesEveryMessageExactlyOnce) {
  const auto& row = GetParam();
  test::TempDir dir;
  Paths setup{dir / "Mail", dir / "Mail/INBOX", dir / "state/acct.db"};
  {
    auto db = state::Db::open(setup.db_path);
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->put_folder({0, "INBOX", 1, 7, 0, "INBOX", 0, ""}));
  }
  ASSERT_TRUE(deliver(setup, {1, 2}, row.mode)); // an earlier, complete run

  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::setenv("UIDSYNC_TEST_CRASH_AFTER_STEP", std::to_string(row.step).c_str(), 1);
    ::_exit(deliver(setup, {3, 4, 5, 6}, row.mode) ? 0 : 3);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), row.step <= k_steps ? 100 : 0) << "the step count changed";

  // What the crash left: tmp/ debris before the renames, ",U=" files after.
  const int renamed =
      std::clamp(row.step - static_cast<int>(k_batch) - 1, 0, static_cast<int>(k_batch));
  const int finished = std::min(row.step, static_cast<int>(k_batch));
  EXPECT_EQ(count_files(setup.folder_dir / "tmp"), static_cast<std::size_t>(finished - renamed));

  const auto recovery = restart(setup, row.mode);
  const bool recorded = row.step >= k_steps;
  EXPECT_EQ(recovery.adopted, recorded ? 0U : static_cast<std::size_t>(renamed));
  EXPECT_EQ(recovery.refetched, recorded ? 0U : k_batch - static_cast<std::size_t>(renamed));

  // Every message exactly once, with the right bytes; the DB agrees.
  auto folder = Folder::open(setup.root, setup.folder_dir, false);
  ASSERT_TRUE(folder);
  auto scan = folder->scan();
  ASSERT_TRUE(scan);
  const auto messages = server();
  std::map<core::Uid, int> seen;
  for (const auto& local : scan->messages) {
    ++seen[local.uid];
    ASSERT_TRUE(messages.contains(local.uid)) << local.name;
    EXPECT_EQ(test::read_file(setup.folder_dir / local.name), messages.at(local.uid).body);
    EXPECT_EQ(local.flags, messages.at(local.uid).flags) << local.name;
  }
  EXPECT_EQ(seen.size(), messages.size());
  for (const auto& [uid, count] : seen) {
    EXPECT_EQ(count, 1) << "UID " << uid;
  }
  auto db = state::Db::open(setup.db_path);
  ASSERT_TRUE(db);
  auto rows = db->messages((**db->folder("INBOX")).id);
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), scan->messages.size());
  for (const auto& stored : *rows) {
    const auto it =
        std::find_if(scan->messages.begin(), scan->messages.end(),
                     [&](const LocalMessage& m) { return m.name == stored.local_name; });
    ASSERT_NE(it, scan->messages.end()) << stored.local_name;
    EXPECT_EQ(it->uid, stored.uid);
    EXPECT_EQ(stored.size, messages.at(stored.uid).body.size());
    EXPECT_EQ(stored.message_id, "<m" + std::to_string(stored.uid) + "@test>");
    EXPECT_EQ(folder->content(stored.local_name)->digest, stored.digest);
  }

  // The debris goes once it is 36 hours old, and only then.
  EXPECT_EQ(folder->clean_tmp(std::chrono::system_clock::now()).value_or(99), 0U);
  EXPECT_EQ(folder->clean_tmp(std::chrono::system_clock::now() + hours(37)).value_or(99),
            static_cast<std::size_t>(finished - renamed));
  EXPECT_EQ(count_files(setup.folder_dir / "tmp"), 0U);
}

INSTANTIATE_TEST_SUITE_P(Steps, MaildirCrash, ::testing::ValuesIn(crash_rows()), test::RowName{});

} // namespace
} // namespace uidsync::maildir
