// SPDX-License-Identifier: GPL-3.0-or-later
// kill -9 at pseudo-random points of a real sync against a real Dovecot: after
// every kill a normal run exits 0 and the Maildir and the state DB mirror the
// server exactly (verify_mirror). The seed is printed; UIDSYNC_KILL_SEED repeats
// a run. UIDSYNC_LONG=1 runs the long variant (10,000 messages, 20 kill points).
#include "support/reliability.hpp"
#include "support/table.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace uidsync::test {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

enum class Scenario { initial_sync, two_way };

struct KillRow {
  std::string name;
  Scenario scenario;
  std::string prefix;       // server folders "<prefix>/A" …
  std::size_t folders = 0;
  std::size_t messages = 0; // CI corpus size over all folders
  std::size_t long_messages = 0;
};

std::vector<std::string> folder_names(const KillRow& row) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < row.folders; ++i) {
    out.push_back(row.prefix + "/" + static_cast<char>('A' + i));
  }
  return out;
}

class ReliabilityKill : public DovecotSuite, public ::testing::WithParamInterface<KillRow> {
protected:
  void SetUp() override {
    DovecotSuite::SetUp();
    m_seed = test_seed("UIDSYNC_KILL_SEED");
    m_rng.seed(m_seed);
    m_kills = long_run() ? 20 : 5;
  }

  // Fills the row's folders on the server with `total` messages, one in three \Seen.
  void fill_server(const KillRow& row, std::size_t total) {
    const auto names = folder_names(row);
    const auto all = corpus(row.prefix, total, 6000, m_rng);
    for (std::size_t f = 0; f < names.size(); ++f) {
      std::vector<std::string> plain;
      std::vector<std::string> seen;
      for (std::size_t i = f; i < all.size(); i += names.size()) {
        (i % 3 == 0 ? seen : plain).push_back(all[i]);
      }
      seed_folder(*s_dovecot, names[f], plain);
      seed_folder(*s_dovecot, names[f], seen, "S");
    }
  }

  // A delay drawn in [1, `span`] milliseconds.
  milliseconds draw(milliseconds span) {
    return milliseconds(
        std::uniform_int_distribution<long>(1, std::max<long>(span.count(), 1))(m_rng));
  }

  // Runs a sync killed after `delay`; it must either die from SIGKILL or finish with 0.
  bool killed_run(const AccountDir& account, milliseconds delay) {
    ChildOptions options;
    options.kill_after = delay;
    const auto r = account.run({"sync"}, options);
    EXPECT_TRUE(r.killed ? r.signal == SIGKILL : r.status == 0)
        << "kill at " << delay.count() << " ms: " << r.output;
    std::cout << "  kill at " << delay.count() << " ms: "
              << (r.killed ? "killed" : "finished before the kill") << "\n";
    return r.killed;
  }

  // A normal run exits 0 and leaves an exact mirror; returns how long it took.
  milliseconds complete(const AccountDir& account, const std::vector<std::string>& folders,
                        const std::string& when) {
    const auto r = account.run();
    EXPECT_EQ(r.status, 0) << when << ": " << r.output;
    const auto report = account.verify(folders);
    EXPECT_TRUE(report.clean()) << when << ": " << report.text();
    EXPECT_GE(report.server_messages, m_corpus) << when << ": the verifier saw the corpus";
    return r.elapsed;
  }

  // Changes on both sides, on disjoint messages of each folder: on the server,
  // \Flagged toggled on 5 messages and 5 new ones; locally, \Seen toggled on 5
  // files, 3 files deleted and 3 new files written as a mail client does.
  void change_both_sides(const AccountDir& account, const std::vector<std::string>& folders,
                         int round) {
    for (std::size_t f = 0; f < folders.size(); ++f) {
      const fs::path dir = account.maildir() / folders[f];
      std::vector<fs::path> files;
      for (const auto& e : fs::directory_iterator(dir / "cur")) {
        if (e.path().filename().string().find(",U=") != std::string::npos) {
          files.push_back(e.path());
        }
      }
      std::sort(files.begin(), files.end());
      std::shuffle(files.begin(), files.end(), m_rng);
      ASSERT_GE(files.size(), 13u) << dir;
      for (std::size_t i = 0; i < 5; ++i) { // local flag change
        const auto name = files[i].filename().string();
        const auto info = name.find(":2,");
        std::string letters = info == std::string::npos ? "" : name.substr(info + 3);
        const auto s = letters.find('S');
        if (s == std::string::npos) {
          letters += 'S';
          std::sort(letters.begin(), letters.end());
        } else {
          letters.erase(s, 1);
        }
        fs::rename(files[i], files[i].parent_path() / (name.substr(0, info) + ":2," + letters));
      }
      for (std::size_t i = 5; i < 8; ++i) { // local deletion
        fs::remove(files[i]);
      }
      std::map<bool, std::string> uids; // currently flagged? -> UID set to toggle
      for (std::size_t i = 8; i < 13; ++i) { // server flag change
        const auto name = files[i].filename().string();
        const auto u = name.find(",U=") + 3;
        const auto uid = name.substr(u, name.find_first_not_of("0123456789", u) - u);
        const auto info = name.find(":2,");
        const bool flagged = info != std::string::npos && name.find('F', info) != std::string::npos;
        uids[flagged] += (uids[flagged].empty() ? "" : ",") + uid;
      }
      for (const auto& [flagged, set] : uids) {
        s_dovecot->doveadm({"flags", flagged ? "remove" : "add", "-u", s_dovecot->user(),
                            "\\Flagged", "mailbox", folders[f], "uid", set});
      }
      const std::string tag = "r" + std::to_string(round) + "f" + std::to_string(f);
      seed_folder(*s_dovecot, folders[f], corpus(GetParam().prefix + "-server-" + tag, 5, 3000, m_rng));
      const auto local = corpus(GetParam().prefix + "-local-" + tag, 3, 3000, m_rng);
      for (std::size_t i = 0; i < local.size(); ++i) {
        write_file(dir / "cur" / ("1700000600.R" + tag + "Q" + std::to_string(i) + ".local:2,S"),
                   local[i]);
      }
    }
  }

  std::uint64_t m_seed = 0;
  std::mt19937_64 m_rng;
  int m_kills = 5;
  std::size_t m_corpus = 0; // messages put on the server at the start
  TempDir m_temp;
};

TEST_P(ReliabilityKill, NormalRunAfterKillLeavesExactMirror) {
  const auto& row = GetParam();
  const auto folders = folder_names(row);
  m_corpus = long_run() ? row.long_messages : row.messages;
  fill_server(row, m_corpus);
  AccountDir account(*s_dovecot, m_temp.path() / "main", {row.prefix + "/*"});
  int killed = 0;

  if (row.scenario == Scenario::initial_sync) {
    // The uninterrupted run, on a copy, sets the span the kill points are drawn from.
    const auto reference = complete(account.copy_to(m_temp.path() / "reference"), folders,
                                    "uninterrupted run");
    std::cout << "uninterrupted initial sync: " << reference.count() << " ms\n";
    // Each killed run resumes the previous one, so the work left shrinks: draw the
    // delays from a span that leaves most of them inside a run.
    const milliseconds span(2 * reference.count() / m_kills + 1);
    for (int k = 0; k < m_kills; ++k) {
      killed += killed_run(account, draw(span)) ? 1 : 0;
      const auto copy = account.copy_to(m_temp.path() / ("resume" + std::to_string(k)));
      complete(copy, folders, "resume after kill " + std::to_string(k + 1));
      fs::remove_all(copy.dir());
    }
    complete(account, folders, "final run");
  } else {
    complete(account, folders, "first sync");
    milliseconds span(0);
    for (int round = 0; round <= m_kills; ++round) {
      change_both_sides(account, folders, round);
      if (round == 0) {
        span = complete(account, folders, "uninterrupted change sync");
        std::cout << "uninterrupted change sync: " << span.count() << " ms\n";
        continue;
      }
      killed += killed_run(account, draw(span)) ? 1 : 0;
      if (round % 2 == 1) {
        killed += killed_run(account, draw(span)) ? 1 : 0;
      }
      complete(account, folders, "resume in round " + std::to_string(round));
    }
  }
  std::cout << killed << " runs killed, seed " << m_seed << "\n";
  EXPECT_GE(killed, 1) << "no kill landed inside a run";
}

// One ctest test each, so that they run in parallel.
INSTANTIATE_TEST_SUITE_P(
    InitialSync, ReliabilityKill,
    ::testing::Values(KillRow{"initial_sync", Scenario::initial_sync, "KillInit", 4, 1000, 10000}),
    RowName{});
INSTANTIATE_TEST_SUITE_P(
    TwoWay, ReliabilityKill,
    ::testing::Values(KillRow{"two_way", Scenario::two_way, "KillTwoWay", 2, 300, 2000}),
    RowName{});

} // namespace
} // namespace uidsync::test
