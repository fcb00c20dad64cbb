// SPDX-License-Identifier: GPL-3.0-or-later
// uidsync status [ACCOUNT…]: what the state DB knows, without touching the network:
// per folder the messages known, the local path, the last sync, active quarantines
// and unresolved anomalies.
#include <uidsync/cli/commands.hpp>
#include <uidsync/core/exit_code.hpp>
#include <uidsync/core/paths.hpp>
#include <uidsync/state/db.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <filesystem>
#include <optional>
#include <ostream>

namespace uidsync::cli {

namespace {

struct FolderStatus {
  std::string name;
  std::string path;
  std::size_t messages = 0;
  std::int64_t last_sync = 0;
  std::size_t quarantined = 0;
  std::size_t anomalies = 0;
};

struct AccountStatus {
  std::string name;
  bool synced = false; // a state DB exists
  std::vector<FolderStatus> folders;
  FolderStatus totals;
};

// "2026-11-23 12:04:05" in local time, or "never".
std::string local_time(std::int64_t when) {
  if (when == 0) {
    return "never";
  }
  const auto t = static_cast<std::time_t>(when);
  std::tm tm{};
  ::localtime_r(&t, &tm);
  std::array<char, 32> text{};
  std::strftime(text.data(), text.size(), "%Y-%m-%d %H:%M:%S", &tm);
  return text.data();
}

core::Result<AccountStatus> account_status(const core::Account& account,
                                           const std::filesystem::path& state_dir) {
  AccountStatus status;
  status.name = account.name;
  const auto path = state_dir / (account.name + ".db");
  std::error_code ec;
  if (state_dir.empty() || !std::filesystem::exists(path, ec)) {
    return status; // never synced: the DB is not created here
  }
  status.synced = true;
  auto db = state::Db::open(path);
  UIDSYNC_TRY(db);
  auto folders = db->folders();
  UIDSYNC_TRY(folders);
  for (const auto& row : *folders) {
    FolderStatus f;
    f.name = row.name;
    f.path = (account.maildir / row.local_path).string();
    f.last_sync = row.last_sync;
    auto messages = db->messages(row.id);
    UIDSYNC_TRY(messages);
    f.messages = messages->size();
    auto quarantine = db->quarantine(row.id);
    UIDSYNC_TRY(quarantine);
    f.quarantined = static_cast<std::size_t>(
        std::count_if(quarantine->begin(), quarantine->end(), [](const state::QuarantineRow& q) {
          return q.state == state::QuarantineState::active;
        }));
    auto anomalies = db->anomalies(row.id);
    UIDSYNC_TRY(anomalies);
    f.anomalies = static_cast<std::size_t>(
        std::count_if(anomalies->begin(), anomalies->end(),
                      [](const state::AnomalyRow& a) { return a.resolved_at == 0; }));
    status.totals.messages += f.messages;
    status.totals.quarantined += f.quarantined;
    status.totals.anomalies += f.anomalies;
    status.totals.last_sync = std::max(status.totals.last_sync, f.last_sync);
    status.folders.push_back(std::move(f));
  }
  return status;
}

void print_text(std::ostream& out, const AccountStatus& a) {
  if (!a.synced) {
    out << "account " << a.name << ": never synced\n";
    return;
  }
  out << "account " << a.name << ": " << a.folders.size() << " folders, " << a.totals.messages
      << " messages, last sync " << local_time(a.totals.last_sync) << ", " << a.totals.quarantined
      << " quarantined, " << a.totals.anomalies << " anomalies\n";
  for (const auto& f : a.folders) {
    out << "  " << f.name << ": " << f.messages << " messages, last sync "
        << local_time(f.last_sync);
    if (f.quarantined != 0) {
      out << ", " << f.quarantined << " quarantined (see 'uidsync quarantine list')";
    }
    if (f.anomalies != 0) {
      out << ", " << f.anomalies << " unresolved anomalies (see 'uidsync doctor')";
    }
    out << "\n    -> " << f.path << '\n';
  }
}

std::string folder_json(const FolderStatus& f, bool with_identity) {
  std::string out = "{";
  if (with_identity) {
    out += fmt::format("\"name\": {}, \"path\": {}, ", json_string(f.name), json_string(f.path));
  }
  out +=
      fmt::format("\"messages\": {}, \"last_sync\": {}, \"quarantined\": {}, \"anomalies\": {}",
                  f.messages, f.last_sync == 0 ? std::string("null") : std::to_string(f.last_sync),
                  f.quarantined, f.anomalies);
  return out + "}";
}

std::string account_json(const AccountStatus& a) {
  std::string folders;
  for (const auto& f : a.folders) {
    folders += (folders.empty() ? "" : ", ") + folder_json(f, true);
  }
  return fmt::format("{{\"name\": {}, \"synced\": {}, \"folders\": [{}], \"totals\": {}}}",
                     json_string(a.name), a.synced, folders, folder_json(a.totals, false));
}

} // namespace

int cmd_status(const Context& ctx, const StatusOptions& options) {
  auto loaded = ctx.load_accounts(options.accounts);
  if (!loaded) {
    return loaded.error();
  }
  auto state = core::state_dir(loaded->config);
  if (!state) {
    ctx.report(state.error());
    return core::to_int(core::ExitCode::failed);
  }
  int rc = core::to_int(core::ExitCode::ok);
  std::string json;
  for (const core::Account* account : loaded->accounts) {
    auto status = account_status(*account, *state);
    if (!status) {
      ctx.report({status.error().scope, "account " + account->name + ": " + status.error().message,
                  status.error().hint});
      rc = core::to_int(core::ExitCode::failed);
      continue;
    }
    if (ctx.options.json) {
      json += (json.empty() ? "" : ", ") + account_json(*status);
    } else {
      print_text(ctx.out, *status);
    }
  }
  if (ctx.options.json) {
    ctx.out << json_document_start() << "\"accounts\": [" << json << "]}\n";
  }
  return rc;
}

} // namespace uidsync::cli
