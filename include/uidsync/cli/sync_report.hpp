// SPDX-License-Identifier: GPL-3.0-or-later
// What `uidsync sync` prints: the exit code of a run, the --json document, and
// the live progress line shown on a terminal.
#pragma once

#include <uidsync/sync/account.hpp>
#include <uidsync/sync/executor.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace uidsync::cli {

// One account of a sync run, as reported.
struct AccountReport {
  std::string name;
  sync::AccountResult result;
  std::string hook_error; // post_sync_cmd failed: why (empty: it ran fine or did not run)
};

// The account's exit code: failed (1) when the account or a folder failed or
// post_sync_cmd failed; attention (3) when deletions were held or messages newly
// quarantined; ok (0) otherwise.
int exit_code(const AccountReport& report);

// The run's exit code from its accounts': failed wins over attention, attention
// over ok.
int worst_exit_code(int a, int b);

// The --json document of a sync run (one line, no trailing newline):
// {"schema": 1, "accounts": [{"name", "ok", "error", "warnings", "connections",
// "compressed_connections", "bytes_in", "bytes_out" (on the wire, compressed when
// COMPRESS=DEFLATE was on), "imap_bytes_in", "imap_bytes_out" (uncompressed), "folders":
// [{"name", "special_use", "created_on_server", "reconnects", <stats>, "error"}],
// "totals": {<stats>}, "post_sync_cmd_error", "exit_code"}], "exit_code"}, where
// <stats> are "fetched", "adopted", "appended", "flags_local", "flags_remote",
// "deleted_local", "deleted_remote", "held", "failed", "quarantined",
// "quarantine_waiting", "released", "anomalies", "bytes". Errors are null or a string.
std::string sync_json(const std::vector<AccountReport>& accounts, int exit_code);

// The progress line of an account: "demo: 3/7 folders, 120 messages, 4.2 MiB,
// 1.1 MiB/s" (the rate only once `seconds` > 0);
// "demo: listing folders" while `folders_total` is still 0.
std::string progress_line(const std::string& account, std::uint64_t folders_done,
                          std::uint64_t folders_total, std::uint64_t messages, std::uint64_t bytes,
                          double seconds);

// `bytes` for people: "512 B", "4.2 KiB", "1.0 MiB", "3.5 GiB".
std::string human_bytes(std::uint64_t bytes);

} // namespace uidsync::cli
