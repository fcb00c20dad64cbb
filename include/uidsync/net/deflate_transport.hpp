// SPDX-License-Identifier: GPL-3.0-or-later
// DeflateTransport: COMPRESS=DEFLATE (RFC 4978) as a Transport decorator.
//
// Contract:
// - Owns the wrapped transport. Until start() it passes every byte through
//   unchanged; from start() on, both directions are raw DEFLATE (RFC 1951, no zlib
//   or gzip header). Call start() right after the server's tagged OK to
//   "COMPRESS DEFLATE": the server compresses everything after that line.
// - write_all() ends each call with a sync flush, so a pipelined command reaches
//   the server at once instead of waiting in the compressor.
// - read_some() returns decompressed bytes; wait(read) is true at once while
//   decompressed bytes may still be pending from an earlier read.
// - A corrupt compressed stream from the server, or a stream that ends, fails with
//   Scope::account ("the server's compressed stream is corrupt: ...").
// - bytes_read()/bytes_written() count bytes on the wire (the wrapped transport's
//   counters, compressed); imap_bytes_read()/imap_bytes_written() count the IMAP
//   bytes before compression. Before start() both pairs move together.
#pragma once

#include <uidsync/net/transport.hpp>

#include <memory>
#include <vector>

namespace uidsync::net {

class DeflateTransport : public Transport {
public:
  // `inner` must not be null.
  explicit DeflateTransport(std::unique_ptr<Transport> inner);
  ~DeflateTransport() override;
  DeflateTransport(const DeflateTransport&) = delete;
  DeflateTransport& operator=(const DeflateTransport&) = delete;

  // Switches both directions to DEFLATE. Fails (Scope::account) when zlib cannot
  // set up its streams (out of memory) or when compression is already on.
  core::Result<void> start();
  bool compressing() const { return m_on; }

  core::Result<std::size_t> read_some(std::span<char> buf) override;
  core::Result<void> write_all(std::string_view data, std::chrono::milliseconds timeout) override;
  core::Result<bool> wait(WaitFor what, std::chrono::milliseconds timeout) override;
  void close() override;
  std::uint64_t bytes_read() const override { return m_inner->bytes_read(); }
  std::uint64_t bytes_written() const override { return m_inner->bytes_written(); }
  std::string login_capabilities() const override { return m_inner->login_capabilities(); }

  std::uint64_t imap_bytes_read() const { return m_imap_read; }
  std::uint64_t imap_bytes_written() const { return m_imap_written; }

private:
  struct Streams; // zlib state, kept out of this header

  std::unique_ptr<Transport> m_inner;
  std::unique_ptr<Streams> m_z;
  std::vector<char> m_in;    // compressed bytes read from the wire
  std::size_t m_in_used = 0; // of m_in, already given to inflate
  bool m_more = false;       // the last inflate filled its output: more may be pending
  bool m_on = false;
  std::uint64_t m_imap_read = 0;
  std::uint64_t m_imap_written = 0;
};

} // namespace uidsync::net
