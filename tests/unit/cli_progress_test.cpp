// SPDX-License-Identifier: GPL-3.0-or-later
// The progress display: from (terminal?, TERM, width, NO_COLOR, --color, -q/-v) to
// the exact bytes written for a fixed series of progress readings.
#include "support/table.hpp"

#include <uidsync/cli/progress.hpp>

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace uidsync::cli {
namespace {

struct DisplayRow {
  std::string name;
  bool is_tty;
  std::string term;
  int columns;
  std::string no_color;
  ColourChoice colour;
  int verbosity;
  std::string expected; // the bytes for k_readings, then finish()
};

void PrintTo(const DisplayRow& row, std::ostream* os) {
  *os << row.name;
}

// Listing, one folder done (drawn twice, unchanged), then all three done.
const std::vector<ProgressSnapshot> k_readings{
    {"demo", 0, 0, 0, 0, 0.0},
    {"demo", 1, 3, 12, 2048, 0.0},
    {"demo", 1, 3, 12, 2048, 0.0},
    {"demo", 3, 3, 40, 10240, 0.0},
};

const std::string k_listing = "demo: listing folders";
const std::string k_one = "demo: 1/3 folders, 12 messages, 2.0 KiB";
const std::string k_all = "demo: 3/3 folders, 40 messages, 10.0 KiB";
const std::string k_erase = "\r\x1b[K";
const std::string k_bold = "\x1b[1mdemo\x1b[0m";

const std::vector<DisplayRow> k_display_rows{
    {"tty_redraws_one_line", true, "xterm-256color", 100, "", ColourChoice::automatic, 0,
     k_erase + k_bold + k_listing.substr(4) + k_erase + k_bold + k_one.substr(4) + k_erase +
         k_bold + k_all.substr(4) + k_erase},
    {"no_color_keeps_the_line_without_colour", true, "xterm", 100, "1", ColourChoice::automatic, 0,
     k_erase + k_listing + k_erase + k_one + k_erase + k_all + k_erase},
    {"color_never", true, "xterm", 100, "", ColourChoice::never, 0,
     k_erase + k_listing + k_erase + k_one + k_erase + k_all + k_erase},
    {"color_always_beats_no_color", true, "xterm", 100, "1", ColourChoice::always, 0,
     k_erase + k_bold + k_listing.substr(4) + k_erase + k_bold + k_one.substr(4) + k_erase +
         k_bold + k_all.substr(4) + k_erase},
    {"unknown_width_is_80", true, "xterm", 0, "1", ColourChoice::automatic, 0,
     k_erase + k_listing + k_erase + k_one + k_erase + k_all + k_erase},
    {"width_40_redraws_39_characters", true, "xterm", 40, "1", ColourChoice::automatic, 0,
     k_erase + k_listing + k_erase + k_one.substr(0, 39) + k_erase + k_all.substr(0, 39) + k_erase},
    {"dumb_prints_a_line_per_folder_step", true, "dumb", 100, "", ColourChoice::automatic, 0,
     k_one + "\n" + k_all + "\n"},
    {"dumb_with_color_always_stays_plain", true, "dumb", 100, "", ColourChoice::always, 0,
     k_one + "\n" + k_all + "\n"},
    {"no_term_is_dumb", true, "", 100, "", ColourChoice::automatic, 0, k_one + "\n" + k_all + "\n"},
    {"narrow_prints_cut_lines", true, "xterm", 30, "", ColourChoice::automatic, 0,
     k_one.substr(0, 30) + "\n" + k_all.substr(0, 30) + "\n"},
    {"width_39_is_narrow", true, "xterm", 39, "", ColourChoice::automatic, 0,
     k_one.substr(0, 39) + "\n" + k_all.substr(0, 39) + "\n"},
    {"quiet_tty_prints_nothing", true, "xterm", 100, "", ColourChoice::automatic, -1, ""},
    {"cron_prints_nothing", false, "xterm", 0, "", ColourChoice::automatic, 0, ""},
    {"cron_verbose_prints_whole_lines", false, "", 20, "", ColourChoice::automatic, 1,
     k_one + "\n" + k_all + "\n"},
    {"cron_quiet_prints_nothing", false, "", 0, "", ColourChoice::automatic, -1, ""},
};

class CliProgressDisplay : public ::testing::TestWithParam<DisplayRow> {};

TEST_P(CliProgressDisplay, WritesTheBytesTheTerminalAllows) {
  const auto& row = GetParam();
  const Terminal terminal{row.is_tty, row.term, row.columns, row.no_color};
  ProgressRenderer renderer(decide_display(terminal, row.colour, row.verbosity));
  std::string out;
  for (const auto& reading : k_readings) {
    out += renderer.update(reading);
  }
  out += renderer.finish();
  EXPECT_EQ(out, row.expected);
}

INSTANTIATE_TEST_SUITE_P(Rows, CliProgressDisplay, ::testing::ValuesIn(k_display_rows),
                         test::RowName{});

struct ColourRow {
  std::string name;
  bool is_tty;
  std::string term;
  std::string no_color;
  ColourChoice colour;
  bool expected;
};

void PrintTo(const ColourRow& row, std::ostream* os) {
  *os << row.name;
}

const std::vector<ColourRow> k_colour_rows{
    {"tty", true, "xterm", "", ColourChoice::automatic, true},
    {"no_color_set", true, "xterm", "1", ColourChoice::automatic, false},
    {"no_color_any_value", true, "xterm", "0", ColourChoice::automatic, false},
    {"dumb", true, "dumb", "", ColourChoice::automatic, false},
    {"pipe", false, "xterm", "", ColourChoice::automatic, false},
    {"always_on_a_pipe", false, "", "1", ColourChoice::always, true},
    {"never_on_a_tty", true, "xterm", "", ColourChoice::never, false},
};

class CliProgressColour : public ::testing::TestWithParam<ColourRow> {};

TEST_P(CliProgressColour, FollowsTerminalNoColorAndOption) {
  const auto& row = GetParam();
  const Terminal terminal{row.is_tty, row.term, 100, row.no_color};
  EXPECT_EQ(decide_display(terminal, row.colour, 0).colour, row.expected);
}

INSTANTIATE_TEST_SUITE_P(Rows, CliProgressColour, ::testing::ValuesIn(k_colour_rows),
                         test::RowName{});

struct TruncateRow {
  std::string name;
  std::string text;
  int width;
  std::string expected;
};

void PrintTo(const TruncateRow& row, std::ostream* os) {
  *os << row.name;
}

const std::vector<TruncateRow> k_truncate_rows{
    {"short", "abc", 5, "abc"},
    {"exact", "abcde", 5, "abcde"},
    {"cut", "abcdef", 5, "abcde"},
    {"no_limit", "abcdef", 0, "abcdef"},
    {"utf8_counts_code_points", "Grüße, Welt", 5, "Grüße"},
    {"utf8_never_split", "ääää", 3, "äää"},
};

class CliProgressTruncate : public ::testing::TestWithParam<TruncateRow> {};

TEST_P(CliProgressTruncate, CutsAtCodePoints) {
  const auto& row = GetParam();
  EXPECT_EQ(truncate_to_width(row.text, row.width), row.expected);
}

INSTANTIATE_TEST_SUITE_P(Rows, CliProgressTruncate, ::testing::ValuesIn(k_truncate_rows),
                         test::RowName{});

struct ColourNameRow {
  std::string name;
  std::string text;
  std::optional<ColourChoice> expected;
};

void PrintTo(const ColourNameRow& row, std::ostream* os) {
  *os << row.name;
}

const std::vector<ColourNameRow> k_colour_name_rows{
    {"auto_", "auto", ColourChoice::automatic},
    {"always", "always", ColourChoice::always},
    {"never", "never", ColourChoice::never},
    {"unknown", "yes", std::nullopt},
};

class CliProgressColourName : public ::testing::TestWithParam<ColourNameRow> {};

TEST_P(CliProgressColourName, ParsesTheOptionValue) {
  const auto& row = GetParam();
  EXPECT_EQ(parse_colour_choice(row.text), row.expected);
}

INSTANTIATE_TEST_SUITE_P(Rows, CliProgressColourName, ::testing::ValuesIn(k_colour_name_rows),
                         test::RowName{});

} // namespace
} // namespace uidsync::cli
