// SPDX-License-Identifier: GPL-3.0-or-later
// Test-only crash points in the delivery protocol.
#include "crash_hook.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdlib>

namespace uidsync::maildir::detail {

namespace {
std::atomic<long> g_steps{0};
}

void crash_point() {
  const char* limit = std::getenv("UIDSYNC_TEST_CRASH_AFTER_STEP");
  if (limit == nullptr) {
    return;
  }
  if (++g_steps == std::atol(limit)) {
    ::_exit(100);
  }
}

} // namespace uidsync::maildir::detail
