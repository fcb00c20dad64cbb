// SPDX-License-Identifier: GPL-3.0-or-later
// The planner: a pure function from (remote snapshot, local snapshot, state rows) to
// the actions that bring one folder's two sides and its state in step.
//
// Sides are symmetric (isync style): the remote (far) side is the IMAP folder, the
// local (near) side is the Maildir folder. The planner does no I/O and keeps no state;
// the same inputs always give the same plan, so it is tested as tables.
#pragma once

#include <uidsync/core/types.hpp>

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace uidsync::sync {

// One message as the server lists it.
struct RemoteMsg {
  core::Uid uid = 0;
  core::Flags flags;
  std::uint64_t size = 0;
  bool operator==(const RemoteMsg&) const = default;
};

// One message file in the local folder. `key` is the stable part of the file name
// (everything before ":2,"), which survives flag renames. `uid` comes from the
// name's ",U=" tag, 0 when there is none (new local mail).
struct LocalMsg {
  std::string key;
  core::Uid uid = 0;
  core::Flags flags;
  std::uint64_t size = 0;
  bool operator==(const LocalMsg&) const = default;
};

// One pairing recorded by the last sync: UID `uid` is the local file `key`, and
// both sides had `flags` when the pair was last in step. The executor resolves
// interrupted APPENDs (rows without a UID) before planning, so `uid` is never 0 here.
struct StateRow {
  core::Uid uid = 0;
  std::string key;
  core::Flags flags;
  std::uint64_t size = 0;
  bool operator==(const StateRow&) const = default;
};

enum class Direction { two_way, pull };

struct PlanOptions {
  Direction direction = Direction::two_way;
  // Mass-deletion guard: deletions on one side are held when they exceed both
  // `guard_percent` of the folder and `guard_count` messages.
  unsigned guard_percent = 25;
  unsigned guard_count = 10;
  bool allow_mass_delete = false;
  // False when the local folder directory does not exist at all (unmounted disk,
  // removed by hand). A missing or empty local folder never deletes server mail.
  bool local_folder_exists = true;
};

struct FlagChange {
  core::Uid uid = 0;
  core::Flags add;
  core::Flags remove;
  bool operator==(const FlagChange&) const = default;
};

// Rename a local file so its name carries `flags` and ",U=`uid`".
struct LocalFlagChange {
  std::string key;
  core::Uid uid = 0;
  core::Flags flags;
  bool operator==(const LocalFlagChange&) const = default;
};

struct Adoption {
  core::Uid uid = 0;
  std::string key;
  core::Flags flags; // the flags both sides already share (the merge base)
  bool operator==(const Adoption&) const = default;
};

struct Append {
  std::string key;
  core::Flags flags;
  bool operator==(const Append&) const = default;
};

struct StateFlags {
  core::Uid uid = 0;
  core::Flags flags;
  bool operator==(const StateFlags&) const = default;
};

// server_anomaly is set by the executor (sync/anomaly.hpp), never by plan_folder().
enum class HoldReason { none, too_many, local_folder_missing, local_folder_empty, server_anomaly };

// Everything one folder needs. Each list is sorted (UIDs ascending, keys by name).
struct Plan {
  std::vector<core::Uid> fetch;                 // new on the server: download
  std::vector<Adoption> adopt;                  // (re)write the state row: UID is this file
  std::vector<FlagChange> remote_flags;         // UID STORE on the server
  std::vector<LocalFlagChange> local_flags;     // rename the local file (flags, ,U=)
  std::vector<std::string> local_deletes;       // expunged on the server: unlink
  std::vector<core::Uid> remote_deletes;        // deleted locally: \Deleted + UID EXPUNGE
  std::vector<Append> appends;                  // new local mail: APPEND
  std::vector<StateFlags> state_flags;          // record the agreed flags
  std::vector<core::Uid> forget;                // gone on both sides: drop the row
  std::vector<std::string> stray;               // local files with a UID paired elsewhere
  // Deletions not carried out because of the mass-deletion guard.
  std::vector<core::Uid> held_remote_deletes;
  std::vector<std::string> held_local_deletes;
  HoldReason held_reason = HoldReason::none;

  bool empty() const;
  bool operator==(const Plan&) const = default;
};

// Computes the plan for one folder. `remote`, `local` and `state` may come in any
// order. Rules (each is a row family in tests/unit/sync_planner_test.cpp):
// - a UID on the server with no state row and no local file is fetched;
// - a local file whose ",U=" UID is on the server with the same size, and has no
//   state row, is adopted (no download); with another size it is left alone
//   (stray) and the UID is fetched;
// - flags: each side's change since the state row is applied to the other side;
//   when both changed, a flag set on either side wins over its removal;
// - a UID gone from the server deletes the local file; a local file gone deletes
//   the UID on the server (two-way only); both gone drops the state row;
// - local files without a UID are appended (two-way only); a local file whose
//   UID neither the server nor the state knows was expunged on the server and is
//   deleted (the caller guarantees that every ",U=" in `local` belongs to the
//   folder's current UIDVALIDITY; re-pairing after a change is done before);
// - an adopted pair is recorded with the flags both sides share, then each side
//   gets the other's extra flags, then the state gets the union;
// - the mass-deletion guard holds deletions as documented in PlanOptions.
Plan plan_folder(const std::vector<RemoteMsg>& remote, const std::vector<LocalMsg>& local,
                 const std::vector<StateRow>& state, const PlanOptions& options);

void PrintTo(const Plan& plan, std::ostream* os);

} // namespace uidsync::sync
