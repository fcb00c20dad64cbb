// SPDX-License-Identifier: GPL-3.0-or-later
// A scripted IMAP4rev1 server on loopback, driven by a scenario file, for tests.
#pragma once

#include "support/scenario.hpp"

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace uidsync::test {

// Serves one Scenario on 127.0.0.1:<port> (port 0 = any free port; see port()).
//
// Threads: one accept thread, plus one thread per connection. Commands are read
// and answered in order as they arrive, so pipelined commands work. All state
// (mailboxes, counters, transcript) is behind one lock; every accessor is safe to
// call from the test thread while clients are connected.
//
// The destructor (or stop()) wakes every thread, closes every socket and joins all
// threads: nothing is left behind, including connections parked by a `hang` fault.
//
// Passwords and AUTHENTICATE payloads never reach the transcript (they are shown
// as "<redacted>").
class FakeImapServer {
public:
  // Starts serving. Throws core::Failure if the socket cannot be bound.
  explicit FakeImapServer(Scenario scenario, std::uint16_t port = 0);
  ~FakeImapServer();
  FakeImapServer(const FakeImapServer&) = delete;
  FakeImapServer& operator=(const FakeImapServer&) = delete;

  // Stops accepting, closes all connections and joins all threads. Idempotent.
  void stop();

  std::uint16_t port() const { return m_port; }
  // "imap://127.0.0.1:<port>/"
  std::string url() const;

  // Counters.
  int connections_accepted() const;
  // How many commands with `verb` were received ("UID FETCH", "SELECT", "AUTHENTICATE").
  int commands(const std::string& verb) const;
  // How many times a fetch asked for the whole body (BODY[], BODY.PEEK[], BINARY[],
  // RFC822) of `uid` in `folder`, whether or not a fault stopped the answer.
  int body_fetches(const std::string& folder, std::uint32_t uid) const;
  // Every (folder, uid) body fetch count.
  std::map<std::pair<std::string, std::uint32_t>, int> all_body_fetches() const;

  // The transcript of connection `connection` (1-based), one "C: ..." or "S: ..."
  // line per protocol line; literals are shown as "{N bytes}" and very long lines
  // are cut to 200 characters plus " ...(N bytes)". With 0, all connections, each
  // line prefixed with "#<connection> ".
  std::string transcript(int connection = 0) const;
  // Writes transcript(0) to `path` whenever a connection ends (empty = off).
  void set_transcript_file(std::string path);

  // A copy of the current mailbox model (changed by clients and session blocks).
  World world() const;

  // How many connection threads are still running (for tests of shutdown).
  int live_connections() const;

private:
  class Session;
  struct Connection {
    int fd = -1;
    std::thread thread;
    std::atomic<bool> done{false};
  };

  void accept_loop();
  void serve(int number, int fd);
  void record(int connection, char side, std::string line);
  void flush_transcript_file() const;

  mutable std::mutex m_mutex;
  Scenario m_scenario;
  World m_world;
  int m_listen_fd = -1;
  int m_wake_fd = -1; // eventfd: readable once stop() was called
  std::uint16_t m_port = 0;
  std::thread m_accept_thread;
  std::vector<std::unique_ptr<Connection>> m_connections;
  bool m_stopped = false;

  int m_accepted = 0;
  std::map<std::string, int> m_commands;
  std::map<std::pair<std::string, std::uint32_t>, int> m_body_fetches;
  struct Line {
    int connection;
    char side;
    std::string text;
  };
  std::vector<Line> m_transcript;
  std::string m_transcript_file;
};

} // namespace uidsync::test
