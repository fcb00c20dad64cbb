// SPDX-License-Identifier: GPL-3.0-or-later
// Redaction of secrets in protocol lines before they reach a log, a trace file or
// quarantine evidence. Secrets are replaced by k_mask; what is needed to debug a
// session (tags, commands, user names, mechanisms) is kept.
#pragma once

#include <string>
#include <string_view>

namespace uidsync::util {

inline constexpr std::string_view k_mask = "********";

// Masks the secrets one line can show by itself, case-insensitively, for any tag:
//   - `TAG LOGIN user pass`: the password (the user is kept; when the user is a
//     literal, everything after LOGIN);
//   - `TAG AUTHENTICATE MECH initial-response`: the initial response;
//   - `Bearer <token>` anywhere (HTTP headers, decoded XOAUTH2 `auth=Bearer ...`);
//   - `access_token` / `refresh_token` values in JSON or form encoding.
// `line` carries no CRLF. Lines without secrets come back unchanged.
std::string redact_line(std::string_view line);

// Stateful redaction of one connection's transcript, for what a single line cannot
// show: the SASL continuation lines sent while an AUTHENTICATE runs (until the
// server's tagged reply to it), and literal data following a LOGIN line that ends
// in a literal (`x5 LOGIN "u" {5+}`). Feed every line in order, one direction each.
class Redactor {
public:
  // A line the client sent; returns it redacted.
  std::string client(std::string_view line);
  // A line the server sent; returns it redacted. A tagged reply to the running
  // AUTHENTICATE ends the exchange.
  std::string server(std::string_view line);

  // True while client lines are SASL responses.
  bool in_authenticate() const { return !m_auth_tag.empty(); }

private:
  std::string m_auth_tag;
  bool m_secret_literal_next = false;
};

} // namespace uidsync::util
