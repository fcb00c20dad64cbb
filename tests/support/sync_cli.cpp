// SPDX-License-Identifier: GPL-3.0-or-later
// Helpers for the real binary's `sync` against a real Dovecot.
#include "support/sync_cli.hpp"

#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

namespace uidsync::test {

namespace fs = std::filesystem;

std::string crlf(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (c == '\n') {
      out += '\r';
    }
    out += c;
  }
  return out;
}

std::string message(const std::string& id, std::size_t body_bytes) {
  std::string body = "hello from " + id + "\n";
  for (std::size_t i = 0; i < body_bytes / 64; ++i) {
    body += std::string(63, static_cast<char>('a' + i % 26)) + "\n";
  }
  return "From: a@example.org\nSubject: " + id + "\nMessage-ID: <" + id + "@example.org>\n\n" +
         body;
}

std::map<std::string, std::string> local_files(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const char* sub : {"cur", "new"}) {
    if (!fs::is_directory(dir / sub)) {
      continue;
    }
    for (const auto& e : fs::directory_iterator(dir / sub)) {
      out[std::string(sub) + "/" + e.path().filename().string()] = read_file(e.path());
    }
  }
  return out;
}

std::string file_with(const std::map<std::string, std::string>& files, const std::string& id) {
  for (const auto& [name, content] : files) {
    if (content.find("<" + id + "@example.org>") != std::string::npos) {
      return name;
    }
  }
  return {};
}

void write_sync_config(const fs::path& dir, const Dovecot& dovecot, const std::string& extra) {
  dovecot.write_config(dir, "demo", "folders = [\"*\", \"!*/Skipped\"]\n" + extra);
}

util::ProcessResult run_uidsync(const fs::path& dir, const std::vector<std::string>& args) {
  std::vector<std::string> argv{UIDSYNC_BINARY, "-c", (dir / "config.toml").string()};
  argv.insert(argv.end(), args.begin(), args.end());
  util::ProcessOptions options;
  options.timeout = std::chrono::seconds(120);
  auto result = util::run_process(argv, options);
  EXPECT_TRUE(result.has_value()) << result.error();
  return result ? *result : util::ProcessResult{-1, false, "", result.error()};
}

CommandResult uidsync_command(const fs::path& dir, std::vector<std::string> args) {
  args.insert(args.begin(), {UIDSYNC_BINARY, "-c", (dir / "config.toml").string()});
  return run_command(args);
}

std::string doveadm_as_user(Dovecot& dovecot, std::vector<std::string> args) {
  const std::size_t words = args.front() == "flags" || args.front() == "mailbox" ? 2 : 1;
  args.insert(args.begin() + static_cast<std::ptrdiff_t>(words), {"-u", dovecot.user()});
  return dovecot.doveadm(args);
}

} // namespace uidsync::test
