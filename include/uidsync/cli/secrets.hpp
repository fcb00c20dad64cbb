// SPDX-License-Identifier: GPL-3.0-or-later
// Password sources: password_cmd, netrc and the inline password. The secret is
// returned to the caller and never logged.
#pragma once

#include <uidsync/core/config.hpp>
#include <uidsync/core/error.hpp>

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>

namespace uidsync::cli {

// Runs `command` (no shell unless it is one) and returns the first line of its
// stdout without the trailing CR/LF. `what` names the setting in messages, e.g.
// "accounts.work.password_cmd". Fails (Scope::account) naming the program (never
// its arguments) when it cannot start, exits non-zero (with the status and the
// first line of its stderr), is killed by a signal, prints an empty first line,
// or runs longer than `timeout`.
core::Result<std::string> run_secret_command(const core::Command& command, std::string_view what,
                                             std::chrono::milliseconds timeout);

// The password of `login` at `machine` from the netrc file `path`: the first
// "machine" entry for `machine` whose login is `login` (or that has no login),
// else the "default" entry. Understands machine, default, login, password,
// account and macdef (skipped), with tokens spread over lines and "..." quoting.
// Fails (Scope::account) when the file cannot be read or has no matching entry
// with a password, saying what line to add.
core::Result<std::string> netrc_password(const std::filesystem::path& path,
                                         std::string_view machine, std::string_view login);

// The password of `account` from its source. Fails (Scope::account) when the
// source fails or the account has none (an OAuth2 account uses its token command
// instead).
core::Result<std::string>
resolve_password(const core::Account& account,
                 std::chrono::milliseconds timeout = std::chrono::seconds(30));

} // namespace uidsync::cli
