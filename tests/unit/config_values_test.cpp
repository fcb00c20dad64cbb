// SPDX-License-Identifier: GPL-3.0-or-later
// A valid config resolves to the values written, and to the defaults otherwise.
#include "support/table.hpp"

#include <uidsync/cli/config_file.hpp>
#include <uidsync/core/paths.hpp>

#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <string>

namespace uidsync::cli {
namespace {

constexpr const char* k_base = "[accounts.work]\n"
                               "host = \"imap.example.org\"\n"
                               "user = \"me@example.org\"\n"
                               "maildir = \"/home/me/Mail/work\"\n";

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& word : words) {
    out += (out.empty() ? "" : "|") + word;
  }
  return out;
}

std::string backoff_seconds(const core::Account& a) {
  std::string out;
  for (auto wait : a.quarantine.backoff) {
    out += std::to_string(wait.count()) + " ";
  }
  return out;
}

std::string guard_limits(const core::Account& a) {
  return std::to_string(a.guard.max_delete_percent) + "/" +
         std::to_string(a.guard.max_delete_count);
}

struct ValueRow {
  std::string name;
  std::string lines; // appended to k_base
  std::function<std::string(const core::Account&)> field;
  std::string expected;
};

void PrintTo(const ValueRow& row, std::ostream* os) {
  *os << row.name;
}

class ConfigValues : public ::testing::TestWithParam<ValueRow> {};

TEST_P(ConfigValues, ResolveToWhatIsWrittenOrTheDefault) {
  const auto& row = GetParam();
  const auto config = parse_config(std::string(k_base) + row.lines, "config.toml");
  ASSERT_TRUE(config.has_value()) << config.error().message;
  ASSERT_EQ(config->accounts.size(), 1U);
  EXPECT_EQ(row.field(config->accounts.front()), row.expected);
}

const std::string k_cmd = "password_cmd = \"p\"\n";

const ValueRow k_value_rows[] = {
    {"port_default_implicit", k_cmd, [](const core::Account& a) { return std::to_string(a.port); },
     "993"},
    {"port_default_starttls", k_cmd + "tls = \"starttls\"\n",
     [](const core::Account& a) { return std::to_string(a.port); }, "143"},
    {"port_default_plaintext", k_cmd + "tls = \"none\"\nallow_plaintext = true\n",
     [](const core::Account& a) { return std::to_string(a.port); }, "143"},
    {"port_explicit", k_cmd + "port = 1993\n",
     [](const core::Account& a) { return std::to_string(a.port); }, "1993"},
    {"tls_default", k_cmd, [](const core::Account& a) { return std::string(to_string(a.tls)); },
     "implicit"},
    {"auth_default", k_cmd, [](const core::Account& a) { return std::string(to_string(a.auth)); },
     "auto"},
    {"auth_xoauth2_with_token_cmd",
     "auth = \"xoauth2\"\noauth2_token_cmd = [\"oama\", \"access\"]\n",
     [](const core::Account& a) {
       return std::string(to_string(a.auth)) + ":" + join(a.oauth2_token_cmd.argv);
     },
     "xoauth2:oama|access"},
    {"layout_maildirpp", k_cmd + "layout = \"maildir++\"\n",
     [](const core::Account& a) { return std::string(to_string(a.layout)); }, "maildir++"},
    {"direction_pull", k_cmd + "direction = \"pull\"\n",
     [](const core::Account& a) { return std::string(to_string(a.direction)); }, "pull"},
    {"folders_default", k_cmd, [](const core::Account& a) { return join(a.folders); }, "*"},
    {"folders_with_exclude", k_cmd + "folders = [\"*\", \"!Trash\"]\n",
     [](const core::Account& a) { return join(a.folders); }, "*|!Trash"},
    {"max_connections_default", k_cmd,
     [](const core::Account& a) { return std::to_string(a.max_connections); }, "4"},
    {"compress_default_on", k_cmd,
     [](const core::Account& a) { return std::string(wants_compression(a) ? "on" : "off"); }, "on"},
    {"compress_off", k_cmd + "compress = false\n",
     [](const core::Account& a) { return std::string(wants_compression(a) ? "on" : "off"); },
     "off"},
    {"timeout_default", k_cmd,
     [](const core::Account& a) { return std::to_string(a.timeout.count()); }, "60"},
    {"password_cmd_string_split", "password_cmd = \"pass show 'mail/my work'\"\n",
     [](const core::Account& a) { return join(a.password.command.argv); },
     "pass|show|mail/my work"},
    {"password_cmd_array", "password_cmd = [\"secret-tool\", \"lookup\", \"a b\"]\n",
     [](const core::Account& a) { return join(a.password.command.argv); },
     "secret-tool|lookup|a b"},
    {"password_cmd_sh_c_as_written", "password_cmd = \"sh -c gpg -dq f.gpg | head -1\"\n",
     [](const core::Account& a) { return join(a.password.command.argv); },
     "sh|-c|gpg -dq f.gpg | head -1"},
    {"password_inline", "password = \"hunter2\"\n",
     [](const core::Account& a) {
       return std::string(to_string(a.password.kind)) + ":" + a.password.secret;
     },
     "password:hunter2"},
    {"netrc_true", "netrc = true\n",
     [](const core::Account& a) {
       return std::string(to_string(a.password.kind)) + ":" + a.password.netrc.string();
     },
     "netrc:"},
    {"netrc_path", "netrc = \"/etc/mail.netrc\"\n",
     [](const core::Account& a) {
       return std::string(to_string(a.password.kind)) + ":" + a.password.netrc.string();
     },
     "netrc:/etc/mail.netrc"},
    {"fingerprint_colons_normalized",
     k_cmd + "fingerprint = \"SHA256:" + std::string("AB:") + std::string(62, 'c') + "\"\n",
     [](const core::Account& a) { return a.fingerprint; }, "ab" + std::string(62, 'c')},
    {"proxy_socks5h", k_cmd + "proxy = \"socks5h://127.0.0.1:9050\"\n",
     [](const core::Account& a) { return a.proxy; }, "socks5h://127.0.0.1:9050"},
    {"post_sync_cmd", k_cmd + "post_sync_cmd = \"notmuch new\"\n",
     [](const core::Account& a) { return join(a.post_sync_cmd.argv); }, "notmuch|new"},
    {"backoff_default", k_cmd, backoff_seconds, "3600 14400 86400 604800 "},
    {"backoff_units", k_cmd + "[accounts.work.quarantine]\nbackoff = [\"90s\", \"30m\", \"2w\"]\n",
     backoff_seconds, "90 1800 1209600 "},
    {"guard_defaults", k_cmd, guard_limits, "25/10"},
    {"guard_set", k_cmd + "[accounts.work.guard]\nmax_delete_percent = 50\nmax_delete_count = 0\n",
     guard_limits, "50/0"},
};

INSTANTIATE_TEST_SUITE_P(Rows, ConfigValues, ::testing::ValuesIn(k_value_rows), test::RowName{});

TEST(ConfigValuesHome, TildeIsExpanded) {
  const auto config = parse_config(
      "[accounts.work]\nhost = \"h\"\nuser = \"u\"\nmaildir = \"~/Mail\"\nnetrc = \"~/.netrc\"\n",
      "config.toml");
  ASSERT_TRUE(config.has_value()) << config.error().message;
  const auto home = core::home_dir();
  ASSERT_TRUE(home.has_value());
  EXPECT_EQ(config->accounts.front().maildir, *home / "Mail");
  EXPECT_EQ(config->accounts.front().password.netrc, *home / ".netrc");
}

TEST(ConfigValuesOrder, AccountsKeepFileOrder) {
  const auto config = parse_config("[accounts.zeta]\nhost = \"h\"\nuser = \"u\"\nmaildir = \"/z\"\n"
                                   "netrc = true\n[accounts.alpha]\nhost = \"h\"\nuser = \"u\"\n"
                                   "maildir = \"/a\"\nnetrc = true\n",
                                   "config.toml");
  ASSERT_TRUE(config.has_value()) << config.error().message;
  ASSERT_EQ(config->accounts.size(), 2U);
  EXPECT_EQ(config->accounts[0].name, "zeta");
  EXPECT_EQ(config->accounts[1].name, "alpha");
  EXPECT_EQ(config->find("alpha"), &config->accounts[1]);
  EXPECT_EQ(config->find("beta"), nullptr);
}

TEST(ConfigValuesSample, ShippedSampleIsValid) {
  const auto config = load_config(std::string(UIDSYNC_SOURCE_DIR) + "/contrib/config.sample.toml");
  ASSERT_TRUE(config.has_value()) << config.error().message;
  ASSERT_EQ(config->accounts.size(), 1U);
  EXPECT_EQ(config->accounts.front().password.kind, core::PasswordSource::Kind::command);
  EXPECT_EQ(config->accounts.front().folders.size(), 3U);
}

// compress unset: on, except towards a loopback server; set: as set.
struct CompressionRow {
  std::string name;
  std::string host;
  std::optional<bool> compress;
  bool expected;
};

const CompressionRow k_compression_rows[] = {
    {"remote_name", "imap.example.org", std::nullopt, true},
    {"remote_ipv4", "192.0.2.7", std::nullopt, true},
    {"remote_ipv6", "2001:db8::1", std::nullopt, true},
    {"localhost", "localhost", std::nullopt, false},
    {"loopback_ipv4", "127.0.0.1", std::nullopt, false},
    {"loopback_ipv4_other", "127.3.2.1", std::nullopt, false},
    {"loopback_ipv6", "::1", std::nullopt, false},
    {"loopback_ipv6_bracketed", "[::1]", std::nullopt, false},
    {"name_starting_like_loopback", "127.example.org", std::nullopt, true},
    {"forced_on_loopback", "127.0.0.1", true, true},
    {"forced_off_remote", "imap.example.org", false, false},
};

class ConfigCompression : public ::testing::TestWithParam<CompressionRow> {};

TEST_P(ConfigCompression, DefaultDependsOnTheServerAddress) {
  core::Account account;
  account.host = GetParam().host;
  account.compress = GetParam().compress;
  EXPECT_EQ(core::wants_compression(account), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(Rows, ConfigCompression, ::testing::ValuesIn(k_compression_rows),
                         test::RowName{});

} // namespace
} // namespace uidsync::cli
