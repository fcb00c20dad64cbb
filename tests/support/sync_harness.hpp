// SPDX-License-Identifier: GPL-3.0-or-later
// One folder synced with sync::sync_folder() against a server on loopback, with a
// state DB and a Maildir in a temporary directory, reconnecting after an
// account-scope error as the account runner does.
#pragma once

#include "support/scenario.hpp"
#include "support/temp_dir.hpp"

#include <uidsync/state/db.hpp>
#include <uidsync/sync/executor.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace uidsync::test {

// parse_scenario() of `text` (relative paths against tests/data); throws
// core::Failure on an error.
Scenario inline_scenario(const std::string& text);

class SyncHarness {
public:
  // Plain-text IMAP on 127.0.0.1:`port`, logging in as `user`/`password`. The
  // executor's timeout is 1 s (hang tests wait that long).
  SyncHarness(std::uint16_t port, std::string user, std::string password,
              std::string folder = "INBOX");

  struct Run {
    sync::Stats stats;
    int connections = 0;
    std::optional<core::Error> error; // the last error (after the last reconnect)
  };
  // One sync of the folder: connects, syncs, and reconnects after a Scope::account
  // error, at most `max_connections` times in all.
  Run sync(int max_connections = 12);

  // UID -> the local file names ("cur/…") carrying ",U=<uid>".
  std::map<std::uint32_t, std::vector<std::string>> local_uids() const;
  // The folder's quarantine rows by UID (every state).
  std::map<std::uint32_t, state::QuarantineRow> quarantine();

  state::Db& db() { return m_db; }
  const state::FolderRow& row() const { return m_row; }
  sync::ExecuteOptions& options() { return m_options; }
  const std::filesystem::path& state_dir() const { return m_state_dir; }
  const std::filesystem::path& root() const { return m_root; }

private:
  TempDir m_temp;
  std::filesystem::path m_root;
  std::filesystem::path m_state_dir;
  std::uint16_t m_port;
  std::string m_user;
  std::string m_password;
  state::Db m_db;
  state::FolderRow m_row;
  sync::ExecuteOptions m_options;
};

} // namespace uidsync::test
