// SPDX-License-Identifier: GPL-3.0-or-later
// The account runner: folder list, local-only folders, and the connection pool.
#include "detail.hpp"

#include <uidsync/core/paths.hpp>
#include <uidsync/imap/command.hpp>
#include <uidsync/imap/compress.hpp>
#include <uidsync/imap/trace.hpp>
#include <uidsync/maildir/folder.hpp>
#include <uidsync/maildir/layout.hpp>
#include <uidsync/maildir/listing.hpp>
#include <uidsync/net/deflate_transport.hpp>
#include <uidsync/state/db.hpp>
#include <uidsync/sync/account.hpp>
#include <uidsync/util/log.hpp>

#include <fnmatch.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <ctime>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

namespace uidsync::sync {

namespace fs = std::filesystem;

namespace {

// Reconnects per folder, however much each attempt achieves.
constexpr int k_max_reconnects_total = 16;

// Attempts at opening one connection while it breaks before it is usable (closed,
// reset or timed out during the greeting, TLS, the login or the first commands after
// it), and the pause before the 2nd and the 3rd: at most 1.5 s of waiting in all. A
// login refusal, a certificate problem or a config error is never tried again (a
// wrong password tried again can lock the account).
constexpr int k_connect_attempts = 3;
constexpr std::array<std::chrono::milliseconds, k_connect_attempts - 1> k_connect_backoff{
    std::chrono::milliseconds(500), std::chrono::milliseconds(1000)};

// Logins that succeeded on this thread (the account's connector returned a transport;
// counted by sync_account()'s wrapper): a connection failing after one was lost, not
// refused.
thread_local std::size_t t_logins = 0;

// LOGOUT at the end of a run is sent, not waited for (see Runner::logout).
constexpr std::chrono::milliseconds k_logout_wait{0};
// What tells, without SELECT, whether a folder changed since the last sync.
constexpr std::string_view k_status_items = "(MESSAGES UIDNEXT UIDVALIDITY HIGHESTMODSEQ)";

// Everything a folder attempt can achieve, summed: a change means progress.
std::uint64_t progress_of(const Stats& s) {
  return s.fetched + s.adopted + s.appended + s.quarantined + s.released + s.failed +
         s.local_flags + s.remote_flags + s.local_deletes + s.remote_deletes + s.bytes;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool is_inbox(std::string_view name) {
  return iequals(name, "INBOX");
}

// Two server names are the same folder; INBOX is case-insensitive (RFC 3501 §5.1).
bool same_folder(std::string_view a, std::string_view b) {
  return a == b || (is_inbox(a) && is_inbox(b));
}

// Not \Noselect or \NonExistent (RFC 3501 §7.2.2, RFC 5258 §3).
bool selectable(const imap::MailboxList& m) {
  return std::none_of(m.attributes.begin(), m.attributes.end(), [](const std::string& a) {
    return iequals(a, "\\Noselect") || iequals(a, "\\NonExistent");
  });
}

// The sync order: INBOX first, then by name.
bool sync_before(const std::string& a, const std::string& b) {
  const bool ai = is_inbox(a);
  const bool bi = is_inbox(b);
  return ai != bi ? ai : a < b;
}

maildir::Layout layout_of(const core::Account& account) {
  return account.layout == core::Layout::fs ? maildir::Layout::fs
                                            : maildir::Layout::maildir_plus_plus;
}

// Bytes moved by the account's connections, added up as each connection ends.
struct WireCounters {
  std::atomic<std::uint64_t> in{0};
  std::atomic<std::uint64_t> out{0};
  std::atomic<std::uint64_t> imap_in{0};
  std::atomic<std::uint64_t> imap_out{0};
  std::atomic<std::size_t> compressed{0};
};

// One connection of the pool, with what hangs on it. The session refers to the
// transport, the trace and the router: they are declared first, so destroyed last.
// On destruction its byte counts go to `counters`.
struct Connection {
  Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() {
    if (counters == nullptr || !transport) {
      return;
    }
    counters->in += transport->bytes_read();
    counters->out += transport->bytes_written();
    counters->imap_in += deflate != nullptr ? deflate->imap_bytes_read() : transport->bytes_read();
    counters->imap_out +=
        deflate != nullptr ? deflate->imap_bytes_written() : transport->bytes_written();
  }

  WireCounters* counters = nullptr;
  std::unique_ptr<net::Transport> transport;
  net::DeflateTransport* deflate = nullptr; // `transport` itself when compress is on
  std::unique_ptr<imap::Trace> trace;
  std::unique_ptr<BodyRouter> router;
  std::unique_ptr<imap::Session> session;
};

// A folder to sync.
struct Target {
  std::string name;
  char delimiter = '\0';
  std::vector<std::string> special_use;
  bool created = false;
  // Its STATUS (k_status_items, all of them) from this run's listing, if the
  // server gave one: the folder then needs no SELECT when nothing changed.
  std::optional<imap::MailboxStatus> status;
};

// Whether `s` has every item of k_status_items.
bool complete_status(const imap::MailboxStatus& s) {
  return std::count_if(s.items.begin(), s.items.end(), [](const auto& item) {
           return item.first == "MESSAGES" || item.first == "UIDNEXT" ||
                  item.first == "UIDVALIDITY" || item.first == "HIGHESTMODSEQ";
         }) == 4;
}

// Runs `commands` pipelined (one round trip) and waits for all of them; `on_data`
// gets their untagged data. Returns each command's tagged reply, in order. Fails
// (Scope::account) when the connection fails or `timeout` passes.
core::Result<std::vector<imap::Tagged>> run_pipelined(imap::Session& session,
                                                      std::vector<imap::Command> commands,
                                                      const imap::DataHandler& on_data,
                                                      std::chrono::milliseconds timeout) {
  std::vector<imap::Tagged> replies(commands.size());
  std::size_t left = commands.size();
  for (std::size_t i = 0; i < commands.size(); ++i) {
    session.submit(
        std::move(commands[i]),
        [&replies, &left, i](const imap::Tagged& t) {
          replies[i] = t;
          --left;
        },
        on_data);
  }
  auto done = session.run_until([&left] { return left == 0; }, timeout);
  UIDSYNC_TRY(done);
  if (!*done) {
    return core::fail(core::Scope::account,
                      "the server did not answer within " + std::to_string(timeout.count()) + " ms",
                      "check the connection; raise the account's timeout for a slow server");
  }
  return replies;
}

class Runner {
public:
  Runner(const core::Account& account, const AccountOptions& options, AccountResult& result)
      : m_account(account), m_options(options), m_result(result),
        m_timeout(std::chrono::duration_cast<std::chrono::milliseconds>(account.timeout)) {}

  void run();
  std::size_t connections() const { return m_connections; }
  const WireCounters& wire() const { return m_wire; }

private:
  // Opens a connection; `compress`: start COMPRESS at once (when wanted and offered).
  core::Result<std::unique_ptr<Connection>> connect(bool compress = true);
  // connect(), tried k_connect_attempts times in all while each failure is transient
  // (core::Error::transient, or any failure after the login succeeded), with
  // k_connect_backoff between attempts. Fails with the last error, naming the attempts.
  core::Result<std::unique_ptr<Connection>> open_connection(bool compress = true);
  core::Result<void> compress(Connection& connection);
  // Sends LOGOUT and closes without waiting for the server's BYE (RFC 3501 §6.1.3
  // asks nothing of the client after it): every command before it has completed,
  // so the wait would only add a round trip to every run.
  void logout(Connection& connection) { (void)connection.session->logout(k_logout_wait); }
  core::Result<std::vector<imap::MailboxList>>
  list(imap::Session& session, std::map<std::string, imap::MailboxStatus>& statuses);
  void status_of_targets(imap::Session& session, state::Db& db);
  bool settle_quiet(state::Db& db, std::size_t index);
  void create_local_only(Connection& connection, state::Db& db,
                         const std::vector<imap::MailboxList>& listed, char delimiter,
                         std::vector<Target>& targets);
  void work(std::unique_ptr<Connection> connection);
  core::Result<void> sync_one(Connection& connection, state::Db& db, const Target& target,
                              FolderResult& result);
  std::optional<std::size_t> next();
  void give_up(std::size_t index, const core::Error& error);
  void finish(std::size_t index);

  const core::Account& m_account;
  const AccountOptions& m_options;
  AccountResult& m_result;
  std::chrono::milliseconds m_timeout;
  std::vector<Target> m_targets; // m_result.folders[i] is m_targets[i]'s result
  std::mutex m_trace_lock;
  std::atomic<std::size_t> m_connections{0};
  WireCounters m_wire;
  std::mutex m_lock; // guards the members below and m_result.totals
  std::deque<std::size_t> m_queue;
  std::size_t m_active = 0; // workers still running
};

core::Result<std::unique_ptr<Connection>> Runner::connect(bool compress_now) {
  auto transport = m_options.connect();
  UIDSYNC_TRY(transport);
  const std::size_t number = ++m_connections;
  auto c = std::make_unique<Connection>();
  c->counters = &m_wire;
  if (core::wants_compression(m_account)) {
    auto deflate = std::make_unique<net::DeflateTransport>(std::move(*transport));
    c->deflate = deflate.get();
    c->transport = std::move(deflate);
  } else {
    c->transport = std::move(*transport);
  }
  c->router = std::make_unique<BodyRouter>();
  imap::SessionOptions so;
  if (m_options.trace != nullptr) {
    c->trace = std::make_unique<imap::Trace>(*m_options.trace, &m_trace_lock,
                                             "[" + std::to_string(number) + "] ");
    so.trace = c->trace.get();
  }
  so.body_sink = c->router.get();
  c->session = std::make_unique<imap::Session>(*c->transport, so);
  // RFC 3501 §6.2: capabilities may change after login (Dovecot announces
  // UIDPLUS only then), and the executor needs the real list: taken from the login
  // reply when it carried them, asked for otherwise.
  if (!c->session->adopt_capabilities(c->transport->login_capabilities())) {
    UIDSYNC_TRY(c->session->refresh_capabilities(m_timeout));
  }
  if (compress_now) {
    UIDSYNC_TRY(compress(*c));
  }
  util::logger("sync")->debug("account {}: connection {} is up", m_account.name, number);
  return c;
}

core::Result<void> Runner::compress(Connection& connection) {
  if (connection.deflate != nullptr) {
    auto compressed = imap::start_compression(*connection.session, *connection.deflate, m_timeout);
    UIDSYNC_TRY(compressed);
    if (*compressed) {
      ++m_wire.compressed;
    }
  }
  return {};
}

core::Result<std::unique_ptr<Connection>> Runner::open_connection(bool compress) {
  auto log = util::logger("sync");
  for (int attempt = 1;; ++attempt) {
    const std::size_t logins = t_logins;
    auto c = connect(compress);
    if (c) {
      if (attempt > 1) {
        log->info("account {}: connected on attempt {} of {}", m_account.name, attempt,
                  k_connect_attempts);
      }
      return c;
    }
    const bool lost = c.error().transient || t_logins != logins;
    if (!lost) {
      return c; // refused, untrusted, misconfigured: as it is, at once
    }
    if (attempt == k_connect_attempts) {
      core::Error e = std::move(c).error();
      e.message = "no usable connection after " + std::to_string(k_connect_attempts) +
                  " attempts: " + e.message;
      return util::unexpected(std::move(e));
    }
    const auto pause = k_connect_backoff[static_cast<std::size_t>(attempt - 1)];
    log->warn("account {}: {}; reconnecting in {:.1f} s (attempt {} of {})", m_account.name,
              c.error().message, std::chrono::duration<double>(pause).count(), attempt + 1,
              k_connect_attempts);
    std::this_thread::sleep_for(pause);
  }
}

void Runner::run() {
  auto db = state::Db::open(m_options.db_path);
  if (!db) {
    m_result.error = db.error();
    return;
  }
  // The listing connection compresses only once there is work: a no-op run is
  // cheaper without COMPRESS's round trip.
  auto first = open_connection(false);
  if (!first) {
    m_result.error = first.error();
    return;
  }
  std::map<std::string, imap::MailboxStatus> statuses;
  auto listed = list(*(*first)->session, statuses);
  if (!listed) {
    m_result.error = listed.error();
    return;
  }
  char delimiter = '/';
  for (const auto& m : *listed) {
    if (m.delimiter) {
      delimiter = *m.delimiter;
      break;
    }
  }
  for (const auto& m : *listed) {
    if (!m.lsub && selectable(m) && folder_wanted(m.name, m_account.folders, m_options.folders)) {
      Target t{m.name, m.delimiter.value_or('\0'), special_use(m.attributes), false, std::nullopt};
      if (auto s = statuses.find(m.name); s != statuses.end() && complete_status(s->second)) {
        t.status = s->second;
      }
      m_targets.push_back(std::move(t));
    }
  }
  if (statuses.empty()) {
    status_of_targets(*(*first)->session, *db);
  }
  create_local_only(**first, *db, *listed, delimiter, m_targets);
  std::stable_sort(m_targets.begin(), m_targets.end(),
                   [](const Target& a, const Target& b) { return sync_before(a.name, b.name); });
  for (const auto& t : m_targets) {
    FolderResult f;
    f.name = t.name;
    f.special_use = t.special_use;
    f.created_on_server = t.created;
    auto path = maildir::folder_path(m_account.maildir, t.name, t.delimiter, layout_of(m_account));
    if (path) {
      f.path = *path;
    }
    m_result.folders.push_back(std::move(f));
  }
  if (m_options.progress != nullptr) {
    m_options.progress->folders_total = m_targets.size();
  }
  // Folders whose STATUS and local side show no change are done here: only
  // the others are SELECTed, spread over the pool.
  // Their last_sync is written in one transaction: one commit, not one per folder.
  {
    std::optional<state::Transaction> tx;
    if (!m_options.dry_run) {
      auto begun = db->begin();
      if (!begun) {
        m_result.error = begun.error();
        return;
      }
      tx.emplace(std::move(*begun));
    }
    for (std::size_t i = 0; i < m_targets.size(); ++i) {
      if (!settle_quiet(*db, i)) {
        m_queue.push_back(i);
      }
    }
    if (tx) {
      if (auto committed = tx->commit(); !committed) {
        m_result.error = committed.error();
        return;
      }
    }
  }
  if (m_queue.empty()) {
    logout(**first);
    return;
  }
  if (auto compressed = compress(**first); !compressed) {
    m_result.error = compressed.error();
    return;
  }
  const int jobs = m_options.jobs > 0 ? m_options.jobs : m_account.max_connections;
  const std::size_t n =
      std::clamp<std::size_t>(static_cast<std::size_t>(std::max(jobs, 1)), 1, m_queue.size());
  m_active = n;
  std::vector<std::thread> workers;
  workers.reserve(n - 1);
  for (std::size_t i = 1; i < n; ++i) {
    workers.emplace_back([this] { work(nullptr); });
  }
  // The listing connection is the first worker's: one login less.
  work(std::move(*first));
  for (auto& w : workers) {
    w.join();
  }
}

core::Result<std::vector<imap::MailboxList>>
Runner::list(imap::Session& session, std::map<std::string, imap::MailboxStatus>& statuses) {
  // HIGHESTMODSEQ in STATUS needs CONDSTORE (RFC 7162 §3.1.6); LIST-STATUS
  // (RFC 5819) returns the STATUS of every folder with the LIST.
  const bool modseq = session.has_capability("CONDSTORE") || session.has_capability("QRESYNC");
  std::vector<imap::Command> commands;
  if (session.has_capability("QRESYNC") && session.has_capability("ENABLE") &&
      session.enabled().count("QRESYNC") == 0) {
    // The executor needs it before its first SELECT; it goes in the LIST's flight.
    commands.push_back(imap::CommandBuilder("ENABLE").raw("CONDSTORE QRESYNC").build().value());
  }
  imap::CommandBuilder b("LIST");
  b.raw("\"\"").raw("\"*\"");
  if (modseq && session.has_capability("LIST-STATUS")) {
    b.raw("RETURN (STATUS " + std::string(k_status_items) + ")");
  }
  auto list = b.build();
  UIDSYNC_TRY(list);
  commands.push_back(std::move(*list));
  std::vector<imap::MailboxList> folders;
  auto replies = run_pipelined(
      session, std::move(commands),
      [&](const imap::Response& r) {
        if (const auto* m = std::get_if<imap::MailboxList>(&r.value); m != nullptr && !m->lsub) {
          folders.push_back(*m);
        } else if (const auto* s = std::get_if<imap::MailboxStatus>(&r.value)) {
          statuses[s->name] = *s;
        }
      },
      m_timeout);
  UIDSYNC_TRY(replies);
  const auto& listed = replies->back();
  if (listed.status != imap::Status::ok) {
    return core::fail(core::Scope::account,
                      "account " + m_account.name + ": the server refused to list the folders (" +
                          listed.text + ")",
                      "see the server's message; check the account on the server");
  }
  return folders;
}

void Runner::status_of_targets(imap::Session& session, state::Db& db) {
  if (!session.has_capability("CONDSTORE") && !session.has_capability("QRESYNC")) {
    return; // no HIGHESTMODSEQ: every folder is SELECTed
  }
  // No LIST-STATUS: one STATUS per folder that was synced before, all pipelined.
  std::vector<imap::Command> commands;
  for (const auto& t : m_targets) {
    auto row = db.folder(t.name);
    if (!row || !row->has_value() || (**row).highestmodseq == 0) {
      continue;
    }
    auto status = imap::CommandBuilder("STATUS").mailbox(t.name).raw(k_status_items).build();
    if (status) {
      commands.push_back(std::move(*status));
    }
  }
  if (commands.empty()) {
    return;
  }
  std::map<std::string, imap::MailboxStatus> statuses;
  auto replies = run_pipelined(
      session, std::move(commands),
      [&statuses](const imap::Response& r) {
        if (const auto* s = std::get_if<imap::MailboxStatus>(&r.value)) {
          statuses[s->name] = *s;
        }
      },
      m_timeout);
  if (!replies) {
    return; // the folders are SELECTed; a lost connection shows there
  }
  for (auto& t : m_targets) {
    if (auto s = statuses.find(t.name); s != statuses.end() && complete_status(s->second)) {
      t.status = s->second;
    }
  }
}

bool Runner::settle_quiet(state::Db& db, std::size_t index) {
  const Target& t = m_targets[index];
  FolderResult& result = m_result.folders[index];
  if (!t.status || t.created || result.path.empty() || !fs::is_directory(result.path)) {
    return false;
  }
  auto stored = db.folder(t.name);
  if (!stored || !stored->has_value()) {
    return false;
  }
  auto folder = maildir::Folder::open(m_account.maildir, result.path, false);
  if (!folder) {
    return false;
  }
  state::FolderRow row = **stored;
  auto quiet = detail::unchanged_by_status(*folder, db, row, *t.status);
  if (!quiet || !*quiet) {
    return false; // errors show when the folder is synced
  }
  util::logger("sync")->debug("folder {}: unchanged on both sides since the last sync (STATUS)",
                              t.name);
  if (m_options.dry_run) {
    result.plan = Plan{};
  } else {
    row.last_sync = static_cast<std::int64_t>(std::time(nullptr));
    if (auto put = db.put_folder(row); !put) {
      result.error = put.error(); // a state DB that cannot be written is not a success
    }
  }
  finish(index);
  return true;
}

void Runner::create_local_only(Connection& connection, state::Db& db,
                               const std::vector<imap::MailboxList>& listed, char delimiter,
                               std::vector<Target>& targets) {
  auto log = util::logger("sync");
  auto local = maildir::list_folders(m_account.maildir, layout_of(m_account));
  if (!local) {
    m_result.warnings.push_back(local.error().what());
    return;
  }
  for (const auto& lf : *local) {
    std::string name = lf.name;
    if (delimiter != '/') {
      std::replace(name.begin(), name.end(), '/', delimiter);
    }
    const bool on_server = std::any_of(listed.begin(), listed.end(), [&](const auto& m) {
      return same_folder(m.name, name) || same_folder(m.name, lf.name);
    });
    if (on_server || !folder_wanted(name, m_account.folders, m_options.folders)) {
      continue;
    }
    // Only a name that maps back onto this very directory is the same folder.
    auto back = maildir::folder_path(m_account.maildir, name, delimiter, layout_of(m_account));
    if (!back || back->lexically_normal() != lf.path.lexically_normal()) {
      m_result.warnings.push_back("local folder " + lf.path.string() +
                                  " has no name on the server (its name would map to another "
                                  "directory or is unsafe); it is not synced");
      continue;
    }
    auto row = db.folder(name);
    if (!row) {
      m_result.warnings.push_back(row.error().what());
      continue;
    }
    if (row->has_value()) {
      m_result.warnings.push_back(
          "folder " + name + " was deleted on the server; its local copy is kept at " +
          lf.path.string() +
          "; remove it to forget it, or create the folder on the server again to sync it");
      continue;
    }
    if (m_account.direction == core::Direction::pull) {
      log->info("account {}: local folder {} is not on the server; pull mode never creates "
                "server folders",
                m_account.name, name);
      continue;
    }
    if (m_options.dry_run) {
      m_result.warnings.push_back("folder " + name +
                                  " exists only locally; a real run creates it on the server");
      continue;
    }
    auto create = imap::CommandBuilder("CREATE").mailbox(name).build();
    if (create) {
      auto done = connection.session->execute(*create, m_timeout);
      if (!done) {
        create = util::unexpected(done.error());
      }
    }
    if (!create) {
      m_result.warnings.push_back("could not create folder " + name + " on the server (" +
                                  create.error().message + "); it is not synced");
      continue;
    }
    log->info("account {}: created folder {} on the server", m_account.name, name);
    targets.push_back({name, delimiter, {}, true, std::nullopt});
  }
}

std::optional<std::size_t> Runner::next() {
  std::lock_guard lock(m_lock);
  if (m_queue.empty()) {
    --m_active;
    return std::nullopt;
  }
  const auto index = m_queue.front();
  m_queue.pop_front();
  return index;
}

void Runner::give_up(std::size_t index, const core::Error& error) {
  std::lock_guard lock(m_lock);
  if (m_active > 1) {
    // Others still have connections: they take the folder over.
    m_queue.push_front(index);
    --m_active;
    return;
  }
  --m_active;
  m_result.folders[index].error = error;
  m_result.totals += m_result.folders[index].stats; // what it did before the connection went
  for (const auto rest : m_queue) {
    m_result.folders[rest].error =
        core::Error{error.scope, "folder " + m_targets[rest].name + " not synced: " + error.message,
                    error.hint};
  }
  m_queue.clear();
}

void Runner::finish(std::size_t index) {
  std::lock_guard lock(m_lock);
  m_result.totals += m_result.folders[index].stats;
  if (m_options.progress != nullptr) {
    ++m_options.progress->folders_done;
  }
}

void Runner::work(std::unique_ptr<Connection> connection) {
  auto log = util::logger("sync");
  // One Db handle per thread (see state::Db): never shared. The runner's own open
  // has already checked the file in this run.
  auto db = state::Db::open(m_options.db_path, state::Db::Check::skip);
  std::optional<core::Error> broken; // why this worker cannot sync anything
  if (!db) {
    broken = db.error();
  } else if (!connection) {
    // Connect before taking a folder, so the pool has its size from the start.
    auto opened = open_connection();
    if (opened) {
      connection = std::move(*opened);
    } else {
      broken = opened.error();
    }
  }
  while (auto index = next()) {
    if (broken) {
      give_up(*index, *broken);
      return;
    }
    FolderResult& result = m_result.folders[*index];
    const Target& target = m_targets[*index];
    int fruitless = 0; // connection losses in a row that moved nothing forward
    while (true) {
      const std::uint64_t before = progress_of(result.stats);
      if (!connection) {
        auto opened = open_connection();
        if (!opened) {
          give_up(*index, opened.error());
          return;
        }
        connection = std::move(*opened);
      }
      auto done = sync_one(*connection, *db, target, result);
      if (done) {
        break;
      }
      // A state DB failure (disk full, I/O error; its errors name the DB file) is
      // not cured by reconnecting: fetching again would only fill the disk more.
      if (done.error().scope < core::Scope::account ||
          done.error().message.find(m_options.db_path.string()) != std::string::npos) {
        result.error = done.error();
        // Commands the folder left in flight (a fetch stopped by a local error) have
        // handlers into that folder's sync, which is gone: the session is not used again.
        if (connection->session->in_flight() > 0) {
          connection.reset();
        }
        break;
      }
      connection.reset(); // the session is unusable after a connection-level failure
      // A server that cuts the session on poison messages (Exchange ends it after
      // about 10 errors) lets each attempt get further: only attempts that moved
      // nothing forward count against max_reconnects, under a hard cap.
      fruitless = progress_of(result.stats) == before ? fruitless + 1 : 0;
      if (fruitless > m_options.max_reconnects || result.reconnects >= k_max_reconnects_total) {
        result.error = done.error();
        break;
      }
      ++result.reconnects;
      // Only fruitless attempts count against the limit, so say which count this is
      // (a bare "N of M" read "3 of 2" after an attempt that made progress).
      log->warn("account {}: folder {}: {}; reconnecting ({} of {} without progress, {} in all)",
                m_account.name, target.name, done.error().message, fruitless,
                m_options.max_reconnects, result.reconnects);
    }
    finish(*index);
  }
  if (connection) {
    logout(*connection);
  }
}

core::Result<void> Runner::sync_one(Connection& connection, state::Db& db, const Target& target,
                                    FolderResult& result) {
  auto path =
      maildir::folder_path(m_account.maildir, target.name, target.delimiter, layout_of(m_account));
  UIDSYNC_TRY(path);
  auto stored = db.folder(target.name);
  UIDSYNC_TRY(stored);
  state::FolderRow row;
  if (stored->has_value()) {
    row = **stored;
  } else {
    row.name = target.name;
    row.local_path = fs::relative(*path, m_account.maildir).string();
  }
  const bool exists = fs::is_directory(*path);
  if (m_options.dry_run && !exists) {
    result.local_missing = true; // nothing local yet: everything on the server is new
    return {};
  }
  if (!m_options.dry_run) {
    (void)core::create_private_dirs(m_account.maildir); // Folder::open reports a failure
  }
  auto folder = maildir::Folder::open(m_account.maildir, *path, !m_options.dry_run);
  UIDSYNC_TRY(folder);
  if (row.id == 0 && !m_options.dry_run) {
    auto id = db.put_folder(row);
    UIDSYNC_TRY(id);
    row.id = *id;
  }
  ExecuteOptions eo;
  eo.dry_run = m_options.dry_run;
  eo.timeout = m_timeout;
  eo.progress = m_options.progress;
  eo.quarantine = m_account.quarantine;
  eo.account = m_account.name;
  eo.status_checked = target.status.has_value();
  eo.state_dir = m_options.db_path.parent_path();
  eo.plan.direction =
      m_account.direction == core::Direction::pull ? Direction::pull : Direction::two_way;
  eo.plan.guard_percent = static_cast<unsigned>(m_account.guard.max_delete_percent);
  eo.plan.guard_count = static_cast<unsigned>(m_account.guard.max_delete_count);
  eo.plan.allow_mass_delete = m_options.allow_mass_delete;
  // A folder synced before whose directory vanished must not delete server mail.
  eo.plan.local_folder_exists = exists || row.uidvalidity == 0;
  auto plan =
      sync_folder(*connection.session, *connection.router, *folder, db, row, eo, result.stats);
  UIDSYNC_TRY(plan);
  if (m_options.dry_run) {
    result.plan = std::move(*plan);
    return {};
  }
  row.last_sync = static_cast<std::int64_t>(std::time(nullptr));
  UIDSYNC_TRY(db.put_folder(row));
  return {};
}

} // namespace

bool AccountResult::ok() const {
  return !error && std::none_of(folders.begin(), folders.end(),
                                [](const FolderResult& f) { return f.error.has_value(); });
}

AccountResult sync_account(const core::Account& account, const AccountOptions& options) {
  AccountResult result;
  AccountOptions counted = options;
  counted.connect = [inner = options.connect]() {
    auto transport = inner();
    if (transport) {
      ++t_logins;
    }
    return transport;
  };
  Runner runner(account, counted, result);
  runner.run();
  result.connections = runner.connections();
  result.bytes_in = runner.wire().in;
  result.bytes_out = runner.wire().out;
  result.imap_bytes_in = runner.wire().imap_in;
  result.imap_bytes_out = runner.wire().imap_out;
  result.compressed_connections = runner.wire().compressed;
  return result;
}

bool folder_wanted(const std::string& name, const std::vector<std::string>& include,
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

void sort_for_sync(std::vector<std::string>& names) {
  std::stable_sort(names.begin(), names.end(), sync_before);
}

core::Result<std::vector<imap::MailboxList>>
list_server_folders(imap::Session& session, std::chrono::milliseconds timeout, bool all) {
  std::vector<imap::MailboxList> folders;
  auto list = imap::CommandBuilder("LIST").raw("\"\"").raw("\"*\"").build();
  UIDSYNC_TRY(list);
  UIDSYNC_TRY(session.execute(*list, timeout, [&folders, all](const imap::Response& r) {
    const auto* m = std::get_if<imap::MailboxList>(&r.value);
    if (m == nullptr || m->lsub) {
      return;
    }
    if (all || selectable(*m)) {
      folders.push_back(*m);
    }
  }));
  return folders;
}

std::vector<std::string> special_use(const std::vector<std::string>& attributes) {
  static constexpr std::array<std::string_view, 7> k_special{
      "\\All", "\\Archive", "\\Drafts", "\\Flagged", "\\Junk", "\\Sent", "\\Trash"};
  std::vector<std::string> out;
  for (const auto& a : attributes) {
    for (const auto s : k_special) {
      if (iequals(a, s)) {
        out.emplace_back(s);
      }
    }
  }
  return out;
}

} // namespace uidsync::sync
