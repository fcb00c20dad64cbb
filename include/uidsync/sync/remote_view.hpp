// SPDX-License-Identifier: GPL-3.0-or-later
// The server's view of one selected folder, as the executor reads it and the
// anomaly checks judge it.
#pragma once

#include <uidsync/core/types.hpp>
#include <uidsync/imap/uid_set.hpp>

#include <cstdint>
#include <map>
#include <vector>

namespace uidsync::sync {

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
  // With `incremental`: the UIDs the server reported as expunged since then
  // (VANISHED (EARLIER)); they are not in by_uid.
  imap::UidSet vanished;
};

} // namespace uidsync::sync
