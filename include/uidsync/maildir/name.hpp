// SPDX-License-Identifier: GPL-3.0-or-later
// Maildir file names: "<secs>.<unique>.<host>,U=<uid>:2,<flags>", and the names
// other tools write (mbsync "…,U=<uid>:2,FS", OfflineIMAP "…,U=<uid>,FMD5=<md5>:2,S").
#pragma once

#include <uidsync/core/types.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace uidsync::maildir {

struct ParsedName {
  std::string base;  // before the first ',' and the ':' info: "<secs>.<unique>.<host>"
  core::Uid uid = 0; // from ",U=<n>"; 0 when absent or not a valid non-zero 32-bit number
  std::string fmd5;  // OfflineIMAP's ",FMD5=<hex>" (MD5 of the folder name); empty if absent
  core::Flags flags; // from ":2,<letters>"; letters other than DFPRST are ignored
  std::string other_letters; // info letters we do not know (other tools' keywords), kept on rename
  bool has_info = false;     // the name has a ":2," part
  bool operator==(const ParsedName&) const = default;
};

// Parses a file name (no directory). Returns nullopt for names that are not
// messages: empty, or starting with '.' (editors' and Dovecot's own files).
std::optional<ParsedName> parse_name(std::string_view file_name);

// A new unique base "<secs>.P<pid>Q<n>M<usec>.<host>", unique across processes
// (pid), threads (an atomic counter) and time. The host name is escaped as the
// Maildir spec asks: '/' -> "\057", ':' -> "\072", and ',' -> "\054" (so that
// it cannot fake a ",U=" tag).
std::string make_base(std::int64_t secs);

// "<base>,U=<uid>:2,<flags>" (without ",U=" when `uid` is 0).
std::string format_name(std::string_view base, core::Uid uid, core::Flags flags);

// `file_name` with its ":2," info replaced by `flags` (plus the letters it had
// that we do not know, in ASCII order); all ',' tags are kept.
std::string with_flags(std::string_view file_name, core::Flags flags);

} // namespace uidsync::maildir
