// SPDX-License-Identifier: GPL-3.0-or-later
// The executor's parts, shared by its files: the server's view of a folder, the
// pipelined command runner, and the body download.
#pragma once

#include <uidsync/core/error.hpp>
#include <uidsync/core/types.hpp>
#include <uidsync/imap/command.hpp>
#include <uidsync/imap/session.hpp>
#include <uidsync/imap/uid_set.hpp>
#include <uidsync/maildir/folder.hpp>
#include <uidsync/state/db.hpp>
#include <uidsync/sync/executor.hpp>
#include <uidsync/sync/remote_view.hpp>
#include <uidsync/sync/quarantine.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace uidsync::sync::detail {

using sync::RemoteInfo;
using sync::RemoteView;

// Selects `row.name` (EXAMINE when `options.dry_run`) and lists the server's
// messages: UID, flags, size and INTERNALDATE. `known` is the state's rows of the
// folder. When the server has QRESYNC (enabled here, once per session) and `row`
// holds UIDVALIDITY and HIGHESTMODSEQ, only the changes since then are asked for
// (SELECT … (QRESYNC …)), and `known` fills in the rest (`incremental`); an
// unchanged folder then costs the SELECT alone. A view whose count differs from
// EXISTS, a UIDVALIDITY change or NOMODSEQ falls back to the full listing. Fails
// with Scope::folder when the server sends no usable UIDVALIDITY or refuses the
// folder, Scope::account when the connection fails.
core::Result<RemoteView> read_remote(imap::Session& session, const state::FolderRow& row,
                                     const std::map<core::Uid, state::MessageRow>& known,
                                     const ExecuteOptions& options, const std::string& where);

// Stores the view's HIGHESTMODSEQ and UIDNEXT in `row` (and `db`) after a sync of
// the folder that left nothing behind: no failed message, no held deletion, no
// quarantined UID (new or waiting) between `before` and `after`. Otherwise the
// old values stay, so the next QRESYNC run is asked about those messages again.
// Fails (Scope::account) when the DB write fails.
core::Result<void> remember_modseq(state::Db& db, state::FolderRow& row, const RemoteView& view,
                                   const Stats& before, const Stats& after,
                                   const std::string& where);

// The local half of the no-op fast path: `row` holds UIDVALIDITY, HIGHESTMODSEQ,
// UIDNEXT and a scan stamp from a sync that left the folder in step, the local
// folder is unchanged since (Folder::unchanged_since), and there is no upload
// journal and no active quarantine entry. Fails (Scope::folder) when the folder
// cannot be read, (Scope::account) when the DB fails.
core::Result<bool> settled_locally(const maildir::Folder& folder, state::Db& db,
                                   const state::FolderRow& row);

// The no-op fast path without SELECT: `status` (from LIST-STATUS or STATUS, RFC
// 5819 / RFC 7162 §3.1.6) has the stored UIDVALIDITY, HIGHESTMODSEQ and UIDNEXT
// and as many MESSAGES as the state has rows, and the folder is settled_locally().
// False when an item is missing. Fails as settled_locally() does.
core::Result<bool> unchanged_by_status(const maildir::Folder& folder, state::Db& db,
                                       const state::FolderRow& row,
                                       const imap::MailboxStatus& status);

// The no-op fast path (RFC 7162): true when nothing changed on either side since
// the last sync left the folder in step, so there is nothing to plan. It takes
// the stored HIGHESTMODSEQ, UIDNEXT and scan stamp, an unchanged local folder
// (Folder::unchanged_since), no upload journal and no active quarantine entry,
// then one SELECT (QRESYNC (uidvalidity modseq)) that reports no VANISHED, no
// FETCH and the same UIDVALIDITY, HIGHESTMODSEQ, UIDNEXT and message count as
// the state. False in every other case (the caller then syncs the folder in
// full). Fails as read_remote() does.
core::Result<bool> nothing_changed(imap::Session& session, const maildir::Folder& folder,
                                   state::Db& db, const state::FolderRow& row,
                                   const ExecuteOptions& options, const std::string& where);

// The scan stamp to keep for the folder after a sync: Folder::settled_stamp() of
// the message files the state now records, or empty when this run left anything
// local undone (a failed message, an upload not made, held deletions).
core::Result<std::string> stamp_after_sync(const maildir::Folder& folder, state::Db& db,
                                           const state::FolderRow& row, const Plan& plan,
                                           const Stats& before, const Stats& after);

// Runs `commands` pipelined; `on_data` gets their untagged data. Fails with
// Scope::folder naming `what` on the first NO/BAD, Scope::account if the
// connection ends or `timeout` passes without progress.
core::Result<void> run_all(imap::Session& session, std::vector<imap::Command> commands,
                           const imap::DataHandler& on_data, std::chrono::milliseconds timeout,
                           const std::string& what);

// UID STORE +FLAGS.SILENT / -FLAGS.SILENT commands for `changes`.
std::vector<imap::Command> store_commands(const std::vector<FlagChange>& changes);

// Downloads `uids` (pipelined UID FETCH … BODY.PEEK[]) into `folder`, durable in
// batches before their state rows are written; UIDs due in `quarantine` are
// fetched alone, after the others. Every UID the server does not serve goes to
// `quarantine` with its reason (docs/quarantine.md): OK without data (then
// BODY[HEADER] tells the Exchange stub apart), NO/BAD (a set is bisected down to
// the one UID), BODY[] NIL, a literal whose size is not RFC822.SIZE, the Exchange
// stub served as the body (never stored), and the UID in flight when the
// connection dropped or stalled for `options.timeout`. Delivered UIDs are released
// from the quarantine. What arrived is kept when the connection fails. Fails with
// Scope::account when the connection ends or stalls (the caller reconnects and
// syncs the folder again), or on local I/O and DB errors.
core::Result<void> fetch_bodies(imap::Session& session, BodyRouter& router, maildir::Folder& folder,
                                state::Db& db, const state::FolderRow& row,
                                const std::vector<core::Uid>& uids, const RemoteView& view,
                                const ExecuteOptions& options, Stats& stats,
                                Quarantine& quarantine);

// Resolves the upload journal rows an interrupted run left for `row`'s folder;
// called before planning, so the planner never sees a half-done upload. For each
// row: a file already renamed with ",U=" gets its missing state row; a file still
// without a UID is looked up on the server among the UIDs in `view` that nothing
// claims (same size, then UID SEARCH HEADER Message-ID, or the SHA-256 of the body
// when it has no Message-ID): found, it is renamed with ",U=" and recorded; not
// found, the journal row is dropped and the planner uploads the file again. Adds
// the recorded rows to `rows` and returns them. Fails with Scope::folder or
// Scope::account as run_all() does, or on DB or local I/O errors.
core::Result<std::vector<state::MessageRow>>
recover_appends(imap::Session& session, BodyRouter& router, maildir::Folder& folder, state::Db& db,
                const state::FolderRow& row, const RemoteView& view,
                std::map<core::Uid, state::MessageRow>& rows, const ExecuteOptions& options);

// Uploads `appends` (keys of `name_of`, "cur/<file>" names) one by one: journal
// row, APPEND with the file's flags, its mtime as the date and its exact bytes,
// the UID from APPENDUID (RFC 4315) or found as recover_appends() does among the
// UIDs from UIDNEXT on, rename with ",U=", state row, journal row removed; each
// step ends in a crash point (UIDSYNC_TEST_CRASH_AFTER_STEP). An APPEND answered NO
// or BAD is a message-scope error: logged with the file and the server's text,
// counted in `stats.failed`, the file kept. Counts `stats.appended` and takes the
// uploaded ones off `stats.appends_pending`. Fails with Scope::account when the
// connection ends (the journal row then stays for the next run), Scope::folder
// when APPENDUID names another UIDVALIDITY, or on DB errors.
core::Result<void> append_messages(imap::Session& session, BodyRouter& router,
                                   maildir::Folder& folder, state::Db& db,
                                   const state::FolderRow& row, const std::vector<Append>& appends,
                                   const std::map<std::string, std::string>& name_of,
                                   const RemoteView& view, const ExecuteOptions& options,
                                   Stats& stats);

} // namespace uidsync::sync::detail
