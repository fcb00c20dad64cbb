// SPDX-License-Identifier: GPL-3.0-or-later
// uidsync sync [ACCOUNT…]: for each account, one connection, its folders one after
// the other through sync::sync_folder().
#include <uidsync/cli/commands.hpp>
#include <uidsync/cli/connect.hpp>
#include <uidsync/core/exit_code.hpp>
#include <uidsync/core/paths.hpp>
#include <uidsync/imap/session.hpp>
#include <uidsync/maildir/layout.hpp>
#include <uidsync/state/db.hpp>
#include <uidsync/sync/executor.hpp>
#include <uidsync/util/lock.hpp>
#include <uidsync/util/log.hpp>

#include <fnmatch.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <memory>
#include <ostream>

namespace uidsync::cli {

namespace {

// `name` matches a glob of `include` and no "!glob" of it; with non-empty
// `restrict` (-f), also one of those.
bool wanted(const std::string& name, const std::vector<std::string>& include,
            const std::vector<std::string>& restrict) {
  bool in = false;
  for (const auto& glob : include) {
    if (!glob.empty() && glob.front() == '!') {
      if (::fnmatch(glob.c_str() + 1, name.c_str(), 0) == 0) {
        return false;
      }
    } else if (::fnmatch(glob.c_str(), name.c_str(), 0) == 0) {
      in = true;
    }
  }
  if (!in || restrict.empty()) {
    return in;
  }
  return std::any_of(restrict.begin(), restrict.end(), [&](const std::string& glob) {
    return ::fnmatch(glob.c_str(), name.c_str(), 0) == 0;
  });
}

struct RemoteFolder {
  std::string name;
  char delimiter = '\0';
};

struct AccountRun {
  const Context& ctx;
  const SyncOptions& options;
  const std::filesystem::path& state_dir;
  imap::Trace* trace;
  sync::Stats stats;
  bool folder_failed = false;

  void folder_error(const core::Account& account, const core::Error& e) {
    ctx.report({e.scope, "account " + account.name + ": " + e.message, e.hint});
    folder_failed = true;
  }

  void print_plan(const std::string& folder, const sync::Plan& plan) {
    ctx.out << "  " << folder << ": " << plan.fetch.size() << " to fetch, " << plan.adopt.size()
            << " to adopt, " << plan.remote_flags.size() << " server flag changes, "
            << plan.local_flags.size() << " local flag changes, " << plan.local_deletes.size()
            << " local deletions, " << plan.remote_deletes.size() << " server deletions, "
            << plan.appends.size() << " uploads (not built yet)";
    if (plan.held_reason != sync::HoldReason::none) {
      ctx.out << ", " << plan.held_local_deletes.size() + plan.held_remote_deletes.size()
              << " deletions held";
    }
    ctx.out << '\n';
  }

  core::Result<void> run(const core::Account& account) {
    auto transport = connect_account(account);
    UIDSYNC_TRY(transport);
    sync::BodyRouter router;
    imap::SessionOptions so;
    so.trace = trace;
    so.body_sink = &router;
    imap::Session session(**transport, so);
    const auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(account.timeout);
    // RFC 3501 §6.2: capabilities may change after login (Dovecot announces
    // UIDPLUS only then), and the executor needs the real list.
    UIDSYNC_TRY(session.refresh_capabilities(timeout));

    auto listed = list_folders(session, timeout);
    UIDSYNC_TRY(listed);
    std::vector<RemoteFolder> folders;
    for (const auto& m : *listed) {
      if (wanted(m.name, account.folders, options.folders)) {
        folders.push_back({m.name, m.delimiter.value_or('\0')});
      }
    }

    auto db = state::Db::open(state_dir / (account.name + ".db"));
    UIDSYNC_TRY(db);
    sync::ExecuteOptions eo;
    eo.dry_run = options.dry_run;
    eo.timeout = timeout;
    eo.plan.direction = account.direction == core::Direction::pull ? sync::Direction::pull
                                                                   : sync::Direction::two_way;
    eo.plan.guard_percent = static_cast<unsigned>(account.guard.max_delete_percent);
    eo.plan.guard_count = static_cast<unsigned>(account.guard.max_delete_count);
    eo.plan.allow_mass_delete = options.allow_mass_delete;
    if (options.dry_run) {
      ctx.out << "account " << account.name << " (dry run, nothing changed):\n";
    }
    for (const auto& f : folders) {
      auto result = sync_one(account, session, router, *db, f, eo);
      if (!result) {
        if (result.error().scope >= core::Scope::account) {
          return result;
        }
        folder_error(account, result.error());
      }
    }
    (void)session.logout(timeout);
    return {};
  }

  core::Result<void> sync_one(const core::Account& account, imap::Session& session,
                              sync::BodyRouter& router, state::Db& db, const RemoteFolder& f,
                              const sync::ExecuteOptions& eo) {
    auto path = maildir::folder_path(account.maildir, f.name, f.delimiter,
                                     account.layout == core::Layout::fs
                                         ? maildir::Layout::fs
                                         : maildir::Layout::maildir_plus_plus);
    UIDSYNC_TRY(path);
    auto stored = db.folder(f.name);
    UIDSYNC_TRY(stored);
    state::FolderRow row;
    if (stored->has_value()) {
      row = **stored;
    } else {
      row.name = f.name;
      row.local_path = std::filesystem::relative(*path, account.maildir).string();
    }
    const bool exists = std::filesystem::is_directory(*path);
    if (eo.dry_run && !exists) {
      // Nothing local yet: everything on the server is new.
      ctx.out << "  " << f.name << ": the local folder does not exist yet; all of it is fetched\n";
      return {};
    }
    if (!eo.dry_run) {
      std::error_code ec;
      std::filesystem::create_directories(account.maildir, ec);
    }
    auto folder = maildir::Folder::open(account.maildir, *path, !eo.dry_run);
    UIDSYNC_TRY(folder);
    if (row.id == 0 && !eo.dry_run) {
      auto id = db.put_folder(row);
      UIDSYNC_TRY(id);
      row.id = *id;
    }
    auto folder_options = eo;
    // A folder synced before whose directory vanished must not delete server mail.
    folder_options.plan.local_folder_exists = exists || row.uidvalidity == 0;
    auto plan = sync::sync_folder(session, router, *folder, db, row, folder_options, stats);
    UIDSYNC_TRY(plan);
    if (eo.dry_run) {
      print_plan(f.name, *plan);
      return {};
    }
    row.last_sync = static_cast<std::int64_t>(std::time(nullptr));
    UIDSYNC_TRY(db.put_folder(row));
    return {};
  }
};

} // namespace

int cmd_sync(const Context& ctx, const SyncOptions& options) {
  auto loaded = ctx.load_accounts(options.accounts);
  if (!loaded) {
    return loaded.error();
  }
  const auto& accounts = loaded->accounts;
  auto state = core::state_dir(loaded->config);
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
  for (const core::Account* account : accounts) {
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
  auto trace = open_trace(options.trace_file);
  if (!trace) {
    ctx.report(trace.error());
    return core::to_int(core::ExitCode::usage);
  }
  int rc = core::to_int(core::ExitCode::ok);
  for (const core::Account* account : accounts) {
    AccountRun run{ctx, options, *state, *trace ? &(*trace)->trace : nullptr, {}, false};
    auto done = run.run(*account);
    if (!done) {
      ctx.report({done.error().scope, "account " + account->name + ": " + done.error().message,
                  done.error().hint});
    }
    const auto& s = run.stats;
    if (!done || run.folder_failed) {
      rc = core::to_int(core::ExitCode::failed);
    } else if (s.held != 0 && rc == core::to_int(core::ExitCode::ok)) {
      rc = core::to_int(core::ExitCode::attention); // deletions held by the guard
    }
    if (ctx.options.verbosity > 0 && !options.dry_run) {
      ctx.out << "account " << account->name << ": " << s.fetched << " new, "
              << s.remote_flags + s.local_flags << " flags, " << s.local_deletes + s.remote_deletes
              << " deleted";
      if (s.adopted != 0) {
        ctx.out << ", " << s.adopted << " adopted";
      }
      if (s.appends_pending != 0) {
        ctx.out << ", " << s.appends_pending << " local new not uploaded (not built yet)";
      }
      if (s.held != 0) {
        ctx.out << ", " << s.held << " deletions held";
      }
      if (s.failed != 0) {
        ctx.out << ", " << s.failed << " failed";
      }
      ctx.out << '\n';
    }
  }
  return rc;
}

} // namespace uidsync::cli
