// SPDX-License-Identifier: GPL-3.0-or-later
// Several sessions' traces on one stream: whole lines, each with its connection's
// prefix, and redaction per connection.
#include "support/table.hpp"

#include <uidsync/imap/trace.hpp>

#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace uidsync::imap {
namespace {

struct SharedRow {
  std::string name;
  int connections;
  int lines;         // per connection
  std::size_t piece; // bytes fed at a time
};

void PrintTo(const SharedRow& row, std::ostream* os) {
  *os << row.name;
}

const std::vector<SharedRow> k_rows{
    {"two_connections_whole_lines", 2, 300, 1000},
    {"four_connections_bytewise", 4, 200, 1},
    {"eight_connections_odd_pieces", 8, 100, 7},
};

class ImapTraceShared : public ::testing::TestWithParam<SharedRow> {};

TEST_P(ImapTraceShared, LinesStayWholeAndCarryTheirPrefix) {
  const auto& row = GetParam();
  std::ostringstream out;
  std::mutex lock;
  std::vector<std::thread> threads;
  for (int c = 1; c <= row.connections; ++c) {
    threads.emplace_back([&out, &lock, &row, c] {
      Trace trace(out, &lock, "[" + std::to_string(c) + "] ");
      std::string wire =
          "u1 LOGIN user" + std::to_string(c) + " secret" + std::to_string(c) + "\r\n";
      for (int i = 0; i < row.lines; ++i) {
        wire += "u" + std::to_string(i + 2) + " NOOP " + std::to_string(c) + "\r\n";
      }
      for (std::size_t i = 0; i < wire.size(); i += row.piece) {
        trace.client(std::string_view(wire).substr(i, row.piece));
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  std::map<std::string, int> per_prefix;
  std::istringstream lines(out.str());
  std::string line;
  while (std::getline(lines, line)) {
    const auto close = line.find("] C: ");
    ASSERT_NE(close, std::string::npos) << line;
    const std::string number = line.substr(1, close - 1);
    const std::string rest = line.substr(close + 5);
    EXPECT_EQ(line.find("secret"), std::string::npos) << line;
    if (rest.find(" LOGIN ") == std::string::npos) {
      // "uN NOOP <c>": the line belongs to the connection its prefix names.
      EXPECT_EQ(rest.substr(rest.rfind(' ') + 1), number) << line;
    }
    ++per_prefix[number];
  }
  ASSERT_EQ(per_prefix.size(), static_cast<std::size_t>(row.connections));
  for (const auto& [number, count] : per_prefix) {
    EXPECT_EQ(count, row.lines + 1) << number;
  }
}

INSTANTIATE_TEST_SUITE_P(Rows, ImapTraceShared, ::testing::ValuesIn(k_rows), test::RowName{});

} // namespace
} // namespace uidsync::imap
