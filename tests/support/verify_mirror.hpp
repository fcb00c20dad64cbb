// SPDX-License-Identifier: GPL-3.0-or-later
// Checks a synced Maildir against the Dovecot fixture's mailboxes and the state DB.
//
// Messages are matched by Message-ID within their folder, so every message the
// tests put on either side must carry a unique one. The report lists:
//   - server messages missing locally, or present more than once;
//   - local messages whose bytes are not what IMAP serves (the server's text with
//     CRLF line ends) or whose Maildir flags (D F R S) differ from the server's;
//   - local messages the server does not have;
//   - DB rows (state "present") without their file, files without a DB row, and
//     rows whose UID is not the server's UID of that message;
//   - DB rows left pending or expunged, and leftover APPEND journal entries.
#pragma once

#include "support/dovecot.hpp"

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace uidsync::test {

struct MirrorReport {
  std::size_t server_messages = 0; // messages seen on the server, all folders
  std::size_t local_files = 0;     // files in cur/ and new/, all folders
  std::size_t db_rows = 0;         // message rows in the state DB
  std::vector<std::string> problems; // one line each; empty when the mirror is exact

  bool clean() const { return problems.empty(); }
  // A summary line followed by the first `max_lines` problems.
  std::string text(std::size_t max_lines = 40) const;
};

// One message on the server: its UID, IMAP flags and text as doveadm prints it (LF).
struct ServerMessage {
  std::string uid;
  std::string flags; // as doveadm prints them, e.g. "\Seen \Flagged"
  std::string text;
};

// The messages of `folder` on `dovecot` (one doveadm call). Throws on failure.
std::vector<ServerMessage> server_messages(Dovecot& dovecot, const std::string& folder);

// Compares `folders` of `dovecot` (its user) with the Maildir `root` (folder "A/B"
// lives in `root`/A/B) and with the state DB at `db`. Never throws for a
// mismatch; a doveadm or DB failure is reported as a problem.
MirrorReport verify_mirror(Dovecot& dovecot, const std::vector<std::string>& folders,
                           const std::filesystem::path& root, const std::filesystem::path& db);

// Puts `messages` (RFC 5322 text, LF line ends) straight into the server's Maildir
// folder (created with doveadm when missing), with the Maildir flags `flags` (e.g. "S"),
// owned like the rest of the mail. Much faster than Dovecot::fill() for large corpora;
// Dovecot gives them UIDs when it next looks at the folder.
void seed_folder(Dovecot& dovecot, const std::string& folder,
                 const std::vector<std::string>& messages, const std::string& flags = {});

} // namespace uidsync::test
