// SPDX-License-Identifier: GPL-3.0-or-later
// The state DB: open + integrity check + upgrade ladder, transactions, queries.
#include "schema.hpp"

#include <uidsync/state/db.hpp>
#include <uidsync/util/log.hpp>

#include <fmt/format.h>
#include <sqlite3.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <map>
#include <system_error>

namespace uidsync::state {

namespace fs = std::filesystem;

namespace {

constexpr int k_busy_timeout_ms = 5000;

std::string rebuild_hint(const fs::path& path) {
  return fmt::format("move it aside (mv '{0}' '{0}.broken') and sync again: uidsync rebuilds "
                     "the state from the Maildir's ,U= file names without downloading again",
                     path.string());
}

} // namespace

struct Db::Impl {
  fs::path path;
  sqlite3* handle = nullptr;
  std::map<std::string, sqlite3_stmt*, std::less<>> statements;
  bool in_transaction = false;

  ~Impl() {
    for (auto& [sql, stmt] : statements) {
      sqlite3_finalize(stmt);
    }
    if (handle != nullptr) {
      sqlite3_close_v2(handle);
    }
  }

  util::Unexpected<core::Error> error(std::string_view what) const {
    const int code = sqlite3_errcode(handle) & 0xff;
    // A lock held by another program is not damage: moving the file aside would be wrong.
    const bool locked = code == SQLITE_BUSY || code == SQLITE_LOCKED;
    return util::unexpected(core::Error{
        core::Scope::account,
        fmt::format("state DB {}: {} failed: {}", path.string(), what, sqlite3_errmsg(handle)),
        locked ? "close the other program using it (an sqlite3 shell, a backup tool) and sync "
                 "again"
               : "check the disk (space, permissions); if the file is damaged, " +
                     rebuild_hint(path)});
  }

  core::Result<void> exec(std::string_view sql, std::string_view what) {
    const std::string text(sql);
    if (sqlite3_exec(handle, text.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
      return error(what);
    }
    return {};
  }

  // A cached prepared statement, reset and unbound when the guard goes away.
  class Stmt {
  public:
    Stmt(sqlite3_stmt* s) : m_stmt(s) {}
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;
    ~Stmt() {
      sqlite3_reset(m_stmt);
      sqlite3_clear_bindings(m_stmt);
    }
    sqlite3_stmt* get() const { return m_stmt; }

    void bind(int i, std::int64_t v) { sqlite3_bind_int64(m_stmt, i, v); }
    void bind(int i, const std::string& v) {
      sqlite3_bind_text(m_stmt, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    }
    std::int64_t i64(int col) const { return sqlite3_column_int64(m_stmt, col); }
    std::string text(int col) const {
      const auto* p = sqlite3_column_text(m_stmt, col);
      const int n = sqlite3_column_bytes(m_stmt, col);
      return p == nullptr
                 ? std::string()
                 : std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
    }

  private:
    sqlite3_stmt* m_stmt;
  };

  core::Result<sqlite3_stmt*> prepare(std::string_view sql) {
    if (auto it = statements.find(sql); it != statements.end()) {
      return it->second;
    }
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(handle, sql.data(), static_cast<int>(sql.size()),
                           SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
      return error("preparing a query");
    }
    statements.emplace(std::string(sql), stmt);
    return stmt;
  }

  // Calls `fn` for each row of `stmt`.
  template <class Fn>
  core::Result<void> rows(Stmt& stmt, std::string_view what, Fn&& fn) {
    int rc = SQLITE_ROW;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
      fn();
    }
    if (rc != SQLITE_DONE) {
      return error(what);
    }
    return {};
  }

  // Runs a statement that returns no rows.
  core::Result<void> done(Stmt& stmt, std::string_view what) {
    if (sqlite3_step(stmt.get()) != SQLITE_DONE) {
      return error(what);
    }
    return {};
  }
};

#define UIDSYNC_PREPARE(var, sql)                                                                  \
  auto var##_prepared = m_impl->prepare(sql);                                                      \
  if (!var##_prepared) {                                                                           \
    return util::unexpected(std::move(var##_prepared).error());                                    \
  }                                                                                                \
  Impl::Stmt var(*var##_prepared)

// ---- Transaction -----------------------------------------------------------

Transaction::Transaction(Transaction&& other) noexcept : m_db(other.m_db) {
  other.m_db = nullptr;
}

Transaction::~Transaction() {
  if (m_db != nullptr) {
    sqlite3_exec(m_db->m_impl->handle, "ROLLBACK", nullptr, nullptr, nullptr);
    m_db->m_impl->in_transaction = false;
  }
}

core::Result<void> Transaction::commit() {
  if (m_db == nullptr) {
    return core::fail(core::Scope::fatal, "state DB: commit() on a finished transaction");
  }
  auto& impl = *m_db->m_impl;
  auto result = impl.exec("COMMIT", "committing a transaction");
  if (!result) {
    return result; // the destructor rolls back
  }
  impl.in_transaction = false;
  m_db = nullptr;
  return {};
}

// ---- Db --------------------------------------------------------------------

Db::Db(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
Db::Db(Db&&) noexcept = default;
Db& Db::operator=(Db&&) noexcept = default;
Db::~Db() = default;

const fs::path& Db::path() const {
  return m_impl->path;
}

core::Result<Db> Db::open(const fs::path& path, Check check) {
  std::error_code ec;
  if (!fs::exists(path, ec) && !ec) {
    fs::path fresh = path;
    fresh += ".new";
    for (const char* leftover : {"", "-wal", "-shm", "-journal"}) {
      fs::remove(fresh.string() + leftover, ec); // an earlier creation that was cut short
    }
    {
      auto made = open_file(fresh, Check::skip);
      UIDSYNC_TRY(made);
    } // closed: SQLite checkpoints the WAL into the file and syncs it
    if (::rename(fresh.c_str(), path.c_str()) != 0) {
      return core::fail(core::Scope::account,
                        fmt::format("cannot create the state DB {}: renaming {} failed: {}",
                                    path.string(), fresh.string(), std::strerror(errno)),
                        "check the state directory's permissions and free space");
    }
    if (const int dir = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        dir >= 0) {
      ::fsync(dir);
      ::close(dir);
    }
  }
  return open_file(path, check);
}

core::Result<Db> Db::open_file(const fs::path& path, Check check) {
  auto corrupt = [&](std::string_view why) {
    return core::fail(core::Scope::account,
                      fmt::format("state DB {} is unreadable or corrupt: {}", path.string(), why),
                      rebuild_hint(path));
  };

  std::error_code ec;
  const bool existed = fs::exists(path, ec);
  if (existed && fs::file_size(path, ec) == 0 && !ec) {
    // An empty file is a truncated DB, not a new one: starting from an empty state
    // next to a full Maildir would look like every message was deleted.
    return corrupt("the file is empty (truncated)");
  }
  if (!existed) {
    const auto parent = path.parent_path();
    if (!parent.empty() && !fs::exists(parent, ec)) {
      fs::create_directories(parent, ec);
      if (ec) {
        return core::fail(
            core::Scope::account,
            fmt::format("cannot create the state directory {}: {}", parent.string(), ec.message()),
            "check its permissions or set XDG_STATE_HOME");
      }
      ::chmod(parent.c_str(), 0700);
    }
  }

  auto impl = std::make_unique<Impl>();
  impl->path = path;
  const int flags =
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (existed ? 0 : SQLITE_OPEN_CREATE);
  if (sqlite3_open_v2(path.c_str(), &impl->handle, flags, nullptr) != SQLITE_OK) {
    return corrupt(impl->handle != nullptr ? sqlite3_errmsg(impl->handle) : "out of memory");
  }
  if (!existed) {
    ::chmod(path.c_str(), 0600);
  }
  sqlite3_busy_timeout(impl->handle, k_busy_timeout_ms);
  sqlite3_extended_result_codes(impl->handle, 1);

  // quick_check first: it is what reports a garbage header or a truncated file.
  if (check == Check::full) {
    sqlite3_stmt* raw = nullptr;
    auto unreadable = [&](int rc) {
      const std::string why = sqlite3_errmsg(impl->handle);
      if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
        return core::fail(core::Scope::account,
                          fmt::format("state DB {} stayed locked by another program for {} s: {}",
                                      path.string(), k_busy_timeout_ms / 1000, why),
                          "close the other program using it (an sqlite3 shell, a backup tool) "
                          "and sync again");
      }
      return corrupt(why);
    };
    if (const int rc = sqlite3_prepare_v2(impl->handle, "PRAGMA quick_check", -1, &raw, nullptr);
        rc != SQLITE_OK) {
      return unreadable(rc);
    }
    std::string problems;
    int rc = SQLITE_ROW;
    while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
      const auto* text = sqlite3_column_text(raw, 0);
      const std::string line = text == nullptr ? "" : reinterpret_cast<const char*>(text);
      if (line != "ok") {
        problems += (problems.empty() ? "" : "; ") + line;
      }
    }
    if (rc != SQLITE_DONE) {
      auto failure = unreadable(rc);
      sqlite3_finalize(raw);
      return failure;
    }
    sqlite3_finalize(raw);
    if (!problems.empty()) {
      return corrupt("quick_check: " + problems);
    }
  }

  UIDSYNC_TRY(impl->exec("PRAGMA journal_mode = WAL", "enabling WAL mode"));
  UIDSYNC_TRY(impl->exec("PRAGMA synchronous = FULL", "setting synchronous mode"));
  UIDSYNC_TRY(impl->exec("PRAGMA foreign_keys = ON", "enabling foreign keys"));
  // Each thread of the pool has its own handle; SQLite's default 2 MiB page cache
  // per handle made up a third of the peak memory of a 50,000-message sync, and the
  // kernel's page cache serves the re-reads just as well.
  UIDSYNC_TRY(impl->exec("PRAGMA cache_size = -512", "sizing the page cache"));

  Db db(std::move(impl));
  auto version = db.schema_version();
  if (!version) {
    return util::unexpected(std::move(version).error());
  }
  if (*version == 0 && existed) {
    return corrupt("it has no schema_version table, so it is not a uidsync state DB");
  }
  if (*version > k_schema_version) {
    return core::fail(core::Scope::account,
                      fmt::format("state DB {} has schema version {}, newer than this uidsync "
                                  "understands ({})",
                                  path.string(), *version, k_schema_version),
                      "run the newer uidsync that wrote it, or " + rebuild_hint(path));
  }
  const auto steps = detail::migrations();
  for (int v = *version; v < k_schema_version; ++v) {
    auto tx = db.begin();
    if (!tx) {
      return util::unexpected(std::move(tx).error());
    }
    UIDSYNC_TRY(
        db.m_impl->exec(steps[static_cast<std::size_t>(v)],
                        fmt::format("upgrading the schema from version {} to {}", v, v + 1)));
    UIDSYNC_TRY(db.m_impl->exec(fmt::format("UPDATE schema_version SET version = {}", v + 1),
                                "recording the schema version"));
    UIDSYNC_TRY(tx->commit());
    if (*version > 0) { // a new DB climbs the ladder silently; an old one says so
      util::logger("state")->info("upgraded {} from schema version {} to {}", path.string(), v,
                                  v + 1);
    }
  }
  return db;
}

core::Result<int> Db::schema_version() {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(m_impl->handle,
                         "SELECT count(*) FROM sqlite_schema WHERE name = 'schema_version'", -1,
                         &raw, nullptr) != SQLITE_OK) {
    return m_impl->error("reading the schema");
  }
  int rc = sqlite3_step(raw);
  const bool has_table = rc == SQLITE_ROW && sqlite3_column_int(raw, 0) > 0;
  sqlite3_finalize(raw);
  if (rc != SQLITE_ROW) {
    return m_impl->error("reading the schema");
  }
  if (!has_table) {
    return 0;
  }
  UIDSYNC_PREPARE(stmt, "SELECT version FROM schema_version");
  if (sqlite3_step(stmt.get()) != SQLITE_ROW) {
    return m_impl->error("reading schema_version");
  }
  return static_cast<int>(stmt.i64(0));
}

core::Result<Transaction> Db::begin() {
  if (m_impl->in_transaction) {
    return core::fail(core::Scope::fatal,
                      fmt::format("state DB {}: nested transaction", m_impl->path.string()));
  }
  UIDSYNC_TRY(m_impl->exec("BEGIN IMMEDIATE", "starting a transaction"));
  m_impl->in_transaction = true;
  return Transaction(this);
}

namespace {
// Binds a folder row's columns (name .. scan_stamp, in table order) from parameter `first` on.
template <class Stmt>
void bind_folder_fields(Stmt& stmt, const FolderRow& row, int first) {
  stmt.bind(first, row.name);
  stmt.bind(first + 1, std::int64_t{row.uidvalidity});
  stmt.bind(first + 2, std::int64_t{row.uidnext});
  stmt.bind(first + 3, static_cast<std::int64_t>(row.highestmodseq));
  stmt.bind(first + 4, row.local_path);
  stmt.bind(first + 5, row.last_sync);
  stmt.bind(first + 6, row.scan_stamp);
}
} // namespace

core::Result<std::int64_t> Db::put_folder(const FolderRow& row) {
  if (row.id == 0) {
    UIDSYNC_PREPARE(stmt, "INSERT INTO folder (name, uidvalidity, uidnext, highestmodseq, "
                          "local_path, last_sync, scan_stamp) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    bind_folder_fields(stmt, row, 1);
    UIDSYNC_TRY(m_impl->done(stmt, "storing folder " + row.name));
    return sqlite3_last_insert_rowid(m_impl->handle);
  }
  UIDSYNC_PREPARE(stmt, "UPDATE folder SET name = ?2, uidvalidity = ?3, uidnext = ?4, "
                        "highestmodseq = ?5, local_path = ?6, last_sync = ?7, scan_stamp = ?8 "
                        "WHERE id = ?1");
  stmt.bind(1, row.id);
  bind_folder_fields(stmt, row, 2);
  UIDSYNC_TRY(m_impl->done(stmt, "updating folder " + row.name));
  return row.id;
}

namespace {
constexpr std::string_view k_folder_select =
    "SELECT id, name, uidvalidity, uidnext, highestmodseq, "
    "local_path, last_sync, scan_stamp FROM folder";

template <class Stmt>
FolderRow read_folder(const Stmt& stmt) {
  FolderRow row;
  row.id = stmt.i64(0);
  row.name = stmt.text(1);
  row.uidvalidity = static_cast<core::UidValidity>(stmt.i64(2));
  row.uidnext = static_cast<core::Uid>(stmt.i64(3));
  row.highestmodseq = static_cast<core::ModSeq>(stmt.i64(4));
  row.local_path = stmt.text(5);
  row.last_sync = stmt.i64(6);
  row.scan_stamp = stmt.text(7);
  return row;
}
} // namespace

core::Result<std::optional<FolderRow>> Db::folder(const std::string& name) {
  static const std::string sql = fmt::format("{} WHERE name = ?1", k_folder_select);
  UIDSYNC_PREPARE(stmt, sql);
  stmt.bind(1, name);
  std::optional<FolderRow> found;
  UIDSYNC_TRY(m_impl->rows(stmt, "reading folder " + name, [&] { found = read_folder(stmt); }));
  return found;
}

core::Result<std::vector<FolderRow>> Db::folders() {
  static const std::string sql = fmt::format("{} ORDER BY name", k_folder_select);
  UIDSYNC_PREPARE(stmt, sql);
  std::vector<FolderRow> rows;
  UIDSYNC_TRY(m_impl->rows(stmt, "listing folders", [&] { rows.push_back(read_folder(stmt)); }));
  return rows;
}

core::Result<void> Db::put_message(const MessageRow& row) {
  UIDSYNC_PREPARE(stmt, "INSERT OR REPLACE INTO message (folder_id, uid, local_name, flags, "
                        "keywords, size, internaldate, message_id, digest, state) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
  stmt.bind(1, row.folder_id);
  stmt.bind(2, std::int64_t{row.uid});
  stmt.bind(3, row.local_name);
  stmt.bind(4, row.flags.to_maildir());
  stmt.bind(5, row.keywords);
  stmt.bind(6, static_cast<std::int64_t>(row.size));
  stmt.bind(7, row.internaldate);
  stmt.bind(8, row.message_id);
  stmt.bind(9, row.digest);
  stmt.bind(10, std::int64_t{static_cast<int>(row.state)});
  return m_impl->done(stmt, fmt::format("storing UID {} of folder id {}", row.uid, row.folder_id));
}

core::Result<void> Db::put_messages(const std::vector<MessageRow>& rows) {
  auto tx = begin();
  if (!tx) {
    return util::unexpected(std::move(tx).error());
  }
  for (const auto& row : rows) {
    UIDSYNC_TRY(put_message(row));
  }
  return tx->commit();
}

core::Result<void> Db::delete_message(std::int64_t folder_id, core::Uid uid) {
  UIDSYNC_PREPARE(stmt, "DELETE FROM message WHERE folder_id = ?1 AND uid = ?2");
  stmt.bind(1, folder_id);
  stmt.bind(2, std::int64_t{uid});
  return m_impl->done(stmt, fmt::format("deleting UID {} of folder id {}", uid, folder_id));
}

namespace {
constexpr std::string_view k_message_columns =
    "uid, local_name, flags, keywords, size, internaldate, message_id, digest, state";
} // namespace

core::Result<void> Db::each_message_row(std::string_view sql, std::int64_t folder_id,
                                        const std::string* message_id,
                                        const std::function<void(MessageRow&&)>& add) {
  UIDSYNC_PREPARE(stmt, sql);
  stmt.bind(1, folder_id);
  if (message_id != nullptr) {
    stmt.bind(2, *message_id);
  }
  return m_impl->rows(stmt, fmt::format("listing messages of folder id {}", folder_id), [&] {
    MessageRow row;
    row.folder_id = folder_id;
    row.uid = static_cast<core::Uid>(stmt.i64(0));
    row.local_name = stmt.text(1);
    row.flags = core::Flags::from_maildir(stmt.text(2));
    row.keywords = stmt.text(3);
    row.size = static_cast<std::uint64_t>(stmt.i64(4));
    row.internaldate = stmt.i64(5);
    row.message_id = stmt.text(6);
    row.digest = stmt.text(7);
    row.state = static_cast<MessageState>(stmt.i64(8));
    add(std::move(row));
  });
}

core::Result<std::vector<MessageRow>> Db::message_rows(std::string_view sql, std::int64_t folder_id,
                                                       const std::string* message_id) {
  std::vector<MessageRow> rows;
  UIDSYNC_TRY(each_message_row(sql, folder_id, message_id,
                               [&](MessageRow&& row) { rows.push_back(std::move(row)); }));
  return rows;
}

core::Result<std::vector<MessageRow>> Db::messages(std::int64_t folder_id) {
  static const std::string sql =
      fmt::format("SELECT {} FROM message WHERE folder_id = ?1 ORDER BY uid", k_message_columns);
  return message_rows(sql, folder_id, nullptr);
}

core::Result<std::map<core::Uid, MessageRow>> Db::messages_by_uid(std::int64_t folder_id) {
  static const std::string sql =
      fmt::format("SELECT {} FROM message WHERE folder_id = ?1 ORDER BY uid", k_message_columns);
  std::map<core::Uid, MessageRow> rows;
  // In UID order: each row goes at the end, without a search.
  UIDSYNC_TRY(each_message_row(sql, folder_id, nullptr, [&](MessageRow&& row) {
    const auto uid = row.uid;
    rows.emplace_hint(rows.end(), uid, std::move(row));
  }));
  return rows;
}

core::Result<std::size_t> Db::message_count(std::int64_t folder_id) {
  UIDSYNC_PREPARE(stmt, "SELECT COUNT(*) FROM message WHERE folder_id = ?1");
  stmt.bind(1, folder_id);
  std::size_t count = 0;
  UIDSYNC_TRY(m_impl->rows(stmt, fmt::format("counting messages of folder id {}", folder_id),
                           [&] { count = static_cast<std::size_t>(stmt.i64(0)); }));
  return count;
}

core::Result<std::vector<core::Uid>> Db::message_uids(std::int64_t folder_id) {
  UIDSYNC_PREPARE(stmt, "SELECT uid FROM message WHERE folder_id = ?1 ORDER BY uid");
  stmt.bind(1, folder_id);
  std::vector<core::Uid> uids;
  UIDSYNC_TRY(m_impl->rows(stmt, fmt::format("listing the UIDs of folder id {}", folder_id),
                           [&] { uids.push_back(static_cast<core::Uid>(stmt.i64(0))); }));
  return uids;
}

core::Result<std::vector<std::string>> Db::local_names(std::int64_t folder_id) {
  UIDSYNC_PREPARE(stmt, "SELECT local_name FROM message WHERE folder_id = ?1");
  stmt.bind(1, folder_id);
  std::vector<std::string> names;
  UIDSYNC_TRY(m_impl->rows(stmt, fmt::format("listing the files of folder id {}", folder_id),
                           [&] { names.push_back(stmt.text(0)); }));
  return names;
}

core::Result<std::vector<MessageRow>> Db::messages_with_id(std::int64_t folder_id,
                                                           const std::string& message_id) {
  static const std::string sql =
      fmt::format("SELECT {} FROM message WHERE folder_id = ?1 AND message_id = ?2 ORDER BY uid",
                  k_message_columns);
  return message_rows(sql, folder_id, &message_id);
}

core::Result<void> Db::put_quarantine(const QuarantineRow& row) {
  UIDSYNC_PREPARE(stmt, "INSERT OR REPLACE INTO quarantine (folder_id, uidvalidity, uid, reason, "
                        "detail, first_seen, last_try, tries, next_try, state, evidence) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
  stmt.bind(1, row.folder_id);
  stmt.bind(2, std::int64_t{row.uidvalidity});
  stmt.bind(3, std::int64_t{row.uid});
  stmt.bind(4, row.reason);
  stmt.bind(5, row.detail);
  stmt.bind(6, row.first_seen);
  stmt.bind(7, row.last_try);
  stmt.bind(8, std::int64_t{row.tries});
  stmt.bind(9, row.next_try);
  stmt.bind(10, std::int64_t{static_cast<int>(row.state)});
  stmt.bind(11, row.evidence);
  return m_impl->done(stmt, fmt::format("quarantining UID {}", row.uid));
}

core::Result<std::vector<QuarantineRow>> Db::quarantine(std::int64_t folder_id) {
  UIDSYNC_PREPARE(stmt, "SELECT uidvalidity, uid, reason, detail, first_seen, last_try, tries, "
                        "next_try, state, evidence FROM quarantine WHERE folder_id = ?1 "
                        "ORDER BY uid");
  stmt.bind(1, folder_id);
  std::vector<QuarantineRow> rows;
  UIDSYNC_TRY(m_impl->rows(stmt, "listing the quarantine", [&] {
    QuarantineRow row;
    row.folder_id = folder_id;
    row.uidvalidity = static_cast<core::UidValidity>(stmt.i64(0));
    row.uid = static_cast<core::Uid>(stmt.i64(1));
    row.reason = stmt.text(2);
    row.detail = stmt.text(3);
    row.first_seen = stmt.i64(4);
    row.last_try = stmt.i64(5);
    row.tries = static_cast<int>(stmt.i64(6));
    row.next_try = stmt.i64(7);
    row.state = static_cast<QuarantineState>(stmt.i64(8));
    row.evidence = stmt.text(9);
    rows.push_back(std::move(row));
  }));
  return rows;
}

core::Result<void> Db::delete_quarantine(std::int64_t folder_id, core::UidValidity uidvalidity,
                                         core::Uid uid) {
  UIDSYNC_PREPARE(stmt, "DELETE FROM quarantine WHERE folder_id = ?1 AND uidvalidity = ?2 AND "
                        "uid = ?3");
  stmt.bind(1, folder_id);
  stmt.bind(2, std::int64_t{uidvalidity});
  stmt.bind(3, std::int64_t{uid});
  return m_impl->done(stmt, fmt::format("releasing UID {} from the quarantine", uid));
}

core::Result<void> Db::add_anomaly(const AnomalyRow& row) {
  UIDSYNC_PREPARE(stmt, "INSERT INTO anomaly (folder_id, kind, detail, seen_at, uid, evidence, "
                        "resolved_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  stmt.bind(1, row.folder_id);
  stmt.bind(2, std::int64_t{static_cast<int>(row.kind)});
  stmt.bind(3, row.detail);
  stmt.bind(4, row.seen_at);
  stmt.bind(5, std::int64_t{row.uid});
  stmt.bind(6, row.evidence);
  stmt.bind(7, row.resolved_at);
  return m_impl->done(stmt, "recording an anomaly");
}

core::Result<std::vector<AnomalyRow>> Db::anomalies(std::int64_t folder_id) {
  UIDSYNC_PREPARE(stmt, "SELECT kind, detail, seen_at, uid, evidence, resolved_at, id FROM "
                        "anomaly WHERE folder_id = ?1 ORDER BY seen_at, id");
  stmt.bind(1, folder_id);
  std::vector<AnomalyRow> rows;
  UIDSYNC_TRY(m_impl->rows(stmt, "listing anomalies", [&] {
    AnomalyRow row;
    row.folder_id = folder_id;
    row.kind = static_cast<AnomalyKind>(stmt.i64(0));
    row.detail = stmt.text(1);
    row.seen_at = stmt.i64(2);
    row.uid = static_cast<core::Uid>(stmt.i64(3));
    row.evidence = stmt.text(4);
    row.resolved_at = stmt.i64(5);
    row.id = stmt.i64(6);
    rows.push_back(std::move(row));
  }));
  return rows;
}

core::Result<void> Db::resolve_anomalies(std::int64_t folder_id, AnomalyKind kind,
                                         std::int64_t when) {
  UIDSYNC_PREPARE(stmt, "UPDATE anomaly SET resolved_at = ?3 WHERE folder_id = ?1 AND kind = ?2 "
                        "AND resolved_at = 0");
  stmt.bind(1, folder_id);
  stmt.bind(2, std::int64_t{static_cast<int>(kind)});
  stmt.bind(3, when);
  return m_impl->done(stmt, "resolving anomalies");
}

core::Result<void> Db::put_append(const AppendJournalRow& row) {
  UIDSYNC_PREPARE(stmt, "INSERT OR REPLACE INTO append_journal (folder_id, local_key, message_id, "
                        "size, digest, started_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  stmt.bind(1, row.folder_id);
  stmt.bind(2, row.local_key);
  stmt.bind(3, row.message_id);
  stmt.bind(4, static_cast<std::int64_t>(row.size));
  stmt.bind(5, row.digest);
  stmt.bind(6, row.started_at);
  return m_impl->done(stmt, fmt::format("journaling the upload of {}", row.local_key));
}

core::Result<void> Db::delete_append(std::int64_t folder_id, const std::string& local_key) {
  UIDSYNC_PREPARE(stmt, "DELETE FROM append_journal WHERE folder_id = ?1 AND local_key = ?2");
  stmt.bind(1, folder_id);
  stmt.bind(2, local_key);
  return m_impl->done(stmt, fmt::format("closing the upload journal of {}", local_key));
}

core::Result<std::vector<AppendJournalRow>> Db::appends(std::int64_t folder_id) {
  UIDSYNC_PREPARE(stmt, "SELECT local_key, message_id, size, digest, started_at FROM "
                        "append_journal WHERE folder_id = ?1 ORDER BY local_key");
  stmt.bind(1, folder_id);
  std::vector<AppendJournalRow> rows;
  UIDSYNC_TRY(m_impl->rows(stmt, "listing the upload journal", [&] {
    AppendJournalRow row;
    row.folder_id = folder_id;
    row.local_key = stmt.text(0);
    row.message_id = stmt.text(1);
    row.size = static_cast<std::uint64_t>(stmt.i64(2));
    row.digest = stmt.text(3);
    row.started_at = stmt.i64(4);
    rows.push_back(std::move(row));
  }));
  return rows;
}

} // namespace uidsync::state
