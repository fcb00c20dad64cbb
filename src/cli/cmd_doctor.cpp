// SPDX-License-Identifier: GPL-3.0-or-later
// uidsync doctor: options are parsed; the command itself is still to be built.
#include <uidsync/cli/commands.hpp>

namespace uidsync::cli {

int cmd_doctor(const Context& ctx, const DoctorOptions& /*options*/) {
  return ctx.not_implemented("doctor");
}

} // namespace uidsync::cli
