// SPDX-License-Identifier: GPL-3.0-or-later
#include <uidsync/cli/run.hpp>
#include <uidsync/core/exit_code.hpp>

#include <cstdio>
#include <cstring>

namespace uidsync::cli {

int run(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--version") == 0) {
    std::printf("uidsync %s\n", UIDSYNC_VERSION);
    return core::to_int(core::ExitCode::ok);
  }
  std::fprintf(stderr, "uidsync: no command given\n");
  return core::to_int(core::ExitCode::usage);
}

} // namespace uidsync::cli
