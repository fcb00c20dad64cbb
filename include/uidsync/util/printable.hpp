// SPDX-License-Identifier: GPL-3.0-or-later
// Making text from a server safe to show on a terminal: server-controlled bytes
// (response texts, folder names, headers) must never reach stderr as control
// characters (an ESC sequence can rewrite the screen or the window title) or as
// invalid UTF-8.
#pragma once

#include <string>
#include <string_view>

namespace uidsync::util {

// `text` with every C0 control byte except TAB, every DEL, every C1 control
// (U+0080..U+009F) and every byte that is not part of a well-formed UTF-8 sequence
// (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF) written as `\xHH`;
// a backslash that already starts `\x` becomes `\\x` so the output is unambiguous.
// Well-formed, printable UTF-8 comes back unchanged. Never fails.
std::string printable(std::string_view text);

} // namespace uidsync::util
