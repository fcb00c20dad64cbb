// SPDX-License-Identifier: GPL-3.0-or-later
// Password sources: real commands, real netrc files, real file modes.
#include "support/table.hpp"
#include "support/temp_dir.hpp"

#include <uidsync/cli/config_file.hpp>
#include <uidsync/cli/secrets.hpp>
#include <uidsync/util/log.hpp>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <sys/stat.h>

#include <sstream>
#include <string>

namespace uidsync::cli {
namespace {

struct CommandRow {
  std::string name;
  std::string password_cmd; // as written in config.toml (a TOML value)
  int timeout_ms;
  std::string secret; // expected on success
  std::string error;  // expected substring on failure
};

void PrintTo(const CommandRow& row, std::ostream* os) {
  *os << row.name;
}

class CliPasswordCmd : public ::testing::TestWithParam<CommandRow> {};

TEST_P(CliPasswordCmd, FirstLineOrAClearError) {
  const auto& row = GetParam();
  const auto config = parse_config("[accounts.work]\nhost = \"h\"\nuser = \"u\"\nmaildir = \"/m\"\n"
                                   "password_cmd = " +
                                       row.password_cmd + "\n",
                                   "config.toml");
  ASSERT_TRUE(config.has_value()) << config.error().message;
  const auto secret =
      resolve_password(config->accounts.front(), std::chrono::milliseconds(row.timeout_ms));
  if (row.error.empty()) {
    ASSERT_TRUE(secret.has_value()) << secret.error().what();
    EXPECT_EQ(*secret, row.secret);
    return;
  }
  ASSERT_FALSE(secret.has_value()) << "got a secret";
  EXPECT_EQ(secret.error().scope, core::Scope::account);
  EXPECT_NE(secret.error().message.find("accounts.work.password_cmd: " + row.error),
            std::string::npos)
      << secret.error().message;
  EXPECT_EQ(secret.error().message.find("hunter2"), std::string::npos)
      << "arguments must not be shown: " << secret.error().message;
}

const CommandRow k_command_rows[] = {
    {"printf_first_line", "[\"printf\", \"s3cret\\nsecond\\n\"]", 10000, "s3cret", ""},
    {"string_form", "\"printf 'pa ss\\n'\"", 10000, "pa ss", ""},
    {"crlf_stripped", "[\"printf\", \"s3cret\\r\\n\"]", 10000, "s3cret", ""},
    {"no_trailing_newline", "[\"printf\", \"s3cret\"]", 10000, "s3cret", ""},
    {"sh_c_pipeline", "\"sh -c 'printf \\\"a\\\\nb\\\\n\\\" | tail -n 1'\"", 10000, "b", ""},
    {"false_exits_1", "[\"false\", \"hunter2\"]", 10000, "", "'false' exited with status 1"},
    {"exit_3_with_stderr", "\"sh -c 'echo gpg: decryption failed >&2; echo more >&2; exit 3'\"",
     10000, "", "'sh' exited with status 3: gpg: decryption failed"},
    {"killed", "\"sh -c 'kill -KILL $$'\"", 10000, "", "'sh' was killed by signal 9"},
    {"empty_output", "[\"printf\", \"\"]", 10000, "", "'printf' printed nothing on its first line"},
    {"empty_first_line", "[\"printf\", \"\\nlate\\n\"]", 10000, "",
     "'printf' printed nothing on its first line"},
    {"not_found", "[\"uidsync-no-such-program\", \"hunter2\"]", 10000, "",
     "cannot run 'uidsync-no-such-program': No such file or directory"},
    {"timeout", "[\"sh\", \"-c\", \"sleep 5\", \"hunter2\"]", 300, "",
     "'sh' did not finish within 300 ms"},
};

INSTANTIATE_TEST_SUITE_P(Rows, CliPasswordCmd, ::testing::ValuesIn(k_command_rows),
                         test::RowName{});

struct NetrcRow {
  std::string name;
  std::string content;
  std::string machine;
  std::string login;
  std::string password; // expected on success
  std::string error;    // expected substring on failure
};

void PrintTo(const NetrcRow& row, std::ostream* os) {
  *os << row.name;
}

class CliNetrc : public ::testing::TestWithParam<NetrcRow> {};

TEST_P(CliNetrc, FindsTheEntryForHostAndLogin) {
  const auto& row = GetParam();
  test::TempDir tmp;
  const auto path = tmp / "netrc";
  test::write_file(path, row.content);
  const auto password = netrc_password(path, row.machine, row.login);
  if (row.error.empty()) {
    ASSERT_TRUE(password.has_value()) << password.error().what();
    EXPECT_EQ(*password, row.password);
    return;
  }
  ASSERT_FALSE(password.has_value()) << *password;
  EXPECT_NE(password.error().what().find(row.error), std::string::npos) << password.error().what();
}

const NetrcRow k_netrc_rows[] = {
    {"one_line", "machine imap.x.org login me password s3cret\n", "imap.x.org", "me", "s3cret", ""},
    {"tokens_across_lines", "machine imap.x.org\n  login me\n  password s3cret\n", "imap.x.org",
     "me", "s3cret", ""},
    {"second_machine", "machine a login me password one\nmachine b login me password two\n", "b",
     "me", "two", ""},
    {"login_must_match", "machine a login other password one\nmachine a login me password two\n",
     "a", "me", "two", ""},
    {"entry_without_login", "machine a password any\n", "a", "me", "any", ""},
    {"default_entry", "machine a login me password one\ndefault login me password dflt\n", "z",
     "me", "dflt", ""},
    {"machine_wins_over_earlier_default",
     "default password dflt\nmachine a login me password one\n", "a", "me", "one", ""},
    {"quoted_password", "machine a login me password \"with space\"\n", "a", "me", "with space",
     ""},
    {"account_ignored", "machine a login me account acct password pw\n", "a", "me", "pw", ""},
    {"macdef_skipped",
     "macdef init\nmachine a login me password fake\n\nmachine a login me password real\n", "a",
     "me", "real", ""},
    {"comment_skipped", "# machine a login me password fake\nmachine a login me password real\n",
     "a", "me", "real", ""},
    {"missing_host", "machine a login me password one\n", "b", "me", "",
     "no entry for machine b login me"},
    {"missing_login", "machine a login other password one\n", "a", "me", "",
     "no entry for machine a login me"},
    {"entry_without_password", "\nmachine a login me\n", "a", "me", "",
     ":2: the entry for a has no password"},
};

INSTANTIATE_TEST_SUITE_P(Rows, CliNetrc, ::testing::ValuesIn(k_netrc_rows), test::RowName{});

TEST(CliNetrcFile, MissingFileSaysWhatToCreate) {
  test::TempDir tmp;
  const auto password = netrc_password(tmp / "absent", "imap.x.org", "me");
  ASSERT_FALSE(password.has_value());
  EXPECT_NE(password.error().message.find("cannot read netrc file " + (tmp / "absent").string()),
            std::string::npos);
  EXPECT_NE(password.error().hint.find("machine imap.x.org login me password"), std::string::npos);
}

TEST(CliNetrcFile, ResolvedThroughTheConfig) {
  test::TempDir tmp;
  test::write_file(tmp / "netrc", "machine imap.x.org login me password fromnetrc\n");
  const auto config = parse_config("[accounts.work]\nhost = \"imap.x.org\"\nuser = \"me\"\n"
                                   "maildir = \"/m\"\nnetrc = \"" +
                                       (tmp / "netrc").string() + "\"\n",
                                   "config.toml");
  ASSERT_TRUE(config.has_value()) << config.error().message;
  const auto password = resolve_password(config->accounts.front());
  ASSERT_TRUE(password.has_value()) << password.error().what();
  EXPECT_EQ(*password, "fromnetrc");
}

TEST(CliInlinePassword, ResolvesToItself) {
  const auto config = parse_config("[accounts.work]\nhost = \"h\"\nuser = \"u\"\nmaildir = \"/m\"\n"
                                   "password = \"in line\"\n",
                                   "config.toml");
  ASSERT_TRUE(config.has_value()) << config.error().message;
  const auto password = resolve_password(config->accounts.front());
  ASSERT_TRUE(password.has_value());
  EXPECT_EQ(*password, "in line");
}

struct ModeRow {
  std::string name;
  mode_t mode;
  std::string source_line;
  bool warns;
};

void PrintTo(const ModeRow& row, std::ostream* os) {
  *os << row.name;
}

class CliInlinePasswordMode : public ::testing::TestWithParam<ModeRow> {};

TEST_P(CliInlinePasswordMode, WarnsWhenOthersCanReadIt) {
  const auto& row = GetParam();
  test::TempDir tmp;
  const auto path = tmp / "config.toml";
  test::write_file(path, "[accounts.work]\nhost = \"h\"\nuser = \"u\"\nmaildir = \"/m\"\n" +
                             row.source_line + "\n");
  ASSERT_EQ(::chmod(path.c_str(), row.mode), 0);

  std::ostringstream log;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log);
  auto cli_logger = util::logger("cli");
  cli_logger->sinks().push_back(sink);
  const auto config = load_config(path);
  cli_logger->sinks().pop_back();

  ASSERT_TRUE(config.has_value()) << config.error().message;
  if (!row.warns) {
    EXPECT_TRUE(config->warnings.empty());
    EXPECT_EQ(log.str(), "");
    return;
  }
  ASSERT_EQ(config->warnings.size(), 1U);
  EXPECT_NE(config->warnings.front().find("account 'work' has an inline password"),
            std::string::npos);
  EXPECT_NE(config->warnings.front().find("chmod 600 " + path.string()), std::string::npos);
  EXPECT_NE(log.str().find("warning"), std::string::npos) << log.str();
  EXPECT_NE(log.str().find("inline password"), std::string::npos) << log.str();
  EXPECT_EQ(log.str().find("hunter2"), std::string::npos) << log.str();
}

INSTANTIATE_TEST_SUITE_P(
    Rows, CliInlinePasswordMode,
    ::testing::Values(ModeRow{"private_0600", 0600, "password = \"hunter2\"", false},
                      ModeRow{"group_readable_0640", 0640, "password = \"hunter2\"", true},
                      ModeRow{"world_readable_0604", 0604, "password = \"hunter2\"", true},
                      ModeRow{"readable_but_password_cmd", 0644, "password_cmd = \"pass x\"",
                              false}),
    test::RowName{});

} // namespace
} // namespace uidsync::cli
