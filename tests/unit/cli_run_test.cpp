// SPDX-License-Identifier: GPL-3.0-or-later
// The real binary: exit codes, messages, check-config output, the account lock.
#include "support/table.hpp"
#include "support/temp_dir.hpp"

#include <uidsync/util/lock.hpp>
#include <uidsync/util/process.hpp>

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace uidsync::cli {
namespace {

// Replaces every "{dir}" in `text` by `dir`.
std::string expand(std::string text, const std::string& dir) {
  for (auto pos = text.find("{dir}"); pos != std::string::npos; pos = text.find("{dir}", pos)) {
    text.replace(pos, 5, dir);
    pos += dir.size();
  }
  return text;
}

// Runs the uidsync binary with `env` ("NAME=value" set, "-NAME" unset) on top of
// the test's environment, with "{dir}" in `env` and `args` standing for `dir`.
util::ProcessResult run_uidsync(const std::string& dir, const std::vector<std::string>& env,
                                const std::vector<std::string>& args) {
  std::vector<std::string> argv{"env"};
  for (const auto& e : env) {
    if (e.front() == '-') {
      argv.push_back("-u");
      argv.push_back(e.substr(1));
    } else {
      argv.push_back(expand(e, dir));
    }
  }
  argv.emplace_back(UIDSYNC_BINARY);
  for (const auto& arg : args) {
    argv.push_back(expand(arg, dir));
  }
  auto result = util::run_process(argv, util::ProcessOptions{std::chrono::seconds(30), 1 << 20});
  EXPECT_TRUE(result.has_value()) << result.error();
  return result.has_value() ? *result : util::ProcessResult{-1, false, "", result.error()};
}

constexpr const char* k_config =
    "[general]\n"
    "state_dir = \"{dir}/state\"\n"
    "[accounts.work]\n"
    "host = \"imap.example.org\"\n"
    "user = \"me@example.org\"\n"
    "password_cmd = [\"sh\", \"-c\", \"touch {dir}/password_cmd_ran\"]\n"
    "maildir = \"/srv/mail/work\"\n"
    "folders = [\"*\", \"!Trash\"]\n"
    "[accounts.home]\n"
    "host = \"mail.home.example\"\n"
    "tls = \"starttls\"\n"
    "user = \"me\"\n"
    "netrc = true\n"
    "maildir = \"/srv/mail/home\"\n"
    "layout = \"maildir++\"\n"
    "direction = \"pull\"\n"
    "max_connections = 2\n";

struct RunRow {
  std::string name;
  std::vector<std::string> env;
  std::vector<std::string> args;
  int exit_code;
  std::vector<std::string> out; // substrings of stdout
  std::vector<std::string> err; // substrings of stderr
};

void PrintTo(const RunRow& row, std::ostream* os) {
  *os << row.name;
}

class CliRun : public ::testing::TestWithParam<RunRow> {};

TEST_P(CliRun, ExitCodeAndMessages) {
  const auto& row = GetParam();
  test::TempDir tmp;
  const std::string dir = tmp.path().string();
  test::write_file(tmp / "config.toml", expand(k_config, dir));
  ::chmod((tmp / "config.toml").c_str(), 0600);
  test::write_file(tmp / "xdg/uidsync/config.toml", expand(k_config, dir));
  test::write_file(tmp / "bad.toml", "[accounts.work]\nhost = \"h\"\nport = \"993\"\n");

  const auto result = run_uidsync(dir, row.env, row.args);
  EXPECT_EQ(result.exit_status, row.exit_code) << "stdout:\n"
                                               << result.out << "stderr:\n"
                                               << result.err;
  for (const auto& want : row.out) {
    EXPECT_NE(result.out.find(expand(want, dir)), std::string::npos)
        << "stdout lacks: " << expand(want, dir) << "\nstdout:\n"
        << result.out;
  }
  for (const auto& want : row.err) {
    EXPECT_NE(result.err.find(expand(want, dir)), std::string::npos)
        << "stderr lacks: " << expand(want, dir) << "\nstderr:\n"
        << result.err;
  }
  EXPECT_FALSE(std::filesystem::exists(tmp / "password_cmd_ran"))
      << "no command may run password_cmd yet";
}

const std::string k_version = std::string("uidsync ") + UIDSYNC_VERSION;

const RunRow k_run_rows[] = {
    {"version", {}, {"--version"}, 0, {k_version}, {}},
    {"help_lists_commands",
     {},
     {"--help"},
     0,
     {"sync", "folders", "status", "quarantine", "doctor", "check-config"},
     {}},
    {"no_command", {}, {}, 2, {}, {"A subcommand is required"}},
    {"unknown_command",
     {},
     {"frobnicate"},
     2,
     {},
     {"uidsync: unknown command 'frobnicate'; commands are sync, folders"}},
    {"command_typo",
     {},
     {"-c", "x.toml", "snyc", "-v"},
     2,
     {},
     {"uidsync: unknown command 'snyc'; did you mean 'sync'?"}},
    {"unknown_option",
     {},
     {"sync", "--bogus"},
     2,
     {},
     {"The following argument was not expected: --bogus"}},
    {"jobs_out_of_range",
     {},
     {"sync", "-j", "40"},
     2,
     {},
     {"--jobs: Value 40 not in range 1 to 16"}},
    {"doctor_needs_account", {}, {"doctor"}, 2, {}, {"account is required"}},
    {"quarantine_needs_action", {}, {"quarantine"}, 2, {}, {"A subcommand is required"}},
    // These sync rows get as far as the account's password (netrc, absent in
    // {dir}), which fails before any connection: exit 1, naming the account.
    {"sync_options_reach_the_account",
     {"HOME={dir}"},
     {"-c", "{dir}/config.toml", "sync", "-v", "--dry-run", "-f", "INBOX", "-j", "2",
      "--allow-mass-delete", "--trace", "{dir}/trace", "home"},
     1,
     {},
     {"uidsync: account home: cannot read netrc file {dir}/.netrc"}},
    {"global_options_before_and_after",
     {"HOME={dir}"},
     {"-q", "sync", "-c", "{dir}/config.toml", "--json", "home"},
     1,
     {},
     {"uidsync: account home: cannot read netrc file {dir}/.netrc"}},
    {"repeated_v_counts_to_debug",
     {"HOME={dir}"},
     {"-c", "{dir}/config.toml", "sync", "-vv", "home"},
     1,
     {},
     {"uidsync[cli] debug: locked account 'home' ({dir}/state/home.lock)"}},
    {"separate_v_flags_count",
     {"HOME={dir}"},
     {"-v", "-c", "{dir}/config.toml", "sync", "-v", "home"},
     1,
     {},
     {"uidsync[cli] debug: locked account 'home'"}},
    {"sync_unknown_account",
     {},
     {"-c", "{dir}/config.toml", "sync", "wrok"},
     2,
     {},
     {"no account 'wrok' in {dir}/config.toml", "did you mean 'work'?"}},
    {"sync_bad_config",
     {},
     {"-c", "{dir}/bad.toml", "sync"},
     2,
     {},
     {"{dir}/bad.toml:3:8: accounts.work.port: expected an integer"}},
    {"folders_unknown_account",
     {},
     {"-c", "{dir}/config.toml", "folders", "wrok"},
     2,
     {},
     {"no account 'wrok' in {dir}/config.toml", "did you mean 'work'?"}},
    {"status_never_synced",
     {},
     {"-c", "{dir}/config.toml", "status"},
     0,
     {"account work: never synced\n", "account home: never synced\n"},
     {}},
    {"status_json_never_synced",
     {},
     {"-c", "{dir}/config.toml", "status", "--json", "home"},
     0,
     {"{\"schema\": 1, \"accounts\": [{\"name\": \"home\", \"synced\": false, \"folders\": [], "},
     {}},
    {"doctor_reaches_the_account",
     {"HOME={dir}"},
     {"-c", "{dir}/config.toml", "doctor", "home", "INBOX", "-v"},
     1,
     {},
     {"uidsync: account home: cannot read netrc file {dir}/.netrc"}},
    {"quarantine_list_unknown_account",
     {},
     {"-c", "{dir}/config.toml", "quarantine", "list", "-a", "nope"},
     2,
     {},
     {"nope"}},
    {"quarantine_show_needs_uid",
     {},
     {"-c", "{dir}/config.toml", "quarantine", "show", "work"},
     2,
     {},
     {"uidsync: quarantine show needs ACCOUNT FOLDER UID"}},
    {"quarantine_retry_needs_uid_or_all",
     {},
     {"-c", "{dir}/config.toml", "quarantine", "retry", "work", "INBOX"},
     2,
     {},
     {"or --all [ACCOUNT] for every entry"}},
    {"quarantine_forget_not_a_uid",
     {},
     {"-c", "{dir}/config.toml", "quarantine", "forget", "work", "INBOX", "e2"},
     2,
     {},
     {"'e2' is not a UID"}},
    {"quarantine_expunge_needs_folder",
     {},
     {"-c", "{dir}/config.toml", "quarantine", "expunge", "--yes", "work"},
     2,
     {},
     {"quarantine expunge needs ACCOUNT FOLDER UID"}},
    {"check_config_text",
     {"HOME={dir}"},
     {"-c", "{dir}/config.toml", "check-config"},
     0,
     {"config {dir}/config.toml: OK, 2 accounts", "account work\n", "  port             993\n",
      "  tls              implicit\n", "  password         password_cmd ********\n",
      "  folders          * !Trash\n", "  direction        two-way\n", "account home\n",
      "  port             143\n", "  password         netrc (~/.netrc) ********\n",
      "  layout           maildir++\n", "  direction        pull\n", "  max_connections  2\n",
      "never runs password_cmd"},
     {}},
    {"check_config_json",
     {},
     {"check-config", "--json", "-c", "{dir}/config.toml"},
     0,
     {"{\"schema\": 1, \"config\": \"{dir}/config.toml\", \"accounts\": [{\"name\": "
      "\"work\", \"host\": "
      "\"imap.example.org\", \"port\": 993, \"tls\": \"implicit\", \"user\": \"me@example.org\", "
      "\"auth\": \"auto\", \"password\": {\"source\": \"password_cmd\", \"secret\": \"********\"}, "
      "\"maildir\": \"/srv/mail/work\", \"layout\": \"fs\", \"folders\": [\"*\", \"!Trash\"], "
      "\"direction\": \"two-way\", \"max_connections\": 4}, {\"name\": \"home\""},
     {}},
    {"check_config_xdg_default",
     {"XDG_CONFIG_HOME={dir}/xdg"},
     {"check-config"},
     0,
     {"config {dir}/xdg/uidsync/config.toml: OK"},
     {}},
    {"check_config_home_default",
     {"-XDG_CONFIG_HOME", "HOME={dir}/nohome"},
     {"check-config"},
     2,
     {},
     {"cannot read config file {dir}/nohome/.config/uidsync/config.toml", "-c FILE"}},
    {"check_config_error",
     {},
     {"check-config", "-c", "{dir}/bad.toml"},
     2,
     {},
     {"uidsync: {dir}/bad.toml:3:8: accounts.work.port: expected an integer, got a string "
      "(\"993\"); did you mean port = 993 (without quotes)?",
      "uidsync: fix {dir}/bad.toml and check it with 'uidsync check-config'"}},
};

INSTANTIATE_TEST_SUITE_P(Rows, CliRun, ::testing::ValuesIn(k_run_rows), test::RowName{});

TEST(CliRunVerbosity, QuietHidesTheInlinePasswordWarning) {
  test::TempDir tmp;
  const std::string dir = tmp.path().string();
  test::write_file(tmp / "c.toml", "[accounts.work]\nhost = \"h\"\nuser = \"u\"\n"
                                   "maildir = \"/m\"\npassword = \"hunter2\"\n");
  ::chmod((tmp / "c.toml").c_str(), 0644);
  const auto loud = run_uidsync(dir, {}, {"check-config", "-c", "{dir}/c.toml"});
  const auto quiet = run_uidsync(dir, {}, {"check-config", "-q", "-c", "{dir}/c.toml"});
  EXPECT_EQ(loud.exit_status, 0);
  EXPECT_EQ(quiet.exit_status, 0);
  EXPECT_NE(loud.err.find("uidsync[cli] warning: " + dir +
                          "/c.toml: account 'work' has an inline "
                          "password"),
            std::string::npos)
      << loud.err;
  EXPECT_EQ(loud.err.find('\x1b'), std::string::npos) << "no colour when stderr is not a TTY";
  EXPECT_EQ(quiet.err, "");
  EXPECT_EQ((loud.out + loud.err).find("hunter2"), std::string::npos);
}

TEST(CliRunLock, SecondRunExits75NamingTheHolder) {
  test::TempDir tmp;
  const std::string dir = tmp.path().string();
  test::write_file(tmp / "c.toml", expand(k_config, dir));
  std::filesystem::create_directory(tmp / "state");

  std::array<int, 2> ready{};
  std::array<int, 2> done{};
  ASSERT_EQ(::pipe(ready.data()), 0);
  ASSERT_EQ(::pipe(done.data()), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto lock = util::AccountLock::acquire(tmp / "state/home.lock");
    const char ok = lock.has_value() ? 'y' : 'n';
    char go = 0;
    (void)!::write(ready[1], &ok, 1);
    (void)!::read(done[0], &go, 1);
    ::_exit(0);
  }
  char ok = 0;
  ASSERT_EQ(::read(ready[0], &ok, 1), 1);
  ASSERT_EQ(ok, 'y');

  const auto locked = run_uidsync(dir, {}, {"-c", "{dir}/c.toml", "sync", "home"});
  const auto other = run_uidsync(dir, {}, {"-c", "{dir}/c.toml", "sync", "work"});

  ASSERT_EQ(::write(done[1], "x", 1), 1);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  for (int fd : {ready[0], ready[1], done[0], done[1]}) {
    ::close(fd);
  }

  EXPECT_EQ(locked.exit_status, 75) << locked.err;
  EXPECT_NE(locked.err.find("account lock " + dir + "/state/home.lock is held by pid " +
                            std::to_string(child)),
            std::string::npos)
      << locked.err;
  // Not blocked: it gets as far as its password command (which prints nothing).
  EXPECT_EQ(other.exit_status, 1) << "another account is not blocked: " << other.err;
  EXPECT_NE(other.err.find("account work: accounts.work.password_cmd"), std::string::npos)
      << other.err;

  const auto after = run_uidsync(dir, {"HOME={dir}"}, {"-c", "{dir}/c.toml", "sync", "home"});
  EXPECT_EQ(after.exit_status, 1) << "a dead holder's lock file must not block: " << after.err;
  EXPECT_NE(after.err.find("account home: cannot read netrc file"), std::string::npos) << after.err;
}

} // namespace
} // namespace uidsync::cli
