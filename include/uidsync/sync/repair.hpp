// SPDX-License-Identifier: GPL-3.0-or-later
// UIDVALIDITY recovery: when the server renumbers a folder (new UIDVALIDITY), the
// stored messages are paired with the new UIDs by Message-ID + size (+ digest),
// so that nothing is downloaded again and nothing is deleted because of it.
#pragma once

#include <uidsync/core/error.hpp>
#include <uidsync/core/types.hpp>
#include <uidsync/imap/session.hpp>
#include <uidsync/maildir/folder.hpp>
#include <uidsync/state/db.hpp>
#include <uidsync/sync/remote_view.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <vector>

namespace uidsync::sync {

// What the server says about one message under its new UIDVALIDITY.
struct ServerHeader {
  core::Uid uid = 0;
  std::uint64_t size = 0;
  std::string message_id; // "<…>", empty when the message has none
};

struct Pairing {
  core::Uid old_uid = 0;
  core::Uid new_uid = 0;
  bool operator==(const Pairing&) const = default;
};
void PrintTo(const Pairing& pairing, std::ostream* os);

// Pairs the stored rows `old_rows` with the server's messages. Pure. Rows and
// messages are grouped by (Message-ID, size); messages without a Message-ID are
// never paired. In a group, old rows and new UIDs are paired in ascending order
// when the group has one row, or when all its rows have the same digest (copies
// of one message); a group of different messages that share a Message-ID and a
// size is left unpaired, so those are downloaded again rather than guessed.
// Returns the pairs by old UID.
std::vector<Pairing> pair_by_content(const std::vector<state::MessageRow>& old_rows,
                                     const std::vector<ServerHeader>& server);

struct RepairReport {
  std::size_t paired = 0;   // local files renamed to their new UID (no download)
  std::size_t unpaired = 0; // local files kept without a UID (new local mail from now on)
  std::size_t fresh = 0;    // server messages nothing matched (downloaded by the plan)
};

// Re-pairs the folder after its UIDVALIDITY changed from `row.uidvalidity` to
// `view.uidvalidity`. Fetches UID, RFC822.SIZE and the Message-ID header of every
// message (no body), pairs them with pair_by_content(), renames each paired file
// to its new ",U=" and strips ",U=" from the files nothing matched (they are then
// new local mail: uploaded in two-way mode, left alone in pull mode; never
// deleted because of the change). Then, in one transaction, replaces the folder's
// state rows with the new ones in `rows`, stores the new UIDVALIDITY (UIDNEXT and
// HIGHESTMODSEQ reset) in `row` and the DB, and records a uidvalidity_changed
// anomaly (resolved at once). Files are renamed before the DB is written: if the
// run stops in between, the next run adopts the renamed files (same UID and size)
// instead of fetching them. Fails with Scope::folder or Scope::account as the
// commands do; Scope::account when the DB fails.
core::Result<RepairReport> repair_uidvalidity(imap::Session& session, maildir::Folder& folder,
                                              state::Db& db, state::FolderRow& row,
                                              const RemoteView& view,
                                              std::map<core::Uid, state::MessageRow>& rows,
                                              std::chrono::milliseconds timeout,
                                              const std::string& where);

} // namespace uidsync::sync
