// SPDX-License-Identifier: GPL-3.0-or-later
// Folder name -> Maildir directory. Server-provided names are untrusted input.
#pragma once

#include <uidsync/core/error.hpp>

#include <filesystem>
#include <string_view>

namespace uidsync::maildir {

enum class Layout {
  fs,                // "Work/Projects" -> <root>/Work/Projects (default)
  maildir_plus_plus, // "Work/Projects" -> <root>/.Work.Projects
};

// Maps the folder `name` to its directory under `root`.
//
// `name` is the server's name already decoded from modified UTF-7 to UTF-8
// (core::mutf7_decode); `separator` is the hierarchy delimiter the server gave
// in its LIST response, or '\0' for a flat namespace (LIST delimiter NIL).
// "INBOX" (any case, RFC 3501 §5.1) maps to <root>/INBOX in both layouts.
//
// Fails with Scope::folder, naming the folder, if the name is not valid UTF-8 or
// holds NUL or a control character, starts with the separator (an absolute
// path), has an empty, "." or ".." component, a component with '/' (when '/' is
// not the separator), a component longer than 255 bytes, a nested component
// named cur/new/tmp (fs: it would land inside a Maildir's own directories), or a
// component with '.' (maildir++: it would name another folder). The result is
// always strictly inside `root`; nothing is created.
core::Result<std::filesystem::path> folder_path(const std::filesystem::path& root,
                                                std::string_view name, char separator,
                                                Layout layout);

// True if `text` is well-formed UTF-8 (no overlong forms, surrogates, or code
// points above U+10FFFF).
bool is_valid_utf8(std::string_view text);

} // namespace uidsync::maildir
