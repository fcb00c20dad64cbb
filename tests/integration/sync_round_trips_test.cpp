// SPDX-License-Identifier: GPL-3.0-or-later
// The round trips of `uidsync sync` against a real Dovecot, counted from --trace:
// a no-op sync costs a small fixed number whatever the folder count (LIST-STATUS
// tells that no folder changed, nothing is SELECTed), and a change in one folder
// adds a fixed few more, not one per folder.
#include "support/dovecot.hpp"
#include "support/round_trips.hpp"
#include "support/sync_cli.hpp"
#include "support/table.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

namespace uidsync::test {
namespace {

namespace fs = std::filesystem;

// The budget of docs/incremental-sync.md after login: ENABLE with LIST-STATUS;
// LOGOUT (sent, not waited for, but counted here as the run of C: lines it is).
// The post-login capabilities come with Dovecot's login reply, so no CAPABILITY.
// (No COMPRESS: the fixture is on loopback, where it is off by default; elsewhere
// it costs one more when a folder changed, see docs/incremental-sync.md.)
constexpr std::size_t k_noop_round_trips = 2;
// A flag changed in one folder: the no-op's two and SELECT (QRESYNC); no UID
// STORE (the change comes down: nothing goes up), and the pool's one connection is
// the listing connection, so no second login.
constexpr std::size_t k_one_change_round_trips = 3;

struct Row {
  std::string name;
  std::string prefix; // the row's own folders: <prefix>/f0 …
  int folders;
};

const Row k_rows[] = {
    {"TwoFolders", "RtTwo", 2},
    {"EightFolders", "RtEight", 8},
};

class SyncRoundTrips : public DovecotSuite, public ::testing::WithParamInterface<Row> {
protected:
  void SetUp() override {
    DovecotSuite::SetUp();
    write_sync_config(m_dir, *s_dovecot, "max_connections = 4\n");
  }

  // Syncs the row's folders with --trace; returns the transcript's round trips.
  RoundTrips sync_counted(const std::string& label) {
    const auto trace = m_dir / (label + ".trace");
    const auto r =
        run_uidsync(m_dir, {"sync", "-f", GetParam().prefix + "/*", "--trace", trace.string()});
    EXPECT_EQ(r.exit_status, 0) << label << ": " << r.out << r.err;
    m_trace = read_file(trace);
    return count_round_trips(m_trace);
  }

  TempDir m_temp;
  fs::path m_dir = m_temp.path();
  std::string m_trace;
};

TEST_P(SyncRoundTrips, NoopCostsTheSameFewRoundTripsWhateverTheFolderCount) {
  const auto& row = GetParam();
  for (int i = 0; i < row.folders; ++i) {
    const auto id = row.prefix + std::to_string(i);
    s_dovecot->fill(row.prefix + "/f" + std::to_string(i), {message(id + "a"), message(id + "b")});
  }
  const auto initial = sync_counted("initial");
  EXPECT_GE(initial.critical_path, k_noop_round_trips + 1) << m_trace;

  const auto noop = sync_counted("noop");
  EXPECT_LE(noop.critical_path, k_noop_round_trips) << m_trace;
  EXPECT_EQ(noop.per_connection.size(), 1u) << "a no-op needs no pool\n" << m_trace;
  EXPECT_EQ(m_trace.find(" SELECT "), std::string::npos) << m_trace;

  s_dovecot->doveadm(
      {"flags", "add", "-u", s_dovecot->user(), "\\Flagged", "mailbox", row.prefix + "/f0", "all"});
  const auto change = sync_counted("change");
  EXPECT_LE(change.critical_path, k_one_change_round_trips) << m_trace;
  EXPECT_EQ(change.per_connection.size(), 1u) << m_trace;
  const auto files = local_files(m_dir / "Mail" / row.prefix / "f0");
  ASSERT_EQ(files.size(), 2u);
  for (const auto& [name, content] : files) {
    EXPECT_NE(name.find(":2,F"), std::string::npos) << name;
  }

  const auto after = sync_counted("after");
  EXPECT_LE(after.critical_path, k_noop_round_trips) << m_trace;
}

INSTANTIATE_TEST_SUITE_P(Rows, SyncRoundTrips, ::testing::ValuesIn(k_rows), RowName{});

} // namespace
} // namespace uidsync::test
