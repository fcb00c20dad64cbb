// SPDX-License-Identifier: GPL-3.0-or-later
// A config for the real binary on a fake IMAP server.
#include "support/fake_account.hpp"

#include <algorithm>

namespace uidsync::test {

namespace fs = std::filesystem;

FakeAccount::FakeAccount(std::uint16_t port, const FakeAccountOptions& options)
    : m_maildir(m_dir / options.maildir_rel) {
  write_file(m_dir / "password", options.password + "\n");
  const std::string password_cmd = options.password_cmd.empty()
                                       ? "[\"cat\", \"" + (m_dir / "password").string() + "\"]"
                                       : options.password_cmd;
  write_file(config(), "[general]\nstate_dir = \"" + state().string() +
                           "\"\n\n[accounts.fake]\nhost = \"127.0.0.1\"\nport = " + std::to_string(port) +
                           "\ntls = \"none\"\nallow_plaintext = true\nuser = \"alice\"\n"
                           "password_cmd = " +
                           password_cmd + "\nmaildir = \"" + m_maildir.string() + "\"\ntimeout = 5\n" +
                           options.extra);
}

std::vector<std::string> FakeAccount::argv(const std::vector<std::string>& args) const {
  std::vector<std::string> out{UIDSYNC_BINARY, "-c", config().string()};
  out.insert(out.end(), args.begin(), args.end());
  return out;
}

ChildResult FakeAccount::run(const std::vector<std::string>& args, ChildOptions options) const {
  return start(args, std::move(options))->wait();
}

std::unique_ptr<Child> FakeAccount::start(const std::vector<std::string>& args,
                                          ChildOptions options) const {
  options.env.push_back("HOME=" + m_dir.string());
  return std::make_unique<Child>(argv(args), options);
}

std::vector<std::uint32_t> FakeAccount::inbox_uids() const {
  std::vector<std::uint32_t> out;
  for (const char* sub : {"cur", "new"}) {
    const auto dir = m_maildir / "INBOX" / sub;
    if (!fs::is_directory(dir)) {
      continue;
    }
    for (const auto& e : fs::directory_iterator(dir)) {
      const auto name = e.path().filename().string();
      const auto at = name.find(",U=");
      out.push_back(at == std::string::npos ? 0 : static_cast<std::uint32_t>(std::stoul(name.substr(at + 3))));
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

} // namespace uidsync::test
