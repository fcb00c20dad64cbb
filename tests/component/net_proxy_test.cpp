// SPDX-License-Identifier: GPL-3.0-or-later
// NetProxy (tests/support/net_proxy.hpp) between real loopback sockets and an echo
// server: bytes arrive whole and in order, delays and rate caps hold, cuts end both
// sides at exactly byte K, stalls leave the sockets open, and stop() leaves no thread
// or descriptor behind.
#include "support/net_proxy.hpp"
#include "support/table.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace uidsync::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Byte i of every test stream.
char pattern(std::size_t i) { return static_cast<char>('a' + (i * 7 + i / 251) % 26); }

std::string stream(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) {
    s[i] = pattern(i);
  }
  return s;
}

std::size_t open_fds() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
    ++n;
  }
  return n;
}

std::size_t threads() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("Threads:", 0) == 0) {
      return std::stoul(line.substr(8));
    }
  }
  return 0;
}

int listen_socket(int& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 64) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throw std::runtime_error("echo server: cannot listen");
  }
  port = ntohs(addr.sin_port);
  return fd;
}

int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{5, 0}; // a writer blocked by a stall gives up
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return fd;
}

// Echoes every connection until its peer closes; counts what it received.
class EchoServer {
public:
  EchoServer() : m_fd(listen_socket(m_port)) {
    m_acceptor = std::thread([this] {
      while (true) {
        const int c = ::accept4(m_fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) {
          return; // shutdown() of the listening socket
        }
        std::lock_guard lock(m_mutex);
        m_conns.push_back(c);
        m_threads.emplace_back([this, c] { echo(c); });
      }
    });
  }
  ~EchoServer() {
    ::shutdown(m_fd, SHUT_RDWR);
    m_acceptor.join();
    {
      std::lock_guard lock(m_mutex);
      for (int c : m_conns) {
        ::shutdown(c, SHUT_RDWR);
      }
    }
    for (auto& t : m_threads) {
      t.join();
    }
    for (int c : m_conns) {
      ::close(c);
    }
    ::close(m_fd);
  }
  int port() const { return m_port; }
  std::size_t received() const { return m_received.load(); }

private:
  void echo(int c) {
    char buf[16384];
    while (true) {
      const ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) {
        break;
      }
      m_received += static_cast<std::size_t>(n);
      if (::send(c, buf, static_cast<std::size_t>(n), MSG_NOSIGNAL) != n) {
        break;
      }
    }
    ::shutdown(c, SHUT_WR);
  }

  int m_port = 0;
  int m_fd;
  std::thread m_acceptor;
  std::mutex m_mutex;
  std::vector<int> m_conns;
  std::vector<std::thread> m_threads;
  std::atomic<std::size_t> m_received{0};
};

// What one client saw.
struct ClientSeen {
  std::string got;
  bool eof = false;                  // the proxy closed the connection
  std::optional<double> first_ms;    // when the first byte came back
  double done_ms = 0;                // when the last byte came back
  int fd = -1;                       // still open (rows with stop_while_open)
};

struct ProxyRow {
  std::string name{};
  NetFault c2s{};
  NetFault s2c{};
  int clients = 1;
  std::size_t send = 64 * 1024; // per client
  bool half_close = true;       // the client shuts its write side after sending
  std::optional<std::size_t> client_gets{}; // per client; nullopt: anything up to what the server got
  std::optional<std::size_t> server_gets{}; // per client
  bool eof = true;              // false: the client sees silence, the socket stays open
  std::uint64_t cuts = 0;
  std::uint64_t stalls = 0;
  double first_byte_min_ms = 0; // lower bound of the first echoed byte
  double expect_seconds = 0;    // when > 0: the whole echo takes this long, ±20 %
  bool stop_while_open = false; // stop() the proxy with the connections still open
};

// Sends `row.send` bytes (in a thread), reads until EOF or 600 ms of silence.
ClientSeen run_client(int port, const ProxyRow& row, Clock::time_point start) {
  ClientSeen seen;
  const int fd = connect_to(port);
  if (fd < 0) {
    return seen;
  }
  const std::string out = stream(row.send);
  std::thread writer([&] {
    std::size_t at = 0;
    while (at < out.size()) {
      const ssize_t n = ::send(fd, out.data() + at, out.size() - at, MSG_NOSIGNAL);
      if (n <= 0) {
        return;
      }
      at += static_cast<std::size_t>(n);
    }
    if (row.half_close) {
      ::shutdown(fd, SHUT_WR);
    }
  });
  char buf[16384];
  const auto deadline = start + 20s;
  while (Clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 600) <= 0) {
      break; // silence
    }
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (n <= 0) {
      seen.eof = true;
      break;
    }
    if (!seen.first_ms) {
      seen.first_ms = ms;
    }
    seen.done_ms = ms;
    seen.got.append(buf, static_cast<std::size_t>(n));
  }
  if (row.stop_while_open) {
    writer.join();
    seen.fd = fd;
    return seen;
  }
  ::shutdown(fd, SHUT_RDWR); // unblocks a writer held by a stall
  writer.join();
  ::close(fd);
  return seen;
}

class NetProxyForward : public ::testing::TestWithParam<ProxyRow> {};

TEST_P(NetProxyForward, DeliversWhatTheRowSays) {
  const ProxyRow& row = GetParam();
  const std::size_t fds_before = open_fds();
  const std::size_t threads_before = threads();
  {
    EchoServer echo;
    NetProxy proxy({"127.0.0.1", echo.port(), 0, row.c2s, row.s2c, 0});
    const auto start = Clock::now();
    std::vector<ClientSeen> seen(static_cast<std::size_t>(row.clients));
    std::vector<std::thread> clients;
    for (auto& s : seen) {
      clients.emplace_back([&, port = proxy.port()] { s = run_client(port, row, start); });
    }
    for (auto& t : clients) {
      t.join();
    }
    if (row.stop_while_open) {
      const auto before_stop = Clock::now();
      proxy.stop();
      EXPECT_LT(Clock::now() - before_stop, 1s) << "stop() with connections open";
      for (auto& s : seen) {
        pollfd p{s.fd, POLLIN, 0};
        EXPECT_EQ(::poll(&p, 1, 1000), 1) << "the client sees the end at once";
        char byte = 0;
        EXPECT_LE(::recv(s.fd, &byte, 1, 0), 0);
        ::close(s.fd);
      }
    }
    const auto stats = proxy.stats();
    const std::size_t n = seen.size();
    EXPECT_EQ(stats.connections, n);
    EXPECT_EQ(stats.cuts, row.cuts);
    EXPECT_EQ(stats.stalls, row.stalls);
    if (row.server_gets) {
      // The echo server may still be reading what the proxy wrote before a cut.
      for (int i = 0; i < 200 && echo.received() < *row.server_gets * n; ++i) {
        std::this_thread::sleep_for(10ms);
      }
      EXPECT_EQ(echo.received(), *row.server_gets * n);
      EXPECT_EQ(stats.bytes_c2s, *row.server_gets * n);
    }
    std::size_t client_total = 0;
    for (const auto& s : seen) {
      client_total += s.got.size();
      EXPECT_EQ(s.got, stream(s.got.size())) << "bytes in order, none changed";
      if (row.client_gets) {
        EXPECT_EQ(s.got.size(), *row.client_gets);
      }
      EXPECT_EQ(s.eof, row.eof);
      if (row.first_byte_min_ms > 0) {
        ASSERT_TRUE(s.first_ms.has_value());
        EXPECT_GE(*s.first_ms, row.first_byte_min_ms);
      }
      if (row.expect_seconds > 0) {
        EXPECT_GE(s.done_ms, row.expect_seconds * 800);
        EXPECT_LE(s.done_ms, row.expect_seconds * 1200);
      }
    }
    EXPECT_LE(client_total, echo.received());
    EXPECT_EQ(stats.bytes_s2c, client_total);
  }
  EXPECT_EQ(open_fds(), fds_before) << "no descriptor left";
  EXPECT_EQ(threads(), threads_before) << "no thread left";
}

NetFault delay(int ms) { return {std::chrono::milliseconds(ms), 0, std::nullopt, std::nullopt}; }
NetFault rate(std::uint64_t bytes_per_s) { return {0ms, bytes_per_s, std::nullopt, std::nullopt}; }
NetFault cut(std::uint64_t k) { return {0ms, 0, k, std::nullopt}; }
NetFault stall(std::uint64_t k) { return {0ms, 0, std::nullopt, k}; }

const std::vector<ProxyRow> k_rows = {
    {.name = "plain_forward", .send = 1024 * 1024, .client_gets = 1024 * 1024,
     .server_gets = 1024 * 1024},
    {.name = "delay_each_way", .c2s = delay(60), .s2c = delay(60), .send = 100,
     .client_gets = 100, .server_gets = 100, .first_byte_min_ms = 120},
    {.name = "rate_client_to_server", .c2s = rate(100'000), .send = 100'000,
     .client_gets = 100'000, .server_gets = 100'000, .expect_seconds = 1.0},
    {.name = "rate_server_to_client", .s2c = rate(200'000), .send = 200'000,
     .client_gets = 200'000, .server_gets = 200'000, .expect_seconds = 1.0},
    {.name = "cut_client_to_server_at_k", .c2s = cut(12'345), .send = 100'000,
     .server_gets = 12'345, .cuts = 1},
    {.name = "cut_server_to_client_at_k", .s2c = cut(54'321), .send = 100'000,
     .client_gets = 54'321, .cuts = 1},
    {.name = "cut_at_zero", .s2c = cut(0), .send = 100, .client_gets = 0, .server_gets = 0,
     .cuts = 1},
    {.name = "stall_server_to_client", .s2c = stall(7'000), .send = 50'000, .half_close = false,
     .client_gets = 7'000, .server_gets = 50'000, .eof = false, .stalls = 1,
     .stop_while_open = true},
    {.name = "stall_client_to_server", .c2s = stall(3'000), .send = 50'000, .half_close = false,
     .client_gets = 3'000, .server_gets = 3'000, .eof = false, .stalls = 1,
     .stop_while_open = true},
    {.name = "many_connections", .clients = 24, .send = 64 * 1024, .client_gets = 64 * 1024,
     .server_gets = 64 * 1024},
    {.name = "stop_with_connections_open", .clients = 4, .send = 1000, .half_close = false,
     .client_gets = 1000, .server_gets = 1000, .eof = false, .stop_while_open = true},
};

INSTANTIATE_TEST_SUITE_P(Rows, NetProxyForward, ::testing::ValuesIn(k_rows), RowName{});

// uidsync_netem, next to the tests (tests/CMakeLists.txt puts it in <build>/tests).
std::filesystem::path netem_binary() {
  return std::filesystem::path(UIDSYNC_BINARY).parent_path() / "tests" / "uidsync_netem";
}

struct NetemRow {
  std::string name{};
  int delay_ms = 0; // --delay-ms
  int rounds = 3;   // request/answer pairs through the echo server
};

class NetemProgram : public ::testing::TestWithParam<NetemRow> {};

TEST_P(NetemProgram, ForwardsUntilSigtermAndWritesItsCounters) {
  const NetemRow& row = GetParam();
  EchoServer echo;
  const std::string stats_file =
      ::testing::TempDir() + "netem-stats-" + std::to_string(::getpid()) + "-" + row.name;
  // The shell prints its pid, then becomes the program (same pid).
  const std::string command = "echo $$; exec '" + netem_binary().string() + "' --to 127.0.0.1:" +
                              std::to_string(echo.port()) + " --delay-ms " +
                              std::to_string(row.delay_ms) + " --stats '" + stats_file + "'";
  FILE* out = ::popen(command.c_str(), "r");
  ASSERT_NE(out, nullptr);
  char line[256] = {};
  ASSERT_NE(std::fgets(line, sizeof line, out), nullptr);
  const pid_t pid = static_cast<pid_t>(std::stol(line));
  ASSERT_NE(std::fgets(line, sizeof line, out), nullptr);
  const std::string listening = line;
  ASSERT_EQ(listening.rfind("listening 127.0.0.1:", 0), 0u) << listening;
  const int port = std::stoi(listening.substr(20));

  const int fd = connect_to(port);
  ASSERT_GE(fd, 0);
  const std::string request = stream(1000);
  for (int i = 0; i < row.rounds; ++i) {
    const auto start = Clock::now();
    ASSERT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(request.size()));
    std::string answer;
    char buf[4096];
    while (answer.size() < request.size()) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      ASSERT_GT(n, 0);
      answer.append(buf, static_cast<std::size_t>(n));
    }
    EXPECT_EQ(answer, request);
    EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(2 * row.delay_ms)) << "RTT";
  }
  ::close(fd);
  std::this_thread::sleep_for(100ms); // the close reaches the proxy
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  EXPECT_EQ(::pclose(out), 0) << "exit status 0 after SIGTERM";

  std::ifstream in(stats_file);
  std::string json;
  std::getline(in, json);
  const auto bytes = std::to_string(request.size() * static_cast<std::size_t>(row.rounds));
  EXPECT_EQ(json, "{\"connections\":1,\"bytes_c2s\":" + bytes + ",\"bytes_s2c\":" + bytes +
                      ",\"exchanges\":" + std::to_string(row.rounds - 1) + "}");
  std::filesystem::remove(stats_file);
}

INSTANTIATE_TEST_SUITE_P(Rows, NetemProgram,
                         ::testing::Values(NetemRow{"plain", 0, 3}, NetemRow{"delay_25ms", 25, 4}),
                         RowName{});

} // namespace
} // namespace uidsync::test
