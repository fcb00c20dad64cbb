// SPDX-License-Identifier: GPL-3.0-or-later
// uidsync folders: options are parsed; the command itself is still to be built.
#include <uidsync/cli/commands.hpp>

namespace uidsync::cli {

int cmd_folders(const Context& ctx, const FoldersOptions& /*options*/) {
  return ctx.not_implemented("folders");
}

} // namespace uidsync::cli
