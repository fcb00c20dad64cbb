// SPDX-License-Identifier: GPL-3.0-or-later
// The account runner over the scripted fake server: the pool uses as many
// connections as asked, a connection dropped mid-folder is replaced and the folder
// retried, and a folder that keeps dropping fails alone while the others sync.
#include "support/fake_imap_server.hpp"
#include "support/table.hpp"
#include "support/temp_dir.hpp"

#include <uidsync/net/curl_transport.hpp>
#include <uidsync/sync/account.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>

namespace uidsync::sync {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Four folders with 3 + 3 + 2 + 4 messages; `extra` adds lines (faults, blocks).
std::string scenario(const std::string& extra) {
  return "user alice secret\ncapabilities UIDPLUS\n"
         "folder INBOX\ngenerate 3 size=400\n"
         "folder Alpha\ngenerate 3 size=300..3000\n"
         "folder Beta\ngenerate 2\n"
         "folder Gamma\ngenerate 4 size=100000\n" +
         extra;
}

struct PoolRow {
  std::string name;
  std::string extra; // scenario lines
  int jobs;
  std::size_t connections;               // logins the runner made (and the server accepted)
  std::map<std::string, int> reconnects; // folder -> reconnects
  std::string poisoned_folder;           // the folder whose UID 2 ends in the quarantine
  int gamma_2_fetches;                   // body fetches of Gamma UID 2
};

void PrintTo(const PoolRow& row, std::ostream* os) {
  *os << row.name;
}

const std::vector<PoolRow> k_rows{
    {"one_connection", "", 1, 1, {}, "", 1},
    {"pool_of_three", "", 3, 3, {}, "", 1},
    {"pool_never_exceeds_folders", "", 16, 4, {}, "", 1},
    {"drop_mid_literal_reconnects_and_retries",
     "folder Gamma\ndrop_mid_literal 2\non session 2:\nfolder Gamma\nheal 2\nend\n",
     1,
     2,
     {{"Gamma", 1}},
     "",
     2},
    // Fetched with others, UID 2 is only suspected; fetched alone it drops again and
    // is quarantined, and the folder completes without it.
    {"message_that_keeps_dropping_is_quarantined",
     "folder Gamma\ndrop_mid_literal 2\n",
     1,
     3, // the first, then two reconnects for Gamma; INBOX and Alpha, Beta ran before it
     {{"Gamma", 2}},
     "Gamma",
     2},
};

class SyncAccountPool : public ::testing::TestWithParam<PoolRow> {};

TEST_P(SyncAccountPool, EveryMessageOnceOverThePool) {
  const auto& row = GetParam();
  auto parsed = test::parse_scenario(scenario(row.extra), row.name, {});
  ASSERT_TRUE(parsed) << parsed.error().what();
  test::FakeImapServer server(std::move(*parsed));
  test::TempDir tmp;

  core::Account account;
  account.name = "fake";
  account.maildir = tmp / "Mail";
  account.timeout = 10s;
  AccountOptions options;
  options.db_path = tmp / "state" / "fake.db";
  options.jobs = row.jobs;
  std::ostringstream trace;
  options.trace = &trace;
  Progress progress;
  options.progress = &progress;
  options.connect = [&server]() -> core::Result<std::unique_ptr<net::Transport>> {
    net::ConnectOptions o;
    o.host = "127.0.0.1";
    o.port = server.port();
    o.tls = net::TlsMode::none;
    o.allow_plaintext = true;
    o.user = "alice";
    o.secret = "secret";
    o.connect_timeout = 5s;
    o.io_timeout = 5s;
    auto t = net::CurlTransport::connect(o);
    UIDSYNC_TRY(t);
    return std::unique_ptr<net::Transport>(std::move(*t));
  };

  const auto result = sync_account(account, options);
  ASSERT_FALSE(result.error) << result.error->what();
  EXPECT_EQ(result.connections, row.connections);
  EXPECT_EQ(server.connections_accepted(), static_cast<int>(row.connections));
  ASSERT_EQ(result.folders.size(), 4u);
  EXPECT_EQ(result.folders.front().name, "INBOX") << "INBOX goes first";
  const std::map<std::string, std::size_t> sizes{
      {"INBOX", 3}, {"Alpha", 3}, {"Beta", 2}, {"Gamma", 4}};
  std::size_t expected_fetched = 0;
  for (const auto& f : result.folders) {
    const auto it = row.reconnects.find(f.name);
    EXPECT_EQ(f.reconnects, it == row.reconnects.end() ? 0 : it->second) << f.name;
    ASSERT_FALSE(f.error) << f.error->what();
    const bool poisoned = f.name == row.poisoned_folder;
    const std::size_t stored = sizes.at(f.name) - (poisoned ? 1 : 0);
    EXPECT_EQ(f.stats.quarantined, poisoned ? 1u : 0u) << f.name;
    expected_fetched += stored;
    std::size_t files = 0;
    for (const char* sub : {"cur", "new"}) {
      for ([[maybe_unused]] const auto& e :
           fs::directory_iterator(account.maildir / f.name / sub)) {
        ++files;
      }
    }
    EXPECT_EQ(files, stored) << f.name;
  }
  EXPECT_TRUE(result.ok());
  EXPECT_EQ(result.totals.fetched, expected_fetched);
  EXPECT_EQ(progress.folders_done.load(), 4u);
  EXPECT_EQ(progress.folders_total.load(), 4u);
  EXPECT_EQ(server.body_fetches("Gamma", 2), row.gamma_2_fetches);
  for (const auto& [folder, n] : sizes) {
    for (std::uint32_t uid = 1; uid <= n; ++uid) {
      if (folder != "Gamma" || uid != 2) {
        EXPECT_GE(server.body_fetches(folder, uid), 1) << folder << " " << uid;
      }
    }
  }
  // Each connection's trace lines carry its number, and every line is whole.
  std::istringstream lines(trace.str());
  std::string line;
  std::set<std::string> numbers;
  while (std::getline(lines, line)) {
    ASSERT_EQ(line.front(), '[') << line;
    const auto close = line.find("] ");
    ASSERT_NE(close, std::string::npos) << line;
    const auto side = line.substr(close + 2, 3);
    EXPECT_TRUE(side == "C: " || side == "S: ") << line;
    numbers.insert(line.substr(1, close - 1));
  }
  EXPECT_EQ(numbers.size(), row.connections);
}

INSTANTIATE_TEST_SUITE_P(Rows, SyncAccountPool, ::testing::ValuesIn(k_rows), test::RowName{});

} // namespace
} // namespace uidsync::sync
