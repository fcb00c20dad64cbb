// SPDX-License-Identifier: GPL-3.0-or-later
// uidsync status: options are parsed; the command itself is still to be built.
#include <uidsync/cli/commands.hpp>

namespace uidsync::cli {

int cmd_status(const Context& ctx, const StatusOptions& /*options*/) {
  return ctx.not_implemented("status");
}

} // namespace uidsync::cli
