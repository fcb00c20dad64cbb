// SPDX-License-Identifier: GPL-3.0-or-later
// The executor's parts, shared by its files: the server's view of a folder, the
// pipelined command runner, and the body download.
#pragma once

#include <uidsync/core/error.hpp>
#include <uidsync/core/types.hpp>
#include <uidsync/imap/command.hpp>
#include <uidsync/imap/session.hpp>
#include <uidsync/maildir/folder.hpp>
#include <uidsync/state/db.hpp>
#include <uidsync/sync/executor.hpp>
#include <uidsync/sync/quarantine.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace uidsync::sync::detail {

// What the server told about one message.
struct RemoteInfo {
  core::Uid uid = 0;
  core::Flags flags;
  std::uint64_t size = 0;
  std::int64_t internaldate = 0;
};

// The server's side of one selected folder.
struct RemoteView {
  core::UidValidity uidvalidity = 0;
  std::uint32_t exists = 0;
  core::Uid uidnext = 0;                      // 0 when the server sent none
  core::ModSeq highestmodseq = 0;             // 0 without CONDSTORE
  std::map<std::uint32_t, RemoteInfo> by_seq; // messages listed by this run, by number
  std::map<core::Uid, RemoteInfo> by_uid;     // every message on the server
  // Every UID in the order the server listed it in this run, duplicates and 0
  // kept (by_uid has lost them), for the anomaly checks.
  std::vector<core::Uid> listed;
  // True when only the changes since the stored HIGHESTMODSEQ were listed
  // (QRESYNC) and the rest of by_uid comes from the state.
  bool incremental = false;
};

// Selects `row.name` (EXAMINE when `options.dry_run`) and lists the server's
// messages: UID, flags, size and INTERNALDATE. `known` is the state's rows of the
// folder. Fails with Scope::folder when the server sends no usable UIDVALIDITY or
// refuses the folder, Scope::account when the connection fails.
core::Result<RemoteView> read_remote(imap::Session& session, const state::FolderRow& row,
                                     const std::map<core::Uid, state::MessageRow>& known,
                                     const ExecuteOptions& options, const std::string& where);

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

} // namespace uidsync::sync::detail
