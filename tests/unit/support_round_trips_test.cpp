// SPDX-License-Identifier: GPL-3.0-or-later
// The round-trip count of --trace transcripts: flights per connection and the
// longest chain over a pool.
#include "support/round_trips.hpp"
#include "support/table.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace uidsync::test {
namespace {

struct Row {
  std::string name;
  std::string trace;
  std::map<int, std::size_t> per_connection;
  std::size_t critical_path;
};

const Row k_rows[] = {
    {"Empty", "", {}, 0},
    {"OneCommand", "C: u1 CAPABILITY\nS: * CAPABILITY IMAP4rev1\nS: u1 OK done\n", {{0, 1}}, 1},
    {"PipelinedIsOne",
     "C: u1 ENABLE QRESYNC\nC: u2 LIST \"\" \"*\"\nS: * ENABLED QRESYNC\nS: u1 OK\nS: u2 OK\n",
     {{0, 1}},
     1},
    {"SequentialAreMany",
     "C: u1 SELECT a\nS: u1 OK\nC: u2 SELECT b\nS: u2 OK\nC: u3 SELECT c\nS: u3 OK\n",
     {{0, 3}},
     3},
    {"ALiteralWaitIsOne", "C: u1 APPEND a {5}\nS: + go ahead\nC: hello\nS: u1 OK\n", {{0, 2}}, 2},
    {"OtherLinesIgnored",
     "# a comment\nC: u1 NOOP\n\nS: u1 OK\nnot a line\nC: u2 LOGOUT\n",
     {{0, 2}},
     2},
    {"PoolChainsAfterTheListing",
     "[1] C: u1 CAPABILITY\n[1] S: u1 OK\n[1] C: u2 LIST\n[1] S: u2 OK\n"
     "[2] C: u1 CAPABILITY\n[1] C: u3 SELECT a\n[2] S: u1 OK\n[2] C: u2 SELECT b\n"
     "[1] S: u3 OK\n[2] S: u2 OK\n[2] C: u3 LOGOUT\n[1] C: u4 LOGOUT\n[2] S: BYE\n[1] S: BYE\n",
     {{1, 4}, {2, 3}},
     5},
    {"LongestChainWins",
     "[1] C: u1 LIST\n[2] C: u1 SELECT a\n[1] S: u1 OK\n[2] S: u1 OK\n[1] C: u2 SELECT b\n"
     "[1] S: u2 OK\n[1] C: u3 SELECT c\n[1] S: u3 OK\n",
     {{1, 3}, {2, 1}},
     3},
};

class SupportRoundTrips : public ::testing::TestWithParam<Row> {};

TEST_P(SupportRoundTrips, CountsFlightsAndTheLongestChain) {
  const auto& row = GetParam();
  const auto counted = count_round_trips(row.trace);
  EXPECT_EQ(counted.per_connection, row.per_connection);
  EXPECT_EQ(counted.critical_path, row.critical_path);
}

INSTANTIATE_TEST_SUITE_P(Rows, SupportRoundTrips, ::testing::ValuesIn(k_rows), RowName{});

} // namespace
} // namespace uidsync::test
