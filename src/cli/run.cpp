// SPDX-License-Identifier: GPL-3.0-or-later
// The command line: CLI11 parses, run() dispatches. Options may come before or
// after the subcommand (`uidsync -v sync` and `uidsync sync -v`).
#include <uidsync/cli/commands.hpp>
#include <uidsync/cli/config_file.hpp>
#include <uidsync/cli/run.hpp>
#include <uidsync/core/exit_code.hpp>
#include <uidsync/util/log.hpp>
#include <uidsync/util/log_colour.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <array>
#include <exception>
#include <iostream>

namespace uidsync::cli {

namespace {

struct Parsed {
  GlobalOptions global;
  bool quiet = false;
  std::string config_file;
  std::string colour = "auto";
  SyncOptions sync;
  FoldersOptions folders;
  StatusOptions status;
  QuarantineOptions quarantine;
  DoctorOptions doctor;
  CheckConfigOptions check_config;
};

struct Commands {
  CLI::App* sync = nullptr;
  CLI::App* folders = nullptr;
  CLI::App* status = nullptr;
  CLI::App* quarantine = nullptr;
  CLI::App* doctor = nullptr;
  CLI::App* check_config = nullptr;
};

void add_quarantine_actions(CLI::App& quarantine, QuarantineOptions& q) {
  quarantine.require_subcommand(1);
  struct ActionSpec {
    QuarantineOptions::Action action;
    const char* help;
  };
  for (const auto& [action, help] :
       {ActionSpec{QuarantineOptions::Action::list, "List quarantined messages"},
        ActionSpec{QuarantineOptions::Action::show, "Show one entry with its evidence"},
        ActionSpec{QuarantineOptions::Action::retry, "Retry entries on the next sync"},
        ActionSpec{QuarantineOptions::Action::forget,
                   "Drop entries (the message stays on the server)"},
        ActionSpec{QuarantineOptions::Action::expunge, "Delete the messages on the server"}}) {
    auto* sub = quarantine.add_subcommand(std::string(to_string(action)), help);
    const auto chosen = action;
    sub->callback([&q, chosen] { q.action = chosen; });
    sub->add_option("-a,--account", q.account, "Only this account");
    sub->add_option("entries", q.entries,
                    action == QuarantineOptions::Action::list
                        ? "ACCOUNT [FOLDER]"
                        : "ACCOUNT FOLDER UID…, as printed by 'list' (ACCOUNT: unless --account)");
    if (action == QuarantineOptions::Action::retry || action == QuarantineOptions::Action::forget) {
      sub->add_flag("--all", q.all, "Every entry");
    }
    if (action == QuarantineOptions::Action::expunge) {
      sub->add_flag("-y,--yes", q.yes, "Do not ask for confirmation");
    }
  }
}

Commands build(CLI::App& app, Parsed& p) {
  app.fallthrough();
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("uidsync ") + UIDSYNC_VERSION);
  app.add_option("-c,--config", p.config_file,
                 "Config file (default: $XDG_CONFIG_HOME/uidsync/config.toml)");
  app.add_flag("-v,--verbose", p.global.verbosity, "More log output (repeat: -vv, -vvv)");
  app.add_flag("-q,--quiet", p.quiet, "Only errors");
  app.add_flag("--json", p.global.json, "Machine-readable output (schema: docs/json.md)");
  app.add_option("--color", p.colour,
                 "Colour on stderr: auto (default; off with NO_COLOR), "
                 "always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}));

  Commands c;
  c.sync = app.add_subcommand("sync", "Synchronize accounts (all when none is named)");
  c.sync->add_option("accounts", p.sync.accounts, "Accounts to sync");
  c.sync->add_flag("-n,--dry-run", p.sync.dry_run, "Show what would be done, change nothing");
  c.sync->add_option("-f,--folder", p.sync.folders, "Only folders matching GLOB (repeatable)");
  c.sync->add_option("-j,--jobs", p.sync.jobs, "Connections per account")->check(CLI::Range(1, 16));
  c.sync->add_flag("--allow-mass-delete", p.sync.allow_mass_delete,
                   "Apply deletions held by the mass-deletion guard");
  c.sync->add_option("--trace", p.sync.trace_file, "Write a redacted protocol transcript");

  c.folders = app.add_subcommand("folders", "List the folders and how they map to Maildirs");
  c.folders->add_option("accounts", p.folders.accounts, "Accounts");
  c.folders->add_option("--trace", p.folders.trace_file, "Write a redacted protocol transcript");
  c.folders->add_flag("--mutt", p.folders.mutt,
                      "Print a mutt 'mailboxes' line of the synced folders per account");
  c.status = app.add_subcommand("status", "Show the last sync, quarantine and anomalies");
  c.status->add_option("accounts", p.status.accounts, "Accounts");
  c.quarantine = app.add_subcommand("quarantine", "Manage messages that could not be synced");
  add_quarantine_actions(*c.quarantine, p.quarantine);
  c.doctor = app.add_subcommand("doctor", "Check a server and write a report for its admins");
  c.doctor->add_option("account", p.doctor.account, "Account")->required();
  c.doctor->add_option("folders", p.doctor.folders, "Folders to check (default: INBOX)");
  c.doctor->add_option("--sample", p.doctor.sample, "Newest messages to fetch per folder")
      ->check(CLI::Range(0, 1000))
      ->capture_default_str();
  c.check_config =
      app.add_subcommand("check-config", "Validate the config and show the resolved accounts");
  return c;
}

int dispatch(const Commands& c, Parsed& p, std::ostream& out, std::ostream& err) {
  p.global.config_file = p.config_file;
  if (p.quiet) {
    p.global.verbosity = -1;
  }
  util::set_verbosity(p.global.verbosity);
  p.global.colour = parse_colour_choice(p.colour).value_or(ColourChoice::automatic);
  util::set_log_colour(
      decide_display(stderr_terminal(), p.global.colour, p.global.verbosity).colour);
  const Context ctx{p.global, out, err};
  if (c.sync->parsed()) {
    return cmd_sync(ctx, p.sync);
  }
  if (c.folders->parsed()) {
    return cmd_folders(ctx, p.folders);
  }
  if (c.status->parsed()) {
    return cmd_status(ctx, p.status);
  }
  if (c.quarantine->parsed()) {
    return cmd_quarantine(ctx, p.quarantine);
  }
  if (c.doctor->parsed()) {
    return cmd_doctor(ctx, p.doctor);
  }
  return cmd_check_config(ctx, p.check_config);
}

constexpr std::array<std::string_view, 6> k_commands{"sync",       "folders", "status",
                                                     "quarantine", "doctor",  "check-config"};

// CLI11 reports an unknown command as "A subcommand is required", which hides the
// typo: the first word that is not an option (or -c's value) must be a command.
bool unknown_command(const std::vector<std::string>& args, std::ostream& err) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "-c" || arg == "--config") {
      ++i;
      continue;
    }
    if (arg.empty() || arg.front() == '-') {
      continue;
    }
    if (std::find(k_commands.begin(), k_commands.end(), arg) != k_commands.end()) {
      return false;
    }
    std::string guess;
    for (std::string_view command : k_commands) {
      if (guess.empty() && edit_distance(arg, command) <= 2) {
        guess = command;
      }
    }
    err << "uidsync: unknown command '" << arg << "'; "
        << (guess.empty() ? std::string("commands are sync, folders, status, quarantine, doctor, "
                                        "check-config")
                          : "did you mean '" + guess + "'?")
        << "\nRun with --help for more information.\n";
    return true;
  }
  return false;
}

} // namespace

int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  try {
    CLI::App app{"uidsync: keep a local Maildir in step with IMAP accounts", "uidsync"};
    Parsed p;
    const Commands commands = build(app, p);
    if (unknown_command(args, err)) {
      return core::to_int(core::ExitCode::usage);
    }
    // CLI11 takes the arguments in reverse order.
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    try {
      app.parse(reversed);
    } catch (const CLI::ParseError& e) {
      const int code = app.exit(e, out, err);
      return code == 0 ? core::to_int(core::ExitCode::ok) : core::to_int(core::ExitCode::usage);
    }
    return dispatch(commands, p, out, err);
  } catch (const std::exception& e) {
    err << "uidsync: internal error: " << e.what() << '\n';
    return core::to_int(core::ExitCode::failed);
  }
}

int run(int argc, char** argv) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    args.emplace_back(argv[i]);
  }
  return run(args, std::cout, std::cerr);
}

} // namespace uidsync::cli
