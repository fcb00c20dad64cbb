// SPDX-License-Identifier: GPL-3.0-or-later
// Shared pieces of the reliability tests.
#include "support/reliability.hpp"

#include <cstdlib>
#include <iostream>

namespace uidsync::test {

namespace fs = std::filesystem;

bool long_run() {
  const char* v = std::getenv("UIDSYNC_LONG");
  return v != nullptr && std::string(v) == "1";
}

std::uint64_t test_seed(const char* variable) {
  const char* v = std::getenv(variable);
  const std::uint64_t seed =
      v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : std::random_device{}();
  std::cout << variable << "=" << seed << " (set it to repeat this run)\n";
  return seed;
}

std::vector<std::string> corpus(const std::string& prefix, std::size_t count,
                                std::size_t max_body, std::mt19937_64& rng) {
  std::uniform_int_distribution<std::size_t> size(0, max_body);
  std::vector<std::string> out;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const std::string id = prefix + "-" + std::to_string(i);
    std::string body = "hello from " + id + "\n";
    const auto bytes = size(rng);
    for (std::size_t n = 0; n < bytes / 64; ++n) {
      body += std::string(63, static_cast<char>('a' + (i + n) % 26)) + "\n";
    }
    out.push_back("From: a@example.org\nTo: b@example.org\nSubject: " + id +
                  "\nMessage-ID: <" + id + "@example.org>\n\n" + body);
  }
  return out;
}

AccountDir::AccountDir(Dovecot& dovecot, fs::path dir, std::vector<std::string> globs)
    : m_dovecot(&dovecot), m_dir(std::move(dir)), m_globs(std::move(globs)) {
  std::string list;
  for (const auto& g : m_globs) {
    list += (list.empty() ? "\"" : ", \"") + g + "\"";
  }
  fs::create_directories(m_dir);
  dovecot.write_config(m_dir, "rel", "folders = [" + list + "]\n");
}

ChildResult AccountDir::run(const std::vector<std::string>& args,
                            const ChildOptions& options) const {
  std::vector<std::string> argv{UIDSYNC_BINARY, "-c", (m_dir / "config.toml").string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_child(argv, options);
}

AccountDir AccountDir::copy_to(const fs::path& to) const {
  AccountDir copy(*m_dovecot, to, m_globs);
  for (const char* sub : {"state", "Mail"}) {
    if (fs::exists(m_dir / sub)) {
      fs::copy(m_dir / sub, to / sub, fs::copy_options::recursive);
    }
  }
  return copy;
}

MirrorReport AccountDir::verify(const std::vector<std::string>& folders) const {
  return verify_mirror(*m_dovecot, folders, maildir(), db());
}

} // namespace uidsync::test
