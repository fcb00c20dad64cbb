// SPDX-License-Identifier: GPL-3.0-or-later
// The per-account SQLite state database: schema, migrations, transactions, queries.
#pragma once

#include <uidsync/core/error.hpp>
#include <uidsync/core/types.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace uidsync::state {

// The schema version this build writes. Older files are upgraded at open through
// the ladder in schema.cpp; newer files are refused.
inline constexpr int k_schema_version = 4;

// Persisted in message.state: never renumber.
enum class MessageState : int {
  present = 0,  // on both sides as far as we know
  expunged = 1, // deleted locally, deletion not yet propagated to the server
  pending = 2,  // announced by the server, not stored locally yet
};

// Persisted in quarantine.state: never renumber.
enum class QuarantineState : int { active = 0, released = 1, forgotten = 2 };

// Persisted in anomaly.kind: never renumber.
enum class AnomalyKind : int {
  exists_mismatch = 0,
  uid_reappeared = 1,
  uid_reused = 2,
  bad_uid = 3,
  uidvalidity_changed = 4,
};

struct FolderRow {
  std::int64_t id = 0; // 0 until stored
  std::string name;    // the server's name, decoded to UTF-8
  core::UidValidity uidvalidity = 0;
  core::Uid uidnext = 0;
  core::ModSeq highestmodseq = 0;
  std::string local_path;     // relative to the Maildir root
  std::int64_t last_sync = 0; // unix seconds, 0 = never
  std::string scan_stamp;     // maildir::Folder::stamp() at the last full scan; may be empty
  bool operator==(const FolderRow&) const = default;
};

struct MessageRow {
  std::int64_t folder_id = 0;
  core::Uid uid = 0;
  std::string local_name; // "cur/<file>" or "new/<file>", relative to the folder's path
  core::Flags flags;
  std::string keywords; // space-separated IMAP keywords (never in file names)
  std::uint64_t size = 0;
  std::int64_t internaldate = 0; // unix seconds
  std::string message_id;        // the Message-ID header value, angle brackets included
  std::string digest;            // hex SHA-256 of the raw message
  MessageState state = MessageState::present;
  bool operator==(const MessageRow&) const = default;
};

struct QuarantineRow {
  std::int64_t folder_id = 0;
  core::UidValidity uidvalidity = 0;
  core::Uid uid = 0;
  std::string reason;
  std::string detail;
  std::int64_t first_seen = 0;
  std::int64_t last_try = 0;
  int tries = 0;
  std::int64_t next_try = 0;
  QuarantineState state = QuarantineState::active;
  std::string evidence; // path of the redacted transcript excerpt, may be empty
  bool operator==(const QuarantineRow&) const = default;
};

struct AnomalyRow {
  std::int64_t folder_id = 0;
  AnomalyKind kind = AnomalyKind::exists_mismatch;
  std::string detail;
  std::int64_t seen_at = 0;
  core::Uid uid = 0;            // the UID concerned, 0 when the anomaly is about the folder
  std::string evidence;         // path of the redacted transcript excerpt, may be empty
  std::int64_t resolved_at = 0; // unix seconds when the server was seen consistent again
  std::int64_t id = 0;          // set when read back
  bool operator==(const AnomalyRow&) const = default;
};

// An upload in flight: written before the APPEND, removed once the message's UID
// is recorded. A row left by an interrupted run is looked up on the server (by
// Message-ID, then size and digest) before the file is uploaded again.
struct AppendJournalRow {
  std::int64_t folder_id = 0;
  std::string local_key; // sync::message_key() of the local file
  std::string message_id;
  std::uint64_t size = 0;
  std::string digest;
  std::int64_t started_at = 0;
  bool operator==(const AppendJournalRow&) const = default;
};

class Db;

// RAII transaction (BEGIN IMMEDIATE). The destructor rolls back unless commit()
// succeeded. At most one is open per Db; queries run inside it while it lives.
// It points to its Db: it must not outlive it, and the Db must not be moved
// while it is open.
class Transaction {
public:
  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  // Commits. Fails with Scope::account if SQLite cannot (disk full, I/O error);
  // the transaction is then rolled back.
  core::Result<void> commit();

private:
  friend class Db;
  explicit Transaction(Db* db) : m_db(db) {}
  Db* m_db;
};

// One open state database. Move-only; closing happens in the destructor. Used by
// one thread at a time (the connection is opened without SQLite's mutex).
// Every query returns Scope::account errors naming the DB file.
class Db {
public:
  // Whether open() runs `PRAGMA quick_check`, which reads every page (a quarter of a
  // second for 50,000 messages). `skip` is for a second handle on a file this process
  // has already checked in the same run, such as each worker of the connection pool.
  enum class Check { full, skip };

  // Opens (or creates, with mode 0600 and a 0700 parent directory) the DB at `path`,
  // sets WAL mode and a busy timeout, runs `PRAGMA quick_check` (see Check), and upgrades an
  // older schema. Fails with Scope::account, naming the file and how to rebuild it,
  // if the file is empty, corrupt, not a database, or from a newer version, or if
  // another program keeps it locked for longer than the 5 s busy timeout.
  // An existing file is never recreated empty. A new file is built under
  // "<path>.new" and renamed into place once its schema is complete, so that a
  // crash while creating it never leaves a file that later opens as damaged.
  static core::Result<Db> open(const std::filesystem::path& path, Check check = Check::full);

  Db(Db&&) noexcept;
  Db& operator=(Db&&) noexcept;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  const std::filesystem::path& path() const;
  core::Result<int> schema_version();

  // Starts a write transaction; see Transaction.
  core::Result<Transaction> begin();

  // Folders. `put_folder` inserts (row.id == 0) or updates; returns the id.
  core::Result<std::int64_t> put_folder(const FolderRow& row);
  core::Result<std::optional<FolderRow>> folder(const std::string& name);
  core::Result<std::vector<FolderRow>> folders(); // by name

  // Messages, keyed by (folder_id, uid). `put_message` inserts or replaces.
  core::Result<void> put_message(const MessageRow& row);
  core::Result<void> put_messages(const std::vector<MessageRow>& rows); // one transaction
  core::Result<void> delete_message(std::int64_t folder_id, core::Uid uid);
  core::Result<std::vector<MessageRow>> messages(std::int64_t folder_id); // by uid
  // The same rows keyed by UID, built as they are read (no vector of every row
  // next to the map while a large folder loads).
  core::Result<std::map<core::Uid, MessageRow>> messages_by_uid(std::int64_t folder_id);
  core::Result<std::size_t> message_count(std::int64_t folder_id);
  // Only the UIDs (ascending) or only the local names of a folder's rows: a
  // fraction of the memory of messages() for a large folder.
  core::Result<std::vector<core::Uid>> message_uids(std::int64_t folder_id);
  core::Result<std::vector<std::string>> local_names(std::int64_t folder_id);
  // The messages of a folder with this Message-ID (indexed): re-pairing after a
  // UIDVALIDITY change compares their size and digest with the server's.
  core::Result<std::vector<MessageRow>> messages_with_id(std::int64_t folder_id,
                                                         const std::string& message_id);

  // Quarantine, keyed by (folder_id, uidvalidity, uid); `put_quarantine` upserts.
  core::Result<void> put_quarantine(const QuarantineRow& row);
  core::Result<std::vector<QuarantineRow>> quarantine(std::int64_t folder_id);

  core::Result<void> delete_quarantine(std::int64_t folder_id, core::UidValidity uidvalidity,
                                       core::Uid uid);

  core::Result<void> add_anomaly(const AnomalyRow& row);
  core::Result<std::vector<AnomalyRow>> anomalies(std::int64_t folder_id); // by seen_at
  // Marks every unresolved anomaly of `kind` in the folder resolved at `when`.
  core::Result<void> resolve_anomalies(std::int64_t folder_id, AnomalyKind kind, std::int64_t when);

  // The APPEND journal; `put_append` upserts by (folder_id, local_key).
  core::Result<void> put_append(const AppendJournalRow& row);
  core::Result<void> delete_append(std::int64_t folder_id, const std::string& local_key);
  core::Result<std::vector<AppendJournalRow>> appends(std::int64_t folder_id); // by key

  struct Impl;

private:
  friend class Transaction;
  explicit Db(std::unique_ptr<Impl> impl);
  // open() on a file that exists, or (create) on a new one.
  static core::Result<Db> open_file(const std::filesystem::path& path, Check check);
  core::Result<std::vector<MessageRow>> message_rows(std::string_view sql, std::int64_t folder_id,
                                                     const std::string* message_id);
  // Runs `sql` (message columns, ?1 = `folder_id`, ?2 = `message_id` when given) and
  // hands each row to `add`.
  core::Result<void> each_message_row(std::string_view sql, std::int64_t folder_id,
                                      const std::string* message_id,
                                      const std::function<void(MessageRow&&)>& add);
  std::unique_ptr<Impl> m_impl;
};

} // namespace uidsync::state
