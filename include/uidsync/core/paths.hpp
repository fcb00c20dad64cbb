// SPDX-License-Identifier: GPL-3.0-or-later
// Where uidsync keeps its files (XDG Base Directory Specification 0.8).
#pragma once

#include <uidsync/core/error.hpp>

#include <filesystem>
#include <system_error>
#include <string_view>

namespace uidsync::core {

struct Config;

// $HOME, or the passwd entry's home when HOME is unset or empty. Fails (fatal)
// when neither is known.
Result<std::filesystem::path> home_dir();

// Replaces a leading "~" or "~/" in `path` by home_dir(); other paths unchanged.
Result<std::filesystem::path> expand_home(std::string_view path);

// $XDG_CONFIG_HOME/uidsync/config.toml; $XDG_CONFIG_HOME defaults to ~/.config,
// and a relative value is ignored, as the spec says.
Result<std::filesystem::path> default_config_file();

// `config.general.state_dir` when set, else $XDG_STATE_HOME/uidsync
// ($XDG_STATE_HOME defaults to ~/.local/state). Does not create it.
Result<std::filesystem::path> state_dir(const Config& config);

// Creates `dir` and its missing parents, all with mode 0700, and tightens an
// existing `dir` that group or others can read to 0700 (it holds mail state and
// quarantine evidence). Fails (fatal) naming the directory.
Result<std::filesystem::path> ensure_private_dir(const std::filesystem::path& dir);

// Creates `dir` and each missing parent with mode 0700 (mail and state are private
// whatever the umask); existing directories are left as they are. Returns the error
// of the first mkdir that failed (not EEXIST), or an empty error_code.
std::error_code create_private_dirs(const std::filesystem::path& dir);

// The lock file of `account` inside `state`: <state>/<account>.lock.
std::filesystem::path lock_file(const std::filesystem::path& state, std::string_view account);

} // namespace uidsync::core
