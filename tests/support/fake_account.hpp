// SPDX-License-Identifier: GPL-3.0-or-later
// A scratch directory with a config for the real binary: one account, "fake", on a
// fake IMAP server on loopback (plain text, password from a file through password_cmd).
#pragma once

#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace uidsync::test {

class FakeAccount {
public:
  // Writes `dir`/config.toml (state in `dir`/state, mail in `dir`/`maildir_rel`,
  // timeout 1 s, user "alice") and `dir`/password; `extra` is appended to the
  // account's table.
  FakeAccount(std::uint16_t port, const std::string& password, const std::string& extra = {},
              const std::string& maildir_rel = "Mail");

  // The argv of `uidsync -c <config> args…`.
  std::vector<std::string> argv(const std::vector<std::string>& args) const;
  // Runs it with run_child() (umask 022 unless `options` says otherwise, HOME = dir()).
  ChildResult run(const std::vector<std::string>& args, ChildOptions options = {}) const;

  const std::filesystem::path& dir() const { return m_dir; }
  std::filesystem::path maildir() const { return m_maildir; }
  std::filesystem::path state() const { return m_dir / "state"; }
  std::filesystem::path config() const { return m_dir / "config.toml"; }

private:
  TempDir m_temp;
  std::filesystem::path m_dir = m_temp.path();
  std::filesystem::path m_maildir;
};

} // namespace uidsync::test
