// SPDX-License-Identifier: GPL-3.0-or-later
// A 200 MiB message fetched from a real Dovecot streams through the transport,
// parser and session into a sink without the process's memory growing with it.
// (The suite name ends in "Memory": ctest runs it with a small ASan quarantine,
// see cmake/GTestSuites.cmake.)
#include "support/dovecot.hpp"

#include <uidsync/imap/session.hpp>
#include <uidsync/net/curl_transport.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace uidsync::imap {
namespace {

using namespace std::chrono_literals;

constexpr std::uint64_t k_body_lines = 200 * 1024 * 1024 / 78; // 76 chars + CRLF each
constexpr std::string_view k_marker = "END-OF-THE-BIG-MESSAGE";

// Field `key` of /proc/self/status, in KiB.
long status_kib(const std::string& key) {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key + ":", 0) == 0) {
      return std::stol(line.substr(key.size() + 1));
    }
  }
  return -1;
}

// Keeps the size and the last bytes of what streams through.
class TailSink : public BodySink {
public:
  void begin(std::uint32_t, std::string_view, std::uint64_t size) override { announced = size; }
  void chunk(std::string_view bytes) override {
    received += bytes.size();
    tail.append(bytes);
    if (tail.size() > 256) {
      tail.erase(0, tail.size() - 256);
    }
  }
  void finish(const Fetch& fetch) override { uid = fetch.uid.value_or(0); }
  void abort(std::string_view reason) override { aborted = std::string(reason); }

  std::uint64_t announced = 0;
  std::uint64_t received = 0;
  std::string tail;
  core::Uid uid = 0;
  std::string aborted;
};

class ImapLargeMessageMemory : public test::DovecotSuite {};

TEST_F(ImapLargeMessageMemory, TwoHundredMiBStreamsInBoundedMemory) {
  // Written line by line to a file (CRLF, as Dovecot serves it), so the test
  // itself never holds the message in memory.
  const auto path = s_dovecot->dir() / "big.eml";
  {
    std::ofstream out(path, std::ios::binary);
    out << "From: big@example.org\r\nTo: test@example.org\r\nSubject: big\r\n"
        << "Message-ID: <big@example.org>\r\n\r\n";
    const std::string line = std::string(76, 'x') + "\r\n";
    for (std::uint64_t i = 0; i < k_body_lines; ++i) {
      out << line;
    }
    out << k_marker << "\r\n";
    ASSERT_TRUE(out.good());
  }
  const auto size = std::filesystem::file_size(path);
  const auto filled = test::run_command({test::dovecot_fixture_script().string(), "fill",
                                         s_dovecot->dir().string(), "Big", path.string()});
  ASSERT_EQ(filled.status, 0) << filled.output;
  std::filesystem::remove(path);

  net::ConnectOptions o;
  o.host = s_dovecot->host();
  o.port = s_dovecot->port();
  o.tls = net::TlsMode::starttls;
  o.ca_file = s_dovecot->ca_file().string();
  o.user = s_dovecot->user();
  o.secret = s_dovecot->password();
  auto transport = net::CurlTransport::connect(o);
  ASSERT_TRUE(transport) << transport.error().what();

  TailSink sink;
  SessionOptions so;
  so.body_sink = &sink;
  Session session(**transport, so);
  auto examine = select_command("Big", true, std::nullopt, false, session.literal_mode());
  ASSERT_TRUE(examine);
  ASSERT_TRUE(session.execute(*examine, 30s));

  {
    std::ofstream reset("/proc/self/clear_refs");
    reset << "5"; // VmHWM := VmRSS, so the peak below is this fetch's alone
  }
  const long before = status_kib("VmHWM");
  auto fetch = CommandBuilder("UID FETCH", session.literal_mode())
                   .raw("1:*")
                   .raw("(UID RFC822.SIZE BODY.PEEK[])")
                   .build();
  ASSERT_TRUE(fetch);
  auto done = session.execute(*fetch, 300s);
  ASSERT_TRUE(done) << done.error().what();
  const long peak = status_kib("VmHWM");

  EXPECT_EQ(sink.aborted, "");
  EXPECT_EQ(sink.uid, 1u);
  EXPECT_EQ(sink.announced, size);
  EXPECT_EQ(sink.received, size);
  EXPECT_NE(sink.tail.find(k_marker), std::string::npos);
  ASSERT_GT(before, 0);
  const long growth_kib = peak - before;
  RecordProperty("peak_rss_growth_kib", std::to_string(growth_kib));
  std::cout << "peak RSS growth while fetching " << (size >> 20) << " MiB: " << growth_kib
            << " KiB\n";
  EXPECT_LT(growth_kib, 32 * 1024) << "peak RSS grew by " << growth_kib << " KiB";
  ASSERT_TRUE(session.logout(10s));
}

} // namespace
} // namespace uidsync::imap
