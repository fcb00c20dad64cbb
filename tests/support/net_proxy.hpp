// SPDX-License-Identifier: GPL-3.0-or-later
// NetProxy: a loopback TCP proxy that adds latency, a bandwidth cap, cuts and stalls.
//
// It listens on 127.0.0.1 (a free port unless one is asked for) and forwards every
// accepted connection to one target host:port, both directions at once, bytes in order,
// pipelining untouched. It never looks at what it forwards (TLS passes through).
//
// Faults, per direction (c2s: client to target, s2c: target to client):
//   delay       each chunk is forwarded `delay` after the proxy read it;
//   rate        at most this many bytes per second leave the proxy (paced, ±20 %);
//   cut_after   after exactly K bytes went through in that direction, both sockets of
//               the connection are closed (FIN to both peers, then closed); K = 0 cuts
//               as soon as the connection is accepted;
//   stall_after after exactly K bytes, that direction stops: nothing more is read from
//               its source or forwarded, and the sockets stay open (a peer that stops
//               answering); the other direction goes on.
// Cuts and stalls apply to the `fault_connection`-th accepted connection (1-based) only,
// or to every connection when it is 0. Delay and rate apply to every connection.
//
// Threads: one accepting thread and one thread per connection, each waiting in poll()
// (no busy loop). The destructor stops accepting, closes every connection and joins
// every thread; no thread or descriptor is left behind. Not copyable, not movable.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace uidsync::test {

// The faults of one direction. Default: a plain forward.
struct NetFault {
  std::chrono::milliseconds delay{0};
  std::uint64_t rate_bytes_per_s = 0; // 0: no cap
  std::optional<std::uint64_t> cut_after;
  std::optional<std::uint64_t> stall_after;
};

struct NetProxyOptions {
  std::string target_host = "127.0.0.1"; // a numeric IPv4 address or a host name
  int target_port = 0;
  int listen_port = 0; // 0: a free port
  NetFault c2s;        // client -> target
  NetFault s2c;        // target -> client
  int fault_connection = 0; // cut/stall only the Nth accepted connection (1-based); 0: all
};

// Counters, read while the proxy runs or after stop().
struct NetProxyStats {
  std::uint64_t connections = 0; // accepted
  std::uint64_t bytes_c2s = 0;   // forwarded to the target
  std::uint64_t bytes_s2c = 0;   // forwarded to clients
  std::uint64_t exchanges = 0;   // c2s bursts read right after s2c data, summed over connections
  std::uint64_t cuts = 0;        // connections closed by cut_after
  std::uint64_t stalls = 0;      // directions stopped by stall_after
};

class NetProxy {
public:
  // Binds and starts accepting. Throws std::runtime_error naming the address when the
  // listening socket cannot be set up or the target host does not resolve.
  explicit NetProxy(NetProxyOptions options);
  // stop().
  ~NetProxy();
  NetProxy(const NetProxy&) = delete;
  NetProxy& operator=(const NetProxy&) = delete;

  // The port it listens on (on 127.0.0.1).
  int port() const { return m_port; }
  NetProxyStats stats() const;
  // Closes the listening socket and every connection, joins every thread. Idempotent.
  void stop();

  struct Counters; // shared with the connection threads (net_proxy.cpp)

private:
  void accept_loop();

  NetProxyOptions m_options;
  int m_listen_fd = -1;
  int m_port = 0;
  int m_wake[2] = {-1, -1}; // written once by stop(); every poll() watches m_wake[0]
  std::shared_ptr<Counters> m_counters;
  std::mutex m_mutex; // guards m_workers
  std::vector<std::thread> m_workers;
  std::thread m_acceptor;
  std::atomic<bool> m_stopped{false};
};

} // namespace uidsync::test
