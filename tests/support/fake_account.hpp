// SPDX-License-Identifier: GPL-3.0-or-later
// A scratch directory with a config for the real binary: one account, "fake", on a
// fake IMAP server on loopback (plain text, password from a file through password_cmd).
#pragma once

#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace uidsync::test {

struct FakeAccountOptions {
  std::string password = "secret";   // written to dir()/password
  std::string password_cmd;          // a TOML value; empty: ["cat", "<dir>/password"]
  std::string maildir_rel = "Mail";  // the Maildir, relative to dir()
  std::string extra;                 // more TOML lines of the account's table
};

class FakeAccount {
public:
  // Writes dir()/config.toml (user "alice", tls = "none" with allow_plaintext, state
  // in dir()/state, timeout 5 s) and dir()/password.
  explicit FakeAccount(std::uint16_t port, const FakeAccountOptions& options = {});

  // The argv of `uidsync -c <config> args…`.
  std::vector<std::string> argv(const std::vector<std::string>& args) const;
  // Runs it with run_child() (umask 022 unless `options` says otherwise, HOME = dir()).
  ChildResult run(const std::vector<std::string>& args, ChildOptions options = {}) const;
  // Starts it without waiting (same environment as run()).
  std::unique_ptr<Child> start(const std::vector<std::string>& args, ChildOptions options = {}) const;

  const std::filesystem::path& dir() const { return m_dir; }
  const std::filesystem::path& maildir() const { return m_maildir; }
  std::filesystem::path state() const { return m_dir / "state"; }
  std::filesystem::path config() const { return m_dir / "config.toml"; }
  // Messages in the local INBOX (cur and new), by UID (from ",U=" in the name).
  std::vector<std::uint32_t> inbox_uids() const;

private:
  TempDir m_temp;
  std::filesystem::path m_dir = m_temp.path();
  std::filesystem::path m_maildir;
};

} // namespace uidsync::test
