// SPDX-License-Identifier: GPL-3.0-or-later
// Dovecot: a private, throwaway Dovecot for integration tests (wraps tests/support/dovecot-fixture).
//
// One instance per test suite is the intended use (start it in SetUpTestSuite): a start
// costs well under a second plus certificate generation. Everything (config, Maildir,
// TLS material, logs) lives in one directory; nothing touches /etc/dovecot.
// A Dovecot that cannot start is a failure (std::runtime_error carrying the log tail),
// never a skip.
#pragma once

#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace uidsync::test {

// What the instance advertises after login: everything Dovecot has, or the same
// without CONDSTORE and QRESYNC (RFC 7162), for the clients' fallback paths.
enum class DovecotCaps { all, no_qresync };

class Dovecot {
public:
  // Starts an instance in a fresh TempDir. Throws std::runtime_error (with the
  // script's output and the Dovecot log tail) if it does not come up.
  Dovecot();
  explicit Dovecot(DovecotCaps caps);
  // Same, in `dir` (created if needed; not removed afterwards).
  explicit Dovecot(std::filesystem::path dir);
  // Stops the instance (see stop()).
  ~Dovecot();
  Dovecot(const Dovecot&) = delete;
  Dovecot& operator=(const Dovecot&) = delete;

  const std::filesystem::path& dir() const { return m_dir; }
  const std::string& host() const { return m_host; } // always "127.0.0.1"
  int port() const { return m_port; }                // plain IMAP + STARTTLS
  int imaps_port() const { return m_imaps_port; }    // implicit TLS
  const std::string& user() const { return m_user; }
  const std::string& password() const { return m_password; }
  const std::filesystem::path& ca_file() const { return m_ca_file; } // signed the server cert
  const std::filesystem::path& other_ca_file() const { return m_other_ca_file; } // unrelated CA
  const std::filesystem::path& server_cert() const { return m_server_cert; } // PEM
  const std::filesystem::path& mail_dir() const { return m_mail_dir; }       // the user's Maildir
  // A client bound to this address gets no STARTTLS (Dovecot `remote` block, ssl = no).
  static constexpr const char* k_no_starttls_client_addr = "127.0.0.5";
  // A client bound to this address gets an expired certificate signed by ca_file().
  static constexpr const char* k_expired_cert_client_addr = "127.0.0.6";

  // The master's pid, or nullopt when the instance is not running.
  std::optional<pid_t> master_pid() const;
  // The master and all its descendants that are alive now (zombies excluded).
  std::vector<pid_t> processes() const;

  // Delivers each message (RFC 5322 text, LF or CRLF) to `folder`, creating it.
  // Throws std::runtime_error on failure.
  void fill(const std::string& folder, const std::vector<std::string>& messages);
  // Runs `doveadm -c <conf> args...`; returns its stdout+stderr. Throws on a non-zero exit.
  std::string doveadm(const std::vector<std::string>& args);

  // Writes `dir`/config.toml with one account `account` on this instance (STARTTLS,
  // its CA, the password read from `dir`/password by password_cmd), state in
  // `dir`/state and mail in `dir`/Mail; `extra` is appended to the account's table
  // ("folders = [...]\n"). Writes the password file too.
  void write_config(const std::filesystem::path& dir, const std::string& account,
                    const std::string& extra = {}) const;

  // Stops the instance and waits until none of its processes is left. Idempotent.
  // Throws std::runtime_error if a process survives.
  void stop();

  // The last `lines` lines of the Dovecot log (for failure messages).
  std::string log_tail(int lines = 20) const;

private:
  void start();

  std::unique_ptr<TempDir> m_temp;
  std::filesystem::path m_dir;
  std::string m_host;
  int m_port = 0;
  int m_imaps_port = 0;
  std::string m_user;
  std::string m_password;
  std::filesystem::path m_ca_file;
  std::filesystem::path m_other_ca_file;
  std::filesystem::path m_server_cert;
  std::filesystem::path m_mail_dir;
  bool m_running = false;
  int m_fill_counter = 0;
  DovecotCaps m_caps = DovecotCaps::all;
};

// Base for a test suite sharing one Dovecot: started in SetUpTestSuite, stopped in
// TearDownTestSuite. When it could not start, every test of the suite fails with the
// reason (never skips). Tests must not rely on mail left by other tests.
class DovecotSuite : public ::testing::Test {
protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();
  void SetUp() override;

  static std::unique_ptr<Dovecot> s_dovecot;
  static std::string s_start_error;
};

// Path of the fixture script in the source tree.
std::filesystem::path dovecot_fixture_script();

// Runs `argv` (no shell), returns {exit status, stdout+stderr}. Exit status is -1
// when the program could not be started or died from a signal.
struct CommandResult {
  int status = -1;
  std::string output;
};
CommandResult run_command(const std::vector<std::string>& argv);

// The pids of `root` and all its live descendants (from /proc; zombies excluded).
std::vector<pid_t> process_tree(pid_t root);

} // namespace uidsync::test
