// SPDX-License-Identifier: GPL-3.0-or-later
// FakeTransport: an in-memory net::Transport for conversation tests. The test
// scripts what the server sends (possibly in reply to what the client wrote),
// reads what the client wrote, and can end the stream (EOF) at any point.
#pragma once

#include <uidsync/net/transport.hpp>

#include <cstddef>
#include <deque>
#include <string>
#include <vector>

namespace uidsync::test {

class FakeTransport : public net::Transport {
public:
  // Queues bytes the server sends; read_some() hands them out in order.
  void server(std::string bytes);
  // When the client's output so far contains `client_text` (checked after each
  // write, each rule fires once, in order of registration), queues `reply`.
  void reply_to(std::string client_text, std::string reply);
  // After the queued server bytes are read, the stream ends: read_some() fails
  // like a peer that closed the connection.
  void eof() { m_eof = true; }
  // Caps the bytes one read_some() returns, to split responses at odd places.
  void set_max_read(std::size_t n) { m_max_read = n; }
  // Makes the next write_all() fail (the connection broke while sending).
  void fail_writes() { m_fail_writes = true; }

  // Everything the client wrote, in order.
  const std::string& client() const { return m_client; }
  // Each write_all() call, separately (to check what went before a continuation).
  const std::vector<std::string>& writes() const { return m_writes; }
  bool closed() const { return m_closed; }
  std::size_t pending() const;

  core::Result<std::size_t> read_some(std::span<char> buf) override;
  core::Result<void> write_all(std::string_view data, std::chrono::milliseconds timeout) override;
  core::Result<bool> wait(net::WaitFor what, std::chrono::milliseconds timeout) override;
  void close() override { m_closed = true; }
  std::uint64_t bytes_read() const override { return m_read; }
  std::uint64_t bytes_written() const override { return m_client.size(); }

private:
  struct Rule {
    std::string client_text;
    std::string reply;
    bool fired = false;
  };
  std::deque<std::string> m_server;
  std::vector<Rule> m_rules;
  std::string m_client;
  std::vector<std::string> m_writes;
  std::size_t m_max_read = static_cast<std::size_t>(-1);
  std::uint64_t m_read = 0;
  bool m_eof = false;
  bool m_closed = false;
  bool m_fail_writes = false;
};

} // namespace uidsync::test
