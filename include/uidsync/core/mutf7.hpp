// SPDX-License-Identifier: GPL-3.0-or-later
// Modified UTF-7 (RFC 3501 §5.1.3), the encoding of IMAP mailbox names.
#pragma once

#include <uidsync/core/error.hpp>

#include <string>
#include <string_view>

namespace uidsync::core {

// Encodes the UTF-8 mailbox name `utf8` to modified UTF-7: printable US-ASCII stays
// as is ('&' becomes "&-"), everything else goes into "&<modified base64 of UTF-16>-".
// Fails (Scope::folder) if `utf8` is not valid UTF-8 or contains NUL.
Result<std::string> mutf7_encode(std::string_view utf8);

// Decodes the modified UTF-7 mailbox name `mutf7` to UTF-8, strictly: fails
// (Scope::folder) on a raw byte outside 0x20..0x7e, an unterminated or malformed
// base64 run, a printable ASCII character or NUL hidden in base64, an unpaired
// UTF-16 surrogate, non-zero padding bits, or any other non-canonical form (such as
// two adjacent base64 runs). The error names the offending byte offset.
Result<std::string> mutf7_decode(std::string_view mutf7);

} // namespace uidsync::core
