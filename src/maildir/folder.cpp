// SPDX-License-Identifier: GPL-3.0-or-later
// One Maildir folder: open/create, delivery with the durability protocol, scan,
// flag renames, expunge, tmp/ cleaning.
#include "crash_hook.hpp"

#include <uidsync/core/paths.hpp>
#include <uidsync/maildir/folder.hpp>
#include <uidsync/maildir/name.hpp>

#include <fmt/format.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>

namespace uidsync::maildir {

namespace fs = std::filesystem;

namespace {

constexpr unsigned k_fsync_threads = 4;
constexpr std::array<const char*, 3> k_subdirs{"cur", "new", "tmp"};

util::Unexpected<core::Error> io_error(std::string_view what, const fs::path& path, int err,
                                       core::Scope scope = core::Scope::folder) {
  return util::unexpected(
      core::Error{scope, fmt::format("{} {}: {}", what, path.string(), std::strerror(err)),
                  "check the disk (free space, permissions, mount state) and sync again"});
}

// The error of a failed rename(2) of the message file `path`.
util::Unexpected<core::Error> rename_failed(const fs::path& path, int err) {
  if (err == ENOENT) {
    return core::fail(core::Scope::message,
                      fmt::format("message file {} vanished (another program moved or deleted it)",
                                  path.string()),
                      "nothing to do: the next sync rescans the folder");
  }
  return io_error("cannot rename", path, err, core::Scope::message);
}

// Opens `path` with `flags` and runs `op` (fsync, syncfs) on it.
core::Result<void> sync_path(const fs::path& path, int flags, int (*op)(int),
                             std::string_view what) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) {
    return io_error("cannot open", path, errno);
  }
  const int rc = op(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) {
    return io_error(what, path, err);
  }
  return {};
}

core::Result<void> fsync_path(const fs::path& path, int flags) {
  return sync_path(path, flags, ::fsync, "cannot fsync");
}

// Renames `name` to `target` inside the folder `dir`; Scope::message errors.
core::Result<void> rename_message(const fs::path& dir, const std::string& name,
                                  const std::string& target) {
  if (::rename((dir / name).c_str(), (dir / target).c_str()) != 0) {
    const int err = errno; // before anything else can change it
    return rename_failed(dir / name, err);
  }
  return {};
}

core::Result<void> fsync_dir(const fs::path& path) {
  return fsync_path(path, O_RDONLY | O_DIRECTORY);
}

// rename(2) that never replaces an existing file. Falls back to link + unlink on
// file systems without RENAME_NOREPLACE.
int rename_noreplace(const char* from, const char* to) {
  if (::renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0) {
    return 0;
  }
  if (errno != EINVAL && errno != ENOSYS) {
    return -1;
  }
  if (::link(from, to) != 0) {
    return -1;
  }
  return ::unlink(from);
}

// Makes `path` a directory (0700) if it is missing, and checks it is a real one.
core::Result<void> ensure_dir(const fs::path& path, bool create) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (S_ISLNK(st.st_mode)) {
      return core::fail(core::Scope::folder,
                        fmt::format("{} is a symbolic link; uidsync does not follow links below "
                                    "the Maildir root",
                                    path.string()),
                        "replace the link with a real directory, or point the account's "
                        "`maildir` at the link's target");
    }
    if (!S_ISDIR(st.st_mode)) {
      return core::fail(core::Scope::folder, fmt::format("{} is not a directory", path.string()),
                        "move the file away and sync again");
    }
    return {};
  }
  if (errno != ENOENT) {
    return io_error("cannot stat", path, errno);
  }
  if (!create) {
    return core::fail(core::Scope::folder, fmt::format("Maildir {} does not exist", path.string()),
                      "sync the folder to create it");
  }
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
    return io_error("cannot create", path, errno);
  }
  return fsync_dir(path.parent_path());
}

} // namespace

// ---- Folder ------------------------------------------------------------------

core::Result<Folder> Folder::open(const fs::path& root, const fs::path& dir, bool create) {
  const auto norm_root = root.lexically_normal();
  const auto rel = dir.lexically_normal().lexically_relative(norm_root);
  if (rel.empty() || rel == "." || *rel.begin() == "..") {
    return core::fail(
        core::Scope::folder,
        fmt::format("Maildir {} is not below the root {}", dir.string(), root.string()),
        "this is a bug in the folder mapping; please report it");
  }
  if (create) {
    const std::error_code ec = core::create_private_dirs(norm_root);
    if (ec) {
      return io_error("cannot create the Maildir root", norm_root, ec.value(),
                      core::Scope::account);
    }
  }
  fs::path path = norm_root;
  for (const auto& part : rel) {
    path /= part;
    UIDSYNC_TRY(ensure_dir(path, create));
  }
  for (const char* sub : k_subdirs) {
    UIDSYNC_TRY(ensure_dir(path / sub, create));
  }
  return Folder(path);
}

core::Result<Delivery> Folder::begin_delivery(core::Uid uid, core::Flags flags,
                                              std::int64_t internaldate) {
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  for (int attempt = 0; attempt < 3; ++attempt) {
    const auto base = make_base(now);
    const auto tmp = m_dir / "tmp" / base;
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST) {
      continue;
    }
    if (fd < 0) {
      return io_error("cannot create", tmp, errno);
    }
    Delivered pending;
    pending.uid = uid;
    pending.flags = flags;
    pending.internaldate = internaldate;
    pending.tmp_name = "tmp/" + base;
    pending.name = flags.empty() ? fmt::format("new/{},U={}", base, uid)
                                 : "cur/" + format_name(base, uid, flags);
    return Delivery(m_dir, std::move(pending), fd);
  }
  return core::fail(core::Scope::folder,
                    fmt::format("cannot make a unique file name in {}/tmp", m_dir.string()),
                    "another program is writing the same names; stop it and sync again");
}

core::Result<std::pair<timespec, timespec>> Folder::dir_times() const {
  struct stat cur_st {};
  struct stat new_st {};
  if (::stat((m_dir / "cur").c_str(), &cur_st) != 0) {
    return io_error("cannot stat", m_dir / "cur", errno);
  }
  if (::stat((m_dir / "new").c_str(), &new_st) != 0) {
    return io_error("cannot stat", m_dir / "new", errno);
  }
  return std::pair{cur_st.st_mtim, new_st.st_mtim};
}

namespace {
bool same_time(const timespec& a, const timespec& b) {
  return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

std::string format_stamp(const timespec& cur, const timespec& fresh) {
  return fmt::format("{}.{:09}:{}.{:09}", cur.tv_sec, cur.tv_nsec, fresh.tv_sec, fresh.tv_nsec);
}
} // namespace

std::string Folder::stamp() const {
  return m_cache_valid ? format_stamp(m_cur_mtime, m_new_mtime) : std::string();
}

core::Result<bool> Folder::unchanged_since(std::string_view stamp) const {
  if (stamp.empty()) {
    return false;
  }
  auto times = dir_times();
  if (!times) {
    return util::unexpected(std::move(times).error());
  }
  return format_stamp(times->first, times->second) == stamp;
}

core::Result<std::string> Folder::settled_stamp(std::vector<std::string> expected) const {
  auto times = dir_times();
  UIDSYNC_TRY(times);
  const auto [cur, fresh] = *times;
  if (cur.tv_nsec == 0 && fresh.tv_nsec == 0) {
    return std::string(); // whole-second mtimes, most likely: too coarse to trust
  }
  // Linux stamps mtimes from a coarse clock (a few ms per tick): once the newest
  // mtime is older than a tick, every later change gets a later mtime.
  constexpr auto k_settle = std::chrono::milliseconds(20);
  const auto newest =
      std::max(std::chrono::seconds(cur.tv_sec) + std::chrono::nanoseconds(cur.tv_nsec),
               std::chrono::seconds(fresh.tv_sec) + std::chrono::nanoseconds(fresh.tv_nsec));
  const auto age = std::chrono::system_clock::now().time_since_epoch() - newest;
  if (age < k_settle) {
    std::this_thread::sleep_for(k_settle - age);
  }
  // Every listed file must be expected, and as many as expected (names are unique):
  // checked while listing, without a second copy of a large folder's names.
  std::sort(expected.begin(), expected.end());
  bool same = std::adjacent_find(expected.begin(), expected.end()) == expected.end();
  std::size_t found = 0;
  std::string name;
  for (const char* sub : {"cur", "new"}) {
    const auto dir_path = m_dir / sub;
    DIR* dir = ::opendir(dir_path.c_str());
    if (dir == nullptr) {
      return io_error("cannot list", dir_path, errno);
    }
    while (const dirent* entry = ::readdir(dir)) {
      if (same && parse_name(entry->d_name)) {
        name.assign(sub).append("/").append(entry->d_name);
        same = std::binary_search(expected.begin(), expected.end(), name);
        ++found;
      }
    }
    ::closedir(dir);
  }
  auto again = dir_times();
  UIDSYNC_TRY(again);
  if (!same || found != expected.size() || !same_time(again->first, cur) ||
      !same_time(again->second, fresh)) {
    return std::string();
  }
  return format_stamp(cur, fresh);
}

core::Result<ScanResult> Folder::scan() {
  auto times = dir_times();
  if (!times) {
    return util::unexpected(std::move(times).error());
  }
  const auto [cur_mtime, new_mtime] = *times;
  if (m_cache_valid && same_time(cur_mtime, m_cur_mtime) && same_time(new_mtime, m_new_mtime)) {
    return ScanResult{m_cache, false};
  }

  const auto scan_start = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::vector<LocalMessage> found;
  for (const char* sub : {"cur", "new"}) {
    const auto dir_path = m_dir / sub;
    DIR* dir = ::opendir(dir_path.c_str());
    if (dir == nullptr) {
      return io_error("cannot list", dir_path, errno);
    }
    const int dfd = ::dirfd(dir);
    while (const dirent* entry = ::readdir(dir)) {
      const auto parsed = parse_name(entry->d_name);
      if (!parsed) {
        continue;
      }
      struct stat st {};
      if (::fstatat(dfd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) {
        continue; // vanished meanwhile (another client), or not a message file
      }
      LocalMessage msg;
      msg.name = fmt::format("{}/{}", sub, entry->d_name);
      msg.uid = parsed->uid;
      msg.flags = parsed->flags;
      msg.fmd5 = parsed->fmd5;
      msg.size = static_cast<std::uint64_t>(st.st_size);
      msg.mtime = st.st_mtim.tv_sec;
      found.push_back(std::move(msg));
    }
    ::closedir(dir);
  }
  std::sort(found.begin(), found.end(),
            [](const LocalMessage& a, const LocalMessage& b) { return a.name < b.name; });

  m_cache = found;
  m_cur_mtime = cur_mtime;
  m_new_mtime = new_mtime;
  // A change in the same clock tick as the mtime we saw would not move it again:
  // only trust mtimes that were already in the past when the listing started.
  m_cache_valid = cur_mtime.tv_sec + 2 <= scan_start && new_mtime.tv_sec + 2 <= scan_start;
  return ScanResult{std::move(found), true};
}

core::Result<std::string> Folder::set_flags(const std::string& name, core::Flags flags) {
  const auto slash = name.find('/');
  const auto file = slash == std::string::npos ? name : name.substr(slash + 1);
  const auto target = "cur/" + with_flags(file, flags);
  if (target == name) {
    return target;
  }
  UIDSYNC_TRY(rename_message(m_dir, name, target));
  invalidate();
  return target;
}

core::Result<std::string> Folder::set_uid(const std::string& name, core::Uid uid) {
  const auto slash = name.find('/');
  const auto file = slash == std::string::npos ? name : name.substr(slash + 1);
  const auto parsed = parse_name(file);
  if (!parsed || parsed->uid != 0 || uid == 0) {
    return core::fail(core::Scope::message,
                      fmt::format("cannot give message file {} the UID {}: it is not a new "
                                  "message file without a UID",
                                  (m_dir / name).string(), uid),
                      "nothing to do: the next sync rescans the folder");
  }
  const auto colon = file.rfind(":2,");
  const auto head = colon == std::string::npos ? file : file.substr(0, colon);
  const auto info = colon == std::string::npos ? std::string(":2,") : file.substr(colon);
  const auto target = fmt::format("cur/{},U={}{}", head, uid, info);
  if (rename_noreplace((m_dir / name).c_str(), (m_dir / target).c_str()) != 0) {
    const int err = errno; // before anything else can change it
    return rename_failed(m_dir / name, err);
  }
  invalidate();
  UIDSYNC_TRY(fsync_dir(m_dir / "cur"));
  if (!name.starts_with("cur/")) {
    UIDSYNC_TRY(fsync_dir((m_dir / name).parent_path()));
  }
  return target;
}

core::Result<std::string> Folder::retag_uid(const std::string& name, core::Uid uid) {
  const auto slash = name.find('/');
  const auto dir = slash == std::string::npos ? std::string() : name.substr(0, slash + 1);
  const auto file = slash == std::string::npos ? name : name.substr(slash + 1);
  const auto info = file.find(":2,");
  auto stem = file.substr(0, info);
  const auto tail = info == std::string::npos ? std::string() : file.substr(info);
  if (const auto tag = stem.find(",U="); tag != std::string::npos) {
    const auto end = stem.find(',', tag + 1);
    stem.erase(tag, end == std::string::npos ? std::string::npos : end - tag);
  }
  const auto target = dir + stem + (uid == 0 ? "" : ",U=" + std::to_string(uid)) + tail;
  if (target == name) {
    return target;
  }
  UIDSYNC_TRY(rename_message(m_dir, name, target));
  invalidate();
  UIDSYNC_TRY(fsync_dir((m_dir / target).parent_path()));
  return target;
}

core::Result<void> Folder::expunge(const std::string& name) {
  const auto path = m_dir / name;
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return io_error("cannot delete", path, errno, core::Scope::message);
  }
  invalidate();
  return fsync_dir(path.parent_path());
}

core::Result<std::size_t> Folder::clean_tmp(std::chrono::system_clock::time_point now,
                                            std::chrono::seconds max_age) {
  const auto tmp = m_dir / "tmp";
  const auto limit = std::chrono::system_clock::to_time_t(now - max_age);
  DIR* dir = ::opendir(tmp.c_str());
  if (dir == nullptr) {
    return io_error("cannot list", tmp, errno);
  }
  const int dfd = ::dirfd(dir);
  std::size_t removed = 0;
  while (const dirent* entry = ::readdir(dir)) {
    struct stat st {};
    if (entry->d_name[0] == '.' || ::fstatat(dfd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISREG(st.st_mode)) {
      continue;
    }
    // A finished delivery's mtime is its (possibly old) INTERNALDATE, so the
    // ctime decides too: it moves whenever the file is written or touched.
    if (st.st_mtim.tv_sec < limit && st.st_ctim.tv_sec < limit &&
        ::unlinkat(dfd, entry->d_name, 0) == 0) {
      ++removed;
    }
  }
  ::closedir(dir);
  return removed;
}

core::Result<ContentInfo> Folder::content(const std::string& name) const {
  return content_of(m_dir / name);
}

// ---- Delivery ------------------------------------------------------------------

Delivery::Delivery(fs::path dir, Delivered pending, int fd)
    : m_dir(std::move(dir)), m_pending(std::move(pending)), m_fd(fd) {}

Delivery::Delivery(Delivery&& other) noexcept
    : m_dir(std::move(other.m_dir)), m_pending(std::move(other.m_pending)),
      m_hasher(std::move(other.m_hasher)), m_fd(other.m_fd) {
  other.m_fd = -1;
  other.m_dir.clear();
}

Delivery::~Delivery() {
  if (m_fd >= 0) {
    ::close(m_fd);
  }
  if (!m_dir.empty()) {
    ::unlink((m_dir / m_pending.tmp_name).c_str());
  }
}

core::Result<void> Delivery::write(std::string_view chunk) {
  m_hasher.update(chunk);
  while (!chunk.empty()) {
    const auto n = ::write(m_fd, chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return io_error("cannot write", m_dir / m_pending.tmp_name, errno);
    }
    chunk.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

core::Result<Delivered> Delivery::finish() {
  const timespec times[2] = {{m_pending.internaldate, 0}, {m_pending.internaldate, 0}};
  const auto path = m_dir / m_pending.tmp_name;
  if (::futimens(m_fd, times) != 0) {
    return io_error("cannot set the time of", path, errno);
  }
  const int rc = ::close(m_fd);
  m_fd = -1;
  if (rc != 0) {
    return io_error("cannot write", path, errno);
  }
  m_pending.content = m_hasher.finish();
  m_dir.clear(); // finished: the destructor keeps the file
  detail::crash_point();
  return std::move(m_pending);
}

// ---- Batch ---------------------------------------------------------------------

core::Result<void> Batch::commit(const Recorder& record, SyncMode mode) {
  const auto& dir = m_folder->m_dir;
  if (m_items.empty()) {
    return record(m_items);
  }
  // 1. Data first.
  if (mode == SyncMode::syncfs) {
    UIDSYNC_TRY(sync_path(dir, O_RDONLY | O_DIRECTORY, ::syncfs, "cannot sync the file system of"));
  } else {
    std::atomic<std::size_t> next{0};
    std::mutex mutex;
    core::Result<void> first_error;
    auto worker = [&] {
      for (std::size_t i = next++; i < m_items.size(); i = next++) {
        auto result = fsync_path(dir / m_items[i].tmp_name, O_RDONLY);
        if (!result) {
          std::lock_guard lock(mutex);
          if (first_error) {
            first_error = std::move(result);
          }
        }
      }
    };
    std::vector<std::thread> pool;
    const auto threads = std::min<std::size_t>(k_fsync_threads, m_items.size());
    for (std::size_t t = 0; t < threads; ++t) {
      pool.emplace_back(worker);
    }
    for (auto& thread : pool) {
      thread.join();
    }
    if (!first_error) {
      return first_error;
    }
  }
  detail::crash_point();

  // 2. Publish.
  bool to_cur = false;
  bool to_new = false;
  for (const auto& item : m_items) {
    if (rename_noreplace((dir / item.tmp_name).c_str(), (dir / item.name).c_str()) != 0) {
      return io_error("cannot move into place", dir / item.tmp_name, errno);
    }
    (item.name.starts_with("cur/") ? to_cur : to_new) = true;
    detail::crash_point();
  }
  m_folder->invalidate();

  // 3. Make the renames durable.
  if (to_cur) {
    UIDSYNC_TRY(fsync_dir(dir / "cur"));
  }
  if (to_new) {
    UIDSYNC_TRY(fsync_dir(dir / "new"));
  }
  detail::crash_point();

  // 4. Record.
  auto recorded = record(m_items);
  m_items.clear();
  if (!recorded) {
    return recorded;
  }
  detail::crash_point();
  return {};
}

} // namespace uidsync::maildir
