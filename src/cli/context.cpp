// SPDX-License-Identifier: GPL-3.0-or-later
// What every command shares: config loading, error printing, account selection.
#include <uidsync/cli/commands.hpp>
#include <uidsync/cli/config_file.hpp>
#include <uidsync/core/exit_code.hpp>
#include <uidsync/core/paths.hpp>
#include <uidsync/util/printable.hpp>

#include <ostream>

namespace uidsync::cli {

core::Result<core::Config> Context::load_config() const {
  if (!options.config_file.empty()) {
    return cli::load_config(options.config_file);
  }
  auto path = core::default_config_file();
  UIDSYNC_TRY(path);
  return cli::load_config(*path);
}

void Context::report(const core::Error& error) const {
  std::string_view message = error.message;
  while (!message.empty()) {
    const auto end = message.find('\n');
    // Messages quote server text (folder names, BYE texts): never raw to a terminal.
    err << "uidsync: " << util::printable(message.substr(0, end)) << '\n';
    message = end == std::string_view::npos ? std::string_view{} : message.substr(end + 1);
  }
  if (!error.hint.empty()) {
    err << "uidsync: " << error.hint << '\n';
  }
}

int Context::not_implemented(std::string_view name) const {
  err << "uidsync: '" << name << "' is not implemented yet\n";
  return core::to_int(core::ExitCode::usage);
}

util::Expected<Context::Loaded, int>
Context::load_accounts(const std::vector<std::string>& names) const {
  Loaded loaded;
  auto config = load_config();
  if (!config) {
    report(config.error());
    return util::unexpected(core::to_int(core::ExitCode::usage));
  }
  loaded.config = std::move(*config);
  // The pointers below stay valid when `loaded` moves: a moved vector keeps its elements.
  auto accounts = select_accounts(loaded.config, names);
  if (!accounts) {
    report(accounts.error());
    return util::unexpected(core::to_int(core::ExitCode::usage));
  }
  loaded.accounts = std::move(*accounts);
  return loaded;
}

core::Result<std::vector<const core::Account*>>
select_accounts(const core::Config& config, const std::vector<std::string>& names) {
  std::vector<const core::Account*> selected;
  if (names.empty()) {
    for (const auto& account : config.accounts) {
      selected.push_back(&account);
    }
    return selected;
  }
  for (const auto& name : names) {
    const core::Account* account = config.find(name);
    if (account == nullptr) {
      std::string guess;
      std::string known;
      for (const auto& candidate : config.accounts) {
        known += (known.empty() ? "" : ", ") + candidate.name;
        if (guess.empty() && edit_distance(name, candidate.name) <= 2) {
          guess = candidate.name;
        }
      }
      return core::fail(
          core::Scope::fatal, "no account '" + name + "' in " + config.source.string(),
          guess.empty() ? "accounts there: " + known : "did you mean '" + guess + "'?");
    }
    selected.push_back(account);
  }
  return selected;
}

std::string_view to_string(QuarantineOptions::Action action) {
  switch (action) {
  case QuarantineOptions::Action::list:
    return "list";
  case QuarantineOptions::Action::show:
    return "show";
  case QuarantineOptions::Action::retry:
    return "retry";
  case QuarantineOptions::Action::forget:
    return "forget";
  case QuarantineOptions::Action::expunge:
    return "expunge";
  }
  return "list";
}

util::Expected<std::filesystem::path, int>
Context::private_state_dir(const core::Config& config) const {
  auto state = core::state_dir(config);
  if (state) {
    state = core::ensure_private_dir(*state);
  }
  if (!state) {
    report(state.error());
    return util::unexpected(core::to_int(core::ExitCode::failed));
  }
  return *state;
}

} // namespace uidsync::cli
