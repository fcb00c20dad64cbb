// SPDX-License-Identifier: GPL-3.0-or-later
// An in-memory world for planner tests: a remote folder, a local folder and the
// state rows, described in a compact text form, plus an executor that applies a
// Plan one step at a time in the order the real executor must follow (a side
// effect first, its state record after), and can stop ("crash") after any step.
#pragma once

#include <uidsync/sync/planner.hpp>

#include <map>
#include <string>

namespace uidsync::test {

struct SyncWorld {
  struct Remote {
    core::Flags flags;
    std::string content;
  };
  struct Local {
    core::Uid uid = 0;
    core::Flags flags;
    std::string content;
  };
  std::map<core::Uid, Remote> remote;
  core::Uid uidnext = 1;
  std::map<std::string, Local> local;
  bool local_exists = true;
  std::map<core::Uid, sync::StateRow> state;
  // APPENDs journaled but not yet recorded with their UID: key -> content.
  std::map<std::string, std::string> pending_appends;

  // Text forms (see tests/unit/sync_planner_test.cpp for the grammar):
  //   remote "1:S 2:FS"         UID:flags, content "r<UID>"
  //   local  "a=1:S b=-:F c=1!:" key=UID or '-' (no ,U=), '!' = other content,
  //          "d=~1:S"            no ,U= in the name, but the content of UID 1
  //   state  "1=a:S"            UID=key:flags
  static SyncWorld parse(const std::string& remote, const std::string& local,
                         const std::string& state);

  std::vector<sync::RemoteMsg> remote_snapshot() const;
  std::vector<sync::LocalMsg> local_snapshot() const;
  std::vector<sync::StateRow> state_rows() const;

  // "content:flags" of every message on one side, sorted, space-separated.
  std::string remote_text() const;
  std::string local_text() const;

  // Resolves interrupted APPENDs the way the executor does before planning: a
  // journaled append found on the server (by content, standing in for a
  // Message-ID search) becomes a state row; one not found is dropped, so the file
  // is appended again.
  void recover();

  // Applies `plan`. Each side effect and each state write is one step; with
  // `budget` >= 0, stops after that many steps and returns false (a crash).
  // Returns true when the whole plan was applied. Counts steps in `steps`.
  bool execute(const sync::Plan& plan, int budget, int& steps);
};

// "fetch=2 adopt=1 ..." for the non-zero parts of a plan, in a fixed order.
std::string plan_summary(const sync::Plan& plan);

} // namespace uidsync::test
