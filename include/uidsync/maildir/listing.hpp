// SPDX-License-Identifier: GPL-3.0-or-later
// Maildir directory tree -> folder names: the reverse of maildir::folder_path().
#pragma once

#include <uidsync/core/error.hpp>
#include <uidsync/maildir/layout.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace uidsync::maildir {

struct LocalFolder {
  std::string name;           // components joined with '/', e.g. "Work/Projects"
  std::filesystem::path path; // the folder's directory
  bool operator==(const LocalFolder&) const = default;
};

// The Maildir folders under `root`, sorted by name. A directory is a folder when
// it has both `cur/` and `new/`; anything else (a plain parent directory, the
// `.notmuch` database, files) is not.
//  - Layout::fs: every such directory below `root`, named by its relative path;
//    nothing inside `cur/`, `new/` or `tmp/` is looked at. `root` itself is not a folder.
//  - Layout::maildir_plus_plus: `root/INBOX` is "INBOX"; `root/.A.B` is "A/B". Other
//    entries (no leading '.', an empty component) are ignored.
// Names are returned as found (they may not be valid UTF-8: pass them through
// folder_path() before use). A missing `root` gives an empty list. Fails with
// Scope::account, naming the directory, when a directory cannot be read.
core::Result<std::vector<LocalFolder>> list_folders(const std::filesystem::path& root,
                                                    Layout layout);

} // namespace uidsync::maildir
