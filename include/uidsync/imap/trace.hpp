// SPDX-License-Identifier: GPL-3.0-or-later
// Trace: the redacted protocol transcript written by --trace FILE. Lines are
// "C: ..." (client) and "S: ..." (server). Never written: LOGIN arguments,
// AUTHENTICATE mechanisms' payloads (the client's continuation lines until the
// command completes), and literal contents, which appear as "{N bytes}".
#pragma once

#include <cstdint>
#include <mutex>
#include <ostream>
#include <string>
#include <string_view>

namespace uidsync::imap {

class Trace {
public:
  // Writes to `out`, which must outlive the Trace. One Trace per session. Several
  // sessions may share `out` (several connections of one account): give each its
  // own Trace with the same `lock`, which then guards every line written, and a
  // `prefix` ("[2] ") that tells the connections apart. `lock` may be null (the
  // stream is not shared) and must otherwise outlive the Trace.
  explicit Trace(std::ostream& out, std::mutex* lock = nullptr, std::string prefix = {})
      : m_out(out), m_lock(lock), m_prefix(std::move(prefix)) {}

  // Raw bytes as they go over the wire, in any pieces.
  void client(std::string_view bytes) { feed(m_client, bytes); }
  void server(std::string_view bytes) { feed(m_server, bytes); }

private:
  struct Side {
    char prefix;
    std::string line;               // the current line, up to its LF
    std::uint64_t literal_left = 0; // bytes of a literal still to elide
  };
  void feed(Side& side, std::string_view bytes);
  void emit(Side& side, std::string line);

  std::ostream& m_out;
  std::mutex* m_lock;
  std::string m_prefix;
  Side m_client{'C', {}, 0};
  Side m_server{'S', {}, 0};
  std::string m_auth_tag; // AUTHENTICATE in progress: its tag
};

} // namespace uidsync::imap
