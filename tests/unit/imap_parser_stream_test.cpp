// SPDX-License-Identifier: GPL-3.0-or-later
// Streaming of large BODY[]/BINARY[] literals to a BodySink, and the memory bound:
// a 200 MiB message must not cost more than a few MiB of RAM.
#include <uidsync/imap/parser.hpp>

#include "support/table.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

namespace uidsync::imap {
namespace {

// Records the sink calls as text lines, and the streamed bytes.
class RecordingSink : public BodySink {
public:
  void begin(std::uint32_t seq, std::string_view section, std::uint64_t size) override {
    log.push_back("begin " + std::to_string(seq) + " " + std::string(section) + " " +
                  std::to_string(size));
  }
  void chunk(std::string_view bytes) override {
    data.append(bytes);
    ++chunks;
  }
  void finish(const Fetch& fetch) override {
    log.push_back("finish uid=" + (fetch.uid ? std::to_string(*fetch.uid) : "none") +
                  " streamed=" + std::to_string(fetch.bodies.at(0).streamed));
  }
  void abort(std::string_view reason) override { log.push_back("abort " + std::string(reason)); }

  std::vector<std::string> log;
  std::string data;
  std::size_t chunks = 0;
};

struct StreamRow {
  std::string name;
  std::string input;
  std::vector<std::string> sink_log; // expected sink calls; "abort" rows match a prefix
  std::string streamed;              // bytes the sink must have received
  std::size_t responses = 1;         // complete responses expected
};

void PrintTo(const StreamRow& row, std::ostream* os) { *os << row.name; }

const std::string k_body = "0123456789abcdefghij"; // 20 bytes, over the test threshold

class ImapParserStream : public ::testing::TestWithParam<StreamRow> {
protected:
  void run(std::size_t step) {
    const auto& row = GetParam();
    Limits limits;
    limits.stream_threshold = 10;
    RecordingSink sink;
    Parser parser(limits, &sink);
    std::size_t responses = 0;
    std::size_t pos = 0;
    while (pos < row.input.size()) {
      auto n = step == 0 ? row.input.size() : step;
      parser.feed(std::string_view(row.input).substr(pos, n));
      pos += n;
      while (true) {
        auto r = parser.next();
        if (std::holds_alternative<NeedMore>(r)) {
          break;
        }
        if (std::holds_alternative<Response>(r)) {
          ++responses;
        }
      }
    }
    EXPECT_EQ(responses, row.responses);
    ASSERT_EQ(sink.log.size(), row.sink_log.size());
    for (std::size_t i = 0; i < row.sink_log.size(); ++i) {
      EXPECT_EQ(sink.log[i].substr(0, row.sink_log[i].size()), row.sink_log[i]);
    }
    EXPECT_EQ(sink.data, row.streamed);
  }
};

TEST_P(ImapParserStream, Whole) { run(0); }
TEST_P(ImapParserStream, ByteByByte) { run(1); }

INSTANTIATE_TEST_SUITE_P(
    Rows, ImapParserStream,
    ::testing::Values(
        StreamRow{"body_streamed", "* 3 FETCH (UID 7 BODY[] {20}\r\n" + k_body + ")\r\n",
                  {"begin 3 BODY[] 20", "finish uid=7 streamed=1"}, k_body},
        // The UID may follow the literal: the sink learns it at finish.
        StreamRow{"uid_after_literal", "* 4 FETCH (BODY[] {20}\r\n" + k_body + " UID 9)\r\n",
                  {"begin 4 BODY[] 20", "finish uid=9 streamed=1"}, k_body},
        StreamRow{"binary_literal8", "* 5 FETCH (UID 1 BINARY[] ~{20}\r\n" + k_body + ")\r\n",
                  {"begin 5 BINARY[] 20", "finish uid=1 streamed=1"}, k_body},
        StreamRow{"partial_origin", "* 6 FETCH (UID 2 BODY[]<0> {20}\r\n" + k_body + ")\r\n",
                  {"begin 6 BODY[]<0> 20", "finish uid=2 streamed=1"}, k_body},
        StreamRow{"lowercase_section", "* 6 FETCH (UID 2 body[text] {20}\r\n" + k_body + ")\r\n",
                  {"begin 6 BODY[TEXT] 20", "finish uid=2 streamed=1"}, k_body},
        StreamRow{"small_literal_buffered", "* 3 FETCH (UID 7 BODY[] {5}\r\nabcde)\r\n", {}, ""},
        StreamRow{"non_body_literal_buffered",
                  "* 3 FETCH (UID 7 ENVELOPE ({20}\r\n" + k_body + "))\r\n", {}, ""},
        StreamRow{"list_literal_not_streamed", "* LIST () \"/\" {20}\r\n" + k_body + "\r\n", {},
                  ""},
        StreamRow{"malformed_fetch_aborts",
                  "* 3 FETCH (UID x BODY[] {20}\r\n" + k_body + ")\r\n* 1 EXISTS\r\n",
                  {"begin 3 BODY[] 20", "abort expected a number"}, k_body},
        // A section-like text inside another item's name must not own the literal.
        StreamRow{"literal_claimed_by_non_body_item_aborts",
                  "* 2 FETCH (X[Y BODY[] {20}\r\n" + k_body + ")\r\n* 1 EXISTS\r\n",
                  {"begin 2 BODY[] 20", "abort a streamed literal is not the value"}, k_body},
        StreamRow{"second_large_body_is_buffered",
                  "* 3 FETCH (BODY[HEADER] {20}\r\n" + k_body + " BODY[TEXT] {20}\r\n" + k_body +
                      " UID 4)\r\n",
                  {"begin 3 BODY[HEADER] 20", "finish uid=4 streamed=1"}, k_body},
        StreamRow{"two_fetches",
                  "* 1 FETCH (UID 1 BODY[] {20}\r\n" + k_body + ")\r\n* 2 FETCH (UID 2 BODY[] {20}\r\n" +
                      k_body + ")\r\na1 OK done\r\n",
                  {"begin 1 BODY[] 20", "finish uid=1 streamed=1", "begin 2 BODY[] 20",
                   "finish uid=2 streamed=1"},
                  k_body + k_body, 3}),
    test::RowName{});

TEST(ImapParserStreamLimits, StreamedLiteralOverItsLimitIsFatal) {
  Limits limits;
  limits.stream_threshold = 10;
  limits.max_streamed_literal_size = 100;
  RecordingSink sink;
  Parser parser(limits, &sink);
  parser.feed("* 1 FETCH (BODY[] {101}\r\n");
  auto e = std::get<ParseError>(parser.next());
  EXPECT_TRUE(e.fatal);
  EXPECT_NE(e.message.find("max_streamed_literal_size (100 bytes)"), std::string::npos);
  EXPECT_TRUE(sink.log.empty());
}

TEST(ImapParserStreamLimits, WithoutSinkTheBufferLimitApplies) {
  Limits limits;
  limits.stream_threshold = 10;
  limits.max_literal_size = 15;
  Parser parser(limits);
  parser.feed("* 1 FETCH (BODY[] {20}\r\n");
  auto e = std::get<ParseError>(parser.next());
  EXPECT_NE(e.message.find("max_literal_size (15 bytes)"), std::string::npos);
}

// Peak resident set of this process in KiB (VmHWM), after resetting the peak
// when the kernel allows it (/proc/self/clear_refs "5").
std::uint64_t status_kib(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) {
      return std::stoull(line.substr(field.size() + 1));
    }
  }
  ADD_FAILURE() << field << " not found in /proc/self/status";
  return 0;
}

class CountingSink : public BodySink {
public:
  void begin(std::uint32_t, std::string_view, std::uint64_t size) override { expected = size; }
  void chunk(std::string_view bytes) override { received += bytes.size(); }
  void finish(const Fetch& fetch) override { uid = fetch.uid.value_or(0); }
  void abort(std::string_view) override { aborted = true; }
  std::uint64_t expected = 0;
  std::uint64_t received = 0;
  core::Uid uid = 0;
  bool aborted = false;
};

TEST(ImapParserMemory, TwoHundredMiBLiteralStaysUnderFourMiB) {
  constexpr std::uint64_t k_size = 200ull << 20;
  constexpr std::size_t k_chunk = 64 << 10;
  const std::string chunk(k_chunk, 'x');
  CountingSink sink;
  Parser parser(Limits{}, &sink);
  {
    std::ofstream reset("/proc/self/clear_refs");
    reset << "5"; // resets VmHWM to the current RSS
  }
  auto rss_before = status_kib("VmRSS");
  auto hwm_before = status_kib("VmHWM");
  std::uint64_t peak_rss = rss_before;

  parser.feed("* 1 FETCH (BODY[] {" + std::to_string(k_size) + "}\r\n");
  EXPECT_TRUE(std::holds_alternative<NeedMore>(parser.next()));
  for (std::uint64_t sent = 0; sent < k_size; sent += k_chunk) {
    parser.feed(chunk);
    ASSERT_TRUE(std::holds_alternative<NeedMore>(parser.next()));
    if ((sent / k_chunk) % 64 == 0) {
      peak_rss = std::max(peak_rss, status_kib("VmRSS"));
    }
  }
  parser.feed(" UID 42)\r\n");
  auto r = parser.next();
  ASSERT_TRUE(std::holds_alternative<Response>(r));
  EXPECT_EQ(sink.received, k_size);
  EXPECT_EQ(sink.uid, 42u);
  EXPECT_FALSE(sink.aborted);
  auto hwm_after = status_kib("VmHWM");
  peak_rss = std::max(peak_rss, status_kib("VmRSS"));
  RecordProperty("rss_growth_kib", std::to_string(peak_rss - rss_before));
  RecordProperty("hwm_growth_kib", std::to_string(hwm_after - std::min(hwm_after, hwm_before)));
  EXPECT_LT(peak_rss - rss_before, 4u * 1024) << "RSS grew while streaming";
  EXPECT_LT(hwm_after - std::min(hwm_after, hwm_before), 4u * 1024) << "peak RSS grew";
  EXPECT_LT(parser.buffered(), 2 * k_chunk);
}

// The control: the same measurement does see a buffered literal, so the bound above
// is not vacuous.
TEST(ImapParserMemory, BufferedLiteralIsVisibleToTheMeasurement) {
  constexpr std::uint64_t k_size = 32ull << 20;
  const std::string chunk(64 << 10, 'x');
  Limits limits;
  limits.max_literal_size = k_size;
  limits.max_response_size = k_size + 1024;
  Parser parser(limits); // no sink: the literal is held in memory
  auto rss_before = status_kib("VmRSS");
  parser.feed("* 1 FETCH (BODY[] {" + std::to_string(k_size) + "}\r\n");
  for (std::uint64_t sent = 0; sent < k_size; sent += chunk.size()) {
    parser.feed(chunk);
    ASSERT_TRUE(std::holds_alternative<NeedMore>(parser.next()));
  }
  EXPECT_GT(status_kib("VmRSS") - rss_before, 16u * 1024);
  parser.feed(" UID 1)\r\n");
  EXPECT_TRUE(std::holds_alternative<Response>(parser.next()));
}

} // namespace
} // namespace uidsync::imap
