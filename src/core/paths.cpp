// SPDX-License-Identifier: GPL-3.0-or-later
// XDG paths and the private state directory.
#include <uidsync/core/config.hpp>
#include <uidsync/core/paths.hpp>

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace uidsync::core {

namespace {

// An XDG variable's value when it is set to an absolute path; relative values
// are invalid per the spec and ignored.
std::filesystem::path xdg_dir(const char* variable) {
  const char* value = std::getenv(variable);
  if (value == nullptr || *value != '/') {
    return {};
  }
  return value;
}

} // namespace

Result<std::filesystem::path> home_dir() {
  const char* home = std::getenv("HOME");
  if (home != nullptr && *home != '\0') {
    return std::filesystem::path(home);
  }
  if (const passwd* pw = ::getpwuid(::getuid()); pw != nullptr && pw->pw_dir != nullptr) {
    return std::filesystem::path(pw->pw_dir);
  }
  return fail(Scope::fatal, "cannot find the home directory: HOME is not set",
              "set HOME, or use absolute paths in the config");
}

Result<std::filesystem::path> expand_home(std::string_view path) {
  if (path == "~" || path.substr(0, 2) == "~/") {
    auto home = home_dir();
    UIDSYNC_TRY(home);
    if (path.size() <= 2) {
      return *home;
    }
    return *home / std::string(path.substr(2));
  }
  return std::filesystem::path(path);
}

Result<std::filesystem::path> default_config_file() {
  auto base = xdg_dir("XDG_CONFIG_HOME");
  if (base.empty()) {
    auto home = home_dir();
    UIDSYNC_TRY(home);
    base = *home / ".config";
  }
  return base / "uidsync" / "config.toml";
}

Result<std::filesystem::path> state_dir(const Config& config) {
  if (!config.general.state_dir.empty()) {
    return config.general.state_dir;
  }
  auto base = xdg_dir("XDG_STATE_HOME");
  if (base.empty()) {
    auto home = home_dir();
    UIDSYNC_TRY(home);
    base = *home / ".local" / "state";
  }
  return base / "uidsync";
}

std::error_code create_private_dirs(const std::filesystem::path& dir) {
  std::filesystem::path path;
  for (const auto& part : dir) {
    path /= part;
    if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
      return {errno, std::generic_category()};
    }
  }
  return {};
}

Result<std::filesystem::path> ensure_private_dir(const std::filesystem::path& dir) {
  if (dir.has_parent_path()) {
    const std::error_code ec = create_private_dirs(dir.parent_path());
    if (ec) {
      return fail(Scope::fatal,
                  "cannot create directory " + dir.parent_path().string() + ": " + ec.message(),
                  "check its permissions, or set general.state_dir in the config");
    }
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return fail(Scope::fatal,
                "cannot create directory " + dir.string() + ": " + std::strerror(errno),
                "check its permissions, or set general.state_dir in the config");
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return fail(Scope::fatal, dir.string() + " exists but is not a directory",
                "move it away, or set general.state_dir in the config");
  }
  if ((st.st_mode & 077) != 0 && ::chmod(dir.c_str(), 0700) != 0) {
    return fail(Scope::fatal,
                "cannot make " + dir.string() + " private (chmod 700): " + std::strerror(errno),
                "fix its owner or permissions");
  }
  return dir;
}

std::filesystem::path lock_file(const std::filesystem::path& state, std::string_view account) {
  return state / (std::string(account) + ".lock");
}

} // namespace uidsync::core
