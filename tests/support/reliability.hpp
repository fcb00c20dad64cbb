// SPDX-License-Identifier: GPL-3.0-or-later
// Shared pieces of the reliability tests (kill -9, disk faults, state DB damage):
// a synced account directory on the Dovecot fixture, a message corpus, the run
// of the real binary, the seed and the long-run switch.
#pragma once

#include "support/child_process.hpp"
#include "support/dovecot.hpp"
#include "support/verify_mirror.hpp"

#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace uidsync::test {

// True when UIDSYNC_LONG=1 (set by `contrib/check --long`).
bool long_run();

// The seed of a randomised test: `variable` when set in the environment, else a
// fresh one. Printed on stdout so that a failure can be reproduced.
std::uint64_t test_seed(const char* variable);

// `count` messages with unique Message-IDs "<`prefix`-N@example.org>" and body
// sizes between 0 and `max_body` bytes, drawn from `rng`.
std::vector<std::string> corpus(const std::string& prefix, std::size_t count,
                                std::size_t max_body, std::mt19937_64& rng);

// An account directory for the binary: `dir`/config.toml for account "rel" on
// `dovecot` syncing `folders` (globs), state in `dir`/state, mail in `dir`/Mail.
class AccountDir {
public:
  AccountDir(Dovecot& dovecot, std::filesystem::path dir, std::vector<std::string> globs);

  const std::filesystem::path& dir() const { return m_dir; }
  std::filesystem::path maildir() const { return m_dir / "Mail"; }
  std::filesystem::path db() const { return m_dir / "state" / "rel.db"; }

  // `uidsync -c <config> <args…>` (default: "sync"), with `options`.
  ChildResult run(const std::vector<std::string>& args = {"sync"},
                  const ChildOptions& options = {}) const;
  // A copy of the state and the Maildir in `to`, with a config of its own.
  AccountDir copy_to(const std::filesystem::path& to) const;
  // verify_mirror() of `folders` against this directory.
  MirrorReport verify(const std::vector<std::string>& folders) const;

private:
  Dovecot* m_dovecot;
  std::filesystem::path m_dir;
  std::vector<std::string> m_globs;
};

} // namespace uidsync::test
