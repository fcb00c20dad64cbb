// SPDX-License-Identifier: GPL-3.0-or-later
// uidsync folders: list each account's server folders and the Maildir each maps to.
#include <uidsync/cli/commands.hpp>
#include <uidsync/cli/connect.hpp>
#include <uidsync/core/exit_code.hpp>
#include <uidsync/imap/session.hpp>
#include <uidsync/maildir/layout.hpp>

#include <chrono>
#include <fstream>
#include <memory>
#include <ostream>

namespace uidsync::cli {

namespace {

struct FolderInfo {
  std::string name;
  std::vector<std::string> attributes;
  std::string path;  // empty when the name cannot be mapped
  std::string error; // why it cannot
};

// Connects, LISTs and logs out. `trace` may be null.
core::Result<std::vector<FolderInfo>> account_folders(const core::Account& account,
                                                      imap::Trace* trace) {
  auto transport = connect_account(account);
  UIDSYNC_TRY(transport);
  imap::SessionOptions so;
  so.trace = trace;
  imap::Session session(**transport, so);
  const auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(account.timeout);
  auto listed = list_folders(session, timeout);
  UIDSYNC_TRY(listed);
  std::vector<FolderInfo> folders;
  for (const auto& m : *listed) {
    FolderInfo f{m.name, m.attributes, {}, {}};
    auto path = maildir::folder_path(account.maildir, m.name, m.delimiter.value_or('\0'),
                                     account.layout == core::Layout::fs
                                         ? maildir::Layout::fs
                                         : maildir::Layout::maildir_plus_plus);
    if (path) {
      f.path = path->string();
    } else {
      f.error = path.error().message;
    }
    folders.push_back(std::move(f));
  }
  (void)session.logout(timeout);
  return folders;
}

void print_text(std::ostream& out, const core::Account& account,
                const std::vector<FolderInfo>& folders) {
  out << "account " << account.name << " (" << folders.size() << " folders)\n";
  for (const auto& f : folders) {
    out << "  " << f.name;
    for (const auto& a : f.attributes) {
      if (a != "\\HasNoChildren" && a != "\\HasChildren") {
        out << ' ' << a;
      }
    }
    out << "\n    -> " << (f.path.empty() ? "(not synced: " + f.error + ")" : f.path) << "\n";
  }
}

void print_json(std::ostream& out, const core::Account& account,
                const std::vector<FolderInfo>& folders) {
  out << "{\"account\": " << json_string(account.name) << ", \"folders\": [";
  for (std::size_t i = 0; i < folders.size(); ++i) {
    const auto& f = folders[i];
    out << (i == 0 ? "" : ", ") << "{\"name\": " << json_string(f.name) << ", \"attributes\": [";
    for (std::size_t a = 0; a < f.attributes.size(); ++a) {
      out << (a == 0 ? "" : ", ") << json_string(f.attributes[a]);
    }
    out << "], \"maildir\": " << (f.path.empty() ? "null" : json_string(f.path))
        << ", \"error\": " << (f.error.empty() ? "null" : json_string(f.error)) << "}";
  }
  out << "]}\n";
}

} // namespace

int cmd_folders(const Context& ctx, const FoldersOptions& options) {
  auto loaded = ctx.load_accounts(options.accounts);
  if (!loaded) {
    return loaded.error();
  }
  const auto& accounts = loaded->accounts;
  auto trace = open_trace(options.trace_file);
  if (!trace) {
    ctx.report(trace.error());
    return core::to_int(core::ExitCode::usage);
  }
  int rc = core::to_int(core::ExitCode::ok);
  for (const core::Account* account : accounts) {
    auto folders = account_folders(*account, *trace ? &(*trace)->trace : nullptr);
    if (!folders) {
      ctx.report({folders.error().scope,
                  "account " + account->name + ": " + folders.error().message,
                  folders.error().hint});
      rc = core::to_int(core::ExitCode::failed);
      continue;
    }
    if (ctx.options.json) {
      print_json(ctx.out, *account, *folders);
    } else {
      print_text(ctx.out, *account, *folders);
    }
  }
  return rc;
}

} // namespace uidsync::cli
