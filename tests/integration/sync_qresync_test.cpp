// SPDX-License-Identifier: GPL-3.0-or-later
// `uidsync sync` against a real Dovecot that advertises QRESYNC (RFC 7162) and one
// that hides CONDSTORE/QRESYNC: the same story (initial sync, no-op, server flag
// changes, expunges and new mail, local changes going up, held deletions) gives the
// same Maildir both ways, and the QRESYNC no-op costs no SELECT and no UID FETCH
// (LIST-STATUS tells that nothing changed).
#include "support/dovecot.hpp"
#include "support/sync_cli.hpp"
#include "support/table.hpp"
#include "support/temp_dir.hpp"

#include <uidsync/state/db.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace uidsync::test {
namespace {

namespace fs = std::filesystem;

// Message id -> "<content> flags=<maildir flags>" of one local folder, so two
// Maildirs compare equal when they hold the same messages with the same flags.
std::map<std::string, std::string> local_messages(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const char* sub : {"cur", "new"}) {
    if (!fs::is_directory(dir / sub)) {
      continue;
    }
    for (const auto& e : fs::directory_iterator(dir / sub)) {
      const auto content = read_file(e.path());
      const auto at = content.find("Subject: ");
      const auto id = content.substr(at + 9, content.find('\r', at) - at - 9);
      const auto name = e.path().filename().string();
      const auto colon = name.find(":2,");
      out[id] = content + " flags=" + (colon == std::string::npos ? "" : name.substr(colon + 3));
    }
  }
  return out;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

struct Row {
  std::string name;
  DovecotCaps caps;
  bool qresync; // what the no-op must look like
};

class SyncQresync : public ::testing::TestWithParam<Row> {
protected:
  static void SetUpTestSuite() {
    for (const auto caps : {DovecotCaps::all, DovecotCaps::no_qresync}) {
      try {
        s_servers[caps] = std::make_unique<Dovecot>(caps);
      } catch (const std::exception& e) {
        s_errors[caps] = e.what();
      }
    }
  }
  static void TearDownTestSuite() { s_servers.clear(); }

  void SetUp() override {
    ASSERT_TRUE(s_servers.count(GetParam().caps) != 0) << s_errors[GetParam().caps];
    m_server = s_servers.at(GetParam().caps).get();
    write_file(m_dir / "password", m_server->password() + "\n");
    write_file(m_dir / "config.toml",
               "[general]\nstate_dir = \"" + (m_dir / "state").string() +
                   "\"\n\n[accounts.demo]\nhost = \"" + m_server->host() + "\"\nport = " +
                   std::to_string(m_server->port()) + "\ntls = \"starttls\"\nca_file = \"" +
                   m_server->ca_file().string() + "\"\nuser = \"" + m_server->user() +
                   "\"\npassword_cmd = [\"cat\", \"" + (m_dir / "password").string() +
                   "\"]\nmaildir = \"" + (m_dir / "Mail").string() + "\"\n");
  }

  CommandResult sync(const std::string& folder, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{UIDSYNC_BINARY, "-c", (m_dir / "config.toml").string(),
                                  "sync",         "-f", folder};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_command(args);
  }

  // `args` starts with the doveadm command ("expunge", "flags add"); "-u USER" follows it.
  std::string doveadm(const std::vector<std::string>& args) {
    return doveadm_as_user(*m_server, args);
  }

  // The folder's stored HIGHESTMODSEQ.
  std::uint64_t stored_modseq(const std::string& folder) {
    auto db = state::Db::open(m_dir / "state" / "demo.db");
    EXPECT_TRUE(db.has_value());
    if (!db) {
      return 0;
    }
    auto row = db->folder(folder);
    EXPECT_TRUE(row.has_value() && row->has_value());
    return row && *row ? (*row)->highestmodseq : 0;
  }

  static std::map<DovecotCaps, std::unique_ptr<Dovecot>> s_servers;
  static std::map<DovecotCaps, std::string> s_errors;
  Dovecot* m_server = nullptr;
  TempDir m_temp;
  fs::path m_dir = m_temp.path();
};

std::map<DovecotCaps, std::unique_ptr<Dovecot>> SyncQresync::s_servers;
std::map<DovecotCaps, std::string> SyncQresync::s_errors;

TEST_P(SyncQresync, ServerAndLocalChangesArriveAndTheNoopNeedsNoSelect) {
  const auto& row = GetParam();
  const std::string folder = "Story";
  std::vector<std::string> ids{"m1", "m2", "m3", "m4", "m5"};
  std::vector<std::string> first;
  for (const auto& id : ids) {
    first.push_back(message(id));
  }
  m_server->fill(folder, first);
  doveadm({"flags", "add", "\\Seen", "mailbox", folder, "uid", "1:4"});

  // Initial sync.
  auto r = sync(folder, {"-v"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("account demo: 5 new, 0 flags, 0 deleted"), std::string::npos)
      << r.output;
  const auto dir = m_dir / "Mail" / folder;
  EXPECT_EQ(local_messages(dir).size(), 5u);
  if (row.qresync) {
    EXPECT_NE(stored_modseq(folder), 0u) << "a complete sync stores HIGHESTMODSEQ";
  }

  // No-op: with QRESYNC no SELECT and no UID FETCH (the folder's STATUS came with
  // the LIST); without it, the full listing.
  const auto trace = m_dir / "noop.trace";
  const auto before = local_messages(dir);
  r = sync(folder, {"-vv", "--trace", trace.string()});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("account demo: 0 new, 0 flags, 0 deleted"), std::string::npos)
      << r.output;
  const auto text = read_file(trace);
  if (row.qresync) {
    EXPECT_EQ(count(text, " SELECT "), 0u) << text;
    EXPECT_EQ(count(text, "UID FETCH"), 0u) << text;
    EXPECT_NE(text.find("RETURN (STATUS (MESSAGES UIDNEXT UIDVALIDITY HIGHESTMODSEQ))"),
              std::string::npos)
        << text;
    // Nothing changed on either side: the fast path, no listing at all.
    EXPECT_NE(r.output.find("folder " + folder +
                            ": unchanged on both sides since the last sync (STATUS)"),
              std::string::npos)
        << r.output;
  } else {
    EXPECT_EQ(count(text, "SELECT " + folder), 1u) << text;
    EXPECT_EQ(count(text, "UID FETCH 1:* (UID FLAGS RFC822.SIZE INTERNALDATE)"), 1u) << text;
    EXPECT_EQ(text.find("QRESYNC"), std::string::npos) << text;
    EXPECT_NE(r.output.find("full listing (the server has no QRESYNC)"), std::string::npos)
        << r.output;
  }
  EXPECT_EQ(local_messages(dir), before);

  // Server changes: a flag, an expunge (VANISHED with QRESYNC), two new messages.
  doveadm({"flags", "add", "\\Flagged", "mailbox", folder, "uid", "2"});
  doveadm({"flags", "remove", "\\Seen", "mailbox", folder, "uid", "4"});
  doveadm({"expunge", "mailbox", folder, "uid", "3"});
  m_server->fill(folder, {message("m6"), message("m7")});
  r = sync(folder, {"-v"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("account demo: 2 new, 2 flags, 1 deleted"), std::string::npos)
      << r.output;
  auto now = local_messages(dir);
  EXPECT_EQ(now.size(), 6u);
  EXPECT_EQ(now.count("m3"), 0u);
  EXPECT_EQ(now["m2"], crlf(message("m2")) + " flags=FS");
  EXPECT_EQ(now["m4"], crlf(message("m4")) + " flags=");
  EXPECT_EQ(now["m7"], crlf(message("m7")) + " flags=");

  // Local changes go up: a flag and a deletion.
  for (const char* sub : {"cur", "new"}) {
    for (const auto& e : fs::directory_iterator(dir / sub)) {
      const auto name = e.path().filename().string();
      const auto content = read_file(e.path());
      if (content.find("Subject: m1\r") != std::string::npos) {
        fs::rename(e.path(), dir / "cur" / (name.substr(0, name.find(":2,")) + ":2,FRS"));
      } else if (content.find("Subject: m5\r") != std::string::npos) {
        fs::remove(e.path()); // unseen: in new/
      }
    }
  }
  r = sync(folder, {"-v"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("account demo: 0 new, 1 flags, 1 deleted"), std::string::npos)
      << r.output;
  const auto flags = doveadm({"fetch", "flags", "mailbox", folder, "uid", "1"});
  EXPECT_NE(flags.find("\\Flagged"), std::string::npos) << flags;
  EXPECT_NE(flags.find("\\Answered"), std::string::npos) << flags;
  const auto uids = doveadm({"fetch", "uid", "mailbox", folder, "all"});
  EXPECT_EQ(uids.find("uid: 5\n"), std::string::npos) << uids;

  // Our own STOREs changed the server's modseq: the next run is a no-op all the same.
  r = sync(folder, {"-v"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("account demo: 0 new, 0 flags, 0 deleted"), std::string::npos)
      << r.output;

  // The same Maildir in both modes: every message with the server's bytes and flags.
  std::map<std::string, std::string> expected{
      {"m1", crlf(message("m1")) + " flags=FRS"}, {"m2", crlf(message("m2")) + " flags=FS"},
      {"m4", crlf(message("m4")) + " flags="},    {"m6", crlf(message("m6")) + " flags="},
      {"m7", crlf(message("m7")) + " flags="},
  };
  EXPECT_EQ(local_messages(dir), expected);
}

TEST_P(SyncQresync, HeldDeletionsKeepTheModseqUntilAllowed) {
  const std::string folder = "Held";
  std::vector<std::string> msgs;
  for (int i = 0; i < 12; ++i) {
    msgs.push_back(message("h" + std::to_string(i)));
  }
  m_server->fill(folder, msgs);
  ASSERT_EQ(sync(folder).status, 0);
  const auto modseq = stored_modseq(folder);
  doveadm({"expunge", "mailbox", folder, "all"});

  const auto held = sync(folder, {"-v"});
  EXPECT_EQ(held.status, 3) << held.output;
  EXPECT_NE(held.output.find("0 deleted, 12 deletions held"), std::string::npos) << held.output;
  EXPECT_EQ(stored_modseq(folder), modseq) << "a sync that held deletions must not advance it";
  EXPECT_EQ(local_messages(m_dir / "Mail" / folder).size(), 12u);

  // The held expunges are seen again and carried out once allowed.
  const auto allowed = sync(folder, {"-v", "--allow-mass-delete"});
  EXPECT_EQ(allowed.status, 0) << allowed.output;
  EXPECT_NE(allowed.output.find("0 new, 0 flags, 12 deleted"), std::string::npos) << allowed.output;
  EXPECT_EQ(local_messages(m_dir / "Mail" / folder).size(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Modes, SyncQresync,
                         ::testing::Values(Row{"qresync", DovecotCaps::all, true},
                                           Row{"no_qresync", DovecotCaps::no_qresync, false}),
                         RowName{});

} // namespace
} // namespace uidsync::test
