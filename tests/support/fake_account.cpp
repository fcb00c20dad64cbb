// SPDX-License-Identifier: GPL-3.0-or-later
// A config for the real binary on a fake IMAP server.
#include "support/fake_account.hpp"

namespace uidsync::test {

FakeAccount::FakeAccount(std::uint16_t port, const std::string& password, const std::string& extra,
                         const std::string& maildir_rel)
    : m_maildir(m_dir / maildir_rel) {
  write_file(m_dir / "password", password + "\n");
  write_file(config(), "[general]\nstate_dir = \"" + state().string() +
                           "\"\n\n[accounts.fake]\nhost = \"127.0.0.1\"\nport = " + std::to_string(port) +
                           "\ntls = \"none\"\nallow_plaintext = true\nuser = \"alice\"\n"
                           "password_cmd = [\"cat\", \"" +
                           (m_dir / "password").string() + "\"]\nmaildir = \"" + maildir().string() +
                           "\"\ntimeout = 1\n" + extra);
}

std::vector<std::string> FakeAccount::argv(const std::vector<std::string>& args) const {
  std::vector<std::string> out{UIDSYNC_BINARY, "-c", config().string()};
  out.insert(out.end(), args.begin(), args.end());
  return out;
}

ChildResult FakeAccount::run(const std::vector<std::string>& args, ChildOptions options) const {
  options.env.push_back("HOME=" + m_dir.string());
  return run_child(argv(args), options);
}

} // namespace uidsync::test
