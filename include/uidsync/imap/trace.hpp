// SPDX-License-Identifier: GPL-3.0-or-later
// Trace: the redacted protocol transcript written by --trace FILE. Lines are
// "C: ..." (client) and "S: ..." (server). Never written: LOGIN arguments,
// AUTHENTICATE mechanisms' payloads (the client's continuation lines until the
// command completes), and literal contents, which appear as "{N bytes}".
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

namespace uidsync::imap {

class Trace {
public:
  // Writes to `out`, which must outlive the Trace. Not thread-safe: one per session.
  explicit Trace(std::ostream& out) : m_out(out) {}

  // Raw bytes as they go over the wire, in any pieces.
  void client(std::string_view bytes) { feed(m_client, bytes); }
  void server(std::string_view bytes) { feed(m_server, bytes); }

private:
  struct Side {
    char prefix;
    std::string line;              // the current line, up to its LF
    std::uint64_t literal_left = 0; // bytes of a literal still to elide
  };
  void feed(Side& side, std::string_view bytes);
  void emit(Side& side, std::string line);

  std::ostream& m_out;
  Side m_client{'C', {}, 0};
  Side m_server{'S', {}, 0};
  std::string m_auth_tag; // AUTHENTICATE in progress: its tag
};

} // namespace uidsync::imap
