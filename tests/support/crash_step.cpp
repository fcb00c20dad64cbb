// SPDX-License-Identifier: GPL-3.0-or-later
// Runs the binary with the crash hook armed, for interrupt-and-resume tests.
#include "support/crash_step.hpp"

#include "support/child_process.hpp"

#include <string>
#include <vector>

namespace uidsync::test {

CommandResult run_crashing_after(const std::vector<std::string>& argv, int step) {
  const std::string k_var = "UIDSYNC_TEST_CRASH_AFTER_STEP";
  ChildOptions options;
  if (step > 0) {
    options.env.push_back(k_var + "=" + std::to_string(step));
  } else {
    options.unset_env.push_back(k_var);
  }
  auto r = run_child(argv, options);
  return {r.status, std::move(r.output)};
}

} // namespace uidsync::test
