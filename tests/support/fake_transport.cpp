// SPDX-License-Identifier: GPL-3.0-or-later
#include "support/fake_transport.hpp"

#include <algorithm>
#include <cstring>

namespace uidsync::test {

void FakeTransport::server(std::string bytes) {
  if (!bytes.empty()) {
    m_server.push_back(std::move(bytes));
  }
}

void FakeTransport::reply_to(std::string client_text, std::string reply) {
  m_rules.push_back({std::move(client_text), std::move(reply), false});
}

std::size_t FakeTransport::pending() const {
  std::size_t n = 0;
  for (const auto& s : m_server) {
    n += s.size();
  }
  return n;
}

core::Result<std::size_t> FakeTransport::read_some(std::span<char> buf) {
  if (m_closed) {
    return core::fail(core::Scope::account, "read after close");
  }
  if (m_server.empty()) {
    if (m_eof) {
      return core::fail(core::Scope::account, "connection closed by the server",
                        "check the network and the server, then run again");
    }
    return std::size_t{0};
  }
  auto& front = m_server.front();
  auto n = std::min({buf.size(), front.size(), m_max_read});
  std::memcpy(buf.data(), front.data(), n);
  front.erase(0, n);
  if (front.empty()) {
    m_server.pop_front();
  }
  m_read += n;
  return n;
}

core::Result<void> FakeTransport::write_all(std::string_view data, std::chrono::milliseconds) {
  if (m_closed || m_fail_writes) {
    return core::fail(core::Scope::account, "connection broken while sending");
  }
  m_client.append(data);
  m_writes.emplace_back(data);
  for (auto& rule : m_rules) {
    if (!rule.fired && m_client.find(rule.client_text) != std::string::npos) {
      rule.fired = true;
      server(rule.reply);
    }
  }
  return {};
}

core::Result<bool> FakeTransport::wait(net::WaitFor what, std::chrono::milliseconds) {
  if (what == net::WaitFor::write) {
    return true;
  }
  // Never sleeps: "no data" is an immediate timeout, so tests run at full speed.
  return !m_server.empty() || m_eof;
}

} // namespace uidsync::test
