// SPDX-License-Identifier: GPL-3.0-or-later
// Turning the colour of log lines on or off from the command line (--color).
#pragma once

namespace uidsync::util {

// Sets whether log lines on stderr carry colour, overriding the guess made when
// the first logger was created (use_colour() in log.hpp). Applies to every layer
// logger, existing and future: they share one stderr sink.
void set_log_colour(bool colour);

} // namespace uidsync::util
