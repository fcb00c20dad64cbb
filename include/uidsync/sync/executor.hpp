// SPDX-License-Identifier: GPL-3.0-or-later
// The executor: syncs one folder over an open IMAP session, by snapshotting both
// sides, asking the planner for the plan, and carrying it out in the planner's
// step order (each side effect first, then its state record).
#pragma once

#include <uidsync/core/config.hpp>
#include <uidsync/core/error.hpp>
#include <uidsync/core/types.hpp>
#include <uidsync/imap/parser.hpp>
#include <uidsync/imap/session.hpp>
#include <uidsync/maildir/folder.hpp>
#include <uidsync/state/db.hpp>
#include <uidsync/sync/planner.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace uidsync::sync {

// What sync_folder() did (added up over folders by the caller).
struct Stats {
  std::size_t fetched = 0;            // new messages stored locally
  std::size_t adopted = 0;            // local files paired with their UID without download
  std::size_t remote_flags = 0;       // UID STORE commands that succeeded
  std::size_t local_flags = 0;        // local files renamed for their flags
  std::size_t local_deletes = 0;      // local files removed (expunged on the server)
  std::size_t remote_deletes = 0;     // UIDs marked \Deleted and expunged on the server
  std::size_t appended = 0;           // new local files uploaded with APPEND
  std::size_t appends_pending = 0;    // new local files not uploaded this run
  std::size_t held = 0;               // deletions held by the mass-deletion guard
  std::size_t failed = 0;             // messages skipped by a message-scope error
  std::size_t quarantined = 0;        // UIDs newly put into the quarantine by this run
  std::size_t quarantine_waiting = 0; // quarantined UIDs not retried (backoff not over)
  std::size_t released = 0;           // UIDs released from the quarantine
  std::size_t anomalies = 0;          // server anomalies recorded by this run
  std::uint64_t bytes = 0;            // body bytes downloaded

  Stats& operator+=(const Stats& other);
};

// Live counters for a progress display, updated by the executor as bodies are
// stored (from any worker thread) and read by whoever draws the progress line.
struct Progress {
  std::atomic<std::uint64_t> messages{0};
  std::atomic<std::uint64_t> bytes{0};
  std::atomic<std::uint64_t> folders_done{0};
  std::atomic<std::uint64_t> folders_total{0}; // set by the account runner once it has listed
};

// The BodySink to install in the session (SessionOptions::body_sink). It forwards
// large literals to whatever sync_folder() is fetching and drops them otherwise.
// It must outlive the session.
class BodyRouter : public imap::BodySink {
public:
  void set_target(imap::BodySink* target) { m_target = target; }
  void begin(std::uint32_t seq, std::string_view section, std::uint64_t size) override;
  void chunk(std::string_view bytes) override;
  void finish(const imap::Fetch& fetch) override;
  void abort(std::string_view reason) override;

private:
  imap::BodySink* m_target = nullptr;
};

struct ExecuteOptions {
  PlanOptions plan;
  bool dry_run = false; // plan only: nothing is changed on either side or in the DB
  std::chrono::milliseconds timeout{60000}; // per command round trip
  std::size_t batch_size = 100;             // deliveries per durable batch
  Progress* progress = nullptr;             // optional; must outlive the call
  // The quarantine: its backoff, and where evidence files go. An empty state_dir
  // means the directory of the state DB; an empty account, the DB file's stem.
  core::QuarantinePolicy quarantine;
  std::filesystem::path state_dir;
  std::string account;
  // The account runner already compared the folder's STATUS with the state
  // (detail::unchanged_by_status) and found a change: the no-op SELECT is skipped.
  bool status_checked = false;
};

// Syncs the server folder `row.name` (selected read-write) with `folder`, keeping
// `db` in step. `row` must be stored (row.id != 0); a row without UIDVALIDITY gets
// the server's. `router` must be the session's body sink. Returns the plan that
// was carried out (with dry_run: the plan only). Executes: fetch (batched, durable
// before the state rows are written), adoptions, flags both ways, local deletions
// and remote deletions (UID STORE \Deleted + UID EXPUNGE, only the planned UIDs),
// then uploads of new local files (APPEND, journaled; an interrupted run's uploads
// are settled before planning, see docs/append.md). Not executed: stray files
// (left alone). Quarantined UIDs whose retry is not due are not fetched
// (Stats::quarantine_waiting); quarantined UIDs the server no longer lists are released.
// Fails with Scope::folder when UIDVALIDITY changed (nothing is touched), on
// SELECT/FETCH/STORE errors, or on local I/O errors; Scope::account when the
// connection or the DB fails. Message-scope problems are logged and counted.
core::Result<Plan> sync_folder(imap::Session& session, BodyRouter& router, maildir::Folder& folder,
                               state::Db& db, state::FolderRow& row, const ExecuteOptions& options,
                               Stats& stats);

// IMAP flag names ("\Seen", "$Forwarded", case-insensitive) to Maildir flags;
// keywords without a letter are ignored.
core::Flags flags_from_imap(const std::vector<std::string>& names);
// "(\Draft \Flagged $Forwarded \Answered \Seen \Deleted)" subset, in that order.
std::string flags_to_imap(core::Flags flags);
// RFC 3501 date-time ("17-Jul-1996 02:44:25 -0700") to unix seconds; nullopt if malformed.
std::optional<std::int64_t> parse_internaldate(std::string_view text);
// The stable key of a message file name ("cur/<base>,U=7:2,S" -> "<base>,U=7").
std::string message_key(std::string_view local_name);

} // namespace uidsync::sync
