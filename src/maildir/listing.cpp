// SPDX-License-Identifier: GPL-3.0-or-later
// Local Maildir folders, found by walking the root.
#include <uidsync/maildir/listing.hpp>

#include <algorithm>
#include <system_error>

namespace uidsync::maildir {

namespace fs = std::filesystem;

namespace {

bool is_maildir(const fs::path& dir) {
  std::error_code ec;
  return fs::is_directory(dir / "cur", ec) && fs::is_directory(dir / "new", ec);
}

core::Error unreadable(const fs::path& dir, const std::error_code& ec) {
  return {core::Scope::account,
          "cannot read the Maildir directory " + dir.string() + ": " + ec.message(),
          "check its permissions"};
}

// Layout::fs: depth-first below `dir`, skipping each Maildir's own cur/new/tmp.
core::Result<void> walk_fs(const fs::path& root, const fs::path& dir,
                           std::vector<LocalFolder>& out) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) {
    return util::unexpected(unreadable(dir, ec));
  }
  const bool dir_is_maildir = is_maildir(dir);
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    const auto& entry = *it;
    // Symlinks are not followed: a link could lead out of the root or in a loop.
    if (!entry.is_directory(ec) || entry.is_symlink(ec)) {
      continue;
    }
    const auto base = entry.path().filename().string();
    if (dir_is_maildir && (base == "cur" || base == "new" || base == "tmp")) {
      continue;
    }
    if (is_maildir(entry.path())) {
      out.push_back({entry.path().lexically_relative(root).generic_string(), entry.path()});
    }
    UIDSYNC_TRY(walk_fs(root, entry.path(), out));
  }
  if (ec) {
    return util::unexpected(unreadable(dir, ec));
  }
  return {};
}

// Layout::maildir_plus_plus: ".A.B" -> "A/B"; nullopt-like empty string when the
// entry is not a folder name.
std::string plus_plus_name(const std::string& base) {
  if (base == "INBOX") {
    return base;
  }
  if (base.size() < 2 || base.front() != '.') {
    return {};
  }
  std::string name = base.substr(1);
  if (name.front() == '.' || name.back() == '.' || name.find("..") != std::string::npos) {
    return {}; // an empty component: not something folder_path() writes
  }
  std::replace(name.begin(), name.end(), '.', '/');
  return name;
}

} // namespace

core::Result<std::vector<LocalFolder>> list_folders(const fs::path& root, Layout layout) {
  std::vector<LocalFolder> out;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    return out;
  }
  if (layout == Layout::fs) {
    UIDSYNC_TRY(walk_fs(root, root, out));
  } else {
    fs::directory_iterator it(root, ec);
    for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
      const auto name = plus_plus_name(it->path().filename().string());
      if (!name.empty() && !it->is_symlink(ec) && is_maildir(it->path())) {
        out.push_back({name, it->path()});
      }
    }
    if (ec) {
      return util::unexpected(unreadable(root, ec));
    }
  }
  std::sort(out.begin(), out.end(),
            [](const LocalFolder& a, const LocalFolder& b) { return a.name < b.name; });
  return out;
}

} // namespace uidsync::maildir
