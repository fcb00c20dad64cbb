// SPDX-License-Identifier: GPL-3.0-or-later
// Helpers for tests that run the real binary's `sync` against a real Dovecot:
// test messages, the local side as a map, and a config for the Dovecot account.
#pragma once

#include "support/dovecot.hpp"

#include <uidsync/util/process.hpp>

#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace uidsync::test {

// `text` with LF line ends turned into CRLF. Dovecot stores what doveadm save gets
// (LF here) and serves it with CRLF (RFC 3501 §2.3.1 / RFC 5322 line endings).
std::string crlf(const std::string& text);

// A small RFC 5322 message with Message-ID <`id`@example.org> and Subject `id`,
// with about `body_bytes` of filler text.
std::string message(const std::string& id, std::size_t body_bytes = 0);

// file name ("cur/…" or "new/…") -> content, of one local folder.
std::map<std::string, std::string> local_files(const std::filesystem::path& dir);

// The file whose content contains `id`'s Message-ID; empty if none.
std::string file_with(const std::map<std::string, std::string>& files, const std::string& id);

// Writes `dir`/password and `dir`/config.toml: account "demo" on `dovecot` (STARTTLS,
// password_cmd cat), state in `dir`/state, Maildir `dir`/Mail, folders
// ["*", "!*/Skipped"], followed by `extra` (more TOML lines of the account).
void write_sync_config(const std::filesystem::path& dir, const Dovecot& dovecot,
                       const std::string& extra = {});

// Runs `uidsync -c <dir>/config.toml <args…>` with stdout and stderr apart.
// Fails the test (and returns exit status -1) when the binary cannot run.
util::ProcessResult run_uidsync(const std::filesystem::path& dir,
                                const std::vector<std::string>& args);

// Runs `uidsync -c <dir>/config.toml <args…>` with stdout and stderr together, in
// the order written.
CommandResult uidsync_command(const std::filesystem::path& dir, std::vector<std::string> args);

// Runs `doveadm` on `dovecot` as its test user: "-u USER" goes after the command,
// two words for "flags …" and "mailbox …" ("flags add"), one otherwise ("fetch",
// "expunge"). Returns its output; throws std::runtime_error when doveadm fails.
std::string doveadm_as_user(Dovecot& dovecot, std::vector<std::string> args);

} // namespace uidsync::test
