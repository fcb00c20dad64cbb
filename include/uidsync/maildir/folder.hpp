// SPDX-License-Identifier: GPL-3.0-or-later
// One Maildir folder (cur/ new/ tmp/): scan, flag renames, expunge, tmp/ cleaning,
// and crash-safe batched delivery.
#pragma once

#include <uidsync/core/error.hpp>
#include <uidsync/core/types.hpp>
#include <uidsync/maildir/content.hpp>

#include <chrono>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace uidsync::maildir {

// One message file found by a scan.
struct LocalMessage {
  std::string name;  // "cur/<file>" or "new/<file>", relative to the folder
  core::Uid uid = 0; // from ",U=" (ours, mbsync's or OfflineIMAP's); 0 if none
  core::Flags flags; // from ":2,"
  std::string fmd5;  // OfflineIMAP's ",FMD5=" tag, empty if none
  std::uint64_t size = 0;
  std::int64_t mtime = 0; // unix seconds; = INTERNALDATE for files we delivered
  bool operator==(const LocalMessage&) const = default;
};

struct ScanResult {
  std::vector<LocalMessage> messages; // sorted by name
  bool rescanned = true; // false: cur/ and new/ were unchanged, this is the cached listing
};

// A message delivered to tmp/, durable only once its Batch is committed.
struct Delivered {
  core::Uid uid = 0;
  core::Flags flags;
  std::int64_t internaldate = 0;
  std::string tmp_name; // "tmp/<file>"
  std::string name;     // where it goes: "cur/<file>" or "new/<file>"
  ContentInfo content;
};

// How a batch is made durable before the renames.
enum class SyncMode {
  syncfs,         // one syncfs(2) of the Maildir's file system per batch
  parallel_fsync, // fsync(2) of each file on a small thread pool
};

class Folder;

// Streams one message body into tmp/ (file mode 0600), computing its content
// index on the fly. Destroying it before finish() removes the tmp file (an
// abandoned or poison message leaves nothing behind).
class Delivery {
public:
  Delivery(Delivery&& other) noexcept;
  Delivery& operator=(Delivery&&) = delete;
  Delivery(const Delivery&) = delete;
  Delivery& operator=(const Delivery&) = delete;
  ~Delivery();

  // Appends `chunk`. Fails with Scope::folder (disk full, I/O error) naming the file.
  core::Result<void> write(std::string_view chunk);
  // Closes the file and sets its mtime to the INTERNALDATE. Not yet durable: add
  // the result to a Batch.
  core::Result<Delivered> finish();

private:
  friend class Folder;
  Delivery(std::filesystem::path dir, Delivered pending, int fd);
  std::filesystem::path m_dir;
  Delivered m_pending;
  ContentHasher m_hasher;
  int m_fd = -1;
};

// A batch of finished deliveries to one folder.
class Batch {
public:
  // Called with the renamed messages; it records them in one state-DB transaction.
  using Recorder = std::function<core::Result<void>(const std::vector<Delivered>&)>;

  explicit Batch(Folder& folder) : m_folder(&folder) {}
  void add(Delivered delivered) { m_items.push_back(std::move(delivered)); }
  std::size_t size() const { return m_items.size(); }

  // The durability protocol, in this order (a crash anywhere leaves every message
  // either as tmp/ debris, or as a ",U=" file the next run adopts):
  //   1. make every tmp file durable (`mode`);
  //   2. rename each into new/ or cur/ (never replacing an existing file);
  //   3. fsync the new/ and cur/ directories;
  //   4. `record(items)`: one DB transaction.
  // Fails with Scope::folder on an I/O error, or with `record`'s error; files
  // already renamed then stay (the next run adopts them). The batch is empty after.
  core::Result<void> commit(const Recorder& record, SyncMode mode = SyncMode::syncfs);

private:
  Folder* m_folder;
  std::vector<Delivered> m_items;
};

// Threads: begin_delivery() and the Delivery objects may be used from several
// threads at once (IMAP sinks on worker threads); scan(), set_flags(), expunge(),
// clean_tmp() and Batch::commit() need the caller's synchronisation.
class Folder {
public:
  // Opens the Maildir at `dir`, which must be strictly below `root` (see
  // folder_path()). With `create`, makes missing directories (0700) and their
  // cur/ new/ tmp/, and fsyncs each new directory's parent. Fails with
  // Scope::folder if a path component below `root` is a symlink or not a
  // directory, or on an I/O error; nothing is created outside `root`.
  static core::Result<Folder> open(const std::filesystem::path& root,
                                   const std::filesystem::path& dir, bool create);

  const std::filesystem::path& path() const { return m_dir; }

  // Starts a delivery of `uid` with `flags`. The target is cur/ when \Seen is set
  // or other flags are, new/ for plain unseen mail.
  core::Result<Delivery> begin_delivery(core::Uid uid, core::Flags flags,
                                        std::int64_t internaldate);

  // Lists cur/ and new/. When neither directory's mtime changed since the last
  // full scan, and those mtimes were at least 2 s older than that scan's start
  // (file system timestamps are coarse), returns the cached listing with
  // `rescanned = false`. Files starting with '.' are skipped.
  core::Result<ScanResult> scan();

  // The mtimes of cur/ and new/ seen by the last full scan, as an opaque string
  // to keep in the state DB (state::FolderRow::scan_stamp); empty when that scan
  // could not be trusted for reuse (see scan()) or the folder changed since.
  std::string stamp() const;

  // True if cur/ and new/ still have the mtimes in `stamp` (from an earlier
  // run's stamp()): nothing was delivered, renamed or removed, and the listing
  // saved with it is still right. False for an empty stamp. Fails with
  // Scope::folder if a directory cannot be read.
  core::Result<bool> unchanged_since(std::string_view stamp) const;

  // A stamp for unchanged_since(), taken now, but only when cur/ and new/ hold
  // exactly the message files `expected` ("cur/<file>" names, any order): then a
  // later run that finds the stamp unchanged knows the folder still holds just
  // those. Waits until the directories' mtimes are 20 ms in the past, so any later
  // change must move them. Empty when the listing differs, when a directory changed
  // while it was read, or on a file system with whole-second mtimes (a change in
  // the same second could not be told). Fails with Scope::folder on an I/O error.
  core::Result<std::string> settled_stamp(std::vector<std::string> expected) const;

  // Renames the message `name` ("cur/…" or "new/…") into cur/ with `flags`;
  // returns its new name. Fails with Scope::message if the file is gone.
  core::Result<std::string> set_flags(const std::string& name, core::Flags flags);

  // Renames the message `name` ("cur/…" or "new/…"), which has no ",U=" tag yet,
  // into cur/ with ",U=`uid`" inserted before its ":2," info (flags, other tags and
  // unknown letters kept; a name without info gets an empty ":2,"), and fsyncs
  // cur/ and the directory it left, so the new name survives a crash before the
  // state row that records it. Returns the new name. Fails with Scope::message if
  // the file is gone or already carries a UID, Scope::folder on an I/O error.
  core::Result<std::string> set_uid(const std::string& name, core::Uid uid);

  // Renames the message `name` (which may carry a UID) in its directory so that its ",U=" tag says `uid`
  // (no tag when `uid` is 0), other tags and flags kept; fsyncs the directory and
  // returns the new name. Fails with Scope::message if the file is gone.
  core::Result<std::string> retag_uid(const std::string& name, core::Uid uid);

  // Unlinks the message `name` and fsyncs its directory.
  core::Result<void> expunge(const std::string& name);

  // Removes tmp/ files whose mtime and ctime are both older than `max_age` at
  // `now` (the Maildir spec's 36 hours). Returns how many were removed.
  core::Result<std::size_t> clean_tmp(std::chrono::system_clock::time_point now,
                                      std::chrono::seconds max_age = std::chrono::hours(36));

  // The content index of the message `name`, read from disk.
  core::Result<ContentInfo> content(const std::string& name) const;

private:
  friend class Batch;
  explicit Folder(std::filesystem::path dir) : m_dir(std::move(dir)) {}
  void invalidate() { m_cache_valid = false; }
  core::Result<std::pair<timespec, timespec>> dir_times() const;

  std::filesystem::path m_dir;
  std::vector<LocalMessage> m_cache;
  bool m_cache_valid = false;
  timespec m_cur_mtime{};
  timespec m_new_mtime{};
};

} // namespace uidsync::maildir
