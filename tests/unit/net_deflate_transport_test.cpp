// SPDX-License-Identifier: GPL-3.0-or-later
// net::DeflateTransport over an in-memory transport, checked against zlib itself,
// and the COMPRESS DEFLATE negotiation of imap::start_compression().
#include <uidsync/imap/compress.hpp>
#include <uidsync/net/deflate_transport.hpp>

#include "support/fake_transport.hpp"
#include "support/table.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <array>
#include <memory>
#include <random>
#include <string>

namespace uidsync {
namespace {

using namespace std::chrono_literals;

// The other end of the connection: raw DEFLATE as RFC 4978 wants, one stream per
// direction for the whole connection.
class Deflater {
public:
  explicit Deflater(int level = Z_DEFAULT_COMPRESSION) {
    EXPECT_EQ(deflateInit2(&m_z, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
  }
  ~Deflater() { deflateEnd(&m_z); }
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;

  std::string chunk(std::string_view data, int flush) {
    std::string out;
    m_z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    m_z.avail_in = static_cast<uInt>(data.size());
    std::array<char, 4096> buf;
    do {
      m_z.next_out = reinterpret_cast<Bytef*>(buf.data());
      m_z.avail_out = static_cast<uInt>(buf.size());
      const int rc = deflate(&m_z, flush);
      EXPECT_TRUE(rc == Z_OK || rc == Z_BUF_ERROR || rc == Z_STREAM_END) << rc;
      out.append(buf.data(), buf.size() - m_z.avail_out);
    } while (m_z.avail_out == 0);
    return out;
  }

private:
  z_stream m_z{};
};

// Inflates a whole raw DEFLATE stream; "<error>" when zlib rejects it.
std::string inflate_all(std::string_view wire) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, -15), Z_OK);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(wire.data()));
  z.avail_in = static_cast<uInt>(wire.size());
  std::string out;
  std::array<char, 4096> buf;
  int rc = Z_OK;
  do {
    z.next_out = reinterpret_cast<Bytef*>(buf.data());
    z.avail_out = static_cast<uInt>(buf.size());
    rc = inflate(&z, Z_SYNC_FLUSH);
    out.append(buf.data(), buf.size() - z.avail_out);
  } while (rc == Z_OK && (z.avail_in > 0 || z.avail_out == 0));
  inflateEnd(&z);
  return rc == Z_OK || rc == Z_BUF_ERROR ? out : "<error>";
}

std::string imap_text(std::size_t size) {
  std::string s;
  for (std::size_t i = 0; s.size() < size; ++i) {
    s += "* " + std::to_string(i + 1) + " FETCH (UID " + std::to_string(1000 + i) +
         " FLAGS (\\Seen))\r\nSubject: report number " + std::to_string(i % 17) + "\r\n";
  }
  s.resize(size);
  return s;
}

std::string random_bytes(std::size_t size) {
  std::mt19937 gen(4978);
  std::uniform_int_distribution<int> byte(0, 255);
  std::string s(size, '\0');
  for (auto& c : s) {
    c = static_cast<char>(byte(gen));
  }
  return s;
}

struct RoundTripRow {
  std::string name;
  std::string payload;
  bool compress = true;
  std::size_t write_piece = 0;  // client write_all() size
  std::size_t server_piece = 0; // what the server compresses (and flushes) at once
  int server_flush = Z_SYNC_FLUSH;
  int server_level = Z_DEFAULT_COMPRESSION;
  std::size_t max_read = 0; // bytes per inner read_some()
  std::size_t read_buf = 0; // the reader's buffer
};

void PrintTo(const RoundTripRow& row, std::ostream* os) {
  *os << row.name;
}

class NetDeflateRoundTrip : public ::testing::TestWithParam<RoundTripRow> {};

TEST_P(NetDeflateRoundTrip, BothDirectionsCarryTheBytesExactly) {
  const auto& row = GetParam();
  auto owned = std::make_unique<test::FakeTransport>();
  test::FakeTransport& wire = *owned;
  net::DeflateTransport t(std::move(owned));
  if (row.compress) {
    ASSERT_TRUE(t.start().has_value());
  }

  // Client to server: each write is complete on the wire (sync flush).
  for (std::size_t at = 0; at < row.payload.size(); at += row.write_piece) {
    const auto piece = std::string_view(row.payload).substr(at, row.write_piece);
    ASSERT_TRUE(t.write_all(piece, 1s).has_value());
    if (row.compress) {
      ASSERT_GE(wire.client().size(), 4U);
      EXPECT_EQ(wire.client().substr(wire.client().size() - 4), std::string("\0\0\xff\xff", 4))
          << "write at " << at << " was not flushed";
    }
  }
  EXPECT_EQ(row.compress ? inflate_all(wire.client()) : wire.client(), row.payload);
  EXPECT_EQ(t.imap_bytes_written(), row.payload.size());
  EXPECT_EQ(t.bytes_written(), wire.client().size());

  // Server to client, in the row's flush mode and pieces.
  Deflater server(row.server_level);
  std::uint64_t sent = 0;
  for (std::size_t at = 0; at < row.payload.size(); at += row.server_piece) {
    const auto piece = std::string_view(row.payload).substr(at, row.server_piece);
    const bool last = at + row.server_piece >= row.payload.size();
    auto bytes = row.compress ? server.chunk(piece, last ? Z_SYNC_FLUSH : row.server_flush)
                              : std::string(piece);
    sent += bytes.size();
    wire.server(std::move(bytes));
  }
  wire.set_max_read(row.max_read);
  std::string got;
  std::vector<char> buf(row.read_buf);
  while (got.size() < row.payload.size()) {
    auto n = t.read_some(buf);
    ASSERT_TRUE(n.has_value()) << n.error().message;
    ASSERT_GT(*n, 0U) << "stalled after " << got.size() << " of " << row.payload.size();
    got.append(buf.data(), *n);
  }
  EXPECT_EQ(got, row.payload);
  // One more read takes what carries no data (the last flush's empty block).
  auto more = t.read_some(buf);
  ASSERT_TRUE(more.has_value());
  EXPECT_EQ(*more, 0U);
  EXPECT_EQ(t.imap_bytes_read(), row.payload.size());
  EXPECT_EQ(t.bytes_read(), sent);
}

const std::string k_text = imap_text(200'000);
const std::string k_random = random_bytes(150'000);

const RoundTripRow k_round_trip_rows[] = {
    {"text_in_lines", k_text, true, 80, 500, Z_SYNC_FLUSH, Z_DEFAULT_COMPRESSION, 100000, 65536},
    {"random_data_in_pieces", k_random, true, 7000, 9000, Z_SYNC_FLUSH, Z_DEFAULT_COMPRESSION, 1000,
     4096},
    {"one_big_write", k_text, true, k_text.size(), k_text.size(), Z_SYNC_FLUSH,
     Z_DEFAULT_COMPRESSION, 65536, 65536},
    {"a_byte_at_a_time", k_text.substr(0, 3000), true, 1, 1, Z_SYNC_FLUSH, Z_DEFAULT_COMPRESSION,
     1, 1},
    {"server_partial_flush", k_text, true, 4096, 700, Z_PARTIAL_FLUSH, Z_DEFAULT_COMPRESSION, 333,
     1000},
    {"server_full_flush", k_text, true, 4096, 700, Z_FULL_FLUSH, Z_BEST_COMPRESSION, 5000, 8192},
    {"server_no_flush_until_the_end", k_text, true, 4096, 3000, Z_NO_FLUSH, Z_DEFAULT_COMPRESSION,
     2048, 512},
    {"server_stored_blocks", k_random, true, 4096, 20000, Z_SYNC_FLUSH, Z_NO_COMPRESSION, 4096,
     7},
    {"before_start_passes_through", k_text, false, 4096, 4096, Z_SYNC_FLUSH,
     Z_DEFAULT_COMPRESSION, 1000, 4096},
};

INSTANTIATE_TEST_SUITE_P(Rows, NetDeflateRoundTrip, ::testing::ValuesIn(k_round_trip_rows),
                         test::RowName{});

struct CorruptRow {
  std::string name;
  std::string good;  // a valid start, compressed and flushed first
  std::string wire;  // then these raw bytes
  std::string why;   // in the error message
};

void PrintTo(const CorruptRow& row, std::ostream* os) {
  *os << row.name;
}

class NetDeflateCorrupt : public ::testing::TestWithParam<CorruptRow> {};

TEST_P(NetDeflateCorrupt, FailsTheAccountAfterTheGoodBytes) {
  const auto& row = GetParam();
  auto owned = std::make_unique<test::FakeTransport>();
  test::FakeTransport& wire = *owned;
  net::DeflateTransport t(std::move(owned));
  ASSERT_TRUE(t.start().has_value());
  Deflater server;
  wire.server(server.chunk(row.good, Z_SYNC_FLUSH));
  wire.server(row.wire);
  std::string got;
  std::array<char, 256> buf;
  core::Result<std::size_t> n = std::size_t{0};
  for (int i = 0; i < 1000; ++i) {
    n = t.read_some(buf);
    if (!n || *n == 0) {
      break;
    }
    got.append(buf.data(), *n);
  }
  EXPECT_EQ(got, row.good);
  ASSERT_FALSE(n.has_value()) << "no error after " << got.size() << " bytes";
  EXPECT_EQ(n.error().scope, core::Scope::account);
  EXPECT_NE(n.error().message.find("the server's compressed stream is corrupt: " + row.why),
            std::string::npos)
      << n.error().message;
  EXPECT_NE(n.error().hint.find("compress = false"), std::string::npos);
}

std::string finished_stream(std::string_view text) {
  Deflater d;
  return d.chunk(text, Z_FINISH);
}

const CorruptRow k_corrupt_rows[] = {
    {"invalid_block_type", "", std::string("\x07\x00\x00", 3), "invalid block type"},
    {"garbage_after_good_lines", "* OK fine\r\n", std::string("\xff\xff\xff\xff\xff", 5),
     "invalid"},
    {"stored_block_length_mismatch", "", std::string("\x00\x05\x00\x00\x00", 5),
     "invalid stored block lengths"},
    {"stream_ended_by_the_server", "", finished_stream("* BYE\r\n"), "it ended"},
};

INSTANTIATE_TEST_SUITE_P(Rows, NetDeflateCorrupt, ::testing::ValuesIn(k_corrupt_rows),
                         test::RowName{});

TEST(NetDeflateTransport, WaitIsTrueWhileDecompressedBytesArePending) {
  auto owned = std::make_unique<test::FakeTransport>();
  test::FakeTransport& wire = *owned;
  net::DeflateTransport t(std::move(owned));
  ASSERT_TRUE(t.start().has_value());
  auto r = t.wait(net::WaitFor::read, 0ms);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(*r) << "nothing sent yet";

  const std::string payload(100'000, 'a'); // a few hundred bytes on the wire
  Deflater server;
  wire.server(server.chunk(payload, Z_SYNC_FLUSH));
  std::array<char, 1024> buf;
  auto n = t.read_some(buf);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, buf.size());
  EXPECT_EQ(wire.pending(), 0U) << "the compressed bytes are all read at once";
  std::size_t got = *n;
  while (got < payload.size()) {
    r = t.wait(net::WaitFor::read, 0ms);
    ASSERT_TRUE(r.has_value());
    ASSERT_TRUE(*r) << "wait() said nothing is there with " << payload.size() - got
                    << " bytes still to come";
    n = t.read_some(buf);
    ASSERT_TRUE(n.has_value());
    got += *n;
  }
  EXPECT_EQ(got, payload.size());
  n = t.read_some(buf);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, 0U);
  r = t.wait(net::WaitFor::read, 0ms);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(*r) << "everything was read";
}

struct NegotiationRow {
  std::string name;
  std::string capabilities;   // the post-login CAPABILITY line's list
  std::string answer;         // to "COMPRESS DEFLATE", empty: the command must not be sent
  bool compressed = false;    // start_compression()'s result
};

void PrintTo(const NegotiationRow& row, std::ostream* os) {
  *os << row.name;
}

class ImapStartCompression : public ::testing::TestWithParam<NegotiationRow> {};

TEST_P(ImapStartCompression, SwitchesRightAfterTheOkOrStaysPlain) {
  const auto& row = GetParam();
  auto owned = std::make_unique<test::FakeTransport>();
  test::FakeTransport& wire = *owned;
  net::DeflateTransport t(std::move(owned));
  imap::SessionOptions so;
  so.tag_prefix = "c";
  imap::Session session(t, so);
  wire.reply_to("c1 CAPABILITY\r\n",
                "* CAPABILITY " + row.capabilities + "\r\nc1 OK Capability completed.\r\n");
  ASSERT_TRUE(session.refresh_capabilities(1s).has_value());

  Deflater server;
  if (!row.answer.empty()) {
    wire.reply_to("c2 COMPRESS DEFLATE\r\n", row.answer);
    if (row.compressed) {
      // Compressed from the byte after the OK: an unsolicited line in the same burst.
      wire.reply_to("c2 COMPRESS DEFLATE\r\n",
                    server.chunk("* OK compressed now\r\n", Z_SYNC_FLUSH));
    }
  }
  const auto plain_before = wire.client().size();
  auto on = imap::start_compression(session, t, 1s);
  ASSERT_TRUE(on.has_value()) << on.error().message;
  EXPECT_EQ(*on, row.compressed);
  EXPECT_EQ(t.compressing(), row.compressed);
  EXPECT_EQ(wire.client().find("COMPRESS") != std::string::npos, !row.answer.empty())
      << wire.client();

  // The session goes on either way.
  const auto mark = wire.client().size();
  bool done = false;
  session.noop([&done](const imap::Tagged& tagged) {
    EXPECT_EQ(tagged.status, imap::Status::ok);
    done = true;
  });
  ASSERT_TRUE(session.step(0ms).has_value()); // writes the NOOP
  const std::string noop = row.answer.empty() ? "c2 NOOP\r\n" : "c3 NOOP\r\n";
  const std::string reply = (row.answer.empty() ? "c2" : "c3") + std::string(" OK NOOP done\r\n");
  if (row.compressed) {
    EXPECT_EQ(inflate_all(wire.client().substr(mark)), noop);
    wire.server(server.chunk(reply, Z_SYNC_FLUSH));
  } else {
    EXPECT_EQ(wire.client().substr(mark), noop);
    wire.server(reply);
  }
  auto finished = session.run_until([&done] { return done; }, 1s);
  ASSERT_TRUE(finished.has_value()) << finished.error().message;
  EXPECT_TRUE(*finished);
  EXPECT_GT(wire.client().size(), plain_before);
}

const NegotiationRow k_negotiation_rows[] = {
    {"offered_and_accepted", "IMAP4rev1 IDLE COMPRESS=DEFLATE", "c2 OK DEFLATE active\r\n", true},
    {"not_offered_sends_nothing", "IMAP4rev1 IDLE", "", false},
    {"refused_with_no_stays_plain", "IMAP4rev1 COMPRESS=DEFLATE",
     "c2 NO [COMPRESSIONACTIVE] DEFLATE active via TLS\r\n", false},
    {"refused_with_bad_stays_plain", "IMAP4rev1 COMPRESS=DEFLATE",
     "c2 BAD unknown command\r\n", false},
};

INSTANTIATE_TEST_SUITE_P(Rows, ImapStartCompression, ::testing::ValuesIn(k_negotiation_rows),
                         test::RowName{});

} // namespace
} // namespace uidsync
