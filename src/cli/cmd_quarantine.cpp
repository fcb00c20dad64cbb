// SPDX-License-Identifier: GPL-3.0-or-later
// uidsync quarantine list|show|retry|forget|expunge: options are parsed; the
// actions are still to be built.
#include <uidsync/cli/commands.hpp>

#include <string>

namespace uidsync::cli {

int cmd_quarantine(const Context& ctx, const QuarantineOptions& options) {
  return ctx.not_implemented("quarantine " + std::string(to_string(options.action)));
}

} // namespace uidsync::cli
