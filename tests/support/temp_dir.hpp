// SPDX-License-Identifier: GPL-3.0-or-later
// A scratch directory per test: $TMPDIR/uidsync-test-<pid>-<n>. Removed when the
// test passed, kept (and its path printed) when it failed, so it can be inspected.
#pragma once

#include <filesystem>
#include <string>

namespace uidsync::test {

class TempDir {
public:
  // Creates the directory with mode 0755 (Dovecot's workers must traverse it).
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return m_path; }
  std::filesystem::path operator/(const std::string& rel) const { return m_path / rel; }

private:
  std::filesystem::path m_path;
};

// Writes `content` to `path`, creating parent directories.
void write_file(const std::filesystem::path& path, const std::string& content);
// Reads the whole file; throws std::runtime_error if it cannot.
std::string read_file(const std::filesystem::path& path);

} // namespace uidsync::test
