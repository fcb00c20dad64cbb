// SPDX-License-Identifier: GPL-3.0-or-later
// --color for log lines: the shared stderr sink's colour mode.
#include <uidsync/util/log.hpp>
#include <uidsync/util/log_colour.hpp>

#include <spdlog/sinks/stdout_color_sinks.h>

#include <memory>

namespace uidsync::util {

void set_log_colour(bool colour) {
  // Every layer logger writes to the same sink; any logger reaches it.
  for (const auto& sink : logger("cli")->sinks()) {
    if (auto console = std::dynamic_pointer_cast<spdlog::sinks::stderr_color_sink_mt>(sink)) {
      console->set_color_mode(colour ? spdlog::color_mode::always : spdlog::color_mode::never);
    }
  }
}

} // namespace uidsync::util
