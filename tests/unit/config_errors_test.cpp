// SPDX-License-Identifier: GPL-3.0-or-later
// Every way config.toml can be wrong gives FILE:LINE:COL, the key, and what to do.
#include "support/table.hpp"

#include <uidsync/cli/config_file.hpp>

#include <gtest/gtest.h>

#include <string>

namespace uidsync::cli {
namespace {

// A complete valid account, for rows that break one thing after it (line 1 is
// the header, so a row's own lines start at line 6).
constexpr const char* k_valid = "[accounts.work]\n"
                                "host = \"imap.example.org\"\n"
                                "user = \"me@example.org\"\n"
                                "password_cmd = \"pass show work\"\n"
                                "maildir = \"/home/me/Mail/work\"\n";

struct ErrorRow {
  std::string name;
  std::string toml;
  std::string expected; // a substring of the error message, with its line:col
  std::string absent;   // must not appear in the message (a secret); may be empty
};

void PrintTo(const ErrorRow& row, std::ostream* os) {
  *os << row.name;
}

class ConfigErrors : public ::testing::TestWithParam<ErrorRow> {};

TEST_P(ConfigErrors, NameFileLineColumnAndFix) {
  const auto& row = GetParam();
  const auto config = parse_config(row.toml, "config.toml");
  ASSERT_FALSE(config.has_value()) << "accepted:\n" << row.toml;
  EXPECT_NE(config.error().message.find(row.expected), std::string::npos)
      << "message:\n"
      << config.error().message << "\nexpected to contain:\n"
      << row.expected;
  if (!row.absent.empty()) {
    EXPECT_EQ(config.error().message.find(row.absent), std::string::npos) << config.error().message;
  }
  EXPECT_EQ(config.error().scope, core::Scope::fatal);
  EXPECT_NE(config.error().hint.find("check-config"), std::string::npos);
}

std::string valid_plus(const std::string& extra) {
  return std::string(k_valid) + extra;
}

const ErrorRow k_error_rows[] = {
    {"syntax_error_unclosed_header", "[accounts.work\nhost = 1\n",
     "config.toml:1:15: TOML syntax error: Error while parsing table header", ""},
    {"syntax_error_duplicate_key", valid_plus("host = \"again\"\n"),
     "config.toml:6:8: TOML syntax error: Error while parsing key-value pair: cannot redefine "
     "existing string 'host'",
     ""},
    {"unknown_top_level_table", "[acounts.work]\nhost = \"h\"\n",
     "config.toml:1:2: acounts: unknown key; did you mean \"accounts\"?", ""},
    {"unknown_account_key_close", valid_plus("fodlers = [\"*\"]\n"),
     "config.toml:6:1: accounts.work.fodlers: unknown key; did you mean \"folders\"?", ""},
    {"unknown_account_key_swapped_letters", valid_plus("prot = 993\n"),
     "config.toml:6:1: accounts.work.prot: unknown key; did you mean \"port\"?", ""},
    {"unknown_account_key_far", valid_plus("colour = \"blue\"\n"),
     "config.toml:6:1: accounts.work.colour: unknown key; known keys here are host, port, tls", ""},
    {"unknown_general_key", "[general]\nstate_dri = \"/x\"\n" + valid_plus(""),
     "config.toml:2:1: general.state_dri: unknown key; did you mean \"state_dir\"?", ""},
    {"unknown_quarantine_key", valid_plus("[accounts.work.quarantine]\nbackof = [\"1h\"]\n"),
     "config.toml:7:1: accounts.work.quarantine.backof: unknown key; did you mean \"backoff\"?",
     ""},
    {"unknown_guard_key", valid_plus("[accounts.work.guard]\nmax_delete_percnt = 5\n"),
     "config.toml:7:1: accounts.work.guard.max_delete_percnt: unknown key; did you mean "
     "\"max_delete_percent\"?",
     ""},
    {"port_as_string", valid_plus("port = \"993\"\n"),
     "config.toml:6:8: accounts.work.port: expected an integer, got a string (\"993\"); did you "
     "mean port = 993 (without quotes)?",
     ""},
    {"bool_as_string", valid_plus("allow_plaintext = \"true\"\n"),
     "config.toml:6:19: accounts.work.allow_plaintext: expected a boolean (true or false), got a "
     "string (\"true\"); did you mean allow_plaintext = true (without quotes)?",
     ""},
    {"compress_as_number", valid_plus("compress = 0\n"),
     "config.toml:6:12: accounts.work.compress: expected a boolean (true or false), got an "
     "integer (0)",
     ""},
    {"string_as_integer", valid_plus("proxy = 8080\n"),
     "config.toml:6:9: accounts.work.proxy: expected a string, got an integer (8080); did you "
     "mean proxy = \"8080\" (in quotes)?",
     ""},
    {"array_as_string", valid_plus("folders = \"INBOX\"\n"),
     "config.toml:6:11: accounts.work.folders: expected an array of strings, got a string "
     "(\"INBOX\"); did you mean folders = [\"INBOX\"] (an array)?",
     ""},
    {"array_with_numbers", valid_plus("folders = [1, 2]\n"),
     "config.toml:6:11: accounts.work.folders: expected an array of strings, got an array with "
     "non-string items",
     ""},
    {"table_as_string", valid_plus("guard = \"off\"\n"),
     "config.toml:6:9: accounts.work.guard: expected a table, got a string (\"off\"); write e.g. "
     "guard = { max_delete_percent = 25 }",
     ""},
    {"secret_of_wrong_type_not_echoed",
     "[accounts.work]\nhost = \"h\"\nuser = \"u\"\nmaildir = \"/m\"\npassword = 987654321\n",
     "config.toml:5:12: accounts.work.password: expected a string, got an integer; write e.g.",
     "987654321"},
    {"missing_host_with_typo",
     "[accounts.work]\nhots = \"h\"\nuser = \"u\"\nmaildir = \"/m\"\npassword_cmd = \"p\"\n",
     "config.toml:1:1: accounts.work.host: missing required key; did you mean \"host\" instead of "
     "\"hots\" (line 2)?",
     ""},
    {"missing_user", "\n[accounts.work]\nhost = \"h\"\nmaildir = \"/m\"\npassword_cmd = \"p\"\n",
     "config.toml:2:1: accounts.work.user: missing required key; add e.g. user = "
     "\"me@example.org\"",
     ""},
    {"missing_maildir", "[accounts.work]\nhost = \"h\"\nuser = \"u\"\npassword_cmd = \"p\"\n",
     "config.toml:1:1: accounts.work.maildir: missing required key; add e.g. maildir = "
     "\"~/Mail/work\"",
     ""},
    {"missing_accounts", "[general]\nstate_dir = \"/var/tmp/u\"\n",
     "config.toml:1:1: accounts: missing required key", ""},
    {"empty_accounts", "[accounts]\n", "config.toml:1:1: accounts: no account; add a table", ""},
    {"account_not_a_table", "[accounts]\nwork = 5\n",
     "config.toml:2:8: accounts.work: expected a table [accounts.work]", ""},
    {"account_name_with_space", "[accounts.\"my work\"]\nhost = \"h\"\n",
     "config.toml:1:11: accounts.my work: account names may use only letters, digits", ""},
    {"tls_none_without_allow_plaintext", valid_plus("tls = \"none\"\n"),
     "config.toml:6:7: accounts.work.tls: \"none\" sends the password and all mail unencrypted",
     ""},
    {"tls_unknown_value", valid_plus("tls = \"startls\"\n"),
     "config.toml:6:7: accounts.work.tls: unknown value \"startls\"; did you mean \"starttls\"?",
     ""},
    {"auth_unknown_value_far", valid_plus("auth = \"kerberos\"\n"),
     "config.toml:6:8: accounts.work.auth: unknown value \"kerberos\"; expected one of auto, "
     "plain, login, xoauth2, oauthbearer",
     ""},
    {"layout_typo", valid_plus("layout = \"maildir+\"\n"),
     "config.toml:6:10: accounts.work.layout: unknown value \"maildir+\"; did you mean "
     "\"maildir++\"?",
     ""},
    {"direction_typo", valid_plus("direction = \"twoway\"\n"),
     "config.toml:6:13: accounts.work.direction: unknown value \"twoway\"; did you mean "
     "\"two-way\"?",
     ""},
    {"xoauth2_without_token_cmd", valid_plus("auth = \"xoauth2\"\n"),
     "config.toml:6:8: accounts.work.auth: \"xoauth2\" needs oauth2_token_cmd", ""},
    {"oauthbearer_without_token_cmd", valid_plus("auth = \"oauthbearer\"\n"),
     "config.toml:6:8: accounts.work.auth: \"oauthbearer\" needs oauth2_token_cmd", ""},
    {"password_cmd_and_password", valid_plus("password = \"hunter2\"\n"),
     "accounts.work.password: more than one password source: password_cmd (line 4) and password "
     "(line 6); keep only one",
     "hunter2"},
    {"password_cmd_and_netrc", valid_plus("netrc = true\n"),
     "accounts.work.netrc: more than one password source: password_cmd (line 4) and netrc (line "
     "6)",
     ""},
    {"no_password_source", "[accounts.work]\nhost = \"h\"\nuser = \"u\"\nmaildir = \"/m\"\n",
     "config.toml:1:1: accounts.work.password_cmd: no password source; add password_cmd", ""},
    {"netrc_false_is_no_source",
     "[accounts.work]\nhost = \"h\"\nuser = \"u\"\nmaildir = \"/m\"\nnetrc = false\n",
     "config.toml:1:1: accounts.work.password_cmd: no password source", ""},
    {"empty_inline_password",
     "[accounts.work]\nhost = \"h\"\nuser = \"u\"\nmaildir = \"/m\"\npassword = \"\"\n",
     "config.toml:5:12: accounts.work.password: empty password", ""},
    {"password_cmd_unterminated_quote",
     "[accounts.work]\nhost = \"h\"\nuser = \"u\"\nmaildir = \"/m\"\npassword_cmd = \"pass 'x\"\n",
     "config.toml:5:16: accounts.work.password_cmd: unterminated ' quote at character 6", ""},
    {"password_cmd_empty_array",
     "[accounts.work]\nhost = \"h\"\nuser = \"u\"\nmaildir = \"/m\"\npassword_cmd = []\n",
     "config.toml:5:16: accounts.work.password_cmd: empty command", ""},
    {"post_sync_cmd_blank", valid_plus("post_sync_cmd = \"  \"\n"),
     "config.toml:6:17: accounts.work.post_sync_cmd: empty command", ""},
    {"port_out_of_range", valid_plus("port = 70000\n"),
     "config.toml:6:8: accounts.work.port: 70000 is out of range; use 1..65535", ""},
    {"max_connections_too_many", valid_plus("max_connections = 17\n"),
     "config.toml:6:19: accounts.work.max_connections: 17 is out of range; use 1..16", ""},
    {"max_connections_zero", valid_plus("max_connections = 0\n"),
     "config.toml:6:19: accounts.work.max_connections: 0 is out of range; use 1..16", ""},
    {"timeout_zero", valid_plus("timeout = 0\n"),
     "config.toml:6:11: accounts.work.timeout: 0 is out of range; use 1..3600", ""},
    {"fingerprint_short", valid_plus("fingerprint = \"sha256:abcd\"\n"),
     "config.toml:6:15: accounts.work.fingerprint: not a SHA-256 fingerprint", ""},
    {"fingerprint_sha1", valid_plus("fingerprint = \"sha1:" + std::string(40, 'a') + "\"\n"),
     "config.toml:6:15: accounts.work.fingerprint: not a SHA-256 fingerprint", ""},
    {"fingerprint_not_hex", valid_plus("fingerprint = \"sha256:" + std::string(64, 'g') + "\"\n"),
     "config.toml:6:15: accounts.work.fingerprint: not a SHA-256 fingerprint", ""},
    {"proxy_unknown_scheme", valid_plus("proxy = \"ftp://proxy:21\"\n"),
     "config.toml:6:9: accounts.work.proxy: \"ftp://proxy:21\" is not a proxy URL", ""},
    {"maildir_relative",
     "[accounts.work]\nhost = \"h\"\nuser = \"u\"\nmaildir = \"Mail\"\npassword_cmd = \"p\"\n",
     "config.toml:4:11: accounts.work.maildir: \"Mail\" is a relative path", ""},
    {"state_dir_relative", "[general]\nstate_dir = \"state\"\n" + valid_plus(""),
     "config.toml:2:13: general.state_dir: \"state\" is a relative path", ""},
    {"ca_file_missing", valid_plus("ca_file = \"/nonexistent/ca.pem\"\n"),
     "config.toml:6:11: accounts.work.ca_file: no such file /nonexistent/ca.pem", ""},
    {"folders_empty_pattern", valid_plus("folders = [\"INBOX\", \"!\"]\n"),
     "config.toml:6:21: accounts.work.folders: empty folder pattern", ""},
    {"folders_empty_list", valid_plus("folders = []\n"),
     "config.toml:6:11: accounts.work.folders: empty list syncs nothing", ""},
    {"backoff_not_a_duration",
     valid_plus("[accounts.work.quarantine]\nbackoff = [\"1h\", \"soon\"]\n"),
     "config.toml:7:18: accounts.work.quarantine.backoff: \"soon\" is not a duration", ""},
    {"backoff_unknown_unit", valid_plus("[accounts.work.quarantine]\nbackoff = [\"3y\"]\n"),
     "config.toml:7:12: accounts.work.quarantine.backoff: \"3y\" is not a duration", ""},
    {"backoff_empty", valid_plus("[accounts.work.quarantine]\nbackoff = []\n"),
     "config.toml:7:11: accounts.work.quarantine.backoff: empty list", ""},
    {"guard_percent_over_100", valid_plus("[accounts.work.guard]\nmax_delete_percent = 101\n"),
     "config.toml:7:22: accounts.work.guard.max_delete_percent: 101 is out of range; use 0..100",
     ""},
    {"guard_count_negative", valid_plus("[accounts.work.guard]\nmax_delete_count = -1\n"),
     "config.toml:7:20: accounts.work.guard.max_delete_count: -1 is out of range", ""},
};

INSTANTIATE_TEST_SUITE_P(Rows, ConfigErrors, ::testing::ValuesIn(k_error_rows), test::RowName{});

TEST(ConfigErrorsReport, ListsEveryProblemInFileOrder) {
  const auto config = parse_config("[accounts.b]\nhots = \"h\"\nuser = 1\nmaildir = \"/m\"\n"
                                   "password_cmd = \"p\"\n[accounts.a]\nhost = \"h\"\n"
                                   "user = \"u\"\nmaildir = \"m\"\npassword_cmd = \"p\"\n",
                                   "c.toml");
  ASSERT_FALSE(config.has_value());
  const std::string& message = config.error().message;
  const auto host = message.find("c.toml:1:1: accounts.b.host: missing");
  const auto hots = message.find("c.toml:2:1: accounts.b.hots: unknown key");
  const auto user = message.find("c.toml:3:8: accounts.b.user: expected a string");
  const auto maildir = message.find("c.toml:9:11: accounts.a.maildir: \"m\" is a relative");
  ASSERT_NE(host, std::string::npos) << message;
  ASSERT_NE(hots, std::string::npos) << message;
  ASSERT_NE(user, std::string::npos) << message;
  ASSERT_NE(maildir, std::string::npos) << message;
  EXPECT_LT(host, hots);
  EXPECT_LT(hots, user);
  EXPECT_LT(user, maildir);
}

struct DistanceRow {
  std::string name;
  std::string a;
  std::string b;
  std::size_t distance;
};

void PrintTo(const DistanceRow& row, std::ostream* os) {
  *os << row.name;
}

class ConfigEditDistance : public ::testing::TestWithParam<DistanceRow> {};

TEST_P(ConfigEditDistance, CountsEditsWithSwapsAsOne) {
  const auto& row = GetParam();
  EXPECT_EQ(edit_distance(row.a, row.b), row.distance);
  EXPECT_EQ(edit_distance(row.b, row.a), row.distance);
}

INSTANTIATE_TEST_SUITE_P(Rows, ConfigEditDistance,
                         ::testing::Values(DistanceRow{"equal", "host", "host", 0},
                                           DistanceRow{"empty", "", "port", 4},
                                           DistanceRow{"substitution", "hast", "host", 1},
                                           DistanceRow{"insertion", "hst", "host", 1},
                                           DistanceRow{"swap", "hsot", "host", 1},
                                           DistanceRow{"case_ignored", "HOST", "host", 0},
                                           DistanceRow{"two_edits", "folder", "fodlers", 2},
                                           DistanceRow{"unrelated", "tls", "maildir", 6}),
                         test::RowName{});

} // namespace
} // namespace uidsync::cli
