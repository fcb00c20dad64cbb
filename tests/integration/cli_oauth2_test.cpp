// SPDX-License-Identifier: GPL-3.0-or-later
// OAuth2 end to end with the real binary against Dovecot (which takes the user's
// password as the bearer token): the token comes from oauth2_token_cmd, run once per
// connection, and never appears in the output, a -vvv log or a --trace transcript.
#include "support/dovecot.hpp"
#include "support/table.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

namespace uidsync::test {
namespace {

std::string base64(const std::string& text) {
  std::string out(4 * ((text.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

struct OAuthRow {
  const char* name;
  const char* auth;    // the config value
  const char* command; // the uidsync command run
  int token_runs;      // how often the token command must have run
};

const OAuthRow k_rows[] = {
    {"FoldersXoauth2", "xoauth2", "folders", 1},
    {"FoldersOauthbearer", "oauthbearer", "folders", 1},
    {"SyncXoauth2", "xoauth2", "sync", 1},
    {"SyncOauthbearer", "oauthbearer", "sync", 1},
};

class CliOAuth2 : public DovecotSuite, public ::testing::WithParamInterface<OAuthRow> {
protected:
  // Logins Dovecot logged with this mechanism ("method=XOAUTH2").
  static std::size_t logins(std::string mechanism) {
    std::transform(mechanism.begin(), mechanism.end(), mechanism.begin(), [](char c) {
      return static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    });
    const std::string log = read_file(s_dovecot->dir() / "log" / "dovecot.log");
    std::size_t n = 0;
    for (auto at = log.find("method=" + mechanism + ","); at != std::string::npos;
         at = log.find("method=" + mechanism + ",", at + 1)) {
      ++n;
    }
    return n;
  }
};

TEST_P(CliOAuth2, TokenFromCommandNeverShown) {
  const auto& row = GetParam();
  TempDir temp;
  const auto dir = temp.path();
  s_dovecot->fill("INBOX", {"From: a@example.org\nSubject: hi\nMessage-ID: <oauth@x>\n\nhi\n"});
  const std::string token = s_dovecot->password();
  write_file(dir / "token", token + "\n");
  // The helper counts its runs, as a refreshing token helper would be re-run.
  write_file(dir / "token-helper",
             "#!/bin/sh\necho run >> \"$0.runs\"\ncat \"" + (dir / "token").string() + "\"\n");
  std::filesystem::permissions(dir / "token-helper", std::filesystem::perms::owner_all);
  write_file(
      dir / "config.toml",
      "[general]\nstate_dir = \"" + (dir / "state").string() + "\"\n\n[accounts.oa]\nhost = \"" +
          s_dovecot->host() + "\"\nport = " + std::to_string(s_dovecot->imaps_port()) +
          "\ntls = \"implicit\"\nca_file = \"" + s_dovecot->ca_file().string() + "\"\nuser = \"" +
          s_dovecot->user() + "\"\nauth = \"" + row.auth + "\"\noauth2_token_cmd = [\"" +
          (dir / "token-helper").string() + "\"]\nmaildir = \"" + (dir / "Mail").string() +
          "\"\nfolders = [\"INBOX\"]\nmax_connections = 1\n");
  const auto trace = dir / "trace.txt";
  const auto logins_before = logins(row.auth);
  const auto r = run_command({UIDSYNC_BINARY, "-vvv", "-c", (dir / "config.toml").string(),
                              row.command, "--trace", trace.string()});
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string runs = read_file(dir / "token-helper.runs");
  EXPECT_EQ(static_cast<int>(std::count(runs.begin(), runs.end(), '\n')), row.token_runs);

  // Dovecot logged one more login with the configured mechanism.
  EXPECT_EQ(logins(row.auth), logins_before + 1) << s_dovecot->log_tail(40);
  const std::string text = read_file(trace);
  EXPECT_NE(text.find("LOGOUT"), std::string::npos) << text;
  const std::string user = s_dovecot->user();
  const std::vector<std::string> secrets{
      token, base64("user=" + user + "\x01" + "auth=Bearer " + token + "\x01\x01"),
      base64("n,a=" + user + ",\x01" + "auth=Bearer " + token + "\x01\x01")};
  for (const auto& secret : secrets) { // neither the token nor its SASL payload
    EXPECT_EQ(text.find(secret), std::string::npos) << "trace holds a secret";
    EXPECT_EQ(r.output.find(secret), std::string::npos) << "output holds a secret";
  }
}

INSTANTIATE_TEST_SUITE_P(Rows, CliOAuth2, ::testing::ValuesIn(k_rows), RowName{});

} // namespace
} // namespace uidsync::test
