// SPDX-License-Identifier: GPL-3.0-or-later
// Disk full and write errors during a real sync: the fault shim (tests/fault) makes
// writes fail with ENOSPC or syncs with EIO. The run must exit 1 (ExitCode::failed)
// naming the folder and the path, leave no partial message outside tmp/ and no DB
// row without its file; a run without the fault then completes to an exact mirror.
#include "support/reliability.hpp"
#include "support/table.hpp"
#include "support/temp_dir.hpp"

#include <uidsync/core/exit_code.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace uidsync::test {
namespace {

namespace fs = std::filesystem;

struct DiskRow {
  std::string name;
  std::string folder;
  std::string op;           // UIDSYNC_FAULT_OP
  std::string error;        // UIDSYNC_FAULT_ERRNO
  std::string path;         // UIDSYNC_FAULT_PATH, relative to the account directory
  std::string after;        // UIDSYNC_FAULT_AFTER
  std::string error_names;  // what stderr must contain
  bool names_folder = true; // a Maildir error names the folder; a DB error names the DB
};

class ReliabilityDisk : public DovecotSuite, public ::testing::WithParamInterface<DiskRow> {
protected:
  TempDir m_temp;
};

// The environment that arms the fault shim for `row` in `account`.
ChildOptions faulty(const DiskRow& row, const AccountDir& account) {
  ChildOptions options;
  const char* asan = std::getenv("ASAN_OPTIONS");
  options.env = {
      std::string("LD_PRELOAD=") + UIDSYNC_FAULT_SHIM,
      // The shim comes before the sanitizer runtime in the library list.
      "ASAN_OPTIONS=" + std::string(asan != nullptr ? asan : "") + ":verify_asan_link_order=0",
      "UIDSYNC_FAULT_OP=" + std::string(row.op),
      "UIDSYNC_FAULT_ERRNO=" + std::string(row.error),
      "UIDSYNC_FAULT_PATH=" + (account.dir() / row.path).string(),
      "UIDSYNC_FAULT_AFTER=" + std::string(row.after),
  };
  return options;
}

TEST_P(ReliabilityDisk, FailsClearlyAndResumesCleanly) {
  const auto& row = GetParam();
  std::mt19937_64 rng(7);
  seed_folder(*s_dovecot, row.folder, corpus(row.folder + "-old", 10, 20000, rng), "S");
  AccountDir account(*s_dovecot, m_temp.path() / "acct", {row.folder});
  const auto first = account.run();
  ASSERT_EQ(first.status, 0) << first.output;
  seed_folder(*s_dovecot, row.folder, corpus(row.folder + "-new", 30, 20000, rng));

  const auto failed = account.run({"sync"}, faulty(row, account));
  EXPECT_EQ(failed.status, core::to_int(core::ExitCode::failed)) << failed.output;
  EXPECT_NE(failed.output.find("fault_shim: "), std::string::npos)
      << "the fault was injected\n" << failed.output;
  if (row.names_folder) {
    EXPECT_NE(failed.output.find(row.folder), std::string::npos) << "names the folder\n"
                                                                  << failed.output;
  }
  EXPECT_NE(failed.output.find(row.error_names), std::string::npos) << failed.output;
  EXPECT_NE(failed.output.find("check the disk"), std::string::npos) << "says what to do\n"
                                                                      << failed.output;

  // What the failed run left: only messages still to fetch, and files the next run
  // adopts by their ,U= name; never a partial file or a row without its file.
  const auto after_fault = account.verify({row.folder});
  for (const auto& p : after_fault.problems) {
    const bool expected = p.find("missing locally") != std::string::npos ||
                          p.find("file without a DB row") != std::string::npos;
    EXPECT_TRUE(expected) << p << "\n" << failed.output;
  }
  EXPECT_FALSE(after_fault.clean()) << "the fault stopped the run before the end";

  const auto resumed = account.run();
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  const auto report = account.verify({row.folder});
  EXPECT_TRUE(report.clean()) << report.text();
  EXPECT_EQ(report.server_messages, 40u);
}

INSTANTIATE_TEST_SUITE_P(
    Faults, ReliabilityDisk,
    ::testing::Values(
        DiskRow{"enospc_writing_message_body", "DiskBody", "write", "ENOSPC", "Mail/DiskBody/tmp/",
                "5", "No space left on device"},
        DiskRow{"eio_on_fsync", "DiskSync", "fsync", "EIO", "Mail/DiskSync/", "0",
                "Input/output error"},
        DiskRow{"enospc_while_sqlite_commits", "DiskDb", "write", "ENOSPC", "state/rel.db-wal",
                "0", "rel.db", false}),
    RowName{});

} // namespace
} // namespace uidsync::test
