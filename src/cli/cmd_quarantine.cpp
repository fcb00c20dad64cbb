// SPDX-License-Identifier: GPL-3.0-or-later
// uidsync quarantine list|show|retry|forget|expunge: the messages a sync could not
// fetch. list and show read the state DB; retry and forget write it; expunge
// deletes the messages on the server, after confirmation.
#include <uidsync/cli/commands.hpp>
#include <uidsync/cli/connect.hpp>
#include <uidsync/core/exit_code.hpp>
#include <uidsync/core/paths.hpp>
#include <uidsync/imap/command.hpp>
#include <uidsync/imap/session.hpp>
#include <uidsync/imap/uid_set.hpp>
#include <uidsync/state/db.hpp>
#include <uidsync/sync/quarantine.hpp>
#include <uidsync/util/lock.hpp>

#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <ctime>
#include <iostream>
#include <optional>
#include <string>

namespace uidsync::cli {

namespace {

using Action = QuarantineOptions::Action;

std::string_view state_name(const state::QuarantineRow& row) {
  switch (row.state) {
  case state::QuarantineState::active:
    return row.tries == 0 ? "suspect" : "active";
  case state::QuarantineState::released:
    return "released";
  case state::QuarantineState::forgotten:
    return "forgotten";
  }
  return "?";
}

// What the command line names: an account, maybe a folder and UIDs.
struct Target {
  std::string account;
  std::string folder;          // empty: every folder (list, --all)
  std::vector<core::Uid> uids; // empty: every entry of the folder(s)
};

core::Result<Target> parse_target(const QuarantineOptions& o) {
  Target t;
  std::size_t i = 0;
  t.account = o.account;
  if (t.account.empty() && i < o.entries.size()) {
    t.account = o.entries[i++];
  }
  if (i < o.entries.size()) {
    t.folder = o.entries[i++];
  }
  for (; i < o.entries.size(); ++i) {
    const auto& text = o.entries[i];
    core::Uid uid = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), uid);
    if (ec != std::errc{} || end != text.data() + text.size() || uid == 0) {
      return core::fail(core::Scope::fatal, fmt::format("'{}' is not a UID", text),
                        "write ACCOUNT FOLDER UID…, as 'uidsync quarantine list' prints them");
    }
    t.uids.push_back(uid);
  }
  const bool needs_uids = o.action == Action::show || o.action == Action::expunge ||
                          ((o.action == Action::retry || o.action == Action::forget) && !o.all);
  if (needs_uids && (t.account.empty() || t.folder.empty() || t.uids.empty())) {
    return core::fail(core::Scope::fatal,
                      fmt::format("quarantine {} needs ACCOUNT FOLDER UID…", to_string(o.action)),
                      o.action == Action::retry || o.action == Action::forget
                          ? "or --all [ACCOUNT] for every entry"
                          : "'uidsync quarantine list' prints the entries");
  }
  if (o.action == Action::show && t.uids.size() != 1) {
    return core::fail(core::Scope::fatal, "quarantine show takes one UID");
  }
  return t;
}

// One account's state DB and its quarantine rows, by folder.
struct AccountState {
  const core::Account* account = nullptr;
  std::filesystem::path state_dir;
  std::optional<state::Db> db; // nullopt: the account was never synced
  struct Entry {
    state::FolderRow folder;
    state::QuarantineRow row;
  };
  std::vector<Entry> entries; // by folder name, then UID
};

core::Result<AccountState> read_state(const core::Account& account,
                                      const std::filesystem::path& state_dir) {
  AccountState s;
  s.account = &account;
  s.state_dir = state_dir;
  const auto path = state_dir / (account.name + ".db");
  if (!std::filesystem::exists(path)) {
    return s;
  }
  auto db = state::Db::open(path);
  UIDSYNC_TRY(db);
  s.db.emplace(std::move(*db));
  auto folders = s.db->folders();
  UIDSYNC_TRY(folders);
  for (const auto& f : *folders) {
    auto rows = s.db->quarantine(f.id);
    UIDSYNC_TRY(rows);
    for (auto& r : *rows) {
      s.entries.push_back({f, std::move(r)});
    }
  }
  return s;
}

class QuarantineCommand {
public:
  QuarantineCommand(const Context& ctx, const QuarantineOptions& options)
      : m_ctx(ctx), m_options(options) {}

  int run() {
    auto target = parse_target(m_options);
    if (!target) {
      m_ctx.report(target.error());
      return core::to_int(core::ExitCode::usage);
    }
    m_target = std::move(*target);
    std::vector<std::string> names;
    if (!m_target.account.empty()) {
      names.push_back(m_target.account);
    }
    auto loaded = m_ctx.load_accounts(names);
    if (!loaded) {
      return loaded.error();
    }
    auto state_dir = core::state_dir(loaded->config);
    if (!state_dir) {
      m_ctx.report(state_dir.error());
      return core::to_int(core::ExitCode::failed);
    }
    int rc = core::to_int(core::ExitCode::ok);
    if (m_options.action == Action::list && m_ctx.options.json) {
      m_ctx.out << json_document_start() << "\"entries\": [";
    }
    for (const core::Account* account : loaded->accounts) {
      rc = std::max(rc, one_account(*account, *state_dir));
    }
    if (m_options.action == Action::list && m_ctx.options.json) {
      m_ctx.out << "]}\n";
    }
    return rc;
  }

private:
  int one_account(const core::Account& account, const std::filesystem::path& state_dir) {
    std::optional<util::AccountLock> lock;
    if (m_options.action != Action::list && m_options.action != Action::show) {
      // A sync keeps the quarantine in memory while it runs: wait for it to end.
      auto acquired = util::AccountLock::acquire(core::lock_file(state_dir, account.name));
      if (!acquired) {
        m_ctx.err << "uidsync: " << acquired.error().message << '\n';
        return core::to_int(acquired.error().kind == util::LockError::Kind::held
                                ? core::ExitCode::tempfail
                                : core::ExitCode::failed);
      }
      lock.emplace(std::move(*acquired));
    }
    auto st = read_state(account, state_dir);
    if (!st) {
      m_ctx.report(st.error());
      return core::to_int(core::ExitCode::failed);
    }
    std::vector<AccountState::Entry*> chosen;
    for (auto& e : st->entries) {
      if (selected(e)) {
        chosen.push_back(&e);
      }
    }
    for (const core::Uid uid : m_target.uids) {
      if (std::none_of(chosen.begin(), chosen.end(),
                       [&](const AccountState::Entry* e) { return e->row.uid == uid; })) {
        m_ctx.report({core::Scope::fatal,
                      fmt::format("account {}, folder {}: UID {} is not in the quarantine",
                                  account.name, m_target.folder, uid),
                      "'uidsync quarantine list " + account.name + "' prints the entries"});
        return core::to_int(core::ExitCode::failed);
      }
    }
    switch (m_options.action) {
    case Action::list:
      return list(account, chosen);
    case Action::show:
      return show(account, *chosen.front());
    case Action::retry:
    case Action::forget:
      return update(account, *st, chosen);
    case Action::expunge:
      return expunge(account, *st, chosen);
    }
    return core::to_int(core::ExitCode::failed);
  }

  bool selected(const AccountState::Entry& e) const {
    if (!m_target.folder.empty() && e.folder.name != m_target.folder) {
      return false;
    }
    if (!m_target.uids.empty()) {
      return std::find(m_target.uids.begin(), m_target.uids.end(), e.row.uid) !=
             m_target.uids.end();
    }
    // Without UIDs: the entries still in the quarantine (not released).
    return e.row.state != state::QuarantineState::released;
  }

  int list(const core::Account& account, const std::vector<AccountState::Entry*>& chosen) {
    for (const auto* e : chosen) {
      const auto& r = e->row;
      if (m_ctx.options.json) {
        m_ctx.out << (m_first ? "" : ",") << "\n  {\"account\": " << json_string(account.name)
                  << ", \"folder\": " << json_string(e->folder.name) << ", \"uid\": " << r.uid
                  << ", \"uidvalidity\": " << r.uidvalidity
                  << ", \"reason\": " << json_string(r.reason)
                  << ", \"state\": " << json_string(state_name(r)) << ", \"tries\": " << r.tries
                  << ", \"first_seen\": " << r.first_seen << ", \"last_try\": " << r.last_try
                  << ", \"next_try\": " << r.next_try
                  << ", \"evidence\": " << json_string(r.evidence) << "}";
        m_first = false;
        continue;
      }
      m_ctx.out << fmt::format("{} {} {} {} {} tries={} next={}\n", account.name, e->folder.name,
                               r.uid, r.reason, state_name(r), r.tries,
                               r.state == state::QuarantineState::forgotten
                                   ? std::string("never")
                                   : sync::utc_time(r.next_try));
    }
    return core::to_int(core::ExitCode::ok);
  }

  int show(const core::Account& account, const AccountState::Entry& e) {
    const auto& r = e.row;
    m_ctx.out << fmt::format(
        "account:     {}\nfolder:      {}\nUID:         {} (UIDVALIDITY {})\n"
        "state:       {}\nreason:      {}\ndetail:      {}\n"
        "tries:       {}\nfirst seen:  {}\nlast try:    {}\nnext try:    {}\n"
        "evidence:    {}\n",
        account.name, e.folder.name, r.uid, r.uidvalidity, state_name(r), r.reason, r.detail,
        r.tries, sync::utc_time(r.first_seen), sync::utc_time(r.last_try),
        r.state == state::QuarantineState::active ? sync::utc_time(r.next_try) : std::string("-"),
        r.evidence.empty() ? std::string("(none)") : r.evidence);
    if (const auto reason = sync::parse_reason(r.reason)) {
      m_ctx.out << "what to do:  " << sync::advice(*reason) << '\n';
    }
    m_ctx.out << fmt::format("commands:    uidsync quarantine retry {0} {1} {2}\n"
                             "             uidsync quarantine forget {0} {1} {2}\n"
                             "             uidsync quarantine expunge {0} {1} {2}\n",
                             account.name, quoted(e.folder.name), r.uid);
    return core::to_int(core::ExitCode::ok);
  }

  static std::string quoted(const std::string& name) {
    const bool plain = std::all_of(name.begin(), name.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '/' || c == '.' || c == '_' ||
             c == '-';
    });
    return plain ? name : "'" + name + "'";
  }

  int update(const core::Account& account, AccountState& st,
             const std::vector<AccountState::Entry*>& chosen) {
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    for (auto* e : chosen) {
      auto row = e->row;
      if (m_options.action == Action::retry) {
        row.state = state::QuarantineState::active;
        row.next_try = now;
      } else {
        row.state = state::QuarantineState::forgotten;
      }
      if (auto put = st.db->put_quarantine(row); !put) {
        m_ctx.report(put.error());
        return core::to_int(core::ExitCode::failed);
      }
      m_ctx.out << fmt::format("{} {} {}: {}\n", account.name, e->folder.name, row.uid,
                               m_options.action == Action::retry
                                   ? "the next sync tries it again"
                                   : "forgotten: the next syncs leave it alone (it stays on the "
                                     "server and in 'quarantine list')");
    }
    return core::to_int(core::ExitCode::ok);
  }

  bool confirmed(const core::Account& account, const std::vector<AccountState::Entry*>& chosen) {
    if (m_options.yes) {
      return true;
    }
    if (::isatty(STDIN_FILENO) == 0) {
      m_ctx.err << "uidsync: quarantine expunge deletes mail on the server and asks first; "
                   "stdin is not a terminal, so pass --yes to confirm\n";
      return false;
    }
    m_ctx.out << fmt::format("Delete {} message(s) of account {}, folder {} on the server? "
                             "This cannot be undone. [y/N] ",
                             chosen.size(), account.name, m_target.folder);
    m_ctx.out.flush();
    std::string answer;
    std::getline(std::cin, answer);
    return answer == "y" || answer == "Y" || answer == "yes";
  }

  int expunge(const core::Account& account, AccountState& st,
              const std::vector<AccountState::Entry*>& chosen) {
    if (!confirmed(account, chosen)) {
      return core::to_int(core::ExitCode::usage);
    }
    const auto& folder = chosen.front()->folder;
    const auto where = fmt::format("account {}, folder {}", account.name, folder.name);
    auto transport = connect_account(account);
    if (!transport) {
      m_ctx.report(transport.error());
      return core::to_int(core::ExitCode::failed);
    }
    imap::Session session(**transport);
    const auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(account.timeout);
    auto done = [&]() -> core::Result<std::vector<core::Uid>> {
      UIDSYNC_TRY(session.refresh_capabilities(timeout));
      auto select =
          imap::select_command(folder.name, false, std::nullopt, false, session.literal_mode());
      UIDSYNC_TRY(select);
      UIDSYNC_TRY(session.execute(*select, timeout));
      if (session.mailbox().uidvalidity != folder.uidvalidity) {
        return core::fail(core::Scope::folder,
                          fmt::format("{}: UIDVALIDITY is now {}, not {}: the UIDs name other "
                                      "messages, so nothing was deleted",
                                      where, session.mailbox().uidvalidity.value_or(0),
                                      folder.uidvalidity),
                          "run 'uidsync sync' first");
      }
      std::vector<core::Uid> wanted;
      for (const auto* e : chosen) {
        wanted.push_back(e->row.uid);
      }
      const auto set = imap::UidSet::of(wanted).to_string();
      std::vector<core::Uid> listed;
      std::vector<core::Uid> deleted;
      UIDSYNC_TRY(uid_command(
          session, "UID FETCH", set + " (UID RFC822.SIZE)", timeout, [&](const imap::Response& r) {
            if (const auto* f = std::get_if<imap::Fetch>(&r.value); f != nullptr && f->uid) {
              listed.push_back(*f->uid);
            }
          }));
      if (!session.has_capability("UIDPLUS")) {
        // Without UID EXPUNGE (RFC 4315) only EXPUNGE is left, and it removes
        // every message marked \Deleted, including other clients' ones.
        UIDSYNC_TRY(
            uid_command(session, "UID SEARCH", "DELETED", timeout, [&](const imap::Response& r) {
              if (const auto* s = std::get_if<imap::Search>(&r.value)) {
                deleted.insert(deleted.end(), s->numbers.begin(), s->numbers.end());
              }
            }));
        std::erase_if(deleted, [&](core::Uid uid) {
          return std::find(listed.begin(), listed.end(), uid) != listed.end();
        });
        if (!deleted.empty()) {
          return core::fail(
              core::Scope::folder,
              fmt::format("{}: the server lacks UIDPLUS (RFC 4315), so the only way to delete a "
                          "message is EXPUNGE, which also deletes every message marked "
                          "\\Deleted; {} other message(s) are marked \\Deleted (UID {}), so "
                          "nothing was deleted",
                          where, deleted.size(), imap::UidSet::of(deleted).to_string()),
              "undelete or expunge those messages with your mail client, then run this again");
        }
      }
      if (!listed.empty()) {
        const auto gone = imap::UidSet::of(listed).to_string();
        UIDSYNC_TRY(
            uid_command(session, "UID STORE", gone + " +FLAGS.SILENT (\\Deleted)", timeout, {}));
        if (session.has_capability("UIDPLUS")) {
          UIDSYNC_TRY(uid_command(session, "UID EXPUNGE", gone, timeout, {}));
        } else {
          UIDSYNC_TRY(uid_command(session, "EXPUNGE", "", timeout, {}));
        }
      }
      (void)session.logout(timeout);
      return listed;
    }();
    if (!done) {
      m_ctx.report(done.error());
      return core::to_int(core::ExitCode::failed);
    }
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    for (auto* e : chosen) {
      auto row = e->row;
      const bool listed = std::find(done->begin(), done->end(), row.uid) != done->end();
      row.state = state::QuarantineState::released;
      row.last_try = now;
      row.detail = listed ? "expunged on the server by 'uidsync quarantine expunge'"
                          : "released: the server no longer lists it";
      if (auto put = st.db->put_quarantine(row); !put) {
        m_ctx.report(put.error());
        return core::to_int(core::ExitCode::failed);
      }
      m_ctx.out << fmt::format("{}, UID {}: {}\n", where, row.uid,
                               listed ? "expunged on the server"
                                      : "the server no longer lists it; released");
    }
    return core::to_int(core::ExitCode::ok);
  }

  static core::Result<void> uid_command(imap::Session& session, std::string_view verb,
                                        const std::string& args, std::chrono::milliseconds timeout,
                                        const imap::DataHandler& on_data) {
    imap::CommandBuilder b(verb);
    if (!args.empty()) {
      b.raw(args);
    }
    auto command = b.build();
    UIDSYNC_TRY(command);
    UIDSYNC_TRY(session.execute(*command, timeout, on_data));
    return {};
  }

  const Context& m_ctx;
  const QuarantineOptions& m_options;
  Target m_target;
  bool m_first = true;
};

} // namespace

int cmd_quarantine(const Context& ctx, const QuarantineOptions& options) {
  return QuarantineCommand(ctx, options).run();
}

} // namespace uidsync::cli
