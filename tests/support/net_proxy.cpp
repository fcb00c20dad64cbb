// SPDX-License-Identifier: GPL-3.0-or-later
// NetProxy: the accepting thread and the per-connection forwarding loop.
#include "support/net_proxy.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <deque>
#include <stdexcept>
#include <utility>

namespace uidsync::test {

struct NetProxy::Counters {
  std::atomic<std::uint64_t> connections{0};
  std::atomic<std::uint64_t> bytes_c2s{0};
  std::atomic<std::uint64_t> bytes_s2c{0};
  std::atomic<std::uint64_t> exchanges{0};
  std::atomic<std::uint64_t> cuts{0};
  std::atomic<std::uint64_t> stalls{0};
};

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t k_read_size = 64 * 1024;
constexpr std::size_t k_max_queued = 1024 * 1024; // stop reading a source beyond this backlog
constexpr auto k_cut_linger = std::chrono::seconds(2);

std::string errno_text() { return std::strerror(errno); }

void set_nonblocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL, 0);
  (void)::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

sockaddr_in resolve(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &found);
  if (rc != 0 || found == nullptr) {
    throw std::runtime_error("NetProxy: cannot resolve target host " + host + ": " +
                             ::gai_strerror(rc));
  }
  sockaddr_in addr{};
  std::memcpy(&addr, found->ai_addr, sizeof addr);
  ::freeaddrinfo(found);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  return addr;
}

// One chunk waiting to be written to a direction's destination.
struct Chunk {
  Clock::time_point ready;
  std::string bytes;
  std::size_t offset = 0;
};

// One direction of one connection: reads `src`, writes `dst`.
struct Direction {
  int src = -1;
  int dst = -1;
  NetFault fault;
  std::atomic<std::uint64_t>* forwarded = nullptr;
  std::uint64_t accepted = 0; // bytes read and queued (never more than cut/stall_after)
  std::deque<Chunk> queue;
  std::size_t queued = 0;
  Clock::time_point pace_next{};
  bool src_eof = false;
  bool stalled = false;
  bool cut_pending = false;
  bool dst_shut = false;

  bool reading() const { return !src_eof && !stalled && !cut_pending && queued < k_max_queued; }
  bool drained() const { return queue.empty(); }
  std::optional<Clock::time_point> next_ready() const {
    if (queue.empty()) {
      return std::nullopt;
    }
    return queue.front().ready;
  }

  // Queues `bytes` read at `now`, split into paced slices when a rate is set.
  void enqueue(std::string bytes, Clock::time_point now) {
    const auto release = now + fault.delay;
    if (fault.rate_bytes_per_s == 0) {
      queued += bytes.size();
      queue.push_back({release, std::move(bytes), 0});
      return;
    }
    const std::size_t slice = std::max<std::size_t>(512, fault.rate_bytes_per_s / 50);
    for (std::size_t at = 0; at < bytes.size(); at += slice) {
      const std::size_t n = std::min(slice, bytes.size() - at);
      const auto ready = std::max(release, pace_next);
      pace_next = ready + std::chrono::nanoseconds(static_cast<std::int64_t>(
                              n * 1'000'000'000ULL / fault.rate_bytes_per_s));
      queued += n;
      queue.push_back({ready, bytes.substr(at, n), 0});
    }
  }

  // Writes what is ready. False when the destination failed.
  bool flush(Clock::time_point now) {
    while (!queue.empty() && queue.front().ready <= now) {
      Chunk& c = queue.front();
      const ssize_t n = ::send(dst, c.bytes.data() + c.offset, c.bytes.size() - c.offset,
                               MSG_NOSIGNAL);
      if (n < 0) {
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
      }
      const auto written = static_cast<std::size_t>(n);
      c.offset += written;
      queued -= written;
      forwarded->fetch_add(written);
      if (c.offset == c.bytes.size()) {
        queue.pop_front();
      }
    }
    return true;
  }

  bool wants_write(Clock::time_point now) const {
    return !queue.empty() && queue.front().ready <= now;
  }
};

class Connection {
public:
  Connection(int client, int server, const NetFault& c2s, const NetFault& s2c,
             NetProxy::Counters& counters, int wake)
      : m_counters(counters), m_wake(wake) {
    m_dir[0].src = client;
    m_dir[0].dst = server;
    m_dir[0].fault = c2s;
    m_dir[0].forwarded = &counters.bytes_c2s;
    m_dir[1].src = server;
    m_dir[1].dst = client;
    m_dir[1].fault = s2c;
    m_dir[1].forwarded = &counters.bytes_s2c;
  }

  void run() {
    for (auto& d : m_dir) {
      if (d.fault.cut_after == 0U) {
        d.cut_pending = true;
      }
      if (d.fault.stall_after == 0U) {
        d.stalled = true;
        m_counters.stalls.fetch_add(1);
      }
    }
    while (true) {
      const auto now = Clock::now();
      for (auto& d : m_dir) {
        if (!d.flush(now)) {
          return;
        }
      }
      for (auto& d : m_dir) {
        if (d.cut_pending && d.drained()) {
          cut();
          return;
        }
        if (d.src_eof && d.drained() && !d.dst_shut) {
          ::shutdown(d.dst, SHUT_WR);
          d.dst_shut = true;
        }
      }
      if (finished()) {
        return;
      }
      if (!wait(now)) {
        return;
      }
    }
  }

private:
  // Nothing more can move: both directions ended, or one ended and the other stalled.
  bool finished() const {
    auto over = [](const Direction& d) { return (d.src_eof || d.stalled) && d.drained(); };
    const bool any_eof = (m_dir[0].src_eof && m_dir[0].drained()) ||
                         (m_dir[1].src_eof && m_dir[1].drained());
    return over(m_dir[0]) && over(m_dir[1]) && any_eof;
  }

  // Polls until something can be read or written or a delayed chunk is due.
  // False when the connection is over (stop(), an error, a hang-up).
  bool wait(Clock::time_point now) {
    std::array<pollfd, 3> fds{};
    fds[0] = {m_wake, POLLIN, 0};
    fds[1] = {m_dir[0].src, 0, 0}; // the client
    fds[2] = {m_dir[1].src, 0, 0}; // the server
    int timeout_ms = -1;
    for (int i = 0; i < 2; ++i) {
      const Direction& d = m_dir[i];
      if (d.reading()) {
        fds[1 + i].events |= POLLIN;
      }
      if (d.wants_write(now)) {
        fds[2 - i].events |= POLLOUT;
      } else if (auto due = d.next_ready()) {
        const auto ms =
            std::chrono::ceil<std::chrono::milliseconds>(*due - now).count();
        const int wait_ms = static_cast<int>(std::max<std::int64_t>(0, ms));
        timeout_ms = timeout_ms < 0 ? wait_ms : std::min(timeout_ms, wait_ms);
      }
    }
    // A descriptor with nothing to wait for is left out: a hang-up on a side already at
    // its end would otherwise wake poll() at once, again and again.
    for (auto& p : fds) {
      if (p.events == 0) {
        p.fd = -1;
      }
    }
    const int rc = ::poll(fds.data(), fds.size(), timeout_ms);
    if (rc < 0) {
      return errno == EINTR;
    }
    if (fds[0].revents != 0) {
      return false;
    }
    for (int i = 0; i < 2; ++i) {
      const pollfd& p = fds[1 + i];
      if ((p.revents & POLLIN) != 0 || ((p.revents & (POLLHUP | POLLERR)) != 0 && m_dir[i].reading())) {
        if (!read_into(i)) {
          return false;
        }
      } else if ((p.revents & (POLLHUP | POLLERR)) != 0) {
        return false; // a peer went away while we were not reading it
      }
    }
    return true;
  }

  // Reads direction `i`'s source once. False on a read error.
  bool read_into(int i) {
    Direction& d = m_dir[i];
    std::string buf(k_read_size, '\0');
    const ssize_t n = ::recv(d.src, buf.data(), buf.size(), 0);
    if (n < 0) {
      return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    }
    if (n == 0) {
      d.src_eof = true;
      return true;
    }
    buf.resize(static_cast<std::size_t>(n));
    if (i == 0 && m_last_read == 1) {
      m_counters.exchanges.fetch_add(1);
    }
    m_last_read = i;
    std::optional<std::uint64_t> limit;
    if (d.fault.cut_after) {
      limit = d.fault.cut_after;
    }
    if (d.fault.stall_after && (!limit || *d.fault.stall_after < *limit)) {
      limit = d.fault.stall_after;
    }
    if (limit && d.accepted + buf.size() >= *limit) {
      buf.resize(static_cast<std::size_t>(*limit - d.accepted));
      if (limit == d.fault.cut_after) {
        d.cut_pending = true;
      } else {
        d.stalled = true;
        m_counters.stalls.fetch_add(1);
      }
    }
    d.accepted += buf.size();
    if (!buf.empty()) {
      d.enqueue(std::move(buf), Clock::now());
    }
    return true;
  }

  // Ends both sides: FIN to both peers at once, then discards what they still send
  // until they close (at most k_cut_linger), so that no reset overtakes the last bytes.
  void cut() {
    m_counters.cuts.fetch_add(1);
    const int client = m_dir[0].src;
    const int server = m_dir[1].src;
    ::shutdown(client, SHUT_WR);
    ::shutdown(server, SHUT_WR);
    const auto until = Clock::now() + k_cut_linger;
    std::array<bool, 2> open{true, true};
    std::array<char, 4096> sink{};
    while (open[0] || open[1]) {
      const auto left =
          std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now()).count();
      if (left <= 0) {
        return;
      }
      std::array<pollfd, 3> fds{};
      fds[0] = {m_wake, POLLIN, 0};
      fds[1] = {client, static_cast<short>(open[0] ? POLLIN : 0), 0};
      fds[2] = {server, static_cast<short>(open[1] ? POLLIN : 0), 0};
      if (::poll(fds.data(), fds.size(), static_cast<int>(left)) < 0 && errno != EINTR) {
        return;
      }
      if (fds[0].revents != 0) {
        return;
      }
      for (int i = 0; i < 2; ++i) {
        if (open[i] && fds[1 + i].revents != 0) {
          const ssize_t n = ::recv(fds[1 + i].fd, sink.data(), sink.size(), 0);
          if (n <= 0 && !(n < 0 && (errno == EAGAIN || errno == EINTR))) {
            open[i] = false;
          }
        }
      }
    }
  }

  std::array<Direction, 2> m_dir;
  NetProxy::Counters& m_counters;
  int m_wake;
  int m_last_read = -1;
};

// Runs one accepted connection to its end and closes both descriptors.
void serve(int client, sockaddr_in target, NetFault c2s, NetFault s2c,
           NetProxy::Counters& counters, int wake) {
  const int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (server < 0 ||
      ::connect(server, reinterpret_cast<const sockaddr*>(&target), sizeof target) != 0) {
    if (server >= 0) {
      ::close(server);
    }
    ::close(client);
    return;
  }
  const int one = 1;
  ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ::setsockopt(server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  set_nonblocking(client);
  set_nonblocking(server);
  Connection(client, server, c2s, s2c, counters, wake).run();
  ::close(client);
  ::close(server);
}

} // namespace

NetProxy::NetProxy(NetProxyOptions options)
    : m_options(std::move(options)), m_counters(std::make_shared<Counters>()) {
  const sockaddr_in target = resolve(m_options.target_host, m_options.target_port);
  m_listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (m_listen_fd < 0) {
    throw std::runtime_error("NetProxy: socket: " + errno_text());
  }
  const int one = 1;
  ::setsockopt(m_listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(m_options.listen_port));
  socklen_t len = sizeof addr;
  if (::bind(m_listen_fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(m_listen_fd, 64) != 0 ||
      ::getsockname(m_listen_fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
      ::pipe2(m_wake, O_CLOEXEC) != 0) {
    const std::string why = errno_text();
    ::close(m_listen_fd);
    throw std::runtime_error("NetProxy: cannot listen on 127.0.0.1:" +
                             std::to_string(m_options.listen_port) + ": " + why);
  }
  m_port = ntohs(addr.sin_port);
  m_acceptor = std::thread([this, target] {
    while (true) {
      std::array<pollfd, 2> fds{{{m_wake[0], POLLIN, 0}, {m_listen_fd, POLLIN, 0}}};
      if (::poll(fds.data(), fds.size(), -1) < 0) {
        if (errno == EINTR) {
          continue;
        }
        return;
      }
      if (fds[0].revents != 0) {
        return;
      }
      const int client = ::accept4(m_listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) {
        continue;
      }
      const auto nth = static_cast<int>(m_counters->connections.fetch_add(1) + 1);
      NetFault c2s = m_options.c2s;
      NetFault s2c = m_options.s2c;
      if (m_options.fault_connection != 0 && nth != m_options.fault_connection) {
        c2s.cut_after.reset();
        c2s.stall_after.reset();
        s2c.cut_after.reset();
        s2c.stall_after.reset();
      }
      std::lock_guard lock(m_mutex);
      m_workers.emplace_back(serve, client, target, c2s, s2c, std::ref(*m_counters), m_wake[0]);
    }
  });
}

NetProxy::~NetProxy() { stop(); }

void NetProxy::stop() {
  if (m_stopped.exchange(true)) {
    return;
  }
  const char byte = 1;
  (void)!::write(m_wake[1], &byte, 1);
  m_acceptor.join();
  std::vector<std::thread> workers;
  {
    std::lock_guard lock(m_mutex);
    workers = std::move(m_workers);
  }
  for (auto& t : workers) {
    t.join();
  }
  ::close(m_listen_fd);
  ::close(m_wake[0]);
  ::close(m_wake[1]);
}

NetProxyStats NetProxy::stats() const {
  NetProxyStats s;
  s.connections = m_counters->connections.load();
  s.bytes_c2s = m_counters->bytes_c2s.load();
  s.bytes_s2c = m_counters->bytes_s2c.load();
  s.exchanges = m_counters->exchanges.load();
  s.cuts = m_counters->cuts.load();
  s.stalls = m_counters->stalls.load();
  return s;
}

} // namespace uidsync::test
