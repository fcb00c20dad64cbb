// SPDX-License-Identifier: GPL-3.0-or-later
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>

namespace uidsync::test {

namespace {
std::atomic<int> g_counter{0};

bool current_test_failed() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return info != nullptr && info->result() != nullptr && info->result()->Failed();
}
} // namespace

TempDir::TempDir() {
  namespace fs = std::filesystem;
  const char* base = std::getenv("TMPDIR");
  fs::path root = base != nullptr && *base != '\0' ? fs::path(base) : fs::temp_directory_path();
  for (;;) {
    m_path = root / ("uidsync-test-" + std::to_string(::getpid()) + "-" +
                     std::to_string(g_counter.fetch_add(1)));
    if (fs::create_directory(m_path)) {
      break;
    }
  }
  fs::permissions(m_path, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                              fs::perms::others_read | fs::perms::others_exec);
}

TempDir::~TempDir() {
  if (current_test_failed() || std::getenv("UIDSYNC_KEEP_TEST_DIRS") != nullptr) {
    std::cerr << "test dir kept: " << m_path << "\n";
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(m_path, ec);
}

void write_file(const std::filesystem::path& path, const std::string& content) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out) {
    throw std::runtime_error("cannot write " + path.string());
  }
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("cannot read " + path.string());
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

} // namespace uidsync::test
