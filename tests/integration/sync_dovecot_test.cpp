// SPDX-License-Identifier: GPL-3.0-or-later
// `uidsync sync` against a real Dovecot: the first sync brings every message exactly
// once with the server's bytes and flags, a second run changes nothing, flags travel
// both ways, a server expunge removes the local file, and --dry-run changes nothing.
// Each test syncs only its own folders (-f), so tests do not see each other's mail.
#include "support/dovecot.hpp"
#include "support/sync_cli.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace uidsync::test {
namespace {

namespace fs = std::filesystem;

class SyncDovecot : public DovecotSuite {
protected:
  void SetUp() override {
    DovecotSuite::SetUp();
    write_sync_config(m_dir, *s_dovecot);
  }

  // Runs the binary on the folders matching `glob` only.
  CommandResult sync(const std::string& glob, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{UIDSYNC_BINARY, "-c", (m_dir / "config.toml").string(),
                                  "sync",         "-f", glob};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_command(args);
  }

  // `args` starts with the doveadm command ("fetch", "flags add"); "-u USER" follows it.
  std::string doveadm(const std::vector<std::string>& args) {
    return doveadm_as_user(*s_dovecot, args);
  }

  TempDir m_temp;
  fs::path m_dir = m_temp.path();
};

TEST_F(SyncDovecot, FirstSyncBringsEveryMessageOnceWithTheServersBytes) {
  // 200 KiB is above the parser's 64 KiB inline limit: that body streams to the sink.
  const std::map<std::string, std::vector<std::string>> server{
      {"First/Lists/dev", {"dev1", "dev2", "big"}},
      {"First/Reisepläne", {"reise1"}},
      {"First/Empty", {}},
  };
  std::map<std::string, std::string> sent;
  for (const auto& [folder, ids] : server) {
    std::vector<std::string> msgs;
    for (const auto& id : ids) {
      sent[id] = message(id, id == "big" ? 200 * 1024 : 0);
      msgs.push_back(sent[id]);
    }
    if (msgs.empty()) {
      doveadm({"mailbox", "create", folder});
    } else {
      s_dovecot->fill(folder, msgs);
    }
  }
  doveadm({"flags", "add", "\\Seen \\Flagged", "mailbox", "First/Lists/dev", "uid", "1"});

  const auto r = sync("First/*", {"-v"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("account demo: 4 new, 0 flags, 0 deleted"), std::string::npos)
      << r.output;

  for (const auto& [folder, ids] : server) {
    const auto dir = m_dir / "Mail" / fs::path(folder);
    ASSERT_TRUE(fs::is_directory(dir / "cur")) << dir;
    const auto files = local_files(dir);
    EXPECT_EQ(files.size(), ids.size()) << folder;
    for (const auto& id : ids) {
      const auto name = file_with(files, id);
      ASSERT_FALSE(name.empty()) << id << " missing in " << folder;
      EXPECT_EQ(files.at(name), crlf(sent[id])) << name;
      EXPECT_NE(name.find(",U="), std::string::npos) << name;
    }
  }
  const auto dev = local_files(m_dir / "Mail" / "First" / "Lists" / "dev");
  const auto dev1 = file_with(dev, "dev1");
  EXPECT_EQ(dev1.substr(dev1.size() - 5), ":2,FS") << dev1;
  const auto dev2 = file_with(dev, "dev2");
  EXPECT_EQ(dev2.rfind("new/", 0), 0u) << "unseen mail goes to new/: " << dev2;

  // A second run changes nothing: same names, same contents.
  const auto before = local_files(m_dir / "Mail" / "First" / "Lists" / "dev");
  const auto again = sync("First/*", {"-v"});
  ASSERT_EQ(again.status, 0) << again.output;
  EXPECT_NE(again.output.find("account demo: 0 new, 0 flags, 0 deleted\n"), std::string::npos)
      << again.output;
  EXPECT_EQ(local_files(m_dir / "Mail" / "First" / "Lists" / "dev"), before);
}

TEST_F(SyncDovecot, ManyMessagesArriveInSeveralBatches) {
  // More than one durable batch (100 deliveries each): every batch's state rows
  // must be written, or the second run would fetch again.
  std::vector<std::string> msgs;
  for (int i = 0; i < 130; ++i) {
    msgs.push_back(message("many" + std::to_string(i)));
  }
  s_dovecot->fill("Many", msgs);
  const auto r = sync("Many", {"-v"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("account demo: 130 new, 0 flags, 0 deleted"), std::string::npos)
      << r.output;
  const auto files = local_files(m_dir / "Mail" / "Many");
  EXPECT_EQ(files.size(), 130u);
  EXPECT_FALSE(file_with(files, "many0").empty());
  EXPECT_FALSE(file_with(files, "many129").empty());
  const auto again = sync("Many", {"-v"});
  EXPECT_NE(again.output.find("account demo: 0 new, 0 flags, 0 deleted\n"), std::string::npos)
      << again.output;
}

TEST_F(SyncDovecot, FlagsTravelBothWays) {
  s_dovecot->fill("Flags", {message("f1"), message("f2")});
  doveadm({"flags", "add", "\\Seen", "mailbox", "Flags", "all"});
  ASSERT_EQ(sync("Flags").status, 0);
  const auto dir = m_dir / "Mail" / "Flags";

  // Server -> local.
  doveadm({"flags", "add", "\\Answered", "mailbox", "Flags", "uid", "1"});
  // Local -> server: ":2,S" becomes ":2,FS".
  const auto f2 = file_with(local_files(dir), "f2");
  ASSERT_EQ(f2.substr(f2.size() - 4), ":2,S") << f2;
  fs::rename(dir / f2, dir / (f2.substr(0, f2.size() - 1) + "FS"));

  const auto r = sync("Flags", {"-v"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("0 new, 2 flags, 0 deleted"), std::string::npos) << r.output;
  const auto f1 = file_with(local_files(dir), "f1");
  EXPECT_EQ(f1.substr(f1.size() - 5), ":2,RS") << f1;
  const auto flags = doveadm({"fetch", "flags", "mailbox", "Flags", "uid", "2"});
  EXPECT_NE(flags.find("\\Flagged"), std::string::npos) << flags;
  EXPECT_NE(flags.find("\\Seen"), std::string::npos) << flags;

  // Both sides agree now: nothing more to do.
  const auto again = sync("Flags", {"-v"});
  EXPECT_NE(again.output.find("0 new, 0 flags, 0 deleted"), std::string::npos) << again.output;
}

TEST_F(SyncDovecot, ServerExpungeRemovesTheLocalFile) {
  s_dovecot->fill("Gone", {message("g1"), message("g2"), message("g3")});
  ASSERT_EQ(sync("Gone").status, 0);
  const auto dir = m_dir / "Mail" / "Gone";
  ASSERT_EQ(local_files(dir).size(), 3u);

  doveadm({"expunge", "mailbox", "Gone", "uid", "2"});
  const auto r = sync("Gone", {"-v"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("0 new, 0 flags, 1 deleted"), std::string::npos) << r.output;
  const auto files = local_files(dir);
  EXPECT_EQ(files.size(), 2u);
  EXPECT_TRUE(file_with(files, "g2").empty());
  EXPECT_FALSE(file_with(files, "g1").empty());
  EXPECT_FALSE(file_with(files, "g3").empty());
}

TEST_F(SyncDovecot, MassExpungeOnTheServerIsHeldUntilAllowed) {
  std::vector<std::string> msgs;
  for (int i = 0; i < 12; ++i) {
    msgs.push_back(message("mass" + std::to_string(i)));
  }
  s_dovecot->fill("Mass", msgs);
  ASSERT_EQ(sync("Mass").status, 0);
  const auto dir = m_dir / "Mail" / "Mass";
  doveadm({"expunge", "mailbox", "Mass", "all"});

  const auto held = sync("Mass", {"-v"});
  EXPECT_EQ(held.status, 3) << held.output; // completed, but needs attention
  EXPECT_NE(held.output.find("folder Mass: held 12 local and 0 server deletion(s): more than the "
                             "mass-deletion guard allows"),
            std::string::npos)
      << held.output;
  EXPECT_NE(held.output.find("0 deleted, 12 deletions held"), std::string::npos) << held.output;
  EXPECT_EQ(local_files(dir).size(), 12u);

  const auto allowed = sync("Mass", {"-v", "--allow-mass-delete"});
  EXPECT_EQ(allowed.status, 0) << allowed.output;
  EXPECT_NE(allowed.output.find("0 new, 0 flags, 12 deleted"), std::string::npos) << allowed.output;
  EXPECT_EQ(local_files(dir).size(), 0u);
}

TEST_F(SyncDovecot, RemovedLocalFolderNeverDeletesServerMail) {
  s_dovecot->fill("Vanish", {message("w1"), message("w2")});
  ASSERT_EQ(sync("Vanish").status, 0);
  fs::remove_all(m_dir / "Mail" / "Vanish");

  for (int run = 0; run < 2; ++run) { // the second run finds it recreated and empty
    const auto r = sync("Vanish", {"-v"});
    EXPECT_EQ(r.status, 3) << r.output;
    EXPECT_NE(r.output.find("0 deleted, 2 deletions held"), std::string::npos) << r.output;
  }
  const auto uids = doveadm({"fetch", "uid", "mailbox", "Vanish", "all"});
  EXPECT_NE(uids.find("uid: 1"), std::string::npos) << uids;
  EXPECT_NE(uids.find("uid: 2"), std::string::npos) << uids;
}

TEST_F(SyncDovecot, LocalDeleteExpungesOnlyThatUidOnTheServer) {
  s_dovecot->fill("LocalDel", {message("d1"), message("d2")});
  ASSERT_EQ(sync("LocalDel").status, 0);
  const auto dir = m_dir / "Mail" / "LocalDel";
  fs::remove(dir / file_with(local_files(dir), "d1"));

  const auto r = sync("LocalDel", {"-v"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("0 new, 0 flags, 1 deleted"), std::string::npos) << r.output;
  const auto uids = doveadm({"fetch", "uid", "mailbox", "LocalDel", "all"});
  EXPECT_EQ(uids.find("uid: 1\n"), std::string::npos) << uids;
  EXPECT_NE(uids.find("uid: 2"), std::string::npos) << uids;
}

TEST_F(SyncDovecot, DryRunChangesNothing) {
  s_dovecot->fill("Dry", {message("y1")});
  ASSERT_EQ(sync("Dry").status, 0);
  const auto dir = m_dir / "Mail" / "Dry";
  s_dovecot->fill("Dry", {message("y2")});
  doveadm({"flags", "add", "\\Flagged", "mailbox", "Dry", "uid", "1"});
  const auto before = local_files(dir);

  const auto r = sync("Dry", {"--dry-run"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("Dry: 1 to fetch, 0 to adopt, 0 server flag changes, 1 local flag"),
            std::string::npos)
      << r.output;
  EXPECT_EQ(local_files(dir), before);
  const auto flags = doveadm({"fetch", "flags", "mailbox", "Dry", "uid", "2"});
  EXPECT_EQ(flags.find("\\Seen"), std::string::npos) << "EXAMINE must not mark mail read";

  // The real run then does what the dry run announced.
  const auto real = sync("Dry", {"-v"});
  ASSERT_EQ(real.status, 0) << real.output;
  EXPECT_NE(real.output.find("1 new, 1 flags, 0 deleted"), std::string::npos) << real.output;
}

TEST_F(SyncDovecot, ConfigExcludesAndTraceWithoutSecret) {
  s_dovecot->fill("Globs/Kept", {message("k1")});
  s_dovecot->fill("Globs/Skipped", {message("s1")});
  const auto trace = m_dir / "trace.txt";
  const auto r = sync("Globs/*", {"--trace", trace.string()});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(local_files(m_dir / "Mail" / "Globs" / "Kept").size(), 1u);
  EXPECT_FALSE(fs::exists(m_dir / "Mail" / "Globs" / "Skipped")) << "excluded by \"!*/Skipped\"";
  const std::string text = read_file(trace);
  EXPECT_NE(text.find("SELECT Globs/Kept"), std::string::npos) << text;
  EXPECT_NE(text.find("UID FETCH 1 (UID FLAGS INTERNALDATE BODY.PEEK[])"), std::string::npos)
      << text;
  EXPECT_NE(text.find("Globs/Skipped"), std::string::npos) << "listed: " << text;
  EXPECT_EQ(text.find("SELECT Globs/Skipped"), std::string::npos) << "never selected: " << text;
  EXPECT_EQ(text.find(s_dovecot->password()), std::string::npos);
}

TEST_F(SyncDovecot, LostStateAdoptsTheFilesInsteadOfFetchingAgain) {
  s_dovecot->fill("Lost", {message("l1"), message("l2", 100 * 1024)});
  ASSERT_EQ(sync("Lost").status, 0);
  const auto dir = m_dir / "Mail" / "Lost";
  const auto before = local_files(dir);
  ASSERT_EQ(before.size(), 2u);
  // As after a crash between the renames and the state transaction: files with
  // ",U=" and no state rows.
  for (const char* suffix : {"", "-wal", "-shm"}) {
    fs::remove(m_dir / "state" / ("demo.db" + std::string(suffix)));
  }

  const auto r = sync("Lost", {"-v"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("account demo: 0 new, 0 flags, 0 deleted, 2 adopted"), std::string::npos)
      << r.output;
  EXPECT_EQ(local_files(dir), before);
}

} // namespace
} // namespace uidsync::test
