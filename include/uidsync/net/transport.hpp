// SPDX-License-Identifier: GPL-3.0-or-later
// Transport: an authenticated byte stream to an IMAP server.
//
// Contract (for every implementation):
// - The stream is already in IMAP authenticated state when a Transport is handed
//   out (CurlTransport: libcurl did TCP, TLS/STARTTLS and SASL).
// - Nothing blocks except wait(): read_some() returns what is available now and
//   write_all() waits for writability only within its `timeout`.
// - Failures are core::Error with Scope::account (the connection is gone; the
//   caller may reconnect). The transport never logs payload bytes.
// - Not thread-safe: one thread drives one transport at a time.
#pragma once

#include <uidsync/core/error.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace uidsync::net {

enum class WaitFor : unsigned { read = 1, write = 2, read_write = 3 };

class Transport {
public:
  virtual ~Transport() = default;

  // Reads up to `buf.size()` bytes that are available now. Returns the number read;
  // 0 means "nothing available yet" (call wait()). The peer closing the stream is
  // an error ("connection closed by the server").
  virtual core::Result<std::size_t> read_some(std::span<char> buf) = 0;

  // Writes all of `data`, waiting for the socket at most `timeout` in total.
  virtual core::Result<void> write_all(std::string_view data, std::chrono::milliseconds timeout) = 0;

  // Waits until the stream is readable/writable or `timeout` passes. Returns true
  // when ready, false on timeout.
  virtual core::Result<bool> wait(WaitFor what, std::chrono::milliseconds timeout) = 0;

  // Closes the stream. Idempotent; no I/O after it.
  virtual void close() = 0;

  // The capability list the server sent with its login reply (RFC 3501 §7.1: the
  // tagged OK of LOGIN/AUTHENTICATE may carry a CAPABILITY response code), as
  // "IMAP4rev1 IDLE ..."; empty when it sent none (the caller then asks with
  // CAPABILITY). Saves a round trip on every login to servers that send it.
  virtual std::string login_capabilities() const { return {}; }
  // Bytes moved so far, for stats and the round-trip/bytes benchmarks.
  virtual std::uint64_t bytes_read() const = 0;
  virtual std::uint64_t bytes_written() const = 0;
};

} // namespace uidsync::net
