// SPDX-License-Identifier: GPL-3.0-or-later
// uidsync folders: list each account's server folders and the Maildir each maps to.
#include <uidsync/cli/commands.hpp>
#include <uidsync/cli/connect.hpp>
#include <uidsync/core/exit_code.hpp>
#include <uidsync/imap/session.hpp>
#include <uidsync/maildir/layout.hpp>
#include <uidsync/sync/account.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <ostream>

namespace uidsync::cli {

namespace {

struct FolderInfo {
  std::string name;
  bool synced = false; // selectable and matched by the account's `folders` globs
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
    FolderInfo f{m.name, false, m.attributes, {}, {}};
    f.synced = sync::folder_wanted(m.name, account.folders, {}) &&
               std::none_of(m.attributes.begin(), m.attributes.end(), [](const std::string& a) {
                 return a == "\\Noselect" || a == "\\NonExistent";
               });
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

// mutt's quoting inside "...": a backslash escapes \\, ", ` and $.
std::string mutt_quote(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '\\' || c == '"' || c == '`' || c == '$') {
      out += '\\';
    }
    out += c;
  }
  return out + '"';
}

// One `mailboxes` line, relative to mutt's $folder (the account's maildir), like
// OfflineIMAP's mbnames: mailboxes "+INBOX" "+Lists/dev" ...
void print_mutt(std::ostream& out, const core::Account& account,
                const std::vector<FolderInfo>& folders) {
  std::vector<std::string> names; // in sync order: INBOX first, then by name
  std::map<std::string, std::string> path_of;
  for (const auto& f : folders) {
    if (f.synced && !f.path.empty()) {
      names.push_back(f.name);
      path_of[f.name] = f.path;
    }
  }
  sync::sort_for_sync(names);
  out << "mailboxes";
  for (const auto& name : names) {
    out << ' '
        << mutt_quote("+" + std::filesystem::path(path_of[name])
                                .lexically_relative(account.maildir)
                                .generic_string());
  }
  out << '\n';
}

// One account's member of the "accounts" array of the --json document.
void print_json(std::ostream& out, const core::Account& account,
                const std::vector<FolderInfo>& folders) {
  out << "{\"name\": " << json_string(account.name) << ", \"folders\": [";
  for (std::size_t i = 0; i < folders.size(); ++i) {
    const auto& f = folders[i];
    out << (i == 0 ? "" : ", ") << "{\"name\": " << json_string(f.name) << ", \"attributes\": [";
    for (std::size_t a = 0; a < f.attributes.size(); ++a) {
      out << (a == 0 ? "" : ", ") << json_string(f.attributes[a]);
    }
    out << "], \"synced\": " << (f.synced ? "true" : "false")
        << ", \"maildir\": " << (f.path.empty() ? "null" : json_string(f.path))
        << ", \"error\": " << (f.error.empty() ? "null" : json_string(f.error)) << "}";
  }
  out << "]}";
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
  const bool json = ctx.options.json && !options.mutt;
  bool first = true;
  if (json) {
    ctx.out << json_document_start() << "\"accounts\": [";
  }
  for (const core::Account* account : accounts) {
    auto folders = account_folders(*account, *trace ? &(*trace)->trace : nullptr);
    if (!folders) {
      ctx.report({folders.error().scope,
                  "account " + account->name + ": " + folders.error().message,
                  folders.error().hint});
      rc = core::to_int(core::ExitCode::failed);
      continue;
    }
    if (options.mutt) {
      print_mutt(ctx.out, *account, *folders);
    } else if (json) {
      ctx.out << (first ? "" : ", ");
      print_json(ctx.out, *account, *folders);
      first = false;
    } else {
      print_text(ctx.out, *account, *folders);
    }
  }
  if (json) {
    ctx.out << "]}\n";
  }
  return rc;
}

} // namespace uidsync::cli
