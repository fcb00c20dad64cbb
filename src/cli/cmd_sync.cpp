// SPDX-License-Identifier: GPL-3.0-or-later
// uidsync sync [ACCOUNT…]: so far, config and account locks only.
#include <uidsync/cli/commands.hpp>
#include <uidsync/core/exit_code.hpp>
#include <uidsync/core/paths.hpp>
#include <uidsync/util/lock.hpp>
#include <uidsync/util/log.hpp>

#include <ostream>

namespace uidsync::cli {

int cmd_sync(const Context& ctx, const SyncOptions& options) {
  auto config = ctx.load_config();
  if (!config) {
    ctx.report(config.error());
    return core::to_int(core::ExitCode::usage);
  }
  auto accounts = select_accounts(*config, options.accounts);
  if (!accounts) {
    ctx.report(accounts.error());
    return core::to_int(core::ExitCode::usage);
  }
  auto state = core::state_dir(*config);
  if (state) {
    state = core::ensure_private_dir(*state);
  }
  if (!state) {
    ctx.report(state.error());
    return core::to_int(core::ExitCode::failed);
  }
  // Every selected account is locked before any work starts, so a second run
  // fails fast instead of half-way through.
  std::vector<util::AccountLock> locks;
  for (const core::Account* account : *accounts) {
    auto lock = util::AccountLock::acquire(core::lock_file(*state, account->name));
    if (!lock) {
      ctx.err << "uidsync: " << lock.error().message << '\n';
      return core::to_int(lock.error().kind == util::LockError::Kind::held
                              ? core::ExitCode::tempfail
                              : core::ExitCode::failed);
    }
    util::logger("cli")->debug("locked account '{}' ({})", account->name, lock->path().string());
    locks.push_back(std::move(*lock));
  }
  return ctx.not_implemented("sync");
}

} // namespace uidsync::cli
