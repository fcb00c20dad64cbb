// SPDX-License-Identifier: GPL-3.0-or-later
// `uidsync sync` reporting: exit codes from results, the --json document, and the
// progress line.
#include "support/table.hpp"

#include <uidsync/cli/sync_report.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace uidsync::cli {
namespace {

sync::FolderResult folder(std::string name, sync::Stats stats,
                          std::optional<core::Error> error = std::nullopt) {
  sync::FolderResult f;
  f.name = std::move(name);
  f.stats = stats;
  f.error = std::move(error);
  return f;
}

AccountReport account(std::string name, std::vector<sync::FolderResult> folders,
                      std::string hook_error = {}) {
  AccountReport r;
  r.name = std::move(name);
  for (auto& f : folders) {
    r.result.totals += f.stats;
  }
  r.result.folders = std::move(folders);
  r.hook_error = std::move(hook_error);
  return r;
}

sync::Stats stats(std::size_t fetched, std::size_t held = 0, std::size_t quarantined = 0) {
  sync::Stats s;
  s.fetched = fetched;
  s.held = held;
  s.quarantined = quarantined;
  s.bytes = 1000 * fetched;
  return s;
}

struct ExitRow {
  std::string name;
  AccountReport report;
  int expected;
};

void PrintTo(const ExitRow& row, std::ostream* os) {
  *os << row.name;
}

AccountReport failed_account() {
  auto r = account("a", {});
  r.result.error = core::Error{core::Scope::account, "cannot connect", ""};
  return r;
}

const std::vector<ExitRow> k_exit_rows{
    {"all_synced", account("a", {folder("INBOX", stats(3))}), 0},
    {"nothing_to_do", account("a", {}), 0},
    {"held_deletions_need_attention", account("a", {folder("INBOX", stats(0, 12))}), 3},
    {"new_quarantine_needs_attention", account("a", {folder("INBOX", stats(0, 0, 1))}), 3},
    {"folder_error_fails",
     account("a", {folder("INBOX", stats(1)),
                   folder("X", {}, core::Error{core::Scope::folder, "folder X: gone", ""})}),
     1},
    {"folder_error_beats_attention",
     account("a", {folder("INBOX", stats(0, 12)),
                   folder("X", {}, core::Error{core::Scope::folder, "folder X: gone", ""})}),
     1},
    {"account_error_fails", failed_account(), 1},
    {"hook_failure_fails", account("a", {folder("INBOX", stats(1))}, "post_sync_cmd failed"), 1},
};

class CliSyncExitCode : public ::testing::TestWithParam<ExitRow> {};

TEST_P(CliSyncExitCode, FollowsTheWorstOutcome) {
  EXPECT_EQ(exit_code(GetParam().report), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(Rows, CliSyncExitCode, ::testing::ValuesIn(k_exit_rows), test::RowName{});

struct WorstRow {
  std::string name;
  int a;
  int b;
  int expected;
};

void PrintTo(const WorstRow& row, std::ostream* os) {
  *os << row.name;
}

const std::vector<WorstRow> k_worst_rows{
    {"ok_ok", 0, 0, 0},
    {"ok_attention", 0, 3, 3},
    {"attention_ok", 3, 0, 3},
    {"attention_failed", 3, 1, 1},
    {"failed_attention", 1, 3, 1},
    {"failed_ok", 1, 0, 1},
};

class CliSyncWorstExitCode : public ::testing::TestWithParam<WorstRow> {};

TEST_P(CliSyncWorstExitCode, FailedBeatsAttentionBeatsOk) {
  EXPECT_EQ(worst_exit_code(GetParam().a, GetParam().b), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(Rows, CliSyncWorstExitCode, ::testing::ValuesIn(k_worst_rows),
                         test::RowName{});

const std::string k_zero_stats =
    "\"fetched\": 0, \"adopted\": 0, \"appended\": 0, \"flags_local\": 0, \"flags_remote\": 0, "
    "\"deleted_local\": 0, \"deleted_remote\": 0, \"held\": 0, \"failed\": 0, \"quarantined\": 0, "
    "\"quarantine_waiting\": 0, \"released\": 0, \"anomalies\": 0, \"bytes\": 0";

struct JsonRow {
  std::string name;
  std::vector<AccountReport> accounts;
  int exit_code;
  std::string expected;
};

void PrintTo(const JsonRow& row, std::ostream* os) {
  *os << row.name;
}

AccountReport every_field() {
  sync::Stats s;
  s.fetched = 1;
  s.adopted = 2;
  s.appended = 3;
  s.local_flags = 4;
  s.remote_flags = 5;
  s.local_deletes = 6;
  s.remote_deletes = 7;
  s.held = 8;
  s.failed = 9;
  s.quarantined = 10;
  s.quarantine_waiting = 11;
  s.released = 12;
  s.anomalies = 13;
  s.bytes = 14;
  auto f = folder("Sent", s);
  f.special_use = {"\\Sent"};
  f.created_on_server = true;
  f.reconnects = 1;
  auto r = account("all", {f});
  r.result.connections = 3;
  r.result.compressed_connections = 2;
  r.result.bytes_in = 15;
  r.result.bytes_out = 16;
  r.result.imap_bytes_in = 17;
  r.result.imap_bytes_out = 18;
  r.result.warnings = {"folder \"Old\" was deleted on the server"};
  return r;
}

AccountReport broken() {
  auto r = account(
      "bad",
      {folder("INBOX", {}, core::Error{core::Scope::folder, "folder INBOX: NO", "try again"})},
      "post_sync_cmd `x` exited with status 2");
  r.result.error = core::Error{core::Scope::account, "lost \"it\"", ""};
  return r;
}

const std::vector<JsonRow> k_json_rows{
    {"no_accounts", {}, 0, "{\"schema\": 1, \"accounts\": [], \"exit_code\": 0}"},
    {"one_empty_account",
     {account("a", {})},
     0,
     "{\"schema\": 1, \"accounts\": [{\"name\": \"a\", \"ok\": true, \"error\": null, \"warnings\": [], "
     "\"connections\": 0, \"compressed_connections\": 0, \"bytes_in\": 0, \"bytes_out\": 0, "
     "\"imap_bytes_in\": 0, \"imap_bytes_out\": 0, \"folders\": [], \"totals\": {" +
         k_zero_stats + "}, \"post_sync_cmd_error\": null, \"exit_code\": 0}], \"exit_code\": 0}"},
    {"every_field_in_its_place",
     {every_field()},
     3,
     "{\"schema\": 1, \"accounts\": [{\"name\": \"all\", \"ok\": true, \"error\": null, \"warnings\": "
     "[\"folder \\\"Old\\\" was deleted on the server\"], \"connections\": 3, "
     "\"compressed_connections\": 2, \"bytes_in\": 15, \"bytes_out\": 16, \"imap_bytes_in\": 17, "
     "\"imap_bytes_out\": 18, \"folders\": "
     "[{\"name\": \"Sent\", \"special_use\": [\"\\\\Sent\"], \"created_on_server\": true, "
     "\"reconnects\": 1, \"fetched\": 1, \"adopted\": 2, \"appended\": 3, \"flags_local\": 4, "
     "\"flags_remote\": 5, \"deleted_local\": 6, \"deleted_remote\": 7, \"held\": 8, "
     "\"failed\": 9, \"quarantined\": 10, \"quarantine_waiting\": 11, \"released\": 12, "
     "\"anomalies\": 13, \"bytes\": 14, \"error\": null}], \"totals\": {\"fetched\": 1, "
     "\"adopted\": 2, \"appended\": 3, \"flags_local\": 4, \"flags_remote\": 5, "
     "\"deleted_local\": 6, \"deleted_remote\": 7, \"held\": 8, \"failed\": 9, "
     "\"quarantined\": 10, \"quarantine_waiting\": 11, \"released\": 12, \"anomalies\": 13, "
     "\"bytes\": 14}, \"post_sync_cmd_error\": null, \"exit_code\": 3}], \"exit_code\": 3}"},
    {"errors_are_quoted_strings",
     {broken()},
     1,
     "{\"schema\": 1, \"accounts\": [{\"name\": \"bad\", \"ok\": false, \"error\": \"lost \\\"it\\\"\", "
     "\"warnings\": [], \"connections\": 0, \"compressed_connections\": 0, \"bytes_in\": 0, \"bytes_out\": 0, "
     "\"imap_bytes_in\": 0, \"imap_bytes_out\": 0, \"folders\": [{\"name\": \"INBOX\", \"special_use\": "
     "[], \"created_on_server\": false, \"reconnects\": 0, " +
         k_zero_stats + ", \"error\": \"folder INBOX: NO (try again)\"}], \"totals\": {" +
         k_zero_stats +
         "}, \"post_sync_cmd_error\": \"post_sync_cmd `x` exited with status 2\", "
         "\"exit_code\": 1}], \"exit_code\": 1}"},
};

class CliSyncJson : public ::testing::TestWithParam<JsonRow> {};

TEST_P(CliSyncJson, DocumentHasEveryField) {
  const auto& row = GetParam();
  EXPECT_EQ(sync_json(row.accounts, row.exit_code), row.expected);
}

INSTANTIATE_TEST_SUITE_P(Rows, CliSyncJson, ::testing::ValuesIn(k_json_rows), test::RowName{});

struct ProgressRow {
  std::string name;
  std::uint64_t done;
  std::uint64_t total;
  std::uint64_t messages;
  std::uint64_t bytes;
  double seconds;
  std::string expected;
};

void PrintTo(const ProgressRow& row, std::ostream* os) {
  *os << row.name;
}

const std::vector<ProgressRow> k_progress_rows{
    {"before_the_list", 0, 0, 0, 0, 0.5, "demo: listing folders"},
    {"start_has_no_rate", 0, 7, 0, 0, 0.0, "demo: 0/7 folders, 0 messages, 0 B"},
    {"bytes", 1, 7, 3, 1000, 2.0, "demo: 1/7 folders, 3 messages, 1000 B, 500 B/s"},
    {"kibibytes", 2, 7, 10, 4300, 1.0, "demo: 2/7 folders, 10 messages, 4.2 KiB, 4.2 KiB/s"},
    {"mebibytes", 7, 7, 900, 3 * 1024 * 1024, 2.0,
     "demo: 7/7 folders, 900 messages, 3.0 MiB, 1.5 MiB/s"},
    {"gibibytes", 7, 7, 1, 5ULL * 1024 * 1024 * 1024, 0.0,
     "demo: 7/7 folders, 1 messages, 5.0 GiB"},
};

class CliSyncProgress : public ::testing::TestWithParam<ProgressRow> {};

TEST_P(CliSyncProgress, LineShowsFoldersMessagesBytesRate) {
  const auto& row = GetParam();
  EXPECT_EQ(progress_line("demo", row.done, row.total, row.messages, row.bytes, row.seconds),
            row.expected);
}

INSTANTIATE_TEST_SUITE_P(Rows, CliSyncProgress, ::testing::ValuesIn(k_progress_rows),
                         test::RowName{});

} // namespace
} // namespace uidsync::cli
