// SPDX-License-Identifier: GPL-3.0-or-later
// Commands are split like a shell would, without one, and run with a deadline.
#include "support/table.hpp"

#include <uidsync/util/process.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace uidsync::util {
namespace {

struct SplitRow {
  std::string name;
  std::string text;
  std::vector<std::string> argv; // empty: must fail
  std::string error;             // substring of the failure
};

void PrintTo(const SplitRow& row, std::ostream* os) {
  *os << row.name;
}

class UtilSplitCommand : public ::testing::TestWithParam<SplitRow> {};

TEST_P(UtilSplitCommand, SplitsLikeAShellWithoutExpanding) {
  const auto& row = GetParam();
  const auto argv = split_command(row.text);
  if (row.argv.empty()) {
    ASSERT_FALSE(argv.has_value());
    EXPECT_NE(argv.error().find(row.error), std::string::npos) << argv.error();
  } else {
    ASSERT_TRUE(argv.has_value()) << argv.error();
    EXPECT_EQ(*argv, row.argv);
  }
}

const SplitRow k_split_rows[] = {
    {"words", "pass show mail/work", {"pass", "show", "mail/work"}, ""},
    {"extra_blanks", "  pass \t show  ", {"pass", "show"}, ""},
    {"single_quotes", "pass show 'my mail'", {"pass", "show", "my mail"}, ""},
    {"double_quotes_escapes", "echo \"a \\\"b\\\" \\\\ \\n\"", {"echo", "a \"b\" \\ \\n"}, ""},
    {"backslash_space", "cat my\\ file", {"cat", "my file"}, ""},
    {"adjacent_quotes_join", "a'b'\"c\"d", {"abcd"}, ""},
    {"empty_quoted_word", "printf ''", {"printf", ""}, ""},
    {"no_expansion", "echo $HOME ~ *", {"echo", "$HOME", "~", "*"}, ""},
    {"sh_c_unquoted_as_written",
     "sh -c gpg -dq f | head -1",
     {"sh", "-c", "gpg -dq f | head -1"},
     ""},
    {"sh_c_quoted_as_written", "sh -c 'exit 3'", {"sh", "-c", "exit 3"}, ""},
    {"bash_c_double_quoted",
     "bash -c \"pass x | head -n1\"",
     {"bash", "-c", "pass x | head -n1"},
     ""},
    {"unterminated_single", "pass 'x", {}, "unterminated ' quote at character 6"},
    {"unterminated_double", "pass \"x", {}, "unterminated \" quote at character 6"},
    {"trailing_backslash", "pass x\\", {}, "trailing backslash"},
    {"empty", "   ", {}, "empty command"},
    {"sh_c_empty_script", "sh -c ''", {}, "empty script"},
};

INSTANTIATE_TEST_SUITE_P(Rows, UtilSplitCommand, ::testing::ValuesIn(k_split_rows),
                         test::RowName{});

struct RunRow {
  std::string name;
  std::vector<std::string> argv;
  int timeout_ms;
  bool ok;
  int exit_status;
  bool signaled;
  std::string out;
  std::string err; // with ok: stderr; without: substring of the failure
};

void PrintTo(const RunRow& row, std::ostream* os) {
  *os << row.name;
}

class UtilRunProcess : public ::testing::TestWithParam<RunRow> {};

TEST_P(UtilRunProcess, CapturesOutputAndStatus) {
  const auto& row = GetParam();
  const auto result =
      run_process(row.argv, ProcessOptions{std::chrono::milliseconds(row.timeout_ms), 1 << 20});
  if (!row.ok) {
    ASSERT_FALSE(result.has_value());
    EXPECT_NE(result.error().find(row.err), std::string::npos) << result.error();
    return;
  }
  ASSERT_TRUE(result.has_value()) << result.error();
  EXPECT_EQ(result->exit_status, row.exit_status);
  EXPECT_EQ(result->signaled, row.signaled);
  EXPECT_EQ(result->out, row.out);
  EXPECT_EQ(result->err, row.err);
}

const RunRow k_run_rows[] = {
    {"stdout", {"printf", "%s\\n", "hello world"}, 10000, true, 0, false, "hello world\n", ""},
    {"stderr_and_status",
     {"sh", "-c", "echo oops >&2; exit 3"},
     10000,
     true,
     3,
     false,
     "",
     "oops\n"},
    {"false", {"false"}, 10000, true, 1, false, "", ""},
    {"killed_by_signal", {"sh", "-c", "kill -TERM $$"}, 10000, true, 128 + 15, true, "", ""},
    {"stdin_is_empty", {"cat"}, 10000, true, 0, false, "", ""},
    {"no_shell_expansion", {"printf", "%s", "$HOME *"}, 10000, true, 0, false, "$HOME *", ""},
    {"not_found",
     {"uidsync-no-such-program", "secret-arg"},
     10000,
     false,
     0,
     false,
     "",
     "cannot run 'uidsync-no-such-program': No such file or directory"},
    {"timeout", {"sleep", "5"}, 200, false, 0, false, "", "'sleep' did not finish within 200 ms"},
    {"timeout_after_closing_pipes",
     {"sh", "-c", "exec >&- 2>&-; sleep 5"},
     200,
     false,
     0,
     false,
     "",
     "did not finish within 200 ms"},
    {"empty_argv", {}, 1000, false, 0, false, "", "empty command"},
};

INSTANTIATE_TEST_SUITE_P(Rows, UtilRunProcess, ::testing::ValuesIn(k_run_rows), test::RowName{});

TEST(UtilRunProcessErrors, NeverNameTheArguments) {
  const auto result = run_process({"uidsync-no-such-program", "hunter2"});
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().find("hunter2"), std::string::npos) << result.error();
}

TEST(UtilRunProcessOutput, KeepsOnlyTheLimitButDrainsTheRest) {
  // 1 MiB of output against a 1 KiB limit: the child must not block on a full pipe.
  const auto result = run_process({"sh", "-c", "head -c 1048576 /dev/zero; echo done >&2"},
                                  ProcessOptions{std::chrono::seconds(20), 1024});
  ASSERT_TRUE(result.has_value()) << result.error();
  EXPECT_EQ(result->exit_status, 0);
  EXPECT_EQ(result->out.size(), 1024U);
  EXPECT_EQ(result->err, "done\n");
}

} // namespace
} // namespace uidsync::util
