// SPDX-License-Identifier: GPL-3.0-or-later
// The account runner: lists an account's folders on one connection, creates on
// the server the local folders it lacks, then syncs the folders on a pool of
// connections (one thread, session and state DB handle each), reconnecting when
// a connection is lost.
#pragma once

#include <uidsync/core/config.hpp>
#include <uidsync/core/error.hpp>
#include <uidsync/imap/session.hpp>
#include <uidsync/net/transport.hpp>
#include <uidsync/sync/executor.hpp>
#include <uidsync/sync/planner.hpp>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace uidsync::sync {

// Opens one authenticated connection to the account's server. Called from the
// runner's worker threads, possibly at the same time: it must be thread-safe. A
// failure marked core::Error::transient (the connection broke) is tried again; any
// other failure (login refused, certificate, config) ends the account at once.
using Connector = std::function<core::Result<std::unique_ptr<net::Transport>>()>;

struct AccountOptions {
  Connector connect;                // required
  std::filesystem::path db_path;    // the account's state DB (created if missing)
  int jobs = 0;                     // connections; 0: the account's max_connections
  std::vector<std::string> folders; // extra globs (-f): a folder must match one of them too
  bool dry_run = false;             // plan only: nothing changes anywhere
  bool allow_mass_delete = false;
  // --trace: the account's connections share it, each line prefixed "[n] " with
  // the connection number (1 is the first login, reconnects get new numbers).
  std::ostream* trace = nullptr;
  Progress* progress = nullptr; // live counters; folders_total is set once listed
  // Per folder: connection-level failures in a row that moved nothing forward
  // (an attempt that fetched or quarantined something resets the count; 16 at most).
  int max_reconnects = 2;
};

// One folder of the run, in the order the folders were synced (INBOX first, then
// by name).
struct FolderResult {
  std::string name;                     // the server's name, UTF-8
  std::vector<std::string> special_use; // RFC 6154 attributes from LIST ("\Sent", ...)
  std::filesystem::path path;           // the local Maildir (empty if the name is unsafe)
  bool created_on_server = false;       // a local-only folder this run CREATEd
  Stats stats;
  std::optional<Plan> plan;         // dry run: what would be done (nullopt: not planned)
  bool local_missing = false;       // dry run: no local folder yet, all of it is fetched
  std::optional<core::Error> error; // why the folder did not sync (completely)
  int reconnects = 0;               // connections lost while syncing it
};

struct AccountResult {
  std::vector<FolderResult> folders;
  Stats totals;                      // the sum of the folders' stats
  std::optional<core::Error> error;  // the account failed as a whole (no connection, no DB)
  std::vector<std::string> warnings; // local folders kept because the server deleted them, ...
  std::size_t connections = 0;       // logins made (the pool's size plus reconnects)
  // Over all connections, LIST/LOGOUT included: bytes on the wire (compressed when
  // COMPRESS=DEFLATE was on), and the IMAP bytes they carried (equal without it).
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::uint64_t imap_bytes_in = 0;
  std::uint64_t imap_bytes_out = 0;
  std::size_t compressed_connections = 0; // connections that ran COMPRESS=DEFLATE

  // No account error and no folder error.
  bool ok() const;
};

// Syncs `account`. Never throws for sync problems: everything is in the result.
// Steps: open the state DB, connect, refresh CAPABILITY, COMPRESS DEFLATE (when
// the account's compress is on and the server offers it; every connection), LIST; pick the folders
// matching the account's globs and `options.folders`; in two-way mode, CREATE on
// the server each local folder (maildir::list_folders) that it lacks and that has
// no state row (a state row means the server deleted it: the local copy is kept
// and a warning says so; pull mode never creates). Then
// n = min(jobs or max_connections, folders) workers take folders from a queue,
// each on its own connection and its own state::Db handle of `db_path`, and run
// sync::sync_folder(). A folder failing with Scope::account or fatal (connection
// lost, timeout) is retried on a new connection, at most `max_reconnects` times;
// folder-scope failures are not retried. Every connection (the first, the pool's,
// each reconnect) is opened up to 3 times, 0.5 s then 1 s apart, while it breaks before
// it is usable (a transient connector failure, or a failure after the login); the last
// failure reads "no usable connection after 3 attempts: ...". When no new connection
// can be made, the folders not synced yet fail with that error.
AccountResult sync_account(const core::Account& account, const AccountOptions& options);

// The folders to sync, in sync order: INBOX (any case) first, then by name.
void sort_for_sync(std::vector<std::string>& names);

// Whether `name` matches a glob of `include` and no "!glob" of it; with non-empty
// `restrict` (-f), also one of those (fnmatch(3) globs, '*' matches '/').
bool folder_wanted(const std::string& name, const std::vector<std::string>& include,
                   const std::vector<std::string>& restrict);

// The selectable folders of LIST "" "*" (no \Noselect or \NonExistent entries),
// or all of them with `all`. Fails with the session's error.
core::Result<std::vector<imap::MailboxList>>
list_server_folders(imap::Session& session, std::chrono::milliseconds timeout, bool all = false);

// The RFC 6154 special-use attributes among LIST `attributes` (\All, \Archive,
// \Drafts, \Flagged, \Junk, \Sent, \Trash), spelt as the RFC does.
std::vector<std::string> special_use(const std::vector<std::string>& attributes);

} // namespace uidsync::sync
