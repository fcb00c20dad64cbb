// SPDX-License-Identifier: GPL-3.0-or-later
// uidsync sync [ACCOUNT…]: locks the accounts, runs sync::sync_account() for each
// (a pool of connections per account), shows progress on a terminal, reports,
// runs post_sync_cmd, and picks the exit code.
#include <uidsync/cli/commands.hpp>
#include <uidsync/cli/connect.hpp>
#include <uidsync/cli/progress.hpp>
#include <uidsync/cli/sync_report.hpp>
#include <uidsync/core/exit_code.hpp>
#include <uidsync/core/paths.hpp>
#include <uidsync/sync/account.hpp>
#include <uidsync/util/lock.hpp>
#include <uidsync/util/log.hpp>
#include <uidsync/util/process.hpp>
#include <uidsync/util/printable.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <ostream>
#include <thread>

namespace uidsync::cli {

namespace {

void print_plan(std::ostream& out, const sync::FolderResult& f) {
  if (f.local_missing) {
    out << "  " << f.name << ": the local folder does not exist yet; all of it is fetched\n";
    return;
  }
  if (!f.plan) {
    return;
  }
  const auto& plan = *f.plan;
  out << "  " << f.name << ": " << plan.fetch.size() << " to fetch, " << plan.adopt.size()
      << " to adopt, " << plan.remote_flags.size() << " server flag changes, "
      << plan.local_flags.size() << " local flag changes, " << plan.local_deletes.size()
      << " local deletions, " << plan.remote_deletes.size() << " server deletions, "
      << plan.appends.size() << " uploads";
  if (plan.held_reason != sync::HoldReason::none) {
    out << ", " << plan.held_local_deletes.size() + plan.held_remote_deletes.size()
        << " deletions held";
  }
  out << '\n';
}

void print_summary(std::ostream& out, const std::string& account, const sync::Stats& s) {
  out << "account " << account << ": " << s.fetched << " new, " << s.remote_flags + s.local_flags
      << " flags, " << s.local_deletes + s.remote_deletes << " deleted";
  if (s.adopted != 0) {
    out << ", " << s.adopted << " adopted";
  }
  if (s.appended != 0) {
    out << ", " << s.appended << " uploaded";
  }
  if (s.appends_pending != 0) {
    out << ", " << s.appends_pending << " local new not uploaded";
  }
  if (s.held != 0) {
    out << ", " << s.held << " deletions held";
  }
  if (s.quarantined != 0) {
    out << ", " << s.quarantined << " quarantined";
  }
  if (s.failed != 0) {
    out << ", " << s.failed << " failed";
  }
  out << '\n';
}

// The progress display of one account (see progress.hpp): a thread reads the
// counters 5 times a second and writes what the renderer makes of them on `err`;
// the destructor writes the last reading and ends the display.
class ProgressDisplay {
public:
  ProgressDisplay(std::ostream& err, const Display& display, std::string account,
                  const sync::Progress& progress)
      : m_err(err), m_renderer(display), m_account(std::move(account)), m_progress(progress),
        m_start(std::chrono::steady_clock::now()), m_thread([this] { draw_loop(); }) {}
  ProgressDisplay(const ProgressDisplay&) = delete;
  ProgressDisplay& operator=(const ProgressDisplay&) = delete;
  ~ProgressDisplay() {
    {
      std::lock_guard lock(m_mutex);
      m_stop = true;
    }
    m_wake.notify_all();
    m_thread.join();
    m_err << m_renderer.update(snapshot()) << m_renderer.finish() << std::flush;
  }

private:
  ProgressSnapshot snapshot() const {
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - m_start;
    return {m_account,           m_progress.folders_done, m_progress.folders_total,
            m_progress.messages, m_progress.bytes,        elapsed.count()};
  }

  void draw_loop() {
    std::unique_lock lock(m_mutex);
    while (!m_wake.wait_for(lock, std::chrono::milliseconds(200), [this] { return m_stop; })) {
      m_err << m_renderer.update(snapshot()) << std::flush;
    }
  }

  std::ostream& m_err;
  ProgressRenderer m_renderer;
  std::string m_account;
  const sync::Progress& m_progress;
  std::chrono::steady_clock::time_point m_start;
  std::mutex m_mutex;
  std::condition_variable m_wake;
  bool m_stop = false;
  std::thread m_thread; // last: started once the members it uses exist
};

// Runs the account's post_sync_cmd with UIDSYNC_ACCOUNT set. Returns why it failed,
// or "" when it exited 0.
std::string run_post_sync(const core::Account& account) {
  // No other thread runs now (the pool has joined): setenv is safe.
  ::setenv("UIDSYNC_ACCOUNT", account.name.c_str(), 1);
  util::ProcessOptions po;
  po.timeout = std::chrono::minutes(10);
  auto done = util::run_process(account.post_sync_cmd.argv, po);
  const std::string what = "post_sync_cmd `" + account.post_sync_cmd.text + "`";
  if (!done) {
    return what + " failed: " + done.error();
  }
  if (done->exit_status == 0) {
    return {};
  }
  std::string reason = what + " exited with status " + std::to_string(done->exit_status);
  const auto line = done->err.substr(0, done->err.find('\n'));
  if (!line.empty()) {
    reason += ": " + line;
  }
  return reason;
}

AccountReport sync_one_account(const Context& ctx, const SyncOptions& options,
                               const core::Account& account, const std::filesystem::path& state,
                               std::ostream* trace) {
  AccountReport report;
  report.name = account.name;
  auto connector = account_connector(account);
  if (!connector) {
    report.result.error = connector.error();
    return report;
  }
  sync::AccountOptions ao;
  ao.connect = std::move(*connector);
  ao.db_path = state / (account.name + ".db");
  ao.jobs = options.jobs;
  ao.folders = options.folders;
  ao.dry_run = options.dry_run;
  ao.allow_mass_delete = options.allow_mass_delete;
  ao.trace = trace;
  sync::Progress progress;
  ao.progress = &progress;
  {
    std::unique_ptr<ProgressDisplay> display;
    const Display decided =
        decide_display(stderr_terminal(), ctx.options.colour, ctx.options.verbosity);
    if (decided.mode != ProgressMode::none) {
      display = std::make_unique<ProgressDisplay>(ctx.err, decided, account.name, progress);
    }
    report.result = sync::sync_account(account, ao);
  }
  util::logger("cli")->debug("account {}: {} connection(s) used", account.name,
                             report.result.connections);
  if (report.result.ok() && !options.dry_run && !account.post_sync_cmd.empty()) {
    report.hook_error = run_post_sync(account);
  }
  return report;
}

void print_account(const Context& ctx, const SyncOptions& options, const AccountReport& report) {
  const auto& r = report.result;
  const std::string prefix = "account " + report.name + ": ";
  if (r.error) {
    ctx.report({r.error->scope, prefix + r.error->message, r.error->hint});
  }
  for (const auto& f : r.folders) {
    if (f.error) {
      // A disk error names a file; say which folder it stopped, too.
      const bool named =
          f.error->message.find("folder " + f.name) != std::string::npos ||
          f.error->message.find("folder \"" + f.name + "\"") != std::string::npos;
      ctx.report({f.error->scope,
                  prefix + (named ? "" : "folder " + f.name + ": ") + f.error->message,
                  f.error->hint});
    }
  }
  if (!report.hook_error.empty()) {
    ctx.report({core::Scope::account, prefix + report.hook_error,
                "the sync itself completed; fix the command or remove post_sync_cmd"});
  }
  if (ctx.options.verbosity >= 0) {
    for (const auto& w : r.warnings) {
      ctx.err << "uidsync: " << util::printable(prefix + w) << '\n';
    }
  }
  if (ctx.options.json) {
    return;
  }
  if (options.dry_run) {
    ctx.out << "account " << report.name << " (dry run, nothing changed):\n";
    for (const auto& f : r.folders) {
      print_plan(ctx.out, f);
    }
    return;
  }
  if (ctx.options.verbosity > 0 && !r.error) {
    print_summary(ctx.out, report.name, r.totals);
  }
}

} // namespace

int cmd_sync(const Context& ctx, const SyncOptions& options) {
  auto loaded = ctx.load_accounts(options.accounts);
  if (!loaded) {
    return loaded.error();
  }
  const auto& accounts = loaded->accounts;
  auto state = ctx.private_state_dir(loaded->config);
  if (!state) {
    return state.error();
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
  std::vector<AccountReport> reports;
  for (const core::Account* account : accounts) {
    auto report =
        sync_one_account(ctx, options, *account, *state, *trace ? &(*trace)->file : nullptr);
    print_account(ctx, options, report);
    rc = worst_exit_code(rc, exit_code(report));
    reports.push_back(std::move(report));
  }
  if (ctx.options.json) {
    ctx.out << sync_json(reports, rc) << '\n';
  }
  return rc;
}

} // namespace uidsync::cli
