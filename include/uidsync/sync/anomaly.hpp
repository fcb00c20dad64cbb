// SPDX-License-Identifier: GPL-3.0-or-later
// Server anomalies: the RFC 3501 §2.3.1.1 invariants a folder's listing must keep,
// checked on every sync before anything is acted on, and the Exchange stub check.
#pragma once

#include <uidsync/core/error.hpp>
#include <uidsync/core/types.hpp>
#include <uidsync/imap/session.hpp>
#include <uidsync/state/db.hpp>
#include <uidsync/sync/remote_view.hpp>

#include <chrono>
#include <map>
#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace uidsync::sync {

// One broken rule. `uid` is the UID concerned, 0 when the finding is about the
// whole folder (EXISTS, UIDNEXT, order of the listing).
struct Finding {
  state::AnomalyKind kind = state::AnomalyKind::exists_mismatch;
  core::Uid uid = 0;
  std::string detail; // one sentence: what the server said, and which rule it breaks
  bool operator==(const Finding&) const = default;
};
void PrintTo(const Finding& finding, std::ostream* os);

// What the checks need besides the listing and the state rows.
struct CheckContext {
  // UIDs below the stored UIDNEXT that legitimately have no state row (quarantined,
  // or skipped by a message-scope error): never reported as reappeared.
  std::set<core::Uid> excused;
  // Message-ID headers the server gave for UIDs whose size changed (see
  // size_changed()). A UID whose size changed but whose Message-ID is still the
  // stored one is not reported: the server's RFC822.SIZE was off, not the UID reused.
  std::map<core::Uid, std::string> message_ids;
};

// Checks `view` against the folder's state rows `known` (by UID) and `row` (its
// stored UIDVALIDITY and UIDNEXT, the highest UID seen + 1). Pure; returns every
// broken rule, empty when the view is consistent:
// - exists_mismatch: EXISTS differs from the number of messages (the UIDs listed,
//   or by_uid when the view is incremental);
// - bad_uid: a UID that is 0, listed twice, not ascending with the sequence
//   numbers, or at or above the server's UIDNEXT; UIDNEXT at or below the highest UID;
// - uid_reappeared: a UID below the stored UIDNEXT without a state row (and not
//   excused): old mail offered as new, or an expunged UID back;
// - uid_reused: a known UID whose size changed (and whose Message-ID, when
//   fetched, changed too).
// Rules that compare with the state are skipped when `row.uidvalidity` differs
// from the view's (that is repair's job, see repair.hpp).
std::vector<Finding> check_view(const RemoteView& view,
                                const std::map<core::Uid, state::MessageRow>& known,
                                const state::FolderRow& row, const CheckContext& context = {});

// The known UIDs whose server size differs from the stored one: the executor
// fetches their Message-ID before check_view() decides on reuse.
std::vector<core::Uid> size_changed(const RemoteView& view,
                                    const std::map<core::Uid, state::MessageRow>& known);

// The UIDNEXT to store after a sync: max(stored, server UIDNEXT, highest UID + 1),
// lowered to the first UID of `view` that still has no state row (`known`, the
// folder's stored UIDs in ascending order) nor excuse, so
// that a UID not stored yet is never taken for a reappearing one next time (but
// never below the stored value).
core::Uid next_uidnext(const RemoteView& view, const std::vector<core::Uid>& known,
                       const std::set<core::Uid>& excused, core::Uid stored);

// True when `header` (a message's header block) is the stub Exchange 2010/2013
// serves for a message it cannot read ("Retrieval using the IMAP4 protocol failed
// for the following message: <uid>"), Subject folded or RFC 2047-encoded or not.
// This breaks RFC 3501 §6.4.5: the server answers with a message it made up.
bool is_exchange_stub(std::string_view header);

// Where the executor stands with a folder's anomalies after verify_view().
struct Verdict {
  std::vector<Finding> findings; // what still failed after the re-check; empty: consistent
  bool hold_deletions = false;   // true when anything failed: no deletion on either side
  std::size_t recorded = 0;      // anomalies newly written to the state DB
};

// Runs check_view() on `view`; when it fails, sends NOOP, lists the folder again
// in the same selection (UID FETCH 1:*) into `view` and checks once more. What
// still fails is recorded (Db::add_anomaly, once per kind and UID while
// unresolved; nothing is written with `dry_run`), the suspicious UIDs are removed
// from `view` (never fetched as new), and a reused UID's state row is dropped
// from `known` and the DB, so its new message is fetched and the old file is kept
// (the planner leaves it as a stray). A consistent view resolves the folder's
// open anomalies (all kinds but uidvalidity_changed). Fails with Scope::folder or
// Scope::account as the commands do, Scope::account when the DB fails.
core::Result<Verdict> verify_view(imap::Session& session, state::Db& db,
                                  const state::FolderRow& row, RemoteView& view,
                                  std::map<core::Uid, state::MessageRow>& known,
                                  const std::set<core::Uid>& excused, bool dry_run,
                                  std::chrono::milliseconds timeout, const std::string& where);

// After the executor's own UID EXPUNGE of `expunged`: NOOP and list the folder
// again, and record what breaks the rules (an expunged UID offered again, EXISTS
// back up: a lagging index replica), judged against the state rows in `db`.
// Nothing else is done with that listing.
// Returns the number of anomalies recorded. Fails as verify_view() does.
core::Result<std::size_t> verify_after_expunge(imap::Session& session, state::Db& db,
                                               const state::FolderRow& row,
                                               const std::set<core::Uid>& excused,
                                               std::chrono::milliseconds timeout,
                                               const std::string& where);

// The UIDs of the folder's quarantine rows for `uidvalidity` that are not released
// (active or forgotten): listed by the server, never stored, and not anomalies.
core::Result<std::set<core::Uid>> quarantined_uids(state::Db& db, std::int64_t folder_id,
                                                   core::UidValidity uidvalidity);

} // namespace uidsync::sync
