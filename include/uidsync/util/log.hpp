// SPDX-License-Identifier: GPL-3.0-or-later
// Logging: one named spdlog logger per layer ("net", "imap", "state", ...), all
// writing to stderr. Never log a password, token or AUTHENTICATE payload: pass
// protocol lines through util::redact_line() first (see redact.hpp).
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string_view>

namespace uidsync::util {

// The logger for `layer`, created on first use with the current global level.
std::shared_ptr<spdlog::logger> logger(std::string_view layer);

// Sets the level of every layer logger (existing and future). Verbosity counts
// follow the CLI: -q = error, default = warn, -v = info, -vv = debug, -vvv = trace.
void set_verbosity(int verbosity);

// Whether log lines get colour: only on a terminal, and never when the NO_COLOR
// environment variable (`no_color`, may be null) is set and not empty.
bool use_colour(bool stderr_is_tty, const char* no_color);

} // namespace uidsync::util
