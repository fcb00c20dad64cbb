// SPDX-License-Identifier: GPL-3.0-or-later
// Security with the real binary against a real Dovecot: certificates that must be
// refused (expired, unknown CA, no CA at all, wrong host name), STARTTLS hidden by
// the server, plaintext without allow_plaintext; each refused with its message
// before any credential reaches the server. Then the secrets scan: every command run
// with -vvv, --json and --trace, and no password, token or SASL payload in any file
// it wrote or in its output.
#include "support/child_process.hpp"
#include "support/dovecot.hpp"
#include "support/table.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace uidsync::test {
namespace {

namespace fs = std::filesystem;

std::string base64(const std::string& text) {
  std::string out(4 * ((text.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

enum class Ca { fixture, other, none };
enum class Port { plain, imaps };

// One account, "d", on the suite's Dovecot.
struct AccountSpec {
  std::string tls = "starttls";
  Port port = Port::plain;
  Ca ca = Ca::fixture;
  std::string host = "127.0.0.1";
  std::string bind_address;
  std::string auth = "auto";
  std::string secret;       // empty: the fixture's password
  bool allow_plaintext = false;
};

AccountSpec spec_of(std::string tls, Port port, Ca ca = Ca::fixture, std::string host = "127.0.0.1",
                    std::string bind_address = {}) {
  AccountSpec spec;
  spec.tls = std::move(tls);
  spec.port = port;
  spec.ca = ca;
  spec.host = std::move(host);
  spec.bind_address = std::move(bind_address);
  return spec;
}

class CliSecurityBase : public DovecotSuite {
protected:
  // Writes dir/config.toml for `spec`; OAuth2 mechanisms get the secret through
  // oauth2_token_cmd, the others through password_cmd.
  static void write_config(const fs::path& dir, const AccountSpec& spec) {
    const auto& d = *s_dovecot;
    const std::string secret = spec.secret.empty() ? d.password() : spec.secret;
    write_file(dir / "secret", secret + "\n");
    const bool oauth = spec.auth == "xoauth2" || spec.auth == "oauthbearer";
    std::string toml = "[general]\nstate_dir = \"" + (dir / "state").string() +
                       "\"\n\n[accounts.d]\nhost = \"" + spec.host + "\"\nport = " +
                       std::to_string(spec.port == Port::plain ? d.port() : d.imaps_port()) +
                       "\ntls = \"" + spec.tls + "\"\nuser = \"" + d.user() + "\"\nauth = \"" +
                       spec.auth + "\"\n" + (oauth ? "oauth2_token_cmd" : "password_cmd") +
                       " = [\"cat\", \"" + (dir / "secret").string() + "\"]\nmaildir = \"" +
                       (dir / "Mail").string() + "\"\nfolders = [\"INBOX\"]\nmax_connections = 1\ntimeout = 10\n";
    if (spec.ca != Ca::none) {
      toml += "ca_file = \"" + (spec.ca == Ca::fixture ? d.ca_file() : d.other_ca_file()).string() + "\"\n";
    }
    if (!spec.bind_address.empty()) {
      toml += "bind_address = \"" + spec.bind_address + "\"\n";
    }
    if (spec.allow_plaintext) {
      toml += "allow_plaintext = true\n";
    }
    write_file(dir / "config.toml", toml);
  }

  static ChildResult uidsync(const fs::path& dir, const std::vector<std::string>& args) {
    std::vector<std::string> argv{UIDSYNC_BINARY, "-c", (dir / "config.toml").string()};
    argv.insert(argv.end(), args.begin(), args.end());
    ChildOptions options;
    options.env = {"HOME=" + dir.string()};
    options.cwd = dir;
    return run_child(argv, options);
  }

  static std::string dovecot_log() { return read_file(s_dovecot->dir() / "log" / "dovecot.log"); }

  // The Dovecot log written after `offset`, once it holds `until` (or 5 s passed:
  // the log process writes a moment after the client is gone).
  static std::string log_since(std::size_t offset, const std::string& until) {
    std::string text;
    for (int i = 0; i < 100; ++i) {
      text = dovecot_log().substr(offset);
      if (text.find(until) != std::string::npos) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return text;
  }
};

struct TlsRow {
  std::string name;
  AccountSpec spec;
  int status;
  std::vector<std::string> stderr_has;
  bool logs_in; // Dovecot saw a login attempt
};

// Exit codes: 0 synced, 1 the account failed, 2 the config is wrong.
const std::vector<TlsRow> k_tls_rows = {
    {"TrustedCertificateLogsIn", spec_of("starttls", Port::plain), 0, {}, true},
    {"ExpiredCertificate",
     spec_of("implicit", Port::imaps, Ca::fixture, "127.0.0.1", Dovecot::k_expired_cert_client_addr), 1,
     {"account d: certificate of 127.0.0.1:", "has expired", "ask the server's operator to renew it"}, false},
    {"UnknownCa", spec_of("starttls", Port::plain, Ca::other), 1,
     {"account d: certificate of 127.0.0.1:", "is not trusted", "set ca_file to the CA that signed it"}, false},
    {"SelfSignedWithoutCaFile", spec_of("implicit", Port::imaps, Ca::none), 1,
     {"is not trusted", "pin it with fingerprint = \"sha256:"}, false},
    {"WrongHostName", spec_of("implicit", Port::imaps, Ca::fixture, "localhost"), 1,
     {"certificate of localhost:", "is not issued for host \"localhost\""}, false},
    {"StarttlsHidden",
     spec_of("starttls", Port::plain, Ca::fixture, "127.0.0.1", Dovecot::k_no_starttls_client_addr), 1,
     {"does not offer STARTTLS (possible downgrade attack); refusing to send the password in cleartext"},
     false},
    {"PlaintextWithoutAllow", spec_of("none", Port::plain), 2,
     {"accounts.d.tls: \"none\" sends the password and all mail unencrypted", "allow_plaintext = true"},
     false},
    {"BindAddressNotAnAddress", spec_of("starttls", Port::plain, Ca::fixture, "127.0.0.1", "not-an-ip"), 2,
     {"accounts.d.bind_address: \"not-an-ip\" is not an IP address"}, false},
};

class CliTls : public CliSecurityBase, public ::testing::WithParamInterface<TlsRow> {};

TEST_P(CliTls, RefusesBeforeSendingCredentials) {
  const auto& row = GetParam();
  TempDir temp;
  write_config(temp.path(), row.spec);
  const auto offset = dovecot_log().size();
  const auto r = uidsync(temp.path(), {"sync"});
  EXPECT_EQ(r.status, row.status) << r.err;
  for (const auto& part : row.stderr_has) {
    EXPECT_NE(r.err.find(part), std::string::npos) << "no '" << part << "' in:\n" << r.err;
  }
  // Dovecot logs "method=PLAIN" (or another mechanism) and the user for every login
  // attempt, and "no auth attempts" for a connection that never tried.
  const std::string log =
      log_since(offset, row.status == 2 ? "" : row.logs_in ? "method=" : "no auth attempts");
  EXPECT_EQ(log.find("method=") != std::string::npos, row.logs_in) << log;
  EXPECT_EQ(log.find("user=<" + s_dovecot->user() + ">") != std::string::npos, row.logs_in) << log;
  EXPECT_EQ(r.err.find(s_dovecot->password()), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Rows, CliTls, ::testing::ValuesIn(k_tls_rows), RowName{});

struct SecretsRow {
  std::string name;
  std::string auth;
  std::vector<std::vector<std::string>> runs; // commands, in order, each with -vvv --json
  int last_status;                            // exit status of the last command
  bool wrong_secret = false;
  std::size_t min_files = 1; // files it must have written (state, trace, ...)
};

const std::vector<SecretsRow> k_secrets_rows = {
    {"SyncPlain", "plain", {{"sync", "--trace", "trace.txt"}}, 0},
    {"SyncLogin", "login", {{"sync", "--trace", "trace.txt"}}, 0},
    {"SyncXoauth2", "xoauth2", {{"sync", "--trace", "trace.txt"}}, 0},
    {"SyncOauthbearer", "oauthbearer", {{"sync", "--trace", "trace.txt"}}, 0},
    {"FoldersPlain", "plain", {{"folders", "--trace", "trace.txt"}}, 0},
    {"Doctor", "plain", {{"sync"}, {"doctor", "d"}}, 0},
    {"QuarantineList", "plain", {{"sync"}, {"quarantine", "list"}}, 0},
    {"Status", "plain", {{"sync"}, {"status"}}, 0},
    {"CheckConfig", "plain", {{"check-config"}}, 0, false, 0},
    {"FailedLoginPlain", "plain", {{"sync", "--trace", "trace.txt"}}, 1, true},
    {"FailedLoginLogin", "login", {{"sync", "--trace", "trace.txt"}}, 1, true},
    {"FailedLoginXoauth2", "xoauth2", {{"sync", "--trace", "trace.txt"}}, 1, true},
};

class CliSecrets : public CliSecurityBase, public ::testing::WithParamInterface<SecretsRow> {};

TEST_P(CliSecrets, NeverWrittenOrPrinted) {
  const auto& row = GetParam();
  TempDir temp;
  const auto& dir = temp.path();
  // A wrong secret must not leak either: it is somebody's password too.
  const std::string secret = row.wrong_secret ? "wrong-Pa55-q7Zx" : s_dovecot->password();
  AccountSpec spec = spec_of("implicit", Port::imaps);
  spec.auth = row.auth;
  spec.secret = secret;
  write_config(dir, spec);
  s_dovecot->fill("INBOX", {"From: a@example.org\nSubject: scan\nMessage-ID: <scan@x>\n\nhi\n"});
  std::string output;
  ChildResult r;
  for (const auto& args : row.runs) {
    std::vector<std::string> argv{"-vvv", "--json"};
    argv.insert(argv.end(), args.begin(), args.end());
    r = uidsync(dir, argv);
    output += r.out + r.err;
  }
  EXPECT_EQ(r.status, row.last_status) << output;
  ASSERT_FALSE(output.empty());

  const std::string user = s_dovecot->user();
  const std::string host = s_dovecot->host();
  const std::string port = std::to_string(s_dovecot->imaps_port());
  const std::vector<std::string> secrets{
      secret,
      base64(secret),                                    // AUTHENTICATE LOGIN's answer
      base64(std::string(1, '\0') + user + '\0' + secret), // PLAIN
      base64(user + '\0' + user + '\0' + secret),
      base64("user=" + user + "\x01" + "auth=Bearer " + secret + "\x01\x01"), // XOAUTH2
      base64("n,a=" + user + ",\x01" + "auth=Bearer " + secret + "\x01\x01"), // OAUTHBEARER
      base64("n,a=" + user + ",\x01host=" + host + "\x01port=" + port + "\x01" + "auth=Bearer " +
             secret + "\x01\x01"),
      base64("n,a=" + user + ",\x01host=" + host + "\x01" + "auth=Bearer " + secret + "\x01\x01"),
  };
  std::vector<std::pair<std::string, std::string>> scanned{{"output", output}};
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    const auto name = e.path().filename().string();
    if (e.is_regular_file() && name != "secret" && name != "config.toml") {
      scanned.emplace_back(e.path().string(), read_file(e.path()));
    }
  }
  EXPECT_GE(scanned.size(), 1 + row.min_files);
  for (const auto& [where, text] : scanned) {
    for (const auto& s : secrets) {
      EXPECT_EQ(text.find(s), std::string::npos) << where << " holds the secret form " << s;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Rows, CliSecrets, ::testing::ValuesIn(k_secrets_rows), RowName{});

} // namespace
} // namespace uidsync::test
