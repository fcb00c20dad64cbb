// SPDX-License-Identifier: GPL-3.0-or-later
// One function per subcommand, with its parsed options. run() fills these in from
// the command line; a command returns the process exit code (core::ExitCode).
// Commands print results to Context::out and problems to Context::err.
#pragma once

#include <uidsync/cli/progress.hpp>
#include <uidsync/core/config.hpp>
#include <uidsync/core/error.hpp>

#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

namespace uidsync::cli {

struct GlobalOptions {
  std::filesystem::path config_file;             // -c; empty: the XDG default
  int verbosity = 0;                             // -q = -1, -v = 1, -vv = 2, -vvv = 3
  bool json = false;                             // --json: machine-readable output
  ColourChoice colour = ColourChoice::automatic; // --color
};

struct Context {
  GlobalOptions options;
  std::ostream& out;
  std::ostream& err;

  // Loads and checks the config named by -c or the default one.
  core::Result<core::Config> load_config() const;

  // The config and the accounts named in `names` (all when empty). On failure
  // (a bad config, an unknown account) the error is already reported, and the
  // result carries the exit code to return.
  struct Loaded {
    core::Config config;
    std::vector<const core::Account*> accounts; // point into `config`
  };
  util::Expected<Loaded, int> load_accounts(const std::vector<std::string>& names) const;
  // Prints `error` on err, one "uidsync: " line per message line, then the hint.
  void report(const core::Error& error) const;

  // The state directory of `config` (core::state_dir), created private (0700). On
  // failure the error is reported and the exit code returned.
  util::Expected<std::filesystem::path, int> private_state_dir(const core::Config& config) const;
  // Prints "uidsync: 'NAME' is not implemented yet" and returns ExitCode::usage.
  int not_implemented(std::string_view name) const;
};

struct SyncOptions {
  std::vector<std::string> accounts; // empty: all
  bool dry_run = false;
  std::vector<std::string> folders; // -f globs, on top of the config's
  int jobs = 0;                     // -j; 0: the account's max_connections
  bool allow_mass_delete = false;
  std::filesystem::path trace_file; // --trace: redacted protocol transcript
};

struct FoldersOptions {
  std::vector<std::string> accounts;
  std::filesystem::path trace_file; // --trace: redacted protocol transcript
  bool mutt = false;                // --mutt: a `mailboxes` line per account
};

struct StatusOptions {
  std::vector<std::string> accounts;
};

struct QuarantineOptions {
  enum class Action { list, show, retry, forget, expunge };
  Action action = Action::list;
  std::string account;              // --account; empty: all
  std::vector<std::string> entries; // the quarantine entries named on the command line
  bool all = false;                 // retry/forget --all
  bool yes = false;                 // expunge without asking
};

struct DoctorOptions {
  std::string account;
  std::vector<std::string> folders; // empty: INBOX
  int sample = 10;                  // --sample: the newest messages fetched per folder
};

struct CheckConfigOptions {};

int cmd_sync(const Context& ctx, const SyncOptions& options);
int cmd_folders(const Context& ctx, const FoldersOptions& options);
int cmd_status(const Context& ctx, const StatusOptions& options);
int cmd_quarantine(const Context& ctx, const QuarantineOptions& options);
int cmd_doctor(const Context& ctx, const DoctorOptions& options);
// Validates the config and prints the resolved accounts (JSON with --json),
// secrets masked. Never runs password_cmd or oauth2_token_cmd.
int cmd_check_config(const Context& ctx, const CheckConfigOptions& options);

// The accounts named in `names` (all when empty), in config order. Fails (fatal,
// exit code 2) on an unknown name, with a "did you mean".
core::Result<std::vector<const core::Account*>>
select_accounts(const core::Config& config, const std::vector<std::string>& names);

std::string_view to_string(QuarantineOptions::Action action);

// The version of every --json document, its first member `"schema": 1`. Adding a
// field keeps the number; removing or renaming one, or changing its type or
// meaning, bumps it. docs/json.md documents every document of this version.
inline constexpr int k_json_schema = 1;

// The start of a --json document: `{"schema": 1, ` (the members follow).
std::string json_document_start();

// `text` as a JSON string literal, quotes included (control characters escaped).
std::string json_string(std::string_view text);

} // namespace uidsync::cli
