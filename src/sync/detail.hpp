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
#include <uidsync/sync/remote_view.hpp>

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
// batches before their state rows are written. Message-scope problems are logged
// and counted in `stats.failed`; what arrived is kept even when a later command
// fails. Fails with Scope::folder or Scope::account as run_all() does, or on
// local I/O errors.
core::Result<void> fetch_bodies(imap::Session& session, BodyRouter& router, maildir::Folder& folder,
                                state::Db& db, const state::FolderRow& row,
                                const std::vector<core::Uid>& uids, const RemoteView& view,
                                const ExecuteOptions& options, Stats& stats);

} // namespace uidsync::sync::detail
