// SPDX-License-Identifier: GPL-3.0-or-later
// Trace redaction tables: no password, no AUTHENTICATE payload, no literal content.
#include <uidsync/imap/trace.hpp>

#include "support/table.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace uidsync::imap {
namespace {

struct TraceRow {
  std::string name;
  std::vector<std::pair<char, std::string>> wire; // 'C' or 'S', bytes
  std::string transcript;
  std::string secret; // must not appear in the transcript ("" = none)
};

void PrintTo(const TraceRow& row, std::ostream* os) { *os << row.name; }

class ImapTrace : public ::testing::TestWithParam<TraceRow> {
protected:
  static std::string run(const TraceRow& row, bool bytewise) {
    std::ostringstream out;
    Trace trace(out);
    for (const auto& [side, bytes] : row.wire) {
      for (std::size_t i = 0; i < bytes.size(); i += bytewise ? 1 : bytes.size()) {
        auto piece = std::string_view(bytes).substr(i, bytewise ? 1 : bytes.size());
        if (side == 'C') {
          trace.client(piece);
        } else {
          trace.server(piece);
        }
      }
    }
    return out.str();
  }
};

TEST_P(ImapTrace, Whole) {
  auto text = run(GetParam(), false);
  EXPECT_EQ(text, GetParam().transcript);
  if (!GetParam().secret.empty()) {
    EXPECT_EQ(text.find(GetParam().secret), std::string::npos);
  }
}

TEST_P(ImapTrace, ByteByByte) { EXPECT_EQ(run(GetParam(), true), GetParam().transcript); }

INSTANTIATE_TEST_SUITE_P(
    Rows, ImapTrace,
    ::testing::Values(
        TraceRow{"plain_lines", {{'C', "u1 NOOP\r\n"}, {'S', "u1 OK done\r\n"}},
                 "C: u1 NOOP\nS: u1 OK done\n", ""},
        TraceRow{"login_masked", {{'C', "a LOGIN joe hunter2\r\n"}, {'S', "a OK\r\n"}},
                 "C: a LOGIN <redacted>\nS: a OK\n", "hunter2"},
        TraceRow{"login_literal_password_masked",
                 {{'C', "a login joe {7}\r\n"}, {'S', "+ go\r\n"}, {'C', "hunter2\r\n"}},
                 "C: a LOGIN <redacted>\nS: + go\nC: \n", "hunter2"},
        TraceRow{"authenticate_initial_response_masked",
                 {{'C', "a AUTHENTICATE PLAIN AGpvZQBodW50ZXIy\r\n"}, {'S', "a OK\r\n"}},
                 "C: a AUTHENTICATE PLAIN <redacted>\nS: a OK\n", "AGpvZQBodW50ZXIy"},
        TraceRow{"authenticate_continuation_masked",
                 {{'C', "a AUTHENTICATE XOAUTH2\r\n"},
                  {'S', "+ \r\n"},
                  {'C', "dXNlcj1qb2UBYXV0aD1CZWFyZXIgdG9rZW4BAQ==\r\n"},
                  {'S', "a OK\r\n"},
                  {'C', "b NOOP\r\n"}},
                 "C: a AUTHENTICATE XOAUTH2\nS: + \nC: <redacted AUTHENTICATE data>\nS: a OK\n"
                 "C: b NOOP\n",
                 "dXNlcj1qb2U"},
        TraceRow{"fetch_body_elided",
                 {{'S', "* 1 FETCH (UID 5 BODY[] {13}\r\nDear Bob,\r\nhi UID 5)\r\n"}},
                 "S: * 1 FETCH (UID 5 BODY[] {13} <13 bytes>\nS:  UID 5)\n", "Dear Bob"},
        TraceRow{"append_literal_elided",
                 {{'C', "u2 APPEND INBOX {5+}\r\nHello\r\n"}},
                 "C: u2 APPEND INBOX {5+} <5 bytes>\nC: \n", "Hello"},
        TraceRow{"binary_literal8_elided", {{'S', "* 1 FETCH (BINARY[] ~{3}\r\na\nb)\r\n"}},
                 "S: * 1 FETCH (BINARY[] ~{3} <3 bytes>\nS: )\n", ""},
        TraceRow{"bare_lf", {{'S', "* OK hi\n"}}, "S: * OK hi\n", ""}),
    test::RowName{});

} // namespace
} // namespace uidsync::imap
